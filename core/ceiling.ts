// The ceiling cell: a search for the most connections a server holds within
// an SLO, and memory per connection as a fit over the plateaus on the way.
// The decisions (where to step, whether a plateau met the SLO, whose limit
// stopped the search, the fits and projections) are pure functions, tested
// with known data; `runCeilingCell` drives a load-generator session and the
// server's /proc readings through them.

import { openCeilingSession, type CeilingBeatResult, type CeilingSession, type CeilingStepResult } from '../loadgen/ceiling-run.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, splitConnections } from '../loadgen/pool.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram, createLatencyHistogram } from '../loadgen/histogram.js';
import { modelOf } from '../loadgen/models/index.js';
import type { CeilingModel, ErrorKind, LoadPlan } from '../loadgen/types.js';
import { linearRegression, settledValue } from '../stats/index.js';
import { expandCpuList } from '../base/cpus.js';
import { BenchError, isBenchError } from '../base/errors.js';
import type { ServerHandle } from './launcher.js';
import { processOpenFileLimit, readProc, readRssCpu, readSlabObjectBytes, readSockStat } from './procfs.js';
import { steppedSearch, type PlateauOutcome, type SearchOutcome } from './search.js';
import type {
  CeilingMetrics,
  CeilingPlateau,
  CellMetrics,
  CellResult,
  MemoryFit,
  MemoryPerConnection,
  PlateauVerdict,
  SaturationReason,
  Warning,
} from '../schema/result.js';
import type { LifecycleStep, RunDeps, RunPlan } from './run.js';
import type { ProcSample, Sampler } from './sampler.js';
import { noMessageMetrics } from './metrics.js';
import type { ScenarioCase } from './scenario.js';
import { protocolFor } from './stack-plan.js';

// ---- constants -------------------------------------------------------------

/** A server this close to its open-file limit (fds) is at it: runtimes keep a few fds in reserve (libuv keeps one). */
export const FD_SLACK = 8;
/** Without a margin, the step that crosses the open-file limit goes this far past it: enough to see what the server does there. */
export const FD_OVERSHOOT = 64;
/** Server CPU (% of one core) with no traffic above which a server at its limit counts as spinning. */
export const SPIN_IDLE_CPU_PCT = 20;
/** How often RSS and CPU are read while settling and during heartbeats, ms (one small /proc read each). */
export const SETTLE_SAMPLE_MS = 100;
/** Budgets the projections are made for: 1, 4 and 16 GiB. */
export const PROJECTION_BUDGETS_BYTES = [1, 4, 16].map((g) => g * 1024 ** 3);
/**
 * Connect handshakes in flight at once over all workers. Measured with 19,000 connections from 4 source addresses
 * (README, Connection ceilings): 32 to 256 all took 1.5–2.5 s (the load generator's CPU is the limit), and the lower
 * the bound the lower the handshake times; 64 is among the fastest and far below every server's listen backlog (511–512).
 */
export const CEILING_MAX_IN_FLIGHT = 64;

// ---- the steps -------------------------------------------------------------

export interface TargetPlan {
  /** Connections to hold at each plateau, increasing. */
  targets: number[];
  /** What ends the search if every plateau meets the SLO. */
  endCause: 'max-connections' | 'fd-margin';
}

/**
 * Equal steps of ⌈max / steps⌉ up to `maxConnections`, bounded by the server's open-file limit: with a margin,
 * the last plateau is (limit − baseline fds − margin) and the search ends there ('fd-margin'); without one, the
 * step that crosses the limit goes FD_OVERSHOOT past it so the server's behaviour there is seen.
 */
export function planTargets(maxConnections: number, steps: number, fd: { limit: number | null; baselineFds: number; margin: number }): TargetPlan {
  const size = Math.max(1, Math.ceil(maxConnections / Math.max(1, steps)));
  const raw: number[] = [];
  for (let t = size; t < maxConnections; t += size) raw.push(t);
  raw.push(maxConnections);
  if (fd.limit === null) return { targets: raw, endCause: 'max-connections' };
  const room = fd.limit - fd.baselineFds;
  const cap = fd.margin > 0 ? room - fd.margin : room + FD_OVERSHOOT;
  if (cap < 1) return { targets: [], endCause: fd.margin > 0 ? 'fd-margin' : 'max-connections' };
  const below = raw.filter((t) => t < cap);
  if (below.length === raw.length) return { targets: raw, endCause: 'max-connections' };
  return { targets: [...below, cap], endCause: fd.margin > 0 ? 'fd-margin' : 'max-connections' };
}

