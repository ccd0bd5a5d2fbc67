// The chart contract of the HTML report: plain data with units, no text
// formatting and no drawing. A view (report/view.ts, report/compare/view.ts)
// or a helper (spectrum.ts, timeline.ts, figures.ts) produces ChartSpecs;
// layout.ts turns them into drawing instructions and page.ts into HTML. The
// spec says *what* is measured and in which unit; how it is drawn (ticks,
// colours, label positions) is decided in one place, so every chart of every
// report reads the same way.

/**
 * What a chart shows; each kind fixes how its series are drawn and which
 * x scale it takes (checked by `checkChart`):
 *
 * - `percentile-spectrum` — the HdrHistogram percentile plot: x = percentile
 *   (0 < x < 100, in %) drawn as 1/(1 − x/100) on a log axis labelled 50%, 90%,
 *   99%, 99.9%, 99.99%; y = latency. One line per series, `band` = the range
 *   over repetitions. x scale `percentile`.
 * - `timeline` — y over time (x in s, linear), one line per series, optional
 *   band; `spans` mark phases (the measured window).
 * - `plateau` — a search's plateaus: x = connections (or load), y = p99 / CPU /
 *   RSS; line and dots per series; a `bound` rule for the SLO; an annotation at
 *   the stop.
 * - `scatter-fit` — measured points as dots and each series' `fit` (y = intercept
 *   + slope·x) as a line labelled with its slope and R².
 * - `dots` — x = category (runtime, case); `points` are the repetitions (one
 *   dot each), `center` the median drawn as a wide tick beside them.
 * - `bars-interval` — x = category; one bar per series and category from the
 *   baseline (1 on a `×` axis, else 0) to the point, `band` = its interval.
 * - `distributions` — `bench compare`: x = category (`base`, `head`); points are
 *   the repetitions, `center` the medians, `band` the interval of the head's
 *   median implied by the shift's CI; spans (minimum effect) and an annotation
 *   (the verdict).
 */
export type ChartKind = 'percentile-spectrum' | 'timeline' | 'plateau' | 'scatter-fit' | 'dots' | 'bars-interval' | 'distributions';

/** Every chart kind, in the order the README describes them. */
export const CHART_KINDS: readonly ChartKind[] = [
  'percentile-spectrum',
  'timeline',
  'plateau',
  'scatter-fit',
  'dots',
  'bars-interval',
  'distributions',
];

/**
 * The unit of an axis's values, as stored (never pre-scaled: bytes stay bytes,
 * µs stay µs; the axis picks KiB/MiB or ms/s for display).
 * `percentile` is in % (99.9 = p99.9); `%` is a percentage (CPU: % of one
 * core); `×` a ratio (1 = equal); `category` an axis of names.
 */
export type Unit =
  | 'µs'
  | 'µs/msg'
  | 's'
  | 'bytes'
  | 'msgs/s'
  | '%'
  | '×'
  | 'connections'
  | 'count'
  | 'percentile'
  | 'category';

/**
 * `linear` and `log` are numeric; `percentile` is the spectrum's axis (values
 * in %, drawn as log 1/(1 − p)); `category` places `categories` in order.
 */
export type ScaleType = 'linear' | 'log' | 'percentile' | 'category';

export interface AxisSpec {
  /** What is measured, without the unit (`latency`, `server CPU`, `delivered`): the axis adds it. */
  label: string;
  unit: Unit;
  scale: ScaleType;
  /** `category` scale: the categories in display order; every x of the chart is one of them. */
  categories?: string[];
  /** Linear scale: whether the axis starts at 0. Default true (an honest baseline); false for e.g. RSS over time. */
  zero?: boolean;
}

/** A value on the x axis: a number, or a category name on a `category` axis. */
export type XValue = number | string;

/** One observation: x and y in the axes' units. */
export type Point = [x: XValue, y: number];

/** A range at x: low ≤ high, y units (repetitions' min and max, an interval). */
export type BandPoint = [x: XValue, low: number, high: number];

/** A least-squares line y = intercept + slope · x (units: y unit, y unit per x unit). */
export interface LinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination, 0…1. */
  r2: number;
}

