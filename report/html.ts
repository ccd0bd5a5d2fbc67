// The run report as one self-contained HTML page (issue 14): the decision
// first, then the environment and parity, the warnings by kind, and one
// section per workload with its table and charts. Tables come from the report
// view (buildView: figures with units, formatted by units.ts as everywhere
// else); charts from the raw data the result keeps (encoded histograms per
// repetition, per-second timelines, /proc samples, plateaus, memory fits)
// through report/html's helpers. Nothing is aggregated here that the view or
// the summary already has.

import { metricDef, type MetricId } from '../core/compare-metrics.js';
import type { CeilingMetrics, CellResult, HistogramSummary, MemoryFit, RunResult, SummaryRow } from '../schema/result.js';
import type { ReportFormat } from './format.js';
import { decisionFromRun, decisionVerdict, type Decision, type DecisionCase } from './decision.js';
import type { ChartSpec } from './html/charts.js';
import { memoryFitChart, plateauChart, ratioBars, repetitionDots, type PlateauMetric, type ValueAxis } from './html/figures.js';
import { escapeHtml, renderHtmlPage, type Block, type HtmlDocument, type HtmlSection, type ListBlock, type TableBlock, type TextCell } from './html/page.js';
import { percentileSpectrum, summarySpectrum } from './html/spectrum.js';
import { caseTimelines, cellsByRuntime } from './html/timeline.js';
import { formatCell } from './units.js';
import { buildView, isFigure, summaryOf, type CaseView, type FailedCellView, type ReportView, type WarningView } from './view.js';

/** An id fragment from a case name: `echo-rate@50000/s` → `echo-rate-50000-s`. */
export function slugOf(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}

/** The width a table of the page may take, px: the page's 1280 px less its margins. */
export const TABLE_WIDTH_PX = 1200;

/** A column's width as drawn, px, estimated: its longest cell (cells do not wrap) or header word (headers do), at ~7.3 px a character, plus padding. */
function columnPx(texts: readonly string[], header: string): number {
  const longest = Math.max(...texts.map((t) => [...t].length), ...header.split(' ').map((w) => [...w].length));
  return 16 + 7.3 * longest;
}

/**
 * A case view as table blocks: stacked header lines joined, cells formatted by
 * `formatCell` (the same text as the terminal and Markdown), a figure that is
 * only a bound in the warn tone. A view wider than `TABLE_WIDTH_PX` is cut
 * between its column groups (traffic | server | health), the runtime column
 * repeated, as the terminal table does at 120 characters; the footnotes go
 * under the last part.
 */
