import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MIN_VALUES,
  alphaSpent,
  expectedSettlingLook,
  logRatioInterval,
  lookAlpha,
  sequentialVerdict,
  type SequentialResult,
  type SpendingFunction,
} from '../../stats/sequential.js';
import { mulberry32, type Rng } from '../../stats/random.js';
import { type NonEmpty } from '../../stats/errors.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

// Reference values: SciPy 1.17.1, scipy.stats.ttest_ind(log b, log a,
// equal_var=False).confidence_interval(level) exponentiated, and the
// spending functions evaluated in Python (math.log, scipy.stats.norm).

describe('alphaSpent (Lan–DeMets)', () => {
  const table: [spending: SpendingFunction, t: number, expected: number, relTol: number][] = [
    ['pocock', 1 / 12, 0.0066911366752892484, 1e-14],
    ['pocock', 0.25, 0.01786870097543942, 1e-14],
    ['pocock', 0.5, 0.031005725347913876, 1e-14],
    ['obrien-fleming', 1 / 12, 1.1251159796146072e-11, 1e-8],
    ['obrien-fleming', 0.25, 8.857543832140365e-5, 1e-9],
    ['obrien-fleming', 0.5, 0.005574596680784402, 1e-10],
  ];
  for (const [spending, t, expected, relTol] of table) {
    test(`${spending} at t = ${t.toFixed(4)} spends ${expected}`, () => {
      assertClose(alphaSpent(t, 0.05, spending), expected, `${spending} ${t}`, relTol);
    });
  }

  test('spends 0 at t = 0 and exactly alpha at t = 1, increasing in between; Pocock is the default', () => {
    for (const spending of ['pocock', 'obrien-fleming'] as const) {
      assert.equal(alphaSpent(0, 0.05, spending), 0);
      assert.equal(alphaSpent(1, 0.05, spending), 0.05);
      let previous = 0;
      for (let k = 1; k <= 20; k++) {
        const a = alphaSpent(k / 20, 0.05, spending);
        assert.ok(a > previous, `${spending} k=${k}`);
        previous = a;
      }
    }
    assert.equal(alphaSpent(0.3, 0.05), alphaSpent(0.3, 0.05, 'pocock'));
  });

  test('rejects t outside [0, 1], alpha outside (0, 1) and unknown names', () => {
    for (const t of [-0.1, 1.5, Number.NaN]) assertThrowsCode(() => alphaSpent(t, 0.05), 'STATS_OUT_OF_RANGE', `t=${t}`);
    for (const a of [0, 1, -0.05, Number.NaN]) assertThrowsCode(() => alphaSpent(0.5, a), 'STATS_OUT_OF_RANGE', `alpha=${a}`);
    assertThrowsCode(() => alphaSpent(0.5, 0.05, 'haybittle' as SpendingFunction), 'STATS_OUT_OF_RANGE');
  });
});

describe('lookAlpha', () => {
  test('the looks of all comparisons together spend exactly alpha (the Bonferroni budget)', () => {
    for (const spending of ['pocock', 'obrien-fleming'] as const) {
      for (const [maxLooks, comparisons] of [[1, 1], [12, 1], [12, 6], [5, 3]] as const) {
        let total = 0;
        for (let look = 1; look <= maxLooks; look++) total += comparisons * lookAlpha({ look, maxLooks, comparisons, spending });
        assertClose(total, 0.05, `${spending} K=${maxLooks} m=${comparisons}`, 1e-12);
      }
    }
  });

  test('look 3 of 12 with 6 comparisons, Pocock: (α(3/12) − α(2/12))/6', () => {
    assertClose(lookAlpha({ look: 3, maxLooks: 12, comparisons: 6 }), 0.0008795142545915489, 'alpha', 1e-12);
    // O'Brien–Fleming keeps most of its alpha for the last look.
    assertClose(lookAlpha({ look: 12, maxLooks: 12, spending: 'obrien-fleming' }), 0.009353266048533308, 'OBF last', 1e-9);
  });

  test('rejects looks outside [1, maxLooks] and non-integer counts', () => {
    for (const look of [0, 13, 2.5, Number.NaN]) {
      assertThrowsCode(() => lookAlpha({ look, maxLooks: 12 }), 'STATS_OUT_OF_RANGE', `look=${look}`);
    }
    for (const maxLooks of [0, 1.5]) assertThrowsCode(() => lookAlpha({ look: 1, maxLooks }), 'STATS_OUT_OF_RANGE', `K=${maxLooks}`);
    for (const comparisons of [0, -1, 2.5]) {
      assertThrowsCode(() => lookAlpha({ look: 1, maxLooks: 2, comparisons }), 'STATS_OUT_OF_RANGE', `m=${comparisons}`);
    }
    assertThrowsCode(() => lookAlpha({ look: 1, maxLooks: 2, alpha: 1 }), 'STATS_OUT_OF_RANGE', 'alpha');
  });
});

