import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../../core/paths.js';
import { COMMENT_MARKER, MAX_COMMENT_CHARS } from '../../report/compare/markdown.js';
import { findMarked, reportLinkLine, upsertComment, VERSIONS_MARKER, versionsComment, withReportLink, type CommentsApi, type IssueComment } from '../../scripts/post-comment.js';
import { compareResults } from '../../core/compare.js';
import { renderCompareMarkdown } from '../../report/compare/markdown.js';
import { syntheticResult } from '../helpers/synthetic.js';

function fakeApi(comments: IssueComment[]) {
  const calls: string[] = [];
  const api: CommentsApi = {
    list: async () => comments,
    update: async (id, body) => void calls.push(`update ${id} ${body.split('\n')[0]}`),
    create: async (body) => void calls.push(`create ${body.split('\n')[0]}`),
  };
  return { api, calls };
}

describe('scripts/post-comment', () => {
  test('updates the comment whose first line is the marker', async () => {
    const { api, calls } = fakeApi([
      { id: 1, body: 'LGTM' },
      { id: 2, body: `${COMMENT_MARKER}\nold table` },
      { id: 3, body: `quoting:\n${COMMENT_MARKER}` },
    ]);
    assert.deepEqual(await upsertComment(api, `${COMMENT_MARKER}\nnew table`), { action: 'updated', id: 2 });
    assert.deepEqual(calls, [`update 2 ${COMMENT_MARKER}`]);
  });

  test('creates one when there is none, adding the marker if the body lacks it', async () => {
    const { api, calls } = fakeApi([{ id: 1, body: null }]);
    assert.deepEqual(await upsertComment(api, 'table'), { action: 'created' });
    assert.deepEqual(calls, [`create ${COMMENT_MARKER}`]);
    assert.equal(findMarked([{ id: 9, body: 'x' }]), undefined);
  });

  test('refuses a body over 65,536 characters', async () => {
    const { api } = fakeApi([]);
    await assert.rejects(upsertComment(api, 'x'.repeat(70_000)), RangeError);
  });
});

describe('scripts/post-comment: the link to the HTML page', () => {
  const run = 'https://github.com/o/r/actions/runs/42';
  const artifact = 'https://github.com/o/r/actions/runs/42/artifacts/7';
  const comment = renderCompareMarkdown(compareResults(syntheticResult({ seed: 1 }), syntheticResult({ seed: 2 })));

  test('goes under the summary line, naming the run and the download', () => {
    const linked = withReportLink(comment, { runUrl: run, artifactUrl: artifact }).split('\n');
    const original = comment.split('\n');
    assert.deepEqual(linked.slice(0, 2), original.slice(0, 2), 'the marker and the summary stay first');
    assert.equal(linked[2], '');
    assert.equal(linked[3], reportLinkLine({ runUrl: run, artifactUrl: artifact }));
    assert.match(linked[3]!, /^\*\*Charts:\*\* `comparison\.html` in the artifacts of \[this run\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/42\): .* · \[download it\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/42\/artifacts\/7\)/);
    assert.deepEqual(linked.slice(4), original.slice(2));
  });

  test('without the artifact URL (the upload did not say) the run is enough; without any usable URL nothing changes', () => {
    assert.doesNotMatch(reportLinkLine({ runUrl: run, artifactUrl: '' })!, /download/);
    assert.equal(withReportLink(comment, { runUrl: '', artifactUrl: '' }), comment);
    assert.equal(withReportLink(comment, { runUrl: 'https://x/y) [evil](https://e' }), comment, 'nothing that breaks out of a link');
  });

  test("a comment at GitHub's limit gives up its legend for the link, or keeps its rows and goes without it", () => {
    const linked = withReportLink(comment, { runUrl: run, artifactUrl: artifact });
    const tight = withReportLink(comment, { runUrl: run, artifactUrl: artifact }, comment.length + 10);
    assert.ok(tight.length <= comment.length + 10 && tight.includes('**Charts:**') && !tight.includes('How to read this'));
    assert.ok(linked.includes('How to read this'));
    assert.equal(withReportLink(comment, { runUrl: run }, comment.length - 2_000), comment);
  });
});

