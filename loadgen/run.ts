import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandCpuList } from '../base/cpus.js';
import { BenchError } from '../base/errors.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, recordUs, createLatencyHistogram, summarizeHistogram } from './histogram.js';
import type { FromWorker, ToWorker, WorkerResult } from './ipc.js';
import type { SlowConsumerPart } from './broadcast-shapes.js';
import type { VoicePart } from './voice.js';
import type {
  DeliveryCounts,
  ErrorKind,
  LoadPlan,
  LoadProgress,
  LoadResult,
  OpenLoopCounts,
  SaturationVerdict,
  SlowConsumerResult,
  TimelineBucket,
  VoiceResult,
  WorkerStats,
} from './types.js';

/**
 * The coordinator: the only place that spawns load-generator workers. It
 * spreads connections over worker processes (each pinned to a load-generator
 * CPU when given), starts them on one shared epoch time so warmup and the
 * measured window line up across workers, and merges what they measured.
 */

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** Sockets one worker may hold: below the 20,000 open-file limit with margin for the runtime's own fds. */
export const DEFAULT_MAX_CONNECTIONS_PER_WORKER = 19_000;

/** A worker above this CPU share of one core, or with this event-loop delay, limited the run. */
export const SATURATION_CPU_PCT = 90;
export const SATURATION_LOOP_DELAY_P99_US = 20_000;

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
}