export interface Series {
  /** Drawn as a direct label on the line (or under the category), in the legend and the data table. */
  name: string;
  /** Series with one group share colour, symbol and dash (e.g. a runtime across charts). Default: `name`. */
  group?: string;
  points: Point[];
  /** Per-x range drawn behind the series (see the kind). */
  band?: BandPoint[];
  /** `dots` and `distributions`: the summary (median) per category, drawn as a wide tick. */
  center?: Point[];
  /** `scatter-fit`: the fitted line. */
  fit?: LinearFit;
}

/**
 * A straight line across the plot at `value` on `axis`: `bound` (an SLO, a
 * limit: dashed, emphasised), `reference` (1×, the base median), `phase`
 * (a moment: measure start).
 */
export interface RuleMark {
  axis: 'x' | 'y';
  value: XValue;
  label: string;
  kind?: 'bound' | 'reference' | 'phase';
}

/**
 * A shaded range across the plot, from ≤ to on `axis` (the measured window, an
 * SLO's allowed region). On a category x axis a y span may be limited to one
 * category with `at` (a minimum-effect zone around one runtime's base median).
 */
export interface SpanMark {
  axis: 'x' | 'y';
  from: number;
  to: number;
  label: string;
  /** y spans on a category x axis only: the category the span covers (default: all). */
  at?: string;
}

/**
 * A text at a data point ("stopped: latency", "REGRESSION +16%"), optionally
 * tied to a series (drawn in its colour) or given a tone (a regression in the
 * page's "bad" colour; the text must say it without the colour too).
 */
export interface Annotation {
  at: Point;
  text: string;
  series?: string;
  tone?: 'good' | 'bad' | 'warn';
}

/** One chart: plain data with units (see `ChartKind` for what each field means per kind). */
export interface ChartSpec {
  /** Unique in the document; `[a-z0-9-]+` (it becomes an HTML id). */
  id: string;
  kind: ChartKind;
  title: string;
  /** One or two sentences on how to read the chart; starts the text alternative. */
  caption?: string;
  x: AxisSpec;
  y: AxisSpec;
  series: Series[];
  marks?: { rules?: RuleMark[]; spans?: SpanMark[]; annotations?: Annotation[] };
  /** Shown under the chart: what was left out and why (`checkChart` appends to it). */
  notes?: string[];
}

/** The x scale each kind takes. */
const X_SCALES: Record<ChartKind, readonly ScaleType[]> = {
  'percentile-spectrum': ['percentile'],
  timeline: ['linear'],
  plateau: ['linear', 'log'],
  'scatter-fit': ['linear', 'log'],
  dots: ['category'],
  'bars-interval': ['category'],
  distributions: ['category'],
};

