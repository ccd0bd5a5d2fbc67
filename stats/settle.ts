// Detecting when a slowly changing measurement (RSS after connecting, a
// warming-up rate) has settled.

import { StatsError } from './errors.js';
import { medianOfSorted, sortedCopy } from './internal.js';

export interface TimedSample {
  /** Time of the sample in ms since the start of the settling phase; non-decreasing along the series. */
  tMs: number;
  /** The measured value, in any unit (bytes, msgs/s…). */
  value: number;
}

export interface SettleOptions {
  /** Allowed deviation of every windowed sample from the window's median, in percent of |median|; ≥ 0. */
  tolerancePct: number;
  /** Window length in ms, ≥ 0; the window ending at t holds the samples with tMs in [t − windowMs, t]. */
  windowMs: number;
  /** Samples with tMs > timeoutMs are ignored; ≥ 0, Infinity for no timeout. */
  timeoutMs: number;
}

export interface SettleResult {
  /** Whether some full window met the tolerance at or before timeoutMs. */
  settled: boolean;
  /** Median of the first settled window, or of the last window considered when not settled. Unit of the samples. */
  value: number;
  /** End time (tMs) of that window. */
  atMs: number;
}

/**
 * Settling detection by a sliding window: the series is settled at the
 * first sample time t (with t − t₀ ≥ windowMs, t₀ the first sample's time,
 * so the window spans a full windowMs of observation) where every sample in
 * [t − windowMs, t] lies within ±tolerancePct % of those samples' median.
 * The median (not the mean) keeps one spike from moving the centre.
 *
 * When no window qualifies among the samples up to timeoutMs, returns
 * `settled: false` with the median of the last window (which may be shorter
 * than windowMs if the series is). `settled: false` therefore means "not
 * settled in the samples given": whether more may come is the caller's call.
 * A window whose median is 0 settles only when all its values are 0.
 *
 * @throws StatsError STATS_EMPTY_INPUT when no sample has tMs ≤ timeoutMs,
 *   STATS_UNSORTED when tMs decreases, STATS_NON_FINITE, STATS_OUT_OF_RANGE (options)
 */
export function settledValue(samples: readonly TimedSample[], options: SettleOptions): SettleResult {
  const { tolerancePct, windowMs, timeoutMs } = options;
  for (const [name, v] of [['tolerancePct', tolerancePct], ['windowMs', windowMs]] as const) {
    if (!(v >= 0 && Number.isFinite(v))) {
      throw new StatsError('STATS_OUT_OF_RANGE', `settledValue: ${name} must be a finite number ≥ 0, got ${v}`);
    }
  }
  if (!(timeoutMs >= 0)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `settledValue: timeoutMs must be ≥ 0 (Infinity allowed), got ${timeoutMs}`);
  }
  samples.forEach((s, i) => {
    if (!Number.isFinite(s.tMs) || !Number.isFinite(s.value)) {
      throw new StatsError('STATS_NON_FINITE', `settledValue: sample ${i} has tMs ${s.tMs}, value ${s.value}`);
    }
    if (i > 0 && s.tMs < samples[i - 1]!.tMs) {
      throw new StatsError('STATS_UNSORTED', `settledValue: sample ${i} at ${s.tMs} ms comes before its predecessor at ${samples[i - 1]!.tMs} ms`);
    }
  });
  let end = 0;
  while (end < samples.length && samples[end]!.tMs <= timeoutMs) end++;
  if (end === 0) {
    throw new StatsError(
      'STATS_EMPTY_INPUT',
      `settledValue: no sample at or before timeoutMs = ${timeoutMs} (got ${samples.length} samples)`,
      'take at least one sample before deciding whether a value settled',
    );
  }

  const t0 = samples[0]!.tMs;
  let start = 0;
  let last: SettleResult | undefined;
  for (let i = 0; i < end; i++) {
    const t = samples[i]!.tMs;
    // Judge a time only once all samples stamped with it are in.
    if (i + 1 < end && samples[i + 1]!.tMs === t) continue;
    while (samples[start]!.tMs < t - windowMs) start++;
    const window = samples.slice(start, i + 1).map((s) => s.value);
    const med = medianOfSorted(sortedCopy(window));
    // |v − med| ≤ tol% · |med|, scaled by 100 to avoid rounding tol/100.
    const within = window.every((v) => Math.abs(v - med) * 100 <= tolerancePct * Math.abs(med));
    if (within && t - t0 >= windowMs) return { settled: true, value: med, atMs: t };
    last = { settled: false, value: med, atMs: t };
  }
  return last!;
}
