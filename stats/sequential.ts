// Deciding, after every round of an adaptive run, whether two runtimes
// differ on a figure, are equivalent on it, or need more repetitions, with
// the error rate controlled over all the looks the run may take.
//
// The method: repeated confidence intervals (Jennison & Turnbull 1989;
// Jennison & Turnbull 2000, "Group Sequential Methods with Applications to
// Clinical Trials", ch. 9) for the ratio of geometric means, each a Welch t
// interval on the log values, at per-look levels given by a Lan–DeMets
// alpha-spending function and made simultaneous by the Bonferroni inequality.
// See `sequentialVerdict` for the argument and the alternatives considered.

import { StatsError, type NonEmpty } from './errors.js';
import { checkConfidence, checkFinite } from './internal.js';
import { normalCdf, normalQuantile } from './normal.js';
import { tQuantile } from './t.js';

/** Default family-wise error rate of `sequentialVerdict` over all looks (two-sided). */
export const DEFAULT_SEQUENTIAL_ALPHA = 0.05;

/**
 * Default fewest values per side before `sequentialVerdict` decides
 * anything. Two would allow a Welch interval, but its df is then estimated
 * from a single degree of freedom and is correlated with the statistic (a
 * side whose two values happen to agree gets both a small SE and a larger
 * df), which makes the test liberal in the far tail where the per-look alpha
 * lives. Seeded simulation with K = 12 looks, alpha 0.05, ratio 1: with a
 * 3% CV side against a 20% CV side losing 30% of its values, false
 * `'different'` 5.3% with 2 values, 3.3% with 3 (4,000 runs each); with
 * equal 3% noise both stay near 2%. Large effects settle one round later at
 * most; a 30% difference at 5% noise settles at the same median round.
 */
export const DEFAULT_MIN_VALUES = 3;

/**
 * Shape of the alpha-spending function (Lan & DeMets 1983):
 * - `'pocock'`: α·ln(1 + (e − 1)·t), spends nearly evenly over the looks,
 *   so early looks (few values) can already settle large effects. Default.
 * - `'obrien-fleming'`: 2 − 2Φ(z₁₋α/₂ / √t), spends almost nothing early and
 *   keeps the last look's interval close to a fixed-sample one; only worth it
 *   when the last look matters most.
 */
export type SpendingFunction = 'pocock' | 'obrien-fleming';

/**
 * Cumulative two-sided alpha spent by information fraction t, α(t), for the
 * Lan–DeMets spending functions (Lan & DeMets 1983, Biometrika 70:659–663;
 * Jennison & Turnbull 2000, §7.2.1): α(0) = 0, α(1) = alpha, increasing.
 *
 * @param t information fraction in [0, 1]; `sequentialVerdict` uses look / maxLooks
 * @param alpha total two-sided alpha in (0, 1)
 * @throws StatsError STATS_OUT_OF_RANGE for t outside [0, 1], alpha outside (0, 1), an unknown spending name
 */
export function alphaSpent(t: number, alpha: number, spending: SpendingFunction = 'pocock'): number {
  if (!(t >= 0 && t <= 1)) throw new StatsError('STATS_OUT_OF_RANGE', `alphaSpent: t must be in [0, 1], got ${t}`);
  checkAlpha(alpha, 'alphaSpent: alpha');
  if (t === 0) return 0;
  if (t === 1) return alpha;
  switch (spending) {
    case 'pocock':
      return alpha * Math.log1p((Math.E - 1) * t);
    case 'obrien-fleming':
      // 2 − 2Φ(x) written as 2Φ(−x), which keeps its digits when tiny.
      return 2 * normalCdf(normalQuantile(alpha / 2) / Math.sqrt(t));
    default:
      throw new StatsError(
        'STATS_OUT_OF_RANGE',
        `alphaSpent: unknown spending function ${JSON.stringify(spending)}`,
        "use 'pocock' or 'obrien-fleming'",
      );
  }
}

