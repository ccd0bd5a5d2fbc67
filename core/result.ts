import type { ParityManifest } from '../servers/settings.js';
import type { HistogramSummary } from '../loadgen/histogram.js';
import type { DeliveryCounts, ErrorKind, OpenLoopCounts, SaturationVerdict, TimelineBucket, WorkerStats } from '../loadgen/types.js';
import type { Environment } from './environment.js';
import type { ProcSample } from './sampler.js';

/**
 * The result file of `bench run`: versioned, self-describing (tool, revision,
 * command line, environment, settings), and holding every repetition's raw
 * figures and encoded histograms, so that reports and comparisons can be
 * recomputed from it alone. Bump RESULT_SCHEMA_VERSION on any incompatible change.
 */
export const RESULT_SCHEMA_VERSION = 1;

export type CellStatus = 'pending' | 'running' | 'completed' | 'errored' | 'skipped';

/** A measurement-quality problem, shown in every report beside the figure it concerns. */
export interface Warning {
  code:
    | 'loadgen-bound'
    | 'rate-missed'
    | 'rss-growing'
    | 'high-spread'
    | 'single-run'
    | 'delivery-errors'
    | 'server-cpu-unpinned'
    | 'server-killed'
    | 'parity-unknown'
    | 'server-unobserved'
    | 'first-run-outlier';
  message: string;
  hint: string;
}

export interface ServerInfo {
  pid: number;
  runtime: string;
  runtimeVersion: string;
  library: string;
  libraryVersion: string;
  /** Executable as read from /proc/<pid>/exe. */
  exe: string;
  settings: ParityManifest;
  /** CPU list every thread was confined to (null when not pinned). */
  cpus: string | null;
  startupMs: number;
}

/** Figures of one cell (one runtime × case × repetition). Units are in the names. */
export interface CellMetrics {
  /** Median of the 1-second buckets of received messages in the measured window. */
  msgsPerSec: number;
  /** Same, of sent messages. */
  sentMsgsPerSec: number;
  /** True when the load generator limited this cell: the rate is a lower bound of the server's capacity. */
  throughputIsLowerBound: boolean;
  latencyUs: HistogramSummary;
  connectUs: HistogramSummary;
  lastRecipientUs?: HistogramSummary;
  /** Server CPU time (user + system) per received message, µs, measured window only. */
  serverCpuUsPerMsg: number | null;
  /** Server CPU time over the window as % of one core. */
  serverCpuUtilPct: number;
  /** Messages per server CPU-second: work per unit of CPU. */
  msgsPerServerCpuSec: number | null;
  rssBaselineBytes: number;
  rssPeakBytes: number;
  rssEndBytes: number;
  /** (RSS after connecting − baseline) / connections. */
  bytesPerConnection: number | null;
  serverThreads: number;
  serverFds: number;
  errors: Partial<Record<ErrorKind, number>>;
  delivery: DeliveryCounts;
  openLoop?: OpenLoopCounts;
  loadgen: { workers: WorkerStats[]; saturation: SaturationVerdict };
  /** HTTP scenarios (autocannon): requests per second and non-2xx responses. */
  http?: { requestsPerSec: number; non2xx: number };
}

export interface CellResult {
  /** Stable id: `<scenario case>/<runtime>/<repetition>`. */
  id: string;
  scenario: string;
  /** The scenario case, e.g. `echo-rate@10000` (= scenario name when it has one case). */
  case: string;
  runtime: string;
  repetition: number;
  /** Position in the (seeded, interleaved) execution order. */
  order: number;
  status: CellStatus;
  startedAt?: string;
  durationMs?: number;
  error?: { code: string; message: string; details: string[] };
  server?: ServerInfo;
  metrics?: CellMetrics;
  warnings: Warning[];
  raw?: {
    latencyEncoded: string;
    connectEncoded: string;
    lastRecipientEncoded?: string;
    timeline: TimelineBucket[];
    /** /proc samples of the server (every 250 ms). */
    samples: ProcSample[];
    /** Phase boundaries on the sampler's clock, ms. */
    phasesMs: { connectedAt: number; measureStart: number; measureEnd: number };
  };
}

/** Median and spread of one metric over a case × runtime's completed repetitions. */
export interface Aggregate {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Median absolute deviation / median, %. null when n < 2. */
  madPct: number | null;
  values: number[];
}

export interface SummaryRow {
  case: string;
  scenario: string;
  runtime: string;
  completed: number;
  errored: number;
  msgsPerSec?: Aggregate;
  latencyP50Us?: Aggregate;
  latencyP99Us?: Aggregate;
  latencyP999Us?: Aggregate;
  latencyMaxUs?: Aggregate;
  serverCpuUsPerMsg?: Aggregate;
  rssPeakBytes?: Aggregate;
  bytesPerConnection?: Aggregate;
  /** True when any repetition was load-generator-bound. */
  throughputIsLowerBound: boolean;
  /** Ratio of this runtime's median to the reference runtime's, per metric (e.g. 2.1 = 2.1× the reference). */
  ratioToReference: Partial<Record<'msgsPerSec' | 'latencyP99Us' | 'serverCpuUsPerMsg' | 'rssPeakBytes', number>>;
  warnings: Warning[];
}

export interface RunSettings {
  runtimes: string[];
  /** Scenario definitions as run (after --quick and flag overrides). */
  scenarios: unknown[];
  repeat: number;
  seed: number;
  quick: boolean;
  serverCpus: string | null;
  loadgenCpus: string | null;
  referenceRuntime: string;
  client: 'raw' | 'ws';
}

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: 'bench'; version: string; gitRevision: string | null; gitDirty: boolean | null };
  label: string;
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  startedAt: string;
  finishedAt?: string;
  commandLine: string[];
  environment: Environment;
  settings: RunSettings;
  /** Effective settings per runtime, from each server's ready line, and the differences found. */
  parity: { manifests: Record<string, ParityManifest>; differences: string[] };
  cells: CellResult[];
  summary: SummaryRow[];
}
