// From cells to summary rows: the median and spread of each metric over a
// case × runtime's completed repetitions, its ratio to the reference runtime,
// and the measurement-quality warnings a reader needs beside the figure.
// Pure: no I/O, inputs are never mutated.

import { decodeHistogram, mergeHistograms, summarizeHistogram, type HistogramSummary } from '../loadgen/histogram.js';
import { summarize } from '../stats/descriptive.js';
import { isNonEmpty } from '../stats/errors.js';
import type { Aggregate, CellMetrics, CellResult, SummaryRow, Warning } from '../schema/result.js';

/**
 * A relative spread (MAD / median) of msgs/s or p99 latency above this, in %,
 * raises `high-spread`: differences between runtimes smaller than that are noise.
 */
export const HIGH_SPREAD_PCT = 10;

// madPct is a ratio of floats: 10/100 × 100 may land a hair above 10, which
// must not count as "exceeds 10%".
const SPREAD_EPSILON_PCT = 1e-9;

/**
 * Median, extremes and relative spread of one metric over repetitions.
 * `madPct` is the raw MAD / |median| in % (stats `madPct`), null when n < 2
 * (one value has no spread) or when the median is 0. `values` keeps the input
 * order (repetition order). Undefined for an empty list.
 */
export function aggregate(values: readonly number[]): Aggregate | undefined {
  if (!isNonEmpty(values)) return undefined;
  const s = summarize(values);
  return { n: s.n, median: s.median, min: s.min, max: s.max, madPct: s.n < 2 ? null : s.madPct, values: [...values] };
}

type RatioKey = keyof SummaryRow['ratioToReference'];
const RATIO_KEYS: readonly RatioKey[] = ['msgsPerSec', 'latencyP50Us', 'latencyP99Us', 'serverCpuUsPerMsg', 'rssPeakBytes'];

/** A cell that exchanged messages (an idle cell has no throughput, not a throughput of 0). */
function hasTraffic(m: CellMetrics): boolean {
  return m.msgsPerSec > 0 || m.delivery.sent > 0 || m.http !== undefined;
}

function pick(metrics: readonly CellMetrics[], get: (m: CellMetrics) => number | null | undefined): Aggregate | undefined {
  const values: number[] = [];
  for (const m of metrics) {
    const v = get(m);
    if (v !== null && v !== undefined) values.push(v);
  }
  return aggregate(values);
}

function completedMetrics(cells: readonly CellResult[]): CellMetrics[] {
  return [...cells]
    .filter((c) => c.status === 'completed' && c.metrics !== undefined)
    .sort((a, b) => a.repetition - b.repetition)
    .map((c) => c.metrics!);
}

function spreadOf(figure: 'msgs/s' | 'p99 latency', a: Aggregate | undefined): { figure: 'msgs/s' | 'p99 latency'; madPct: number } | undefined {
  if (a?.madPct === null || a?.madPct === undefined) return undefined;
  if (a.madPct <= HIGH_SPREAD_PCT + SPREAD_EPSILON_PCT) return undefined;
  return { figure, madPct: a.madPct };
}

/** One warning per code: the first cell's message, with how many repetitions raised it. */
function cellWarnings(cells: readonly CellResult[]): Warning[] {
  const byCode = new Map<Warning['code'], { first: Warning; count: number }>();
  for (const c of [...cells].sort((a, b) => a.repetition - b.repetition)) {
    const seen = new Set<Warning['code']>();
    for (const w of c.warnings) {
      if (seen.has(w.code)) continue;
      seen.add(w.code);
      const entry = byCode.get(w.code);
      if (entry) entry.count++;
      else byCode.set(w.code, { first: w, count: 1 });
    }
  }
  return [...byCode.values()].map(({ first, count }) => (cells.length > 1 ? { ...first, repetitions: { count, of: cells.length } } : { ...first }));
}

