import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANN_WHITNEY_EXACT_BELOW_N,
  mannWhitneyCriticalU,
  mannWhitneyExactPmf,
  mannWhitneyU,
} from '../../stats/mann-whitney.js';
import { type NonEmpty } from '../../stats/errors.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

const range = (n: number, f: (i: number) => number): NonEmpty<number> =>
  Array.from({ length: n }, (_, i) => f(i)) as unknown as NonEmpty<number>;

describe('mannWhitneyCriticalU (two-sided, exact)', () => {
  // Published tables of critical U (e.g. Siegel & Castellan 1988, Table J;
  // any statistics textbook's Mann–Whitney table), recomputed with exact
  // integer counts in Python (Fraction) to confirm each entry.
  const table: [n1: number, n2: number, alpha: number, critical: number | null][] = [
    [3, 3, 0.05, null],
    [4, 4, 0.05, 0],
    [5, 5, 0.05, 2],
    [6, 6, 0.05, 5],
    [7, 7, 0.05, 8],
    [8, 8, 0.05, 13],
    [9, 9, 0.05, 17],
    [10, 10, 0.05, 23],
    [15, 15, 0.05, 64],
    [20, 20, 0.05, 127],
    [5, 10, 0.05, 8],
    [10, 5, 0.05, 8],
    [10, 20, 0.05, 55],
    [8, 12, 0.05, 22],
    [2, 8, 0.05, 0],
    [3, 5, 0.05, 0],
    [1, 20, 0.05, null],
    [5, 5, 0.01, 0],
    [10, 10, 0.01, 16],
    [20, 20, 0.01, 105],
    [3, 3, 0.1, 0], // smallest two-sided p for 3 vs 3 is exactly 2/20 = 0.1
  ];
  for (const [n1, n2, alpha, critical] of table) {
    test(`n1=${n1}, n2=${n2}, alpha=${alpha} → ${critical}`, () => {
      assert.equal(mannWhitneyCriticalU(n1, n2, alpha), critical);
    });
  }
});

describe('mannWhitneyExactPmf', () => {
  test('n1 = n2 = 3: counts of partitions in a 3×3 box over C(6, 3) = 20', () => {
    // Hand: number of partitions of u into at most 3 parts each ≤ 3.
    const counts = [1, 1, 2, 3, 3, 3, 3, 2, 1, 1];
    const pmf = mannWhitneyExactPmf(3, 3);
    assert.equal(pmf.length, 10);
    counts.forEach((c, u) => assertClose(pmf[u]!, c / 20, `P(U=${u})`));
  });

  test('n1 = n2 = 5: P(U ≤ 2) = 4/252 and P(U ≤ 3) = 7/252', () => {
    const pmf = mannWhitneyExactPmf(5, 5);
    assertClose(pmf[0]! + pmf[1]! + pmf[2]!, 4 / 252, 'P(U≤2)');
    assertClose(pmf[0]! + pmf[1]! + pmf[2]! + pmf[3]!, 7 / 252, 'P(U≤3)');
  });

  test('is symmetric, sums to 1 and does not depend on which sample is first', () => {
    for (const [n1, n2] of [[1, 1], [1, 7], [4, 9], [12, 5], [49, 49]] as const) {
      const pmf = mannWhitneyExactPmf(n1, n2);
      assert.equal(pmf.length, n1 * n2 + 1);
      assertClose(pmf.reduce((s, v) => s + v, 0), 1, `sum ${n1}×${n2}`, 1e-12);
      for (let u = 0; u < pmf.length; u++) assertClose(pmf[u]!, pmf[pmf.length - 1 - u]!, `symmetry u=${u}`, 1e-9);
      assert.deepEqual(pmf, mannWhitneyExactPmf(n2, n1));
    }
  });

  test('rejects sizes that are not positive integers', () => {
    for (const [n1, n2] of [[0, 3], [3, -1], [2.5, 3], [Number.NaN, 2]] as const) {
      assertThrowsCode(() => mannWhitneyExactPmf(n1, n2), 'STATS_OUT_OF_RANGE', `${n1}, ${n2}`);
    }
  });
});

