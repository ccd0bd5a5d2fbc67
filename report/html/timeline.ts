// Per-second timelines of one case, one line per runtime, from the raw data
// each cell keeps: the load generator's 1-second buckets (`raw.timeline`) and
// the server's /proc samples every 250 ms (`raw.samples`). A median over a
// window hides a stall, a warm-up or a leak; a timeline shows it.

import type { CellResult } from '../../schema/result.js';
import { median } from '../../stats/descriptive.js';
import { isNonEmpty } from '../../stats/errors.js';
import type { BandPoint, ChartSpec, Point, Series, SpanMark } from './charts.js';

/** What a timeline needs of a cell: its raw per-second buckets, /proc samples and phase boundaries. */
export type TimelineCell = Pick<NonNullable<CellResult['raw']>, 'timeline' | 'samples' | 'phasesMs'>;

/** One runtime's completed repetitions. */
export interface TimelineSeriesInput {
  name: string;
  group?: string;
  cells: readonly TimelineCell[];
}

export interface TimelineOptions {
  /** Chart ids are `<idPrefix>-msgs`, `-cpu`, `-rss`. */
  idPrefix: string;
  /** Prepended to each chart's title: `echo-rate@50000/s: `. */
  titlePrefix?: string;
  series: readonly TimelineSeriesInput[];
}

/** Resampling step of the /proc timelines: the sampler's interval, 250 ms. */
export const SAMPLE_STEP_S = 0.25;

const X_LABEL = 'time since the measured window began';

/**
 * Points per x (in ascending x) as the median over repetitions, and a band
 * from the lowest to the highest repetition where two or more have a value.
 * Values are keyed by x rounded to the ms so that grids of different
 * repetitions meet.
 */
function combine(perRep: readonly (readonly [number, number][])[]): { points: Point[]; band: BandPoint[] } {
  const byX = new Map<number, number[]>();
  for (const rep of perRep) {
    for (const [x, y] of rep) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const key = Math.round(x * 1000) / 1000;
      const list = byX.get(key);
      if (list) list.push(y);
      else byX.set(key, [y]);
    }
  }
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const points: Point[] = [];
  const band: BandPoint[] = [];
  for (const x of xs) {
    const ys = byX.get(x)!;
    if (!isNonEmpty(ys)) continue;
    points.push([x, median(ys)]);
    if (ys.length >= 2) band.push([x, Math.min(...ys), Math.max(...ys)]);
  }
  return { points, band };
}

/** Linear interpolation of (t, v) pairs (ascending t) at `at`; undefined outside [t₀, tₙ]. */
export function interpolate(ts: readonly number[], vs: readonly number[], at: number): number | undefined {
  const n = ts.length;
  if (n === 0 || at < ts[0]! - 1e-9 || at > ts[n - 1]! + 1e-9) return undefined;
  let i = 0;
  while (i < n - 2 && ts[i + 1]! < at) i++;
  const t0 = ts[i]!;
  const t1 = ts[Math.min(i + 1, n - 1)]!;
  const v0 = vs[i]!;
  const v1 = vs[Math.min(i + 1, n - 1)]!;
  return t1 === t0 ? v1 : v0 + ((v1 - v0) * (at - t0)) / (t1 - t0);
}

/** The grid points k·step (k integer) within [from, to]. */
function grid(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(from / step - 1e-9); k * step <= to + 1e-9; k++) out.push(Math.round(k * step * 1000) / 1000);
  return out;
}

/**
 * Server CPU of one cell as % of one core on a 250 ms grid aligned to the
 * start of the measured window (x in s, negative during connect and warm-up):
 * at grid time g, the CPU time (user + system, linearly interpolated between
 * samples) used in (g − 0.25 s, g] divided by 0.25 s.
 */
export function cpuPctSeries(cell: TimelineCell, stepS = SAMPLE_STEP_S): [number, number][] {
  const ts = cell.samples.map((s) => (s.tMs - cell.phasesMs.measureStart) / 1000);
  const cpu = cell.samples.map((s) => s.cpuUserUs + s.cpuSystemUs);
  if (ts.length < 2) return [];
  return grid(ts[0]! + stepS, ts[ts.length - 1]!, stepS).flatMap((g) => {
    const a = interpolate(ts, cpu, g - stepS);
    const b = interpolate(ts, cpu, g);
    return a === undefined || b === undefined ? [] : [[g, ((b - a) / (stepS * 1e6)) * 100] as [number, number]];
  });
}

/** Server RSS of one cell in bytes on the same 250 ms grid (linear interpolation between samples). */
export function rssSeries(cell: TimelineCell, stepS = SAMPLE_STEP_S): [number, number][] {
  const ts = cell.samples.map((s) => (s.tMs - cell.phasesMs.measureStart) / 1000);
  const rss = cell.samples.map((s) => s.rssBytes);
  if (ts.length === 0) return [];
  return grid(ts[0]!, ts[ts.length - 1]!, stepS).flatMap((g) => {
    const v = interpolate(ts, rss, g);
    return v === undefined ? [] : [[g, v] as [number, number]];
  });
}

