// What the human reports show, computed once: the table and Markdown
// formatters only lay this out, so both always print the same figures, the
// same columns and the same warnings (the role of hyperfine's markup.rs).

import type { Aggregate, CellResult, RunResult, SummaryRow } from '../schema/result.js';
import { summarizeCells } from '../core/summarize.js';
import { casesOfResult } from '../core/decide.js';
import { median } from '../stats/descriptive.js';
import { isNonEmpty } from '../stats/errors.js';
import { formatBytes, formatCount, formatPct, formatRate, formatRatio, formatUs, sig3 } from './units.js';
import { capacityViews } from './capacity.js';
import { ceilingViews, hasCeilings } from './ceiling.js';
import { shapeViews } from './shapes.js';
import { stackParityLines } from './stacks.js';
import { describeWarning } from './warnings.js';

/** Shown in a cell whose runtime lacks a metric that other runtimes of the case have. */
export const MISSING = '–';

/** Marks a throughput that is only a lower bound, beside the figure and in the footnote. */
export const LOWER_BOUND_MARK = '*';

export type Pair = [label: string, value: string];

export interface ColumnView {
  id: string;
  /** Header lines: the terminal table stacks them, Markdown joins them with a space. */
  header: string[];
  align: 'left' | 'right';
  /** Columns that belong together; a narrow display splits tables between groups, never inside one. */
  group: 'runtime' | 'traffic' | 'server' | 'health';
}

/** The units a figure in a view carries; text is made at the edge (report/units.ts formatCell). */
export type Unit = 'msgs/s' | 'µs' | 'µs/msg' | 'bytes' | '%' | '×' | 'count' | 'connections' | 's';

/**
 * A number with its unit and what qualifies it, as every format needs it: the table and Markdown print it
 * (formatCell), the HTML report draws it. Never pre-formatted.
 */
export interface Figure {
  value: number;
  unit: Unit;
  /** Not the figure itself but a bound of it: ≥ (lower, e.g. throughput the load generator limited) or ≤ (upper). */
  bound?: 'lower' | 'upper';
  /** Spread over repetitions, MAD / median, %. */
  spreadPct?: number;
  /** Lowest and highest over repetitions, shown when they differ. */
  range?: [number, number];
  /** A projection or an estimate (≈). */
  approx?: boolean;
  /** Show the sign (a growth: +1.2 MiB, −0.5 MiB). */
  signed?: boolean;
  /** Words after the figure: a mark ("*"), "(bisected)", "(ref)". */
  note?: string;
}

/** A cell of a view: a figure, or words (a runtime, a cause, a count pair). */
export type ViewCell = Figure | string;

/** A figure; `opts` qualify it. */
export function fig(value: number, unit: Unit, opts: Omit<Figure, 'value' | 'unit'> = {}): Figure {
  return { value, unit, ...opts };
}

export function isFigure(c: ViewCell | undefined): c is Figure {
  return typeof c === 'object' && c !== null;
}

export interface CaseView {
  name: string;
  scenario: string;
  /** One line under the case name: scenario, repetitions, reference. */
  subtitle: string;
  /** Only the columns at least one row has a value for. */
  columns: ColumnView[];
  /** One per runtime, cells aligned with `columns`, `MISSING` where a runtime lacks a value. */
  rows: ViewCell[][];
  footnotes: string[];
}

export interface WarningView {
  code: string;
  /** `<case> · <runtime>`. */
  where: string;
  message: string;
  hint: string;
}

export interface FailedCellView {
  id: string;
  status: string;
  /** The error's stable code, when the cell recorded an error. */
  code?: string;
  /** The error message, or why the cell did not run. */
  message: string;
  details: string[];
}

export interface ReportView {
  title: string;
  /** Tool, revision, run status and times, command line. */
  meta: Pair[];
  environment: Pair[];
  runtimes: Pair[];
  /** One line per server setting: the common value or the differences. */
  parity: Pair[];
  settings: Pair[];
  cases: CaseView[];
  /** Connection ceilings (report/ceiling.ts), one per ceiling case; absent when the result has none. */
  ceilings?: CaseView[];
  /** Real message shapes (report/shapes.ts): the two-gap table, the voice relay, slow consumers; and capacity searches (report/capacity.ts); empty when none ran. */
  shapes: CaseView[];
  legend: string[];
  warnings: WarningView[];
  failedCells: FailedCellView[];
}

