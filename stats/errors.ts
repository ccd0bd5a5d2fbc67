/**
 * The one error type the statistics module throws.
 *
 * A `StatsError` means the caller passed input the function cannot give an
 * answer for (empty, NaN, a probability outside [0, 1], unsorted times...).
 * That is a programming error, so it throws. When the input is valid but the
 * statistic is undefined for that data (the spread of a single value, a
 * relative spread around a median of 0), functions return `null` instead,
 * and say so in their doc comment.
 *
 * Tests assert `code`, which is stable; the message may change.
 */
export type StatsErrorCode =
  /** An input that must hold at least one value was empty. */
  | 'STATS_EMPTY_INPUT'
  /** A value was NaN or ±Infinity. */
  | 'STATS_NON_FINITE'
  /** A parameter (probability, confidence, count, tolerance...) was outside its domain. */
  | 'STATS_OUT_OF_RANGE'
  /**
   * A value ≤ 0 where a ratio needs positive values: the denominator sample of
   * a ratio of medians, or any value of a ratio of geometric means (logs).
   */
  | 'STATS_NOT_POSITIVE'
  /** A time series was not in non-decreasing time order. */
  | 'STATS_UNSORTED'
  /** The exact Mann–Whitney distribution was requested for data with ties. */
  | 'STATS_TIES_NOT_EXACT';

export class StatsError extends RangeError {
  override readonly name = 'StatsError';
  readonly code: StatsErrorCode;
  readonly hint: string | undefined;

  constructor(code: StatsErrorCode, message: string, hint?: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

/** A read-only array that holds at least one element. */
export type NonEmpty<T> = readonly [T, ...T[]];

/**
 * Narrows an array to `NonEmpty`, so callers holding a plain `number[]`
 * handle the empty case before calling a statistic.
 */
export function isNonEmpty<T>(values: readonly T[]): values is NonEmpty<T> {
  return values.length > 0;
}
