// The latency percentile spectrum from the encoded HDR histograms a result
// keeps per repetition: the plot HdrHistogram's plotter draws (x = 1/(1 − p)
// on a log axis), which shows the tail where averages and a single p99 hide
// it, and which made coordinated omission visible (Gil Tene, "How NOT to
// Measure Latency"; wrk2's README).

import { decodeHistogram, mergeHistograms, type HistogramSummary, type LatencyHistogram } from '../../loadgen/histogram.js';
import { median } from '../../stats/descriptive.js';
import { isNonEmpty } from '../../stats/errors.js';
import { formatCount } from '../units.js';
import type { BandPoint, ChartSpec, Point, Series } from './charts.js';
import { percentileLabel } from './ticks.js';

/**
 * The percentiles a spectrum is drawn at, in %: about seven per decade of
 * 1/(1 − p) from p50 to p99.99, every one a round figure so the data table
 * reads 99.9%, 99.95% rather than 99.9017%.
 */
export const SPECTRUM_PERCENTILES: readonly number[] = [
  50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 97.5, 98, 98.5, 99, 99.25, 99.5, 99.6, 99.7, 99.75, 99.8, 99.85, 99.9, 99.925,
  99.95, 99.96, 99.97, 99.975, 99.98, 99.985, 99.99,
];

/** One runtime's repetitions: the `raw.latencyEncoded` (or another encoded histogram) of each. */
export interface SpectrumSeriesInput {
  /** Series name (the runtime). */
  name: string;
  group?: string;
  /** One encoded histogram per repetition (`encodeHistogram` strings). */
  encoded: readonly string[];
}

export interface SpectrumOptions {
  id: string;
  title: string;
  caption?: string;
  /** y axis label; default `latency`. */
  label?: string;
  series: readonly SpectrumSeriesInput[];
  /** Percentiles to draw (%); default `SPECTRUM_PERCENTILES`. */
  percentiles?: readonly number[];
}

/**
 * A `percentile-spectrum` chart: per series, the line is the percentile of
 * the histogram merged over repetitions (bucket counts added — exact, never
 * an average of percentiles), and the band the lowest and highest
 * repetition's value at each percentile (only with two or more repetitions).
 *
 * Percentiles beyond what the data can support are not drawn: p needs at
 * least 1/(1 − p) values (p99.99 needs 10,000), otherwise it is just the
 * maximum; a note says where the line stops. Empty histograms (idle cells)
 * contribute nothing; a series with none left is left out with a note.
 * Values clamped at the histogram's range (above 60 s) are noted.
 *
 * y unit µs (log scale), x unit percentile (%).
 * @throws TypeError / Error from `decodeHistogram` on a malformed encoding (a corrupt result file)
 */
export function percentileSpectrum(opts: SpectrumOptions): ChartSpec {
  const percentiles = opts.percentiles ?? SPECTRUM_PERCENTILES;
  const notes: string[] = [];
  const series: Series[] = [];
  for (const input of opts.series) {
    const reps: LatencyHistogram[] = input.encoded.map(decodeHistogram).filter((h) => h.hdr.totalCount > 0);
    if (reps.length === 0) {
      notes.push(`${input.name}: no latency recorded; left out`);
      continue;
    }
    const merged = mergeHistograms(reps);
    const count = merged.hdr.totalCount;
    // p is meaningful only if at least one value lies above it: n·(1 − p) ≥ 1.
    const usable = percentiles.filter((p) => count * (1 - p / 100) >= 1 - 1e-9);
    if (usable.length === 0) {
      notes.push(`${input.name}: ${formatCount(count)} values are too few for p${percentiles[0]}; left out`);
      continue;
    }
    if (usable.length < percentiles.length) {
      notes.push(`${input.name}: drawn up to ${percentileLabel(usable[usable.length - 1]!)} (${formatCount(count)} values)`);
    }
    const above = merged.aboveRangeCount;
    if (above > 0) notes.push(`${input.name}: ${formatCount(above)} values above the histogram's 60 s range were counted as 60 s: the tail is understated`);
    const points: Point[] = usable.map((p) => [p, merged.hdr.getValueAtPercentile(p)]);
    const band: BandPoint[] =
      reps.length < 2
        ? []
        : usable.map((p) => {
            const values = reps.map((h) => h.hdr.getValueAtPercentile(p));
            return [p, Math.min(...values), Math.max(...values)];
          });
    series.push({
      name: input.name,
      ...(input.group !== undefined ? { group: input.group } : {}),
      points,
      ...(band.length > 0 ? { band } : {}),
    });
  }
  const repCounts = opts.series.map((s) => s.encoded.length);
  const lo = Math.min(...repCounts);
  const hi = Math.max(...repCounts);
  const anyBand = series.some((s) => s.band !== undefined);
  return {
    id: opts.id,
    kind: 'percentile-spectrum',
    title: opts.title,
    caption:
      opts.caption ??
      `Latency at each percentile, the tail to the right (p99.99 = 1 in 10,000). Line: all repetitions merged${anyBand ? `; band: the lowest to the highest repetition (${lo === hi ? lo : `${lo}–${hi}`} repetitions per runtime)` : ''}. Lower is better.`,
    x: { label: 'percentile', unit: 'percentile', scale: 'percentile' },
    y: { label: opts.label ?? 'latency', unit: 'µs', scale: 'log' },
    series,
    notes,
  };
}

