// From a checked ChartSpec to what the browser draws: axes with their ticks
// and labels, and a list of layers (areas, lines, dots, bars, rules, text) in
// plain numbers. Everything a reader sees as text or position is decided
// here, in Node, where it can be tested; the script in the page (client.ts)
// only hands the layers to the charting library.

import type { Annotation, AxisSpec, ChartKind, ChartSpec, Series, Unit, XValue } from './charts.js';
import { formatRate } from '../units.js';
import { formatValue, linearAxis, logAxis, percentileAxis, percentileToX, type AxisTicks } from './ticks.js';

/** How a series group is drawn in every chart of a document: colour class, dash pattern, dot symbol. */
export interface SeriesStyle {
  /** CSS class giving the colour (`s0` … `s7`), via `currentColor`. */
  cls: string;
  /** SVG stroke-dasharray ('' = solid): lines stay apart without colour. */
  dash: string;
  /** A Plot symbol name: dots stay apart without colour. */
  symbol: string;
}

/** Dash patterns and symbols in style order: distinct in grey and in print. */
export const DASHES: readonly string[] = ['', '7,3', '2,3', '9,3,2,3', '4,4', '1,2'];
export const SYMBOLS: readonly string[] = ['circle', 'square', 'triangle', 'diamond', 'cross', 'star', 'wye', 'times'];
/** Colour classes in the page's CSS (s0 … s7). */
export const PALETTE_SIZE = 8;

/** Bars of the k-th series of a chart: filled for even k, outlined for odd, so two series side by side differ without colour. */
export const barFillOpacity = (k: number): number => (k % 2 === 0 ? 0.8 : 0);

/** Styles by group, in order of first appearance, so a runtime keeps its colour, dash and symbol across every chart. */
export function assignStyles(groups: Iterable<string>): Map<string, SeriesStyle> {
  const out = new Map<string, SeriesStyle>();
  for (const g of groups) {
    if (out.has(g)) continue;
    const i = out.size;
    out.set(g, { cls: `s${i % PALETTE_SIZE}`, dash: DASHES[i % DASHES.length]!, symbol: SYMBOLS[i % SYMBOLS.length]! });
  }
  return out;
}

/** The group a series is styled by. */
export const groupOf = (s: Series): string => s.group ?? s.name;

export type Layer =
  /** Area between low and high: [x, low, high]. */
  | { mark: 'area'; cls: string; fillOpacity: number; data: [number, number, number][] }
  | { mark: 'line'; cls: string; dash: string; data: [number, number][] }
  | { mark: 'dot'; cls: string; symbol: string; filled: boolean; data: [number, number][] }
  /** Horizontal segments [x1, x2, y] (medians). */
  | { mark: 'hseg'; cls: string; data: [number, number, number][] }
  /** Vertical segments [x, y1, y2] (intervals). */
  | { mark: 'vseg'; cls: string; data: [number, number, number][] }
  /** Rectangles [x1, x2, y1, y2] (bars, zones). */
  | { mark: 'rect'; cls: string; fillOpacity: number; stroke: boolean; data: [number, number, number, number][] }
  /** A line across the plot at `value` on `axis`. */
  | { mark: 'rule'; cls: string; axis: 'x' | 'y'; value: number; dash: string }
  /** Text at [x, y, text], anchored and offset in px. */
  | { mark: 'text'; cls: string; anchor: 'start' | 'middle' | 'end'; dx: number; dy: number; data: [number, number, string][] };

/** A numeric axis as drawn (category axes are numeric too: category i at x = i). */
export type RenderAxis = AxisTicks;

/** One chart as the page's script draws it: every value a finite number, every text final. */
export interface RenderChart {
  id: string;
  kind: ChartKind;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  x: RenderAxis;
  y: RenderAxis;
  layers: Layer[];
  /** The SVG's accessible name: title and a one-line reading of the data. */
  ariaLabel: string;
}

/** Pixel height per kind: the spectrum and plateaus carry the most detail. */
const HEIGHT: Record<ChartKind, number> = {
  'percentile-spectrum': 320,
  timeline: 230,
  plateau: 300,
  'scatter-fit': 300,
  dots: 260,
  'bars-interval': 260,
  distributions: 290,
};