/** Which look of how many, and how the error rate is shared. */
export interface LookOptions {
  /** 1-based index of this look, an integer in [1, maxLooks]. */
  look: number;
  /** The most looks any comparison will get (K_max), an integer ≥ 1, fixed before the run. */
  maxLooks: number;
  /** Family-wise two-sided error rate over all looks and comparisons, in (0, 1). Default 0.05. */
  alpha?: number;
  /**
   * Number of comparisons m sharing `alpha` (Bonferroni): pairs of runtimes ×
   * primary figures of a workload, e.g. 4 runtimes, 1 figure → 6. Integer ≥ 1.
   * Default 1.
   */
  comparisons?: number;
  /** Default 'pocock'. */
  spending?: SpendingFunction;
}

/**
 * Two-sided alpha of one comparison's interval at one look:
 * (α(k/K) − α((k − 1)/K)) / m, with α the spending function, k = look,
 * K = maxLooks and m = comparisons. These sum to alpha over the K looks and m
 * comparisons, which is what makes the Bonferroni bound in
 * `sequentialVerdict` hold. The interval's confidence level is 1 − the result.
 *
 * @throws StatsError STATS_OUT_OF_RANGE for a look outside [1, maxLooks], non-integer counts, alpha outside (0, 1)
 */
export function lookAlpha(options: LookOptions): number {
  const { look, maxLooks } = options;
  const alpha = options.alpha ?? DEFAULT_SEQUENTIAL_ALPHA;
  const comparisons = options.comparisons ?? 1;
  const spending = options.spending ?? 'pocock';
  checkInteger(maxLooks, 1, 'lookAlpha: maxLooks');
  checkInteger(comparisons, 1, 'lookAlpha: comparisons');
  if (!Number.isSafeInteger(look) || look < 1 || look > maxLooks) {
    throw new StatsError(
      'STATS_OUT_OF_RANGE',
      `lookAlpha: look must be an integer in [1, maxLooks = ${maxLooks}], got ${look}`,
      'plan maxLooks before the run; a comparison must not be looked at more often than that',
    );
  }
  checkAlpha(alpha, 'lookAlpha: alpha');
  const spent = alphaSpent(look / maxLooks, alpha, spending) - alphaSpent((look - 1) / maxLooks, alpha, spending);
  return spent / comparisons;
}

/** Confidence interval of the ratio of geometric means, from `logRatioInterval`. */
export interface RatioInterval {
  ok: true;
  /** Point estimate geomean(b) / geomean(a) = exp(mean ln b − mean ln a). Unitless; > 1 when b is larger. */
  ratio: number;
  /** Lower confidence bound of the ratio, exp(logRatio − half-width); ≥ 0 (0 when the half-width overflows). */
  low: number;
  /** Upper confidence bound of the ratio; may be Infinity for an extreme level with few values. */
  high: number;
  /** ln(ratio), the difference of mean logs. */
  logRatio: number;
  /** Standard error of logRatio, √(s²_a/n_a + s²_b/n_b) of the log values. */
  standardError: number;
  /** Half-width on the log scale, t_{df, 1−α/2}·standardError: low = exp(logRatio − logHalfWidth). */
  logHalfWidth: number;
  /** Welch–Satterthwaite degrees of freedom, between min(n_a, n_b) − 1 and n_a + n_b − 2. */
  df: number;
  /** Two-sided confidence level of [low, high]. */
  confidence: number;
  nA: number;
  nB: number;
}

/** Why no interval could be formed; the point estimate is still given. */
export interface NoRatioInterval {
  ok: false;
  /**
   * `'too-few-values'`: a side has one value, so its spread is unknown.
   * `'no-spread'`: every value within a and within b is identical, so the
   * data say nothing about the noise (see `logRatioInterval`).
   */
  reason: 'too-few-values' | 'no-spread';
  /** geomean(b) / geomean(a). */
  ratio: number;
  nA: number;
  nB: number;
}