/** How many connections each worker gets: as even as possible, none above the per-worker cap. */
export function splitConnections(connections: number, workers: number, maxPerWorker: number): number[] {
  const n = Math.max(workers, Math.ceil(connections / maxPerWorker), 1);
  const base = Math.floor(connections / n);
  const extra = connections % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
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

/** Share of open-loop sends that may leave late before the generator counts as saturated. */
export const SATURATION_LATE_FRACTION = 0.01;

/**
 * The `saturated` verdict: any worker above the CPU or event-loop bound limited
 * the run. A spin-waiting open-loop worker is at 100% CPU by design, so for it
 * the schedule decides: late or dropped sends mean it could not keep up.
 */
export function saturationOf(workers: WorkerStats[]): SaturationVerdict {
  const reasons: string[] = [];
  for (const w of workers) {
    if (w.spinWait) {
      const s = w.schedule;
      if (s && (s.dropped > 0 || (s.sent > 0 && s.late / s.sent > SATURATION_LATE_FRACTION))) {
        reasons.push(
          `load-generator worker ${w.worker} could not keep its schedule (${((100 * s.late) / Math.max(1, s.sent)).toFixed(1)}% of sends late, ${s.dropped} dropped)`,
        );
      }
    } else if (w.cpuUtilPct >= SATURATION_CPU_PCT) reasons.push(`load-generator worker ${w.worker} at ${w.cpuUtilPct.toFixed(0)}% CPU`);
    if (w.eventLoopDelayP99Us >= SATURATION_LOOP_DELAY_P99_US) {
      reasons.push(`load-generator worker ${w.worker} event-loop delay p99 ${(w.eventLoopDelayP99Us / 1000).toFixed(1)} ms`);
    }
  }
  return { saturated: reasons.length > 0, reasons };
}

/** Merges the workers' voice parts: histograms decoded and added (exact), counters summed. */
export function mergeVoiceParts(parts: readonly VoicePart[]): VoiceResult {
  const merged = (pick: (p: VoicePart) => string) => mergeHistograms(parts.map((p) => decodeHistogram(pick(p))));
  const firstChunk = merged((p) => p.firstChunkEncoded);
  const relayOverhead = merged((p) => p.relayOverheadEncoded);
  const jitter = merged((p) => p.jitterEncoded);
  const sum = (pick: (p: VoicePart) => number) => parts.reduce((a, p) => a + pick(p), 0);
  return {
    firstChunk: summarizeHistogram(firstChunk),
    firstChunkEncoded: encodeHistogram(firstChunk),
    relayOverhead: summarizeHistogram(relayOverhead),
    relayOverheadEncoded: encodeHistogram(relayOverhead),
    jitter: summarizeHistogram(jitter),
    jitterEncoded: encodeHistogram(jitter),
    audioEventsSent: sum((p) => p.audioEventsSent),
    controlEventsSent: sum((p) => p.controlEventsSent),
    turnsTriggered: sum((p) => p.turnsTriggered),
    turnsCompleted: sum((p) => p.turnsCompleted),
    repliesExpected: sum((p) => p.repliesExpected),
    repliesReceived: sum((p) => p.repliesReceived),
    repliesCorrupted: sum((p) => p.repliesCorrupted),
  };
}

/** Merges worker results into one LoadResult: histograms by adding, counts by summing. */
export function mergeWorkerResults(results: WorkerResult[], cpuLists: (string | null)[]): LoadResult {
  const latency = mergeHistograms(results.map((r) => decodeHistogram(r.latencyEncoded)));
  const connect = mergeHistograms(results.map((r) => decodeHistogram(r.connectEncoded)));
  const errors: Partial<Record<ErrorKind, number>> = {};
  const delivery: DeliveryCounts = { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0 };
  let openLoop: OpenLoopCounts | undefined;
  const lastByKey = new Map<string, number>();
  for (const r of results) {
    addCounts(errors, r.errors);
    for (const k of Object.keys(delivery) as (keyof DeliveryCounts)[]) delivery[k] += r.delivery[k];
    if (r.openLoop) {
      openLoop ??= { targetPerSec: 0, intended: 0, sent: 0, late: 0, dropped: 0 };
      openLoop.targetPerSec += r.openLoop.targetPerSec;
      openLoop.intended += r.openLoop.intended;
      openLoop.sent += r.openLoop.sent;
      openLoop.late += r.openLoop.late;
      openLoop.dropped += r.openLoop.dropped;
    }
    for (const m of r.lastRecipient ?? []) lastByKey.set(m.key, Math.max(lastByKey.get(m.key) ?? 0, m.maxLatencyUs));
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
    delivery,
    workers,
    saturation: saturationOf(workers),
    measuredMs: Math.min(...results.map((r) => r.measuredMs)),
    ...(openLoop ? { openLoop } : {}),
  };
  const voiceParts = results.flatMap((r) => (r.voice ? [r.voice] : []));
  if (voiceParts.length > 0) {
    out.voice = mergeVoiceParts(voiceParts);
    // The voice model's latency is the time to the first reply chunk.
    out.latency = out.voice.firstChunk;
    out.latencyEncoded = out.voice.firstChunkEncoded;
  }
  if (lastByKey.size > 0) {
    const h = createLatencyHistogram();
    for (const v of lastByKey.values()) recordUs(h, v);
    out.lastRecipient = summarizeHistogram(h);
    out.lastRecipientEncoded = encodeHistogram(h);
  }
  const slowParts = results.flatMap((r) => (r.slowConsumers ? [r.slowConsumers] : []));
  if (slowParts.length > 0) out.slowConsumers = mergeSlowConsumerParts(slowParts);
  const churnParts = results.flatMap((r) => (r.churn ? [r.churn] : []));
  if (churnParts.length > 0) {
    out.churn = { leaves: 0, rejoins: 0, failedRejoins: 0 };
    for (const c of churnParts) addCounts(out.churn, c);
  }
  return out;
}

/** Merges the workers' slow consumers: counts and close codes summed, latency histograms added. */
export function mergeSlowConsumerParts(parts: readonly SlowConsumerPart[]): SlowConsumerResult {
  const latency = mergeHistograms(parts.map((p) => decodeHistogram(p.latencyEncoded)));
  const closeCodes: Record<string, number> = {};
  for (const p of parts) addCounts(closeCodes, p.closeCodes);
  const sum = (pick: (p: SlowConsumerPart) => number) => parts.reduce((a, p) => a + pick(p), 0);
  return {
    count: sum((p) => p.count),
    readBytesPerSec: parts[0]?.readBytesPerSec ?? 0,
    expected: sum((p) => p.expected),
    received: sum((p) => p.received),
    missing: sum((p) => p.missing),
    closedByServer: sum((p) => p.closedByServer),
    closeCodes,
    latency: summarizeHistogram(latency),
  };
}

/**
 * Starts one load-generator worker process (pinned with taskset to `cpus` when given), with stdout inherited,
 * stderr piped and an IPC channel. The one place workers are spawned: runLoad and the ceiling session use it.
 */
export function spawnWorkerProcess(nodePath: string, cpus: string | null, execArgv: string[] = []): ChildProcess {
  const args = [...execArgv, workerScript];
  const [cmd, argv] = cpus ? ['taskset', ['-c', cpus, nodePath, ...args]] : [nodePath, args];
  return spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
}

interface WorkerHandle {
  index: number;
  child: ChildProcess;
  cpus: string | null;
  connections: number;
  stderr: string;
}

/**
 * Runs one load plan to the end: connect, warmup, measure, drain. Rejects with
 * E_LOADGEN_FAILED when a worker dies or the connect phase opens nothing; every
 * worker is gone when it settles, however it ends.
 */
export async function runLoad(plan: LoadPlan, opts: RunLoadOptions): Promise<LoadResult> {
  const counts = splitConnections(plan.connections, plan.workers, opts.maxConnectionsPerWorker ?? DEFAULT_MAX_CONNECTIONS_PER_WORKER);
  const cpuPool = plan.cpus ? expandCpuList(plan.cpus) : [];
  const workers: WorkerHandle[] = [];
  const pending = new Map<number, { resolve: (m: FromWorker) => void; type: FromWorker['type'] }>();
  const results: WorkerResult[] = [];
  const recvLast = new Map<number, number>();
  const openNow = new Map<number, number>();
  let phase: LoadProgress['phase'] = 'connecting';
  const t0 = performance.now();
  let failure: BenchError | undefined;
  let failReject: ((e: BenchError) => void) | undefined;
  const failed = new Promise<never>((_, reject) => (failReject = reject));
  failed.catch(() => {});
  const fail = (e: BenchError) => {
    failure ??= e;
    failReject?.(failure);
  };

  const send = (w: WorkerHandle, m: ToWorker) => {
    if (w.child.connected) w.child.send(m);
  };

  let firstConnId = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i]!;
    // One CPU per worker when there are enough; otherwise all workers share the list.
    const cpus = cpuPool.length >= counts.length ? String(cpuPool[i]) : plan.cpus ?? null;
    const child = spawnWorkerProcess(opts.nodePath, cpus, opts.workerExecArgv);
    const w: WorkerHandle = { index: i, child, cpus, connections: n, stderr: '' };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (w.stderr = (w.stderr + s).slice(-4000)));
    child.on('message', (m: FromWorker) => {
      if (m.type === 'progress') {
        recvLast.set(i, m.recvLastSec);
        openNow.set(i, m.open);
        phase = m.phase;
        if (i === 0) {
          opts.onProgress?.({
            phase,
            connectionsOpen: [...openNow.values()].reduce((a, b) => a + b, 0),
            recvPerSec: [...recvLast.values()].reduce((a, b) => a + b, 0),
            elapsedMs: performance.now() - t0,
          });
        }
        return;
      }
      if (m.type === 'fatal') {
        fail(new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} failed: ${m.message}`));
        return;
      }
      if (m.type === 'result') results[i] = m.result;
      const p = pending.get(i);
      if (p && p.type === m.type) {
        pending.delete(i);
        p.resolve(m);
      }
    });
    child.on('exit', (code, signal) => {
      if (!results[i]) {
        fail(
          new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} exited early (${signal ?? `code ${code}`})`, {
            details: w.stderr.trim().split('\n').slice(-8),
          }),
        );
      }
    });
    // Spinning for send times is only fair when the worker has a CPU to itself and shares it with no other process.
    const spinWait = cpuPool.length >= counts.length && plan.cpusShared !== true;
    send(w, { type: 'init', plan, worker: i, firstConnId, connections: n, spinWait, ...(plan.connect.ratePerSec ? { connectRatePerSec: plan.connect.ratePerSec / counts.length } : {}) });
    firstConnId += n;
    workers.push(w);
  }

  const waitAll = (type: FromWorker['type'], timeoutMs: number) =>
    Promise.race([
      failed,
      new Promise<FromWorker[]>((resolve, reject) => {
        const got: FromWorker[] = [];
        const timer = setTimeout(
          () => reject(new BenchError('E_LOADGEN_FAILED', `load-generator workers did not report "${type}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        for (const w of workers) {
          if (type === 'result' && results[w.index]) {
            got.push({ type: 'result', result: results[w.index]! });
            continue;
          }
          pending.set(w.index, {
            type,
            resolve: (m) => {
              got.push(m);
              if (got.length === workers.length) {
                clearTimeout(timer);
                resolve(got);
              }
            },
          });
        }
        if (got.length === workers.length) {
          clearTimeout(timer);
          resolve(got);
        }
      }),
    ]);

  const onAbort = () => fail(new BenchError('E_INTERRUPTED', 'the load was interrupted'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const phaseTimers: NodeJS.Timeout[] = [];
  try {
    if (opts.signal?.aborted) onAbort();
    const perWorker = Math.max(...counts);
    const connectBudgetMs = plan.connect.timeoutMs + (perWorker / Math.max(1, plan.connect.maxInFlight)) * plan.connect.timeoutMs + 30_000;
    const connected = (await waitAll('connected', connectBudgetMs)) as Extract<FromWorker, { type: 'connected' }>[];
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
    const leadMs = 50;
    const startAtUs = (performance.timeOrigin + performance.now() + leadMs) * 1000;
    for (const w of workers) send(w, { type: 'start', startAtUs });
    phaseTimers.push(setTimeout(() => opts.onPhase?.('measure-start'), leadMs + plan.warmupMs));
    phaseTimers.push(setTimeout(() => opts.onPhase?.('measure-end'), leadMs + plan.warmupMs + plan.durationMs));
    const drained = (await waitAll('drained', leadMs + plan.warmupMs + plan.durationMs + plan.drainTimeoutMs + 30_000)) as Extract<
      FromWorker,
      { type: 'drained' }
    >[];
    // Receivers in one worker may hear senders of another: hand every worker the global sent counts.
    const sentBySender = drained.flatMap((m) => m.sentBySender);
    for (const w of workers) send(w, { type: 'finish', sentBySender });
    await waitAll('result', 30_000);
    opts.onPhase?.('done');
    return mergeWorkerResults(results, workers.map((w) => w.cpus));
  } finally {
    for (const t of phaseTimers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(
      workers.map(async (w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return;
        send(w, { type: 'stop' });
        const exited = new Promise((r) => w.child.once('exit', r));
        const t = setTimeout(() => w.child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }),
    );
  }
}
