import type { ErrorKind, LoadPlan, OpenLoopCounts, TimelineBucket, DeliveryCounts } from './types.js';
import type { DeferredStreams } from './accounting.js';
import type { ChurnPart, SlowConsumerPart } from './broadcast-shapes.js';
import type { VoicePart } from './voice.js';
import type { CeilingFromWorker, CeilingToWorker } from './ceiling.js';

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
      /**
       * Open loop: spin through the event loop (setImmediate) when the next send is under 1.5 ms away, for
       * sub-millisecond send times. Only when the worker has a CPU of its own: spinning shows as 100% CPU.
       */
      spinWait: boolean;
    }
  /** Begin sending at `startAtUs` (epoch µs); warmup then the measured window, then drain. */
  | { type: 'start'; startAtUs: number }
  /** Every sender's count of sent messages over all workers, so each worker can account for its receivers exactly. */
  | { type: 'finish'; sentBySender: [number, number][] }
  /** Stop now: close connections and exit. */
  | { type: 'stop' }
  /** The ceiling model's own commands (step, beat), answered with its own replies. */
  | CeilingToWorker;

/** Worker → coordinator. */
export type FromWorker =
  | { type: 'connected'; opened: number; failed: number; errors: Partial<Record<ErrorKind, number>>; connectPhaseMs: number }
  | { type: 'progress'; phase: 'connecting' | 'warmup' | 'measure' | 'drain'; open: number; recvLastSec: number }
  /** Sending and draining are over; what this worker's senders sent (connection id → messages). */
  | { type: 'drained'; sentBySender: [number, number][] }
  | { type: 'result'; result: WorkerResult }
  | { type: 'fatal'; message: string }
  | CeilingFromWorker;

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
  /** Connections the server closed, by close code (each connection once). */
  closeCodes: Record<string, number>;
  delivery: DeliveryCounts;
  openLoop?: OpenLoopCounts;
  /**
   * Broadcast: per published message (key `connId·2^32 + seq`), the latest and the earliest delivery latency this
   * worker saw and how many deliveries (the earliest: a segment's first arrival, which the merge compares across
   * segments to estimate their clock offsets).
   */
  lastRecipient?: { key: string; maxLatencyUs: number; minLatencyUs?: number; deliveries: number }[];
  /**
   * A load segment's broadcast (plan.segment): the member streams of publishers in other segments, whose sent
   * counts only the merge knows; `delivery` leaves them out of expected, lost and misdelivered until then.
   */
  deferred?: DeferredStreams[];
  cpuUs: number;
  measuredMs: number;
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
  /** True when the worker spin-waited for send times, so its CPU share says nothing about saturation. */
  spinWait: boolean;
  /** Scheduled sending (open loop, broadcast publishers): sends made, late and dropped. */
  schedule?: { sent: number; late: number; dropped: number; held: number };
  /** Broadcast with slow consumers: this worker's, apart from `delivery` (latency encoded, counts to be summed). */
  slowConsumers?: SlowConsumerPart;
  /** Broadcast with churn: this worker's leaves and rejoins. */
  churn?: ChurnPart;
  /** Voice model: this worker's sessions (histograms encoded, counts to be summed). */
  voice?: VoicePart;
}