/** Average glyph width of the 12 px system font, px: enough to reserve margins for labels. */
export const CHAR_PX = 7.5;
/** Minimum vertical distance between two direct labels, px. */
export const LABEL_GAP_PX = 15;

const MARGIN_TOP = 24;
/** Fill opacity of repetition bands and of shaded spans: the lines and dots over them stay readable. */
const BAND_OPACITY = 0.16;
const SPAN_OPACITY = 0.08;
const MARGIN_BOTTOM = 46;

const isCategoryKind = (k: ChartKind) => k === 'dots' || k === 'bars-interval' || k === 'distributions';
const isLineKind = (k: ChartKind) => k === 'percentile-spectrum' || k === 'timeline' || k === 'plateau';

/**
 * Spreads label centres (px, y down) so that neighbours do not overlap —
 * label k is `heights[k]` px tall (one number: all alike) — moving each as
 * little as the order allows, within [minY, maxY] when they fit. Returns the
 * new centres in the input order.
 */
export function spreadLabels(ys: readonly number[], heights: number | readonly number[], minY: number, maxY: number): number[] {
  const h = (i: number) => (typeof heights === 'number' ? heights : heights[i] ?? 0);
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const placed = order.map((o) => Math.min(Math.max(o.y, minY + h(o.i) / 2), maxY - h(o.i) / 2));
  const gap = (k: number) => (h(order[k - 1]!.i) + h(order[k]!.i)) / 2;
  for (let k = 1; k < placed.length; k++) placed[k] = Math.max(placed[k]!, placed[k - 1]! + gap(k));
  const n = placed.length;
  if (n > 0 && placed[n - 1]! > maxY - h(order[n - 1]!.i) / 2) {
    placed[n - 1] = maxY - h(order[n - 1]!.i) / 2;
    for (let k = n - 2; k >= 0; k--) placed[k] = Math.min(placed[k]!, placed[k + 1]! - gap(k + 1));
  }
  const out = new Array<number>(ys.length);
  order.forEach((o, k) => (out[o.i] = placed[k]!));
  return out;
}

/** Position in [0, 1] of `v` along an axis (0 at domain[0]). */
function fraction(axis: RenderAxis, v: number): number {
  const [a, b] = axis.domain;
  if (axis.type === 'log') return (Math.log(v) - Math.log(a)) / (Math.log(b) - Math.log(a));
  return (v - a) / (b - a);
}

function fromFraction(axis: RenderAxis, f: number): number {
  const [a, b] = axis.domain;
  if (axis.type === 'log') return Math.exp(Math.log(a) + f * (Math.log(b) - Math.log(a)));
  return a + f * (b - a);
}

/** Maps a spec's x value to the drawn x: percentile → 1/(1 − p), category → its index. */
function xMapper(spec: ChartSpec): (x: XValue) => number {
  if (spec.x.scale === 'category') {
    const cats = spec.x.categories ?? [];
    return (x) => cats.indexOf(String(x));
  }
  if (spec.x.scale === 'percentile') return (x) => percentileToX(Number(x));
  return (x) => Number(x);
}

function extent(values: readonly number[]): [number, number] | undefined {
  if (values.length === 0) return undefined;
  return [Math.min(...values), Math.max(...values)];
}

function numericAxis(axis: AxisSpec, values: readonly number[], defaultZero: boolean, tight: boolean): RenderAxis {
  const e = extent(values) ?? [axis.scale === 'log' ? 1 : 0, 1];
  if (axis.scale === 'log') return logAxis(e[0], e[1], axis.unit, axis.label);
  const zero = axis.zero ?? defaultZero;
  const lo = zero ? Math.min(0, e[0]) : e[0];
  const hi = zero ? Math.max(0, e[1]) : e[1];
  const a = linearAxis(lo, hi, axis.unit, axis.label, tight ? 7 : 5);
  if (!tight || lo === hi) return a;
  // x axes end where the data end: no empty step after the last second.
  const ticks = a.ticks.map((t, i) => [t, a.labels[i]!] as const).filter(([t]) => t >= lo - 1e-9 * Math.abs(lo || 1) && t <= hi + 1e-9 * Math.abs(hi || 1));
  return { ...a, domain: [lo, hi], ticks: ticks.map(([t]) => t), labels: ticks.map(([, l]) => l) };
}

