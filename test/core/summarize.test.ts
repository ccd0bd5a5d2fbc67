import { describeWarning } from '../../report/warnings.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CellResult } from '../../schema/result.js';
import { HIGH_SPREAD_PCT, aggregate, mergedLatency, summarizeCells } from '../../core/summarize.js';
import { createLatencyHistogram, encodeHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import { EMPTY_LATENCY, cell, latencySummary, reps, warning } from '../helpers/cells.js';

describe('aggregate', () => {
  const cases: { name: string; values: number[]; expected: ReturnType<typeof aggregate> }[] = [
    { name: 'empty gives undefined', values: [], expected: undefined },
    { name: 'n = 1 has no spread', values: [42], expected: { n: 1, median: 42, min: 42, max: 42, madPct: null, values: [42] } },
    { name: 'all equal has 0% spread', values: [7, 7, 7], expected: { n: 3, median: 7, min: 7, max: 7, madPct: 0, values: [7, 7, 7] } },
    { name: 'odd n', values: [110, 90, 100], expected: { n: 3, median: 100, min: 90, max: 110, madPct: 10, values: [110, 90, 100] } },
    { name: 'even n takes the mean of the middle two', values: [1, 2, 3, 4], expected: { n: 4, median: 2.5, min: 1, max: 4, madPct: 40, values: [1, 2, 3, 4] } },
    { name: 'median 0 gives a null relative spread', values: [0, 0, 1], expected: { n: 3, median: 0, min: 0, max: 1, madPct: null, values: [0, 0, 1] } },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(aggregate(c.values), c.expected));
  }

  test('does not keep a reference to the input', () => {
    const input = [3, 1, 2];
    const a = aggregate(input)!;
    input.push(99);
    assert.deepEqual(a.values, [3, 1, 2]);
  });
});

