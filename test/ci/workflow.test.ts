import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { projectRoot } from '../../core/paths.js';
import { COMMENT_MARKER } from '../../report/compare/markdown.js';
import { VERSIONS_MARKER } from '../../scripts/post-comment.js';

interface Step {
  name?: string;
  id?: string;
  env?: Record<string, string>;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
  'working-directory'?: string;
}
interface Job {
  if?: string;
  steps: Step[];
  permissions?: Record<string, string>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const file = path.join(projectRoot, '.github', 'workflows', 'bench.yml');
const text = readFileSync(file, 'utf8');
const wf = parse(text) as Workflow;
const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');
const ALLOWED_ACTIONS = ['actions/checkout', 'actions/setup-node', 'actions/upload-artifact', 'actions/download-artifact', 'actions/github-script'];

describe('.github/workflows/bench.yml', () => {
  test('parses as YAML and runs on pull requests and pushes to main', () => {
    assert.deepEqual(Object.keys(wf.on).sort(), ['pull_request', 'push', 'workflow_dispatch']);
    assert.deepEqual((wf.on['push'] as { branches: string[] }).branches, ['main']);
    assert.deepEqual(wf.permissions, { contents: 'read' });
  });

  test('uses no third-party action, each pinned to a major version', () => {
    for (const s of steps.filter((x) => x.uses)) {
      const [name, version] = s.uses!.split('@');
      assert.ok(ALLOWED_ACTIONS.includes(name!), `${s.uses} is not an allowed action`);
      assert.match(version ?? '', /^v\d+$/, s.uses);
    }
  });

  test('downloads nothing outside npm', () => {
    for (const s of steps) assert.doesNotMatch(s.run ?? '', /\b(curl|wget|playwright|puppeteer|apt-get|setup-bun|setup-deno)\b/, s.name);
    assert.ok(steps.every((s) => !s.uses || !/bun|deno/.test(s.uses)));
  });

  describe('pull requests', () => {
    const job = wf.jobs['compare']!;
    test('check out the head with full history, find the merge-base and build both with npm ci', () => {
      assert.equal(job.if, "github.event_name == 'pull_request'");
      const checkout = job.steps.find((s) => s.uses?.startsWith('actions/checkout'))!;
      assert.equal(checkout.with!['fetch-depth'], 0);
      assert.equal(checkout.with!['ref'], '${{ github.event.pull_request.head.sha }}');
      assert.match(runs(job), /git merge-base "origin\/\$BASE_REF" HEAD/);
      assert.match(runs(job), /git worktree add --detach \.\.\/base "\$base_sha"/);
      const installs = job.steps.filter((s) => /^npm ci\b/.test(s.run ?? ''));
      assert.deepEqual(installs.map((s) => s['working-directory']), ['head', 'base']);
    });

    test('runs bench run on both sides interleaved and bench compare, through scripts/ci-compare.sh', () => {
      assert.match(runs(job), /head\/scripts\/ci-compare\.sh base head bench-out/);
      const install = job.steps.findIndex((s) => s.run === 'npm run runtimes:install');
      assert.ok(install > 0 && install < job.steps.findIndex((s) => /ci-compare\.sh/.test(s.run ?? '')), 'the pinned versions are installed before the first round');
      assert.equal(job.steps[install]!['working-directory'], 'head');
      const script = readFileSync(path.join(projectRoot, 'scripts', 'ci-compare.sh'), 'utf8');
      assert.match(script, /dist\/cli\/main\.js run "\$\{run_args\[@\]\}" --repeat 1 --seed "\$3"/);
      assert.match(script, /dist\/cli\/main\.js" compare "\$out\/base" "\$out\/head"/);
      assert.match(script, /--format markdown/);
      assert.match(script, /--fail-on-regression/);
    });

    test('writes the job summary and posts or updates the sticky comment by its marker', () => {
      assert.match(runs(job), /cat bench-out\/comment\.md >> "\$GITHUB_STEP_SUMMARY"/);
      const post = job.steps.find((s) => s.uses?.startsWith('actions/github-script'))!;
      const script = String(post.with!['script']);
      assert.ok(script.includes(`upsertComment(api, body, '${COMMENT_MARKER}')`));
      assert.match(script, /github\.rest\.issues\.updateComment/);
      assert.match(script, /github\.rest\.issues\.createComment/);
      assert.match(post.if!, /always\(\)/);
      assert.deepEqual(job.permissions, { contents: 'read', 'pull-requests': 'write' });
    });

    test("uploads the comparison's HTML page on its own, before the summary and the comment that link it", () => {
      const script = readFileSync(path.join(projectRoot, 'scripts', 'ci-compare.sh'), 'utf8');
      assert.match(script, /compare --format html "\$\{force\[@\]\}" > "\$out\/comparison\.html"/);
      const index = (pred: (s: Step) => boolean) => job.steps.findIndex(pred);
      const upload = job.steps.find((s) => s.id === 'html')!;
      assert.ok(upload, 'an upload step with id html');
      assert.match(upload.uses!, /^actions\/upload-artifact@v4$/, 'v4: the step has the artifact-url output');
      assert.equal(upload.with!['path'], 'bench-out/comparison.html');
      assert.equal(upload.with!['name'], 'bench-compare-html-${{ github.event.pull_request.number }}');
      assert.match(upload.if!, /^always\(\) && hashFiles\('bench-out\/comparison\.html'\) != ''$/);
      const summary = index((s) => /GITHUB_STEP_SUMMARY/.test(s.run ?? ''));
      const post = index((s) => Boolean(s.uses?.startsWith('actions/github-script')));
      assert.ok(index((s) => s.id === 'html') < summary && summary < post, 'uploaded first: its URL exists only after the upload');
      for (const i of [summary, post]) assert.equal(job.steps[i]!.env!['REPORT_URL'], '${{ steps.html.outputs.artifact-url }}', job.steps[i]!.name);
      assert.match(job.steps[summary]!.run!, /\[download it\]\(%s\)[^\n]*"\$REPORT_URL"/);
      const comment = job.steps[post]!;
      assert.equal(comment.env!['RUN_URL'], '${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}');
      assert.match(String(comment.with!['script']), /withReportLink\(comment, \{ runUrl: process\.env\.RUN_URL, artifactUrl: process\.env\.REPORT_URL \}\)/);
    });

    test('passes untrusted refs through the environment, not into the script text', () => {
      for (const s of job.steps) assert.doesNotMatch(s.run ?? '', /\$\{\{\s*github\.(base_ref|head_ref|event\.pull_request\.(title|body))/, s.name);
    });
  });

  describe('main', () => {
    const job = wf.jobs['baseline']!;
    test('runs bench and uploads the result as the baseline artifact', () => {
      assert.match(job.if!, /github\.event_name == 'push'/);
      assert.ok(job.steps.some((s) => /^npm ci\b/.test(s.run ?? '')));
      assert.match(runs(job), /node dist\/cli\/main\.js run "\$\{args\[@\]\}" --repeat "\$BENCH_ROUNDS"/);
      const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
      assert.equal(upload.with!['name'], 'bench-baseline');
      assert.equal(upload.with!['path'], 'bench-baseline');
    });
  });

  describe('runtime versions (a dispatch with `runtimes`, issue 17)', () => {
    const job = wf.jobs['baseline']!;
    const dispatch = wf.on['workflow_dispatch'] as { inputs: Record<string, { type: string; required: boolean; default: string }> };
    const step = (pred: (s: Step) => boolean) => job.steps.findIndex(pred);

    test('takes the versions and an optional pull request as workflow_dispatch inputs, passed through the environment only', () => {
      assert.deepEqual(Object.keys(dispatch.inputs).sort(), ['pr', 'runtimes']);
      for (const input of Object.values(dispatch.inputs)) assert.deepEqual([input.type, input.required, input.default], ['string', false, '']);
      assert.deepEqual(job.env, { BENCH_RUNTIMES: '${{ inputs.runtimes }}', BENCH_PR: '${{ inputs.pr }}' });
      for (const s of job.steps) {
        assert.doesNotMatch(s.run ?? '', /\$\{\{\s*(inputs|github\.event\.inputs)\./, s.name);
        assert.doesNotMatch(String(s.with?.['script'] ?? ''), /\$\{\{/, s.name);
      }
    });

    test('installs the versions into the cache before the run, and runs the main job on them', () => {
      const install = step((s) => /npm run runtimes:install -- "\$\{rt\[@\]\}"/.test(s.run ?? ''));
      const run = step((s) => /node dist\/cli\/main\.js run /.test(s.run ?? ''));
      assert.ok(install > 0 && install < run, 'installed first');
      assert.match(job.steps[install]!.run!, /read -r -a rt <<< "\$BENCH_RUNTIMES"/);
      const script = job.steps[run]!.run!;
      assert.match(script, /if \[ -n "\$BENCH_RUNTIMES" \]; then\n\s+read -r -a rt <<< "\$BENCH_RUNTIMES"\n\s+args\+=\(--runtime "\$\{rt\[@\]\}"\)/);
      assert.match(script, /label="versions-\$\{GITHUB_SHA::7\}"/);
    });

    test('writes the runtime-choice table to the summary and posts it as a sticky comment with its own marker when a pull request is named', () => {
      const summary = step((s) => /choose bench-baseline --format markdown > bench-choice\.md/.test(s.run ?? ''));
      assert.match(job.steps[summary]!.run!, /cat bench-choice\.md >> "\$GITHUB_STEP_SUMMARY"/);
      const post = job.steps[step((s) => Boolean(s.uses?.startsWith('actions/github-script')))]!;
      assert.ok(job.steps.indexOf(post) > summary);
      assert.equal(post.if, "always() && env.BENCH_RUNTIMES != '' && env.BENCH_PR != '' && hashFiles('bench-choice.md') != ''");
      const script = String(post.with!['script']);
      assert.match(script, /upsertComment\(api, body, VERSIONS_MARKER\)/);
      assert.match(script, /Number\.isSafeInteger\(issue_number\)/);
      assert.match(script, /versionsComment\(table, \{ runtimes: process\.env\.BENCH_RUNTIMES/);
      assert.notEqual(VERSIONS_MARKER, COMMENT_MARKER, 'never replaces the comparison comment');
      assert.equal(job.permissions?.['pull-requests'], 'write');
    });

    test('uploads the result as bench-versions, never as the baseline', () => {
      const uploads = job.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact'));
      assert.deepEqual(
        uploads.map((s) => [s.with!['name'], s.if]),
        [
          ['bench-baseline', "always() && env.BENCH_RUNTIMES == ''"],
          ['bench-versions-${{ github.run_id }}', "always() && env.BENCH_RUNTIMES != ''"],
        ],
      );
    });
  });
});
