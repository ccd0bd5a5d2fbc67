import type { ChildProcess } from 'node:child_process';
import { expandCpuList } from '../base/cpus.js';
import { BenchError } from '../base/errors.js';
import type { CeilingFromWorker, CeilingToWorker, WorkerBeatReport, WorkerStepReport } from './ceiling.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram, type HistogramSummary } from './histogram.js';
import type { FromWorker, ToWorker } from './ipc.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, SATURATION_CPU_PCT, SATURATION_LOOP_DELAY_P99_US, spawnWorkerProcess, splitConnections } from './run.js';
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

/** Share of heartbeats that may leave late before the load generator counts as saturated. */
export const HEARTBEAT_LATE_FRACTION = 0.01;

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
 * Merges the workers' beat reports and judges the load generator: saturated when it fell behind the heartbeat
 * schedule (late or skipped sends), its event loop stalled, or the workers sharing a CPU used most of it. Pure.
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
  const late = sum((r) => r.late);
  const dropped = sum((r) => r.dropped);
  const reasons: string[] = [];
  if (dropped > 0 || (sent > 0 && late / sent > HEARTBEAT_LATE_FRACTION)) {
    reasons.push(`the load generator fell behind its heartbeat schedule (${late} sends late, ${dropped} skipped)`);
  }
  for (const r of reports) {
    if (r.eventLoopDelayP99Us >= SATURATION_LOOP_DELAY_P99_US) {
      reasons.push(`load-generator worker ${r.worker} event-loop delay p99 ${(r.eventLoopDelayP99Us / 1000).toFixed(1)} ms`);
    }
  }
  // Workers may share a CPU: their CPU adds up per CPU list.
  const byCpus = new Map<string, number>();
  for (const r of reports) {
    const key = cpusOf(r.worker) ?? `worker ${r.worker}`;
    const pct = r.windowMs > 0 ? (r.cpuUs / (r.windowMs * 1000)) * 100 : 0;
    byCpus.set(key, (byCpus.get(key) ?? 0) + pct / Math.max(1, key.startsWith('worker') ? 1 : expandCpuList(key).length));
  }
  let loadgenCpuPct = 0;
  for (const [cpus, pct] of byCpus) {
    loadgenCpuPct = Math.max(loadgenCpuPct, pct);
    if (pct >= SATURATION_CPU_PCT) reasons.push(`load-generator CPU ${cpus} at ${pct.toFixed(0)}%`);
  }
  return {
    open: sum((r) => r.open),
    sent,
    received,
    lost: Math.max(0, sent - received),
    late,
    dropped,
    latency: summarizeHistogram(latency),
    latencyEncoded: encodeHistogram(latency),
    drops: sum((r) => r.drops),
    errors,
    errnos,
    saturation: { saturated: reasons.length > 0, reasons },
    loadgenCpuPct,
  };
}

interface Handle {
  index: number;
  child: ChildProcess;
  cpus: string | null;
  stderr: string;
  waiting: { type: CeilingFromWorker['type']; resolve: (m: CeilingFromWorker) => void } | undefined;
}

/**
 * Spawns the workers for a ceiling plan (`plan.load.model` must be 'ceiling'; `plan.connections` is the most
 * the session will ever hold) and waits until every one is ready. Rejects with E_LOADGEN_FAILED when a worker
 * dies or does not answer; every worker is gone once `close` has resolved.
 */
