import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareResults,
  decideVerdict,
  findDifferences,
  mergeResults,
  minPossibleP,
  pairRuntimes,
  rowRuntimeLabel,
  upgradeLine,
  repetitionsNeeded,
  stableJson,
  type VerdictInput,
} from '../../core/compare.js';
import {
  EMPTY_THRESHOLDS,
  findMetric,
  parseThresholdOverride,
  thresholdFor,
  validateThresholds,
  withOverrides,
} from '../../core/compare-metrics.js';
import { BenchError } from '../../base/errors.js';
import type { RunResult } from '../../schema/result.js';
import { holmAdjust } from '../../stats/index.js';
import { summarizeCells } from '../../core/summarize.js';
import { latencySummary } from '../helpers/cells.js';
import { syntheticResult } from '../helpers/synthetic.js';

function rejects(fn: () => unknown, code: string): BenchError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof BenchError, String(e));
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const row = (r: ReturnType<typeof compareResults>, runtime: string, metric: string, caseName = 'echo') =>
  r.rows.find((x) => x.runtime === runtime && x.metric === metric && x.case === caseName)!;

describe('minPossibleP and repetitionsNeeded', () => {
  test('the smallest exact two-sided p is 2 / C(n1 + n2, n1)', () => {
    for (const [n1, n2, p] of [
      [1, 1, 1],
      [2, 2, 2 / 6],
      [3, 3, 0.1],
      [3, 4, 2 / 35],
      [4, 4, 2 / 70],
      [10, 10, 2 / 184756],
    ] as const) {
      assert.ok(Math.abs(minPossibleP(n1, n2) - p) < 1e-12, `${n1} vs ${n2}`);
    }
  });

  test('with 1–3 repetitions per side Mann–Whitney cannot reach p < 0.05; 4 can for one row, more rows need more', () => {
    assert.ok(minPossibleP(3, 3) > 0.05);
    assert.equal(repetitionsNeeded(1, 0.05), 4);
    // 28 rows: 6 gives 28 × 2/924 = 0.061, 7 gives 28 × 2/3432 = 0.016.
    assert.equal(repetitionsNeeded(28, 0.05), 7);
  });
});

describe('decideVerdict at every boundary', () => {
  const base: VerdictInput = {
    better: 'higher',
    thresholdPct: 5,
    ciPct: { lowPct: -8, highPct: -6 },
    p: 0.001,
    pAdjusted: 0.01,
    alpha: 0.05,
    canBeSignificant: true,
    lowerBound: false,
  };
  const cases: [string, Partial<VerdictInput>, string, string[]][] = [
    ['msgs/s down, whole CI beyond −5%', {}, 'regression', []],
    ['CI bound exactly at the threshold counts as reaching it', { ciPct: { lowPct: -8, highPct: -5 } }, 'regression', []],
    ['a bound a float hair inside the threshold still counts', { ciPct: { lowPct: -8, highPct: -5 + 1e-12 } }, 'regression', []],
    ['CI just inside the threshold straddles it', { ciPct: { lowPct: -8, highPct: -4.99 } }, 'suspect', ['ci-straddles-threshold']],
    ['CI touching the threshold from inside straddles it', { ciPct: { lowPct: -5, highPct: -1 } }, 'suspect', ['ci-straddles-threshold']],
    ['significant but wholly within ±threshold: unchanged', { ciPct: { lowPct: -4.99, highPct: -1 } }, 'unchanged', []],
    ['msgs/s up beyond +5%: improvement', { ciPct: { lowPct: 5, highPct: 9 } }, 'improvement', []],
    ['latency up beyond +5% is a regression', { better: 'lower', ciPct: { lowPct: 5, highPct: 9 } }, 'regression', []],
    ['latency down beyond −5% is an improvement', { better: 'lower', ciPct: { lowPct: -9, highPct: -5 } }, 'improvement', []],
    ['adjusted p exactly α is significant', { pAdjusted: 0.05 }, 'regression', []],
    ['adjusted p just above α, raw below, CI beyond: not significant after Holm', { pAdjusted: 0.0501 }, 'suspect', ['not-significant-after-holm']],
    ['adjusted and raw p above α: unchanged', { p: 0.051, pAdjusted: 0.3 }, 'unchanged', []],
    ['raw p below α but CI not beyond: unchanged', { pAdjusted: 0.2, ciPct: { lowPct: -8, highPct: -2 } }, 'unchanged', []],
    ['a load-generator-bound side is never a regression', { lowerBound: true }, 'suspect', ['lower-bound']],
    ['too few repetitions for significance', { canBeSignificant: false, p: 1, pAdjusted: 1 }, 'suspect', ['too-few-repetitions']],
    ['no relative scale', { ciPct: null }, 'suspect', ['no-relative-scale']],
    ['reasons accumulate', { lowerBound: true, canBeSignificant: false }, 'suspect', ['lower-bound', 'too-few-repetitions']],
  ];
  for (const [name, over, verdict, reasons] of cases) {
    test(name, () => {
      const v = decideVerdict({ ...base, ...over });
      assert.equal(v.verdict, verdict);
      assert.deepEqual(v.reasons, reasons);
    });
  }
});