describe('summarizeCells', () => {
  test('n = 1 gives an aggregate without spread and a single-run warning', () => {
    const [row] = summarizeCells(reps('bun', [1000]), 'bun');
    assert.equal(row!.completed, 1);
    assert.deepEqual(row!.msgsPerSec, { n: 1, median: 1000, min: 1000, max: 1000, madPct: null, values: [1000] });
    assert.deepEqual(
      row!.warnings.map((w) => w.code),
      ['single-run'],
    );
    assert.match(describeWarning(row!.warnings[0]!).message, /no verdict/);
  });

  test('all-equal repetitions give 0% spread and no warning', () => {
    const [row] = summarizeCells(reps('bun', [500, 500, 500]), 'bun');
    assert.equal(row!.msgsPerSec!.madPct, 0);
    assert.deepEqual(row!.warnings, []);
  });

  test('errored and skipped repetitions are counted but not aggregated', () => {
    const cells = [
      ...reps('bun', [100, 200]),
      cell({ runtime: 'bun', repetition: 3, status: 'errored' }),
      cell({ runtime: 'bun', repetition: 4, status: 'skipped' }),
    ];
    const [row] = summarizeCells(cells, 'bun');
    assert.equal(row!.completed, 2);
    assert.equal(row!.errored, 1);
    assert.deepEqual(row!.msgsPerSec!.values, [100, 200]);
    assert.equal(row!.msgsPerSec!.median, 150);
  });

  test('an errored repetition that carries metrics is still excluded', () => {
    const broken = cell({ runtime: 'bun', repetition: 3, metrics: { msgsPerSec: 1 } });
    broken.status = 'errored';
    const [row] = summarizeCells([...reps('bun', [100, 100]), broken], 'bun');
    assert.deepEqual(row!.msgsPerSec!.values, [100, 100]);
  });

  test('values are in repetition order whatever the execution order', () => {
    const cells = reps('bun', [10, 20, 30]).reverse();
    assert.deepEqual(summarizeCells(cells, 'bun')[0]!.msgsPerSec!.values, [10, 20, 30]);
  });

  const ratioCases: { name: string; cells: CellResult[]; ref: string; expected: Record<string, Record<string, number>> }[] = [
    {
      name: 'ratio of medians to the reference, per metric',
      cells: [...reps('bun', [200, 210, 190], { serverCpuUsPerMsg: 5 }), ...reps('node-ws', [100, 100, 100], { serverCpuUsPerMsg: 10 })],
      ref: 'node-ws',
      expected: {
        bun: { msgsPerSec: 2, latencyP50Us: 1, latencyP99Us: 1, serverCpuUsPerMsg: 0.5, rssPeakBytes: 1 },
        'node-ws': { msgsPerSec: 1, latencyP50Us: 1, latencyP99Us: 1, serverCpuUsPerMsg: 1, rssPeakBytes: 1 },
      },
    },
    {
      name: 'omitted when the reference has no completed repetition',
      cells: [...reps('bun', [200, 200]), cell({ runtime: 'node-ws', status: 'errored' })],
      ref: 'node-ws',
      expected: { bun: {}, 'node-ws': {} },
    },
    {
      name: 'omitted when the reference did not run',
      cells: reps('bun', [200, 200]),
      ref: 'deno',
      expected: { bun: {} },
    },
    {
      name: 'omitted for a metric the reference lacks',
      cells: [...reps('bun', [200, 200], { serverCpuUsPerMsg: 4 }), ...reps('node-ws', [100, 100], { serverCpuUsPerMsg: null })],
      ref: 'node-ws',
      expected: {
        bun: { msgsPerSec: 2, latencyP50Us: 1, latencyP99Us: 1, rssPeakBytes: 1 },
        'node-ws': { msgsPerSec: 1, latencyP50Us: 1, latencyP99Us: 1, rssPeakBytes: 1 },
      },
    },
  ];
  for (const c of ratioCases) {
    test(c.name, () => {
      const rows = summarizeCells(c.cells, c.ref);
      assert.deepEqual(Object.fromEntries(rows.map((r) => [r.runtime, r.ratioToReference])), c.expected);
    });
  }

  const lowerBoundCases: { name: string; flags: boolean[]; expected: boolean }[] = [
    { name: 'no repetition bound', flags: [false, false, false], expected: false },
    { name: 'one repetition bound marks the row', flags: [false, true, false], expected: true },
    { name: 'all bound', flags: [true, true], expected: true },
  ];
  for (const c of lowerBoundCases) {
    test(`lower bound: ${c.name}`, () => {
      const cells = c.flags.map((f, i) => cell({ repetition: i + 1, metrics: { throughputIsLowerBound: f } }));
      assert.equal(summarizeCells(cells, 'bun')[0]!.throughputIsLowerBound, c.expected);
    });
  }

  const spreadCases: { name: string; msgsPerSec: number[]; p99Us?: number[]; expected: boolean; mentions?: RegExp }[] = [
    { name: 'exactly 10% is not high', msgsPerSec: [90, 100, 110], expected: false },
    { name: 'just above 10% is high', msgsPerSec: [89, 100, 111], expected: true, mentions: /msgs\/s varies ±11\.0%/ },
    { name: 'p99 above 10% is high', msgsPerSec: [100, 100, 100], p99Us: [300, 400, 500], expected: true, mentions: /p99 latency varies ±25\.0%/ },
    { name: 'p99 at exactly 10% is not high', msgsPerSec: [100, 100, 100], p99Us: [900, 1000, 1100], expected: false },
    { name: 'two repetitions can be high', msgsPerSec: [50, 150], expected: true, mentions: /over 2 repetitions/ },
  ];
  for (const c of spreadCases) {
    test(`high-spread: ${c.name}`, () => {
      const cells = c.msgsPerSec.map((v, i) =>
        cell({ repetition: i + 1, metrics: { msgsPerSec: v, latencyUs: latencySummary({ p99Us: c.p99Us?.[i] ?? 300 }) } }),
      );
      const row = summarizeCells(cells, 'bun')[0]!;
      const spread = row.warnings.find((w) => w.code === 'high-spread');
      assert.equal(spread !== undefined, c.expected);
      if (c.mentions) assert.match(describeWarning(spread!).message, c.mentions);
      if (spread) assert.match(describeWarning(spread).hint, /--repeat.*--duration.*quieter/);
    });
  }

  test('the threshold is 10%', () => assert.equal(HIGH_SPREAD_PCT, 10));

  test("cells' warnings are merged, one per code, saying how many repetitions raised them", () => {
    const cells = [
      cell({ repetition: 1, warnings: [warning('loadgen-bound')] }),
      cell({ repetition: 2, warnings: [{ code: 'loadgen-bound', reasons: [{ kind: 'loop-delay', worker: 0, p99Us: 30_000 }] }, warning('rss-growing')] }),
      cell({ repetition: 3 }),
    ];
    const row = summarizeCells(cells, 'bun')[0]!;
    assert.deepEqual(
      row.warnings.map((w) => w.code),
      ['loadgen-bound', 'rss-growing'],
    );
    // The first repetition's figures, and how many repetitions raised it.
    assert.deepEqual(row.warnings[0], { ...warning('loadgen-bound'), repetitions: { count: 2, of: 3 } });
    assert.match(describeWarning(row.warnings[0]!).message, /CPU 1 at 97% .*\(in 2 of 3 repetitions\)$/);
  });

  test('a cell warning with a computed code appears once', () => {
    const cells = [cell({ warnings: [warning('single-run')] })];
    const row = summarizeCells(cells, 'bun')[0]!;
    assert.deepEqual(
      row.warnings.map((w) => w.code),
      ['single-run'],
    );
  });

  test('no traffic and no latency (idle) give no throughput or latency aggregates', () => {
    const idle = { msgsPerSec: 0, latencyUs: EMPTY_LATENCY, serverCpuUsPerMsg: null, delivery: { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 } };
    const row = summarizeCells(reps('bun', [0, 0], idle, 'idle'), 'bun')[0]!;
    for (const key of ['msgsPerSec', 'latencyP50Us', 'latencyP99Us', 'latencyP999Us', 'latencyMaxUs', 'serverCpuUsPerMsg'] as const) {
      assert.equal(row[key], undefined, key);
    }
    assert.equal(row.rssPeakBytes!.n, 2);
    assert.equal(row.bytesPerConnection!.median, 4096);
  });

  test('a server that received nothing under traffic has a throughput of 0, not none', () => {
    const row = summarizeCells(reps('bun', [0, 0]), 'bun')[0]!;
    assert.equal(row.msgsPerSec!.median, 0);
  });

  test('rows follow first appearance: cases, then runtimes (same runtime order in every case)', () => {
    const cells = [
      cell({ case: 'b', runtime: 'deno' }),
      cell({ case: 'a', runtime: 'bun' }),
      cell({ case: 'b', runtime: 'bun' }),
      cell({ case: 'a', runtime: 'deno' }),
      cell({ case: 'b', runtime: 'deno', repetition: 2 }),
    ];
    assert.deepEqual(
      summarizeCells(cells, 'bun').map((r) => `${r.case}/${r.runtime}`),
      ['b/deno', 'b/bun', 'a/deno', 'a/bun'],
    );
  });

  test('an empty run gives no rows', () => assert.deepEqual(summarizeCells([], 'bun'), []));

  test('a case × runtime with no completed repetition still has a row', () => {
    const row = summarizeCells([cell({ status: 'errored' })], 'bun')[0]!;
    assert.equal(row.completed, 0);
    assert.equal(row.errored, 1);
    assert.equal(row.msgsPerSec, undefined);
    assert.equal(row.throughputIsLowerBound, false);
    assert.deepEqual(row.warnings, []);
  });

  test('does not mutate its input', () => {
    const cells = reps('bun', [3, 1, 2]).reverse();
    const before = JSON.stringify(cells);
    summarizeCells(cells, 'bun');
    assert.equal(JSON.stringify(cells), before);
  });
});

