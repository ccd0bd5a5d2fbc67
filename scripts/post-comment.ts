// CI: create or update the one pull-request comment that carries the
// comparison marker, so that every push edits the same comment instead of
// adding another. Called from the workflow's actions/github-script step with
// an adapter over its authenticated client; pure apart from that API. Also
// the line that links the comparison's HTML page from the comment.

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

/** Where the comparison's HTML page is: the run's page (its artifacts list holds it) and, when known, the artifact's own URL. */
export interface ReportLink {
  /** `${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}`. */
  runUrl: string;
  /** actions/upload-artifact@v4's output `artifact-url` (a download of the zipped artifact); empty when the upload did not run. */
  artifactUrl?: string;
  /** The page's file name inside the artifact. Default `comparison.html`. */
  file?: string;
}

/** Only plain https URLs go into the comment: nothing that could break out of Markdown's link syntax. */
const SAFE_URL = /^https:\/\/[^\s()<>[\]"'`]+$/;

/** The comment's line that points at the HTML page, or undefined when no URL is usable. */
export function reportLinkLine(link: ReportLink): string | undefined {
  const file = link.file ?? 'comparison.html';
  const run = SAFE_URL.test(link.runUrl) ? link.runUrl : undefined;
  const artifact = link.artifactUrl && SAFE_URL.test(link.artifactUrl) ? link.artifactUrl : undefined;
  if (!run && !artifact) return undefined;
  const where = run ? `in the artifacts of [this run](${run})` : 'in the artifacts of this run';
  const download = artifact ? ` · [download it](${artifact}) (a zip holding one self-contained page: open it in any browser, offline)` : '';
  return `**Charts:** \`${file}\` ${where}: base and head per runtime and metric, the minimum-effect zone, the interval and the verdict drawn${download}`;
}

/** The "How to read this" block the comparison comment ends with (report/compare/markdown.ts). */
const LEGEND = /\n<details>\n<summary>How to read this<\/summary>[\s\S]*<\/details>\n?$/;

/**
 * The comment with a link to the comparison's HTML page under its summary
 * line (the second line, after the marker). A comment already at GitHub's
 * limit (`bench compare` fills it when rows are many) gives up its closing
 * legend to make room; when even that is not enough the body is returned
 * unchanged, since the comparison itself matters more than the link.
 */
export function withReportLink(body: string, link: ReportLink, max = MAX_COMMENT_CHARS): string {
  const line = reportLinkLine(link);
  if (line === undefined) return body;
  const lines = body.split('\n');
  const at = Math.min(2, lines.length);
  const linked = [...lines.slice(0, at), '', line, ...lines.slice(at)].join('\n');
  if (linked.length <= max) return linked;
  const shorter = linked.replace(LEGEND, '\n');
  return shorter.length <= max ? shorter : body;
}

/** First line of the runtime-versions comment (a dispatch of the bench workflow with `runtimes`): its own, so it never replaces the comparison. */
export const VERSIONS_MARKER = '<!-- bench-versions -->';

/**
 * The runtime-versions comment: the marker, what was run (the `runtimes` input, shown as code with backticks
 * removed, so that it cannot break out of it), a link to the run when its URL is a plain https one, and the
 * runtime-choice table (`bench choose --format markdown`). Cut to GitHub's limit with a note if ever longer.
 */
export function versionsComment(table: string, opts: { runtimes: string; runUrl?: string }, max = MAX_COMMENT_CHARS): string {
  const runtimes = opts.runtimes.replace(/[`\r\n]/g, ' ').trim().slice(0, 500);
  const run = opts.runUrl && SAFE_URL.test(opts.runUrl) ? ` ([run](${opts.runUrl}))` : '';
  const head = `${VERSIONS_MARKER}\n**bench: runtime versions** \`${runtimes}\`${run}\n\n`;
  const body = `${head}${table.trimEnd()}\n`;
  if (body.length <= max) return body;
  const note = '\n\n_The table was cut at GitHub\'s comment limit; the whole of it is in the job summary._\n';
  return `${body.slice(0, max - note.length)}${note}`;
}