/** Delivered (received) messages per second of one cell: one point per 1-s bucket, at the bucket's middle. */
export function deliveredSeries(cell: TimelineCell): [number, number][] {
  return cell.timeline.map((b) => [b.second + 0.5, b.receivedMsgs]);
}

function seriesOf(inputs: readonly TimelineSeriesInput[], perCell: (c: TimelineCell) => [number, number][], notes: string[]): Series[] {
  const out: Series[] = [];
  for (const input of inputs) {
    const { points, band } = combine(input.cells.map(perCell));
    if (points.length === 0) {
      notes.push(`${input.name}: no data${input.cells.length === 0 ? ' (no completed repetition)' : ''}; left out`);
      continue;
    }
    out.push({
      name: input.name,
      ...(input.group !== undefined ? { group: input.group } : {}),
      points,
      ...(band.length > 0 ? { band } : {}),
    });
  }
  return out;
}

/** The measured window as a span: from 0 to the median window length over all cells. */
function windowSpan(inputs: readonly TimelineSeriesInput[]): SpanMark[] {
  const lengths = inputs.flatMap((i) => i.cells.map((c) => (c.phasesMs.measureEnd - c.phasesMs.measureStart) / 1000));
  return isNonEmpty(lengths) ? [{ axis: 'x', from: 0, to: median(lengths), label: 'measured window' }] : [];
}

function repetitionsText(inputs: readonly TimelineSeriesInput[]): string {
  const n = inputs.map((i) => i.cells.length);
  const lo = Math.min(...n);
  const hi = Math.max(...n);
  if (hi < 2) return 'one repetition per runtime';
  return `line: median of ${lo === hi ? lo : `${lo}–${hi}`} repetitions, band: lowest to highest`;
}

/**
 * Three `timeline` charts of one case, one series per runtime, x = seconds
 * since the measured window began (each repetition aligned on its own
 * `phasesMs.measureStart`):
 *
 * - `<idPrefix>-msgs`: delivered msgs/s, from the load generator's 1-s buckets (`raw.timeline`);
 * - `<idPrefix>-cpu`: server CPU, % of one core, from the /proc CPU time deltas (`raw.samples`) on a 250 ms grid;
 * - `<idPrefix>-rss`: server RSS, bytes, from the same samples.
 *
 * Line: median over the runtime's repetitions at each x; band: lowest to
 * highest repetition (two or more). The /proc charts mark the measured window.
 * A runtime without data is left out with a note. The msgs/s chart is left
 * out when no cell delivered a message (idle cases).
 */
export function caseTimelines(opts: TimelineOptions): ChartSpec[] {
  const t = opts.titlePrefix ?? '';
  const reps = repetitionsText(opts.series);
  const msgNotes: string[] = [];
  const cpuNotes: string[] = [];
  const rssNotes: string[] = [];
  const span = windowSpan(opts.series);
  const delivered = opts.series.some((i) => i.cells.some((c) => c.timeline.some((b) => b.receivedMsgs > 0)));
  const charts: ChartSpec[] = [
    {
      id: `${opts.idPrefix}-msgs`,
      kind: 'timeline',
      title: `${t}delivered messages per second`,
      caption: `Messages the load generator received in each second of the measured window (${reps}). A dip is a stall.`,
      x: { label: X_LABEL, unit: 's', scale: 'linear' },
      y: { label: 'delivered', unit: 'msgs/s', scale: 'linear' },
      series: seriesOf(opts.series, deliveredSeries, msgNotes),
      notes: msgNotes,
    },
    {
      id: `${opts.idPrefix}-cpu`,
      kind: 'timeline',
      title: `${t}server CPU`,
      caption: `Server CPU time per 250 ms from /proc, as % of one core (${reps}); before 0: connecting and warm-up.`,
      x: { label: X_LABEL, unit: 's', scale: 'linear' },
      y: { label: 'server CPU', unit: '%', scale: 'linear' },
      series: seriesOf(opts.series, (c) => cpuPctSeries(c), cpuNotes),
      marks: { spans: span },
      notes: cpuNotes,
    },
    {
      id: `${opts.idPrefix}-rss`,
      kind: 'timeline',
      title: `${t}server memory (RSS)`,
      caption: `Server resident memory from /proc every 250 ms (${reps}); before 0: connecting and warm-up. A line still rising at the end has not settled.`,
      x: { label: X_LABEL, unit: 's', scale: 'linear' },
      y: { label: 'RSS', unit: 'bytes', scale: 'linear' },
      series: seriesOf(opts.series, (c) => rssSeries(c), rssNotes),
      marks: { spans: span },
      notes: rssNotes,
    },
  ];
  // An idle case delivers nothing: a flat line at 0 would only take room.
  return delivered ? charts : charts.slice(1);
}

/**
 * The inputs of `caseTimelines` and `percentileSpectrum` for one case of a
 * result: completed cells with raw data, grouped by runtime in the order of
 * `runtimes` (runtimes without such cells are kept, with no cells).
 */
export function cellsByRuntime(cells: readonly CellResult[], caseName: string, runtimes: readonly string[]): { runtime: string; cells: CellResult[] }[] {
  return runtimes.map((runtime) => ({
    runtime,
    cells: cells.filter((c) => c.case === caseName && c.runtime === runtime && c.status === 'completed' && c.raw !== undefined),
  }));
}
