// Student's t distribution, for the Welch intervals in sequential.ts.
//
// Degrees of freedom are real (Welch–Satterthwaite gives fractional df) and
// may be Infinity (the standard normal). Everything rests on the regularized
// incomplete beta function, computed by its continued fraction.

import { StatsError } from './errors.js';
import { normalCdf, normalQuantile } from './normal.js';

/**
 * Student's t cumulative distribution P(T ≤ t) for `df` degrees of freedom.
 *
 * Through the regularized incomplete beta function (Abramowitz & Stegun
 * 26.5.27 and 26.7.1): for t ≥ 0, P(T > t) = ½·I_x(df/2, ½) with
 * x = df / (df + t²), evaluated by `regularizedIncompleteBeta`. df = 1 uses
 * the closed form (Cauchy) ½ + atan(t)/π; df = Infinity is `normalCdf`.
 * Above df = 1e6 the continued fraction loses digits, and Fisher's
 * expansion in 1/df (Fisher 1926, "Expansion of Student's integral in powers
 * of n⁻¹") to the 1/df² term is used instead. The lower tail (t < 0) is
 * computed directly, so small tail probabilities keep their relative
 * precision: against scipy.stats.t.cdf within 1e-13 for df ≤ 1000, growing
 * to about 5e-11 at df = 1e6; above that, `normalCdf`'s own tail accuracy
 * (about 5e-10 near |t| = 6). An upper tail 1 − P is limited by the
 * subtraction, as for `normalCdf`.
 *
 * @param t any number; NaN gives NaN, ±Infinity give 0 and 1
 * @param df degrees of freedom, > 0, real or Infinity
 * @throws StatsError STATS_OUT_OF_RANGE for df ≤ 0 or NaN
 */
export function tCdf(t: number, df: number): number {
  checkDf(df, 'tCdf');
  if (Number.isNaN(t)) return Number.NaN;
  const tail = upperTail(Math.abs(t), df); // P(T > |t|)
  return t > 0 ? 1 - tail : tail;
}

/**
 * Inverse of `tCdf`: the t with P(T ≤ t) = p for `df` degrees of freedom.
 *
 * Closed forms for df = 1 (t = −cot(πp)) and df = 2 (Hill 1970:
 * t = (2p − 1)/√(2p(1 − p))); df = Infinity is `normalQuantile`. Otherwise
 * a safeguarded Newton iteration on log P(T > t) against log t, started from
 * the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5) or, in the far
 * tail, the power-law asymptote P(T > t) ≈ c·t^(−df); each step stays inside
 * a bracket that bisection shrinks when Newton would leave it. The result is
 * as accurate as `tCdf` allows: within 1e-11 of scipy.stats.t.ppf for
 * df ≤ 1e6 and p down to 1e-15.
 *
 * Precision: the answer is computed from the smaller tail min(p, 1 − p), and
 * 1 − p for p near 1 has already lost digits when the caller formed it; for
 * an extreme upper quantile ask for the lower one and negate:
 * `-tQuantile(q, df)` is the t with P(T > t) = q to full precision.
 *
 * @param p probability in [0, 1]; 0 and 1 give −Infinity and +Infinity
 * @param df degrees of freedom, > 0, real or Infinity
 * @throws StatsError STATS_OUT_OF_RANGE for p outside [0, 1], df ≤ 0, or NaN
 */
export function tQuantile(p: number, df: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `tQuantile: p must be in [0, 1], got ${p}`);
  }
  checkDf(df, 'tQuantile');
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  if (df === Number.POSITIVE_INFINITY) return normalQuantile(p);
  const q = p < 0.5 ? p : 1 - p; // the smaller tail
  const t = upperQuantile(q, df); // P(T > t) = q, t > 0
  return p < 0.5 ? -t : t;
}

