// The ceiling cell: a search for the most connections a server holds within
// an SLO, and memory per connection as a fit over the plateaus on the way.
// The decisions (where to step, whether a plateau met the SLO, whose limit
// stopped the search, the fits and projections) are pure functions, tested
// with known data; `runCeilingCell` drives a load-generator session and the
// server's /proc readings through them.

import { openCeilingSession, type CeilingBeatResult, type CeilingSession, type CeilingStepResult } from '../loadgen/ceiling-run.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, splitConnections } from '../loadgen/pool.js';
import { describeSaturationReason } from '../loadgen/saturation.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram, createLatencyHistogram } from '../loadgen/histogram.js';
import { CEILING_DEFAULTS } from '../loadgen/models/ceiling.js';
import type { CeilingModel, ErrorKind, IdleModel, LoadPlan } from '../loadgen/types.js';
import { linearRegression, settledValue } from '../stats/index.js';
import { expandCpuList } from '../base/cpus.js';
import { isBenchError } from '../base/errors.js';
import type { ServerHandle } from './launcher.js';
import { processOpenFileLimit, readRssCpu, readSlabObjectBytes, readSockStat } from './procfs.js';
import type {
  CeilingCause,
  CeilingMetrics,
  CeilingPlateau,
  CellMetrics,
  CellResult,
  FdLimitBehaviour,
  LimitClass,
  MemoryFit,
  MemoryPerConnection,
  Warning,
} from '../schema/result.js';
import type { LifecycleStep, RunDeps, RunPlan } from './run.js';
import type { ProcSample, Sampler } from './sampler.js';
import type { ScenarioCase } from './scenario.js';

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

const count = (n: number) => Math.round(n).toLocaleString('en-US');

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
  loadgenReasons: string[];
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

export interface PlateauVerdict {
  ok: boolean;
  cause?: CeilingCause;
  limitClass?: LimitClass;
  /** Plain words: "met the SLO" or why not, with the figures. */
  text: string;
  atFdLimit?: { behaviour: FdLimitBehaviour; text: string };
}

const EMFILE_RE = /too many open files|EMFILE|os error 24/i;

function sumKinds(errors: Partial<Record<ErrorKind, number>>, kinds: ErrorKind[]): number {
  return kinds.reduce((a, k) => a + (errors[k] ?? 0), 0);
}