/** The percentiles a `HistogramSummary` stores, in %, with their field. */
const SUMMARY_PERCENTILES: readonly [p: number, field: 'p50Us' | 'p90Us' | 'p99Us' | 'p999Us'][] = [
  [50, 'p50Us'],
  [90, 'p90Us'],
  [99, 'p99Us'],
  [99.9, 'p999Us'],
];

/** One runtime's repetitions as stored percentile summaries (µs). */
export interface SummarySpectrumInput {
  name: string;
  group?: string;
  /** One summary per repetition; summaries with `count` 0 are skipped. */
  summaries: readonly HistogramSummary[];
}

/**
 * A `percentile-spectrum` chart from stored percentile summaries, for figures
 * a result keeps no encoded histogram of (the voice relay's share of the
 * first chunk): the four percentiles a summary has (p50, p90, p99, p99.9).
 * Summaries cannot be merged, so the line is the median over repetitions at
 * each percentile and the band the lowest to the highest (two or more
 * repetitions). Coarser than `percentileSpectrum`, and says so in its caption.
 * A percentile a repetition's count cannot support (n·(1 − p) < 1) is left
 * out of that repetition.
 */
export function summarySpectrum(opts: { id: string; title: string; caption?: string; label?: string; series: readonly SummarySpectrumInput[] }): ChartSpec {
  const notes: string[] = [];
  const series: Series[] = [];
  for (const input of opts.series) {
    const reps = input.summaries.filter((s) => s.count > 0);
    if (reps.length === 0) {
      notes.push(`${input.name}: nothing recorded; left out`);
      continue;
    }
    const points: Point[] = [];
    const band: BandPoint[] = [];
    for (const [p, field] of SUMMARY_PERCENTILES) {
      const values = reps.filter((s) => s.count * (1 - p / 100) >= 1 - 1e-9).map((s) => s[field]);
      if (!isNonEmpty(values)) continue;
      points.push([p, median(values)]);
      if (values.length >= 2) band.push([p, Math.min(...values), Math.max(...values)]);
    }
    if (points.length === 0) {
      notes.push(`${input.name}: too few values for p50; left out`);
      continue;
    }
    series.push({ name: input.name, ...(input.group !== undefined ? { group: input.group } : {}), points, ...(band.length > 0 ? { band } : {}) });
  }
  return {
    id: opts.id,
    kind: 'percentile-spectrum',
    title: opts.title,
    caption:
      opts.caption ??
      'At the four percentiles each repetition stores (p50, p90, p99, p99.9): line, the median over repetitions; band, the lowest to the highest. Lower is better.',
    x: { label: 'percentile', unit: 'percentile', scale: 'percentile' },
    y: { label: opts.label ?? 'latency', unit: 'µs', scale: 'log' },
    series,
    notes,
  };
}