/**
 * Welch confidence interval for the ratio of geometric means
 * geomean(b) / geomean(a), computed on the log values: with xᵢ = ln aᵢ,
 * yⱼ = ln bⱼ, sample variances s² (n − 1), d = ȳ − x̄,
 * SE² = s²_x/n_a + s²_y/n_b and the Welch–Satterthwaite df
 * SE⁴ / ((s²_x/n_a)²/(n_a − 1) + (s²_y/n_b)²/(n_b − 1)) (Welch 1947;
 * Satterthwaite 1946), the interval is exp(d ± t_{df, 1−α/2}·SE).
 * Exact for log-normal values with equal variances and equal n, a close
 * approximation otherwise; it allows unequal n and unequal noise. Timing-like
 * figures are positive and their noise is multiplicative, which the log scale
 * turns into the additive, roughly symmetric noise the t interval assumes.
 *
 * Degenerate data: with one value on a side there is no estimate of its
 * spread, and when all values are identical within each side (SE = 0) a
 * zero-width interval would claim certainty from, say, two coarse-grained
 * repetitions; both return `{ ok: false, reason, ratio }`. When only one side
 * is constant, the other side's spread carries the interval
 * (df = n_other − 1).
 *
 * @param a values of the reference side, each finite and > 0 (any unit)
 * @param b values of the other side, same unit as a
 * @param confidence two-sided level in (0, 1), e.g. 0.95
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE, STATS_NOT_POSITIVE (a value ≤ 0 has no log),
 *   STATS_OUT_OF_RANGE (confidence)
 */
export function logRatioInterval(
  a: NonEmpty<number>,
  b: NonEmpty<number>,
  confidence: number,
): RatioInterval | NoRatioInterval {
  checkConfidence(confidence, 'logRatioInterval: confidence');
  const logsA = positiveLogs(a, 'logRatioInterval: a', false);
  const logsB = positiveLogs(b, 'logRatioInterval: b', false);
  const interval = welchLogInterval(logsA, logsB, 1 - confidence);
  // Report the level asked for, not 1 − (1 − confidence) with its rounding.
  return interval.ok ? { ...interval, confidence } : interval;
}

/** Outcome of one comparison at one look. */
export type Verdict = 'different' | 'equivalent' | 'undecided';

/**
 * Why a comparison is still undecided:
 * - `'too-few-values'`: a side has fewer than `minValues` values (default 3);
 * - `'no-spread'`: all values identical within each side (see `logRatioInterval`);
 * - `'covers-band'`: the interval contains the whole band, so neither
 *   conclusion is in reach yet: more values will narrow it;
 * - `'crosses-band-edge'`: the interval crosses one edge of the band: the
 *   true ratio may lie near the minimum effect, where settling takes many values.
 */
export type UndecidedReason = 'too-few-values' | 'no-spread' | 'covers-band' | 'crosses-band-edge';

export interface SequentialInput extends LookOptions {
  /** Values of the reference runtime so far (positive, finite; any unit). May hold 0 or 1 values. */
  a: readonly number[];
  /** Values of the other runtime so far, same unit. */
  b: readonly number[];
  /**
   * Fewest values each side needs before a verdict other than
   * `'too-few-values'`, an integer ≥ 2. Default `DEFAULT_MIN_VALUES` (3).
   */
  minValues?: number;
  /**
   * Smallest relative difference that matters, in percent, ≥ 0: the band of
   * ratios b/a that count as "no real difference" is [1/(1 + δ), 1 + δ] with
   * δ = minEffectPct/100. 0 turns the verdict into a plain test of ratio = 1
   * (equivalence is then never concluded).
   */
  minEffectPct: number;
}

export interface SequentialResult {
  verdict: Verdict;
  /** For `'different'`: whether b's geometric mean is above or below a's. `null` otherwise. */
  direction: 'b-higher' | 'b-lower' | null;
  /** Point estimate geomean(b)/geomean(a); `null` when a side has no values. */
  ratio: number | null;
  /** This look's repeated-confidence-interval bounds of the ratio; `null` when there is no interval. */
  low: number | null;
  high: number | null;
  /** Welch df of the interval; `null` when there is none. */
  df: number | null;
  /** Confidence level of this look's interval for this comparison, 1 − alphaLook. */
  level: number;
  /** Two-sided alpha of this look for this comparison (`lookAlpha`). */
  alphaLook: number;
  /** The band as ratios: 1/(1 + δ) … 1 + δ. */
  bandLow: number;
  bandHigh: number;
  /** Why the verdict is `'undecided'`; `null` when settled. */
  reason: UndecidedReason | null;
  nA: number;
  nB: number;
}