function errorList(errors: Partial<Record<ErrorKind, number>>): string {
  const parts = Object.entries(errors)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${count(n!)} ${k}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function lastStderrLine(tail: string, re?: RegExp): string | undefined {
  // Deno colours its errors even into a pipe: drop the escape sequences.
  const lines = tail
    .split('\n')
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .filter((l) => l.length > 0);
  return (re ? lines.filter((l) => re.test(l)) : lines).at(-1)?.slice(0, 200);
}

/** How a server behaved at its open-file limit, from what the clients and /proc saw. Pure. */
export function fdLimitBehaviour(o: PlateauObservation): { behaviour: FdLimitBehaviour; text: string } {
  if (!o.serverAlive) {
    const line = lastStderrLine(o.stderrTail, EMFILE_RE) ?? lastStderrLine(o.stderrTail);
    return {
      behaviour: 'exited',
      text: `exited${o.serverExit ? ` (${o.serverExit})` : ''}${line ? `: "${line}"` : ''}, dropping every connection (${count(o.openBefore)} open)`,
    };
  }
  const closed = sumKinds(o.errors, ['reset', 'unexpected-close', 'refused']);
  const timeouts = o.errors.timeout ?? 0;
  if (closed >= timeouts && closed > 0) {
    return { behaviour: 'closes-extra', text: `kept running and closed connections beyond the limit at once (${errorList(o.errors)})` };
  }
  const cpu = o.idleCpuPct;
  if (cpu !== null && cpu >= SPIN_IDLE_CPU_PCT) {
    return {
      behaviour: 'spins',
      text: `kept running but left connections beyond the limit unanswered (${errorList(o.errors)}) and used ${cpu.toFixed(0)}% CPU with no traffic`,
    };
  }
  return { behaviour: 'stalls', text: `kept running but left connections beyond the limit unanswered (${errorList(o.errors)})` };
}

/**
 * Whether a plateau met the SLO and, if not, whose limit broke it. In order: the server gone (its open-file
 * limit when it said EMFILE or the step crossed the limit, else a crash); the server at its open-file limit;
 * the load generator's ports or fds; then the SLO bounds — memory, errors, latency (the load generator's when
 * it fell behind its schedule), CPU. The environment's limits come first because they explain the rest. Pure.
 */
export function judgePlateau(o: PlateauObservation, ctx: JudgeContext): PlateauVerdict {
  const slo = ctx.slo;
  const limit = ctx.openFileLimit;
  const crossed = limit !== null && o.targetConnections + ctx.baselineFds > limit - FD_SLACK;
  const atLimit = limit !== null && o.fds !== null && o.fds >= limit - FD_SLACK;
  const failures = o.connectFailed + o.drops;
  const fdText = (b: { text: string }) => `the server's open-file limit (${limit ?? 'unknown'}): at ${count(o.targetConnections)} connections it ${b.text}`;

  if (!o.serverAlive) {
    if (EMFILE_RE.test(o.stderrTail) || crossed) {
      const b = fdLimitBehaviour(o);
      return { ok: false, cause: 'fd-limit', limitClass: 'environment', text: fdText(b), atFdLimit: b };
    }
    const line = lastStderrLine(o.stderrTail);
    return {
      ok: false,
      cause: 'crash',
      limitClass: 'runtime',
      text: `the server exited${o.serverExit ? ` (${o.serverExit})` : ''} at ${count(o.targetConnections)} connections${line ? `: "${line}"` : ''}`,
    };
  }
  if (atLimit || (crossed && failures > 0)) {
    const b = fdLimitBehaviour(o);
    return { ok: false, cause: 'fd-limit', limitClass: 'environment', text: fdText(b), atFdLimit: b };
  }
  const ports = (o.errnos['EADDRNOTAVAIL'] ?? 0) + (o.errnos['EADDRINUSE'] ?? 0);
  if (ports > 0) {
    return {
      ok: false,
      cause: 'loadgen-ports',
      limitClass: 'environment',
      text: `the load generator ran out of source ports (${count(ports)} connects failed with EADDRNOTAVAIL/EADDRINUSE)`,
    };
  }
  const fds = (o.errnos['EMFILE'] ?? 0) + (o.errnos['ENFILE'] ?? 0);
  if (fds > 0) {
    return { ok: false, cause: 'loadgen-fds', limitClass: 'environment', text: `the load generator ran out of file descriptors (${count(fds)} connects failed with EMFILE/ENFILE)` };
  }
  if (slo.memoryBudgetMiB !== null && o.rssBytes !== null && o.rssBytes > slo.memoryBudgetMiB * 1024 * 1024) {
    return {
      ok: false,
      cause: 'memory',
      limitClass: 'runtime',
      text: `server RSS ${(o.rssBytes / 1024 / 1024).toFixed(0)} MiB is above the memory budget of ${slo.memoryBudgetMiB} MiB`,
    };
  }
  const connectRatio = o.connectAttempted > 0 ? o.connectFailed / o.connectAttempted : 0;
  const dropRatio = o.openBefore + o.connectAttempted > 0 ? o.drops / Math.max(1, o.openBefore + o.connectAttempted - o.connectFailed) : 0;
  const lostRatio = o.heartbeatsSent > 0 ? o.heartbeatsLost / o.heartbeatsSent : 0;
  const broken: string[] = [];
  if (connectRatio > slo.maxErrorRatio) broken.push(`${count(o.connectFailed)} of ${count(o.connectAttempted)} connects failed (${errorList(o.errors)})`);
  if (dropRatio > slo.maxErrorRatio) broken.push(`the server dropped ${count(o.drops)} open connections`);
  if (lostRatio > slo.maxErrorRatio) broken.push(`${count(o.heartbeatsLost)} of ${count(o.heartbeatsSent)} heartbeats got no reply`);
  if (broken.length > 0) {
    return { ok: false, cause: 'errors', limitClass: 'runtime', text: `${broken.join('; ')}: above the error bound of ${slo.maxErrorRatio * 100}%` };
  }
  if (o.p99Us !== null && o.p99Us > slo.heartbeatP99Ms * 1000) {
    const p99 = `heartbeat p99 ${(o.p99Us / 1000).toFixed(1)} ms is above the bound of ${slo.heartbeatP99Ms} ms`;
    // The generator's own lateness is blamed only where it could explain the excess: a p99 beyond the bound
    // even after taking away the latest send's lag is the server's, however busy the generator was.
    if (o.loadgenSaturated && o.p99Us - o.loadgenMaxLagUs <= slo.heartbeatP99Ms * 1000) {
      return { ok: false, cause: 'loadgen-saturated', limitClass: 'environment', text: `${p99}, but the load generator fell behind (${o.loadgenReasons.join('; ')}): this machine's limit, not the server's` };
    }
    return { ok: false, cause: 'latency', limitClass: 'runtime', text: p99 };
  }
  const cpuBound = slo.maxServerCpuPct * Math.max(1, ctx.serverCpuCount);
  if (o.cpuPct !== null && o.cpuPct >= cpuBound) {
    return { ok: false, cause: 'cpu', limitClass: 'runtime', text: `server CPU ${o.cpuPct.toFixed(0)}% during the heartbeats is at the bound of ${cpuBound.toFixed(0)}%` };
  }
  return { ok: true, text: 'met the SLO' };
}

/** The headline of a search: the ceiling as a number only when it is the runtime's own. Pure. */
export function summarizeStop(cause: CeilingCause, lastGood: number, ctx: { openFileLimit: number | null; margin: number; maxConnections: number }): string {
  switch (cause) {
    case 'fd-limit':
      return `not reached: stopped by the open-file limit ${ctx.openFileLimit ?? '(unknown)'}`;
    case 'fd-margin':
      return `not reached: stopped ${count(ctx.margin)} short of the open-file limit ${ctx.openFileLimit ?? '(unknown)'}`;
    case 'loadgen-ports':
      return "not reached: stopped by the load generator's source ports";
    case 'loadgen-fds':
      return "not reached: stopped by the load generator's open-file limit";
    case 'loadgen-saturated':
      return 'not reached: the load generator could not keep up on this machine';
    case 'max-connections':
      return `not reached: within the SLO at the scenario's maximum of ${count(ctx.maxConnections)} connections`;
    default:
      return `${count(lastGood)} connections`;
  }
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

/** Memory per connection over the plateaus that met the SLO (bisection plateaus excluded: runtimes do not return memory). Pure. */
export function memoryPerConnection(plateaus: CeilingPlateau[]): MemoryPerConnection {
  const up = plateaus.filter((p) => p.ok && !p.bisection);
  const pts = (get: (p: CeilingPlateau) => number | null) =>
    up.filter((p) => get(p) !== null).map((p) => [p.connections, get(p)!] as [number, number]);
  const idle = fitMemory(pts((p) => p.rssIdleBytes));
  const hasBeats = up.some((p) => p.heartbeatsSent > 0);
  const active = hasBeats ? fitMemory(pts((p) => p.rssBytes)) : null;
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

// ---- the model a cell runs ---------------------------------------------------

/** A stepped idle case as a ceiling search without heartbeats or SLO: settle at each step, fit RSS. */
export function idleAsCeiling(m: IdleModel, durationSec: number): CeilingModel {
  return {
    model: 'ceiling',
    steps: m.steps ?? 1,
    heartbeat: null,
    slo: { heartbeatP99Ms: Number.MAX_SAFE_INTEGER, maxErrorRatio: 1, memoryBudgetMiB: null, maxServerCpuPct: 100 },
    // durationSec bounds the wait for RSS to settle at each plateau.
    settle: { ...CEILING_DEFAULTS.settle, timeoutMs: Math.max(CEILING_DEFAULTS.settle.windowMs, durationSec * 1000) },
    bisectSteps: 0,
    stopShortOfFdLimitBy: 0,
    sourceAddresses: CEILING_DEFAULTS.sourceAddresses,
  };
}


// ---- the cell ----------------------------------------------------------------

export interface CeilingCellContext {
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
  /** Replaces the load-generator session (tests). */
  openSession?: typeof openCeilingSession;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reading {
  tMs: number;
  rssBytes: number;
  cpuUs: number;
}

/**
 * Runs a ceiling (or stepped idle) cell on a server that is up and verified: plans the steps, and for each
 * plateau opens the connections, lets RSS settle, sends the heartbeats, reads the server and judges; stops at
 * the first bad plateau (then bisects or interpolates when asked), and fills `cell.metrics` and `cell.raw`. A
 * server that dies is a result here (its cause is judged), not an error. Throws only when the load generator fails.
 */
export async function runCeilingCell(ctx: CeilingCellContext): Promise<void> {
  const { cell, scenarioCase: c, plan, deps, pid, server, sampler, baseline } = ctx;
  const t0 = performance.now();
  const sc = c.scenario;
  const isIdle = c.model.model === 'idle';
  const model: CeilingModel = c.model.model === 'ceiling' ? c.model : idleAsCeiling(c.model as IdleModel, sc.durationSec);
  const warnings: Warning[] = [];
  const openFileLimit = pid !== undefined ? processOpenFileLimit(pid) : null;
  const baselineFds = baseline.fds > 0 ? baseline.fds : 0;
  const { targets, endCause } = planTargets(sc.connections, model.steps, {
    limit: isIdle ? null : openFileLimit,
    baselineFds,
    margin: model.stopShortOfFdLimitBy,
  });
  const serverCpuCount = plan.serverCpus ? expandCpuList(plan.serverCpus).length : 1;
  const judgeCtx: JudgeContext = { slo: model.slo, serverCpuCount, openFileLimit, baselineFds };
  // The periodic sampler lists every fd 4 times a second: at 20k fds that is load on the machine. Read /proc here instead.
  sampler?.stop();
  const readings: Reading[] = [];
  const read = (): Reading | undefined => {
    if (pid === undefined) return undefined;
    const r = readRssCpu(pid);
    if (!r) return undefined;
    const x = { tMs: performance.now() - t0, ...r };
    readings.push(x);
    return x;
  };
  let exitText: string | null = null;
  let gone = false;
  void server?.exited.then((r) => {
    gone = true;
    exitText = r.signal ?? `code ${r.code}`;
  });
  const alive = () => !gone && (pid === undefined || readRssCpu(pid) !== undefined);

  const maxTarget = Math.max(1, ...targets);
  const workers = splitConnections(maxTarget, plan.workers, DEFAULT_MAX_CONNECTIONS_PER_WORKER).length;
  const loadPlan: LoadPlan = {
    url: ctx.url,
    connections: maxTarget,
    load: model,
    message: { kind: 'binary', size: { type: 'fixed', bytes: model.heartbeat?.bytes ?? 16 } },
    warmupMs: sc.warmupSec * 1000,
    durationMs: sc.durationSec * 1000,
    drainTimeoutMs: 2000,
    // Per worker: the total over workers stays under the servers' listen backlogs.
    connect: { maxInFlight: Math.max(1, Math.floor(CEILING_MAX_IN_FLIGHT / workers)), timeoutMs: 3000 },
    workers: plan.workers,
    ...(plan.loadgenCpus ? { cpus: plan.loadgenCpus } : {}),
    client: 'raw',
    seed: plan.seed,
  };
  const open = ctx.openSession ?? deps.openCeiling ?? openCeilingSession;
  const session: CeilingSession = await open(loadPlan, { nodePath: deps.host.nodePath, ...(deps.signal ? { signal: deps.signal } : {}) });

  const plateaus: CeilingPlateau[] = [];
  const connectHists: string[] = [];
  let lastLatencyEncoded = encodeHistogram(createLatencyHistogram());
  const allErrors: Partial<Record<ErrorKind, number>> = {};
  let firstBad: { plateau: CeilingPlateau; verdict: PlateauVerdict } | undefined;
  let openNow = 0;
  const progress = (phase: 'connecting' | 'measure', connectionsOpen: number) =>
    deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: { phase, connectionsOpen, recvPerSec: 0, elapsedMs: performance.now() - t0 } });

  /** Waits until RSS is settled (or the timeout), reading every SETTLE_SAMPLE_MS; returns the value and the CPU used. */
  const settle = async (): Promise<{ rss: number | null; settled: boolean; cpuPct: number | null }> => {
    if (pid === undefined) return { rss: null, settled: false, cpuPct: null };
    const start = performance.now();
    const samples: Reading[] = [];
    let result: { value: number; settled: boolean } | undefined;
    while (alive()) {
      const r = read();
      if (r) samples.push(r);
      const elapsed = performance.now() - start;
      if (samples.length > 0) {
        const s = settledValue(samples.map((x) => ({ tMs: x.tMs, value: x.rssBytes })), { ...model.settle, timeoutMs: Infinity });
        result = s;
        if (s.settled || elapsed >= model.settle.timeoutMs) break;
      }
      await delay(SETTLE_SAMPLE_MS);
    }
    const first = samples[0];
    const last = samples.at(-1);
    const cpuPct = first && last && last.tMs > first.tMs ? ((last.cpuUs - first.cpuUs) / ((last.tMs - first.tMs) * 1000)) * 100 : null;
    return { rss: result?.value ?? null, settled: result?.settled ?? false, cpuPct };
  };

  /** One plateau: step to `target`, settle idle, heartbeats; read the server; judge. */
  const runPlateau = async (target: number, bisection: boolean): Promise<PlateauVerdict> => {
    const openBefore = openNow;
    const abortAfter = Math.max(16, Math.ceil(model.slo.maxErrorRatio * Math.max(0, target - openBefore)) + 1);
    progress('connecting', openNow);
    const st: CeilingStepResult = await session.step(target, abortAfter);
    openNow = st.open;
    connectHists.push(st.connectEncoded);
    if (plateaus.length === 0 && !bisection) ctx.step('connected');
    const idle = await settle();
    const full = alive() ? sampler?.sampleNow() : undefined;
    const kernel = readSockStat();
    const slab = readSlabObjectBytes();
    let beat: CeilingBeatResult | undefined;
    let active = { rss: idle.rss, settled: idle.settled, cpuPct: null as number | null };
    if (model.heartbeat && alive() && openNow > 0) {
      progress('measure', openNow);
      const during: Reading[] = [];
      let measureFromMs = Infinity;
      let beating = true;
      const sampling = (async () => {
        while (beating && alive()) {
          const r = read();
          if (r && r.tMs >= measureFromMs) during.push(r);
          await delay(SETTLE_SAMPLE_MS);
        }
      })();
      try {
        // A load generator that fell behind (a GC pause, a busy machine) measured itself: beat once more before
        // judging. Errors and drops of every attempt count.
        for (let attempt = 0; attempt < 2; attempt++) {
          during.length = 0;
          measureFromMs = performance.now() - t0 + sc.warmupSec * 1000;
          const b = await session.beat(sc.warmupSec * 1000, sc.durationSec * 1000);
          if (beat) {
            b.drops += beat.drops;
            for (const [k, v] of Object.entries(beat.errors) as [ErrorKind, number][]) b.errors[k] = (b.errors[k] ?? 0) + v;
            for (const [k, v] of Object.entries(beat.errnos)) b.errnos[k] = (b.errnos[k] ?? 0) + v;
          }
          beat = b;
          if (!b.saturation.saturated || !alive()) break;
        }
      } finally {
        beating = false;
        await sampling;
      }
      openNow = beat!.open;
      lastLatencyEncoded = beat!.latencyEncoded;
      if (during.length > 0) {
        const s = settledValue(during.map((x) => ({ tMs: x.tMs, value: x.rssBytes })), { ...model.settle, timeoutMs: Infinity });
        const a = during[0]!;
        const b = during.at(-1)!;
        active = { rss: s.value, settled: s.settled, cpuPct: b.tMs > a.tMs ? ((b.cpuUs - a.cpuUs) / ((b.tMs - a.tMs) * 1000)) * 100 : null };
      } else active = { rss: null, settled: false, cpuPct: null };
    }
    const errors: Partial<Record<ErrorKind, number>> = { ...st.errors };
    for (const [k, v] of Object.entries(beat?.errors ?? {}) as [ErrorKind, number][]) errors[k] = (errors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(errors) as [ErrorKind, number][]) allErrors[k] = (allErrors[k] ?? 0) + v;
    const errnos = { ...st.errnos };
    for (const [k, v] of Object.entries(beat?.errnos ?? {})) errnos[k] = (errnos[k] ?? 0) + v;
    const isAlive = alive();
    // The exit status arrives a moment after /proc stops showing the process.
    if (!isAlive && server && exitText === null) await Promise.race([server.exited, delay(500)]);
    const obs: PlateauObservation = {
      targetConnections: target,
      connections: openNow,
      openBefore,
      connectAttempted: st.attempted,
      connectFailed: st.failed,
      errors,
      errnos,
      drops: st.drops + (beat?.drops ?? 0),
      heartbeatsSent: beat?.sent ?? 0,
      heartbeatsLost: beat?.lost ?? 0,
      p99Us: beat && beat.latency.count > 0 ? beat.latency.p99Us : null,
      loadgenSaturated: beat?.saturation.saturated ?? false,
      loadgenReasons: (beat?.saturation.reasons ?? []).map(describeSaturationReason),
      loadgenMaxLagUs: beat?.maxLagUs ?? 0,
      serverAlive: isAlive,
      serverExit: exitText,
      stderrTail: server?.stderrTail() ?? '',
      fds: full?.fds ?? null,
      rssBytes: active.rss,
      cpuPct: active.cpuPct,
      idleCpuPct: idle.cpuPct,
    };
    // A server that died after the step can have answered the heartbeats of nobody: judge it gone.
    const verdict = judgePlateau(obs, judgeCtx);
    const p: CeilingPlateau = {
      targetConnections: target,
      connections: openNow,
      bisection,
      rssIdleBytes: idle.rss,
      rssIdleSettled: idle.settled,
      rssBytes: active.rss,
      rssSettled: active.settled,
      p50Us: obs.p99Us !== null ? beat!.latency.p50Us : null,
      p99Us: obs.p99Us,
      maxUs: obs.p99Us !== null ? beat!.latency.maxUs : null,
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
      verdict: verdict.text,
    };
    plateaus.push(p);
    if (verdict.ok && isAlive && pid !== undefined && (!idle.settled || (model.heartbeat && !active.settled))) {
      warnings.push({
        code: 'rss-unsettled',
        message: `server RSS did not settle within ±${model.settle.tolerancePct}% over ${model.settle.windowMs} ms at ${count(openNow)} connections (timeout ${model.settle.timeoutMs} ms): that plateau's memory is the last window's median`,
        hint: 'raise load.settle.timeoutMs, or widen load.settle.tolerancePct for a runtime whose RSS keeps moving',
      });
    }
    if (!verdict.ok && !firstBad) firstBad = { plateau: p, verdict };
    return verdict;
  };

  let refined: CeilingMetrics['refined'] = null;
  let ceilingOverride: number | undefined;
  try {
    for (const target of targets) {
      const v = await runPlateau(target, false);
      if (!v.ok) break;
    }
    ctx.step('measure-end');
    // Bisection: latency, errors and CPU depend on the connections held now, so closing back down is fair;
    // memory does not come back when connections close, so a memory budget is interpolated instead.
    const bad = firstBad;
    const good = plateaus.filter((p) => p.ok && !p.bisection).at(-1);
    if (bad && good && model.bisectSteps > 0 && alive() && ['latency', 'errors', 'cpu'].includes(bad.verdict.cause!)) {
      let lo = good.connections;
      let hi = bad.plateau.targetConnections;
      for (let i = 0; i < model.bisectSteps && hi - lo > 1; i++) {
        const mid = Math.round((lo + hi) / 2);
        const v = await runPlateau(mid, true);
        if (!alive()) break;
        if (v.ok) lo = mid;
        else hi = mid;
      }
      if (lo > good.connections) {
        ceilingOverride = lo;
        refined = 'bisection';
      }
    } else if (bad?.verdict.cause === 'memory' && good && good.rssBytes !== null && bad.plateau.rssBytes !== null && model.slo.memoryBudgetMiB !== null) {
      ceilingOverride = interpolateBudget(
        { connections: good.connections, rssBytes: good.rssBytes },
        { connections: bad.plateau.connections, rssBytes: bad.plateau.rssBytes },
        model.slo.memoryBudgetMiB * 1024 * 1024,
      );
      refined = 'interpolated';
    }
  } catch (e) {
    // The load generator failing because the server vanished under it is the server's story, judged below.
    if (!(isBenchError(e) && e.code === 'E_LOADGEN_FAILED' && !alive())) throw e;
  } finally {
    await session.close();
  }
  ctx.step('drain-done');

  const endSample = pid !== undefined && alive() ? (sampler?.sampleNow() ?? baseline) : (sampler?.samples.at(-1) ?? baseline);
  const lastGood = plateaus.filter((p) => p.ok && !p.bisection).at(-1)?.connections ?? 0;
  const badPlateau = firstBad?.plateau;
  let cause: CeilingCause;
  let limitClass: LimitClass;
  let causeText: string;
  if (firstBad) {
    cause = firstBad.verdict.cause!;
    limitClass = firstBad.verdict.limitClass!;
    causeText = firstBad.verdict.text;
  } else if (plateaus.length < targets.length || (!alive() && server)) {
    // Ended without a verdict: the server went away between plateaus.
    cause = 'crash';
    limitClass = 'runtime';
    causeText = `the server exited${exitText ? ` (${exitText})` : ''}`;
  } else {
    cause = endCause;
    limitClass = endCause === 'fd-margin' ? 'environment' : 'none';
    causeText =
      endCause === 'fd-margin'
        ? `stopped ${count(model.stopShortOfFdLimitBy)} connections short of the server's open-file limit (${openFileLimit}) as asked (stopShortOfFdLimitBy), at ${count(lastGood)} connections within the SLO`
        : `every plateau up to the scenario's maximum of ${count(sc.connections)} connections met the SLO`;
  }
  const ceilingConnections = limitClass === 'runtime' ? (ceilingOverride ?? lastGood) : null;
  const memory = memoryPerConnection(plateaus);
  const rssAll = [...readings.map((r) => r.rssBytes), ...(sampler?.samples ?? []).map((s) => s.rssBytes), baseline.rssBytes];
  const connect = mergeHistograms(connectHists.map(decodeHistogram));
  const metrics: CellMetrics = {
    msgsPerSec: 0,
    sentMsgsPerSec: 0,
    throughputIsLowerBound: false,
    latencyUs: summarizeHistogram(createLatencyHistogram()),
    connectUs: summarizeHistogram(connect),
    serverCpuUsPerMsg: null,
    serverCpuUtilPct: 0,
    msgsPerServerCpuSec: null,
    rssBaselineBytes: baseline.rssBytes,
    rssPeakBytes: Math.max(...rssAll),
    rssEndBytes: endSample.rssBytes,
    bytesPerConnection: memory.idle?.bytesPerConnection ?? null,
    serverThreads: endSample.threads,
    serverFds: endSample.fds,
    errors: allErrors,
    delivery: { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0 },
    loadgen: { workers: [], saturation: { saturated: plateaus.some((p) => p.loadgenSaturated), reasons: [] } },
  };
  if (isIdle) {
    metrics.memory = memory;
    if (plateaus.some((p) => !p.ok) || !memory.idle) {
      warnings.push({
        code: 'delivery-errors',
        message: `the stepped idle run did not hold every step: ${plateaus.map((p) => `${count(p.connections)}: ${p.verdict}`).join('; ')}`,
        hint: 'see the errors by kind in the JSON',
      });
    }
  } else {
    metrics.ceiling = {
      ceilingConnections,
      lastGoodConnections: lastGood,
      firstBadConnections: badPlateau ? badPlateau.targetConnections : null,
      refined: limitClass === 'runtime' ? refined : null,
      cause,
      limitClass,
      summary: ceilingConnections !== null ? `${count(ceilingConnections)} connections` : summarizeStop(cause, lastGood, { openFileLimit, margin: model.stopShortOfFdLimitBy, maxConnections: sc.connections }),
      causeText,
      openFileLimit,
      ...(firstBad?.verdict.atFdLimit ? { atFdLimit: firstBad.verdict.atFdLimit } : {}),
      slo: model.slo,
      plateaus,
      memory,
      searchMs: Math.round(performance.now() - t0),
    };
    if (plateaus.some((p) => p.loadgenSaturated)) {
      warnings.push({
        code: 'loadgen-bound',
        message: `the load generator fell behind its heartbeat schedule at ${plateaus.filter((p) => p.loadgenSaturated).map((p) => count(p.connections)).join(', ')} connections: heartbeat latency there is partly its own`,
        hint: 'lengthen load.heartbeat.intervalMs, or give the load generator more CPUs (--loadgen-cpus)',
      });
    }
  }
  // One warning per code: the first plateau's message says enough.
  const seen = new Set<string>();
  for (const w of warnings) if (!seen.has(w.code)) (seen.add(w.code), cell.warnings.push(w));
  cell.metrics = metrics;
  const samples = [...(sampler?.samples ?? [baseline])];
  cell.raw = {
    latencyEncoded: lastLatencyEncoded,
    connectEncoded: encodeHistogram(connect),
    timeline: [],
    samples,
    phasesMs: { connectedAt: 0, measureStart: 0, measureEnd: Math.round(performance.now() - t0) },
  };
}