/** A spec that breaks the contract: a bug in the code that built it, not bad data. */
export class ChartSpecError extends Error {
  readonly code = 'E_INVALID_CHART';
  /** Every problem found, each starting with its field path (`chart "p99": series[1].band[0]: …`). */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid chart spec: ${problems.join('; ')}`);
    this.name = 'ChartSpecError';
    this.problems = problems;
  }
}

const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

/** Why a y value cannot be drawn on `axis`, or undefined when it can. */
function badY(axis: AxisSpec, v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'not a finite number';
  if (axis.scale === 'log' && v <= 0) return 'not positive on a log axis';
  return undefined;
}

/** Why an x value cannot be drawn on `axis` (undefined when it can); `structural` when it is a contract violation. */
function badX(axis: AxisSpec, v: unknown): { why: string; structural: boolean } | undefined {
  if (axis.scale === 'category') {
    if (typeof v !== 'string') return { why: `expected a category name, got ${JSON.stringify(v)}`, structural: true };
    if (!(axis.categories ?? []).includes(v)) return { why: `"${v}" is not one of x.categories`, structural: true };
    return undefined;
  }
  if (typeof v !== 'number') return { why: `expected a number, got ${JSON.stringify(v)}`, structural: true };
  if (!Number.isFinite(v)) return { why: 'not a finite number', structural: false };
  if (axis.scale === 'log' && v <= 0) return { why: 'not positive on a log axis', structural: false };
  if (axis.scale === 'percentile' && !(v > 0 && v < 100)) return { why: 'a percentile must lie strictly between 0 and 100', structural: false };
  return undefined;
}

function checkAxis(name: 'x' | 'y', a: AxisSpec | undefined, problems: string[], at: string): void {
  if (!a || typeof a !== 'object') {
    problems.push(`${at}${name}: missing`);
    return;
  }
  if (typeof a.label !== 'string' || a.label.trim() === '') problems.push(`${at}${name}.label: must be a non-empty string`);
  if (a.scale === 'category') {
    if (!Array.isArray(a.categories) || a.categories.length === 0) problems.push(`${at}${name}.categories: a category axis needs at least one category`);
    else if (new Set(a.categories).size !== a.categories.length) problems.push(`${at}${name}.categories: duplicate category`);
  } else if (a.categories !== undefined) {
    problems.push(`${at}${name}.categories: only a category axis has categories`);
  }
  if (name === 'y' && (a.scale === 'category' || a.scale === 'percentile')) problems.push(`${at}y.scale: must be linear or log`);
  if ((a.scale === 'percentile') !== (a.unit === 'percentile')) problems.push(`${at}${name}: the percentile scale and unit go together`);
  if ((a.scale === 'category') !== (a.unit === 'category')) problems.push(`${at}${name}: the category scale and unit go together`);
}

/**
 * Checks a spec against the contract and returns a copy that can be drawn.
 *
 * Decision: broken *structure* is a bug and throws (all problems at once,
 * each with its field path); unusable *values* are data and are dropped with
 * a note the page shows under the chart, so a run with one NaN still gets its
 * report (it is rewritten after every cell and must not fail there).
 *
 * - Throws `ChartSpecError` for: an id not matching `[a-z0-9-]+`, an empty
 *   title, an unknown kind, an x scale the kind does not take, a y scale of
 *   `category`/`percentile`, a category x that is not a listed category, a
 *   string x on a numeric axis, duplicate series names, a fit on a kind other
 *   than `scatter-fit`, a center on a kind other than `dots`/`distributions`.
 * - Drops, with a note: points, band points and centers with a non-finite x or y,
 *   values ≤ 0 on a log axis, percentiles outside (0, 100), band points with
 *   low > high, fits with a non-finite coefficient, rules/spans/annotations that
 *   cannot be placed, and series left with no points.
 *
 * @throws ChartSpecError listing every structural problem
 */
export function checkChart(spec: ChartSpec): ChartSpec {
  const problems: string[] = [];
  const label = typeof spec.id === 'string' ? `chart "${spec.id}": ` : 'chart: ';
  if (typeof spec.id !== 'string' || !ID_PATTERN.test(spec.id)) problems.push(`${label}id: must match [a-z0-9][a-z0-9-]*`);
  if (typeof spec.title !== 'string' || spec.title.trim() === '') problems.push(`${label}title: must be a non-empty string`);
  if (!CHART_KINDS.includes(spec.kind)) problems.push(`${label}kind: must be one of ${CHART_KINDS.join(', ')}, got ${JSON.stringify(spec.kind)}`);
  checkAxis('x', spec.x, problems, label);
  checkAxis('y', spec.y, problems, label);
  if (problems.length > 0) throw new ChartSpecError(problems);
  if (!X_SCALES[spec.kind].includes(spec.x.scale)) {
    problems.push(`${label}x.scale: a ${spec.kind} chart takes ${X_SCALES[spec.kind].join(' or ')}, got ${spec.x.scale}`);
  }
  if (!Array.isArray(spec.series)) problems.push(`${label}series: must be an array`);
  if (problems.length > 0) throw new ChartSpecError(problems);

  const notes = [...(spec.notes ?? [])];
  const names = new Set<string>();
  const series: Series[] = [];
  spec.series.forEach((s, i) => {
    const at = `${label}series[${i}]`;
    if (typeof s.name !== 'string' || s.name.trim() === '') problems.push(`${at}.name: must be a non-empty string`);
    else if (names.has(s.name)) problems.push(`${at}.name: duplicate series "${s.name}"`);
    else names.add(s.name);
    if (!Array.isArray(s.points)) {
      problems.push(`${at}.points: must be an array`);
      return;
    }
    if (s.fit !== undefined && spec.kind !== 'scatter-fit') problems.push(`${at}.fit: only a scatter-fit chart draws fits`);
    if (s.center !== undefined && spec.kind !== 'dots' && spec.kind !== 'distributions') problems.push(`${at}.center: only dots and distributions charts draw centers`);
    const dropped: Record<string, number> = {};
    const drop = (why: string) => (dropped[why] = (dropped[why] ?? 0) + 1);
    const keepX = (x: unknown, where: string): boolean => {
      const bad = badX(spec.x, x);
      if (bad === undefined) return true;
      if (bad.structural) problems.push(`${at}.${where}: x ${bad.why}`);
      else drop(`x ${bad.why}`);
      return false;
    };
    const keepY = (y: unknown): boolean => {
      const why = badY(spec.y, y);
      if (why !== undefined) drop(`y ${why}`);
      return why === undefined;
    };
    const points = s.points.filter((p, j) => keepX(p[0], `points[${j}]`) && keepY(p[1]));
    const band = s.band?.filter((b, j) => {
      if (!keepX(b[0], `band[${j}]`) || !keepY(b[1]) || !keepY(b[2])) return false;
      if (b[1] > b[2]) drop('band low above high');
      return b[1] <= b[2];
    });
    const center = s.center?.filter((p, j) => keepX(p[0], `center[${j}]`) && keepY(p[1]));
    let fit = s.fit;
    if (fit && ![fit.slope, fit.intercept, fit.r2].every(Number.isFinite)) {
      drop('fit with a non-finite coefficient');
      fit = undefined;
    }
    const whys = Object.entries(dropped).map(([why, n]) => `${n} × ${why}`);
    if (points.length === 0) {
      notes.push(`${s.name}: no drawable points${whys.length > 0 ? ` (${whys.join(', ')})` : ''}; left out`);
      return;
    }
    if (whys.length > 0) notes.push(`${s.name}: left out ${whys.join(', ')}`);
    series.push({
      name: s.name,
      ...(s.group !== undefined ? { group: s.group } : {}),
      points,
      ...(band && band.length > 0 ? { band } : {}),
      ...(center && center.length > 0 ? { center } : {}),
      ...(fit ? { fit } : {}),
    });
  });
  if (problems.length > 0) throw new ChartSpecError(problems);

  const onAxis = (axis: 'x' | 'y', v: unknown): boolean =>
    axis === 'x' ? badX(spec.x, v) === undefined : badY(spec.y, v) === undefined;
  const marks = spec.marks ?? {};
  const rules = (marks.rules ?? []).filter((r) => {
    const ok = onAxis(r.axis, r.value);
    if (!ok) notes.push(`rule "${r.label}": ${JSON.stringify(r.value)} cannot be placed on the ${r.axis} axis; left out`);
    return ok;
  });
  const spans = (marks.spans ?? []).filter((s) => {
    if (s.at !== undefined && (s.axis !== 'y' || spec.x.scale !== 'category')) problems.push(`${label}marks.spans: "${s.label}": \`at\` needs a y span on a category x axis`);
    else if (s.at !== undefined && badX(spec.x, s.at) !== undefined) problems.push(`${label}marks.spans: "${s.label}": at "${s.at}" is not one of x.categories`);
    const ok = spec[s.axis].scale !== 'category' && onAxis(s.axis, s.from) && onAxis(s.axis, s.to) && s.from <= s.to;
    if (!ok) notes.push(`span "${s.label}": [${s.from}, ${s.to}] cannot be placed on the ${s.axis} axis; left out`);
    return ok;
  });
  const annotations = (marks.annotations ?? []).filter((a) => {
    const ok = onAxis('x', a.at[0]) && onAxis('y', a.at[1]) && (a.series === undefined || names.has(a.series));
    if (!ok) notes.push(`annotation "${a.text}": cannot be placed; left out`);
    return ok;
  });
  if (problems.length > 0) throw new ChartSpecError(problems);
  return {
    ...spec,
    series,
    marks: { rules, spans, annotations },
    notes,
  };
}