describe('logRatioInterval (Welch on logs)', () => {
  const table: {
    name: string;
    a: NonEmpty<number>;
    b: NonEmpty<number>;
    confidence: number;
    ratio: number;
    low: number;
    high: number;
    df: number;
  }[] = [
    {
      name: '3 vs 4 values, 95%',
      a: [100, 110, 105], b: [120, 125, 130, 118], confidence: 0.95,
      ratio: 1.1738659173292418, low: 1.0667985103088504, high: 1.2916789614453874, df: 4.182220643857896,
    },
    {
      name: 'unequal n and noise, 99%',
      a: [5.9, 6.1, 6.0, 5.8, 6.3], b: [9.4, 9.9, 9.6], confidence: 0.99,
      ratio: 1.6005076921525327, low: 1.4738380450733175, high: 1.738064016736653, df: 5.123181151730713,
    },
    {
      name: 'one side constant: the other carries the interval, df = n − 1',
      a: [100, 100, 100], b: [120, 125, 130, 118], confidence: 0.95,
      ratio: 1.2316268685031604, low: 1.1494558266288326, high: 1.3196720640128787, df: 3,
    },
    {
      name: 'a side with MAD 0 but a spread (SD > 0), 90%',
      a: [100, 100, 100, 130], b: [101, 99, 102, 100.5, 98], confidence: 0.9,
      ratio: 0.9373546484425982, low: 0.8037172339784595, high: 1.093212512823254, df: 3.071305583618974,
    },
    {
      name: '2 vs 2 values',
      a: [2.0, 2.2], b: [3.1, 2.9], confidence: 0.95,
      ratio: 1.4293991108790498, low: 1.0796388782142772, high: 1.892467805125026, df: 1.78988489982092,
    },
  ];
  for (const c of table) {
    test(`${c.name} matches SciPy`, () => {
      const r = logRatioInterval(c.a, c.b, c.confidence);
      assert.ok(r.ok, 'interval expected');
      assertClose(r.ratio, c.ratio, 'ratio', 1e-12);
      assertClose(r.low, c.low, 'low', 1e-11);
      assertClose(r.high, c.high, 'high', 1e-11);
      assertClose(r.df, c.df, 'df', 1e-11);
      assertClose(Math.exp(r.logRatio), r.ratio, 'logRatio', 1e-14);
      assertClose(Math.exp(r.logRatio - r.logHalfWidth), r.low, 'logHalfWidth', 1e-14);
      assert.equal(r.confidence, c.confidence);
      assert.deepEqual([r.nA, r.nB], [c.a.length, c.b.length]);
    });
  }

  test('swapping the sides inverts the ratio and its bounds; a common scale cancels', () => {
    const a: NonEmpty<number> = [5.9, 6.1, 6.0, 5.8, 6.3];
    const b: NonEmpty<number> = [9.4, 9.9, 9.6];
    const ab = logRatioInterval(a, b, 0.95);
    const ba = logRatioInterval(b, a, 0.95);
    const scaled = logRatioInterval([5.9e6, 6.1e6, 6.0e6, 5.8e6, 6.3e6], [9.4e6, 9.9e6, 9.6e6], 0.95);
    assert.ok(ab.ok && ba.ok && scaled.ok);
    assertClose(ba.ratio, 1 / ab.ratio, 'ratio', 1e-14);
    assertClose(ba.low, 1 / ab.high, 'low', 1e-13);
    assertClose(ba.high, 1 / ab.low, 'high', 1e-13);
    assertClose(scaled.low, ab.low, 'scaled low', 1e-12);
    assertClose(scaled.high, ab.high, 'scaled high', 1e-12);
  });

  test('one value on a side: no interval, the point estimate still given', () => {
    const r = logRatioInterval([4], [2, 8], 0.95);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'too-few-values');
    assertClose(r.ratio, 1, 'geomean(2, 8) / 4'); // √16 = 4
  });

  test('all values identical on both sides: no-spread, even when the sides differ', () => {
    const same = logRatioInterval([7, 7, 7], [7, 7], 0.95);
    assert.deepEqual(same, { ok: false, reason: 'no-spread', ratio: 1, nA: 3, nB: 2 });
    const apart = logRatioInterval([7, 7, 7], [14, 14], 0.95);
    assert.equal(!apart.ok && apart.reason, 'no-spread');
    assertClose(apart.ratio, 2, 'ratio');
  });

  test('refuses values ≤ 0, empty and non-finite samples, and bad levels', () => {
    assertThrowsCode(() => logRatioInterval([1, 0, 2], [1, 2], 0.95), 'STATS_NOT_POSITIVE', 'zero in a');
    assertThrowsCode(() => logRatioInterval([1, 2], [3, -1], 0.95), 'STATS_NOT_POSITIVE', 'negative in b');
    assertThrowsCode(() => logRatioInterval([] as unknown as NonEmpty<number>, [1, 2], 0.95), 'STATS_EMPTY_INPUT');
    assertThrowsCode(() => logRatioInterval([1, Number.NaN], [1, 2], 0.95), 'STATS_NON_FINITE');
    assertThrowsCode(() => logRatioInterval([1, Number.POSITIVE_INFINITY], [1, 2], 0.95), 'STATS_NON_FINITE');
    for (const c of [0, 1, 1.2]) assertThrowsCode(() => logRatioInterval([1, 2], [1, 2], c), 'STATS_OUT_OF_RANGE', `c=${c}`);
  });
});