/**
 * The summary rows a report shows: the stored ones, or, when the result holds
 * none yet (a run written before summarizing), computed from the cells.
 */
export function summaryOf(result: RunResult): SummaryRow[] {
  return result.summary.length > 0 ? result.summary : summarizeCells(result.cells, result.settings.referenceRuntime);
}

function shortRevision(rev: string | null, dirty: boolean | null): string {
  if (rev === null) return 'git revision unknown';
  return `git ${rev.slice(0, 12)}${dirty ? ' (dirty: uncommitted changes)' : ''}`;
}

function settingValue(key: string, value: unknown): string {
  if (value === undefined) return '(not reported)';
  const text = JSON.stringify(value);
  return typeof value === 'number' && /Bytes$/.test(key) && value >= 1024 ? `${text} (${formatBytes(value)})` : text;
}

function parityLines(result: RunResult): Pair[] {
  // Each manifest as its reported keys (a stack reports more than a bare server), without casting the type away.
  const manifests = Object.entries(result.parity.manifests).map(([runtime, m]): [string, Record<string, unknown>] => [runtime, Object.fromEntries(Object.entries(m))]);
  const keys: string[] = [];
  for (const [, m] of manifests) for (const k of Object.keys(m)) if (!keys.includes(k)) keys.push(k);
  const lines: Pair[] = keys.map((key) => {
    const values = manifests.map(([runtime, m]) => [runtime, m[key]] as const);
    const first = JSON.stringify(values[0]?.[1]);
    if (values.every(([, v]) => JSON.stringify(v) === first)) {
      return [key, `${settingValue(key, values[0]?.[1])} — identical on all servers`];
    }
    return [key, `DIFFERS: ${values.map(([r, v]) => `${r}=${settingValue(key, v)}`).join(', ')}`];
  });
  if (manifests.length === 0) lines.push(['(none)', 'no server reported its effective settings']);
  for (const d of result.parity.differences) lines.push(['recorded difference', d]);
  return lines;
}

function environmentLines(result: RunResult): { environment: Pair[]; runtimes: Pair[] } {
  const e = result.environment;
  const environment: Pair[] = [
    ['host', `${e.hostname} (${e.platform}/${e.arch})`],
    ['CPU', `${e.cpuModel}, ${e.logicalCpus} logical CPUs (allowed ${e.allowedCpus || 'unknown'})${e.cpuGovernor ? `, governor ${e.cpuGovernor}` : ''}`],
    ['kernel', e.kernel],
    ['memory', formatBytes(e.memoryBytes)],
    ['open files', e.openFileLimit === null ? 'unknown' : `${formatCount(e.openFileLimit)} per process`],
    [
      'port range',
      e.ephemeralPortRange === null
        ? 'unknown'
        : `${e.ephemeralPortRange[0]}–${e.ephemeralPortRange[1]} (${formatCount(e.ephemeralPortRange[1] - e.ephemeralPortRange[0] + 1)} ephemeral ports)`,
    ],
    ['Node (bench, load generator)', e.nodeVersion],
  ];
  const wanted = result.settings.runtimes;
  const statuses = wanted.length > 0 ? wanted.map((id) => e.runtimes.find((r) => r.id === id) ?? id) : e.runtimes;
  const runtimes: Pair[] = statuses.map((s) => {
    if (typeof s === 'string') return [s, 'not probed'];
    if (!s.usable) return [s.id, `${s.label}: unusable${s.reason ? ` (${s.reason})` : ''}`];
    const lib = s.libraryVersion && s.libraryVersion !== s.runtimeVersion ? `, library ${s.libraryVersion}` : '';
    return [s.id, `${s.label} ${s.runtimeVersion ?? '(version unknown)'}${lib}`];
  });
  return { environment, runtimes };
}

