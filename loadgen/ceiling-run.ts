import { BenchError } from '../base/errors.js';
import type { WorkerBeatReport, WorkerStepReport } from './ceiling.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram, type HistogramSummary } from './histogram.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, openPool, splitConnections } from './pool.js';
import { busiestLoadgenCpuPct, judgeLoadgen, type LoadgenSample } from './saturation.js';
import type { ErrorKind, LoadPlan, SaturationVerdict } from './types.js';

/**
 * The ceiling session: the coordinator side of the ceiling model. Unlike
 * runLoad (one plan, run to the end), the caller drives it one step at a time
 * — open to N connections, let the server settle, send heartbeats, decide —
 * because what happens next depends on what the server did (core/ceiling.ts).
 * Workers are spawned once, each holding an even share of the connections
 * (never more than the per-worker cap), and stay until `close`.
 */

/** What a step did, over all workers: the workers' step reports summed, with the merged handshake times. */
export interface CeilingStepResult extends Omit<WorkerStepReport, 'worker' | 'open' | 'connectMs'> {
  targetOpen: number;
  /** Connections open after the step. */
  open: number;
  /** Wall time of the step (slowest worker), ms. */
  connectMs: number;
  connect: HistogramSummary;
}

/** What a beat measured, over all workers. */
export interface CeilingBeatResult {
  open: number;
  /** Heartbeats of the measured window: sent, came back, did not come back within the grace period. */
  sent: number;
  received: number;
  lost: number;
  /** Sends more than 5 ms behind their schedule, and sends skipped, over warmup + window. */
  late: number;
  dropped: number;
  /** The latest any heartbeat left after its intended time, µs, over all workers. */
  maxLagUs: number;
  latency: HistogramSummary;
  latencyEncoded: string;
  drops: number;
  errors: Partial<Record<ErrorKind, number>>;
  errnos: Record<string, number>;
  /** Whether the load generator kept the heartbeat schedule (if not, latency is partly the generator's). */
  saturation: SaturationVerdict;
  /** Load-generator CPU over the window, % of one core, per CPU list the workers share. */
  loadgenCpuPct: number;
}

export interface CeilingSession {
  readonly workers: number;
  /** The most connections the session can hold: its workers × the per-worker cap. */
  readonly capacity: number;
  /**
   * Opens (or closes, when below the current count) connections until `targetOpen` are open over all workers,
   * split evenly. A worker stops starting connects after `abortAfterFailures` of its own failures.
   */
  step(targetOpen: number, abortAfterFailures?: number): Promise<CeilingStepResult>;
  /** Heartbeats on every open connection: `warmupMs` unmeasured, then `durationMs` measured, then up to `graceMs` for replies. */
  beat(warmupMs: number, durationMs: number, graceMs?: number): Promise<CeilingBeatResult>;
  /** Stops every worker (their connections are dropped without a close handshake). Idempotent. */
  close(): Promise<void>;
}