describe('compareResults', () => {
  test('catches a planted 10% regression (10 repetitions, 2% noise) in msgs/s and CPU per message, and nothing else', () => {
    const base = syntheticResult({ seed: 11 });
    const head = syntheticResult({ seed: 12, factors: { bun: { msgsPerSec: 0.9, serverCpuUsPerMsg: 1.1 } } });
    const c = compareResults(base, head);
    assert.equal(row(c, 'bun', 'msgsPerSec').verdict, 'regression');
    assert.equal(row(c, 'bun', 'serverCpuUsPerMsg').verdict, 'regression');
    // CPU per message is the case's primary figure (the server was not the limit): it gates; msgs/s informs.
    assert.equal(row(c, 'bun', 'serverCpuUsPerMsg').primary, true);
    assert.equal(row(c, 'bun', 'msgsPerSec').primary, false);
    assert.equal(c.counts.regression, 1);
    assert.equal(c.secondaryCounts.regression, 1);
    assert.equal(c.counts.improvement, 0);
    const msgs = row(c, 'bun', 'msgsPerSec');
    assert.ok(msgs.deltaPct! < -7 && msgs.deltaPct! > -13, String(msgs.deltaPct));
    assert.ok(msgs.shift!.highPct <= -5 && msgs.shift!.lowPct > -15);
    assert.equal(msgs.pMethod, 'exact');
    for (const r of c.rows.filter((x) => x.runtime === 'node-ws')) assert.equal(r.verdict, 'unchanged', `${r.metric}`);
  });

  test('is direction-aware: more msgs/s and less latency are improvements, more latency a regression', () => {
    const base = syntheticResult({ seed: 21 });
    const head = syntheticResult({ seed: 22, factors: { bun: { msgsPerSec: 1.12, latencyP50Us: 0.88 }, 'node-ws': { latencyP50Us: 1.12, rssPeakBytes: 0.8 } } });
    const c = compareResults(base, head);
    assert.equal(row(c, 'bun', 'msgsPerSec').verdict, 'improvement');
    assert.equal(row(c, 'bun', 'latencyP50Us').verdict, 'improvement');
    assert.equal(row(c, 'node-ws', 'latencyP50Us').verdict, 'regression');
    assert.equal(row(c, 'node-ws', 'rssPeakBytes').verdict, 'improvement');
    assert.equal(row(c, 'bun', 'msgsPerSec').better, 'higher');
    assert.equal(row(c, 'bun', 'latencyP50Us').better, 'lower');
  });

  test('over 200 seeded A/A pairs at most 5% are called changed, while raw p < 0.05 occurs at about its nominal rate', () => {
    let pairsChanged = 0;
    let rows = 0;
    let rawSignificant = 0;
    for (let i = 0; i < 200; i++) {
      const c = compareResults(syntheticResult({ seed: 1000 + 2 * i }), syntheticResult({ seed: 1001 + 2 * i }));
      if (c.counts.regression + c.counts.improvement > 0) pairsChanged++;
      rows += c.rows.length;
      rawSignificant += c.rows.filter((r) => r.p <= 0.05).length;
    }
    assert.ok(pairsChanged <= 10, `${pairsChanged} of 200 A/A pairs called changed`);
    const rate = rawSignificant / rows;
    assert.ok(rate > 0.01 && rate < 0.1, `raw false-positive rate ${rate}`);
  });

  test('Holm adjusts within the primary rows and within the secondary rows, apart', () => {
    const c = compareResults(syntheticResult({ seed: 31 }), syntheticResult({ seed: 32, factors: { bun: { msgsPerSec: 0.9 } } }));
    for (const primary of [true, false]) {
      const family = c.rows.filter((r) => r.primary === primary);
      assert.deepEqual(
        family.map((r) => r.pAdjusted),
        holmAdjust(family.map((r) => r.p)),
      );
    }
    assert.equal(c.rows.length, 2 * 8);
    // The closed-loop echo case declares one primary figure per runtime (server CPU per message: the server was not at 95% CPU).
    assert.deepEqual(
      c.rows.filter((r) => r.primary).map((r) => `${r.runtime} ${r.metric}`),
      ['bun serverCpuUsPerMsg', 'node-ws serverCpuUsPerMsg'],
    );
  });

  test('expresses the Hodges–Lehmann shift in % of the base median', () => {
    const base = syntheticResult({ repeat: 5, exact: { bun: { msgsPerSec: [1000, 1010, 1020, 1030, 1040] } } });
    const head = syntheticResult({ repeat: 5, exact: { bun: { msgsPerSec: [900, 910, 920, 930, 940] } } });
    const r = row(compareResults(base, head, { force: true }), 'bun', 'msgsPerSec');
    assert.equal(r.base.median, 1020);
    assert.ok(Math.abs(r.shift!.pct - (-100 / 1020) * 100) < 1e-9);
    assert.ok(Math.abs(r.deltaPct! - (-100 / 1020) * 100) < 1e-9);
    assert.ok(Math.abs(r.minPossibleP - 2 / 252) < 1e-12);
  });

  test('with 3 repetitions per side every row is suspect (too few) and a note says how many are needed', () => {
    const c = compareResults(syntheticResult({ repeat: 3, seed: 41 }), syntheticResult({ repeat: 3, seed: 42, factors: { bun: { msgsPerSec: 0.5 } } }));
    assert.equal(c.counts.suspect + c.secondaryCounts.suspect, c.rows.length);
    assert.ok(c.rows.every((r) => r.reasons.includes('too-few-repetitions')));
    assert.match(c.notes[0]!, /no difference can be significant/);
    assert.match(c.notes[0]!, new RegExp(`at least ${repetitionsNeeded(c.rows.filter((r) => r.primary).length, 0.05)} repetitions per side`));
  });

  test('a load-generator-bound repetition makes msgs/s and latency suspect, not the server-side figures', () => {
    const base = syntheticResult({ seed: 51 });
    const head = syntheticResult({ seed: 52, loadgenBound: ['echo/bun/3'], factors: { bun: { msgsPerSec: 0.8, serverCpuUsPerMsg: 1.2 } } });
    const c = compareResults(base, head);
    const msgs = row(c, 'bun', 'msgsPerSec');
    assert.equal(msgs.verdict, 'suspect');
    assert.deepEqual(msgs.reasons, ['lower-bound']);
    assert.ok(msgs.head.lowerBound && !msgs.base.lowerBound);
    assert.equal(row(c, 'bun', 'latencyP99Us').verdict, 'suspect');
    assert.equal(row(c, 'bun', 'serverCpuUsPerMsg').verdict, 'regression');
  });

  test('uses per-metric and per-scenario thresholds', () => {
    const t = withOverrides(EMPTY_THRESHOLDS, [parseThresholdOverride('msgs=12'), parseThresholdOverride('echo:cpu=2')]);
    const c = compareResults(syntheticResult({ seed: 61 }), syntheticResult({ seed: 62, factors: { bun: { msgsPerSec: 0.9 } } }), { thresholds: t });
    assert.equal(row(c, 'bun', 'msgsPerSec').thresholdPct, 12);
    assert.notEqual(row(c, 'bun', 'msgsPerSec').verdict, 'regression');
    assert.equal(row(c, 'bun', 'serverCpuUsPerMsg').thresholdPct, 2);
    assert.equal(row(c, 'bun', 'latencyP99Us').thresholdPct, 10);
    assert.equal(row(c, 'bun', 'latencyP999Us').thresholdPct, 20);
    assert.deepEqual(c.notes, []);
    const typo = compareResults(syntheticResult({ seed: 61 }), syntheticResult({ seed: 62 }), { thresholds: withOverrides(EMPTY_THRESHOLDS, [parseThresholdOverride('ecco:cpu=2')]) });
    assert.deepEqual(typo.notes, ['thresholds for "ecco": no compared scenario or case has that name (echo)']);
  });

  test('warns where a threshold is below twice the A/A noise floor', () => {
    const noise = { source: 'cal.json', floorPct: { msgsPerSec: 3, latencyP99Us: 4 }, perCase: {} };
    const c = compareResults(syntheticResult({ seed: 71 }), syntheticResult({ seed: 72 }), { noise });
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0]!, /^msgs\/s: threshold 5% is below twice the A\/A noise floor \(2 × 3\.0%\) in 2 rows/);
    assert.equal(row(c, 'bun', 'msgsPerSec').noiseFloorPct, 3);
    assert.equal(row(c, 'bun', 'latencyP99Us').noiseFloorPct, undefined, '10% ≥ 2 × 4%');
    const perCase = compareResults(syntheticResult({ seed: 71 }), syntheticResult({ seed: 72 }), { noise: { ...noise, perCase: { echo: { msgsPerSec: 1 } } } });
    assert.deepEqual(perCase.warnings, [], "the case's own floor wins over the metric's largest");
  });

  test('lists cases and runtimes only one side has, and compares the rest', () => {
    const base = syntheticResult({ runtimes: ['bun', 'node-ws', 'deno'], seed: 81 });
    const head = syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 82 });
    const c = compareResults(base, head);
    assert.deepEqual([...new Set(c.rows.map((r) => r.runtime))], ['bun', 'node-ws']);
    assert.ok(c.notes.some((n) => n === 'echo · deno: only in base, not compared'));
  });
});