export function caseTables(v: CaseView, caption?: string): TableBlock[] {
  const cell = (c: CaseView['rows'][number][number]): TextCell => (isFigure(c) && c.bound ? { text: formatCell(c), tone: 'warn', title: 'a bound, not the figure itself' } : formatCell(c));
  const header = (i: number) => v.columns[i]!.header.filter((h) => h !== '').join(' ').replace(/\/ /g, '/');
  const px = v.columns.map((_, i) => columnPx(v.rows.map((r) => formatCell(r[i]!)), header(i)));
  const first = v.columns.findIndex((c) => c.group === 'runtime');
  const base = first >= 0 ? px[first]! : 0;
  const parts: number[][] = [];
  let current: number[] = [];
  let width = base;
  for (const g of [...new Set(v.columns.map((c) => c.group))].filter((x) => x !== 'runtime')) {
    const idx = v.columns.map((c, i) => (c.group === g ? i : -1)).filter((i) => i >= 0);
    const w = idx.reduce((sum, i) => sum + px[i]!, 0);
    if (current.length > 0 && width + w > TABLE_WIDTH_PX) {
      parts.push(current);
      current = [];
      width = base;
    }
    current.push(...idx);
    width += w;
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts.map((cols, k): TableBlock => {
    const all = first >= 0 ? [first, ...cols] : cols;
    return {
      type: 'table',
      ...(caption !== undefined && k === 0 ? { caption } : {}),
      columns: all.map((i) => ({ header: header(i), align: v.columns[i]!.align })),
      rows: v.rows.map((r) => all.map((i) => cell(r[i]!))),
      ...(k === parts.length - 1 && v.footnotes.length > 0 ? { footnotes: v.footnotes } : {}),
    };
  });
}

const chart = (c: ChartSpec): Block => ({ type: 'chart', chart: c });

/** Axes of the figures a dots chart can show, by compared metric. */
const METRIC_AXES: Record<MetricId, ValueAxis> = {
  msgsPerSec: { label: 'delivered', unit: 'msgs/s', scale: 'linear' },
  latencyP50Us: { label: 'p50 latency', unit: 'µs', scale: 'log' },
  latencyP99Us: { label: 'p99 latency', unit: 'µs', scale: 'log' },
  latencyP999Us: { label: 'p99.9 latency', unit: 'µs', scale: 'log' },
  serverCpuUsPerMsg: { label: 'server CPU per message', unit: 'µs/msg', scale: 'linear' },
  rssPeakBytes: { label: 'peak server RSS', unit: 'bytes', scale: 'linear' },
  rssEndBytes: { label: 'server RSS after the drain', unit: 'bytes', scale: 'linear' },
  bytesPerConnection: { label: 'bytes per connection', unit: 'bytes', scale: 'linear' },
  relayOverheadP50Us: { label: 'relay adds, p50', unit: 'µs', scale: 'log' },
  relayOverheadP99Us: { label: 'relay adds, p99', unit: 'µs', scale: 'log' },
  capacityPerCore: { label: 'capacity at the SLO per server core', unit: 'count', scale: 'linear' },
};

/** The repetitions of `metric` per runtime as dots beside their medians (the summary's values and medians, as the tables show them). */
function dotsOf(id: string, caseName: string, rows: readonly SummaryRow[], metric: MetricId, why: string): ChartSpec {
  const def = metricDef(metric);
  return repetitionDots({
    id,
    title: `${caseName}: ${def.label} per repetition`,
    caption: `${why} One dot per completed repetition; the wide tick is the median the tables show. ${def.better === 'higher' ? 'Higher' : 'Lower'} is better.`,
    y: METRIC_AXES[metric],
    rows: rows.map((r) => ({ name: r.runtime, values: r[metric]?.values ?? [], ...(r[metric] ? { median: r[metric]!.median } : {}) })),
  });
}

/** The decision's ratio to the best with its interval, one bar per runtime behind the best. */
function ratioChart(id: string, d: DecisionCase): ChartSpec | undefined {
  const best = d.rows[0];
  const others = d.rows.slice(1).filter((r) => r.ratio !== undefined);
  if (!best || others.length === 0) return undefined;
  const worse = d.better === 'higher' ? 'below' : 'above';
  return ratioBars({
    id,
    title: `${d.case}: ${d.metricLabel}, ratio to the best (${best.runtime})`,
    caption: `Each runtime's median ÷ ${best.runtime}'s, with its ${others[0]!.interval ? `${others[0]!.interval.levelPct}% ` : ''}interval (the one its verdict was taken on) as a whisker; ${worse} 1× is worse.`,
    label: `${d.metricLabel} ÷ best`,
    categories: others.map((r) => r.runtime),
    reference: best.runtime,
    series: others.map((r) => ({ name: r.runtime, values: [{ category: r.runtime, ratio: r.ratio!.value, ...(r.interval ? { low: r.interval.low, high: r.interval.high } : {}) }] })),
  });
}

const completed = (cells: readonly CellResult[], caseName: string, runtime: string) =>
  cells.filter((c) => c.case === caseName && c.runtime === runtime && c.status === 'completed' && c.metrics).sort((a, b) => a.repetition - b.repetition);

/**
 * Per runtime, the ceiling search a chart draws: one repetition, the one with
 * the median ceiling (the lower middle for an even count), so the curve shown
 * is a typical search rather than an average of searches that stopped at
 * different plateaus.
 */
function representativeCeilings(result: RunResult, caseName: string, runtimes: readonly string[]): { list: { name: string; ceiling: CeilingMetrics }[]; notes: string[] } {
  const list: { name: string; ceiling: CeilingMetrics }[] = [];
  const notes: string[] = [];
  for (const runtime of runtimes) {
    const cells = completed(result.cells, caseName, runtime).filter((c) => c.metrics!.ceiling);
    if (cells.length === 0) continue;
    const sorted = [...cells].sort((a, b) => a.metrics!.ceiling!.lastGoodConnections - b.metrics!.ceiling!.lastGoodConnections || a.repetition - b.repetition);
    const pick = sorted[Math.floor((sorted.length - 1) / 2)]!;
    list.push({ name: runtime, ceiling: pick.metrics!.ceiling! });
    if (cells.length > 1) notes.push(`${runtime}: repetition ${pick.repetition} of ${cells.length} drawn (the median search)`);
  }
  return { list, notes };
}

function ceilingCharts(prefix: string, result: RunResult, caseName: string, runtimes: readonly string[]): ChartSpec[] {
  const { list, notes } = representativeCeilings(result, caseName, runtimes);
  if (list.length === 0) return [];
  const plateau = (metric: PlateauMetric, what: string): ChartSpec => {
    const c = plateauChart({ id: `${prefix}-plateau-${metric}`, title: `${caseName}: ${what} per plateau`, metric, runtimes: list });
    return { ...c, notes: [...(c.notes ?? []), ...notes] };
  };
  const charts = [plateau('p99', 'heartbeat p99'), plateau('cpu', 'server CPU'), plateau('rss', 'server RSS')];
  // Idle memory is the figure per connection; with heartbeats where a runtime has no idle fit.
  const fits = list.map((x) => ({ name: x.name, fit: x.ceiling.memory.idle ?? x.ceiling.memory.active }));
  const basis = list.some((x) => x.ceiling.memory.idle === null && x.ceiling.memory.active !== null)
    ? ` (${list.filter((x) => x.ceiling.memory.idle === null && x.ceiling.memory.active !== null).map((x) => x.name).join(', ')}: with heartbeats, no idle fit)`
    : '';
  if (fits.some((f) => f.fit !== null)) {
    const m = memoryFitChart({
      id: `${prefix}-memory`,
      title: `${caseName}: memory per connection`,
      caption: `Settled server RSS on the plateaus held within the SLO, idle${basis}; the line is the least-squares fit, its slope the memory per connection, R² how straight.`,
      runtimes: fits,
    });
    charts.push({ ...m, notes: [...(m.notes ?? []), ...notes] });
  }
  return charts;
}

/** Stepped idle runs (no ceiling): memory per connection as a fit over the plateaus, one repetition per runtime (the median slope). */
function steppedMemoryChart(prefix: string, result: RunResult, caseName: string, runtimes: readonly string[]): ChartSpec | undefined {
  const fits: { name: string; fit: MemoryFit | null }[] = [];
  const notes: string[] = [];
  for (const runtime of runtimes) {
    const cells = completed(result.cells, caseName, runtime).filter((c) => c.metrics!.memory && !c.metrics!.ceiling);
    const withFit = cells.filter((c) => c.metrics!.memory!.idle);
    if (withFit.length === 0) continue;
    const sorted = [...withFit].sort((a, b) => a.metrics!.memory!.idle!.bytesPerConnection - b.metrics!.memory!.idle!.bytesPerConnection);
    const pick = sorted[Math.floor((sorted.length - 1) / 2)]!;
    fits.push({ name: runtime, fit: pick.metrics!.memory!.idle });
    if (withFit.length > 1) notes.push(`${runtime}: repetition ${pick.repetition} of ${withFit.length} drawn (the median slope)`);
  }
  if (fits.length === 0) return undefined;
  const m = memoryFitChart({ id: `${prefix}-memory`, title: `${caseName}: memory per connection`, runtimes: fits });
  return { ...m, notes: [...(m.notes ?? []), ...notes] };
}

/** What a case's latency histogram holds, by the kind of traffic: the chart's title and axis. */
function latencyWords(cells: readonly CellResult[]): { title: string; label: string; caption?: string } {
  if (cells.some((c) => c.metrics?.voice)) return { title: 'time to the first reply chunk by percentile', label: 'first chunk' };
  if (cells.some((c) => c.raw?.lastRecipientEncoded)) return { title: 'delivery latency by percentile (every member)', label: 'delivery latency' };
  return { title: 'latency by percentile', label: 'latency' };
}

/** The figure whose dots an unranked case shows: the first of these it has. */
const UNRANKED_DOTS = ['msgsPerSec', 'serverCpuUsPerMsg', 'bytesPerConnection', 'latencyP99Us'] as const;

/** The charts of one (non-ceiling) workload, from its raw data and summary rows. */
function workloadCharts(prefix: string, result: RunResult, caseName: string, runtimes: readonly string[], rows: readonly SummaryRow[], decision: DecisionCase | undefined): ChartSpec[] {
  const cells = result.cells.filter((c) => c.case === caseName);
  const byRt = cellsByRuntime(result.cells, caseName, runtimes).filter((r) => rows.some((s) => s.runtime === r.runtime));
  const charts: ChartSpec[] = [];
  const ratio = decision ? ratioChart(`${prefix}-ratio`, decision) : undefined;
  if (ratio) charts.push(ratio);

  if (byRt.some((r) => r.cells.some((c) => (c.metrics?.latencyUs.count ?? 0) > 0))) {
    const w = latencyWords(cells);
    charts.push(percentileSpectrum({ id: `${prefix}-spectrum`, title: `${caseName}: ${w.title}`, label: w.label, series: byRt.map((r) => ({ name: r.runtime, encoded: r.cells.map((c) => c.raw!.latencyEncoded) })) }));
  }
  if (byRt.some((r) => r.cells.some((c) => c.raw?.lastRecipientEncoded))) {
    charts.push(
      percentileSpectrum({
        id: `${prefix}-last-member`,
        title: `${caseName}: time until the last member of a room has a message, by percentile`,
        label: 'last member',
        series: byRt.map((r) => ({ name: r.runtime, encoded: r.cells.flatMap((c) => (c.raw?.lastRecipientEncoded ? [c.raw.lastRecipientEncoded] : [])) })),
      }),
    );
  }
  if (cells.some((c) => c.metrics?.voice)) {
    charts.push(
      summarySpectrum({
        id: `${prefix}-relay`,
        title: `${caseName}: what the relay adds to the first chunk, by percentile`,
        label: 'relay adds',
        caption:
          "Both relay legs (trigger → upstream, first chunk → client) from the upstream's timestamps: the runtime's share of the first-chunk time. At the percentiles each repetition stores: line, the median over repetitions; band, lowest to highest. Lower is better.",
        series: runtimes.map((runtime) => ({ name: runtime, summaries: completed(result.cells, caseName, runtime).flatMap((c): HistogramSummary[] => (c.metrics!.voice ? [c.metrics!.voice.relayOverheadUs] : [])) })),
      }),
    );
  }

  // An unranked case (no decision) still shows its dots, on the first figure it has.
  const primary = decision?.metric ?? UNRANKED_DOTS.find((m) => rows.some((r) => r[m] !== undefined)) ?? 'msgsPerSec';
  if (rows.some((r) => r[primary])) charts.push(dotsOf(`${prefix}-dots`, caseName, rows, primary, 'The figure the runtimes are ranked by.'));
  if (primary !== 'serverCpuUsPerMsg' && rows.some((r) => r.serverCpuUsPerMsg)) {
    charts.push(dotsOf(`${prefix}-cpu-dots`, caseName, rows, 'serverCpuUsPerMsg', 'What a message costs the server.'));
  }
  const stepped = steppedMemoryChart(prefix, result, caseName, runtimes);
  if (stepped) charts.push(stepped);

  const withRaw = byRt.filter((r) => r.cells.some((c) => c.raw!.samples.length > 0 || c.raw!.timeline.length > 0));
  if (withRaw.length > 0) {
    // A timeline whose every line is one point (a one-second window's delivered msgs/s) shows nothing over time.
    const timelines = caseTimelines({ idPrefix: `${prefix}-t`, titlePrefix: `${caseName}: `, series: byRt.map((r) => ({ name: r.runtime, cells: r.cells.map((c) => c.raw!) })) });
    charts.push(...timelines.filter((t) => t.series.some((s) => s.points.length >= 2)));
  }
  return charts;
}

function warningBlocks(warnings: readonly WarningView[], failed: readonly FailedCellView[]): Block[] {
  const blocks: Block[] = [];
  if (failed.length > 0) {
    blocks.push({
      type: 'list',
      title: `errored or skipped cells (${failed.length})`,
      items: failed.map((f) => ({ label: f.id, text: `${f.status}${f.code ? ` (${f.code})` : ''}: ${f.message}${f.details.length > 0 ? ` — ${f.details.join(' · ')}` : ''}`, tone: f.status === 'errored' ? ('bad' as const) : ('muted' as const) })),
    });
  }
  const codes = [...new Set(warnings.map((w) => w.code))];
  for (const code of codes) {
    const list = warnings.filter((w) => w.code === code);
    // Plain text: a page of bold colour reads as noise. Delivery faults fail the run (exit 3): those stand out.
    const tone = code === 'delivery-errors' ? { tone: 'bad' as const } : {};
    const block: ListBlock = { type: 'list', title: `${code} (${list.length})`, items: list.map((w) => ({ label: `${w.where}:`, text: w.message, hint: w.hint, ...tone })) };
    blocks.push(block);
  }
  if (blocks.length === 0) blocks.push({ type: 'text', text: 'No measurement-quality warning and no failed cell.', tone: 'good' });
  return blocks;
}

/** The two-gap view as ratio bars: per runtime, each column's figure ÷ the reference's (lower is better for all of them). */
function gapChart(v: CaseView, reference: string): ChartSpec | undefined {
  const name = (r: (typeof v.rows)[number]) => String(r[0]).replace(/ \(ref\)$/, '');
  const refRow = v.rows.find((r) => name(r) === reference && String(r[0]).endsWith('(ref)'));
  if (!refRow) return undefined;
  const others = v.rows.filter((r) => r !== refRow);
  const seriesName = (id: string): string => {
    const [kind, caseName] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
    return kind === 'syn' ? `${caseName}: CPU/echoed msg (synthetic)` : kind === 'ttfc' ? `${caseName}: first chunk p50 (real shape)` : `${caseName}: CPU/relayed msg (real shape)`;
  };
  const series = v.columns.flatMap((col, i) => {
    if (col.id === 'runtime') return [];
    const ref = refRow[i];
    if (!isFigure(ref) || ref.value <= 0) return [];
    const values = others.flatMap((r) => {
      const c = r[i];
      return isFigure(c) ? [{ category: name(r), ratio: c.value / ref.value }] : [];
    });
    return values.length > 0 ? [{ name: seriesName(col.id), values }] : [];
  });
  if (series.length === 0) return undefined;
  return ratioBars({
    id: 'gaps-ratio',
    title: `two gaps: synthetic and real-shape figures, ratio to ${reference}`,
    caption: `Per runtime, each figure ÷ ${reference}'s (the 1× line); below 1× is cheaper or faster. The synthetic gap is usually wide; the real shape waits on the upstream's think time, so its gap in time is small even where its CPU cost differs.`,
    label: `÷ ${reference}`,
    categories: others.map(name),
    reference,
    series,
  });
}

/** A label–value list as the page's pairs. */
const pairs = (title: string, list: readonly [string, string][]): Block => ({ type: 'pairs', title, pairs: list.map(([k, v]) => [k, v]) });

/**
 * The run report as an `HtmlDocument` (see the module comment): verdict from
 * `decision` (default: the run's own decision, report/decision.ts decisionFromRun), then
 * environment and parity, warnings by kind, one section per workload and the
 * two gaps. Pure.
 */
export function runDocument(result: RunResult, opts: { decision?: Decision } = {}): HtmlDocument {
  const view: ReportView = buildView(result);
  const summary = summaryOf(result);
  // The run's own decision (the one the terminal ends in), so the page and the terminal never disagree.
  const decision = opts.decision ?? decisionFromRun(result);
  const ref = result.settings.referenceRuntime;
  const runtimes = result.settings.runtimes.length > 0 ? result.settings.runtimes : [...new Set(result.cells.map((c) => c.runtime))];
  const caseNames = [...new Set([...view.cases.map((c) => c.name), ...result.cells.map((c) => c.case)])];

  const sections: HtmlSection[] = [
    {
      id: 'environment',
      title: 'Environment and parity',
      intro: 'Where and how this was measured, and the effective settings each server reported: bench refuses to compare servers whose settings differ.',
      blocks: [pairs('Machine', view.environment), pairs('Runtimes', view.runtimes), pairs('Parity: effective server settings', view.parity), pairs('Settings', view.settings)],
    },
    {
      id: 'warnings',
      title: `Warnings (${view.warnings.length})${view.failedCells.length > 0 ? ` and failed cells (${view.failedCells.length})` : ''}`,
      intro: 'Grouped by kind; each says what was seen, with its figures, and what to change.',
      blocks: warningBlocks(view.warnings, view.failedCells),
    },
  ];

  caseNames.forEach((caseName, i) => {
    const prefix = `w${i + 1}-${slugOf(caseName)}`;
    const caseView = view.cases.find((c) => c.name === caseName);
    const rows = summary.filter((r) => r.case === caseName);
    const ceilingView = view.ceilings?.find((c) => c.name === `connection ceiling: ${caseName}`);
    const shapes = view.shapes.filter((s) => s.scenario === caseName);
    const blocks: Block[] = [];
    const isCeiling = ceilingView !== undefined;
    // Each table's own subtitle (the SLO, what a voice turn is) as its caption's second half.
    if (ceilingView) blocks.push(...caseTables(ceilingView, `${ceilingView.name} — ${ceilingView.subtitle}`));
    for (const s of shapes) blocks.push(...caseTables(s, `${s.name} — ${s.subtitle}`));
    if (caseView) {
      const tables = caseTables(caseView, isCeiling || shapes.length > 0 ? 'every figure' : undefined);
      blocks.push(...(isCeiling ? [{ type: 'details' as const, summary: 'The usual figures of these cells', blocks: tables, print: true }] : tables));
    }
    const decisionCase = decision.cases.find((c) => c.case === caseName);
    const charts = isCeiling ? ceilingCharts(prefix, result, caseName, runtimes) : workloadCharts(prefix, result, caseName, runtimes, rows, decisionCase);
    blocks.push(...charts.map(chart));
    if (blocks.length === 0) blocks.push({ type: 'text', text: 'No completed cell yet.', tone: 'muted' });
    sections.push({ id: prefix, title: caseName, ...(caseView ? { intro: caseView.subtitle } : {}), blocks });
  });

  const gap = view.shapes.find((s) => s.scenario === 'gaps');
  if (gap) {
    const g = gapChart(gap, ref);
    sections.push({ id: 'gaps', title: gap.name, intro: gap.subtitle, blocks: [...caseTables(gap), ...(g ? [chart(g)] : [])] });
  }

  return {
    title: view.title,
    meta: view.meta,
    verdict: decisionVerdict(decision),
    sections,
    groups: runtimes,
    footer: view.legend,
  };
}

/**
 * A page that says the report could not be rendered, and why: what the
 * writer puts in report.html when rendering throws (a bug), so that a run
 * rewriting its reports after every cell goes on measuring (result.json is
 * written first and holds everything).
 */
export function htmlErrorPage(title: string, error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font: 15px/1.45 system-ui, sans-serif; max-width: 60em; margin: 2em auto">',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p><strong>This HTML report could not be rendered</strong> (a bug in bench; please report it). The result is intact in result.json beside this file; <code>bench report result.json --format markdown</code> shows it.</p>`,
    `<pre style="white-space: pre-wrap">${escapeHtml(message)}</pre>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** `html`: one self-contained page with the verdict first, tables and charts (report/html/). */
export const htmlFormat: ReportFormat = {
  name: 'html',
  extension: 'html',
  render: (result: RunResult): string => renderHtmlPage(runDocument(result)),
};
