import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { settledValue, type SettleOptions, type TimedSample } from '../../stats/settle.js';
import { assertThrowsCode } from './assert-close.js';

/** Samples every `stepMs` starting at t = 0. */
const series = (values: number[], stepMs = 1000): TimedSample[] => values.map((value, i) => ({ tMs: i * stepMs, value }));

describe('settledValue', () => {
  // All expectations worked by hand from the definition: window [t − windowMs, t],
  // judged once t − t₀ ≥ windowMs, every value within tol% of the window median.
  const opts: SettleOptions = { tolerancePct: 2, windowMs: 3000, timeoutMs: 60_000 };
  const table: { name: string; samples: TimedSample[]; options?: Partial<SettleOptions>; expected: { settled: boolean; value: number; atMs: number } }[] = [
    {
      // Windows: t=3000 [40,80,95,101] no; t=4000 [80,95,101,100] no;
      // t=5000 [95,101,100,102] median 100.5, 95 is 5.5 off > 2.01, no;
      // t=6000 [101,100,102,101] median 101, max deviation 1 ≤ 2.02 → settled.
      name: 'RSS climbing then flat',
      samples: series([40, 80, 95, 101, 100, 102, 101, 101]),
      expected: { settled: true, value: 101, atMs: 6000 },
    },
    {
      // Flat from the start: settles as soon as a full window (t = 3000) exists.
      name: 'flat from the start',
      samples: series([50, 50, 50, 50, 50, 50]),
      expected: { settled: true, value: 50, atMs: 3000 },
    },
    {
      // Growing by 5 per second: never within ±2%; last window t=5000..8000 = 125,130,135,140 → 132.5.
      name: 'steady growth never settles: median of the last window',
      samples: series([100, 105, 110, 115, 120, 125, 130, 135, 140]),
      expected: { settled: false, value: 132.5, atMs: 8000 },
    },
    {
      // Timeout 4500 ignores the flat tail; last window [t=1000..4000] = 105,110,115,120 → 112.5.
      name: 'timeout cuts the series',
      samples: series([100, 105, 110, 115, 120, 120, 120, 120, 120]),
      options: { timeoutMs: 4500 },
      expected: { settled: false, value: 112.5, atMs: 4000 },
    },
    {
      // A window inside tolerance but shorter than windowMs does not count.
      name: 'too short to judge',
      samples: series([10, 10, 10]),
      expected: { settled: false, value: 10, atMs: 2000 },
    },
    {
      name: 'a single sample with windowMs 0 is settled',
      samples: [{ tMs: 0, value: 7 }],
      options: { windowMs: 0 },
      expected: { settled: true, value: 7, atMs: 0 },
    },
    {
      // Median 0 settles only when every value is 0.
      name: 'zeros settle',
      samples: series([0, 0, 0, 0]),
      expected: { settled: true, value: 0, atMs: 3000 },
    },
    {
      name: 'around zero never settles',
      samples: series([0, 1, 0, 1, 0, 0, 1]),
      options: { tolerancePct: 50 },
      expected: { settled: false, value: 0.5, atMs: 6000 },
    },
    {
      // Exactly on the tolerance boundary: |102 − 100|·100 = 200 ≤ 2·100.
      name: 'inclusive tolerance boundary',
      samples: series([98, 100, 102, 100]),
      expected: { settled: true, value: 100, atMs: 3000 },
    },
    {
      // Irregular sampling: window at t=2600 holds t ∈ [600, 2600] = 200,201,199 (t0=0, 2600 ≥ 2000).
      name: 'irregular sample times',
      samples: [{ tMs: 0, value: 120 }, { tMs: 600, value: 200 }, { tMs: 1700, value: 201 }, { tMs: 2600, value: 199 }],
      options: { windowMs: 2000, tolerancePct: 1 },
      expected: { settled: true, value: 200, atMs: 2600 },
    },
    {
      // Two samples share t=1000. Judging after only the first of them would
      // see [10, 10] and settle at 1000; with both, [10, 10, 30] fails, as
      // does t=2000 [10, 30, 10]; t=3000 [10, 10] settles.
      name: 'samples with equal times are judged together',
      samples: [
        { tMs: 0, value: 10 }, { tMs: 1000, value: 10 }, { tMs: 1000, value: 30 },
        { tMs: 2000, value: 10 }, { tMs: 3000, value: 10 }, { tMs: 4000, value: 10 },
      ],
      options: { windowMs: 1000 },
      expected: { settled: true, value: 10, atMs: 3000 },
    },
  ];
  for (const c of table) {
    test(c.name, () => {
      assert.deepEqual(settledValue(c.samples, { ...opts, ...c.options }), c.expected);
    });
  }

  test('Infinity is accepted as "no timeout"', () => {
    const r = settledValue(series([1, 5, 5, 5, 5]), { tolerancePct: 0, windowMs: 3000, timeoutMs: Number.POSITIVE_INFINITY });
    assert.deepEqual(r, { settled: true, value: 5, atMs: 4000 });
  });

  test('rejects empty or late-only series, unsorted times and bad options', () => {
    assertThrowsCode(() => settledValue([], opts), 'STATS_EMPTY_INPUT', 'empty');
    assertThrowsCode(() => settledValue([{ tMs: 5000, value: 1 }], { ...opts, timeoutMs: 1000 }), 'STATS_EMPTY_INPUT', 'late');
    assertThrowsCode(() => settledValue([{ tMs: 2, value: 1 }, { tMs: 1, value: 1 }], opts), 'STATS_UNSORTED');
    assertThrowsCode(() => settledValue([{ tMs: 0, value: Number.NaN }], opts), 'STATS_NON_FINITE');
    assertThrowsCode(() => settledValue(series([1]), { ...opts, tolerancePct: -1 }), 'STATS_OUT_OF_RANGE', 'tol');
    assertThrowsCode(() => settledValue(series([1]), { ...opts, windowMs: Number.NaN }), 'STATS_OUT_OF_RANGE', 'window');
    assertThrowsCode(() => settledValue(series([1]), { ...opts, timeoutMs: -5 }), 'STATS_OUT_OF_RANGE', 'timeout');
  });
});