describe('scripts/ci-compare.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-ci-'));
  const log = path.join(dir, 'calls.log');
  // A stand-in for node: logs where and how bench was called, and plays compare's exit codes.
  const stub = path.join(dir, 'node-stub.sh');
  writeFileSync(
    stub,
    `#!/usr/bin/env bash
echo "$(basename "$PWD") $*" >> "${log}"
if [ "$2" = compare ]; then
  if [ -n "\${REFUSE:-}" ] && [[ " $* " != *" --force "* ]]; then echo "error[E_INCOMPARABLE]" >&2; exit 2; fi
  echo "${COMMENT_MARKER}"; echo "compared $*"; exit "\${COMPARE_EXIT:-0}"
fi
`,
  );
  chmodSync(stub, 0o755);
  for (const side of ['base', 'head']) mkdirSync(path.join(dir, side));

  const run = (env: Record<string, string>) => {
    writeFileSync(log, '');
    const r = spawnSync(path.join(projectRoot, 'scripts', 'ci-compare.sh'), ['base', 'head', 'out'], {
      cwd: dir,
      env: { ...process.env, BENCH_NODE: stub, BENCH_ROUNDS: '3', BENCH_ARGS: '--scenario echo --quick', ...env },
      encoding: 'utf8',
    });
    return { code: r.status, calls: readFileSync(log, 'utf8').trim().split('\n'), stdout: r.stdout };
  };

  test('alternates the sides ABBA, one repetition per round with the round as seed, then compares with the head build', () => {
    const r = run({});
    assert.equal(r.code, 0);
    const runs = r.calls.filter((c) => c.includes(' run '));
    assert.deepEqual(
      runs.map((c) => `${c.split(' ')[0]} ${/--seed (\d+)/.exec(c)![1]}`),
      ['base 1', 'head 1', 'head 2', 'base 2', 'base 3', 'head 3'],
    );
    assert.match(runs[0]!, /^base dist\/cli\/main\.js run --scenario echo --quick --repeat 1 --seed 1 --label base --out .*\/out\/base$/);
    const compares = r.calls.filter((c) => c.includes(' compare '));
    assert.equal(compares.length, 3);
    assert.match(compares[0]!, /\/head\/dist\/cli\/main\.js compare .*\/out\/base .*\/out\/head --format json$/);
    assert.match(compares[1]!, /compare .*\/out\/base .*\/out\/head --format html$/, 'the page, without --fail-on-regression');
    assert.match(compares[2]!, /--format markdown --fail-on-regression$/);
    assert.ok(existsSync(path.join(dir, 'out', 'comparison.html')));
    assert.equal(readFileSync(path.join(dir, 'out', 'comment.md'), 'utf8').split('\n')[0], COMMENT_MARKER);
  });

  test("exits with compare's code (10 for a regression)", () => {
    assert.equal(run({ COMPARE_EXIT: '10' }).code, 10);
  });

  test('compares again with --force when the results are refused, so the comment names the differences', () => {
    const r = run({ REFUSE: '1' });
    assert.equal(r.code, 0);
    const compares = r.calls.filter((c) => c.includes(' compare '));
    assert.deepEqual(compares.map((c) => c.includes('--force')), [false, true, true, true]);
  });
});

describe('scripts/post-comment: the runtime-versions comment', () => {
  const table = '| case | runtime |\n| --- | --- |\n| echo | bun@1.4.5 |\n';

  test('starts with its own marker, names the versions as code and links the run', () => {
    const body = versionsComment(table, { runtimes: 'bun@1.3.14 bun@1.4.5', runUrl: 'https://github.com/o/r/actions/runs/7' }).split('\n');
    assert.equal(body[0], VERSIONS_MARKER);
    assert.equal(body[1], '**bench: runtime versions** `bun@1.3.14 bun@1.4.5` ([run](https://github.com/o/r/actions/runs/7))');
    assert.ok(body.includes('| echo | bun@1.4.5 |'));
  });

  test('the input cannot break out of its code span, and an unsafe URL is left out', () => {
    const body = versionsComment(table, { runtimes: 'bun`](javascript:x)\nnode-ws', runUrl: 'javascript:alert(1)' });
    assert.equal(body.split('\n')[1], '**bench: runtime versions** `bun ](javascript:x) node-ws`');
  });

  test('stays within GitHub\'s limit', () => {
    const body = versionsComment('x'.repeat(70_000), { runtimes: 'bun' });
    assert.ok(body.length <= MAX_COMMENT_CHARS);
    assert.match(body, /cut at GitHub's comment limit/);
  });

  test('upsertComment with the versions marker leaves the comparison comment alone', async () => {
    const { api, calls } = fakeApi([{ id: 1, body: `${COMMENT_MARKER}\ncomparison` }, { id: 2, body: `${VERSIONS_MARKER}\nold` }]);
    assert.deepEqual(await upsertComment(api, versionsComment(table, { runtimes: 'bun' }), VERSIONS_MARKER), { action: 'updated', id: 2 });
    assert.deepEqual(calls, [`update 2 ${VERSIONS_MARKER}`]);
  });
});
