import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAD_NORMAL_SCALE,
  cvPct,
  madPct,
  madRaw,
  madScaled,
  max,
  mean,
  median,
  min,
  quantile,
  stddev,
  summarize,
} from '../../stats/descriptive.js';
import { StatsError, isNonEmpty, type NonEmpty } from '../../stats/errors.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

// Expected values from NumPy 2.4.6 / SciPy 1.17.1: np.median, np.mean,
// np.std(ddof=1), np.quantile (default method 'linear' = type 7),
// scipy.stats.median_abs_deviation (raw MAD). Checked by hand where noted.
interface Case {
  name: string;
  values: NonEmpty<number>;
  median: number;
  mean: number;
  stddev: number | null;
  madRaw: number;
  min: number;
  max: number;
  madPct: number | null;
  cvPct: number | null;
}

const cases: Case[] = [
  {
    // Hand: sorted 2,4,4,4,5,5,7,9; median (4+5)/2; deviations .5 .5 .5 .5 .5 2.5 2.5 4.5 → MAD .5;
    // Σ(x−5)² = 32, sd = √(32/7).
    name: 'classic 8 values',
    values: [2, 4, 4, 4, 5, 5, 7, 9],
    median: 4.5, mean: 5, stddev: Math.sqrt(32 / 7), madRaw: 0.5, min: 2, max: 9,
    madPct: 11.11111111111111, cvPct: 42.7617987059879,
  },
  {
    name: '1..6 (even n)',
    values: [1, 2, 3, 4, 5, 6],
    median: 3.5, mean: 3.5, stddev: 1.8708286933869707, madRaw: 1.5, min: 1, max: 6,
    madPct: 42.857142857142854, cvPct: 53.45224838248488,
  },
  {
    name: '1..7 (odd n)',
    values: [1, 2, 3, 4, 5, 6, 7],
    median: 4, mean: 4, stddev: 2.160246899469287, madRaw: 2, min: 1, max: 7,
    madPct: 50, cvPct: 54.006172486732176,
  },
  {
    name: 'unsorted input with fractions',
    values: [10.5, 3.25, 8, 1, 7.75],
    median: 7.75, mean: 6.1, stddev: 3.867331121070447, madRaw: 2.75, min: 1, max: 10.5,
    madPct: 35.483870967741936, cvPct: 63.39887083722044,
  },
  {
    // A large offset (RSS-like bytes) must not cancel: two-pass stddev.
    name: 'large offset',
    values: [1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4],
    median: 1e9 + 2.5, mean: 1e9 + 2.5, stddev: 1.2909944487358056, madRaw: 1, min: 1e9 + 1, max: 1e9 + 4,
    madPct: 9.999999975000001e-8, cvPct: 1.2909944455083194e-7,
  },
  {
    name: 'n = 1: no stddev, no CV',
    values: [42],
    median: 42, mean: 42, stddev: null, madRaw: 0, min: 42, max: 42, madPct: 0, cvPct: null,
  },
  {
    name: 'all equal: zero spread',
    values: [7, 7, 7, 7],
    median: 7, mean: 7, stddev: 0, madRaw: 0, min: 7, max: 7, madPct: 0, cvPct: 0,
  },
  {
    name: 'all zeros: relative spreads undefined',
    values: [0, 0, 0],
    median: 0, mean: 0, stddev: 0, madRaw: 0, min: 0, max: 0, madPct: null, cvPct: null,
  },
  {
    // Hand: more than half the values equal the median → MAD = 0 although stddev > 0.
    name: 'MAD = 0 with an outlier',
    values: [5, 5, 5, 5, 100],
    median: 5, mean: 24, stddev: Math.sqrt((4 * 19 * 19 + 76 * 76) / 4), madRaw: 0, min: 5, max: 100,
    madPct: 0, cvPct: (Math.sqrt((4 * 19 * 19 + 76 * 76) / 4) / 24) * 100,
  },
  {
    // Hand: mean −2, deviations −1, 0, 1 → sd 1; relative spreads use |centre|.
    name: 'negative values',
    values: [-3, -2, -1],
    median: -2, mean: -2, stddev: 1, madRaw: 1, min: -3, max: -1, madPct: 50, cvPct: 50,
  },
];

function maybeClose(actual: number | null, expected: number | null, label: string): void {
  if (expected === null) assert.equal(actual, null, label);
  else assertClose(actual, expected, label);
}

