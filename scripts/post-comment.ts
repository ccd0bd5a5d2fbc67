// CI: create or update the one pull-request comment that carries the
// comparison marker, so that every push edits the same comment instead of
// adding another. Called from the workflow's actions/github-script step with
// an adapter over its authenticated client; pure apart from that API.

import { COMMENT_MARKER, MAX_COMMENT_CHARS } from '../report/compare/markdown.js';

export interface IssueComment {
  id: number;
  body?: string | null;
}

/** The three calls needed, on one pull request's issue comments. */
export interface CommentsApi {
  list(): Promise<IssueComment[]>;
  update(id: number, body: string): Promise<unknown>;
  create(body: string): Promise<unknown>;
}

/** The first (oldest) comment whose first line is the marker. */
export function findMarked(comments: readonly IssueComment[], marker = COMMENT_MARKER): IssueComment | undefined {
  return comments.find((c) => (c.body ?? '').split('\n', 1)[0]!.trim() === marker);
}

/**
 * Updates the marked comment, or creates it when there is none. The body gets
 * the marker as its first line if it lacks it, and is refused beyond GitHub's
 * 65,536 characters (bench compare never renders more).
 */
export async function upsertComment(api: CommentsApi, body: string, marker = COMMENT_MARKER): Promise<{ action: 'created' | 'updated'; id?: number }> {
  const text = body.split('\n', 1)[0]!.trim() === marker ? body : `${marker}\n${body}`;
  if (text.length > MAX_COMMENT_CHARS) throw new RangeError(`comment is ${text.length} characters; GitHub allows ${MAX_COMMENT_CHARS}`);
  const existing = findMarked(await api.list(), marker);
  if (existing) {
    await api.update(existing.id, text);
    return { action: 'updated', id: existing.id };
  }
  await api.create(text);
  return { action: 'created' };
}
