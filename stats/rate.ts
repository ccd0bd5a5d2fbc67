// Rates from per-second timelines.

import { StatsError } from './errors.js';
import { medianOfSorted, sortedCopy } from './internal.js';

export interface RateOptions {
  /** Whether bucket 0 covers less than a full second (the run started mid-bucket). Default true. */
  firstBucketPartial?: boolean;
  /** Whether the last bucket covers less than a full second (the run stopped mid-bucket). Default true. */
  lastBucketPartial?: boolean;
}

/**
 * Median of per-second counts over the full 1-second buckets only, e.g.
 * messages per second. Partial first and last buckets would drag the median
 * down, so they are dropped (by default both are assumed partial, as for a
 * timeline bucketed by wall-clock second).
 *
 * @param countsPerSecond count in each consecutive 1-second bucket, ≥ 0
 * @returns the median count per second of the full buckets, or `null` when
 *   none is left (fewer than 3 buckets with both ends partial)
 * @throws StatsError STATS_NON_FINITE, STATS_OUT_OF_RANGE for a negative count
 */
export function medianRatePerSec(countsPerSecond: readonly number[], options: RateOptions = {}): number | null {
  countsPerSecond.forEach((c, i) => {
    if (!Number.isFinite(c)) {
      throw new StatsError('STATS_NON_FINITE', `medianRatePerSec: bucket ${i} is ${c}, expected a finite count`);
    }
    if (c < 0) throw new StatsError('STATS_OUT_OF_RANGE', `medianRatePerSec: bucket ${i} is ${c}, counts cannot be negative`);
  });
  const from = (options.firstBucketPartial ?? true) ? 1 : 0;
  const to = countsPerSecond.length - ((options.lastBucketPartial ?? true) ? 1 : 0);
  if (to <= from) return null;
  return medianOfSorted(sortedCopy(countsPerSecond.slice(from, to)));
}
