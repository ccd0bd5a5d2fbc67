// What a load model is: one module per load shape (k6's executors are the
// pattern) that owns its config, defaults, validation, description, the server
// route it drives, what it sends, its run loop inside a worker, how its part of
// the workers' results merges, and the figures only it has. Nothing else in
// bench dispatches on a model's name: the scenario validator, the worker, the
// coordinator, the orchestrator and the metrics all go through this interface.
import type { Problems } from '../../base/validate.js';
import type { CellMetrics, ProcSample, Warning } from '../../schema/result.js';
import type { UpstreamConfig } from '../../upstream/config.js';
import type { WorkerResult } from '../ipc.js';
import type { ModelSegmentShare, SegmentContext } from '../segment.js';
import type { Init, Post, Runner } from '../session.js';
import type { CeilingModel, LoadModel, LoadPlan, LoadResult } from '../types.js';

/** The server routes of the contract (servers/CONTRACT.md). */
export type Route = '/echo' | '/broadcast' | '/relay' | '/health';

/** Samples of the server taken exactly at the phase boundaries (plus the periodic ones). */
export interface PhaseSamples {
  /** Before any client connected. */
  baseline: ProcSample;
  /** All connections open, before warmup. */
  connected: ProcSample;
  measureStart: ProcSample;
  measureEnd: ProcSample;
  /** Last sample before the server was stopped. */
  end: ProcSample;
  /** Every sample, for peak RSS and growth. */
  all: ProcSample[];
}

/** What the orchestrator knows beside the load result when a model computes its own figures. */
export interface MetricsContext {
  phases: PhaseSamples;
  /** Messages received and sent in the window (summed timeline) and the window's length. */
  receivedMsgs: number;
  sentMsgs: number;
  windowMs: number;
  /** Median of the window's 1-second buckets of received messages. */
  msgsPerSec: number;
  /** The server's CPU over the window, µs: precise (schedstat) where it agrees with the tick count, else ticks. */
  serverCpuUs: number;
  /** The simulated upstream's CPU and counters (voice cells). */
  upstream?: NonNullable<CellMetrics['voice']>['upstream'];
}

export interface LoadModelDef<M extends LoadModel = LoadModel> {
  readonly name: M['model'];
  /** One line for `bench list scenarios` and the docs. */
  readonly description: string;
  /** The server routes this model drives; a scenario's `route` must be one of them (the first is the default). */
  readonly routes: readonly Route[];
  /**
   * What the scenario's `message` must be: `none` (the model sends nothing of the scenario's: idle, http,
   * ceiling), `any`, or `accounted` (every delivery is matched to its sender, sequence number and send time,
   * so a JSON template must generate {{conn}}, {{seq}} and {{sentAtUs}}).
   */
  readonly message: 'none' | 'any' | 'accounted';
  /** Validates a scenario's `load` (field paths under `path`) and expands it into one model per case. */
  validate(raw: Record<string, unknown>, path: string, problems: Problems): M[];
  /** Problems that need the scenario's connection count (`field` names it: `connections`, `quick.connections`). */
  checkConnections?(m: M, connections: number, field: string): string[];
  /** Appended to the scenario name to name a case (e.g. "@10000/s"). */
  caseSuffix(m: M): string;
  /** Applies a scenario's quick preset to its raw `load` (e.g. fewer rates). */
  applyQuick?(load: Record<string, unknown>, quick: { ratesPerSec?: number[] }): Record<string, unknown>;
  /**
   * The rule that picks the figure a case is ranked on so that it is valid on this machine (core/decide.ts
   * primaryFigureOf): `capacity` (throughput where the server was the limit, else CPU per message), `fixed-rate`
   * (CPU per message where the offered rate was carried, else the rate carried), `memory` (bytes per connection
   * from a slope), `capacity-slo` (a capacity search: the most load per server core within the SLO), `none`
   * (not ranked).
   */
  readonly primary: 'capacity' | 'fixed-rate' | 'memory' | 'capacity-slo' | 'none';
  /**
   * The latency figure that gates a comparison of two runs beside the primary figure, where the load generator
   * kept its schedule on both sides (an open loop's p99; the voice relay's own share of a turn). Absent: none.
   */
  readonly primaryLatency?: 'latencyP99Us' | 'relayOverheadP99Us';
  /**
   * How a cell runs: one load to the end (runLoad), a stepped connection search driven plateau by plateau
   * (core/ceiling.ts), or a capacity search: a fresh load per level on the same server (core/capacity.ts).
   */
  runsAs(m: M): 'load' | 'search' | 'capacity';
  /**
   * A model that runs another model's load (a capacity search over a workload): that model, whose route and
   * message rules the scenario must meet.
   */
  workload?(m: M): LoadModel;
  /** The most connections a case opens at once, when not the scenario's `connections` (a capacity search's top level). */
  peakConnections?(m: M, connections: number): number;
  /**
   * Whether the load splits into independent segments (`--segment I/N`, k8s/) that together are exactly it:
   * no for a stepped search (plateau by plateau) or a client the model does not own (autocannon).
   */
  segmentable(m: M): boolean;
  /**
   * A segmentable model's own part of segment `ctx.segment`'s share (loadgen/segment.ts segmentShare): its
   * aggregate send rate's share, its roles among the segment's ids, the senders other segments hear. Absent:
   * nothing but connections to split (closed loop, idle).
   */
  segment?(m: M, ctx: SegmentContext): ModelSegmentShare;
  /**
   * A model that runs as a stepped search: the ceiling model to search with (plateaus, settling, heartbeats,
   * SLO) and whether only memory is measured (a stepped idle run: no heartbeats, held at its top plateau).
   */
  search?(m: M): { model: CeilingModel; memoryOnly: boolean };
  /** The simulated upstream a cell needs (voice), or undefined (a capacity search over a workload without one). */
  upstream?(m: M): Partial<UpstreamConfig> | undefined;
  /** After the window: how long to wait for what is still owed, ms. */
  drainTimeoutMs(m: M): number;
  /** Adjusts the orchestrator's default plan (workers, connect pacing, URL scheme, message). */
  plan?(m: M, base: LoadPlan): LoadPlan;
  /** Creates the model's runner inside a worker process (`m` is `init.plan.load`, typed). */
  createRunner(m: M, init: Init, post: Post): Runner;
  /** Merges the model's part of the workers' results into `out` (coordinator side). */
  mergeParts?(results: readonly WorkerResult[], out: LoadResult): void;
  /** The model's own figures and warnings beside the common ones (orchestrator side). */
  metrics?(m: M, load: LoadResult, ctx: MetricsContext): { metrics: Partial<CellMetrics>; warnings: Warning[] };
  /** One line describing a model instance for reports: "open loop at 10000 msg/s". */
  describe(m: M): string;
}