// ---- judging a plateau -----------------------------------------------------

/** What was seen at one plateau, as the judge needs it. */
export interface PlateauObservation {
  targetConnections: number;
  /** Open at the end of the plateau, and before its step. */
  connections: number;
  openBefore: number;
  connectAttempted: number;
  connectFailed: number;
  errors: Partial<Record<ErrorKind, number>>;
  /** Socket errno codes of client-side failures (EADDRNOTAVAIL, EMFILE, …). */
  errnos: Record<string, number>;
  drops: number;
  heartbeatsSent: number;
  heartbeatsLost: number;
  p99Us: number | null;
  loadgenSaturated: boolean;
  loadgenReasons: SaturationReason[];
  /** The latest any heartbeat left after its intended time, µs: the most of the latency the generator's lateness explains. */
  loadgenMaxLagUs: number;
  serverAlive: boolean;
  /** How the server ended ("code 1", "SIGSEGV"), when it did. */
  serverExit: string | null;
  stderrTail: string;
  fds: number | null;
  rssBytes: number | null;
  cpuPct: number | null;
  idleCpuPct: number | null;
}

export interface JudgeContext {
  slo: CeilingModel['slo'];
  /** CPUs the server may use (its pinning), for the CPU bound. */
  serverCpuCount: number;
  openFileLimit: number | null;
  baselineFds: number;
}

const EMFILE_RE = /too many open files|EMFILE|os error 24/i;

function sumKinds(errors: Partial<Record<ErrorKind, number>>, kinds: ErrorKind[]): number {
  return kinds.reduce((a, k) => a + (errors[k] ?? 0), 0);
}

/** The server's last stderr line (matching `re` when given), escape codes removed (Deno colours even a pipe). */
export function lastStderrLine(tail: string, re?: RegExp): string | undefined {
  const lines = tail
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((l) => l.length > 0);
  return (re ? lines.filter((l) => re.test(l)) : lines).at(-1)?.slice(0, 200);
}

/** How a server behaved at its open-file limit, from what the clients and /proc saw. Pure. */
export function fdLimitBehaviour(o: PlateauObservation): Pick<PlateauVerdict, 'atFdLimit' | 'serverExit' | 'serverSaid'> {
  if (!o.serverAlive) {
    const said = lastStderrLine(o.stderrTail, EMFILE_RE) ?? lastStderrLine(o.stderrTail);
    return { atFdLimit: 'exited', ...(o.serverExit ? { serverExit: o.serverExit } : {}), ...(said ? { serverSaid: said } : {}) };
  }
  const closed = sumKinds(o.errors, ['reset', 'unexpected-close', 'refused']);
  const timeouts = o.errors.timeout ?? 0;
  if (closed >= timeouts && closed > 0) return { atFdLimit: 'closes-extra' };
  const cpu = o.idleCpuPct;
  if (cpu !== null && cpu >= SPIN_IDLE_CPU_PCT) return { atFdLimit: 'spins' };
  return { atFdLimit: 'stalls' };
}

/**
 * Whether a plateau met the SLO and, if not, whose limit broke it, as data (report/ceiling.ts words it). In
 * order: the server gone (its open-file limit when it said EMFILE or the step crossed the limit, else a
 * crash); the server at its open-file limit; the load generator's ports or fds; then the SLO bounds — memory,
 * errors, latency (the load generator's when its own lateness explains the excess), CPU. The environment's
 * limits come first because they explain the rest. Pure.
 */