describe('refusing incomparable results', () => {
  const base = syntheticResult({ seed: 91 });
  const variants: [string, (r: RunResult) => void, RegExp][] = [
    ['CPU model', (r) => (r.environment.cpuModel = 'Intel Xeon'), /^environment\.cpuModel: base "AMD EPYC 7B13", head "Intel Xeon"$/],
    ['core count', (r) => (r.environment.logicalCpus = 4), /^environment\.logicalCpus: base 2, head 4$/],
    ['kernel', (r) => (r.environment.kernel = 'Linux 6.9'), /^environment\.kernel: /],
    ['Node that runs bench', (r) => (r.environment.nodeVersion = '22.23.5'), /^environment\.nodeVersion: base "20\.20\.2", head "22\.23\.5"$/],
    ['schema version', (r) => ((r as { schemaVersion: number }).schemaVersion = 99), /^schemaVersion: base 3, head 99$/],
    ['scenario definition', (r) => ((r.settings.scenarios[0] as { connections: number }).connections = 64), /^settings\.scenarios\.echo\.connections: base \d+, head 64$/],
    ['client', (r) => (r.settings.client = 'ws'), /^settings\.client: base "raw", head "ws"$/],
    ['server settings', (r) => ((r.parity.manifests['bun'] as unknown as Record<string, unknown>)['idleTimeoutSec'] = 120), /^parity\.manifests\.bun\.idleTimeoutSec: base .*, head 120$/],
  ];
  for (const [name, change, pattern] of variants) {
    test(`a different ${name} is refused (E_INCOMPARABLE) naming the field, and recorded with force`, () => {
      const head = syntheticResult({ seed: 92 });
      change(head);
      const e = rejects(() => compareResults(base, head), 'E_INCOMPARABLE');
      assert.equal(e.exitCode, 2);
      assert.ok(e.details.some((d) => pattern.test(d)), e.details.join('\n'));
      const forced = compareResults(base, head, { force: true });
      assert.equal(forced.forced, true);
      assert.ok(forced.differences.some((d) => pattern.test(d)));
    });
  }

  test('host name, git revision and tool version are not differences', () => {
    const head = syntheticResult({ seed: 93, revision: 'ffffffffffffffffffffffffffffffffffffffff' });
    head.environment.hostname = 'other-runner';
    head.tool = { ...head.tool, version: '9.9.9' };
    assert.deepEqual(findDifferences(base, head), []);
    assert.equal(compareResults(base, head).forced, false);
  });

  test('key order does not count as a difference', () => {
    assert.equal(stableJson({ a: 1, b: [1, { d: 2, c: 3 }] }), stableJson({ b: [1, { c: 3, d: 2 }], a: 1 }));
  });
});

