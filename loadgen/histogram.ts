// The one place latency histograms are configured (conventions, point 4).
//
// Every latency the load generator records goes through `recordUs` into a
// histogram made by `createLatencyHistogram`, travels between processes as
// the string from `encodeHistogram`, and is combined with `mergeHistograms`
// (bucket counts added, never percentiles averaged).
//
// Implementation choice: the pure-JS HdrHistogram with 64-bit buckets
// (`bitBucketSize: 64`, a Float64Array of counts). 'packed' would use less
// memory but its README calls it "way slower" per record, and recording sits
// on the hot path; 32-bit counts could overflow once many workers' histograms
// are merged. A Float64Array is exact up to 2^53 counts. With the range below
// one histogram costs about 140 KB, allocated once per worker. The WASM
// flavour is not used: it needs an explicit `destroy()` and an init step, and
// nothing here has been timed to justify that (we take no timings on the
// shared cores).

import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { HistogramSummary } from '../schema/result.js';
export type { HistogramSummary };

/** Lowest value the histogram distinguishes: 1 µs (integer microseconds). */
export const LOWEST_US = 1;

/** Highest trackable value: 60 s in µs. Larger values are clamped to it and counted. */
export const HIGHEST_US = 60_000_000;

/**
 * Significant decimal digits kept: 3, i.e. values are exact up to 2,048 µs
 * and within 0.1% above that.
 */
export const SIGNIFICANT_DIGITS = 3;

/** Prefix of the transport encoding, versioned so the format can change. */
const ENCODING_PREFIX = 'bench-hdr1';

/**
 * A latency histogram in integer microseconds plus the counts of values that
 * could not be recorded as given. Nothing is silently lost: a value below
 * `LOWEST_US` is recorded as `LOWEST_US` and counted in `belowRangeCount`, a
 * value above `HIGHEST_US` is recorded as `HIGHEST_US` and counted in
 * `aboveRangeCount`, and NaN is not recorded at all but counted in
 * `invalidCount` (it would poison any percentile).
 *
 * Invariant: `hdr.totalCount` = number of `recordUs` calls − `invalidCount`.
 */
export interface LatencyHistogram {
  /** The HdrHistogram itself (pure-JS, 64-bit counts, no auto-resize). */
  readonly hdr: Histogram;
  /** Values below `LOWEST_US` (including negatives), recorded as `LOWEST_US`. */
  belowRangeCount: number;
  /** Values above `HIGHEST_US` (including +Infinity), recorded as `HIGHEST_US`. */
  aboveRangeCount: number;
  /** NaN values: counted, not recorded. */
  invalidCount: number;
}


function buildHdr(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    // A fixed range keeps every histogram structurally identical, so merging
    // is a straight add of counts arrays and a run cannot grow memory.
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/**
 * An empty latency histogram: µs, range [`LOWEST_US`, `HIGHEST_US`],
 * `SIGNIFICANT_DIGITS` digits. Allocates about 140 KB: create once per
 * worker (or per interval), never per message.
 */
export function createLatencyHistogram(): LatencyHistogram {
  return { hdr: buildHdr(), belowRangeCount: 0, aboveRangeCount: 0, invalidCount: 0 };
}

/**
 * Records one latency in microseconds (fractions allowed, rounded to the
 * nearest µs). Never throws and never allocates: out-of-range values are
 * clamped and counted, NaN is counted and skipped (see `LatencyHistogram`).
 */
export function recordUs(h: LatencyHistogram, valueUs: number): void {
  if (valueUs >= LOWEST_US && valueUs <= HIGHEST_US) {
    h.hdr.recordValue(Math.round(valueUs));
  } else if (valueUs < LOWEST_US) {
    h.belowRangeCount++;
    h.hdr.recordValue(LOWEST_US);
  } else if (valueUs > HIGHEST_US) {
    h.aboveRangeCount++;
    h.hdr.recordValue(HIGHEST_US);
  } else {
    h.invalidCount++;
  }
}

// The HDR layout for LOWEST_US = 1 and 3 significant digits: 2048 sub-buckets
// (half count 1024, magnitude 10), unit magnitude 0. hdr-histogram-js finds the
// bucket with Math.log2 and Math.pow on every record; the recorder below finds
// the same index with one Math.clz32 (values fit in 32 bits: HIGHEST_US < 2^26).
const SUB_HALF_MAGNITUDE = 10;
const SUB_HALF_COUNT = 1 << SUB_HALF_MAGNITUDE;
const SUB_MASK = (SUB_HALF_COUNT << 1) - 1;
const RECORDER_SLOTS = ((31 - Math.clz32(HIGHEST_US) - SUB_HALF_MAGNITUDE + 2) << SUB_HALF_MAGNITUDE) + SUB_HALF_COUNT;

/**
 * The hot-path way to record latencies: counts go into a flat array at the
 * index HDR itself would use, and `flushInto` adds them to a LatencyHistogram
 * (each bucket's count recorded at the bucket's lowest value, which HDR maps to
 * the same bucket), so the result equals recording every value with `recordUs`.
 * Same rounding, clamping and counters as `recordUs`; allocates nothing per value.
 */
export class LatencyRecorder {
  /** Float64 counts: no overflow however long the run. */
  private readonly counts = new Float64Array(RECORDER_SLOTS);
  private below = 0;
  private above = 0;
  private invalid = 0;
  private used = false;

  record(valueUs: number): void {
    let v: number;
    if (valueUs >= LOWEST_US && valueUs <= HIGHEST_US) v = Math.round(valueUs);
    else if (valueUs < LOWEST_US) {
      this.below++;
      v = LOWEST_US;
    } else if (valueUs > HIGHEST_US) {
      this.above++;
      v = HIGHEST_US;
    } else {
      this.invalid++;
      return;
    }
    const bucket = 21 - Math.clz32(v | SUB_MASK);
    this.counts[((bucket + 1) << SUB_HALF_MAGNITUDE) + (v >>> bucket) - SUB_HALF_COUNT]! += 1;
    this.used = true;
  }

  /** Adds everything recorded so far to `h` and clears the recorder. */
  flushInto(h: LatencyHistogram): void {
    h.belowRangeCount += this.below;
    h.aboveRangeCount += this.above;
    h.invalidCount += this.invalid;
    this.below = this.above = this.invalid = 0;
    if (!this.used) return;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      const n = counts[i]!;
      if (n === 0) continue;
      const bucket = Math.max(0, (i >> SUB_HALF_MAGNITUDE) - 1);
      const sub = i - ((bucket + 1) << SUB_HALF_MAGNITUDE) + SUB_HALF_COUNT;
      h.hdr.recordValueWithCount(sub * 2 ** bucket, n);
      counts[i] = 0;
    }
    this.used = false;
  }
}