/**
 * One look of a sequential comparison of runtimes a and b on one figure.
 *
 * At look k of at most K, with m comparisons in the family, the interval for
 * ρ = geomean(b)/geomean(a) is the Welch interval of `logRatioInterval` at
 * two-sided level 1 − α_k, α_k = (α(k/K) − α((k−1)/K))/m from the spending
 * function α(·) (`lookAlpha`). With δ = minEffectPct/100:
 * - `'different'` when the whole interval lies beyond the band: low > 1 + δ
 *   (`'b-higher'`) or high < 1/(1 + δ) (`'b-lower'`). Such an interval
 *   excludes 1, i.e. the difference is significant at the corrected level
 *   α_k, and it also exceeds the minimum effect;
 * - `'equivalent'` when the whole interval lies strictly inside the band
 *   (impossible when δ = 0);
 * - `'undecided'` otherwise, with a `reason`.
 * The band is symmetric on the log scale (|ln ρ| vs ln(1 + δ)), so swapping
 * a and b mirrors the verdict: "5%" means b/a ≥ 1.05 or a/b ≥ 1.05. Bounds
 * exactly on an edge do not settle.
 *
 * Why the error rate holds under adaptive looks: these are repeated
 * confidence intervals (Jennison & Turnbull 1989, JRSS B 51:305–361;
 * Jennison & Turnbull 2000, ch. 9). By the Bonferroni inequality,
 * P(ρ outside some interval of some comparison at some look)
 * ≤ Σₖ Σ_comparisons α_k = α, whatever the correlation between looks and
 * pairs, so the intervals cover all true ratios simultaneously with
 * probability ≥ 1 − α. On that event no verdict is wrong: `'different'`
 * needs ρ beyond the band, `'equivalent'` needs ρ inside it. Hence the
 * probability of any wrong verdict in the family, under any data-dependent
 * rule for stopping or for skipping looks, is ≤ α (up to the accuracy of the
 * Welch approximation; the simulation tests measure it). The exact group
 * sequential boundaries would be narrower, but they need the joint
 * distribution of the statistics across looks, which with 2–20 values,
 * variances estimated at every look and looks driven by a time budget is not
 * the canonical one they assume; the Bonferroni split only needs K, and with
 * K = 12 costs little (with an even split the per-look critical z at
 * α = 0.05 is 2.87, against 2.59 for Pocock's exact constant boundary).
 * Always-valid confidence sequences (Howard, Ramdas, McAuliffe & Sekhon
 * 2021, Ann. Statist. 49:1055–1080) would not need K, but pay for unlimited
 * looks with wider intervals at every n, and their sub-Gaussian forms need
 * the noise scale, which here is unknown and estimated from a handful of
 * values; K is known, so the repeated intervals use it.
 *
 * Multiplicity over the pairs × figures of a workload is Bonferroni (α/m,
 * m = `comparisons`), valid whichever pairs stop when. Holm's step-down
 * gains little with m ≤ 6 and, across sequential tests, needs a graphical
 * alpha-recycling procedure (Maurer & Bretz 2013, Stat. Biopharm. Res.
 * 5:311–320) to stay valid; it is not attempted.
 *
 * How to call it (the contract the error rate depends on): fix K, alpha,
 * comparisons and minEffectPct before the run; call once per comparison per
 * look with all values so far, looks numbered 1, 2, … (a look may be skipped
 * but an index never reused); keep a settled verdict and stop looking at that
 * comparison. Looks where a side has fewer than `minValues` values spend
 * alpha for nothing, so with one value per runtime per round number the first
 * look at round `minValues` (by default look = round − 2, K = rounds − 2).
 * How many values a pair has at a look should not depend on that pair's own
 * values except through stopping (one value per runtime per round does
 * this; a lost cell or the end of the budget is fine, and the simulations
 * include both).
 *
 * @throws StatsError STATS_NON_FINITE, STATS_NOT_POSITIVE (values must be > 0: the interval is on logs),
 *   STATS_OUT_OF_RANGE (look, maxLooks, comparisons, alpha, minEffectPct, spending)
 */
