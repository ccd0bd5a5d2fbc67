import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Calibration } from '../../core/calibrate.js';
import type { Comparison } from '../../core/compare.js';
import type { ChoiceTable } from '../../core/choice.js';
import type { RunResult } from '../../schema/result.js';
import { COMMENT_MARKER } from '../../report/compare/markdown.js';
import { syntheticResult, type SyntheticOptions } from '../helpers/synthetic.js';
import { runBench } from '../helpers/cli.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bench-compare-'));

const cli = (argv: string[], cwd?: string) => runBench(argv, cwd ? { cwd } : {});

/** Writes a result folder (<dir>/<name>/result.json) and returns its path. */
function save(dir: string, name: string, r: RunResult): string {
  const folder = path.join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'result.json'), JSON.stringify(r));
  return folder;
}

const make = (o: SyntheticOptions) => syntheticResult(o);

describe('bench compare', () => {
  const dir = tmp();
  const base = save(dir, 'base', make({ seed: 1 }));
  const same = save(dir, 'same', make({ seed: 2 }));
  const slower = save(dir, 'slower', make({ seed: 3, factors: { bun: { serverCpuUsPerMsg: 1.1 } } }));

  test('prints the table on stdout and exits 0 without a regression', async () => {
    const r = await cli(['compare', base, same]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^bench compare: 0 regressions, \d+ improvements?, \d+ suspect, \d+ unchanged\n/);
  });

  test('a regression exits 0, or 10 with --fail-on-regression', async () => {
    const r = await cli(['compare', base, slower]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /bench compare: 1 regression/);
    const f = await cli(['compare', base, slower, '--fail-on-regression']);
    assert.equal(f.code, 10);
    assert.match(f.stderr, /1 regression \(--fail-on-regression\): exit 10/);
  });

  test('--format markdown starts with the marker; --format json is the comparison, with a summary line on stderr', async () => {
    const md = await cli(['compare', base, slower, '--format', 'markdown']);
    assert.equal(md.code, 0);
    assert.equal(md.stdout.split('\n')[0], COMMENT_MARKER);
    assert.match(md.stderr, /^bench compare: 1 regression\(s\)/);
    const js = await cli(['compare', base, slower, '--format', 'json']);
    const c = JSON.parse(js.stdout) as Comparison;
    assert.equal(c.kind, 'bench-comparison');
    assert.equal(c.counts.regression, 1);
  });

  test('--format html is one self-contained page, the counts in its verdict, a summary line on stderr', async () => {
    const r = await cli(['compare', base, slower, '--format', 'html']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<!doctype html>\n/);
    assert.match(r.stdout, /<p class="summary tone-bad">1 regression, /);
    assert.match(r.stdout, /<figure class="chart" id="chart-c1-echo-msgs" data-kind="distributions"/);
    assert.match(r.stderr, /^bench compare: 1 regression\(s\)/);
  });

  test('--threshold raises a minimum effect so that the same change is no longer a regression', async () => {
    const r = await cli(['compare', base, slower, '--threshold', 'cpu=15', '--format', 'json', '--fail-on-regression']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.equal(c.rows.find((x) => x.metric === 'serverCpuUsPerMsg')!.thresholdPct, 15);
  });

  test('a bad --threshold is bad input (exit 2) naming the flag', async () => {
    const r = await cli(['compare', base, same, '--threshold', 'p98=5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--threshold: unknown metric "p98"/);
  });

  test('an invalid thresholds file exits 2 with E_INVALID_THRESHOLDS and field paths', async () => {
    const file = path.join(dir, 'thresholds.json');
    writeFileSync(file, JSON.stringify({ metrics: { p99: 'x' }, scenario: {} }));
    const r = await cli(['compare', base, same, '--thresholds', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_INVALID_THRESHOLDS\]/);
    assert.match(r.stderr, /scenario: unknown key \(allowed: metrics, scenarios\)/);
    assert.match(r.stderr, /metrics\.p99: must be a percentage/);
  });

  test('results from another machine are refused (exit 2, E_INCOMPARABLE, naming the difference) unless --force', async () => {
    const other = make({ seed: 4 });
    other.environment.cpuModel = 'Intel Xeon Platinum';
    const o = save(dir, 'other', other);
    const r = await cli(['compare', base, o]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_INCOMPARABLE\]/);
    assert.match(r.stderr, /environment\.cpuModel: base "AMD EPYC 7B13", head "Intel Xeon Platinum"/);
    assert.match(r.stderr, /hint: .*--force/);
    const f = await cli(['compare', base, o, '--force']);
    assert.equal(f.code, 0);
    assert.match(f.stdout, /FORCED: compared despite these differences \(--force\):\n {2}- environment\.cpuModel/);
  });

  test('a missing or malformed result is bad input (exit 2, E_INVALID_RESULT)', async () => {
    const missing = await cli(['compare', base, path.join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error\[E_INVALID_RESULT\]/);
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"schemaVersion": 7}');
    const b = await cli(['compare', base, bad]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /schemaVersion: must be 3, got 7/);
  });

  test('a folder of result folders is merged into one side', async () => {
    const rounds = path.join(dir, 'rounds');
    for (let i = 0; i < 3; i++) {
      const r = make({ seed: 10 + i, repeat: 2 });
      r.startedAt = `2026-11-24T08:0${i}:00.000Z`;
      save(rounds, `round-${i}`, r);
    }
    const r = await cli(['compare', base, rounds, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout) as Comparison;
    assert.equal(c.head.runs, 3);
    assert.ok(c.rows.every((x) => x.head.n === 6));
  });

  test('a head run with errored cells exits 3 after printing the comparison', async () => {
    const failed = make({ seed: 5 });
    failed.status = 'failed';
    failed.cells[0] = { ...failed.cells[0]!, status: 'errored', error: { code: 'E_SERVER_EXITED', message: 'server exited', details: [] } };
    delete failed.cells[0]!.metrics;
    const r = await cli(['compare', base, save(dir, 'failed', failed)]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^bench compare:/);
    assert.match(r.stderr, /head run failed \(1 errored cells\): exit 3/);
  });

  test('--noise takes a calibration and warns where a threshold is below twice the noise floor', async () => {
    const cal: Partial<Calibration> = { kind: 'bench-calibration', version: 1, floorPct: { msgsPerSec: 4 }, perCase: {} };
    const calDir = path.join(dir, 'cal');
    mkdirSync(calDir);
    writeFileSync(path.join(calDir, 'calibration.json'), JSON.stringify(cal));
    const r = await cli(['compare', base, same, '--noise', calDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /noise floor \(A\/A, .*calibration\.json\): msgs\/s 4\.0%/);
    assert.match(r.stdout, /warning: msgs\/s: threshold 5% is below twice the A\/A noise floor/);
    writeFileSync(path.join(calDir, 'calibration.json'), JSON.stringify({ kind: 'x' }));
    const bad = await cli(['compare', base, same, '--noise', calDir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error\[E_INVALID_CALIBRATION\]/);
  });
});

describe('bench choose', () => {
  const dir = tmp();
  const result = save(dir, 'r', make({ seed: 1, runtimes: ['node-ws', 'bun'], serverBound: true, factors: { bun: { msgsPerSec: 1.4 } } }));

  test('prints the decision bench run ended in, as text, Markdown, JSON or HTML', async () => {
    const t = await cli(['choose', result]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /What to pick, per workload:\n {2}echo: bun\n/);
    const md = await cli(['choose', result, '--format', 'markdown']);
    assert.match(md.stdout, /^<!-- bench-choice -->\n/);
    const js = JSON.parse((await cli(['choose', result, '--format', 'json'])).stdout) as ChoiceTable;
    assert.equal(js.cases[0]!.winner, 'bun');
    assert.equal(js.source, 'decided');
    const html = await cli(['choose', result, '--format', 'html']);
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout, /<p class="summary tone-good">echo: bun wins<\/p>/);
    assert.match(html.stdout, /data-kind="bars-interval"/);
  });
});

describe('bench calibrate and bench run --baseline', () => {
  test('bad input exits 2 before anything runs', async () => {
    const r = await cli(['calibrate', '--repeat', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--repeat: must be a whole number ≥ 2/);
    const u = await cli(['calibrate', '--runtime', 'nodejs']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /error\[E_UNKNOWN_RUNTIME\]/);
    const b = await cli(['run', '--runtime', 'node-ws', '--baseline', path.join(tmp(), 'missing')]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /error\[E_INVALID_RESULT\]/);
    assert.doesNotMatch(b.stderr, /results:/, 'no run started');
  });

  test('calibrate runs one runtime against itself and writes a calibration that run --baseline and compare --noise accept', { timeout: 120_000 }, async () => {
    const dir = tmp();
    const scenario = path.join(dir, 'tiny.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'tiny',
        description: 'A small open-loop echo for the calibrate test.',
        route: '/echo',
        connections: 4,
        warmupSec: 0.2,
        durationSec: 0.5,
        load: { model: 'open', ratesPerSec: [500], arrivals: 'constant' },
        message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
      }),
    );
    const out = path.join(dir, 'results');
    const cal = await cli(['calibrate', '--runtime', 'node-ws', '--repeat', '2', '--scenario', scenario, '--out', out, '--json']);
    assert.equal(cal.code, 0, cal.stderr);
    const c = JSON.parse(cal.stdout) as Calibration;
    assert.equal(c.kind, 'bench-calibration');
    assert.equal(c.runtime, 'node-ws');
    assert.equal(c.repeatPerGroup, 2);
    assert.ok(c.floorPct.msgsPerSec !== undefined);
    assert.match(cal.stderr, /A\/A noise floor of node-ws: 2 \+ 2 interleaved repetitions/);
    const [folder] = readdirSync(out);
    const calDir = path.join(out, folder!);
    assert.ok(existsSync(path.join(calDir, 'calibration.json')) && existsSync(path.join(calDir, 'result.json')));
    const stored = JSON.parse(readFileSync(path.join(calDir, 'result.json'), 'utf8')) as RunResult;
    assert.equal(stored.cells.length, 4);

    const run = await cli(['run', '--runtime', 'node-ws', '--scenario', scenario, '--repeat', '2', '--out', out, '--baseline', calDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Compared with the baseline .*:\nbench compare: /);

    const cmp = await cli(['compare', calDir, calDir, '--noise', calDir]);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.match(cmp.stdout, /noise floor \(A\/A, /);
  });
});