/** Every y a chart places (points, bands, centers, fit ends, rules, spans, annotations). */
function yValues(spec: ChartSpec): number[] {
  const ys: number[] = [];
  for (const s of spec.series) {
    for (const [, y] of s.points) ys.push(y);
    for (const [, lo, hi] of s.band ?? []) ys.push(lo, hi);
    for (const [, y] of s.center ?? []) ys.push(y);
    if (s.fit) {
      const xs = s.points.map(([x]) => Number(x));
      for (const x of [Math.min(...xs), Math.max(...xs)]) ys.push(s.fit.intercept + s.fit.slope * x);
    }
  }
  const m = spec.marks ?? {};
  for (const r of m.rules ?? []) if (r.axis === 'y') ys.push(Number(r.value));
  for (const s of m.spans ?? []) if (s.axis === 'y') ys.push(s.from, s.to);
  for (const a of m.annotations ?? []) ys.push(a.at[1]);
  if (spec.kind === 'bars-interval') ys.push(spec.y.scale === 'log' || spec.y.unit === '×' ? 1 : 0);
  return ys.filter((y) => Number.isFinite(y) && (spec.y.scale !== 'log' || y > 0));
}

function xValues(spec: ChartSpec, mx: (x: XValue) => number): number[] {
  const xs: number[] = [];
  for (const s of spec.series) {
    for (const [x] of s.points) xs.push(mx(x));
    for (const [x] of s.band ?? []) xs.push(mx(x));
  }
  const m = spec.marks ?? {};
  for (const r of m.rules ?? []) if (r.axis === 'x') xs.push(mx(r.value));
  for (const s of m.spans ?? []) if (s.axis === 'x') xs.push(mx(s.from), mx(s.to));
  for (const a of m.annotations ?? []) xs.push(mx(a.at[0]));
  return xs;
}

function xAxisOf(spec: ChartSpec, mx: (x: XValue) => number): RenderAxis {
  if (spec.x.scale === 'category') {
    const cats = spec.x.categories ?? [];
    return { type: 'linear', domain: [-0.5, cats.length - 0.5], ticks: cats.map((_, i) => i), labels: [...cats], title: spec.x.label };
  }
  if (spec.x.scale === 'percentile') {
    const ps = spec.series.flatMap((s) => s.points.map(([x]) => Number(x)));
    return percentileAxis(ps.length > 0 ? Math.min(...ps) : 50, ps.length > 0 ? Math.max(...ps) : 99.99, spec.x.label);
  }
  return numericAxis(spec.x, xValues(spec, mx), false, true);
}

/**
 * A value written beside a mark: as the tables write it, but a rate without its unit (`207k`, not
 * `207k msgs/s`): the axis title carries it, and the shorter label stays clear of the next category.
 */
function valueLabel(v: number, unit: Unit): string {
  return unit === 'msgs/s' ? formatRate(v) : formatValue(v, unit);
}

/** Half the width of an interval's end caps, in category units: a short interval still reads as an "I", not a dot. */
const CAP = 0.035;

/** Intervals shorter than this many px get one cap in their middle: two caps that close read as "=". */
const MIN_CAPPED_PX = 7;

/** Intervals as vertical segments with caps at both ends (one cap in the middle when shorter than `MIN_CAPPED_PX`). */
function intervalLayers(cls: string, data: [number, number, number][], yPx: (v: number) => number): Layer[] {
  const caps = data.flatMap(([x, lo, hi]): [number, number, number][] =>
    Math.abs(yPx(hi) - yPx(lo)) < MIN_CAPPED_PX
      ? [[x - CAP, x + CAP, (lo + hi) / 2]]
      : [
          [x - CAP, x + CAP, lo],
          [x - CAP, x + CAP, hi],
        ],
  );
  return [
    { mark: 'vseg', cls, data },
    { mark: 'hseg', cls: `${cls} cap`, data: caps },
  ];
}