describe('mannWhitneyU', () => {
  // Expected u and p from SciPy 1.17.1 scipy.stats.mannwhitneyu(x, y,
  // alternative='two-sided', method=…, use_continuity=True); u is SciPy's
  // statistic (U of x).
  const table: {
    name: string;
    x: NonEmpty<number>;
    y: NonEmpty<number>;
    u: number;
    p: number;
    method: 'exact' | 'normal';
  }[] = [
    {
      // R's ?wilcox.test example: W = 35, one-sided p = 0.1272 → two-sided 0.2544.
      name: 'R wilcox.test documentation example',
      x: [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46],
      y: [1.15, 0.88, 0.9, 0.74, 1.21],
      u: 35, p: 0.2544122544122544, method: 'exact',
    },
    // Hand: complete separation of 5 vs 5, p = 2/C(10, 5) = 2/252.
    { name: 'complete separation 5 vs 5', x: [1, 2, 3, 4, 5], y: [6, 7, 8, 9, 10], u: 0, p: 2 / 252, method: 'exact' },
    // Hand: the smallest possible two-sided p for 3 vs 3 is 2/C(6, 3) = 0.1.
    { name: 'complete separation 3 vs 3', x: [1, 2, 3], y: [4, 5, 6], u: 0, p: 0.1, method: 'exact' },
    { name: 'reversed separation 3 vs 3', x: [4, 5, 6], y: [1, 2, 3], u: 9, p: 0.1, method: 'exact' },
    // Hand: U = 2 is the 0.05 critical value for 5 vs 5: p = 2·4/252.
    { name: 'at the critical value 5 vs 5', x: [1, 2, 3, 4, 7], y: [5, 6, 8, 9, 10], u: 2, p: 8 / 252, method: 'exact' },
    { name: 'n1 = 1', x: [5], y: [1, 2, 3, 4, 6, 7], u: 4, p: 0.8571428571428571, method: 'exact' },
    { name: 'interleaved', x: [1, 3, 5, 7], y: [2, 4, 6, 8], u: 6, p: 0.6857142857142857, method: 'exact' },
    {
      name: 'unequal sizes 4 vs 7',
      x: [12.1, 15.3, 9.8, 20.2],
      y: [8.1, 7.7, 11.0, 6.5, 9.9, 10.4, 5.5],
      u: 25, p: 0.04242424242424242, method: 'exact',
    },
    {
      name: '12 vs 15',
      x: range(12, (i) => 1 + 2 * i),
      y: range(15, (i) => 4.5 + 2 * i),
      u: 55, p: 0.09261015677760866, method: 'exact',
    },
    {
      name: '49 vs 49 is still exact',
      x: range(49, (i) => i),
      y: range(49, (i) => i + 3.5),
      u: 1035, p: 0.24224097561872057, method: 'exact',
    },
    {
      name: 'ties switch to normal with tie correction',
      x: [1, 2, 2, 3, 4],
      y: [2, 3, 3, 5, 6, 7],
      u: 6, p: 0.11390314458853068, method: 'normal',
    },
    {
      name: 'many ties, 15 vs 16',
      x: [1, 1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8],
      y: [3, 4, 4, 5, 5, 6, 6, 7, 8, 8, 8, 9, 9, 10, 10, 11],
      u: 49, p: 0.005100370931090463, method: 'normal',
    },
    {
      name: 'zeros against small counts',
      x: [0, 0, 0, 0, 0, 0],
      y: [0, 0, 1, 2, 0, 3],
      u: 9, p: 0.0740099699862347, method: 'normal',
    },
    {
      name: 'no ties but n ≥ 50 → normal',
      x: range(60, (i) => i),
      y: range(50, (i) => i + 10.5),
      u: 1225, p: 0.0993887683400945, method: 'normal',
    },
    {
      name: 'ties and n ≥ 50',
      x: range(60, (i) => (i * 7919) % 101),
      y: range(55, (i) => ((i * 7919) % 101) + 15),
      u: 1219, p: 0.01593154835115731, method: 'normal',
    },
    // Hand: σ = 0 when every value is equal → no evidence, p = 1.
    { name: 'all values equal', x: [5, 5, 5], y: [5, 5], u: 3, p: 1, method: 'normal' },
  ];

  for (const c of table) {
    test(`${c.name}: u = ${c.u}, p ≈ ${c.p} (${c.method})`, () => {
      const r = mannWhitneyU(c.x, c.y);
      assert.equal(r.method, c.method);
      assert.equal(r.u, c.u);
      assertClose(r.p, c.p, 'p', 1e-9);
    });
  }

  test('forcing the normal approximation on tie-free small samples (SciPy asymptotic)', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], { method: 'normal' });
    assert.deepEqual({ u: r.u, method: r.method }, { u: 0, method: 'normal' });
    assertClose(r.p, 0.012185780355344813, 'p', 1e-9);
    const big = mannWhitneyU(range(49, (i) => i), range(49, (i) => i + 3.5), { method: 'normal' });
    assertClose(big.p, 0.24105266263877945, 'p 49 vs 49', 1e-9);
  });

  test('forcing exact beyond the automatic threshold (SciPy exact)', () => {
    const r = mannWhitneyU(range(60, (i) => i), range(50, (i) => i + 10.5), { method: 'exact' });
    assert.equal(r.method, 'exact');
    assertClose(r.p, 0.09952441861508364, 'p', 1e-9);
  });

  test('exact is refused when there are ties', () => {
    assertThrowsCode(() => mannWhitneyU([1, 2, 2], [2, 3, 4], { method: 'exact' }), 'STATS_TIES_NOT_EXACT');
  });

  test('swapping the samples gives u₂ = n₁n₂ − u₁ and the same p', () => {
    const x: NonEmpty<number> = [12.1, 15.3, 9.8, 20.2];
    const y: NonEmpty<number> = [8.1, 7.7, 11.0, 6.5, 9.9, 10.4, 5.5];
    const a = mannWhitneyU(x, y);
    const b = mannWhitneyU(y, x);
    assert.equal(b.u, x.length * y.length - a.u);
    assertClose(b.p, a.p, 'p');
  });

  test('n1 = n2 = 1: p = 1 whichever is larger', () => {
    assert.deepEqual(mannWhitneyU([1], [2]), { u: 0, p: 1, method: 'exact' });
    assert.deepEqual(mannWhitneyU([2], [1]), { u: 1, p: 1, method: 'exact' });
  });

  test('the automatic exact threshold is R’s (both n < 50)', () => {
    assert.equal(MANN_WHITNEY_EXACT_BELOW_N, 50);
  });

  test('rejects empty and non-finite samples', () => {
    assertThrowsCode(() => mannWhitneyU([] as unknown as NonEmpty<number>, [1]), 'STATS_EMPTY_INPUT');
    assertThrowsCode(() => mannWhitneyU([1], [] as unknown as NonEmpty<number>), 'STATS_EMPTY_INPUT');
    assertThrowsCode(() => mannWhitneyU([1, Number.NaN], [1]), 'STATS_NON_FINITE');
  });
});