function settingsLines(result: RunResult): Pair[] {
  const s = result.settings;
  return [
    ['repeat', String(s.repeat)],
    ['seed', String(s.seed)],
    ['server CPUs', s.serverCpus ?? 'not pinned'],
    ['load generator CPUs', s.loadgenCpus ?? 'not pinned'],
    ...(s.upstreamCpus !== undefined ? ([['simulated upstream CPUs', s.upstreamCpus ?? 'not pinned']] as Pair[]) : []),
    ['client', s.client],
    ['reference', s.referenceRuntime],
    ['quick', s.quick ? 'yes (shortened scenarios)' : 'no'],
  ];
}

/** Per-row figures the summary does not aggregate, taken from the completed cells. */
interface RowExtras {
  total: number;
  msgsPerServerCpuSec: number | undefined;
  errors: string | undefined;
  loadgen: string | undefined;
  saturated: boolean;
}

function rowExtras(cells: readonly CellResult[]): RowExtras {
  const done = cells.filter((c) => c.status === 'completed' && c.metrics).map((c) => c.metrics!);
  const perCpu = done.map((m) => m.msgsPerServerCpuSec).filter((v): v is number => v !== null);
  let errors: string | undefined;
  let loadgen: string | undefined;
  let saturated = false;
  if (done.length > 0) {
    const sum = (get: (m: (typeof done)[number]) => number) => done.reduce((acc, m) => acc + get(m), 0);
    const parts: string[] = [];
    const errs = sum((m) => Object.values(m.errors).reduce((a, n) => a + (n ?? 0), 0));
    const counts: [number, string][] = [
      [errs, 'err'],
      [sum((m) => m.delivery.lost), 'lost'],
      [sum((m) => m.delivery.duplicated), 'dup'],
      [sum((m) => m.delivery.corrupted), 'corrupt'],
      [sum((m) => m.delivery.outOfOrder), 'out-of-order'],
    ];
    for (const [n, label] of counts) if (n > 0) parts.push(`${formatCount(n)} ${label}`);
    errors = parts.length === 0 ? '0' : parts.join(', ');
    const workers = done.flatMap((m) => m.loadgen.workers);
    // A spin-waiting (open-loop) worker is at ~100% CPU by design: its CPU share says nothing about headroom.
    const cpuPcts = workers.filter((w) => !w.spinWait).map((w) => w.cpuUtilPct);
    saturated = done.some((m) => m.loadgen.saturation.saturated);
    const load = cpuPcts.length > 0 ? formatPct(Math.max(...cpuPcts)) : workers.length > 0 ? 'spin' : '';
    loadgen = [load, saturated ? 'sat' : ''].filter((p) => p !== '').join(' ') || undefined;
  }
  return {
    total: cells.length,
    msgsPerServerCpuSec: isNonEmpty(perCpu) ? median(perCpu) : undefined,
    errors,
    loadgen,
    saturated,
  };
}

const COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'msgsPerSec', header: ['msgs/s'], align: 'right', group: 'traffic' },
  { id: 'ratio', header: ['×ref'], align: 'right', group: 'traffic' },
  { id: 'p50', header: ['latency', 'p50'], align: 'right', group: 'traffic' },
  { id: 'p99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'p999', header: ['', 'p99.9'], align: 'right', group: 'traffic' },
  { id: 'max', header: ['', 'max'], align: 'right', group: 'traffic' },
  { id: 'cpuUsPerMsg', header: ['CPU', 'µs/msg'], align: 'right', group: 'server' },
  { id: 'msgsPerCpuSec', header: ['msgs/', 'CPU-s'], align: 'right', group: 'server' },
  { id: 'rssPeak', header: ['peak', 'RSS'], align: 'right', group: 'server' },
  { id: 'bytesPerConn', header: ['bytes/', 'conn'], align: 'right', group: 'server' },
  { id: 'errors', header: ['errors'], align: 'right', group: 'health' },
  { id: 'loadgen', header: ['loadgen', 'CPU'], align: 'right', group: 'health' },
];

