import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { linearRegression, type Point } from '../../stats/regression.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

const pts = (xs: number[], ys: number[]): Point[] => xs.map((x, i) => ({ x, y: ys[i]! }));

describe('linearRegression', () => {
  // Expected: SciPy 1.17.1 scipy.stats.linregress (slope, intercept, rvalue²).
  const table: { name: string; points: Point[]; slope: number; intercept: number; r2: number }[] = [
    {
      name: 'RSS bytes against connections (≈ 9 KiB per connection)',
      points: pts([0, 100, 200, 400, 800], [50e6, 50.9e6, 51.75e6, 53.6e6, 57.3e6]),
      slope: 9137.5, intercept: 49968750, r2: 0.9998671486737318,
    },
    {
      name: 'noisy line',
      points: pts([1, 2, 3, 4, 5, 6], [2.1, 3.9, 6.2, 7.8, 10.1, 12.2]),
      slope: 2.02, intercept: -0.02, r2: 0.9982106661074996,
    },
    // Hand: two points define the line exactly.
    { name: 'two points', points: pts([1, 3], [5, 9]), slope: 2, intercept: 3, r2: 1 },
    { name: 'falling line', points: pts([0, 1, 2, 3], [10, 8, 6, 4]), slope: -2, intercept: 10, r2: 1 },
    {
      name: 'large offsets in both axes',
      points: pts([1e5, 1e5 + 1, 1e5 + 2, 1e5 + 3], [1e9 + 3, 1e9 + 5, 1e9 + 7.5, 1e9 + 9]),
      slope: 2.05, intercept: 999795003.05, r2: 0.9917404129793511,
    },
    // Hand: y constant → slope 0, intercept the constant, residuals 0 → r² defined as 1.
    { name: 'constant y', points: pts([1, 2, 3], [7, 7, 7]), slope: 0, intercept: 7, r2: 1 },
    // Hand: symmetric cloud → Sxy = 0 → slope 0, r² 0.
    { name: 'no linear relation', points: pts([0, 1, 2, 1], [1, 0, 1, 2]), slope: 0, intercept: 1, r2: 0 },
  ];
  for (const c of table) {
    test(`${c.name}: slope ${c.slope}, intercept ${c.intercept}, r² ${c.r2}`, () => {
      const fit = linearRegression(c.points);
      assert.ok(fit.ok);
      assertClose(fit.slope, c.slope, 'slope', 1e-10);
      assertClose(fit.intercept, c.intercept, 'intercept', 1e-10);
      assertClose(fit.r2, c.r2, 'r2', 1e-10);
      assert.equal(fit.n, c.points.length);
    });
  }

  test('no fit for fewer than two points, with the reason', () => {
    assert.deepEqual(linearRegression([]), { ok: false, reason: 'too-few-points', n: 0 });
    assert.deepEqual(linearRegression([{ x: 1, y: 2 }]), { ok: false, reason: 'too-few-points', n: 1 });
  });

  test('no fit when every x is equal, whatever the ys', () => {
    assert.deepEqual(linearRegression(pts([5, 5, 5], [1, 2, 3])), { ok: false, reason: 'constant-x', n: 3 });
    assert.deepEqual(linearRegression(pts([0, 0], [0, 0])), { ok: false, reason: 'constant-x', n: 2 });
  });

  test('rejects non-finite coordinates', () => {
    assertThrowsCode(() => linearRegression(pts([1, Number.NaN], [1, 2])), 'STATS_NON_FINITE');
    assertThrowsCode(() => linearRegression(pts([1, 2], [1, Number.POSITIVE_INFINITY])), 'STATS_NON_FINITE');
  });
});
