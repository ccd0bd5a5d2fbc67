import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMedianDifference, bootstrapMedianRatio } from '../../stats/bootstrap.js';
import { mulberry32, type Rng } from '../../stats/random.js';
import { type NonEmpty } from '../../stats/errors.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

const scripted = (draws: number[]): Rng => {
  let k = 0;
  return () => {
    const v = draws[k++];
    if (v === undefined) throw new Error('scripted rng exhausted');
    return v;
  };
};

describe('bootstrapMedianRatio / bootstrapMedianDifference', () => {
  test('follows the documented draw order (hand-computed with a scripted rng)', () => {
    // x = [1, 2, 3], y = [10, 20, 30], B = 2, draws ⌊d·3⌋:
    //   resample 1: x idx 0,0,1 → [1,1,2] median 1; y idx 2,2,1 → [30,30,20] median 30 → ratio 30
    //   resample 2: x idx 2,2,2 → median 3;        y idx 0,0,0 → median 10      → ratio 10/3
    // Sorted ratios [10/3, 30]; at 50% the type-7 quantiles 0.25 and 0.75 are
    // 10/3 + 0.25·(80/3) = 10 and 10/3 + 0.75·(80/3) = 70/3. Estimate 20/2 = 10.
    const draws = [0, 0, 0.5, 0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0, 0, 0];
    const r = bootstrapMedianRatio([1, 2, 3], [10, 20, 30], { rng: scripted(draws), resamples: 2, confidence: 0.5 });
    assertClose(r.estimate, 10, 'estimate');
    assertClose(r.low, 10, 'low');
    assertClose(r.high, 70 / 3, 'high');
    assert.equal(r.resamples, 2);
    assert.equal(r.confidence, 0.5);
    // Differences with the same draws: 29 and 7 → quantiles 12.5 and 23.5; estimate 18.
    const d = bootstrapMedianDifference([1, 2, 3], [10, 20, 30], { rng: scripted(draws), resamples: 2, confidence: 0.5 });
    assert.deepEqual([d.estimate, d.low, d.high], [18, 12.5, 23.5]);
  });

  // Expected: an independent Python port (mulberry32, statistics.median,
  // numpy.quantile type 7) of the documented procedure.
  const x: NonEmpty<number> = [10, 12, 11, 13, 9, 10.5];
  const y: NonEmpty<number> = [15, 16, 14.5, 17, 15.5];
  const table = [
    { name: 'ratio, seed 1, B = 1000, 95%', fn: bootstrapMedianRatio, seed: 1, resamples: 1000, confidence: 0.95,
      estimate: 1.441860465116279, low: 1.24, high: 1.641025641025641 },
    { name: 'difference, seed 1, B = 1000, 95%', fn: bootstrapMedianDifference, seed: 1, resamples: 1000, confidence: 0.95,
      estimate: 4.75, low: 3, high: 6.5 },
    { name: 'ratio, seed 2024, B = 500, 90%', fn: bootstrapMedianRatio, seed: 2024, resamples: 500, confidence: 0.9,
      estimate: 1.441860465116279, low: 1.2608695652173914, high: 1.6 },
  ];
  for (const c of table) {
    test(`${c.name} matches the reference`, () => {
      const r = c.fn(x, y, { rng: mulberry32(c.seed), resamples: c.resamples, confidence: c.confidence });
      assertClose(r.estimate, c.estimate, 'estimate');
      assertClose(r.low, c.low, 'low');
      assertClose(r.high, c.high, 'high');
    });
  }

  test('the same seed reproduces the interval; defaults are 10 000 resamples at 95%', () => {
    const a = bootstrapMedianRatio(x, y, { rng: mulberry32(5) });
    const b = bootstrapMedianRatio(x, y, { rng: mulberry32(5) });
    assert.deepEqual(a, b);
    assert.equal(a.resamples, 10_000);
    assert.equal(a.confidence, 0.95);
    assert.ok(a.low <= a.estimate && a.estimate <= a.high);
  });

  test('a clear 2× difference gives a ratio interval around 2', () => {
    const base = Array.from({ length: 15 }, (_, i) => 100 + ((i * 7) % 5)) as unknown as NonEmpty<number>;
    const doubled = base.map((v) => 2 * v) as unknown as NonEmpty<number>;
    const r = bootstrapMedianRatio(base, doubled, { rng: mulberry32(11), resamples: 2000 });
    assertClose(r.estimate, 2, 'estimate');
    assert.ok(r.low > 1.9 && r.high < 2.1, `[${r.low}, ${r.high}]`);
  });

  test('degenerate samples collapse the interval to the estimate', () => {
    const one = bootstrapMedianRatio([4], [6], { rng: mulberry32(1), resamples: 50 });
    assert.deepEqual([one.estimate, one.low, one.high], [1.5, 1.5, 1.5]);
    const equal = bootstrapMedianDifference([7, 7, 7], [7, 7], { rng: mulberry32(1), resamples: 50 });
    assert.deepEqual([equal.estimate, equal.low, equal.high], [0, 0, 0]);
    const zeros = bootstrapMedianDifference([0, 0], [0, 0, 0], { rng: mulberry32(1), resamples: 50 });
    assert.deepEqual([zeros.estimate, zeros.low, zeros.high], [0, 0, 0]);
  });

  test('the ratio refuses a denominator sample with zero or negative values', () => {
    assertThrowsCode(() => bootstrapMedianRatio([0, 1, 2], [1, 2, 3], { rng: mulberry32(1) }), 'STATS_NOT_POSITIVE');
    assertThrowsCode(() => bootstrapMedianRatio([-1, 1, 2], [1, 2, 3], { rng: mulberry32(1) }), 'STATS_NOT_POSITIVE');
    // Zeros in the numerator are fine.
    const r = bootstrapMedianRatio([1, 2], [0, 0], { rng: mulberry32(1), resamples: 10 });
    assert.equal(r.estimate, 0);
  });

  test('rejects bad options and samples', () => {
    const rng = mulberry32(1);
    for (const resamples of [0, -5, 1.5, Number.NaN]) {
      assertThrowsCode(() => bootstrapMedianDifference([1], [2], { rng, resamples }), 'STATS_OUT_OF_RANGE', `B=${resamples}`);
    }
    for (const confidence of [0, 1, 2]) {
      assertThrowsCode(() => bootstrapMedianDifference([1], [2], { rng, confidence }), 'STATS_OUT_OF_RANGE', `c=${confidence}`);
    }
    assertThrowsCode(() => bootstrapMedianDifference([] as unknown as NonEmpty<number>, [2], { rng }), 'STATS_EMPTY_INPUT');
    assertThrowsCode(() => bootstrapMedianRatio([1], [Number.NaN], { rng }), 'STATS_NON_FINITE');
  });
});