function summarizeRow(caseName: string, runtime: string, cells: readonly CellResult[]): SummaryRow {
  const metrics = completedMetrics(cells);
  const withLatency = metrics.filter((m) => m.latencyUs.count > 0);
  const row: SummaryRow = {
    case: caseName,
    scenario: cells[0]?.scenario ?? caseName,
    runtime,
    completed: metrics.length,
    errored: cells.filter((c) => c.status === 'errored').length,
    throughputIsLowerBound: metrics.some((m) => m.throughputIsLowerBound),
    ratioToReference: {},
    warnings: [],
  };
  const set = <K extends keyof SummaryRow>(key: K, value: SummaryRow[K] | undefined) => {
    if (value !== undefined) row[key] = value;
  };
  set('msgsPerSec', pick(metrics.filter(hasTraffic), (m) => m.msgsPerSec));
  set('latencyP50Us', pick(withLatency, (m) => m.latencyUs.p50Us));
  set('latencyP99Us', pick(withLatency, (m) => m.latencyUs.p99Us));
  set('latencyP999Us', pick(withLatency, (m) => m.latencyUs.p999Us));
  set('latencyMaxUs', pick(withLatency, (m) => m.latencyUs.maxUs));
  set('serverCpuUsPerMsg', pick(metrics, (m) => m.serverCpuUsPerMsg));
  set('rssPeakBytes', pick(metrics, (m) => m.rssPeakBytes));
  set('rssEndBytes', pick(metrics, (m) => m.rssEndBytes));
  set('bytesPerConnection', pick(metrics, (m) => m.bytesPerConnection));
  const relayed = metrics.filter((m) => m.voice && m.voice.relayOverheadUs.count > 0);
  set('relayOverheadP50Us', pick(relayed, (m) => m.voice!.relayOverheadUs.p50Us));
  set('relayOverheadP99Us', pick(relayed, (m) => m.voice!.relayOverheadUs.p99Us));
  set('capacityPerCore', pick(metrics, (m) => m.capacity?.perCore));

  const computed: Warning[] = [];
  const spreads = [spreadOf('msgs/s', row.msgsPerSec), spreadOf('p99 latency', row.latencyP99Us)].filter((x) => x !== undefined);
  if (spreads.length > 0) computed.push({ code: 'high-spread', spreads, n: Math.max(row.msgsPerSec?.n ?? 0, row.latencyP99Us?.n ?? 0) });
  if (row.completed === 1) computed.push({ code: 'single-run', of: cells.length });
  const seen = new Set<Warning['code']>();
  for (const w of [...computed, ...cellWarnings(cells)]) {
    if (seen.has(w.code)) continue;
    seen.add(w.code);
    row.warnings.push(w);
  }
  return row;
}

/**
 * One row per case × runtime, cases in order of first appearance in `cells`,
 * and within a case the runtimes in order of first appearance in `cells` (the
 * same runtime order for every case). Aggregates use the completed
 * repetitions only (errored and skipped ones are counted, not averaged in);
 * a metric no completed repetition has (latency of an idle case, CPU per
 * message without traffic) is absent. `ratioToReference` divides this row's
 * medians by the `referenceRuntime` row's for the same case, per metric, and
 * is empty for a metric the reference lacks.
 *
 * Warnings: `high-spread` when msgs/s or p99 latency has madPct above
 * `HIGH_SPREAD_PCT` (strictly), `single-run` when exactly one repetition
 * completed, then the cells' own warnings, one per code.
 */
export function summarizeCells(cells: readonly CellResult[], referenceRuntime: string): SummaryRow[] {
  const runtimeOrder = new Map<string, number>();
  const byCase = new Map<string, Map<string, CellResult[]>>();
  for (const c of cells) {
    if (!runtimeOrder.has(c.runtime)) runtimeOrder.set(c.runtime, runtimeOrder.size);
    let byRuntime = byCase.get(c.case);
    if (!byRuntime) byCase.set(c.case, (byRuntime = new Map()));
    const list = byRuntime.get(c.runtime);
    if (list) list.push(c);
    else byRuntime.set(c.runtime, [c]);
  }
  const rows: SummaryRow[] = [];
  for (const [caseName, byRuntime] of byCase) {
    const caseRows = [...byRuntime.entries()]
      .sort(([a], [b]) => runtimeOrder.get(a)! - runtimeOrder.get(b)!)
      .map(([runtime, list]) => summarizeRow(caseName, runtime, list));
    const ref = caseRows.find((r) => r.runtime === referenceRuntime);
    for (const row of caseRows) {
      for (const key of RATIO_KEYS) {
        const mine = row[key];
        const theirs = ref?.[key];
        if (mine && theirs && theirs.median !== 0) row.ratioToReference[key] = mine.median / theirs.median;
      }
    }
    rows.push(...caseRows);
  }
  return rows;
}

/**
 * The latency histograms of the completed repetitions merged by adding counts
 * (not by averaging percentiles), summarized in µs: the pooled distribution,
 * whose p99.9 rests on every repetition's samples. Undefined when no completed
 * cell carries an encoded latency histogram.
 * @throws TypeError on a malformed encoding (see `decodeHistogram`)
 */
export function mergedLatency(cells: readonly CellResult[]): HistogramSummary | undefined {
  const encoded = cells
    .filter((c) => c.status === 'completed' && c.raw?.latencyEncoded)
    .map((c) => c.raw!.latencyEncoded);
  if (encoded.length === 0) return undefined;
  return summarizeHistogram(mergeHistograms(encoded.map(decodeHistogram)));
}