export function sequentialVerdict(input: SequentialInput): SequentialResult {
  const { minEffectPct } = input;
  checkMinEffectPct(minEffectPct, 'sequentialVerdict');
  const minValues = input.minValues ?? DEFAULT_MIN_VALUES;
  checkInteger(minValues, 2, 'sequentialVerdict: minValues');
  const alphaLook = lookAlpha(input);
  const logsA = positiveLogs(input.a, 'sequentialVerdict: a', true);
  const logsB = positiveLogs(input.b, 'sequentialVerdict: b', true);
  const logBand = Math.log1p(minEffectPct / 100);
  // One object literal per outcome (no spreads): this runs once per pair per look.
  const result = (
    verdict: Verdict,
    direction: SequentialResult['direction'],
    reason: UndecidedReason | null,
    ratio: number | null,
    interval: RatioInterval | null,
  ): SequentialResult => ({
    verdict,
    direction,
    ratio,
    low: interval === null ? null : interval.low,
    high: interval === null ? null : interval.high,
    df: interval === null ? null : interval.df,
    level: 1 - alphaLook,
    alphaLook,
    bandLow: Math.exp(-logBand),
    bandHigh: Math.exp(logBand),
    reason,
    nA: logsA.length,
    nB: logsB.length,
  });
  if (logsA.length === 0 || logsB.length === 0) return result('undecided', null, 'too-few-values', null, null);
  if (logsA.length < minValues || logsB.length < minValues) {
    return result('undecided', null, 'too-few-values', Math.exp(meanOf(logsB) - meanOf(logsA)), null);
  }

  const interval = welchLogInterval(logsA, logsB, alphaLook);
  if (!interval.ok) return result('undecided', null, interval.reason, interval.ratio, null);

  const lo = interval.logRatio - interval.logHalfWidth;
  const hi = interval.logRatio + interval.logHalfWidth;
  const { ratio } = interval;
  if (lo > logBand) return result('different', 'b-higher', null, ratio, interval);
  if (hi < -logBand) return result('different', 'b-lower', null, ratio, interval);
  if (lo > -logBand && hi < logBand) return result('equivalent', null, null, ratio, interval);
  const reason = lo <= -logBand && hi >= logBand ? 'covers-band' : 'crosses-band-edge';
  return result('undecided', null, reason, ratio, interval);
}

/** Assumptions for `expectedSettlingLook`. */
export interface SettlingPlanInput extends Omit<LookOptions, 'look'> {
  /** Assumed true ratio geomean(b)/geomean(a), > 0. */
  ratio: number;
  /** Assumed coefficient of variation of one value, in percent, > 0, the same for both runtimes. */
  cvPct: number;
  /** As in `sequentialVerdict`. */
  minEffectPct: number;
  /** Values each runtime gains between looks, an integer ≥ 1. Default 1 (one per round). */
  valuesPerLook?: number;
  /**
   * Values each runtime has at look 1, an integer ≥ 2; at look k it has
   * valuesAtFirstLook + (k − 1)·valuesPerLook. Default `DEFAULT_MIN_VALUES`
   * (3), as when looks start at the round where `sequentialVerdict` can first decide.
   */
  valuesAtFirstLook?: number;
}

export interface SettlingPlan {
  /** First look at which the expected interval settles. */
  look: number;
  /** Values per runtime at that look. */
  n: number;
  verdict: 'different' | 'equivalent';
}

/**
 * Plug-in planning figure: the first look at which `sequentialVerdict` would
 * settle if the data came out exactly as expected — the estimate equal to the
 * true ratio and both sample SDs of the logs equal to
 * σ = √ln(1 + cv²) (the log-normal with that CV), n values per side, so
 * SE = σ·√(2/n) and df = 2(n − 1). A realised run settles around this look
 * about half the time (sooner or later as the noise falls), so use it to
 * budget and to see early that a pair will not settle (`null`), not as a
 * promise. A ratio inside the band with δ = 0, or on an edge, never settles.
 *
 * @returns the look, n and expected verdict, or `null` when no look ≤ maxLooks settles
 * @throws StatsError STATS_OUT_OF_RANGE for a ratio or cvPct ≤ 0, a bad minEffectPct or look options
 */
