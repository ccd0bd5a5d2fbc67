// Descriptive statistics of one sample.
//
// Empty input and NaN/±Infinity throw a StatsError (STATS_EMPTY_INPUT,
// STATS_NON_FINITE): there is no answer to give. A statistic that is
// undefined for valid data (stddev of one value, a relative spread around 0)
// is returned as `null`. Inputs are never mutated.

import { type NonEmpty } from './errors.js';
import { checkProbability, checkSample, medianOfSorted, quantileOfSorted, sortedCopy } from './internal.js';

/**
 * Consistency constant that makes the MAD estimate the standard deviation of
 * normally distributed data: 1 / Φ⁻¹(3/4) ≈ 1.4826 (Rousseeuw & Croux 1993;
 * R's `mad()` default `constant = 1.4826`).
 */
export const MAD_NORMAL_SCALE = 1.4826;

/**
 * Sample quantile, Hyndman & Fan (1996) type 7 — linear interpolation between
 * order statistics, the default of R's `quantile()` and NumPy's `quantile()`:
 * with x₍₀₎ ≤ … ≤ x₍ₙ₋₁₎ and h = (n − 1)·p, the result is
 * x₍⌊h⌋₎ + (h − ⌊h⌋)·(x₍⌊h⌋₊₁₎ − x₍⌊h⌋₎).
 *
 * @param values sample, any order, in any unit; the result has the same unit
 * @param p probability in [0, 1]; 0 gives the minimum, 1 the maximum
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE, STATS_OUT_OF_RANGE (p)
 */
export function quantile(values: NonEmpty<number>, p: number): number {
  checkSample(values, 'quantile');
  checkProbability(p, 'quantile: p');
  return quantileOfSorted(sortedCopy(values), p);
}

/**
 * Sample median: the middle order statistic, or the mean of the two middle
 * ones for even n (type-7 quantile at p = 0.5).
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function median(values: NonEmpty<number>): number {
  checkSample(values, 'median');
  return medianOfSorted(sortedCopy(values));
}

/**
 * Arithmetic mean Σx / n, same unit as the input.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function mean(values: NonEmpty<number>): number {
  checkSample(values, 'mean');
  return meanUnchecked(values);
}

/**
 * Sample standard deviation with Bessel's correction,
 * √(Σ(x − x̄)² / (n − 1)), computed in two passes (mean first) so that large
 * offsets such as RSS in bytes do not cancel. Same unit as the input.
 *
 * @returns `null` when n = 1 (no spread can be estimated from one value)
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function stddev(values: NonEmpty<number>): number | null {
  checkSample(values, 'stddev');
  return stddevUnchecked(values, meanUnchecked(values));
}

/**
 * Raw median absolute deviation: median(|xᵢ − median(x)|), without any
 * scale factor (Hampel 1974). Same unit as the input; 0 when at least half
 * the values are equal. Use `madScaled` for an estimate of σ.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function madRaw(values: NonEmpty<number>): number {
  checkSample(values, 'madRaw');
  return madOfSorted(sortedCopy(values));
}

/**
 * Scaled median absolute deviation: `MAD_NORMAL_SCALE` (1.4826) × `madRaw`,
 * a robust estimate of the standard deviation for normal data (what R's
 * `mad()` returns by default).
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function madScaled(values: NonEmpty<number>): number {
  checkSample(values, 'madScaled');
  return MAD_NORMAL_SCALE * madOfSorted(sortedCopy(values));
}

/**
 * Smallest value.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function min(values: NonEmpty<number>): number {
  checkSample(values, 'min');
  // A loop, not Math.min(...values): spreading a large array overflows the stack.
  let m = values[0];
  for (const v of values) if (v < m) m = v;
  return m;
}

/**
 * Largest value.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function max(values: NonEmpty<number>): number {
  checkSample(values, 'max');
  let m = values[0];
  for (const v of values) if (v > m) m = v;
  return m;
}

/**
 * Relative robust spread in percent: `madRaw` / |median| × 100 (raw MAD,
 * not scaled). Unitless.
 * @returns `null` when the median is 0 (the ratio is undefined)
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function madPct(values: NonEmpty<number>): number | null {
  checkSample(values, 'madPct');
  const sorted = sortedCopy(values);
  return relativePct(madOfSorted(sorted), medianOfSorted(sorted));
}

/**
 * Coefficient of variation in percent: sample `stddev` / |mean| × 100.
 * Unitless.
 * @returns `null` when n = 1 or the mean is 0
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function cvPct(values: NonEmpty<number>): number | null {
  checkSample(values, 'cvPct');
  const m = meanUnchecked(values);
  const sd = stddevUnchecked(values, m);
  return sd === null ? null : relativePct(sd, m);
}

/** Summary of one sample; every field but `n`, `madPct` and `cvPct` is in the input's unit. */
export interface Summary {
  /** Number of values, ≥ 1. */
  n: number;
  median: number;
  mean: number;
  min: number;
  max: number;
  /** Sample standard deviation (n − 1); `null` when n = 1. */
  stddev: number | null;
  /** Raw (unscaled) median absolute deviation, as `madRaw`. */
  mad: number;
  /** `mad` / |median| × 100; `null` when the median is 0. */
  madPct: number | null;
  /** `stddev` / |mean| × 100; `null` when n = 1 or the mean is 0. */
  cvPct: number | null;
}

/**
 * All the descriptive statistics above from one sort of the data; each field
 * equals what the function of the same name returns.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE
 */
export function summarize(values: NonEmpty<number>): Summary {
  checkSample(values, 'summarize');
  const sorted = sortedCopy(values);
  const med = medianOfSorted(sorted);
  const mad = madOfSorted(sorted);
  const m = meanUnchecked(values);
  const sd = stddevUnchecked(values, m);
  return {
    n: values.length,
    median: med,
    mean: m,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    stddev: sd,
    mad,
    madPct: relativePct(mad, med),
    cvPct: sd === null ? null : relativePct(sd, m),
  };
}

function meanUnchecked(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function stddevUnchecked(values: readonly number[], m: number): number | null {
  if (values.length < 2) return null;
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1));
}

function madOfSorted(sorted: Float64Array): number {
  const med = medianOfSorted(sorted);
  const deviations = sorted.map((v) => Math.abs(v - med)).sort();
  return medianOfSorted(deviations);
}

function relativePct(spread: number, centre: number): number | null {
  return centre === 0 ? null : (spread / Math.abs(centre)) * 100;
}
