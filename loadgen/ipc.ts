import type { ErrorKind, LoadPlan, OpenLoopCounts, TimelineBucket, DeliveryCounts } from './types.js';

/**
 * Messages between the coordinator (loadgen/run.ts) and its worker processes
 * (loadgen/worker.ts), over Node's IPC channel. Plain JSON data only.
 */

/** Coordinator → worker. */
export type ToWorker =
  | {
      type: 'init';
      plan: LoadPlan;
      worker: number;
      /** Global connection ids [firstConnId, firstConnId + connections). */
      firstConnId: number;
      connections: number;
      /** This worker's share of the connect rate and of the open-loop rate. */
      connectRatePerSec?: number;
    }
  /** Begin sending at `startAtUs` (epoch µs); warmup then the measured window, then drain. */
  | { type: 'start'; startAtUs: number }
  /** Stop now: close connections and exit. */
  | { type: 'stop' };

/** Worker → coordinator. */
export type FromWorker =
  | { type: 'connected'; opened: number; failed: number; errors: Partial<Record<ErrorKind, number>>; connectPhaseMs: number }
  | { type: 'progress'; phase: 'connecting' | 'warmup' | 'measure' | 'drain'; open: number; recvLastSec: number }
  | { type: 'result'; result: WorkerResult }
  | { type: 'fatal'; message: string };

/** What one worker measured; the coordinator merges these. */
export interface WorkerResult {
  worker: number;
  pid: number;
  connections: number;
  opened: number;
  failed: number;
  connectPhaseMs: number;
  latencyEncoded: string;
  connectEncoded: string;
  timeline: TimelineBucket[];
  errors: Partial<Record<ErrorKind, number>>;
  delivery: DeliveryCounts;
  openLoop?: OpenLoopCounts;
  /** Broadcast: per published message (key `connId:seq`), the latest delivery latency this worker saw and how many deliveries. */
  lastRecipient?: { key: string; maxLatencyUs: number; deliveries: number }[];
  cpuUs: number;
  measuredMs: number;
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
}