/**
 * Encodes a histogram for transport between processes or machines:
 * `bench-hdr1:<below>:<above>:<invalid>:<base64>` where `<base64>` is the
 * standard compressed V2 HdrHistogram encoding (readable by any HdrHistogram
 * implementation and plotter). Exact: `decodeHistogram` restores every count.
 */
export function encodeHistogram(h: LatencyHistogram): string {
  const base64 = hdr.encodeIntoCompressedBase64(h.hdr);
  return `${ENCODING_PREFIX}:${h.belowRangeCount}:${h.aboveRangeCount}:${h.invalidCount}:${base64}`;
}

function parseCount(text: string | undefined, what: string): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`decodeHistogram: ${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return n;
}

/**
 * Decodes a string from `encodeHistogram`. Also accepts a bare standard
 * compressed HdrHistogram string ("HISTF..."), with the range counters at 0.
 * The result always has this module's configuration: a foreign histogram is
 * added into a fresh one, which throws if it holds values above `HIGHEST_US`.
 *
 * @throws TypeError on a malformed string; Error from hdr-histogram-js on bad base64/zlib data
 */
export function decodeHistogram(encoded: string): LatencyHistogram {
  let belowRangeCount = 0;
  let aboveRangeCount = 0;
  let invalidCount = 0;
  let base64 = encoded;
  if (encoded.startsWith(`${ENCODING_PREFIX}:`)) {
    const parts = encoded.split(':');
    if (parts.length !== 5) {
      throw new TypeError(`decodeHistogram: expected 5 ':'-separated fields, got ${parts.length}`);
    }
    belowRangeCount = parseCount(parts[1], 'belowRangeCount');
    aboveRangeCount = parseCount(parts[2], 'aboveRangeCount');
    invalidCount = parseCount(parts[3], 'invalidCount');
    base64 = parts[4] ?? '';
  } else if (!encoded.startsWith('HIST')) {
    throw new TypeError(`decodeHistogram: not a bench histogram encoding (expected "${ENCODING_PREFIX}:...")`);
  }
  const decoded = hdr.decodeFromCompressedBase64(base64, 64, false);
  // Re-home into a histogram of our exact configuration so that every
  // histogram in the system merges by a plain add of identical layouts.
  const out = createLatencyHistogram();
  out.hdr.add(decoded);
  out.belowRangeCount = belowRangeCount;
  out.aboveRangeCount = aboveRangeCount;
  out.invalidCount = invalidCount;
  return out;
}

/**
 * Merges histograms by adding their bucket counts and range counters into a
 * new histogram; the inputs are not modified. An empty list gives an empty
 * histogram. The result is identical to one histogram that recorded all the
 * values (same count, min, max, mean and every percentile).
 */
export function mergeHistograms(list: readonly LatencyHistogram[]): LatencyHistogram {
  const out = createLatencyHistogram();
  for (const h of list) {
    out.hdr.add(h.hdr);
    out.belowRangeCount += h.belowRangeCount;
    out.aboveRangeCount += h.aboveRangeCount;
    out.invalidCount += h.invalidCount;
  }
  return out;
}

/**
 * Count, min, mean, p50/p90/p99/p99.9 and max in µs, plus the range counters.
 * Min is taken as percentile 0 and max as percentile 100 so that both are
 * bucket-equivalent values, which makes the summary of a decoded or merged
 * histogram identical to that of the original (the library otherwise keeps
 * the raw max only until the histogram is encoded). All zero when empty.
 */
export function summarizeHistogram(h: LatencyHistogram): HistogramSummary {
  const { hdr: g } = h;
  const count = g.totalCount;
  const ranges = {
    belowRangeCount: h.belowRangeCount,
    aboveRangeCount: h.aboveRangeCount,
    invalidCount: h.invalidCount,
  };
  if (count === 0) {
    return { count: 0, minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0, ...ranges };
  }
  return {
    count,
    minUs: g.getValueAtPercentile(0),
    meanUs: g.mean,
    p50Us: g.getValueAtPercentile(50),
    p90Us: g.getValueAtPercentile(90),
    p99Us: g.getValueAtPercentile(99),
    p999Us: g.getValueAtPercentile(99.9),
    maxUs: g.getValueAtPercentile(100),
    ...ranges,
  };
}