/**
 * Where series sit within a category: side by side, only the series that have
 * a value there (a dots chart with one runtime per category keeps each one
 * centred). `width` is one slot, in units of one category.
 */
function categorySlots(series: readonly Series[]): { width: number; offset: (c: XValue, k: number) => number; isLast: (c: XValue, k: number) => boolean } {
  const present = new Map<string, number[]>();
  series.forEach((s, k) => {
    for (const [c] of s.points) {
      const list = present.get(String(c)) ?? [];
      if (!list.includes(k)) list.push(k);
      present.set(String(c), list);
    }
  });
  const width = Math.min(0.3, 0.8 / Math.max(1, ...[...present.values()].map((l) => l.length)));
  const slot = (c: XValue, k: number) => {
    const list = present.get(String(c)) ?? [k];
    return { i: Math.max(0, list.indexOf(k)), n: list.length };
  };
  return {
    width,
    offset: (c, k) => {
      const { i, n } = slot(c, k);
      return (i - (n - 1) / 2) * width;
    },
    isLast: (c, k) => {
      const { i, n } = slot(c, k);
      return i === n - 1;
    },
  };
}

/** A short reading of the chart for its accessible name: each series' last point (or median). */
function readingOf(spec: ChartSpec): string {
  const fx = (x: XValue) => (typeof x === 'string' ? x : spec.x.unit === 'percentile' ? `p${x}` : formatValue(x, spec.x.unit));
  const parts = spec.series.map((s) => {
    if (s.center && s.center.length > 0) return `${s.name}: ${s.center.map(([x, y]) => `${fx(x)} ${formatValue(y, spec.y.unit)}`).join(', ')}`;
    const last = s.points[s.points.length - 1]!;
    if (s.fit) return `${s.name}: ${formatValue(s.fit.slope, spec.y.unit)} per ${spec.x.unit === 'connections' ? 'connection' : spec.x.unit}, R² ${s.fit.r2.toFixed(3)}`;
    if (spec.kind === 'bars-interval') return `${s.name}: ${s.points.map(([x, y]) => `${x} ${formatValue(y, spec.y.unit)}`).join(', ')}`;
    return `${s.name}: ${formatValue(last[1], spec.y.unit)} at ${fx(last[0])}`;
  });
  return `${spec.title}. ${parts.length > 0 ? parts.join('; ') : 'No data'}.`;
}

/**
 * A line's annotation at its own last point (a plateau search's stop): drawn
 * as part of the line's direct label ("bun: stopped: latency") instead of a
 * second text beside it.
 */
function endAnnotation(spec: ChartSpec, s: Series): Annotation | undefined {
  if (!isLineKind(spec.kind)) return undefined;
  const last = s.points[s.points.length - 1];
  return (spec.marks?.annotations ?? []).find((a) => a.series === s.name && last !== undefined && a.at[0] === last[0] && a.at[1] === last[1]);
}

function fitLabel(s: Series, spec: ChartSpec): string {
  const per = spec.x.unit === 'connections' ? 'conn' : spec.x.unit;
  return `${s.name}: ${formatValue(s.fit!.slope, spec.y.unit)}/${per}, R² ${s.fit!.r2.toFixed(3)}`;
}

/**
 * The drawing instructions of a checked spec (`checkChart`), with `styles`
 * from `assignStyles` (a series whose group has no style gets the next one).
 * Axis domains cover every point, band, center, fit, rule, span and
 * annotation, so an SLO bound above the data is still on the chart. Direct
 * labels are spread vertically (`spreadLabels`) so none overlap.
 */