/**
 * Regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b).
 *
 * Numerical Recipes (Press et al. 2007, §6.4): the continued fraction
 * (A&S 26.5.8) evaluated by the modified Lentz method, on I_x(a, b) when
 * x < (a + 1)/(a + b + 2) and on 1 − I_{1−x}(b, a) otherwise, where it
 * converges fast. The prefactor x^a (1 − x)^b / B(a, b) uses log B from
 * `logBeta`, which stays accurate for large a or b (so df = 1e6 works).
 * Not re-exported from index.ts; exported for its own tests.
 *
 * @param x in [0, 1]
 * @param a > 0
 * @param b > 0
 * @param complement 1 − x when the caller knows it more precisely than the
 *   subtraction would give it (as the t distribution does for small t)
 * @throws StatsError STATS_OUT_OF_RANGE for x outside [0, 1], a or b ≤ 0, NaN
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number, complement = 1 - x): number {
  if (!(x >= 0 && x <= 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `regularizedIncompleteBeta: x must be in [0, 1], got ${x}`);
  }
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (!(v > 0 && v < Number.POSITIVE_INFINITY)) {
      throw new StatsError('STATS_OUT_OF_RANGE', `regularizedIncompleteBeta: ${name} must be finite and > 0, got ${v}`);
    }
  }
  return betaInc(x, complement, a, b);
}

// ---------------------------------------------------------------------------

function checkDf(df: number, what: string): void {
  if (!(df > 0)) {
    throw new StatsError(
      'STATS_OUT_OF_RANGE',
      `${what}: df must be > 0 (Infinity for the normal), got ${df}`,
      'degrees of freedom of a sample of n values are n − 1; they need n ≥ 2',
    );
  }
}

/**
 * Above this df the continued fraction loses digits (its relative error
 * grows like 5e-17·df: 5e-11 at 1e6) while Fisher’s expansion in 1/df is
 * then exact to about 1e-15 for |t| ≤ 10 (its next term is O(t¹¹/df³)).
 */
const FISHER_EXPANSION_ABOVE_DF = 1e6;

/** P(T > t) for t ≥ 0. */
function upperTail(t: number, df: number): number {
  if (t === 0) return 0.5;
  if (t === Number.POSITIVE_INFINITY) return 0;
  if (df === Number.POSITIVE_INFINITY) return normalCdf(-t);
  if (df === 1) return Math.atan2(1, t) / Math.PI; // atan(1/t)/π without 1/t overflowing
  if (df > FISHER_EXPANSION_ABOVE_DF) {
    // Fisher (1926): P(T > t) = Φ(−t) + φ(t)·[(t³ + t)/(4ν) + (3t⁷ − 7t⁵ − 5t³ − 3t)/(96ν²)] + O(ν⁻³).
    const t2 = t * t;
    const g1 = ((t2 + 1) * t) / 4;
    const g2 = ((((3 * t2 - 7) * t2 - 5) * t2 - 3) * t) / 96;
    const phi = Math.exp(-t2 / 2) / Math.sqrt(2 * Math.PI);
    return normalCdf(-t) + phi * (g1 / df + g2 / (df * df));
  }
  // x = df/(df + t²) and 1 − x = t²/(df + t²), each formed without subtraction.
  const r = t / Math.sqrt(df);
  const r2 = r * r;
  const x = 1 / (1 + r2);
  const y = r2 / (1 + r2);
  return 0.5 * betaInc(x, Number.isFinite(r2) ? y : 1, df / 2, 0.5);
}