describe('descriptive statistics', () => {
  for (const c of cases) {
    test(`${c.name}: each function matches the reference values`, () => {
      assertClose(median(c.values), c.median, 'median');
      assertClose(mean(c.values), c.mean, 'mean');
      maybeClose(stddev(c.values), c.stddev, 'stddev');
      assertClose(madRaw(c.values), c.madRaw, 'madRaw');
      assertClose(madScaled(c.values), c.madRaw * 1.4826, 'madScaled');
      assert.equal(min(c.values), c.min, 'min');
      assert.equal(max(c.values), c.max, 'max');
      maybeClose(madPct(c.values), c.madPct, 'madPct');
      maybeClose(cvPct(c.values), c.cvPct, 'cvPct');
    });

    test(`${c.name}: summarize agrees with the single functions`, () => {
      const s = summarize(c.values);
      assert.equal(s.n, c.values.length);
      assertClose(s.median, c.median, 'median');
      assertClose(s.mean, c.mean, 'mean');
      assert.equal(s.min, c.min);
      assert.equal(s.max, c.max);
      maybeClose(s.stddev, c.stddev, 'stddev');
      assertClose(s.mad, c.madRaw, 'mad');
      maybeClose(s.madPct, c.madPct, 'madPct');
      maybeClose(s.cvPct, c.cvPct, 'cvPct');
    });
  }

  test('MAD scale constant is 1/Φ⁻¹(0.75) to 4 decimals (R mad())', () => {
    // Φ⁻¹(0.75) = 0.6744897501960817 (scipy.stats.norm.ppf(0.75)).
    assert.equal(MAD_NORMAL_SCALE, 1.4826);
    assertClose(1 / 0.6744897501960817, MAD_NORMAL_SCALE, 'constant', 1e-4);
  });

  test('inputs are not mutated', () => {
    const values: NonEmpty<number> = [3, 1, 2];
    summarize(values);
    median(values);
    quantile(values, 0.3);
    madRaw(values);
    assert.deepEqual(values, [3, 1, 2]);
  });
});

describe('quantile (type 7, linear interpolation)', () => {
  // NumPy np.quantile(values, p) default method; the 1..6 row matches tinybench's test.
  const table: { values: NonEmpty<number>; p: number; expected: number }[] = [
    { values: [1, 2, 3, 4, 5, 6], p: 0, expected: 1 },
    { values: [1, 2, 3, 4, 5, 6], p: 0.25, expected: 2.25 },
    { values: [1, 2, 3, 4, 5, 6], p: 0.5, expected: 3.5 },
    { values: [1, 2, 3, 4, 5, 6], p: 0.75, expected: 4.75 },
    { values: [1, 2, 3, 4, 5, 6], p: 0.99, expected: 5.95 },
    { values: [1, 2, 3, 4, 5, 6], p: 1, expected: 6 },
    { values: [2, 4, 4, 4, 5, 5, 7, 9], p: 0.1, expected: 3.4 },
    { values: [2, 4, 4, 4, 5, 5, 7, 9], p: 0.9, expected: 7.6 },
    { values: [2, 4, 4, 4, 5, 5, 7, 9], p: 0.99, expected: 8.86 },
    { values: [1, 2, 3, 4, 5, 6, 7], p: 0.99, expected: 6.94 },
    { values: [10.5, 3.25, 8, 1, 7.75], p: 0.9, expected: 9.5 },
    { values: [42], p: 0, expected: 42 },
    { values: [42], p: 0.37, expected: 42 },
    { values: [42], p: 1, expected: 42 },
    { values: [0, 0, 0], p: 0.5, expected: 0 },
  ];
  for (const { values, p, expected } of table) {
    test(`quantile([${values.join(', ')}], ${p}) is ${expected}`, () => {
      assertClose(quantile(values, p), expected, 'quantile');
    });
  }

  test('interpolation does not overflow across ±MAX_VALUE', () => {
    // The middle of [−MAX, MAX] at p = 0.75 is MAX/2; b − a would be Infinity.
    const q = quantile([-Number.MAX_VALUE, Number.MAX_VALUE], 0.75);
    assertClose(q, Number.MAX_VALUE / 2, 'p75');
  });

  test('p outside [0, 1] or NaN is rejected', () => {
    for (const p of [-0.01, 1.01, Number.NaN]) {
      assertThrowsCode(() => quantile([1, 2], p), 'STATS_OUT_OF_RANGE', `p = ${p}`);
    }
  });
});

describe('invalid input', () => {
  const fns: [string, (v: NonEmpty<number>) => unknown][] = [
    ['median', median], ['mean', mean], ['stddev', stddev], ['madRaw', madRaw], ['madScaled', madScaled],
    ['min', min], ['max', max], ['madPct', madPct], ['cvPct', cvPct], ['summarize', summarize],
    ['quantile', (v) => quantile(v, 0.5)],
  ];
  for (const [name, fn] of fns) {
    test(`${name} throws STATS_EMPTY_INPUT for an empty array that bypassed the type`, () => {
      assertThrowsCode(() => fn([] as unknown as NonEmpty<number>), 'STATS_EMPTY_INPUT');
    });
    test(`${name} throws STATS_NON_FINITE for NaN and Infinity`, () => {
      assertThrowsCode(() => fn([1, Number.NaN, 3]), 'STATS_NON_FINITE', 'NaN');
      assertThrowsCode(() => fn([1, Number.POSITIVE_INFINITY]), 'STATS_NON_FINITE', 'Infinity');
    });
  }

  test('the error is a StatsError carrying a hint for empty input', () => {
    try {
      median([] as unknown as NonEmpty<number>);
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(err instanceof StatsError);
      assert.equal(err.name, 'StatsError');
      assert.match(err.message, /median: needs at least one value/);
      assert.ok(err.hint);
    }
  });

  test('isNonEmpty narrows plain arrays before calling a statistic', () => {
    const values: number[] = [];
    assert.equal(isNonEmpty(values), false);
    values.push(3);
    assert.equal(isNonEmpty(values), true);
    if (isNonEmpty(values)) assert.equal(median(values), 3);
  });
});
