import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hodgesLehmann } from '../../stats/hodges-lehmann.js';
import { type NonEmpty } from '../../stats/errors.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

const range = (n: number, f: (i: number) => number): NonEmpty<number> =>
  Array.from({ length: n }, (_, i) => f(i)) as unknown as NonEmpty<number>;

// Expected values: an independent Python implementation (brute-force sorted
// differences, statistics.median, exact U counts in integer arithmetic;
// scipy.stats.norm for the normal case), plus the hand computations noted.
describe('hodgesLehmann', () => {
  const table: {
    name: string;
    x: NonEmpty<number>;
    y: NonEmpty<number>;
    confidence?: number;
    shift: number;
    low: number;
    high: number;
    achieved: number;
    method: 'exact' | 'normal';
  }[] = [
    {
      // R ?wilcox.test example, wilcox.test(x, y, conf.int = TRUE):
      // difference in location 0.305, 95% CI −0.15 … 0.76. Our shift is y − x,
      // so R's x is passed second.
      name: 'R wilcox.test documentation example',
      x: [1.15, 0.88, 0.9, 0.74, 1.21],
      y: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
      shift: 0.305, low: -0.15, high: 0.76, achieved: 0.9600399600399601, method: 'exact',
    },
    {
      name: 'R example at 90%',
      x: [1.15, 0.88, 0.9, 0.74, 1.21],
      y: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
      confidence: 0.9,
      shift: 0.305, low: -0.08, high: 0.72, achieved: 0.9007659007659008, method: 'exact',
    },
    {
      // Hand: differences 1,2,2,3,3,3,4,4,5 → median 3. 3 vs 3 cannot reach
      // 95% (P(U = 0) = 1/20 > 0.025): widest interval [1, 5] at 1 − 2/20.
      name: 'separated 3 vs 3 falls back to the full range',
      x: [1, 2, 3], y: [4, 5, 6],
      shift: 3, low: 1, high: 5, achieved: 0.9, method: 'exact',
    },
    {
      // Hand: critical U for 5 vs 5 at 0.05 is 2 → k = 3, interval
      // [D₍₃₎, D₍₂₃₎], achieved 1 − 2·4/252.
      name: '5 vs 5 at 95%',
      x: [10.2, 11.1, 9.8, 10.5, 10.9], y: [12.0, 12.4, 11.3, 12.9, 11.8],
      shift: 1.5, low: 0.7, high: 2.6, achieved: 1 - 8 / 252, method: 'exact',
    },
    {
      // Hand: at 99% k = 1 (critical U 0): 1 − 2/252.
      name: '5 vs 5 at 99%',
      x: [10.2, 11.1, 9.8, 10.5, 10.9], y: [12.0, 12.4, 11.3, 12.9, 11.8], confidence: 0.99,
      shift: 1.5, low: 0.2, high: 3.1, achieved: 1 - 2 / 252, method: 'exact',
    },
    {
      // Hand: one difference; P(U = 0) = 1/2 → confidence 0.
      name: 'n1 = n2 = 1', x: [3], y: [5],
      shift: 2, low: 2, high: 2, achieved: 0, method: 'exact',
    },
    {
      name: 'all values equal → zero shift, zero-width interval',
      x: [4, 4, 4], y: [4, 4, 4, 4],
      shift: 0, low: 0, high: 0, achieved: 1 - 2 / 35, method: 'exact',
    },
    {
      name: '20 vs 20 (k = 128, matching the critical U 127)',
      x: range(20, (i) => i), y: range(20, (i) => i + 0.5),
      shift: 0.5, low: -3.5, high: 4.5, achieved: 0.9509096748106276, method: 'exact',
    },
    {
      name: '60 vs 55 with ties uses the normal approximation (k = 1300)',
      x: range(60, (i) => (i * 7919) % 101), y: range(55, (i) => ((i * 7919) % 101) + 15),
      shift: 15, low: 3, high: 26, achieved: 0.950286772012465, method: 'normal',
    },
  ];

  for (const c of table) {
    test(`${c.name}: shift ${c.shift} [${c.low}, ${c.high}]`, () => {
      const r = hodgesLehmann(c.x, c.y, c.confidence === undefined ? {} : { confidence: c.confidence });
      assert.equal(r.method, c.method);
      assertClose(r.shift, c.shift, 'shift', 1e-12);
      assertClose(r.low, c.low, 'low', 1e-12);
      assertClose(r.high, c.high, 'high', 1e-12);
      assertClose(r.confidence, c.achieved, 'confidence', 1e-9);
    });
  }

  test('swapping the samples negates the shift and mirrors the interval', () => {
    const x: NonEmpty<number> = [10.2, 11.1, 9.8, 10.5, 10.9];
    const y: NonEmpty<number> = [12.0, 12.4, 11.3, 12.9, 11.8, 13.1];
    const a = hodgesLehmann(x, y);
    const b = hodgesLehmann(y, x);
    assertClose(b.shift, -a.shift, 'shift');
    assertClose(b.low, -a.high, 'low');
    assertClose(b.high, -a.low, 'high');
    assert.equal(b.confidence, a.confidence);
  });

  test('the interval contains the estimate and widens with the confidence level', () => {
    const x = range(12, (i) => 100 + ((i * 37) % 13));
    const y = range(14, (i) => 104 + ((i * 29) % 11));
    let previousWidth = -1;
    for (const confidence of [0.5, 0.8, 0.9, 0.95, 0.99]) {
      const r = hodgesLehmann(x, y, { confidence });
      assert.ok(r.low <= r.shift && r.shift <= r.high, `contains at ${confidence}`);
      assert.ok(r.confidence >= confidence, `achieved ≥ requested at ${confidence}`);
      assert.ok(r.high - r.low >= previousWidth, `widens at ${confidence}`);
      previousWidth = r.high - r.low;
    }
  });

  test('rejects bad confidence and bad samples', () => {
    for (const confidence of [0, 1, 1.5, Number.NaN]) {
      assertThrowsCode(() => hodgesLehmann([1, 2], [3, 4], { confidence }), 'STATS_OUT_OF_RANGE', `${confidence}`);
    }
    assertThrowsCode(() => hodgesLehmann([] as unknown as NonEmpty<number>, [1]), 'STATS_EMPTY_INPUT');
    assertThrowsCode(() => hodgesLehmann([1], [Number.POSITIVE_INFINITY]), 'STATS_NON_FINITE');
  });
});
