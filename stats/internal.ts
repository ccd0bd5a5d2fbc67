// Helpers shared by the statistics modules. Not part of the public API
// (stats/index.ts does not re-export them).

import { StatsError } from './errors.js';

/** Throws STATS_EMPTY_INPUT or STATS_NON_FINITE; `what` names the argument in the message. */
export function checkSample(values: readonly number[], what: string): void {
  if (values.length === 0) {
    throw new StatsError(
      'STATS_EMPTY_INPUT',
      `${what}: needs at least one value, got an empty array`,
      'check for an empty sample before computing statistics (isNonEmpty)',
    );
  }
  checkFinite(values, what);
}

/** Throws STATS_NON_FINITE if any value is NaN or infinite. */
export function checkFinite(values: readonly number[], what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new StatsError('STATS_NON_FINITE', `${what}: value at index ${i} is ${v}, expected a finite number`);
    }
  }
}

/** Throws STATS_OUT_OF_RANGE unless `p` is a number in [0, 1]. */
export function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `${what}: must be in [0, 1], got ${p}`);
  }
}

/** Throws STATS_OUT_OF_RANGE unless 0 < confidence < 1. */
export function checkConfidence(confidence: number, what: string): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `${what}: must be in (0, 1), e.g. 0.95, got ${confidence}`);
  }
}

/** An ascending copy; the input is never mutated. */
export function sortedCopy(values: readonly number[]): Float64Array {
  // Float64Array sorts numerically (Array#sort would compare as strings).
  return Float64Array.from(values).sort();
}

/** Type-7 quantile of already sorted, non-empty, finite data. See descriptive.ts `quantile`. */
export function quantileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const w = h - lo;
  if (w === 0) return a;
  const b = sorted[lo + 1]!;
  const interpolated = a + w * (b - a);
  // b - a overflows for operands of opposite sign near ±MAX_VALUE; the
  // weighted form cannot overflow there.
  return Number.isFinite(interpolated) ? interpolated : (1 - w) * a + w * b;
}

/** Median of already sorted, non-empty data. */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  return quantileOfSorted(sorted, 0.5);
}