export function judgePlateau(o: PlateauObservation, ctx: JudgeContext): PlateauVerdict {
  const slo = ctx.slo;
  const limit = ctx.openFileLimit;
  const crossed = limit !== null && o.targetConnections + ctx.baselineFds > limit - FD_SLACK;
  const atLimit = limit !== null && o.fds !== null && o.fds >= limit - FD_SLACK;
  const failures = o.connectFailed + o.drops;
  const fd = (): PlateauVerdict => ({ ok: false, cause: 'fd-limit', limitClass: 'environment', ...fdLimitBehaviour(o) });

  if (!o.serverAlive) {
    if (EMFILE_RE.test(o.stderrTail) || crossed) return fd();
    const said = lastStderrLine(o.stderrTail);
    return { ok: false, cause: 'crash', limitClass: 'runtime', ...(o.serverExit ? { serverExit: o.serverExit } : {}), ...(said ? { serverSaid: said } : {}) };
  }
  if (atLimit || (crossed && failures > 0)) return fd();
  const ports = (o.errnos['EADDRNOTAVAIL'] ?? 0) + (o.errnos['EADDRINUSE'] ?? 0);
  if (ports > 0) return { ok: false, cause: 'loadgen-ports', limitClass: 'environment', failedConnects: ports };
  const fds = (o.errnos['EMFILE'] ?? 0) + (o.errnos['ENFILE'] ?? 0);
  if (fds > 0) return { ok: false, cause: 'loadgen-fds', limitClass: 'environment', failedConnects: fds };
  if (slo.memoryBudgetMiB !== null && o.rssBytes !== null && o.rssBytes > slo.memoryBudgetMiB * 1024 * 1024) {
    return { ok: false, cause: 'memory', limitClass: 'runtime' };
  }
  const connectRatio = o.connectAttempted > 0 ? o.connectFailed / o.connectAttempted : 0;
  const dropRatio = o.openBefore + o.connectAttempted > 0 ? o.drops / Math.max(1, o.openBefore + o.connectAttempted - o.connectFailed) : 0;
  const lostRatio = o.heartbeatsSent > 0 ? o.heartbeatsLost / o.heartbeatsSent : 0;
  const broken: NonNullable<PlateauVerdict['broken']> = [];
  if (connectRatio > slo.maxErrorRatio) broken.push('connects');
  if (dropRatio > slo.maxErrorRatio) broken.push('drops');
  if (lostRatio > slo.maxErrorRatio) broken.push('heartbeats');
  if (broken.length > 0) return { ok: false, cause: 'errors', limitClass: 'runtime', broken };
  if (o.p99Us !== null && o.p99Us > slo.heartbeatP99Ms * 1000) {
    // The generator's own lateness is blamed only where it could explain the excess: a p99 beyond the bound
    // even after taking away the latest send's lag is the server's, however busy the generator was.
    if (o.loadgenSaturated && o.p99Us - o.loadgenMaxLagUs <= slo.heartbeatP99Ms * 1000) {
      return { ok: false, cause: 'loadgen-saturated', limitClass: 'environment', loadgenReasons: o.loadgenReasons };
    }
    return { ok: false, cause: 'latency', limitClass: 'runtime' };
  }
  const cpuBound = slo.maxServerCpuPct * Math.max(1, ctx.serverCpuCount);
  if (o.cpuPct !== null && o.cpuPct >= cpuBound) return { ok: false, cause: 'cpu', limitClass: 'runtime' };
  return { ok: true };
}

// ---- memory per connection -------------------------------------------------

/** Least-squares fit of bytes against connections (stats linearRegression); null with fewer than 2 distinct points. Pure. */
export function fitMemory(points: [connections: number, bytes: number][]): MemoryFit | null {
  const fit = linearRegression(points.map(([x, y]) => ({ x, y })));
  if (!fit.ok) return null;
  return { bytesPerConnection: fit.slope, interceptBytes: fit.intercept, r2: fit.r2, n: fit.n, points: points.map(([x, y]) => [x, y]) };
}

/**
 * Connections a server process could hold within each budget: (budget − fitted intercept) ÷ bytes per
 * connection, rounded down. Budgets the intercept alone exceeds, and non-positive slopes, give no projection. Pure.
 */
export function projectConnections(fit: MemoryFit | null, basis: 'active' | 'idle', budgetsBytes: number[] = PROJECTION_BUDGETS_BYTES): MemoryPerConnection['projections'] {
  if (!fit || !(fit.bytesPerConnection > 0)) return [];
  return budgetsBytes
    .map((budgetBytes) => ({ budgetBytes, connections: Math.floor((budgetBytes - fit.interceptBytes) / fit.bytesPerConnection), basis }))
    .filter((p) => p.connections > 0);
}

/**
 * Kernel memory per socket from a machine-wide figure: the slope against connections, halved, since on loopback
 * every connection is two sockets (client and server). Null without a fit. Pure.
 */
export function kernelBytesPerSocket(points: [connections: number, bytes: number][]): { bytesPerSocket: number; r2: number } | null {
  const fit = fitMemory(points);
  return fit ? { bytesPerSocket: fit.bytesPerConnection / 2, r2: fit.r2 } : null;
}

/** The memory budget's ceiling, interpolated linearly between the last good and the first bad plateau. Pure. */
export function interpolateBudget(good: { connections: number; rssBytes: number }, bad: { connections: number; rssBytes: number }, budgetBytes: number): number {
  if (bad.rssBytes <= good.rssBytes || bad.connections <= good.connections) return good.connections;
  const x = good.connections + ((budgetBytes - good.rssBytes) / (bad.rssBytes - good.rssBytes)) * (bad.connections - good.connections);
  return Math.floor(Math.min(bad.connections, Math.max(good.connections, x)));
}