export function layoutChart(spec: ChartSpec, styles: Map<string, SeriesStyle>): RenderChart {
  for (const s of spec.series) if (!styles.has(groupOf(s))) assignStyles([...styles.keys(), groupOf(s)]).forEach((v, k) => styles.set(k, v));
  const styleOf = (s: Series) => styles.get(groupOf(s))!;
  const mx = xMapper(spec);
  const x = xAxisOf(spec, mx);
  const y = numericAxis(spec.y, yValues(spec), true, false);
  const height = HEIGHT[spec.kind];
  const longest = (texts: readonly string[]) => Math.max(0, ...texts.map((t) => t.length));
  const margin = {
    top: MARGIN_TOP,
    right: isLineKind(spec.kind)
      ? 16 + CHAR_PX * longest(spec.series.flatMap((s) => [s.name, ...(endAnnotation(spec, s) ? [endAnnotation(spec, s)!.text] : [])]))
      : isCategoryKind(spec.kind)
        ? 10 + CHAR_PX * longest(spec.series.flatMap((s) => (s.center ?? []).map(([, v]) => valueLabel(v, spec.y.unit))))
        : 20,
    bottom: MARGIN_BOTTOM,
    left: 28 + CHAR_PX * longest(y.labels),
  };
  const plotTop = margin.top;
  const plotBottom = height - margin.bottom;
  const yPx = (v: number) => plotTop + (1 - fraction(y, v)) * (plotBottom - plotTop);
  const yFromPx = (px: number) => fromFraction(y, 1 - (px - plotTop) / (plotBottom - plotTop));
  const layers: Layer[] = [];
  const marks = spec.marks ?? {};
  const [x0, x1] = x.domain;
  const [y0, y1] = y.domain;
  const cats = spec.x.categories ?? [];
  const slots = categorySlots(spec.series);
  const width = slots.width;

  // Shaded spans first, under everything.
  for (const s of marks.spans ?? []) {
    if (s.axis === 'x') {
      layers.push({ mark: 'rect', cls: 'span', fillOpacity: SPAN_OPACITY, stroke: false, data: [[mx(s.from), mx(s.to), y0, y1]] });
      // At the bottom of the span: lines (CPU near a core, RSS on a zero-based axis, delivered msgs/s) mostly run high.
      layers.push({ mark: 'text', cls: 'span-label', anchor: 'start', dx: 4, dy: -7, data: [[mx(s.from), y0, s.label]] });
    } else if (s.at !== undefined) {
      const i = cats.indexOf(s.at);
      // Unlabelled: one zone per category would crowd the medians' labels; the caption and the data table name it.
      layers.push({ mark: 'rect', cls: 'zone', fillOpacity: SPAN_OPACITY, stroke: false, data: [[i - 0.45, i + 0.45, s.from, s.to]] });
    } else {
      layers.push({ mark: 'rect', cls: 'span', fillOpacity: SPAN_OPACITY, stroke: false, data: [[x0, x1, s.from, s.to]] });
      layers.push({ mark: 'text', cls: 'span-label', anchor: 'start', dx: 4, dy: 11, data: [[x0, s.to, s.label]] });
    }
  }

  // Reference and bound rules under the data, their labels above it (below).
  const ruleLabels: Layer[] = [];
  // A bar chart's reference rule is the bars' own baseline: a label on it would sit under the first bar, so
  // the axis title says it instead ("… (ratio, log scale) · 1× = node-ws").
  const inTitle: string[] = [];
  for (const r of marks.rules ?? []) {
    const cls = `rule rule-${r.kind ?? 'reference'}`;
    const dash = r.kind === 'bound' ? '6,4' : r.kind === 'phase' ? '2,3' : '';
    if (r.axis === 'y') {
      layers.push({ mark: 'rule', cls, axis: 'y', value: Number(r.value), dash });
      if (spec.kind === 'bars-interval' && (r.kind ?? 'reference') === 'reference') {
        inTitle.push(r.label);
        continue;
      }
      // At the left: curves mostly rise to the right (plateaus, spectra), and direct labels take the right.
      ruleLabels.push({ mark: 'text', cls: `${cls} rule-label`, anchor: 'start', dx: 4, dy: -5, data: [[x0, Number(r.value), r.label]] });
    } else {
      const v = mx(r.value);
      layers.push({ mark: 'rule', cls, axis: 'x', value: v, dash });
      ruleLabels.push({ mark: 'text', cls: `${cls} rule-label`, anchor: 'start', dx: 4, dy: 11, data: [[v, y1, r.label]] });
    }
  }

  const labels: { series: Series; x: number; y: number; text: string; anchor: 'start' | 'end'; dx: number }[] = [];
  spec.series.forEach((s, k) => {
    const st = styleOf(s);
    if (isCategoryKind(spec.kind)) {
      const pos = (c: XValue) => mx(c) + slots.offset(c, k);
      if (spec.kind === 'bars-interval') {
        const base = spec.y.scale === 'log' || spec.y.unit === '×' ? 1 : 0;
        layers.push({ mark: 'rect', cls: `${st.cls} bar`, fillOpacity: barFillOpacity(k), stroke: true, data: s.points.map(([c, v]) => [pos(c) - width * 0.42, pos(c) + width * 0.42, base, v]) });
        if (s.band) layers.push(...intervalLayers(`${st.cls} interval`, s.band.map(([c, lo, hi]) => [pos(c), lo, hi]), yPx));
        const up: [number, number, string][] = [];
        const down: [number, number, string][] = [];
        for (const [c, v] of s.points) {
          const b = s.band?.find(([bc]) => bc === c);
          // The value sits beyond the bar's end and its whisker: above a bar over the baseline, below one under it.
          if (v >= base) up.push([pos(c), Math.max(v, b?.[2] ?? v), valueLabel(v, spec.y.unit)]);
          else down.push([pos(c), Math.min(v, b?.[1] ?? v), valueLabel(v, spec.y.unit)]);
        }
        if (up.length > 0) layers.push({ mark: 'text', cls: `${st.cls} value-label`, anchor: 'middle', dx: 0, dy: -10, data: up });
        if (down.length > 0) layers.push({ mark: 'text', cls: `${st.cls} value-label`, anchor: 'middle', dx: 0, dy: 14, data: down });
        return;
      }
      // dots and distributions: repetitions spread a little around their slot, the median as a wide tick.
      const byCat = new Map<string, number[]>();
      for (const [c, v] of s.points) byCat.set(String(c), [...(byCat.get(String(c)) ?? []), v]);
      const dots: [number, number][] = [];
      const spread = Math.min(0.06, width * 0.25);
      for (const [c, vs] of byCat) {
        const sorted = [...vs].sort((a, b) => a - b);
        sorted.forEach((v, j) => dots.push([pos(c) + (sorted.length === 1 ? 0 : ((j % 3) - 1) * spread), v]));
      }
      // The interval beside the median tick's end, not under the dots.
      if (s.band) layers.push(...intervalLayers(`${st.cls} interval`, s.band.map(([c, lo, hi]) => [pos(c) + width * 0.46, lo, hi]), yPx));
      layers.push({ mark: 'dot', cls: st.cls, symbol: st.symbol, filled: false, data: dots });
      if (s.center) {
        layers.push({ mark: 'hseg', cls: `${st.cls} center`, data: s.center.map(([c, v]) => [pos(c) - width * 0.38, pos(c) + width * 0.38, v]) });
        // The last series in a category is labelled on its right, the others on their left; beyond the
        // tick's end, and beyond the interval when there is one on that side. In a comparison only head is
        // labelled: base's label would run into the axis or the previous runtime, and the verdict above says
        // the change (its Δ); both medians are in the data table.
        const reach = (c: XValue) => (s.band?.some(([bc]) => bc === c) ? 0.46 * width + CAP : 0.38 * width);
        const right = s.center.filter(([c]) => slots.isLast(c, k));
        const left = spec.kind === 'distributions' ? [] : s.center.filter(([c]) => !slots.isLast(c, k));
        if (right.length > 0) {
          layers.push({ mark: 'text', cls: `${st.cls} value-label`, anchor: 'start', dx: 6, dy: 0, data: right.map(([c, v]) => [pos(c) + reach(c), v, valueLabel(v, spec.y.unit)]) });
        }
        if (left.length > 0) {
          layers.push({ mark: 'text', cls: `${st.cls} value-label`, anchor: 'end', dx: -4, dy: 0, data: left.map(([c, v]) => [pos(c) - 0.38 * width, v, valueLabel(v, spec.y.unit)]) });
        }
      }
      return;
    }
    // Numeric kinds.
    const pts = s.points.map(([px, py]): [number, number] => [mx(px), py]);
    if (s.band && spec.kind !== 'scatter-fit') layers.push({ mark: 'area', cls: `${st.cls} band`, fillOpacity: BAND_OPACITY, data: s.band.map(([bx, lo, hi]) => [mx(bx), lo, hi]) });
    if (spec.kind === 'scatter-fit') {
      layers.push({ mark: 'dot', cls: st.cls, symbol: st.symbol, filled: true, data: pts });
      if (s.fit) {
        const xs = pts.map(([px]) => px);
        const a = Math.min(...xs);
        const b = Math.max(...xs);
        layers.push({ mark: 'line', cls: `${st.cls} fit`, dash: st.dash, data: [[a, s.fit.intercept + s.fit.slope * a], [b, s.fit.intercept + s.fit.slope * b]] });
        labels.push({ series: s, x: b, y: yPx(s.fit.intercept + s.fit.slope * b) - 12, text: fitLabel(s, spec), anchor: 'end', dx: 0 });
      }
      return;
    }
    layers.push({ mark: 'line', cls: `${st.cls} line`, dash: st.dash, data: pts });
    // A line of one point draws nothing: its point is a dot (a one-second window, a single plateau).
    if (spec.kind === 'plateau' || pts.length === 1) layers.push({ mark: 'dot', cls: st.cls, symbol: st.symbol, filled: true, data: pts });
    const last = pts[pts.length - 1]!;
    const atEnd = endAnnotation(spec, s);
    // At the line's own end: lines that end together (spectra, timelines) share the right margin.
    labels.push({ series: s, x: last[0], y: yPx(last[1]), text: atEnd ? `${s.name}\n${atEnd.text}` : s.name, anchor: 'start', dx: 6 });
  });

  layers.push(...ruleLabels);

  // Annotations: a ring at the point and the text above-left of it.
  for (const a of marks.annotations ?? []) {
    const s = spec.series.find((se) => se.name === a.series);
    const merged = s !== undefined && endAnnotation(spec, s) === a;
    const cls = s ? `${styleOf(s).cls} annotation` : `annotation ${a.tone ? `tone-${a.tone}` : 'plain'}`;
    const ax = mx(a.at[0]);
    if (isCategoryKind(spec.kind)) {
      layers.push({ mark: 'text', cls: `${cls} verdict`, anchor: 'middle', dx: 0, dy: -12, data: [[ax, a.at[1], a.text]] });
    } else {
      layers.push({ mark: 'dot', cls: `${cls} ring`, symbol: 'circle', filled: false, data: [[ax, a.at[1]]] });
      if (merged) continue;
      const nearLeft = fraction(x, ax) < 0.3;
      layers.push({ mark: 'text', cls, anchor: nearLeft ? 'start' : 'end', dx: nearLeft ? 8 : -8, dy: -9, data: [[ax, a.at[1], a.text]] });
    }
  }

  // Direct labels, spread so none overlap (lines ending together share the right margin).
  if (labels.length > 0) {
    const spread = spreadLabels(labels.map((l) => l.y), labels.map((l) => LABEL_GAP_PX * l.text.split('\n').length), plotTop - 6, plotBottom + 6);
    labels.forEach((l, i) => {
      layers.push({ mark: 'text', cls: `${styleOf(l.series).cls} direct-label`, anchor: l.anchor, dx: l.dx, dy: 0, data: [[l.x, yFromPx(spread[i]!), l.text]] });
    });
  }

  const yDrawn = inTitle.length > 0 ? { ...y, title: `${y.title} · ${inTitle.join(' · ')}` } : y;
  return { id: spec.id, kind: spec.kind, height, margin, x, y: yDrawn, layers, ariaLabel: readingOf(spec) };
}