const med = (a: Aggregate | undefined, unit: Unit): Figure | undefined => (a === undefined ? undefined : fig(a.median, unit));

/**
 * The ratio of a lower bound to an exact figure is itself a lower bound, and
 * an exact figure over a lower bound an upper bound; two lower bounds say
 * nothing about their ratio.
 */
function ratioCell(row: SummaryRow, ref: SummaryRow | undefined, referenceRuntime: string): ViewCell | undefined {
  if (row.msgsPerSec === undefined) return undefined;
  if (row.runtime === referenceRuntime) return 'ref';
  const r = row.ratioToReference.msgsPerSec;
  if (r === undefined) return undefined;
  const refBound = ref?.throughputIsLowerBound ?? false;
  if (row.throughputIsLowerBound && refBound) return '?';
  if (row.throughputIsLowerBound) return fig(r, '×', { bound: 'lower' });
  if (refBound) return fig(r, '×', { bound: 'upper' });
  return fig(r, '×');
}

function throughputCell(a: Aggregate | undefined, lowerBound: boolean): Figure | undefined {
  if (a === undefined) return undefined;
  // A lower bound is never shown bare: it is what the load generator reached, not the server's figure.
  return fig(a.median, 'msgs/s', { ...(a.madPct !== null ? { spreadPct: a.madPct } : {}), ...(lowerBound ? { bound: 'lower' as const, note: LOWER_BOUND_MARK } : {}) });
}

function caseViews(result: RunResult, summary: SummaryRow[]): CaseView[] {
  const ref = result.settings.referenceRuntime;
  const caseNames = [...new Set(summary.map((r) => r.case))];
  return caseNames.map((name) => {
    const rows = summary.filter((r) => r.case === name);
    const refRow = rows.find((r) => r.runtime === ref);
    const cells = result.cells.filter((c) => c.case === name);
    const raw = rows.map((row) => {
      const x = rowExtras(cells.filter((c) => c.runtime === row.runtime));
      const label = row.completed < x.total ? `${row.runtime} (${row.completed}/${x.total})` : row.runtime;
      const values: Record<string, ViewCell | undefined> = {
        runtime: label,
        msgsPerSec: throughputCell(row.msgsPerSec, row.throughputIsLowerBound),
        ratio: ratioCell(row, refRow, ref),
        p50: med(row.latencyP50Us, 'µs'),
        p99: med(row.latencyP99Us, 'µs'),
        p999: med(row.latencyP999Us, 'µs'),
        max: med(row.latencyMaxUs, 'µs'),
        cpuUsPerMsg: med(row.serverCpuUsPerMsg, 'µs/msg'),
        msgsPerCpuSec: x.msgsPerServerCpuSec === undefined ? undefined : fig(x.msgsPerServerCpuSec, 'msgs/s'),
        rssPeak: med(row.rssPeakBytes, 'bytes'),
        bytesPerConn: med(row.bytesPerConnection, 'bytes'),
        errors: x.errors,
        loadgen: x.loadgen,
      };
      return { values, row, x };
    });
    // A closed loop's latency is Little's law (connections × depth ÷ throughput): a property of the load, labelled so.
    const closed = casesOfResult(result).find((x) => x.name === name)?.model.model === 'closed';
    const columns = COLUMNS.filter((c) => raw.some((r) => r.values[c.id] !== undefined)).map((c) =>
      closed && c.id === 'p50' ? { ...c, header: ['closed-loop', 'latency p50'] } : c,
    );
    const footnotes: string[] = [];
    if (raw.some((r) => r.row.throughputIsLowerBound && r.row.msgsPerSec)) {
      footnotes.push(
        `${LOWER_BOUND_MARK} lower bound: the load generator limited at least one repetition, so the server can do at least this much; ratios involving it are bounds too`,
      );
    }
    if (closed && columns.some((c) => c.id === 'p50')) {
      footnotes.push(
        "closed-loop latency: each connection waits for its replies, so latency is connections × depth ÷ throughput (Little's law), a property of the load rather than of the server; compare servers' latency at a fixed rate (echo-rate)",
      );
    }
    if (raw.some((r) => r.x.saturated)) {
      footnotes.push('sat: the load generator was saturated in at least one repetition (see warnings)');
    }
    const reps = result.settings.repeat;
    return {
      name,
      scenario: rows[0]?.scenario ?? name,
      subtitle: `scenario ${rows[0]?.scenario ?? name} · ${reps} repetition${reps === 1 ? '' : 's'} per runtime${columns.some((c) => c.id === 'ratio') ? ` · ×ref against ${ref}` : ''}`,
      columns,
      rows: raw.map((r) => columns.map((c) => r.values[c.id] ?? MISSING)),
      footnotes,
    };
  });
}