export async function openCeilingSession(plan: LoadPlan, opts: CeilingSessionOptions): Promise<CeilingSession> {
  if (plan.load.model !== 'ceiling') throw new BenchError('E_USAGE', `openCeilingSession: the plan's model is ${plan.load.model}, not ceiling`);
  const cap = opts.maxConnectionsPerWorker ?? DEFAULT_MAX_CONNECTIONS_PER_WORKER;
  const n = splitConnections(plan.connections, plan.workers, cap).length;
  const cpuPool = plan.cpus ? expandCpuList(plan.cpus) : [];
  const handles: Handle[] = [];
  let failure: BenchError | undefined;
  let failReject: ((e: BenchError) => void) | undefined;
  let failed = new Promise<never>((_, reject) => (failReject = reject));
  failed.catch(() => {});
  const fail = (e: BenchError) => {
    failure ??= e;
    failReject?.(failure);
  };
  let closing = false;

  for (let i = 0; i < n; i++) {
    const cpus = cpuPool.length >= n ? String(cpuPool[i]) : (plan.cpus ?? null);
    // --expose-gc: each worker collects after a step, so a major GC of 19,000 sockets' objects does not land in the heartbeats.
    const child = spawnWorkerProcess(opts.nodePath, cpus, ['--expose-gc', ...(opts.workerExecArgv ?? [])]);
    const h: Handle = { index: i, child, cpus, stderr: '', waiting: undefined };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (h.stderr = (h.stderr + s).slice(-4000)));
    child.on('message', (m: CeilingFromWorker | FromWorker) => {
      if (m.type === 'fatal') {
        fail(new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} failed: ${m.message}`));
        return;
      }
      const w = h.waiting;
      if (w && w.type === m.type) {
        h.waiting = undefined;
        w.resolve(m as CeilingFromWorker);
      }
    });
    child.on('exit', (code, signal) => {
      if (!closing) {
        fail(
          new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} exited early (${signal ?? `code ${code}`})`, {
            details: h.stderr.trim().split('\n').slice(-8),
          }),
        );
      }
    });
    handles.push(h);
  }

  const send = (h: Handle, m: ToWorker | CeilingToWorker) => {
    if (h.child.connected) h.child.send(m);
  };
  const waitAll = <T extends CeilingFromWorker['type']>(type: T, timeoutMs: number) =>
    Promise.race([
      failed,
      new Promise<Extract<CeilingFromWorker, { type: T }>[]>((resolve, reject) => {
        const got: Extract<CeilingFromWorker, { type: T }>[] = [];
        const timer = setTimeout(
          () => reject(new BenchError('E_LOADGEN_FAILED', `load-generator workers did not report "${type}" within ${Math.round(timeoutMs)} ms`)),
          timeoutMs,
        );
        for (const h of handles) {
          h.waiting = {
            type,
            resolve: (m) => {
              got[h.index] = m as Extract<CeilingFromWorker, { type: T }>;
              if (got.filter(Boolean).length === handles.length) {
                clearTimeout(timer);
                resolve(got);
              }
            },
          };
        }
      }),
    ]);

  const onAbort = () => fail(new BenchError('E_INTERRUPTED', 'the ceiling search was interrupted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  const close = async () => {
    if (closing) return;
    closing = true;
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(
      handles.map(async (h) => {
        if (h.child.exitCode !== null || h.child.signalCode !== null) return;
        const exited = new Promise((r) => h.child.once('exit', r));
        send(h, { type: 'stop' });
        const t = setTimeout(() => h.child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }),
    );
  };

  let firstConnId = 0;
  const split = splitConnections(plan.connections, n, cap);
  try {
    const ready = waitAll('ceiling-ready', 30_000);
    for (const h of handles) {
      const share = split[h.index]!;
      send(h, {
        type: 'init',
        plan,
        worker: h.index,
        firstConnId,
        connections: share,
        spinWait: false,
        ...(plan.connect.ratePerSec ? { connectRatePerSec: plan.connect.ratePerSec / n } : {}),
      });
      firstConnId += share;
    }
    await ready;
  } catch (e) {
    await close();
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
      const reports = waitAll('ceiling-stepped', budgetMs);
      for (const h of handles) send(h, { type: 'ceiling-step', targetOpen: shares[h.index]!, abortAfterFailures: perWorkerAbort });
      const got = await reports;
      return mergeStepReports(targetOpen, got.map((m) => m.report));
    },
    async beat(warmupMs, durationMs, graceMs = 2000) {
      const leadMs = 50;
      const startAtUs = (performance.timeOrigin + performance.now() + leadMs) * 1000;
      const reports = waitAll('ceiling-beaten', leadMs + warmupMs + durationMs + graceMs + 30_000);
      for (const h of handles) send(h, { type: 'ceiling-beat', startAtUs, warmupMs, durationMs, graceMs });
      const got = await reports;
      return mergeBeatReports(
        got.map((m) => m.report),
        (w) => handles[w]?.cpus ?? null,
      );
    },
    close,
  };
}