export function expectedSettlingLook(input: SettlingPlanInput): SettlingPlan | null {
  const { ratio, cvPct, minEffectPct, maxLooks } = input;
  const valuesPerLook = input.valuesPerLook ?? 1;
  const valuesAtFirstLook = input.valuesAtFirstLook ?? DEFAULT_MIN_VALUES;
  for (const [name, v] of [['ratio', ratio], ['cvPct', cvPct]] as const) {
    if (!(v > 0 && v < Number.POSITIVE_INFINITY)) {
      throw new StatsError('STATS_OUT_OF_RANGE', `expectedSettlingLook: ${name} must be finite and > 0, got ${v}`);
    }
  }
  checkMinEffectPct(minEffectPct, 'expectedSettlingLook');
  checkInteger(valuesPerLook, 1, 'expectedSettlingLook: valuesPerLook');
  checkInteger(valuesAtFirstLook, 2, 'expectedSettlingLook: valuesAtFirstLook');
  const sigma = Math.sqrt(Math.log1p((cvPct / 100) ** 2));
  const effect = Math.abs(Math.log(ratio));
  const logBand = Math.log1p(minEffectPct / 100);
  checkInteger(maxLooks, 1, 'expectedSettlingLook: maxLooks');
  for (let look = 1; look <= maxLooks; look++) {
    const n = valuesAtFirstLook + (look - 1) * valuesPerLook;
    const alpha = lookAlpha({ ...input, look });
    const half = -tQuantile(alpha / 2, 2 * (n - 1)) * sigma * Math.sqrt(2 / n);
    if (effect - half > logBand) return { look, n, verdict: 'different' };
    if (effect + half < logBand) return { look, n, verdict: 'equivalent' };
  }
  return null;
}

// ---------------------------------------------------------------------------

/**
 * Welch interval on log values at two-sided level 1 − alpha. Takes alpha
 * rather than the confidence so that tiny per-look alphas keep their digits.
 */
function welchLogInterval(x: Float64Array, y: Float64Array, alpha: number): RatioInterval | NoRatioInterval {
  const nA = x.length;
  const nB = y.length;
  const mx = meanOf(x);
  const my = meanOf(y);
  const logRatio = my - mx;
  const ratio = Math.exp(logRatio);
  if (nA < 2 || nB < 2) return { ok: false, reason: 'too-few-values', ratio, nA, nB };
  const va = varianceOf(x, mx) / nA;
  const vb = varianceOf(y, my) / nB;
  const se2 = va + vb;
  if (se2 === 0) return { ok: false, reason: 'no-spread', ratio, nA, nB };
  const df = (se2 * se2) / ((va * va) / (nA - 1) + (vb * vb) / (nB - 1));
  const standardError = Math.sqrt(se2);
  const half = standardError * -tQuantile(alpha / 2, df);
  return {
    ok: true,
    ratio,
    low: Math.exp(logRatio - half),
    high: Math.exp(logRatio + half),
    logRatio,
    standardError,
    logHalfWidth: half,
    df,
    confidence: 1 - alpha,
    nA,
    nB,
  };
}

/** ln of each value; throws unless every value is finite and > 0 (and, unless allowEmpty, there is one). */
function positiveLogs(values: readonly number[], what: string, allowEmpty: boolean): Float64Array {
  if (!allowEmpty && values.length === 0) {
    throw new StatsError('STATS_EMPTY_INPUT', `${what}: needs at least one value, got an empty array`);
  }
  checkFinite(values, what);
  const logs = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v > 0)) {
      throw new StatsError(
        'STATS_NOT_POSITIVE',
        `${what}: value at index ${i} is ${v}; the ratio of geometric means needs values > 0`,
        'these methods are for positive figures (rates, CPU time, bytes); a 0 usually means a failed measurement',
      );
    }
    logs[i] = Math.log(v);
  }
  return logs;
}

function meanOf(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample variance (n − 1), exactly 0 when all values are identical (the mean may round off them). */
function varianceOf(values: Float64Array, m: number): number {
  let constant = true;
  for (let i = 1; i < values.length && constant; i++) constant = values[i] === values[0];
  if (constant) return 0;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return ss / (values.length - 1);
}

function checkAlpha(alpha: number, what: string): void {
  if (!(alpha > 0 && alpha < 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `${what}: must be in (0, 1), e.g. 0.05, got ${alpha}`);
  }
}

function checkInteger(n: number, least: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < least) {
    throw new StatsError('STATS_OUT_OF_RANGE', `${what}: must be an integer ≥ ${least}, got ${n}`);
  }
}

function checkMinEffectPct(pct: number, what: string): void {
  if (!(pct >= 0 && pct < Number.POSITIVE_INFINITY)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `${what}: minEffectPct must be finite and ≥ 0, got ${pct}`, 'e.g. 5 for a 5% band');
  }
}