describe('mergeResults', () => {
  test('concatenates runs of one side and renumbers the repetitions', () => {
    const a = syntheticResult({ repeat: 3, seed: 101 });
    const b = syntheticResult({ repeat: 2, seed: 102 });
    const m = mergeResults([
      { name: 'a', result: a },
      { name: 'b', result: b },
    ]);
    assert.equal(m.settings.repeat, 5);
    const bun = m.cells.filter((c) => c.runtime === 'bun');
    assert.deepEqual(bun.map((c) => c.repetition), [1, 2, 3, 4, 5]);
    assert.deepEqual(bun.map((c) => c.id), [1, 2, 3, 4, 5].map((i) => `echo/bun/${i}`));
    assert.equal(m.summary.find((r) => r.runtime === 'bun')!.msgsPerSec!.n, 5);
  });

  test('refuses to merge runs measured differently, naming the parts', () => {
    const b = syntheticResult({ seed: 104 });
    b.environment.kernel = 'Linux 7.0';
    const e = rejects(() => mergeResults([{ name: 'r1', result: syntheticResult({ seed: 103 }) }, { name: 'r2', result: b }]), 'E_INCOMPARABLE');
    assert.match(e.details[0]!, /^environment\.kernel: r1 ".*", r2 "Linux 7\.0"$/);
  });
});