/** Fewest plateaus a memory-per-connection slope is read from: two points always make a line. */
export const MIN_FIT_POINTS = 3;

/** A fit that may be reported as bytes per connection: at least MIN_FIT_POINTS plateaus and a positive slope (never a negative figure). */
export function usableFit(fit: MemoryFit | null): MemoryFit | null {
  return fit !== null && fit.n >= MIN_FIT_POINTS && fit.bytesPerConnection > 0 ? fit : null;
}

/**
 * Memory per connection over the plateaus that met the SLO (bisection plateaus excluded: runtimes do not return
 * memory): only from a slope over at least MIN_FIT_POINTS plateaus, and never negative. Pure.
 */
export function memoryPerConnection(plateaus: CeilingPlateau[]): MemoryPerConnection {
  const up = plateaus.filter((p) => p.ok && !p.bisection);
  const pts = (get: (p: CeilingPlateau) => number | null) =>
    up.filter((p) => get(p) !== null).map((p) => [p.connections, get(p)!] as [number, number]);
  const idle = usableFit(fitMemory(pts((p) => p.rssIdleBytes)));
  const hasBeats = up.some((p) => p.heartbeatsSent > 0);
  const active = hasBeats ? usableFit(fitMemory(pts((p) => p.rssBytes))) : null;
  return {
    idle,
    active,
    kernel: (() => {
      const buffers = kernelBytesPerSocket(pts((p) => p.kernelTcpMemBytes));
      const slab = kernelBytesPerSocket(pts((p) => p.kernelSlabBytes));
      return { buffersBytesPerSocket: buffers?.bytesPerSocket ?? null, slabBytesPerSocket: slab?.bytesPerSocket ?? null, slabR2: slab?.r2 ?? null };
    })(),
    projections: active ? projectConnections(active, 'active') : projectConnections(idle, 'idle'),
  };
}

// ---- the cell ----------------------------------------------------------------

/** What a stepped cell (a ceiling or a capacity search) gets from serveCell: its server, sampler and baseline. */
export interface SteppedCellContext {
  cell: CellResult;
  scenarioCase: ScenarioCase;
  plan: RunPlan;
  deps: RunDeps;
  url: string;
  pid: number | undefined;
  server: ServerHandle | undefined;
  sampler: Sampler | undefined;
  baseline: ProcSample;
  step: (s: LifecycleStep) => void;
}

