// Chart specs from figures a view already has (repetition values, medians,
// ceiling plateaus, memory fits, ratios, comparison rows): pure functions of
// numbers with units, so the view can change shape without these changing.

import type { CeilingCause, CeilingMetrics, MemoryFit } from '../../schema/result.js';
import { median } from '../../stats/descriptive.js';
import { isNonEmpty } from '../../stats/errors.js';
import type { Annotation, AxisSpec, BandPoint, ChartSpec, Point, RuleMark, Series, SpanMark, Unit } from './charts.js';
import { tickLabel } from './ticks.js';

/** A y axis for the helpers below: what, in which unit, on which scale. */
export interface ValueAxis {
  label: string;
  unit: Exclude<Unit, 'category' | 'percentile'>;
  scale: 'linear' | 'log';
  zero?: boolean;
}

const yAxis = (a: ValueAxis): AxisSpec => ({ label: a.label, unit: a.unit, scale: a.scale, ...(a.zero !== undefined ? { zero: a.zero } : {}) });

// --- per-repetition dots beside the median ---

export interface DotsRow {
  /** The category (runtime). */
  name: string;
  group?: string;
  /** The figure of each completed repetition. */
  values: readonly number[];
  /** The median shown in the tables; computed from `values` when absent. */
  median?: number;
}

/**
 * A `dots` chart: one category per row, one dot per repetition and the median
 * as a wide tick beside them, so the spread the tables reduce to ± MAD is
 * visible (and an outlying first repetition stands out). Rows with no values
 * are left out with a note. An optional `bound` draws a rule (a target rate).
 */
export function repetitionDots(opts: { id: string; title: string; caption?: string; y: ValueAxis; rows: readonly DotsRow[]; bound?: { value: number; label: string } }): ChartSpec {
  const rows = opts.rows.filter((r) => r.values.length > 0);
  const notes = opts.rows.filter((r) => r.values.length === 0).map((r) => `${r.name}: no completed repetition; left out`);
  const series: Series[] = rows.map((r) => {
    const values = [...r.values];
    const m = r.median ?? (isNonEmpty(values) ? median(values) : Number.NaN);
    return {
      name: r.name,
      ...(r.group !== undefined ? { group: r.group } : {}),
      points: values.map((v): Point => [r.name, v]),
      center: [[r.name, m]],
    };
  });
  return {
    id: opts.id,
    kind: 'dots',
    title: opts.title,
    caption: opts.caption ?? 'One dot per repetition; the wide tick is the median the tables show.',
    x: { label: 'runtime', unit: 'category', scale: 'category', categories: rows.length > 0 ? rows.map((r) => r.name) : ['–'] },
    y: yAxis(opts.y),
    series,
    ...(opts.bound ? { marks: { rules: [{ axis: 'y', value: opts.bound.value, label: opts.bound.label, kind: 'bound' }] } } : {}),
    notes,
  };
}

// --- ceiling plateaus ---

/** Short words for why a ceiling search stopped, for the annotation at the stop. */
export const CAUSE_WORDS: Record<CeilingCause, string> = {
  latency: 'latency',
  errors: 'errors',
  memory: 'memory budget',
  cpu: 'CPU',
  crash: 'crash',
  'fd-limit': 'open-file limit',
  'fd-margin': 'open-file margin',
  'loadgen-ports': 'client ports',
  'loadgen-fds': 'client open files',
  'loadgen-saturated': 'load generator saturated',
  'max-connections': 'maximum reached',
};

/** Which plateau figure a plateau chart draws. */
export type PlateauMetric = 'p99' | 'cpu' | 'rss';

const PLATEAU_AXES: Record<PlateauMetric, ValueAxis> = {
  p99: { label: 'heartbeat p99', unit: 'µs', scale: 'log' },
  cpu: { label: 'server CPU', unit: '%', scale: 'linear' },
  rss: { label: 'server RSS', unit: 'bytes', scale: 'linear' },
};

function plateauValue(p: CeilingMetrics['plateaus'][number], metric: PlateauMetric): number | null {
  return metric === 'p99' ? p.p99Us : metric === 'cpu' ? p.cpuPct : p.rssBytes;
}

/**
 * Where a plateau sits on the x axis: the connections it held, or, for a plateau that broke the SLO, the
 * connections it aimed for — a server that exited there holds none, and drawing it at 0 would put the
 * failure at the start of the curve instead of at its end.
 */
function plateauX(p: CeilingMetrics['plateaus'][number]): number {
  return p.ok ? p.connections : Math.max(p.connections, p.targetConnections);
}

function sloBound(c: CeilingMetrics, metric: PlateauMetric): { value: number; label: string } | undefined {
  if (metric === 'p99') return { value: c.slo.heartbeatP99Ms * 1000, label: `SLO: p99 ≤ ${tickLabel(c.slo.heartbeatP99Ms * 1000, 'µs')}` };
  if (metric === 'cpu') return { value: c.slo.maxServerCpuPct, label: `SLO: CPU ≤ ${tickLabel(c.slo.maxServerCpuPct, '%')}` };
  if (c.slo.memoryBudgetMiB === null) return undefined;
  const bytes = c.slo.memoryBudgetMiB * 1024 * 1024;
  return { value: bytes, label: `memory budget ${tickLabel(bytes, 'bytes')}` };
}