describe('thresholds', () => {
  test('parses metric=pct by alias or id, with an optional scope', () => {
    assert.deepEqual(parseThresholdOverride('p99=15'), { metric: 'latencyP99Us', pct: 15 });
    assert.deepEqual(parseThresholdOverride('echo-rate@10000/s:msgsPerSec=2.5%'), { scope: 'echo-rate@10000/s', metric: 'msgsPerSec', pct: 2.5 });
  });

  test('rejects an unknown metric or a malformed value, naming the flag', () => {
    assert.throws(() => parseThresholdOverride('p98=5'), /--threshold: unknown metric "p98"/);
    assert.throws(() => parseThresholdOverride('p99'), /--threshold: must be metric=pct/);
    assert.throws(() => parseThresholdOverride('p99=-1'), /--threshold: must be metric=pct/);
  });

  test('a case entry wins over its scenario, which wins over the metric, which wins over the default', () => {
    const t = validateThresholds({ metrics: { p99: 15 }, scenarios: { 'echo-rate': { p99: 20 }, 'echo-rate@10000/s': { p99: 25 } } }, 't.json');
    assert.equal(thresholdFor(t, 'latencyP99Us', 'echo-rate', 'echo-rate@10000/s'), 25);
    assert.equal(thresholdFor(t, 'latencyP99Us', 'echo-rate', 'echo-rate@50000/s'), 20);
    assert.equal(thresholdFor(t, 'latencyP99Us', 'echo', 'echo'), 15);
    assert.equal(thresholdFor(t, 'msgsPerSec', 'echo', 'echo'), 5);
    assert.equal(thresholdFor(t, 'rssPeakBytes', 'echo', 'echo'), 10);
  });

  test('a thresholds file is validated strictly, every problem with its field path', () => {
    const e = rejects(
      () => validateThresholds({ metrics: { p98: 5, p99: 'ten' }, scenarios: { echo: { cpu: -1 }, idle: 3 }, extra: true }, 't.json'),
      'E_INVALID_THRESHOLDS',
    );
    assert.equal(e.exitCode, 2);
    assert.deepEqual(e.details, [
      'extra: unknown key (allowed: metrics, scenarios)',
      'metrics.p98: unknown metric (metrics: msgs (msgsPerSec), p50 (latencyP50Us), p99 (latencyP99Us), p999 (latencyP999Us), cpu (serverCpuUsPerMsg), rss (rssPeakBytes), rss-end (rssEndBytes), conn-bytes (bytesPerConnection), relay (relayOverheadP50Us), relay-p99 (relayOverheadP99Us), capacity (capacityPerCore))',
      'metrics.p99: must be a percentage from 0 to 999 (e.g. 5 for 5%), got "ten"',
      'scenarios.echo.cpu: must be a percentage from 0 to 999 (e.g. 5 for 5%), got -1',
      'scenarios.idle: must be an object of metric: pct',
    ]);
  });
});