describe('sequentialVerdict', () => {
  const base = { look: 3, maxLooks: 12, minEffectPct: 5 };
  const a = [100, 101, 99, 100.5, 99.5];

  test('its interval is logRatioInterval at level 1 − lookAlpha (SciPy reference)', () => {
    const r = sequentialVerdict({
      a: [5.9, 6.1, 6.0, 5.8, 6.3], b: [9.4, 9.9, 9.6], look: 3, maxLooks: 12, comparisons: 6, minEffectPct: 5,
    });
    assertClose(r.alphaLook, 0.0008795142545915489, 'alphaLook', 1e-12);
    assertClose(r.level, 1 - 0.0008795142545915489, 'level', 1e-15);
    assertClose(r.low, 1.3870768951617598, 'low', 1e-10);
    assertClose(r.high, 1.8467792820820377, 'high', 1e-10);
    assertClose(r.df, 5.123181151730713, 'df', 1e-12);
    assert.equal(r.verdict, 'different');
    assert.equal(r.direction, 'b-higher');
    assert.equal(r.reason, null);
    assertClose(r.bandHigh, 1.05, 'bandHigh', 1e-15);
    assertClose(r.bandLow, 1 / 1.05, 'bandLow', 1e-15);
  });

  // Each outcome of the decision table, with hand-made data.
  type Expect = [SequentialResult['verdict'], SequentialResult['direction'], SequentialResult['reason']];
  const near1 = [100.2, 99.6, 100.9, 99.8, 100.1];
  const cases: { name: string; a: number[]; b: number[]; minEffectPct?: number; minValues?: number; expect: Expect }[] = [
    { name: 'twice as high: different, b-higher', a, b: a.map((v, i) => 2 * v + i), expect: ['different', 'b-higher', null] },
    { name: 'half: different, b-lower', a, b: a.map((v, i) => v / 2 + i / 10), expect: ['different', 'b-lower', null] },
    { name: 'the same within 1%: equivalent', a, b: near1, expect: ['equivalent', null, null] },
    {
      name: 'noisy: the interval covers the band',
      a: [80, 120, 100, 95], b: [70, 130, 110, 90], expect: ['undecided', null, 'covers-band'],
    },
    {
      name: 'about 5% apart: the interval crosses an edge',
      a, b: a.map((v, i) => v * 1.05 + (i % 2 ? 0.4 : -0.4)), expect: ['undecided', null, 'crosses-band-edge'],
    },
    {
      name: 'minEffectPct 0: no equivalence, only "is it 1"',
      a, b: near1, minEffectPct: 0, expect: ['undecided', null, 'covers-band'],
    },
    {
      name: 'minEffectPct 0: a clear 3% difference is different',
      a, b: a.map((v, i) => v * 1.03 + (i % 2 ? 0.05 : -0.05)), minEffectPct: 0, expect: ['different', 'b-higher', null],
    },
    {
      name: 'two values on a side: too few by default',
      a: [100, 101], b: [200, 202, 201], expect: ['undecided', null, 'too-few-values'],
    },
    {
      name: 'two values a side with minValues 2: decided',
      a: [100, 101], b: [200, 202], minValues: 2, expect: ['different', 'b-higher', null],
    },
    { name: 'no value on a side', a: [], b: [1, 2, 3], expect: ['undecided', null, 'too-few-values'] },
    { name: 'all equal on both sides: no-spread', a: [5, 5, 5], b: [9, 9, 9], expect: ['undecided', null, 'no-spread'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = sequentialVerdict({ ...base, a: c.a, b: c.b, minEffectPct: c.minEffectPct ?? 5, minValues: c.minValues });
      assert.deepEqual([r.verdict, r.direction, r.reason], c.expect, JSON.stringify(r));
      assert.deepEqual([r.nA, r.nB], [c.a.length, c.b.length]);
      if (r.reason === 'too-few-values' || r.reason === 'no-spread') {
        assert.deepEqual([r.low, r.high, r.df], [null, null, null]);
      } else {
        assert.ok(r.low! <= r.ratio! && r.ratio! <= r.high!, JSON.stringify(r));
      }
    });
  }

  test('gives the point estimate even when it cannot decide, except with an empty side', () => {
    assertClose(sequentialVerdict({ ...base, a: [2, 8], b: [8] }).ratio, 2, 'geomean 4 vs 8');
    assert.equal(sequentialVerdict({ ...base, a: [], b: [8] }).ratio, null);
  });

  test('swapping a and b mirrors the verdict (the band is symmetric on the log scale)', () => {
    const b = a.map((v, i) => 1.3 * v + i);
    const ab = sequentialVerdict({ ...base, a, b });
    const ba = sequentialVerdict({ ...base, a: b, b: a });
    assert.deepEqual([ab.verdict, ab.direction, ba.verdict, ba.direction], ['different', 'b-higher', 'different', 'b-lower']);
    assertClose(ba.low!, 1 / ab.high!, 'low', 1e-12);
  });

  test('more comparisons and earlier looks widen the interval', () => {
    const b = a.map((v, i) => 1.1 * v + i);
    const one = sequentialVerdict({ ...base, a, b, comparisons: 1 });
    const six = sequentialVerdict({ ...base, a, b, comparisons: 6 });
    assert.ok(six.low! < one.low! && six.high! > one.high!);
    const obfEarly = sequentialVerdict({ ...base, a, b, spending: 'obrien-fleming', look: 1 });
    const obfLate = sequentialVerdict({ ...base, a, b, spending: 'obrien-fleming', look: 12 });
    assert.ok(obfEarly.high! - obfEarly.low! > obfLate.high! - obfLate.low!);
  });

  test('rejects values ≤ 0, bad options and looks beyond maxLooks', () => {
    assertThrowsCode(() => sequentialVerdict({ ...base, a: [1, 2, 0], b: [1, 2, 3] }), 'STATS_NOT_POSITIVE', 'zero');
    assertThrowsCode(() => sequentialVerdict({ ...base, a: [-1], b: [1, 2, 3] }), 'STATS_NOT_POSITIVE', 'negative even when n < 3');
    assertThrowsCode(() => sequentialVerdict({ ...base, a: [1, Number.NaN], b: [1] }), 'STATS_NON_FINITE', 'NaN');
    assertThrowsCode(() => sequentialVerdict({ ...base, a, b: a, look: 13 }), 'STATS_OUT_OF_RANGE', 'look > maxLooks');
    for (const minEffectPct of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assertThrowsCode(() => sequentialVerdict({ ...base, a, b: a, minEffectPct }), 'STATS_OUT_OF_RANGE', `δ=${minEffectPct}`);
    }
    for (const minValues of [1, 2.5]) {
      assertThrowsCode(() => sequentialVerdict({ ...base, a, b: a, minValues }), 'STATS_OUT_OF_RANGE', `minValues=${minValues}`);
    }
    assertThrowsCode(() => sequentialVerdict({ ...base, a, b: a, comparisons: 0 }), 'STATS_OUT_OF_RANGE', 'comparisons');
  });

  test('does not mutate its input', () => {
    const x = [3, 1, 2];
    const y = [6, 5, 4];
    sequentialVerdict({ ...base, a: x, b: y });
    assert.deepEqual([x, y], [[3, 1, 2], [6, 5, 4]]);
  });
});