describe('mergedLatency', () => {
  function withHistogram(c: CellResult, valuesUs: number[]): CellResult {
    const h = createLatencyHistogram();
    for (const v of valuesUs) recordUs(h, v);
    c.raw = { latencyEncoded: encodeHistogram(h), connectEncoded: encodeHistogram(createLatencyHistogram()), timeline: [], samples: [], phasesMs: { connectedAt: 0, measureStart: 0, measureEnd: 0 } };
    return c;
  }

  test('pools the repetitions as one histogram of all their values', () => {
    const a = Array.from({ length: 900 }, (_, i) => 100 + i);
    const b = Array.from({ length: 100 }, (_, i) => 5000 + i * 10);
    const merged = mergedLatency([withHistogram(cell({ repetition: 1 }), a), withHistogram(cell({ repetition: 2 }), b)]);
    const all = createLatencyHistogram();
    for (const v of [...a, ...b]) recordUs(all, v);
    assert.deepEqual(merged, summarizeHistogram(all));
    assert.equal(merged!.count, 1000);
  });

  test('leaves out repetitions that did not complete', () => {
    const bad = withHistogram(cell({ repetition: 2 }), [60_000]);
    bad.status = 'errored';
    const merged = mergedLatency([withHistogram(cell({ repetition: 1 }), [100, 200]), bad]);
    assert.equal(merged!.count, 2);
    assert.equal(merged!.maxUs, 200);
  });

  test('undefined when no cell carries a histogram', () => {
    assert.equal(mergedLatency([cell()]), undefined);
    assert.equal(mergedLatency([]), undefined);
  });
});
