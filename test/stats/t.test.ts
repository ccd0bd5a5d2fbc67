import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { regularizedIncompleteBeta, tCdf, tQuantile } from '../../stats/t.js';
import { normalCdf, normalQuantile } from '../../stats/normal.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

// Reference values: SciPy 1.17.1 scipy.stats.t.ppf / t.cdf and
// scipy.special.betainc; the df = 1, 2 rows are also closed forms
// (tan(π(p − ½)) and (2p − 1)/√(2p(1 − p))), and the 0.975 column is the
// familiar textbook table (12.706, 4.303, 3.182, 2.571, 2.228, 2.042, 1.960).
describe('tQuantile', () => {
  const table: [df: number, p: number, expected: number][] = [
    [1, 0.975, 12.706204736174694],
    [1, 0.995, 63.656741162871526],
    [1, 0.9995, 636.6192487687897],
    [1, 1e-6, -318309.8861827435],
    [2, 0.975, 4.302652729749462],
    [2, 0.995, 9.924843200918287],
    [2, 1e-6, -707.1057205259339],
    [3, 0.975, 3.1824463052837078],
    [3, 0.9995, 12.923978636687961],
    [3, 1e-6, -103.29946778041935],
    [5, 0.95, 2.0150483733330233],
    [5, 0.975, 2.5705818356363146],
    [5, 1e-6, -24.771029720515948],
    [10, 0.975, 2.228138851986274],
    [10, 0.995, 3.16927267261695],
    [10, 1e-6, -9.751995490940581],
    [30, 0.975, 2.0422724563012378],
    [30, 0.9995, 3.6459586350420627],
    [1e6, 0.975, 1.959966356814107],
    [1e6, 0.9995, 3.2905364612487222],
    // Welch gives fractional df; below 1 the tails are heavier than Cauchy's.
    [0.5, 0.975, 164.55767348048818],
    [2.5, 0.975, 3.5746548420036817],
    [2.5, 1e-6, -220.17342917823686],
    [7.3, 0.995, 3.451031655622185],
  ];
  for (const [df, p, expected] of table) {
    test(`t(${df}) quantile at ${p} ≈ ${expected}`, () => {
      assertClose(tQuantile(p, df), expected, `df=${df} p=${p}`, 1e-11);
    });
  }

  test('is antisymmetric, 0 at ½, ∓Infinity at 0 and 1', () => {
    for (const df of [1, 2, 3.7, 12, 400]) {
      assert.equal(tQuantile(0.5, df), 0);
      assert.equal(tQuantile(0, df), Number.NEGATIVE_INFINITY);
      assert.equal(tQuantile(1, df), Number.POSITIVE_INFINITY);
      for (const p of [0.001, 0.2]) assertClose(tQuantile(1 - p, df), -tQuantile(p, df), `df=${df}`, 1e-12);
    }
  });

  test('an extreme upper quantile is precise when asked as the negated lower one', () => {
    // 1 − 1e-12 is stored as 1 − 1.000088900582341e-12, so tQuantile(1 − 1e-12, 1)
    // answers for that p; −tQuantile(1e-12, 1) = cot(π·1e-12) answers the question asked.
    assertClose(-tQuantile(1e-12, 1), 1 / Math.tan(Math.PI * 1e-12), 'df 1', 1e-14);
    assertClose(tQuantile(1 - 1e-12, 1), 1 / Math.tan(Math.PI * (1 - (1 - 1e-12))), 'df 1 via 1 − p', 1e-12);
  });

  test('inverts tCdf, also far in the tail where Bonferroni-split alphas live', () => {
    for (const df of [1, 1.3, 2, 2.6, 4, 9.5, 23, 150]) {
      for (const p of [1e-13, 1e-9, 1.1e-5, 0.00044, 0.02, 0.3]) {
        assertClose(tCdf(tQuantile(p, df), df), p, `df=${df} p=${p}`, 1e-11);
      }
    }
  });

  test('approaches the normal as df grows, and df = Infinity is the normal', () => {
    assertClose(tQuantile(0.975, 1e6), normalQuantile(0.975), 'df 1e6', 1e-5);
    assert.equal(tQuantile(0.975, Number.POSITIVE_INFINITY), normalQuantile(0.975));
    // Larger df: monotonically closer to z.
    let previous = Number.POSITIVE_INFINITY;
    for (const df of [1, 2, 5, 30, 1e3, 1e8]) {
      const q = tQuantile(0.995, df);
      assert.ok(q < previous && q > normalQuantile(0.995), `df=${df}: ${q}`);
      previous = q;
    }
  });

  test('rejects p outside [0, 1] and df ≤ 0 or NaN', () => {
    for (const p of [-0.1, 1.1, Number.NaN]) assertThrowsCode(() => tQuantile(p, 5), 'STATS_OUT_OF_RANGE', `p=${p}`);
    for (const df of [0, -1, Number.NaN, Number.NEGATIVE_INFINITY]) {
      assertThrowsCode(() => tQuantile(0.9, df), 'STATS_OUT_OF_RANGE', `df=${df}`);
    }
  });
});