describe('expectedSettlingLook', () => {
  test('plans the look at which the expected data settle', () => {
    // σ = √ln(1.0025) ≈ 0.04997; at look 1 (n = 3, df 4, α₁ = 0.00669)
    // the half-width is 0.2106 and ln 1.3 − 0.2106 = 0.052 > ln 1.05 = 0.0488 (SciPy).
    const plan = (ratio: number, cvPct: number, minEffectPct: number) => expectedSettlingLook({ ratio, cvPct, minEffectPct, maxLooks: 12 });
    assert.deepEqual(plan(1.3, 5, 5), { look: 1, n: 3, verdict: 'different' });
    assert.deepEqual(plan(1 / 1.3, 5, 5), { look: 1, n: 3, verdict: 'different' });
    assert.deepEqual(plan(1, 2, 10), { look: 1, n: 3, verdict: 'equivalent' });
    // Half-width at n = 7 is 0.0936 < ln 1.1 = 0.0953 with 5% noise: look 5.
    assert.deepEqual(plan(1, 5, 10), { look: 5, n: 7, verdict: 'equivalent' });
  });

  test('says null when no look within the plan settles', () => {
    assert.equal(expectedSettlingLook({ ratio: 1.05, cvPct: 5, minEffectPct: 5, maxLooks: 12 }), null, 'on the edge');
    assert.equal(expectedSettlingLook({ ratio: 1, cvPct: 5, minEffectPct: 0, maxLooks: 12 }), null, 'no band');
    assert.equal(expectedSettlingLook({ ratio: 1.3, cvPct: 40, minEffectPct: 5, maxLooks: 4 }), null, 'too noisy');
  });

  test('counts values per look as told', () => {
    const plan = expectedSettlingLook({ ratio: 1, cvPct: 5, minEffectPct: 10, maxLooks: 12, valuesPerLook: 2, valuesAtFirstLook: 2 });
    assert.ok(plan !== null && plan.n === 2 + (plan.look - 1) * 2, JSON.stringify(plan));
  });

  test('rejects bad assumptions', () => {
    for (const ratio of [0, -1, Number.NaN]) {
      const bad = () => expectedSettlingLook({ ratio, cvPct: 5, minEffectPct: 5, maxLooks: 12 });
      assertThrowsCode(bad, 'STATS_OUT_OF_RANGE', `ratio=${ratio}`);
    }
    assertThrowsCode(() => expectedSettlingLook({ ratio: 1, cvPct: 0, minEffectPct: 5, maxLooks: 12 }), 'STATS_OUT_OF_RANGE', 'cv');
    assertThrowsCode(() => expectedSettlingLook({ ratio: 1, cvPct: 5, minEffectPct: -1, maxLooks: 12 }), 'STATS_OUT_OF_RANGE', 'δ');
    assertThrowsCode(() => expectedSettlingLook({ ratio: 1, cvPct: 5, minEffectPct: 5, maxLooks: 0 }), 'STATS_OUT_OF_RANGE', 'K');
    const oneValue = () => expectedSettlingLook({ ratio: 1, cvPct: 5, minEffectPct: 5, maxLooks: 4, valuesAtFirstLook: 1 });
    assertThrowsCode(oneValue, 'STATS_OUT_OF_RANGE', 'n₁');
  });
});