describe('voice relay rows', () => {
  /** The synthetic result with a relay overhead per repetition on every cell: `relayUs` ± 2%. */
  function withRelay(r: RunResult, relayUs: number): RunResult {
    const out = structuredClone(r);
    out.cells.forEach((c, i) => {
      const us = relayUs * (1 + 0.02 * Math.sin(i * 7.3));
      c.metrics!.voice = {
        firstChunkUs: c.metrics!.latencyUs, relayOverheadUs: latencySummary({ p50Us: us, p99Us: us * 4 }), jitterUs: c.metrics!.latencyUs,
        turnsTriggered: 1, turnsCompleted: 1, audioEventsSent: 1, controlEventsSent: 1, repliesExpected: 1, repliesReceived: 1, repliesCorrupted: 0,
        relayedMsgs: 1, serverCpuUsPerRelayedMsg: 1, bytesPerSession: 1,
      };
    });
    out.summary = summarizeCells(out.cells, out.settings.referenceRuntime);
    return out;
  }

  test('a relay that adds twice as much is a regression, though the first-chunk latency did not move', () => {
    const c = compareResults(withRelay(syntheticResult({ seed: 11 }), 150), withRelay(syntheticResult({ seed: 12 }), 300));
    for (const runtime of ['bun', 'node-ws']) {
      assert.equal(row(c, runtime, 'relayOverheadP50Us').verdict, 'regression', runtime);
      assert.equal(row(c, runtime, 'relayOverheadP99Us').verdict, 'regression', runtime);
      assert.equal(row(c, runtime, 'latencyP50Us').verdict, 'unchanged', runtime);
    }
    assert.equal(findMetric('relay')?.id, 'relayOverheadP50Us');
  });

  test('cases without a relay have no relay rows', () => {
    const c = compareResults(syntheticResult({ seed: 11 }), syntheticResult({ seed: 12 }));
    assert.ok(!c.rows.some((r) => r.metric === 'relayOverheadP50Us'));
  });
});