function failedCells(result: RunResult): FailedCellView[] {
  return result.cells
    .filter((c) => c.status === 'errored' || c.status === 'skipped')
    .map((c) => {
      const base = { id: c.id, status: c.status, details: c.error?.details ?? [] };
      if (c.error) return { ...base, code: c.error.code, message: c.error.message };
      return { ...base, message: c.status === 'skipped' ? 'not run' : 'no reason recorded' };
    });
}

/** Everything the table and Markdown reports print, formatted, in order. */
export function buildView(result: RunResult): ReportView {
  const summary = summaryOf(result);
  const { environment, runtimes } = environmentLines(result);
  const t = result.tool;
  const notRun = result.cells.filter((c) => c.status === 'pending' || c.status === 'running').length;
  const meta: Pair[] = [
    ['tool', `${t.name} ${t.version}, ${shortRevision(t.gitRevision, t.gitDirty)}`],
    ['run', `${result.label ? `"${result.label}" ` : ''}${result.status}${notRun > 0 ? ` (${notRun} cells not run)` : ''}`],
    ['started', result.startedAt + (result.finishedAt ? `, finished ${result.finishedAt}` : '')],
    ['command', result.commandLine.join(' ')],
  ];
  const ref = result.settings.referenceRuntime;
  return {
    title: `${t.name} ${t.version} — ${result.label || 'run'}`,
    meta,
    environment,
    runtimes,
    parity: [...parityLines(result), ...stackParityLines(result)],
    settings: settingsLines(result),
    cases: caseViews(result, summary),
    ...(hasCeilings(result) ? { ceilings: ceilingViews(result) } : {}),
    shapes: [...shapeViews(result, summary), ...capacityViews(result)],
    legend: [
      'msgs/s: median over completed repetitions ± MAD/median',
      `×ref: ratio of medians to ${ref}`,
      'latency: medians of the repetitions\' percentiles',
      'CPU µs/msg: server CPU time per received message; msgs/CPU-s: messages per server CPU-second',
      'peak RSS, bytes/conn: server memory; errors: summed over repetitions (err = client errors)',
      'loadgen CPU: busiest load-generator worker, % of one core (spin: open-loop workers spin-wait by design, so the schedule, not CPU, tells saturation; sat: saturated)',
      '(n/m) after a runtime: only n of m repetitions completed',
    ],
    warnings: groupWarnings(summary),
    failedCells: failedCells(result),
  };
}

/**
 * One line per distinct warning: the same warning on several rows (a single
 * repetition everywhere, say) is listed once with the rows it concerns, so the
 * warnings that differ between rows are not buried.
 */
export function groupWarnings(summary: readonly SummaryRow[]): WarningView[] {
  const groups = new Map<string, { w: WarningView; rows: string[] }>();
  for (const row of summary) {
    for (const w of row.warnings) {
      const { message, hint } = describeWarning(w);
      const key = `${w.code}\u0000${message}\u0000${hint}`;
      const g = groups.get(key) ?? { w: { code: w.code, where: '', message, hint }, rows: [] };
      g.rows.push(`${row.case} · ${row.runtime}`);
      groups.set(key, g);
    }
  }
  return [...groups.values()].map(({ w, rows }) => ({
    ...w,
    where: rows.length === summary.length && rows.length > 1 ? `every row (${rows.length})` : rows.join(', '),
  }));
}