/**
 * A `plateau` chart of ceiling searches, one series per runtime: x =
 * connections held on the plateau (`plateauX`: a plateau that broke at the
 * connections it aimed for), y = `metric` there (heartbeat p99 µs on a
 * log axis, server CPU %, or settled RSS bytes), plateaus in connection order
 * (bisection plateaus included). The SLO bound of `metric` is a rule (one per
 * distinct value), and each search's stop is annotated with its cause at the
 * first plateau that broke the SLO, or at the last plateau when something
 * other than the SLO stopped it. Plateaus without the figure are left out
 * (`checkChart` notes them).
 */
export function plateauChart(opts: { id: string; title: string; caption?: string; metric: PlateauMetric; runtimes: readonly { name: string; group?: string; ceiling: CeilingMetrics }[] }): ChartSpec {
  const series: Series[] = [];
  const annotations: Annotation[] = [];
  const rules: RuleMark[] = [];
  const notes: string[] = [];
  for (const { name, group, ceiling } of opts.runtimes) {
    const plateaus = [...ceiling.plateaus].sort((a, b) => plateauX(a) - plateauX(b));
    const points = plateaus.flatMap((p): Point[] => {
      const v = plateauValue(p, opts.metric);
      return v === null ? [] : [[plateauX(p), v]];
    });
    if (points.length === 0) {
      notes.push(`${name}: no plateau has this figure; left out`);
      continue;
    }
    series.push({ name, ...(group !== undefined ? { group } : {}), points });
    const bad = plateaus.find((p) => !p.ok && p.targetConnections === ceiling.firstBadConnections && plateauValue(p, opts.metric) !== null);
    const stopAt = bad ?? [...plateaus].reverse().find((p) => plateauValue(p, opts.metric) !== null);
    if (stopAt) annotations.push({ at: [plateauX(stopAt), plateauValue(stopAt, opts.metric)!], text: `stopped: ${CAUSE_WORDS[ceiling.cause]}`, series: name });
    const bound = sloBound(ceiling, opts.metric);
    if (bound && !rules.some((r) => r.value === bound.value)) rules.push({ axis: 'y', value: bound.value, label: bound.label, kind: 'bound' });
  }
  return {
    id: opts.id,
    kind: 'plateau',
    title: opts.title,
    caption:
      opts.caption ??
      'Each dot is a plateau the search held (one that broke the SLO at the connections it aimed for); the dashed line is the bound the plateau had to stay within, and each runtime\'s stop is marked with its cause.',
    x: { label: 'open connections', unit: 'connections', scale: 'linear' },
    y: yAxis(PLATEAU_AXES[opts.metric]),
    series,
    marks: { rules, annotations },
    notes,
  };
}

// --- memory per connection ---

/**
 * A `scatter-fit` chart of memory per connection: the plateaus' settled RSS
 * against open connections (dots) and each runtime's least-squares line (its
 * slope is bytes per connection; R² says how straight). Runtimes without a
 * fit are left out with a note.
 */
export function memoryFitChart(opts: { id: string; title: string; caption?: string; runtimes: readonly { name: string; group?: string; fit: MemoryFit | null }[] }): ChartSpec {
  const notes: string[] = [];
  const series: Series[] = [];
  for (const { name, group, fit } of opts.runtimes) {
    if (fit === null || fit.points.length === 0) {
      notes.push(`${name}: no memory fit; left out`);
      continue;
    }
    series.push({
      name,
      ...(group !== undefined ? { group } : {}),
      points: fit.points.map(([c, b]): Point => [c, b]),
      fit: { slope: fit.bytesPerConnection, intercept: fit.interceptBytes, r2: fit.r2 },
    });
  }
  return {
    id: opts.id,
    kind: 'scatter-fit',
    title: opts.title,
    caption: opts.caption ?? 'Settled server RSS on each plateau; the line is the least-squares fit, its slope the memory per connection.',
    x: { label: 'open connections', unit: 'connections', scale: 'linear' },
    y: { label: 'server RSS', unit: 'bytes', scale: 'linear', zero: false },
    series,
    notes,
  };
}

// --- ratios to the reference ---

export interface RatioValue {
  category: string;
  ratio: number;
  /** An interval of the ratio (bootstrap, say), when known. */
  low?: number;
  high?: number;
}

/**
 * A `bars-interval` chart of ratios to a reference (the two-gap view: per
 * runtime, synthetic against real-shape figures as ratios to the reference
 * runtime): y = ratio on a log axis, so 2× and 0.5× are the same distance
 * from the 1× rule; one bar per series and category, its interval as a
 * whisker. `better` says which direction is good, for the caption.
 */