/** The t > 0 with P(T > t) = q, for 0 < q < 0.5 and finite df. */
function upperQuantile(q: number, df: number): number {
  if (df === 1) return 1 / Math.tan(Math.PI * q);
  if (df === 2) return (1 - 2 * q) / Math.sqrt(2 * q * (1 - q));

  // Starting point: Cornish–Fisher (A&S 26.7.5) in the body; the asymptote
  // P(T > t) ≈ c·df^((df−1)/2)·t^(−df), c = 1/(√df·B(df/2, ½)), in the tail.
  const z = -normalQuantile(q);
  const z2 = z * z;
  const g1 = (z2 + 1) * z / 4;
  const g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
  const g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
  const g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
  const cornishFisher = z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
  // ln of the density's constant 1/(√df·B(df/2, ½)), computed once for the guess and every Newton step.
  const logC = -logBeta(df / 2, 0.5) - 0.5 * Math.log(df);
  const logTailGuess = (logC + ((df - 1) / 2) * Math.log(df) - Math.log(q)) / df;
  const tailGuess = Math.exp(logTailGuess);
  let t = cornishFisher > 0 && Number.isFinite(cornishFisher) && cornishFisher < tailGuess ? cornishFisher : tailGuess;
  if (!(t > 0 && Number.isFinite(t))) t = 1;

  // Bracket [lo, hi] with P(T > lo) ≥ q ≥ P(T > hi); P(T > 0) = ½ ≥ q.
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  const logQ = Math.log(q);
  for (let i = 0; i < 200; i++) {
    const s = upperTail(t, df);
    if (s === q) return t;
    if (s > q) lo = t;
    else hi = t;
    // Newton on g(u) = log S(e^u) − log q: g'(u) = −t·f(t)/S(t).
    const density = Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
    const slope = (-t * density) / s;
    let next = t * Math.exp(-(Math.log(s) - logQ) / slope);
    if (!(next > lo && next < hi) || !Number.isFinite(next)) {
      next = hi === Number.POSITIVE_INFINITY ? 2 * t : lo === 0 ? hi / 2 : Math.sqrt(lo * hi);
    }
    if (Math.abs(next - t) <= 1e-14 * t) return next;
    t = next;
  }
  return t;
}

const EPS = 1e-16;
const FPMIN = 1e-300;
const MAX_ITERATIONS = 100_000;

/** I_x(a, b) with y = 1 − x supplied; arguments already validated. */
function betaInc(x: number, y: number, a: number, b: number): number {
  if (x === 0) return 0;
  if (y === 0) return 1;
  const logX = x < 0.5 ? Math.log(x) : Math.log1p(-y);
  const logY = y < 0.5 ? Math.log(y) : Math.log1p(-x);
  const logFront = a * logX + b * logY - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, y, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(y, x, b, a)) / b;
}

/**
 * Modified Lentz evaluation of the continued fraction for I_x(a, b) (NR §6.4
 * `betacf`), y = 1 − x. For b ≤ 1 the first denominator 1 − (a + b)x/(a + 1)
 * is formed as ((1 − b) + (a + b)y)/(a + 1), a sum of non-negative terms:
 * for large a and x near 1 (the t distribution at large df) the subtraction
 * would cancel. For b > 1 the rearranged form could cancel instead, so the
 * subtraction stays.
 */
function betaContinuedFraction(x: number, y: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = b <= 1 ? (1 - b + qab * y) / qap : 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h;
  }
  return h; // not reached for the t distribution's arguments (a, b > 0, x below the switch point)
}

const LN_SQRT_2PI = 0.9189385332046728; // ½·ln(2π)

/**
 * ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b), arranged as R's `lbeta`
 * (R Core, nmath/lbeta.c) so that large arguments do not cancel: the
 * Stirling terms are combined analytically and only the small remainders
 * `stirlingRemainder` are added.
 */
function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const corr = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  if (q >= 10) {
    const corr = stirlingRemainder(q) - stirlingRemainder(p + q);
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

/**
 * lnΓ(x) − ((x − ½)·ln x − x + ½·ln 2π) for x ≥ 10: the Stirling series
 * Σ B₂ₖ / (2k(2k − 1)·x^(2k−1)) to seven terms, below 1e-16 there.
 */
function stirlingRemainder(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  return (
    r *
    (1 / 12 +
      r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 / 156))))))
  );
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** lnΓ(x) for x > 0: Lanczos (g = 7, n = 9; Godfrey's coefficients) below 10, Stirling above. */
function logGamma(x: number): number {
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingRemainder(x);
  if (x < 0.5) {
    // Reflection Γ(x)Γ(1 − x) = π / sin(πx): Lanczos is accurate for x ≥ ½.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const xm = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (xm + i);
  const t = xm + 7.5;
  return LN_SQRT_2PI + (xm + 0.5) * Math.log(t) - t + Math.log(sum);
}
