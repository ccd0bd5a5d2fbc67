import { expandCpuList } from '../base/cpus.js';
import { BenchError } from '../base/errors.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, openPool, splitConnections } from './pool.js';
import { judgeLoadgen } from './saturation.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram } from './histogram.js';
import type { WorkerResult } from './ipc.js';
import { modelOf } from './models/index.js';
import type { DeliveryCounts, ErrorKind, LoadPlan, LoadProgress, LoadResult, OpenLoopCounts, TimelineBucket, WorkerStats } from './types.js';

/**
 * The coordinator of a load run to its end: spreads the connections over the
 * worker pool (loadgen/pool.ts, each worker pinned to a load-generator CPU when
 * given), starts them on one shared epoch time so warmup and the measured window
 * line up across workers, and merges what they measured.
 */

export interface RunLoadOptions {
  nodePath: string;
  /** Sockets per worker process at most (open-file limit minus margin). */
  maxConnectionsPerWorker?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Phase boundaries, on this process's clock, so the caller can sample the server exactly then. */
  onPhase?: (phase: 'connected' | 'measure-start' | 'measure-end' | 'done') => void;
  signal?: AbortSignal;
  /** Extra Node flags for the workers, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/p'] to profile the hot path. */
  workerExecArgv?: string[];
  /**
   * Awaited after the workers are spawned and before they connect: the caller's last quiet reading of the server
   * (its baseline) overlaps the workers' start-up (a Node process and its modules, ~0.3 s a cell) instead of
   * following it. A rejection ends the load before any connection, workers gone.
   */
  beforeConnect?: () => Promise<void>;
  /** When warmup starts, on the workers' epoch clock (schedule.ts epochClockUs), µs; default: 50 ms after every connection is open. A load segment's agreed start. */
  startAtUs?: number;
  /** The workers' raw results and every sender's sent count, before they are merged (a load segment keeps them for the merge of segments). */
  onWorkerResults?: (results: WorkerResult[], sentBySender: [number, number][]) => void;
}

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) {
  for (const [k, v] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + v;
}

/** Sums timelines bucket by bucket (second index). */
export function mergeTimelines(timelines: TimelineBucket[][]): TimelineBucket[] {
  const by = new Map<number, TimelineBucket>();
  for (const t of timelines) {
    for (const b of t) {
      const m = by.get(b.second) ?? { second: b.second, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 };
      m.sentMsgs += b.sentMsgs;
      m.receivedMsgs += b.receivedMsgs;
      m.sentBytes += b.sentBytes;
      m.receivedBytes += b.receivedBytes;
      by.set(b.second, m);
    }
  }
  return [...by.values()].sort((a, b) => a.second - b.second);
}

/**
 * Merges worker results into one LoadResult: histograms by adding (exact percentiles of the union), counts by
 * summing, timelines bucket by bucket, the load generator judged once over all workers; then the model adds
 * the merge of its own parts (loadgen/models/).
 */
export function mergeWorkerResults(plan: LoadPlan, results: WorkerResult[], cpuLists: (string | null)[]): LoadResult {
  const latency = mergeHistograms(results.map((r) => decodeHistogram(r.latencyEncoded)));
  const connect = mergeHistograms(results.map((r) => decodeHistogram(r.connectEncoded)));
  const errors: Partial<Record<ErrorKind, number>> = {};
  const delivery: DeliveryCounts = { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 };
  const closeCodes: Record<string, number> = {};
  let openLoop: OpenLoopCounts | undefined;
  for (const r of results) {
    addCounts(errors, r.errors);
    addCounts(closeCodes, r.closeCodes);
    for (const k of Object.keys(delivery) as (keyof DeliveryCounts)[]) delivery[k] += r.delivery[k];
    if (r.openLoop) {
      openLoop ??= { targetPerSec: 0, intended: 0, sent: 0, late: 0, dropped: 0, held: 0 };
      openLoop.targetPerSec += r.openLoop.targetPerSec;
      openLoop.intended += r.openLoop.intended;
      openLoop.sent += r.openLoop.sent;
      openLoop.late += r.openLoop.late;
      openLoop.dropped += r.openLoop.dropped;
      openLoop.held = (openLoop.held ?? 0) + (r.openLoop.held ?? 0);
    }
  }
  const workers: WorkerStats[] = results.map((r, i) => ({
    worker: r.worker,
    pid: r.pid,
    cpus: cpuLists[i] ?? null,
    connections: r.connections,
    cpuUs: r.cpuUs,
    cpuUtilPct: r.measuredMs > 0 ? (r.cpuUs / (r.measuredMs * 1000)) * 100 : 0,
    eventLoopDelayP99Us: r.eventLoopDelayP99Us,
    eventLoopDelayMaxUs: r.eventLoopDelayMaxUs,
    spinWait: r.spinWait,
    ...(r.schedule ? { schedule: r.schedule } : {}),
  }));
  const out: LoadResult = {
    latency: summarizeHistogram(latency),
    latencyEncoded: encodeHistogram(latency),
    connect: summarizeHistogram(connect),
    connectEncoded: encodeHistogram(connect),
    timeline: mergeTimelines(results.map((r) => r.timeline)),
    connectionsOpened: results.reduce((a, r) => a + r.opened, 0),
    connectionsFailed: results.reduce((a, r) => a + r.failed, 0),
    connectPhaseMs: Math.max(0, ...results.map((r) => r.connectPhaseMs)),
    errors,
    closes: { codes: closeCodes },
    delivery,
    workers,
    saturation: judgeLoadgen(workers.map((w, i) => ({ worker: w.worker, cpus: w.cpus, cpuUs: w.cpuUs, windowMs: results[i]!.measuredMs, eventLoopDelayP99Us: w.eventLoopDelayP99Us, spinWait: w.spinWait, ...(w.schedule ? { schedule: w.schedule } : {}) }))),
    measuredMs: Math.min(...results.map((r) => r.measuredMs)),
    ...(openLoop ? { openLoop } : {}),
  };
  modelOf(plan.load).mergeParts?.(results, out);
  return out;
}

/**
 * Runs one load plan to the end: connect, warmup, measure, drain. Rejects with E_LOADGEN_FAILED when a
 * worker dies or the connect phase opens nothing, E_INTERRUPTED when the signal aborts; every worker is gone
 * when it settles, however it ends.
 */
export async function runLoad(plan: LoadPlan, opts: RunLoadOptions): Promise<LoadResult> {
  // A segment opens its own ids only; plan.connections stays the scenario's total (loadgen/segment.ts).
  const seg = plan.segment;
  const counts = splitConnections(seg ? seg.connections : plan.connections, plan.workers, opts.maxConnectionsPerWorker ?? DEFAULT_MAX_CONNECTIONS_PER_WORKER);
  const recvLast = new Map<number, number>();
  const openNow = new Map<number, number>();
  const t0 = performance.now();
  const pool = openPool({
    nodePath: opts.nodePath,
    count: counts.length,
    ...(plan.cpus ? { cpus: plan.cpus } : {}),
    ...(opts.workerExecArgv ? { execArgv: opts.workerExecArgv } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onMessage: (i, m) => {
      if (m.type !== 'progress') return;
      recvLast.set(i, m.recvLastSec);
      openNow.set(i, m.open);
      if (i !== 0) return;
      opts.onProgress?.({
        phase: m.phase,
        connectionsOpen: [...openNow.values()].reduce((a, b) => a + b, 0),
        recvPerSec: [...recvLast.values()].reduce((a, b) => a + b, 0),
        elapsedMs: performance.now() - t0,
      });
    },
  });
  const phaseTimers: NodeJS.Timeout[] = [];
  try {
    await opts.beforeConnect?.();
    const firstConnIds = counts.map((_, i) => (seg?.firstConnId ?? 0) + counts.slice(0, i).reduce((a, b) => a + b, 0));
    // Spinning for send times is only fair when every worker has a CPU to itself and shares it with no other process.
    const ownCpus = plan.cpus !== undefined && expandCpuList(plan.cpus).length >= counts.length;
    const spinWait = ownCpus && plan.cpusShared !== true;
    const perWorker = Math.max(...counts);
    const connectBudgetMs = plan.connect.timeoutMs + (perWorker / Math.max(1, plan.connect.maxInFlight)) * plan.connect.timeoutMs + 30_000;
    const connected = await pool.request(
      'connected',
      (i) => ({
        type: 'init',
        plan,
        worker: i,
        firstConnId: firstConnIds[i]!,
        connections: counts[i]!,
        spinWait,
        ...(plan.connect.ratePerSec ? { connectRatePerSec: plan.connect.ratePerSec / counts.length } : {}),
      }),
      connectBudgetMs,
    );
    const opened = connected.reduce((a, m) => a + m.opened, 0);
    if (opened === 0 && plan.connections > 0) {
      const errs: Partial<Record<ErrorKind, number>> = {};
      for (const m of connected) addCounts(errs, m.errors);
      throw new BenchError('E_LOADGEN_FAILED', `no connection to ${plan.url} could be opened`, {
        details: Object.entries(errs).map(([k, v]) => `${k}: ${v}`),
        hint: 'is the server running and is the URL right? try `bench load --url ... --connections 1`',
      });
    }
    opts.onPhase?.('connected');
    // A shared start time lets every worker's windows line up, whatever its startup lag.
    const startAtUs = opts.startAtUs ?? (performance.timeOrigin + performance.now() + 50) * 1000;
    const leadMs = Math.max(0, startAtUs / 1000 - (performance.timeOrigin + performance.now()));
    phaseTimers.push(setTimeout(() => opts.onPhase?.('measure-start'), leadMs + plan.warmupMs));
    phaseTimers.push(setTimeout(() => opts.onPhase?.('measure-end'), leadMs + plan.warmupMs + plan.durationMs));
    const drained = await pool.request('drained', () => ({ type: 'start', startAtUs }), leadMs + plan.warmupMs + plan.durationMs + plan.drainTimeoutMs + 30_000);
    // Receivers in one worker may hear senders of another: hand every worker the global sent counts.
    const sentBySender = drained.flatMap((m) => m.sentBySender);
    const results = await pool.request('result', () => ({ type: 'finish', sentBySender }), 30_000);
    opts.onPhase?.('done');
    opts.onWorkerResults?.(results.map((m) => m.result), sentBySender);
    return mergeWorkerResults(
      plan,
      results.map((m) => m.result),
      pool.workers.map((w) => w.cpus),
    );
  } finally {
    for (const t of phaseTimers) clearTimeout(t);
    await pool.close();
  }
}
