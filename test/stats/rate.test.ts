import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { medianRatePerSec } from '../../stats/rate.js';
import { assertThrowsCode } from './assert-close.js';

describe('medianRatePerSec', () => {
  // Hand-computed: drop the partial ends, median of the rest.
  const table: { name: string; counts: number[]; options?: Parameters<typeof medianRatePerSec>[1]; expected: number | null }[] = [
    { name: 'partial ends are ignored', counts: [120, 1000, 1010, 990, 1005, 300], expected: 1002.5 },
    { name: 'odd number of full buckets', counts: [5, 100, 300, 200, 7], expected: 200 },
    { name: 'one full bucket', counts: [1, 50, 2], expected: 50 },
    { name: 'two buckets: nothing full', counts: [10, 20], expected: null },
    { name: 'one bucket', counts: [10], expected: null },
    { name: 'empty timeline', counts: [], expected: null },
    { name: 'all zeros', counts: [0, 0, 0, 0], expected: 0 },
    { name: 'first bucket aligned', counts: [100, 200, 300, 5], options: { firstBucketPartial: false }, expected: 200 },
    { name: 'both ends full', counts: [100, 200], options: { firstBucketPartial: false, lastBucketPartial: false }, expected: 150 },
    { name: 'last bucket full', counts: [1, 10, 30], options: { lastBucketPartial: false }, expected: 20 },
  ];
  for (const c of table) {
    test(`${c.name} → ${c.expected}`, () => assert.equal(medianRatePerSec(c.counts, c.options), c.expected));
  }

  test('rejects negative and non-finite counts', () => {
    assertThrowsCode(() => medianRatePerSec([1, -2, 3]), 'STATS_OUT_OF_RANGE');
    assertThrowsCode(() => medianRatePerSec([1, Number.NaN, 3]), 'STATS_NON_FINITE');
  });
});