// ---------------------------------------------------------------------------
// Simulations. Everything is seeded (mulberry32), so the rates below are
// fixed numbers that a change to the method would move; the assertions are
// the error-rate and power claims of the doc comments.

/** A standard normal draw (Box–Muller, one of the pair). */
function normal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A positive value with geometric mean `centre`. */
type Noise = (rng: Rng, centre: number) => number;

/** Log-normal with coefficient of variation cvPct: ln value ~ N(ln centre, ln(1 + cv²)). */
const logNormal = (cvPct: number): Noise => {
  const sigma = Math.sqrt(Math.log1p((cvPct / 100) ** 2));
  return (rng, centre) => centre * Math.exp(sigma * normal(rng));
};

/** Heavier tail: log-normal, and 5% of repetitions 1.5× slower (a busy neighbour, a GC pause). */
const withOutliers = (cvPct: number): Noise => {
  const base = logNormal(cvPct);
  return (rng, centre) => base(rng, centre) * (rng() < 0.05 ? 1.5 : 1);
};

const MAX_LOOKS = 12;

interface PairRun {
  verdict: SequentialResult['verdict'];
  direction: SequentialResult['direction'];
  look: number;
}

/**
 * One adaptive run of one pair, the way the caller will run it: one value
 * per side per round (b's lost with probability `loseB`), a look after every
 * round from round DEFAULT_MIN_VALUES on (look = round − 2), stopping at the
 * first settled verdict or after MAX_LOOKS looks.
 */