/** A data table of a chart (the text alternative): header and rows of display strings. */
export interface DataTable {
  head: string[];
  rows: string[][];
  /** One line per rule, span and annotation. */
  marks: string[];
}

function axisHeader(a: AxisSpec): string {
  return a.unit === 'category' || a.unit === 'percentile' ? a.label : `${a.label} (${a.unit})`;
}

/**
 * The chart as a table: for lines sharing their x values, one row per x and
 * one column per series (plus its band as "low – high"); otherwise one row per
 * point. Values formatted as the tables format them (`formatValue`).
 */
export function dataTable(spec: ChartSpec): DataTable {
  const fy = (v: number) => formatValue(v, spec.y.unit);
  const fx = (v: XValue): string => (typeof v === 'string' ? v : formatValue(v, spec.x.unit as Unit));
  const marks: string[] = [];
  const m = spec.marks ?? {};
  for (const r of m.rules ?? []) marks.push(`${r.label}: ${r.axis} = ${r.axis === 'y' ? fy(Number(r.value)) : fx(r.value)}`);
  for (const s of m.spans ?? []) marks.push(`${s.label}: ${s.axis} from ${s.axis === 'y' ? fy(s.from) : fx(s.from)} to ${s.axis === 'y' ? fy(s.to) : fx(s.to)}${s.at !== undefined ? ` (${s.at})` : ''}`);
  for (const a of m.annotations ?? []) marks.push(`${a.series ? `${a.series}: ` : ''}${a.text} (at ${fx(a.at[0])}, ${fy(a.at[1])})`);

  if (isCategoryKind(spec.kind)) {
    const head = ['series', axisHeader(spec.x), spec.kind === 'bars-interval' ? axisHeader(spec.y) : `${axisHeader(spec.y)}, each repetition`];
    const hasCenter = spec.series.some((s) => s.center);
    const hasBand = spec.series.some((s) => s.band);
    if (hasCenter) head.push('median');
    if (hasBand) head.push('interval');
    const rows: string[][] = [];
    for (const s of spec.series) {
      for (const c of spec.x.categories ?? []) {
        const vs = s.points.filter(([x]) => x === c).map(([, v]) => v);
        if (vs.length === 0) continue;
        const row = [s.name, c, vs.map(fy).join(', ')];
        if (hasCenter) {
          const ce = s.center?.find(([x]) => x === c);
          row.push(ce ? fy(ce[1]) : '–');
        }
        if (hasBand) {
          const b = s.band?.find(([x]) => x === c);
          row.push(b ? `${fy(b[1])} – ${fy(b[2])}` : '–');
        }
        rows.push(row);
      }
    }
    return { head, rows, marks };
  }

  const xsOf = (s: Series) => s.points.map(([x]) => String(x)).join('|');
  const shared = spec.series.length > 0 && spec.kind !== 'scatter-fit' && spec.series.every((s) => xsOf(s) === xsOf(spec.series[0]!));
  if (shared) {
    const head = [axisHeader(spec.x)];
    for (const s of spec.series) head.push(s.band ? `${s.name}` : s.name, ...(s.band ? [`${s.name} range`] : []));
    const rows = spec.series[0]!.points.map(([x], i) => {
      const row = [fx(x)];
      for (const s of spec.series) {
        row.push(fy(s.points[i]![1]));
        if (s.band) {
          const b = s.band.find(([bx]) => bx === x);
          row.push(b ? `${fy(b[1])} – ${fy(b[2])}` : '–');
        }
      }
      return row;
    });
    return { head, rows, marks };
  }
  const hasBand = spec.series.some((s) => s.band);
  const head = ['series', axisHeader(spec.x), axisHeader(spec.y), ...(hasBand ? ['range'] : [])];
  const rows: string[][] = [];
  for (const s of spec.series) {
    for (const [x, v] of s.points) {
      const b = s.band?.find(([bx]) => bx === x);
      rows.push([s.name, fx(x), fy(v), ...(hasBand ? [b ? `${fy(b[1])} – ${fy(b[2])}` : '–'] : [])]);
    }
    if (s.fit) rows.push([s.name, 'fit', `${fitLabel(s, spec).slice(s.name.length + 2)}, intercept ${fy(s.fit.intercept)}`, ...(hasBand ? ['–'] : [])]);
  }
  return { head, rows, marks };
}
