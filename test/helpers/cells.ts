// Small builders of CellResults for table-driven tests: only the figures a
// test cares about are given, everything else gets a plausible default.

import { sampleWarning } from './warnings.js';
import type { CellMetrics, CellResult, CellStatus, Warning } from '../../schema/result.js';
import type { HistogramSummary } from '../../loadgen/histogram.js';

/** A latency summary with the given percentiles (µs); count defaults to 1000. */
export function latencySummary(p: Partial<HistogramSummary> = {}): HistogramSummary {
  return {
    count: 1000,
    minUs: 50,
    meanUs: 120,
    p50Us: 100,
    p90Us: 180,
    p99Us: 300,
    p999Us: 600,
    maxUs: 900,
    belowRangeCount: 0,
    aboveRangeCount: 0,
    invalidCount: 0,
    ...p,
  };
}

export const EMPTY_LATENCY: HistogramSummary = latencySummary({
  count: 0,
  minUs: 0,
  meanUs: 0,
  p50Us: 0,
  p90Us: 0,
  p99Us: 0,
  p999Us: 0,
  maxUs: 0,
});

/** Metrics of an echo cell with traffic; override any field. */
export function metrics(over: Partial<CellMetrics> = {}): CellMetrics {
  return {
    msgsPerSec: 10_000,
    sentMsgsPerSec: 10_000,
    throughputIsLowerBound: false,
    latencyUs: latencySummary(),
    connectUs: latencySummary({ count: 10 }),
    serverCpuUsPerMsg: 10,
    serverCpuUtilPct: 10,
    msgsPerServerCpuSec: 100_000,
    rssBaselineBytes: 40_000_000,
    rssPeakBytes: 50_000_000,
    rssEndBytes: 49_000_000,
    bytesPerConnection: 4096,
    serverThreads: 7,
    serverFds: 30,
    errors: {},
    delivery: { sent: 50_000, expected: 50_000, received: 50_000, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
    loadgen: { workers: [], saturation: { saturated: false, reasons: [] } },
    ...over,
  };
}

export interface CellSpec {
  case?: string;
  runtime?: string;
  repetition?: number;
  status?: CellStatus;
  metrics?: Partial<CellMetrics>;
  warnings?: Warning[];
}

/** A cell; completed with default metrics unless told otherwise (errored cells get no metrics). */
export function cell(spec: CellSpec = {}): CellResult {
  const caseName = spec.case ?? 'echo';
  const runtime = spec.runtime ?? 'bun';
  const repetition = spec.repetition ?? 1;
  const status = spec.status ?? 'completed';
  const out: CellResult = {
    id: `${caseName}/${runtime}/${repetition}`,
    scenario: caseName.split('@')[0]!,
    case: caseName,
    runtime,
    repetition,
    order: 0,
    status,
    warnings: spec.warnings ?? [],
  };
  if (status === 'completed') out.metrics = metrics(spec.metrics);
  if (status === 'errored') out.error = { code: 'E_SERVER_EXITED', message: 'server exited', details: [] };
  return out;
}

/** Completed cells of one case × runtime, one per msgs/s value (repetitions 1..n). */
export function reps(runtime: string, msgsPerSec: number[], over: Partial<CellMetrics> = {}, caseName = 'echo'): CellResult[] {
  return msgsPerSec.map((v, i) => cell({ case: caseName, runtime, repetition: i + 1, metrics: { ...over, msgsPerSec: v } }));
}

export function warning(code: Warning['code']): Warning {
  return sampleWarning(code);
}