export interface CeilingSessionOptions {
  nodePath: string;
  maxConnectionsPerWorker?: number;
  signal?: AbortSignal;
  workerExecArgv?: string[];
}

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) {
  for (const [k, v] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + v;
}

/** Merges the workers' step reports. Pure. */
export function mergeStepReports(targetOpen: number, reports: WorkerStepReport[]): CeilingStepResult {
  const errors: Partial<Record<ErrorKind, number>> = {};
  const errnos: Record<string, number> = {};
  for (const r of reports) {
    addCounts(errors, r.errors);
    addCounts(errnos, r.errnos);
  }
  const connect = mergeHistograms(reports.map((r) => decodeHistogram(r.connectEncoded)));
  const sum = (f: (r: WorkerStepReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  return {
    targetOpen,
    open: sum((r) => r.open),
    attempted: sum((r) => r.attempted),
    opened: sum((r) => r.opened),
    failed: sum((r) => r.failed),
    closedByUs: sum((r) => r.closedByUs),
    errors,
    errnos,
    drops: sum((r) => r.drops),
    connectMs: Math.max(0, ...reports.map((r) => r.connectMs)),
    connect: summarizeHistogram(connect),
    connectEncoded: encodeHistogram(connect),
    aborted: reports.some((r) => r.aborted),
  };
}

/**
 * Merges the workers' beat reports, with the load generator judged by the one saturation verdict
 * (loadgen/saturation.ts): its heartbeat schedule, its event loop, and the CPU of workers sharing a CPU list. Pure.
 */
export function mergeBeatReports(reports: WorkerBeatReport[], cpusOf: (worker: number) => string | null): CeilingBeatResult {
  const errors: Partial<Record<ErrorKind, number>> = {};
  const errnos: Record<string, number> = {};
  for (const r of reports) {
    addCounts(errors, r.errors);
    addCounts(errnos, r.errnos);
  }
  const latency = mergeHistograms(reports.map((r) => decodeHistogram(r.latencyEncoded)));
  const sum = (f: (r: WorkerBeatReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  const sent = sum((r) => r.sent);
  const received = sum((r) => r.received);
  const samples: LoadgenSample[] = reports.map((r) => ({
    worker: r.worker,
    cpus: cpusOf(r.worker),
    cpuUs: r.cpuUs,
    windowMs: r.windowMs,
    eventLoopDelayP99Us: r.eventLoopDelayP99Us,
    spinWait: false,
    schedule: { sent: r.scheduled, late: r.late, dropped: r.dropped },
  }));
  return {
    open: sum((r) => r.open),
    sent,
    received,
    lost: Math.max(0, sent - received),
    late: sum((r) => r.late),
    dropped: sum((r) => r.dropped),
    maxLagUs: Math.max(0, ...reports.map((r) => r.maxLagUs)),
    latency: summarizeHistogram(latency),
    latencyEncoded: encodeHistogram(latency),
    drops: sum((r) => r.drops),
    errors,
    errnos,
    saturation: judgeLoadgen(samples),
    loadgenCpuPct: busiestLoadgenCpuPct(samples),
  };
}

/**
 * Spawns the workers for a ceiling plan (`plan.load.model` must be 'ceiling'; `plan.connections` is the most
 * the session will ever hold) through the worker pool and waits until every one is ready. Rejects with
 * E_LOADGEN_FAILED when a worker dies or does not answer; every worker is gone once `close` has resolved.
 */
export async function openCeilingSession(plan: LoadPlan, opts: CeilingSessionOptions): Promise<CeilingSession> {
  if (plan.load.model !== 'ceiling') throw new BenchError('E_USAGE', `openCeilingSession: the plan's model is ${plan.load.model}, not ceiling`);
  const cap = opts.maxConnectionsPerWorker ?? DEFAULT_MAX_CONNECTIONS_PER_WORKER;
  const split = splitConnections(plan.connections, plan.workers, cap);
  const n = split.length;
  const pool = openPool({
    nodePath: opts.nodePath,
    count: n,
    ...(plan.cpus ? { cpus: plan.cpus } : {}),
    // --expose-gc: each worker collects after a step, so a major GC of 19,000 sockets' objects does not land in the heartbeats.
    execArgv: ['--expose-gc', ...(opts.workerExecArgv ?? [])],
    ...(opts.signal ? { signal: opts.signal } : {}),
    what: 'the ceiling search',
  });
  const firstConnIds = split.map((_, i) => split.slice(0, i).reduce((a, b) => a + b, 0));
  try {
    await pool.request(
      'ceiling-ready',
      (i) => ({
        type: 'init',
        plan,
        worker: i,
        firstConnId: firstConnIds[i]!,
        connections: split[i]!,
        spinWait: false,
        ...(plan.connect.ratePerSec ? { connectRatePerSec: plan.connect.ratePerSec / n } : {}),
      }),
      30_000,
    );
  } catch (e) {
    await pool.close(3000);
    throw e;
  }
  return {
    workers: n,
    capacity: n * cap,
    async step(targetOpen, abortAfterFailures = Number.MAX_SAFE_INTEGER) {
      if (targetOpen > n * cap) throw new BenchError('E_USAGE', `ceiling step to ${targetOpen} connections: the session holds at most ${n * cap}`);
      const shares = splitConnections(targetOpen, n, cap);
      const perWorkerAbort = Math.max(1, Math.ceil(abortAfterFailures / n));
      const need = Math.max(0, ...shares);
      const budgetMs = plan.connect.timeoutMs + (need / Math.max(1, plan.connect.maxInFlight)) * plan.connect.timeoutMs + 30_000;
      const got = await pool.request('ceiling-stepped', (i) => ({ type: 'ceiling-step', targetOpen: shares[i]!, abortAfterFailures: perWorkerAbort }), budgetMs);
      return mergeStepReports(
        targetOpen,
        got.map((m) => m.report),
      );
    },
    async beat(warmupMs, durationMs, graceMs = 2000) {
      const leadMs = 50;
      const startAtUs = (performance.timeOrigin + performance.now() + leadMs) * 1000;
      const got = await pool.request('ceiling-beaten', () => ({ type: 'ceiling-beat', startAtUs, warmupMs, durationMs, graceMs }), leadMs + warmupMs + durationMs + graceMs + 30_000);
      return mergeBeatReports(
        got.map((m) => m.report),
        (w) => pool.workers[w]?.cpus ?? null,
      );
    },
    close: () => pool.close(3000),
  };
}