export interface CeilingCellContext extends SteppedCellContext {
  /** Replaces the load-generator session (tests). */
  openSession?: typeof openCeilingSession;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reading {
  tMs: number;
  rssBytes: number;
  cpuUs: number;
}

/** The server as the search reads it: alive or not, RSS and CPU from /proc, how it ended. */
interface ServerProbe {
  readonly pid: number | undefined;
  alive(): boolean;
  read(): Reading | undefined;
  readonly readings: Reading[];
  exitText(): string | null;
  stderrTail(): string;
  /** Lets a just-ended server's exit status arrive (it comes a moment after /proc stops showing it). */
  settleExit(): Promise<void>;
}

function probeServer(pid: number | undefined, server: ServerHandle | undefined, t0: number): ServerProbe {
  const readings: Reading[] = [];
  let exitText: string | null = null;
  let gone = false;
  void server?.exited.then((r) => {
    gone = true;
    exitText = r.signal ?? `code ${r.code}`;
  });
  const probe: ServerProbe = {
    pid,
    readings,
    alive: () => !gone && (pid === undefined || readRssCpu(pid) !== undefined),
    read() {
      if (pid === undefined) return undefined;
      const r = readRssCpu(pid);
      if (!r) return undefined;
      const x = { tMs: performance.now() - t0, ...r };
      readings.push(x);
      return x;
    },
    exitText: () => exitText,
    stderrTail: () => server?.stderrTail() ?? '',
    async settleExit() {
      if (server && exitText === null && !probe.alive()) await Promise.race([server.exited, delay(500)]);
    },
  };
  return probe;
}

const cpuPctOf = (a: Reading | undefined, b: Reading | undefined) => (a && b && b.tMs > a.tMs ? ((b.cpuUs - a.cpuUs) / ((b.tMs - a.tMs) * 1000)) * 100 : null);

/** Reads RSS until it settles (or the timeout), every SETTLE_SAMPLE_MS; the value, whether it settled, the CPU meanwhile. */
async function settleRss(probe: ServerProbe, settle: CeilingModel['settle']): Promise<{ rss: number | null; settled: boolean; cpuPct: number | null }> {
  if (probe.pid === undefined) return { rss: null, settled: false, cpuPct: null };
  const start = performance.now();
  const samples: Reading[] = [];
  let result: { value: number; settled: boolean } | undefined;
  while (probe.alive()) {
    const r = probe.read();
    if (r) samples.push(r);
    if (samples.length > 0) {
      result = settledValue(samples.map((x) => ({ tMs: x.tMs, value: x.rssBytes })), { ...settle, timeoutMs: Infinity });
      if (result.settled || performance.now() - start >= settle.timeoutMs) break;
    }
    await delay(SETTLE_SAMPLE_MS);
  }
  return { rss: result?.value ?? null, settled: result?.settled ?? false, cpuPct: cpuPctOf(samples[0], samples.at(-1)) };
}

/**
 * Heartbeats (or, without them, a hold) on every open connection, with the server's RSS and CPU read meanwhile.
 * A load generator that fell behind (a GC pause, a busy machine) measured itself: it beats once more before the
 * plateau is judged; errors and drops of every attempt count.
 */
async function beatPlateau(session: CeilingSession, probe: ServerProbe, warmupMs: number, durationMs: number, settle: CeilingModel['settle'], retry: boolean) {
  const during: Reading[] = [];
  let measureFromMs = Infinity;
  let beating = true;
  const sampling = (async () => {
    while (beating && probe.alive()) {
      const r = probe.read();
      if (r && r.tMs >= measureFromMs) during.push(r);
      await delay(SETTLE_SAMPLE_MS);
    }
  })();
  let beat: CeilingBeatResult | undefined;
  try {
    for (let attempt = 0; attempt < (retry ? 2 : 1); attempt++) {
      during.length = 0;
      measureFromMs = (probe.readings.at(-1)?.tMs ?? 0) + warmupMs;
      const b = await session.beat(warmupMs, durationMs);
      if (beat) {
        b.drops += beat.drops;
        addErrors(b.errors, beat.errors);
        for (const [k, v] of Object.entries(beat.errnos)) b.errnos[k] = (b.errnos[k] ?? 0) + v;
      }
      beat = b;
      if (!b.saturation.saturated || !probe.alive()) break;
    }
  } finally {
    beating = false;
    await sampling;
  }
  const s = during.length > 0 ? settledValue(during.map((x) => ({ tMs: x.tMs, value: x.rssBytes })), { ...settle, timeoutMs: Infinity }) : undefined;
  return { beat: beat!, rss: s?.value ?? null, settled: s?.settled ?? false, cpuPct: cpuPctOf(during[0], during.at(-1)) };
}

function addErrors(into: Partial<Record<ErrorKind, number>>, from: Partial<Record<ErrorKind, number>>): void {
  for (const [k, v] of Object.entries(from) as [ErrorKind, number][]) into[k] = (into[k] ?? 0) + v;
}

/** What one plateau needs: the session, the server, the model and how long to beat or hold. */
interface PlateauEnv {
  session: CeilingSession;
  probe: ServerProbe;
  model: CeilingModel;
  judge: JudgeContext;
  warmupMs: number;
  durationMs: number;
  /** Hold (no heartbeats) at this target for `durationMs`, counting what the server closed: a stepped idle run's top. */
  holdAt: number | undefined;
  /** Connections open now, across plateaus. */
  open: number;
  connectHists: string[];
  lastLatencyEncoded: string;
  onProgress(phase: 'connecting' | 'measure', open: number): void;
}

type MeasuredPlateau = CeilingPlateau & PlateauOutcome & { settledOk: boolean };

/** One plateau: step to `target`, let RSS settle idle, beat (or hold), read the server, judge. */
async function measurePlateau(env: PlateauEnv, target: number, bisection: boolean): Promise<MeasuredPlateau> {
  const { session, probe, model } = env;
  const openBefore = env.open;
  const abortAfter = Math.max(16, Math.ceil(model.slo.maxErrorRatio * Math.max(0, target - openBefore)) + 1);
  env.onProgress('connecting', env.open);
  const st: CeilingStepResult = await session.step(target, abortAfter);
  env.open = st.open;
  env.connectHists.push(st.connectEncoded);
  const idle = await settleRss(probe, model.settle);
  const full = probe.alive() && probe.pid !== undefined ? readProc(probe.pid) : undefined;
  const kernel = readSockStat();
  const slab = readSlabObjectBytes();
  const beats = model.heartbeat !== null || env.holdAt === target;
  let active = { beat: undefined as CeilingBeatResult | undefined, rss: idle.rss, settled: idle.settled, cpuPct: null as number | null };
  if (beats && probe.alive() && env.open > 0) {
    env.onProgress('measure', env.open);
    active = await beatPlateau(session, probe, model.heartbeat ? env.warmupMs : 0, env.durationMs, model.settle, model.heartbeat !== null);
    env.open = active.beat!.open;
    if (model.heartbeat) env.lastLatencyEncoded = active.beat!.latencyEncoded;
  }
  const beat = active.beat;
  const errors: Partial<Record<ErrorKind, number>> = { ...st.errors };
  addErrors(errors, beat?.errors ?? {});
  const errnos = { ...st.errnos };
  for (const [k, v] of Object.entries(beat?.errnos ?? {})) errnos[k] = (errnos[k] ?? 0) + v;
  const serverAlive = probe.alive();
  await probe.settleExit();
  const p99Us = beat && beat.latency.count > 0 ? beat.latency.p99Us : null;
  const obs: PlateauObservation = {
    targetConnections: target,
    connections: env.open,
    openBefore,
    connectAttempted: st.attempted,
    connectFailed: st.failed,
    errors,
    errnos,
    drops: st.drops + (beat?.drops ?? 0),
    heartbeatsSent: model.heartbeat ? (beat?.sent ?? 0) : 0,
    heartbeatsLost: model.heartbeat ? (beat?.lost ?? 0) : 0,
    p99Us,
    loadgenSaturated: beat?.saturation.saturated ?? false,
    loadgenReasons: beat?.saturation.reasons ?? [],
    loadgenMaxLagUs: beat?.maxLagUs ?? 0,
    serverAlive,
    serverExit: probe.exitText(),
    stderrTail: probe.stderrTail(),
    fds: full?.fds ?? null,
    rssBytes: active.rss,
    cpuPct: active.cpuPct,
    idleCpuPct: idle.cpuPct,
  };
  const verdict = judgePlateau(obs, env.judge);
  return {
    targetConnections: target,
    connections: env.open,
    bisection,
    rssIdleBytes: idle.rss,
    rssIdleSettled: idle.settled,
    rssBytes: active.rss,
    rssSettled: active.settled,
    p50Us: p99Us !== null ? beat!.latency.p50Us : null,
    p99Us,
    maxUs: p99Us !== null ? beat!.latency.maxUs : null,
    heartbeatsSent: obs.heartbeatsSent,
    heartbeatsLost: obs.heartbeatsLost,
    connectAttempted: st.attempted,
    connectFailed: st.failed,
    errors,
    drops: obs.drops,
    cpuPct: active.cpuPct,
    idleCpuPct: idle.cpuPct,
    fds: full?.fds ?? null,
    threads: full?.threads ?? null,
    kernelTcpMemBytes: kernel?.tcpMemBytes ?? null,
    kernelSlabBytes: slab ?? null,
    connectMs: Math.round(st.connectMs),
    loadgenSaturated: obs.loadgenSaturated,
    ok: verdict.ok,
    verdict,
    // Latency, errors and CPU depend on the connections held now, so closing back down is fair; memory does not come back.
    bisectable: serverAlive && (verdict.cause === 'latency' || verdict.cause === 'errors' || verdict.cause === 'cpu'),
    settledOk: idle.settled && (model.heartbeat === null || active.settled),
  };
}

/**
 * Where a search stopped and whose limit it was, as data: the first bad plateau's verdict; a server gone between
 * plateaus (a crash); or the end of the plan (the scenario's maximum, or the requested margin to the open-file
 * limit). The ceiling is a number only when the runtime's own limit stopped it. Pure.
 */
export function ceilingStop(
  search: SearchOutcome<MeasuredPlateau>,
  o: { endCause: TargetPlan['endCause']; planned: number; serverGone: boolean; serverExit: string | null; budgetBytes: number | null },
): Pick<CeilingMetrics, 'cause' | 'limitClass' | 'stop' | 'ceilingConnections' | 'lastGoodConnections' | 'firstBadConnections' | 'refined'> {
  const lastGood = search.lastGood?.outcome.connections ?? 0;
  const bad = search.firstBad?.outcome;
  let stop: PlateauVerdict;
  if (bad) stop = bad.verdict;
  else if (search.plateaus.filter((p) => !p.bisection).length < o.planned || o.serverGone) {
    stop = { ok: false, cause: 'crash', limitClass: 'runtime', ...(o.serverExit ? { serverExit: o.serverExit } : {}) };
  } else stop = { ok: true, cause: o.endCause, limitClass: o.endCause === 'fd-margin' ? 'environment' : 'none' };
  const cause = stop.cause!;
  const limitClass = stop.limitClass!;
  let ceiling: number | null = null;
  let refined: CeilingMetrics['refined'] = null;
  if (limitClass === 'runtime') {
    ceiling = lastGood;
    if (search.refined !== undefined) {
      ceiling = search.refined;
      refined = 'bisection';
    } else if (cause === 'memory' && bad && search.lastGood && o.budgetBytes !== null && search.lastGood.outcome.rssBytes !== null && bad.rssBytes !== null) {
      ceiling = interpolateBudget({ connections: lastGood, rssBytes: search.lastGood.outcome.rssBytes }, { connections: bad.connections, rssBytes: bad.rssBytes }, o.budgetBytes);
      refined = 'interpolated';
    }
  }
  return { cause, limitClass, stop, ceilingConnections: ceiling, lastGoodConnections: lastGood, firstBadConnections: bad ? bad.targetConnections : null, refined };
}

/** The load generator's plan for a ceiling session: the most it will hold, 64 handshakes in flight over all workers. */
function sessionPlan(ctx: CeilingCellContext, model: CeilingModel, maxTarget: number): LoadPlan {
  const sc = ctx.scenarioCase.scenario;
  const workers = splitConnections(maxTarget, ctx.plan.workers, DEFAULT_MAX_CONNECTIONS_PER_WORKER).length;
  return {
    url: ctx.url,
    connections: maxTarget,
    load: model,
    message: { kind: 'binary', size: { type: 'fixed', bytes: model.heartbeat?.bytes ?? 16 } },
    warmupMs: sc.warmupSec * 1000,
    durationMs: sc.durationSec * 1000,
    drainTimeoutMs: 2000,
    // Per worker: the total over workers stays under the servers' listen backlogs.
    connect: { maxInFlight: Math.max(1, Math.floor(CEILING_MAX_IN_FLIGHT / workers)), timeoutMs: 3000 },
    workers: ctx.plan.workers,
    ...(ctx.plan.loadgenCpus ? { cpus: ctx.plan.loadgenCpus } : {}),
    client: 'raw',
    // A Socket.IO stack's connections are Engine.IO sessions on the route's namespace (loadgen/ceiling.ts).
    ...(protocolFor(ctx.cell.runtime, ctx.plan) === 'socket.io' ? { protocol: 'socket.io' as const } : {}),
    seed: ctx.plan.seed,
  };
}

/** The cell's warnings from its plateaus: unsettled memory, a load generator that fell behind, connections an idle run lost. */
function plateauWarnings(plateaus: readonly MeasuredPlateau[], model: CeilingModel, isIdle: boolean): Warning[] {
  const out: Warning[] = [];
  const unsettled = plateaus.find((p) => p.ok && p.rssIdleBytes !== null && !p.settledOk);
  if (unsettled) out.push({ code: 'rss-unsettled', connections: unsettled.connections, ...model.settle });
  const behind = plateaus.filter((p) => p.loadgenSaturated);
  if (!isIdle && behind.length > 0) {
    out.push({ code: 'loadgen-bound', reasons: behind.flatMap((p) => p.verdict.loadgenReasons ?? []), atConnections: behind.map((p) => p.connections) });
  }
  const failed = plateaus.find((p) => !p.ok);
  if (isIdle && failed) {
    out.push({
      code: 'delivery-errors',
      lost: 0,
      duplicated: 0,
      corrupted: 0,
      outOfOrder: 0,
      misdelivered: 0,
      closedByServer: failed.drops,
      failedConnects: failed.connectFailed,
      closeCodes: {},
      atConnections: failed.targetConnections,
    });
  }
  return out;
}

/**
 * Runs a ceiling (or stepped idle) cell on a server that is up and verified: plans the steps, runs the stepped
 * search (core/search.ts) with one plateau per step, and fills `cell.metrics` and `cell.raw`. A server that dies
 * is a result here (its cause is judged), not an error. Throws only when the load generator fails while the
 * server is alive.
 */
export async function runCeilingCell(ctx: CeilingCellContext): Promise<void> {
  const { cell, scenarioCase: c, plan, deps, pid, server, baseline } = ctx;
  const t0 = performance.now();
  const sc = c.scenario;
  const searched = modelOf(c.model).search?.(c.model);
  if (!searched) throw new BenchError('E_USAGE', `${c.name}: the ${c.model.model} model does not run as a stepped search`);
  const { model, memoryOnly: isIdle } = searched;
  const openFileLimit = pid !== undefined ? processOpenFileLimit(pid) : null;
  const baselineFds = baseline.fds > 0 ? baseline.fds : 0;
  const { targets, endCause } = planTargets(sc.connections, model.steps, { limit: isIdle ? null : openFileLimit, baselineFds, margin: model.stopShortOfFdLimitBy });
  // The periodic sampler lists every fd 4 times a second: at 20k fds that is load on the machine. The probe reads /proc instead.
  ctx.sampler?.stop();
  const probe = probeServer(pid, server, t0);
  const open = ctx.openSession ?? deps.openCeiling ?? openCeilingSession;
  const session = await open(sessionPlan(ctx, model, Math.max(1, ...targets)), { nodePath: deps.host.nodePath, ...(deps.signal ? { signal: deps.signal } : {}) });
  const env: PlateauEnv = {
    session,
    probe,
    model,
    judge: { slo: model.slo, serverCpuCount: plan.serverCpus ? expandCpuList(plan.serverCpus).length : 1, openFileLimit, baselineFds },
    warmupMs: sc.warmupSec * 1000,
    durationMs: sc.durationSec * 1000,
    holdAt: isIdle ? targets.at(-1) : undefined,
    open: 0,
    connectHists: [],
    lastLatencyEncoded: encodeHistogram(createLatencyHistogram()),
    onProgress: (phase, n) => deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: { phase, connectionsOpen: n, recvPerSec: 0, elapsedMs: performance.now() - t0 } }),
  };
  let search: SearchOutcome<MeasuredPlateau> = { plateaus: [], lastGood: undefined, firstBad: undefined, refined: undefined, exhausted: false };
  try {
    ctx.step('connected');
    search = await steppedSearch({ targets, bisectSteps: model.bisectSteps, canContinue: () => probe.alive(), plateau: (t, b) => measurePlateau(env, t, b) });
  } catch (e) {
    // The load generator failing because the server vanished under it is the server's story, judged below.
    if (!(isBenchError(e) && e.code === 'E_LOADGEN_FAILED' && !probe.alive())) throw e;
  } finally {
    await session.close();
  }
  ctx.step('measure-end');
  ctx.step('drain-done');
  const plateaus = search.plateaus.map((p) => p.outcome);
  const stop = ceilingStop(search, { endCause, planned: targets.length, serverGone: !probe.alive() && server !== undefined, serverExit: probe.exitText(), budgetBytes: model.slo.memoryBudgetMiB !== null ? model.slo.memoryBudgetMiB * 1024 * 1024 : null });
  const record = plateaus.map(({ bisectable: _b, settledOk: _s, ...p }): CeilingPlateau => p);
  const memory = memoryPerConnection(record);
  const connect = mergeHistograms(env.connectHists.map(decodeHistogram));
  const endSample = pid !== undefined && probe.alive() ? (readProcSample(pid, t0) ?? baseline) : baseline;
  cell.metrics = {
    ...noMessageMetrics(baseline, endSample, { rssPeakBytes: Math.max(...probe.readings.map((r) => r.rssBytes), baseline.rssBytes), connectUs: summarizeHistogram(connect) }),
    bytesPerConnection: memory.idle?.bytesPerConnection ?? null,
    errors: record.reduce((all, p) => (addErrors(all, p.errors), all), {} as Partial<Record<ErrorKind, number>>),
    loadgen: { workers: [], saturation: { saturated: plateaus.some((p) => p.loadgenSaturated), reasons: [] } },
    ...(isIdle
      ? { memory }
      : { ceiling: { ...stop, openFileLimit, maxConnections: sc.connections, stopShortOfFdLimitBy: model.stopShortOfFdLimitBy, slo: model.slo, plateaus: record, memory, searchMs: Math.round(performance.now() - t0) } }),
  };
  cell.warnings.push(...plateauWarnings(plateaus, model, isIdle));
  cell.raw = { latencyEncoded: env.lastLatencyEncoded, connectEncoded: encodeHistogram(connect), timeline: [], samples: [baseline], phasesMs: { connectedAt: 0, measureStart: 0, measureEnd: Math.round(performance.now() - t0) } };
}

/** A ProcSample read now, on the search's clock. */
function readProcSample(pid: number, t0: number): ProcSample | undefined {
  const r = readProc(pid);
  return r ? { tMs: performance.now() - t0, ...r, kernelTcpMemBytes: readSockStat()?.tcpMemBytes ?? 0 } : undefined;
}