describe('upgrade comparisons: one runtime on two versions (issue 17)', () => {
  /** A result whose environment block records `versions` per label, as bench run writes it. */
  function versioned(runtimes: string[], versions: Record<string, [string, string]>, o: Parameters<typeof syntheticResult>[0] = {}): RunResult {
    const r = syntheticResult({ runtimes, ...o });
    for (const [label, [runtimeVersion, libraryVersion]] of Object.entries(versions)) {
      const entry = { id: label, label: 'Bun.serve', usable: true, runtimeVersion, libraryVersion };
      const at = r.environment.runtimes.findIndex((x) => x.id === label);
      if (at >= 0) r.environment.runtimes[at] = entry;
      else r.environment.runtimes.push(entry);
    }
    return r;
  }
  const base = versioned(['bun@1.3.14', 'node-ws'], { 'bun@1.3.14': ['1.3.14', '1.3.14'] }, { seed: 201 });
  const head = versioned(['bun@1.4.5', 'node-ws'], { 'bun@1.4.5': ['1.4.5', '1.4.5'] }, { seed: 202, factors: { 'bun@1.4.5': { msgsPerSec: 1.3 } } });

  test('bun@1.3.14 against bun@1.4.5 is allowed, pairs the rows by registry id and says it is an upgrade', () => {
    const c = compareResults(base, head);
    assert.equal(c.forced, false);
    assert.deepEqual(c.upgrades, [
      { runtime: 'bun', base: { label: 'bun@1.3.14', runtimeVersion: '1.3.14', libraryVersion: '1.3.14' }, head: { label: 'bun@1.4.5', runtimeVersion: '1.4.5', libraryVersion: '1.4.5' } },
    ]);
    const bun = row(c, 'bun@1.4.5', 'msgsPerSec');
    assert.equal(bun.baseRuntime, 'bun@1.3.14');
    assert.equal(rowRuntimeLabel(bun), 'bun@1.3.14 → bun@1.4.5');
    assert.equal(bun.verdict, 'improvement');
    assert.equal(row(c, 'node-ws', 'msgsPerSec').baseRuntime, undefined, 'a runtime on the same version on both sides pairs with itself');
    assert.deepEqual(c.notes.filter((n) => /only in/.test(n)), []);
    assert.equal(upgradeLine(c.upgrades![0]!), 'bun: 1.3.14 → 1.4.5 (bun@1.3.14 → bun@1.4.5)');
  });

  test('a plain id whose pinned version moved (the same label, another version) is an upgrade too', () => {
    const after = versioned(['bun', 'node-ws'], { 'node-ws': ['24.22.3', '8.23.0'] }, { seed: 203 });
    const c = compareResults(syntheticResult({ seed: 204 }), after);
    assert.deepEqual(c.differences, []);
    assert.deepEqual(c.upgrades?.map(upgradeLine), ['node-ws: 20.20.2 → 24.22.3, library 8.23.0']);
    assert.equal(row(c, 'node-ws', 'msgsPerSec').baseRuntime, undefined);
  });

  test('other environment differences are still refused, without the runtime versions among them', () => {
    const other = versioned(['bun@1.4.5', 'node-ws'], { 'bun@1.4.5': ['1.4.5', '1.4.5'] }, { seed: 205 });
    other.environment.kernel = 'Linux 7.0';
    const e = rejects(() => compareResults(base, other), 'E_INCOMPARABLE');
    assert.deepEqual(e.details.map((d) => d.split(':')[0]), ['environment.kernel']);
  });

  test('the two versions must run with the same server settings', () => {
    const a = versioned(['bun@1.3.14'], { 'bun@1.3.14': ['1.3.14', '1.3.14'] }, { seed: 206 });
    const b = versioned(['bun@1.4.5'], { 'bun@1.4.5': ['1.4.5', '1.4.5'] }, { seed: 207 });
    a.parity.manifests['bun@1.3.14'] = { ...syntheticResult().parity.manifests['bun']! };
    b.parity.manifests['bun@1.4.5'] = { ...syntheticResult().parity.manifests['bun']!, idleTimeoutSec: 1 };
    const e = rejects(() => compareResults(a, b), 'E_INCOMPARABLE');
    assert.match(e.details.join('\n'), /^parity\.manifests\.bun@1\.3\.14 → bun@1\.4\.5\.idleTimeoutSec: base 0, head 1$/m);
  });

  test('labels pair across versions only when one is left per registry id and copy on each side', () => {
    const a = versioned(['bun@1.3.14', 'bun@1.4.5', 'bun@1.3.14#2'], {}, { seed: 208 });
    const b = versioned(['bun@1.4.6', 'bun@1.4.6#2'], {}, { seed: 209 });
    assert.deepEqual(pairRuntimes(a, b).pairs.map((p) => `${p.base}=${p.head}`), ['bun@1.3.14#2=bun@1.4.6#2']);
    const c = compareResults(a, b);
    assert.ok(c.notes.includes('echo · bun@1.4.6: only in head, not compared'), c.notes.join('\n'));
    assert.ok(c.notes.includes('echo · bun@1.3.14: only in base, not compared'));
  });

  test('the parts merged into one side must still be the same versions', () => {
    const b = syntheticResult({ seed: 211 });
    b.environment.runtimes.find((x) => x.id === 'bun')!.runtimeVersion = '1.5.0';
    const e = rejects(() => mergeResults([{ name: 'r1', result: syntheticResult({ seed: 210 }) }, { name: 'r2', result: b }]), 'E_INCOMPARABLE');
    assert.match(e.details[0]!, /^environment\.runtimes\.bun\.runtimeVersion: r1 "1\.4\.5", r2 "1\.5\.0"$/);
  });
});