describe('tCdf', () => {
  const table: [df: number, t: number, expected: number, relTol: number][] = [
    [1, 1, 0.75, 1e-15],
    [1, -3, 0.10241638234956672, 1e-14],
    [2, 1, 0.7886751345948129, 1e-14],
    [2, -5, 0.018874775675311862, 1e-13],
    [3, 2, 0.9303370157205785, 1e-14],
    [3, -10, 0.0010641995292070751, 1e-13],
    [5, -2.015048373, 0.05000000002124592, 1e-12],
    [10, 1.372, 0.8999723293002853, 1e-14],
    [30, -2.75, 0.004999947263465592, 1e-12],
    [1e6, 1.96, 0.9750019662073651, 1e-11],
    [2.5, -4, 0.019506487920659125, 1e-12],
    [7.3, 0.7, 0.7471914299068708, 1e-14],
    [0.5, -3, 0.1836540779929717, 1e-13],
  ];
  for (const [df, t, expected, relTol] of table) {
    test(`P(T ≤ ${t} | df ${df}) ≈ ${expected}`, () => assertClose(tCdf(t, df), expected, `df=${df} t=${t}`, relTol));
  }

  test('handles 0, ±Infinity, NaN and huge |t|', () => {
    assert.equal(tCdf(0, 4), 0.5);
    assert.equal(tCdf(Number.POSITIVE_INFINITY, 4), 1);
    assert.equal(tCdf(Number.NEGATIVE_INFINITY, 4), 0);
    assert.ok(Number.isNaN(tCdf(Number.NaN, 4)));
    // Cauchy tail 1/(πt) keeps its relative precision far out.
    assertClose(tCdf(-1e200, 1), 1 / (Math.PI * 1e200), 'df 1, t −1e200', 1e-12);
    assert.equal(tCdf(-1e200, 3), 0);
  });

  test('df = Infinity is the normal; df 1e6 and 1e9 agree with it to the 1/df term', () => {
    assert.equal(tCdf(-1.5, Number.POSITIVE_INFINITY), normalCdf(-1.5));
    for (const df of [1e6, 1e9]) assertClose(tCdf(-1.5, df), normalCdf(-1.5), `df=${df}`, 20 / df);
  });

  test('rejects df ≤ 0', () => {
    assertThrowsCode(() => tCdf(1, 0), 'STATS_OUT_OF_RANGE');
    assertThrowsCode(() => tCdf(1, -3), 'STATS_OUT_OF_RANGE');
  });
});

describe('regularizedIncompleteBeta', () => {
  const table: [x: number, a: number, b: number, expected: number][] = [
    [0.3, 0.5, 0.5, 0.36901011956554536], // = (2/π)·asin(√0.3)
    [0.4, 2, 3, 0.5248], // a polynomial: 1 − Σ… by hand
    [0.9, 5, 0.5, 0.3166429150200122],
    [0.5, 10, 10, 0.5],
    [0.01, 0.1, 7, 0.7961237717987596],
    [0.999, 100, 0.5, 0.6550435163244294],
  ];
  for (const [x, a, b, expected] of table) {
    test(`I_${x}(${a}, ${b}) ≈ ${expected}`, () => assertClose(regularizedIncompleteBeta(x, a, b), expected, 'I', 1e-13));
  }

  test('is 0 at x = 0, 1 at x = 1, and rejects bad arguments', () => {
    assert.equal(regularizedIncompleteBeta(0, 3, 4), 0);
    assert.equal(regularizedIncompleteBeta(1, 3, 4), 1);
    for (const [x, a, b] of [[-0.1, 1, 1], [1.1, 1, 1], [0.5, 0, 1], [0.5, 1, -2], [Number.NaN, 1, 1], [0.5, Number.POSITIVE_INFINITY, 1]]) {
      assertThrowsCode(() => regularizedIncompleteBeta(x!, a!, b!), 'STATS_OUT_OF_RANGE', `${x}, ${a}, ${b}`);
    }
  });
});