function runPair(
  rng: Rng,
  side: { noiseA: Noise; noiseB: Noise; centreA: number; centreB: number; loseB?: number },
  minEffectPct: number,
  spending: SpendingFunction = 'pocock',
): PairRun {
  const a: number[] = [];
  const b: number[] = [];
  const firstLookRound = DEFAULT_MIN_VALUES;
  for (let round = 1; ; round++) {
    a.push(side.noiseA(rng, side.centreA));
    const value = side.noiseB(rng, side.centreB);
    if (rng() >= (side.loseB ?? 0)) b.push(value);
    if (round < firstLookRound) continue;
    const look = round - firstLookRound + 1;
    const r = sequentialVerdict({ a, b, look, maxLooks: MAX_LOOKS, minEffectPct, spending });
    if (r.verdict !== 'undecided' || look === MAX_LOOKS) return { verdict: r.verdict, direction: r.direction, look };
  }
}

function simulate(seed: number, runs: number, run: (rng: Rng) => PairRun): PairRun[] {
  const rng = mulberry32(seed);
  return Array.from({ length: runs }, () => run(rng));
}

const share = (runs: PairRun[], pred: (r: PairRun) => boolean): number => runs.filter(pred).length / runs.length;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

describe('sequentialVerdict under adaptive looks (simulation)', () => {
  const RUNS = 2000;

  // minEffectPct 0 is the strictest setting: 'different' then only needs the
  // interval to exclude 1, so this measures the type I error of the
  // sequential test itself, across all 12 looks.
  const aa: { name: string; noise: Noise; seed: number }[] = [
    { name: 'log-normal 3% CV', noise: logNormal(3), seed: 101 },
    { name: 'log-normal 10% CV', noise: logNormal(10), seed: 102 },
    { name: 'log-normal 20% CV', noise: logNormal(20), seed: 103 },
    { name: '10% CV with 5% of values 1.5× (outliers)', noise: withOutliers(10), seed: 104 },
  ];
  for (const c of aa) {
    test(`A/A, ${c.name}: 'different' in at most 5% of ${RUNS} runs (alpha 0.05, band 0)`, (t: TestContext) => {
      const runs = simulate(c.seed, RUNS, (rng) => runPair(rng, { noiseA: c.noise, noiseB: c.noise, centreA: 100, centreB: 100 }, 0));
      const rate = share(runs, (r) => r.verdict === 'different');
      t.diagnostic(`false 'different': ${pct(rate)}`);
      assert.ok(rate <= 0.05, `false 'different' rate ${pct(rate)}`);
    });
  }

  test("A/A, O'Brien–Fleming spending, 10% CV: at most 5%", (t: TestContext) => {
    const noise = logNormal(10);
    const runs = simulate(111, RUNS, (rng) => runPair(rng, { noiseA: noise, noiseB: noise, centreA: 100, centreB: 100 }, 0, 'obrien-fleming'));
    const rate = share(runs, (r) => r.verdict === 'different');
    t.diagnostic(`false 'different': ${pct(rate)}`);
    assert.ok(rate <= 0.05, `false 'different' rate ${pct(rate)}`);
  });

  test("A/A with unequal noise (3% vs 10% CV) and unequal n (30% of b's values lost): at most 5%", (t: TestContext) => {
    const runs = simulate(105, RUNS, (rng) =>
      runPair(rng, { noiseA: logNormal(3), noiseB: logNormal(10), centreA: 100, centreB: 100, loseB: 0.3 }, 0),
    );
    const rate = share(runs, (r) => r.verdict === 'different');
    t.diagnostic(`false 'different': ${pct(rate)}`);
    assert.ok(rate <= 0.05, `false 'different' rate ${pct(rate)}`);
  });

  test('A/A with a 5% band: never a false difference, equivalence when the noise allows it', (t: TestContext) => {
    const same = (noise: Noise) => ({ noiseA: noise, noiseB: noise, centreA: 100, centreB: 100 });
    const low = simulate(106, RUNS, (rng) => runPair(rng, same(logNormal(3)), 5));
    const high = simulate(107, RUNS, (rng) => runPair(rng, same(logNormal(20)), 5));
    const diffLow = share(low, (r) => r.verdict === 'different');
    const diffHigh = share(high, (r) => r.verdict === 'different');
    const equivLow = share(low, (r) => r.verdict === 'equivalent');
    t.diagnostic(`3% CV: different ${pct(diffLow)}, equivalent ${pct(equivLow)}; 20% CV: different ${pct(diffHigh)}`);
    assert.ok(diffLow <= 0.05 && diffHigh <= 0.05);
    assert.ok(equivLow >= 0.5, `equivalent ${pct(equivLow)}`);
  });

  test('power: a true 30% difference with 5% noise is different, right direction, by look 4 in most runs', (t: TestContext) => {
    const up = simulate(108, RUNS, (rng) => runPair(rng, { noiseA: logNormal(5), noiseB: logNormal(5), centreA: 100, centreB: 130 }, 5));
    const down = simulate(109, RUNS, (rng) => runPair(rng, { noiseA: logNormal(5), noiseB: logNormal(5), centreA: 130, centreB: 100 }, 5));
    const upBy4 = share(up, (r) => r.verdict === 'different' && r.direction === 'b-higher' && r.look <= 4);
    const downBy4 = share(down, (r) => r.verdict === 'different' && r.direction === 'b-lower' && r.look <= 4);
    const byLook1 = share(up, (r) => r.verdict === 'different' && r.look === 1);
    const wrong = share([...up, ...down], (r) => r.verdict === 'equivalent') +
      share(up, (r) => r.direction === 'b-lower') + share(down, (r) => r.direction === 'b-higher');
    t.diagnostic(
      `by look 4 (round 6): ${pct(upBy4)} (b higher), ${pct(downBy4)} (b lower); ` +
        `at look 1 (3 values): ${pct(byLook1)}; wrong: ${pct(wrong)}`,
    );
    assert.ok(upBy4 >= 0.9 && downBy4 >= 0.9, `${pct(upBy4)} ${pct(downBy4)}`);
    assert.equal(wrong, 0);
  });

  test('power: two identical distributions with 2% noise and a 10% band are equivalent by the last look', (t: TestContext) => {
    const runs = simulate(110, RUNS, (rng) => runPair(rng, { noiseA: logNormal(2), noiseB: logNormal(2), centreA: 100, centreB: 100 }, 10));
    const equivalent = share(runs, (r) => r.verdict === 'equivalent');
    const byLook2 = share(runs, (r) => r.verdict === 'equivalent' && r.look <= 2);
    t.diagnostic(`equivalent: ${pct(equivalent)} (by look 2: ${pct(byLook2)})`);
    assert.ok(equivalent >= 0.95, pct(equivalent));
  });
});

