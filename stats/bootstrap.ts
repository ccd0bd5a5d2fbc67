// Percentile bootstrap confidence intervals for comparing two samples'
// medians. Deterministic: the random source is injected.

import { StatsError, type NonEmpty } from './errors.js';
import { checkConfidence, checkSample, medianOfSorted, quantileOfSorted, sortedCopy } from './internal.js';
import { type Rng } from './random.js';

/** Default number of bootstrap resamples. */
export const DEFAULT_BOOTSTRAP_RESAMPLES = 10_000;

export interface BootstrapOptions {
  /** Uniform [0, 1) source, e.g. `mulberry32(seed)`; required so results are reproducible. */
  rng: Rng;
  /** Number of resamples B, an integer ≥ 1. Default 10 000. Cost O(B·n log n). */
  resamples?: number;
  /** Two-sided confidence level in (0, 1). Default 0.95. */
  confidence?: number;
}

export interface BootstrapInterval {
  /** The statistic on the original samples. */
  estimate: number;
  /** Percentile α/2 of the bootstrap distribution (type-7 quantile). */
  low: number;
  /** Percentile 1 − α/2 of the bootstrap distribution. */
  high: number;
  /** The requested confidence level. */
  confidence: number;
  /** Number of resamples used. */
  resamples: number;
}

/**
 * Percentile bootstrap CI (Efron & Tibshirani 1993, §13.3) for the ratio of
 * medians median(y) / median(x), e.g. "runtime B handles 1.8× the messages
 * per second of runtime A". Unitless.
 *
 * Each of the B resamples draws n₁ values from x, then n₂ values from y,
 * with replacement and independently (`⌊rng()·n⌋` per draw, in that order),
 * and records median(y*) / median(x*). The interval is the α/2 and 1 − α/2
 * type-7 quantiles of the B ratios. With n = 1 or all-equal samples the
 * interval collapses to the estimate.
 *
 * @throws StatsError STATS_NOT_POSITIVE when x holds a value ≤ 0 (a resampled
 *   median could be 0 and the ratio undefined; compare differences instead),
 *   STATS_EMPTY_INPUT, STATS_NON_FINITE, STATS_OUT_OF_RANGE (options)
 */
export function bootstrapMedianRatio(
  x: NonEmpty<number>,
  y: NonEmpty<number>,
  options: BootstrapOptions,
): BootstrapInterval {
  checkSample(x, 'bootstrapMedianRatio: x');
  checkSample(y, 'bootstrapMedianRatio: y');
  x.forEach((v, i) => {
    if (!(v > 0)) {
      throw new StatsError(
        'STATS_NOT_POSITIVE',
        `bootstrapMedianRatio: x (the denominator) must be positive, got ${v} at index ${i}`,
        'use bootstrapMedianDifference for samples that can be 0 or negative',
      );
    }
  });
  return percentileBootstrap(x, y, options, (mx, my) => my / mx);
}

/**
 * Percentile bootstrap CI for the difference of medians
 * median(y) − median(x), in the samples' unit. Resampling exactly as in
 * `bootstrapMedianRatio`, so the same rng state gives matching resamples.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE, STATS_OUT_OF_RANGE (options)
 */
export function bootstrapMedianDifference(
  x: NonEmpty<number>,
  y: NonEmpty<number>,
  options: BootstrapOptions,
): BootstrapInterval {
  checkSample(x, 'bootstrapMedianDifference: x');
  checkSample(y, 'bootstrapMedianDifference: y');
  return percentileBootstrap(x, y, options, (mx, my) => my - mx);
}

function percentileBootstrap(
  x: readonly number[],
  y: readonly number[],
  options: BootstrapOptions,
  statistic: (medianX: number, medianY: number) => number,
): BootstrapInterval {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isSafeInteger(resamples) || resamples < 1) {
    throw new StatsError('STATS_OUT_OF_RANGE', `bootstrap: resamples must be an integer ≥ 1, got ${resamples}`);
  }
  checkConfidence(confidence, 'bootstrap: confidence');
  const { rng } = options;

  const bufX = new Float64Array(x.length);
  const bufY = new Float64Array(y.length);
  const draw = (source: readonly number[], buf: Float64Array): number => {
    for (let i = 0; i < buf.length; i++) buf[i] = source[Math.floor(rng() * source.length)]!;
    return medianOfSorted(buf.sort());
  };
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    const mx = draw(x, bufX);
    const my = draw(y, bufY);
    stats[b] = statistic(mx, my);
  }
  stats.sort();
  const alpha = 1 - confidence;
  return {
    estimate: statistic(medianOfSorted(sortedCopy(x)), medianOfSorted(sortedCopy(y))),
    low: quantileOfSorted(stats, alpha / 2),
    high: quantileOfSorted(stats, 1 - alpha / 2),
    confidence,
    resamples,
  };
}