export function ratioBars(opts: {
  id: string;
  title: string;
  caption?: string;
  label: string;
  categories: readonly string[];
  series: readonly { name: string; group?: string; values: readonly RatioValue[] }[];
  reference: string;
}): ChartSpec {
  const series: Series[] = opts.series
    .filter((s) => s.values.length > 0)
    .map((s) => {
      const band = s.values.flatMap((v): BandPoint[] => (v.low !== undefined && v.high !== undefined ? [[v.category, v.low, v.high]] : []));
      return {
        name: s.name,
        ...(s.group !== undefined ? { group: s.group } : {}),
        points: s.values.map((v): Point => [v.category, v.ratio]),
        ...(band.length > 0 ? { band } : {}),
      };
    });
  return {
    id: opts.id,
    kind: 'bars-interval',
    title: opts.title,
    caption: opts.caption ?? `Each bar is a ratio to ${opts.reference} (the 1× line); whiskers are intervals where known.`,
    x: { label: 'runtime', unit: 'category', scale: 'category', categories: [...opts.categories] },
    y: { label: opts.label, unit: '×', scale: 'log' },
    series,
    marks: { rules: [{ axis: 'y', value: 1, label: `1× = ${opts.reference}`, kind: 'reference' }] },
  };
}

// --- bench compare: base against head ---

export interface CompareDistributionRow {
  /** The category: the runtime (of one case and metric). */
  category: string;
  /** Each side's repetition values, in the metric's unit. */
  base: readonly number[];
  head: readonly number[];
  /** The shift's confidence interval in % of the base median (Hodges–Lehmann, core/compare.ts). */
  shiftPct?: { low: number; high: number };
  /** The metric's minimum effect, % (the threshold). */
  thresholdPct: number;
  /** The verdict as the tables print it: `REGRESSION +12%`, `~`, `suspect: too few reps`. */
  verdict: string;
  /** The verdict's kind (core/compare.ts), for its tone: a regression in the "bad" colour, a suspect in "warn". */
  kind?: 'regression' | 'improvement' | 'unchanged' | 'suspect';
}

const VERDICT_TONE: Record<NonNullable<CompareDistributionRow['kind']>, Annotation['tone']> = {
  regression: 'bad',
  improvement: 'good',
  unchanged: undefined,
  suspect: 'warn',
};

/**
 * A `distributions` chart for `bench compare`, one per case and metric:
 * per runtime, base and head repetitions as dots with their medians; around
 * the base median the minimum-effect zone (± threshold, a y span limited to
 * the runtime); on the head the confidence interval of the shift placed on
 * the base median (where the head's median lies, at the CI's level); the
 * verdict above. A regression is then a head interval wholly outside the
 * zone on the bad side — what `decideVerdict` decides, drawn.
 */
export function compareDistributions(opts: { id: string; title: string; caption?: string; y: ValueAxis; rows: readonly CompareDistributionRow[] }): ChartSpec {
  const rows = opts.rows.filter((r) => r.base.length > 0 && r.head.length > 0);
  const notes = opts.rows.filter((r) => r.base.length === 0 || r.head.length === 0).map((r) => `${r.category}: a side has no repetition; left out`);
  const base: Series = { name: 'base', points: [], center: [] };
  const head: Series = { name: 'head', points: [], center: [], band: [] };
  const spans: SpanMark[] = [];
  const annotations: Annotation[] = [];
  for (const r of rows) {
    const b = [...r.base];
    const h = [...r.head];
    if (!isNonEmpty(b) || !isNonEmpty(h)) continue;
    const bm = median(b);
    const hm = median(h);
    base.points.push(...b.map((v): Point => [r.category, v]));
    head.points.push(...h.map((v): Point => [r.category, v]));
    base.center!.push([r.category, bm]);
    head.center!.push([r.category, hm]);
    const t = r.thresholdPct / 100;
    spans.push({ axis: 'y', at: r.category, from: bm * (1 - t), to: bm * (1 + t), label: `±${r.thresholdPct}%` });
    let top = Math.max(...b, ...h, bm * (1 + t));
    if (r.shiftPct) {
      const lo = bm * (1 + r.shiftPct.low / 100);
      const hi = bm * (1 + r.shiftPct.high / 100);
      head.band!.push([r.category, lo, hi]);
      top = Math.max(top, hi);
    }
    const tone = r.kind === undefined ? undefined : VERDICT_TONE[r.kind];
    annotations.push({ at: [r.category, top], text: r.verdict, ...(tone ? { tone } : {}) });
  }
  return {
    id: opts.id,
    kind: 'distributions',
    title: opts.title,
    caption:
      opts.caption ??
      'Per runtime: base (left) and head (right) repetitions as dots, medians as wide ticks; the shaded zone is the base median ± the minimum effect; the whisker on head is the 95% interval of the shift, placed on the base median.',
    x: { label: 'runtime', unit: 'category', scale: 'category', categories: rows.length > 0 ? rows.map((r) => r.category) : ['–'] },
    y: yAxis(opts.y),
    series: [base, head].filter((s) => s.points.length > 0),
    marks: { spans, annotations },
    notes,
  };
}