describe('budgeted runs: 4 runtimes × 5 workloads, two labels the same runtime (simulation)', () => {
  // Geometric-mean level of each label's primary figure per workload; 'bun-2'
  // is bun again (the A/A pair). Units differ per workload (µs/msg, msgs/s,
  // bytes/connection); only ratios matter.
  const labels = ['bun', 'node-ws', 'node-uws', 'bun-2'] as const;
  type Label = (typeof labels)[number];
  const levels = (bun: number, nodeWs: number, nodeUws: number): Record<Label, number> =>
    ({ bun, 'node-ws': nodeWs, 'node-uws': nodeUws, 'bun-2': bun });
  const workloads: { name: string; centre: Record<Label, number>; noise: Noise; minEffectPct: number }[] = [
    { name: 'echo cpuUsPerMsg', centre: levels(5.9, 9.5, 5.0), noise: logNormal(5), minEffectPct: 5 },
    { name: 'echo-rate msgsPerSec', centre: levels(160e3, 100e3, 170e3), noise: logNormal(8), minEffectPct: 5 },
    { name: 'broadcast cpuUsPerMsg', centre: levels(1.0, 2.6, 1.04), noise: logNormal(12), minEffectPct: 10 },
    { name: 'http msgsPerSec', centre: levels(50e3, 30e3, 48e3), noise: logNormal(3), minEffectPct: 5 },
    { name: 'idle bytesPerConnection', centre: levels(40e3, 60e3, 20e3), noise: withOutliers(15), minEffectPct: 10 },
  ];
  const pairs: [Label, Label][] = [];
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) pairs.push([labels[i]!, labels[j]!]);
  const BUDGET_CELLS = 200; // e.g. 3 minutes of ~0.9 s cells
  const LOSE_CELL = 0.05; // a cell that errors yields no value

  interface Outcome { workload: number; a: Label; b: Label; verdict: SequentialResult['verdict']; direction: SequentialResult['direction'] }

  function budgetedRun(seed: number): { outcomes: Outcome[]; cells: number; rounds: number } {
    const rng = mulberry32(seed);
    const values = workloads.map(() => new Map<Label, number[]>(labels.map((l) => [l, []])));
    const settled = workloads.map(() => new Map<string, Outcome>());
    let cells = 0;
    let round = 0;
    const open = (w: number) => pairs.filter(([x, y]) => !settled[w]!.has(`${x}|${y}`));
    while (round < MAX_LOOKS + DEFAULT_MIN_VALUES - 1 && cells < BUDGET_CELLS && workloads.some((_, w) => open(w).length > 0)) {
      round++;
      // Run every label that still has an undecided pair, workload by workload, until the budget ends.
      for (let w = 0; w < workloads.length && cells < BUDGET_CELLS; w++) {
        const needed = new Set(open(w).flat());
        for (const label of labels) {
          if (!needed.has(label) || cells >= BUDGET_CELLS) continue;
          cells++;
          const value = workloads[w]!.noise(rng, workloads[w]!.centre[label]);
          if (rng() >= LOSE_CELL) values[w]!.get(label)!.push(value);
        }
      }
      if (round < DEFAULT_MIN_VALUES) continue;
      const look = round - DEFAULT_MIN_VALUES + 1;
      for (let w = 0; w < workloads.length; w++) {
        for (const [x, y] of open(w)) {
          const r = sequentialVerdict({
            a: values[w]!.get(x)!, b: values[w]!.get(y)!, look, maxLooks: MAX_LOOKS,
            minEffectPct: workloads[w]!.minEffectPct, comparisons: pairs.length,
          });
          if (r.verdict === 'undecided') continue;
          settled[w]!.set(`${x}|${y}`, { workload: w, a: x, b: y, verdict: r.verdict, direction: r.direction });
        }
      }
    }
    const outcomes = workloads.flatMap((_, w) =>
      pairs.map(([x, y]) => settled[w]!.get(`${x}|${y}`) ?? { workload: w, a: x, b: y, verdict: 'undecided' as const, direction: null }),
    );
    return { outcomes, cells, rounds: round };
  }

  /** Whether a verdict contradicts the true ratio of the simulated runtimes. */
  function wrong(o: Outcome): boolean {
    const w = workloads[o.workload]!;
    const logRatio = Math.log(w.centre[o.b] / w.centre[o.a]);
    const band = Math.log1p(w.minEffectPct / 100);
    if (o.verdict === 'different') return o.direction === 'b-higher' ? !(logRatio > band) : !(logRatio < -band);
    if (o.verdict === 'equivalent') return !(Math.abs(logRatio) < band);
    return false;
  }

  test('at most 5% of the A/A pairs end different; no family has a wrong verdict more often than alpha', (t: TestContext) => {
    const runs = Array.from({ length: 20 }, (_, i) => budgetedRun(7000 + i));
    const all = runs.flatMap((r) => r.outcomes);
    const aa = all.filter((o) => o.a === 'bun' && o.b === 'bun-2');
    assert.equal(aa.length, 20 * workloads.length);
    const aaDifferent = aa.filter((o) => o.verdict === 'different').length / aa.length;
    const aaEquivalent = aa.filter((o) => o.verdict === 'equivalent').length / aa.length;
    const families = runs.flatMap((r) => workloads.map((_, w) => r.outcomes.filter((o) => o.workload === w)));
    const familiesWrong = families.filter((f) => f.some(wrong)).length / families.length;
    const real = all.filter((o) => !(o.a === 'bun' && o.b === 'bun-2'));
    const realSettled = real.filter((o) => o.verdict !== 'undecided').length / real.length;
    t.diagnostic(
      `A/A pairs: different ${pct(aaDifferent)}, equivalent ${pct(aaEquivalent)}; ` +
        `families (run × workload) with a wrong verdict: ${pct(familiesWrong)}; other pairs settled: ${pct(realSettled)}; ` +
        `cells used per run: ${runs.map((r) => r.cells).join(' ')}`,
    );
    assert.ok(aaDifferent <= 0.05, `A/A different ${pct(aaDifferent)}`);
    assert.ok(familiesWrong <= 0.05, `families with a wrong verdict ${pct(familiesWrong)}`);
    // The clear differences (≥ 1.5×) are found in every run.
    for (const r of runs) {
      const o = r.outcomes.find((x) => x.workload === 0 && x.a === 'bun' && x.b === 'node-ws')!;
      assert.deepEqual([o.verdict, o.direction], ['different', 'b-higher']);
    }
  });
});
