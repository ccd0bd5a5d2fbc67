// The capacity cell: the most load a server carries within an SLO, on the one
// stepped search (core/search.ts). Each plateau is a fresh load of the
// scenario's workload at one level (loadgen/models/capacity.ts workloadAt),
// run by runLoad against the same server process, its figures computed as any
// cell's (core/metrics.ts) and judged against the SLO. The decisions (the
// verdict of a plateau, where the search stopped and whose limit it was, memory
// per unit, projections) are pure functions tested with known data;
// `runCapacityCell` drives the load generator and the server's /proc readings
// through them.

import { expandCpuList } from '../base/cpus.js';
import { isBenchError } from '../base/errors.js';
import { createLatencyHistogram, encodeHistogram } from '../loadgen/histogram.js';
import { MIN_SAMPLES_FOR_P99, plateauDurationSec, workloadAt, type CapacityBound } from '../loadgen/models/capacity.js';
import { UPSTREAM_BUSY_PCT } from '../loadgen/models/voice.js';
import { busiestLoadgenCpuPct } from '../loadgen/saturation.js';
import type { CapacityModel, LoadResult } from '../loadgen/types.js';
import type {
  CapacityCause,
  CapacityMetrics,
  CapacityPlateau,
  CapacitySlo,
  CapacityVerdict,
  CellMetrics,
  SaturationVerdict,
  VoiceMetrics,
  Warning,
} from '../schema/result.js';
import { fitMemory, interpolateBudget, lastStderrLine, usableFit, type SteppedCellContext } from './ceiling.js';
import type { ServerHandle, UpstreamHandle } from './launcher.js';
import { computeCellMetrics, noMessageMetrics, type PhaseSamples } from './metrics.js';
import { readRssCpu } from './procfs.js';
import { loadPlanFor } from './run.js';
import { cpuUsBetween, startSampler, type ProcSample } from './sampler.js';
import { steppedSearch, type PlateauOutcome, type SearchOutcome } from './search.js';
import { protocolFor } from './stack-plan.js';
import { fetchUpstreamStats } from './voice.js';

const GiB = 1024 ** 3;
/** Between plateaus: the server closes the last plateau's sockets (and its relay legs) before the next opens. */
export const PLATEAU_PAUSE_MS = 250;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- judging a plateau -----------------------------------------------------

/** What was seen at one plateau, as the judge needs it. */
export interface CapacityObservation {
  serverAlive: boolean;
  serverExit: string | null;
  stderrTail: string;
  /** The workload's latency p99 (echo, delivery, relay share), and the voice first chunk and broadcast last member, µs. */
  latencyP99Us: number | null;
  firstChunkP99Us: number | null;
  lastMemberP99Us: number | null;
  /** Samples behind each of those p99s (the histograms' counts): one below MIN_SAMPLES_FOR_P99 leaves its bound unjudged. */
  latencySamples: number;
  firstChunkSamples: number;
  lastMemberSamples: number;
  /** Messages owed in the window, lost, and faulty (corrupted, misdelivered, duplicated, out of order). */
  expected: number;
  lost: number;
  faulty: number;
  connections: number;
  failedConnects: number;
  closedByServer: number;
  /** Server CPU over the window, % of one core; RSS at the window's end. Null when the server is unobserved. */
  serverCpuPct: number | null;
  rssBytes: number | null;
  loadgen: SaturationVerdict;
  /** The generator skipped sends or sent fewer than 99% of those intended: the level was not offered in full. */
  sendsMissing: boolean;
  /** The longest stall of a load-generator worker's event loop, µs: the most of a latency its own lateness explains. */
  loadgenMaxLagUs: number;
  /** Voice: the simulated upstream was busy (above UPSTREAM_BUSY_PCT of a core) or dropped reply chunks. */
  upstreamBusy: boolean;
}

export interface CapacityJudgeContext {
  slo: CapacitySlo;
  /** CPUs the server may use: the CPU bound is maxServerCpuPct of all of them. */
  serverCpuCount: number;
}

/**
 * Whether a plateau met the SLO and, if not, what broke first and whose limit it was, as data (report/capacity.ts
 * words it). In order: the server gone (a crash); its RSS above the budget; its CPU at the bound (the server is
 * saturated, whoever else is); the load generator when it did not offer the level (sends skipped or missing),
 * when it was at its CPU limit (then a level that met the SLO still holds, but is the last this machine can offer:
 * `lastLevel`; one whose latency broke is the generator's), or when its own stalls explain a latency beyond the
 * bound (ceiling's rule: a p99 beyond the bound even after taking away the longest stall is the server's); the
 * simulated upstream when it was busy and latency or loss broke; then loss (messages, connects, closes) and
 * latency. Loss is the server's even beside a busy generator: a late reader still reads every message in the
 * drain. Late sends alone do not stop a search: their latency counts against the SLO already. A percentile bound
 * whose p99 rests on fewer than MIN_SAMPLES_FOR_P99 samples is not judged (that p99 is the sample maximum: one
 * scheduling stall would decide the level): the verdict lists it in `tooFewSamples`, and it is never a breach.
 * Pure.
 */
export function judgeCapacityPlateau(o: CapacityObservation, ctx: CapacityJudgeContext): CapacityVerdict {
  const slo = ctx.slo;
  const verdict = judgeBounds(o, ctx);
  const unjudged = tooFewSamples(o, slo);
  return unjudged.length > 0 && verdict.cause !== 'crash' ? { ...verdict, tooFewSamples: unjudged } : verdict;
}

/** The bounds with a p99 and an SLO bound whose samples are fewer than MIN_SAMPLES_FOR_P99, with their counts. */
function tooFewSamples(o: CapacityObservation, slo: CapacitySlo): NonNullable<CapacityVerdict['tooFewSamples']> {
  const out: NonNullable<CapacityVerdict['tooFewSamples']> = [];
  for (const [bound, us, ms, n] of boundsOf(o, slo)) {
    if (us !== null && ms !== null && n < MIN_SAMPLES_FOR_P99) out.push({ bound, samples: n, minSamples: MIN_SAMPLES_FOR_P99 });
  }
  return out;
}

/** Each percentile bound: its name, the p99 seen (µs), the SLO's bound (ms) and the samples behind the p99. */
function boundsOf(o: CapacityObservation, slo: CapacitySlo): [CapacityBound, number | null, number | null, number][] {
  return [
    ['latency', o.latencyP99Us, slo.latencyP99Ms, o.latencySamples],
    ['firstChunk', o.firstChunkP99Us, slo.firstChunkP99Ms, o.firstChunkSamples],
    ['lastMember', o.lastMemberP99Us, slo.lastMemberP99Ms, o.lastMemberSamples],
  ];
}

function judgeBounds(o: CapacityObservation, ctx: CapacityJudgeContext): CapacityVerdict {
  const slo = ctx.slo;
  if (!o.serverAlive) {
    const said = lastStderrLine(o.stderrTail);
    return { ok: false, cause: 'crash', limitClass: 'runtime', ...(o.serverExit ? { serverExit: o.serverExit } : {}), ...(said ? { serverSaid: said } : {}) };
  }
  if (slo.memoryBudgetMiB !== null && o.rssBytes !== null && o.rssBytes > slo.memoryBudgetMiB * 1024 * 1024) return { ok: false, cause: 'memory', limitClass: 'runtime' };
  if (o.serverCpuPct !== null && o.serverCpuPct >= slo.maxServerCpuPct * Math.max(1, ctx.serverCpuCount)) return { ok: false, cause: 'cpu', limitClass: 'runtime' };
  const loss: NonNullable<CapacityVerdict['loss']> = [];
  if (o.expected > 0 && (o.lost + o.faulty) / o.expected > slo.maxLossRatio) loss.push('messages');
  if (o.connections > 0 && o.failedConnects / o.connections > slo.maxLossRatio) loss.push('connects');
  if (o.connections > 0 && o.closedByServer / o.connections > slo.maxLossRatio) loss.push('closes');
  // Only a p99 from enough samples is judged (tooFewSamples above lists the others).
  const broken = boundsOf(o, slo).filter(([, us, ms, n]) => us !== null && ms !== null && n >= MIN_SAMPLES_FOR_P99 && us > ms * 1000);
  const latency = broken.map(([k]) => k);
  const generator = { cause: 'loadgen' as const, limitClass: 'environment' as const, loadgenReasons: o.loadgen.reasons };
  if (o.sendsMissing) return { ok: false, ...generator };
  if (o.loadgen.saturated && loss.length === 0) {
    if (o.loadgen.reasons.some((r) => r.kind === 'cpu')) return latency.length === 0 ? { ok: true, ...generator, lastLevel: true } : { ok: false, ...generator };
    if (latency.length > 0 && broken.every(([, us, ms]) => us! - o.loadgenMaxLagUs <= ms! * 1000)) return { ok: false, ...generator };
  }
  if (o.upstreamBusy && (loss.length > 0 || latency.length > 0)) return { ok: false, cause: 'upstream', limitClass: 'environment' };
  if (loss.length > 0) return { ok: false, cause: 'loss', limitClass: 'runtime', loss };
  if (latency.length > 0) return { ok: false, cause: 'latency', limitClass: 'runtime', latency };
  return { ok: true };
}

/** Whether the generator skipped sends, or sent fewer than 99% of those intended (a schedule without counts: skipped ones). */
export function sendsMissing(load: Pick<LoadResult, 'openLoop' | 'saturation'>): boolean {
  const ol = load.openLoop;
  if (ol) return ol.dropped > 0 || ol.sent < 0.99 * ol.intended;
  return load.saturation.reasons.some((r) => r.kind === 'schedule' && r.dropped > 0);
}

/** Latency, loss and CPU depend on the load held now, and each plateau is a fresh load: the levels between can be searched. */
export function isBisectable(v: CapacityVerdict): boolean {
  return !v.ok && (v.cause === 'latency' || v.cause === 'loss' || v.cause === 'cpu');
}

// ---- where the search stopped ------------------------------------------------

export type MeasuredCapacityPlateau = CapacityPlateau & PlateauOutcome;

/**
 * Where a search stopped, whose limit it was, and the capacity, as data: the first bad stepped plateau's
 * verdict; a plateau that held at the load generator's limit (`lastLevel`); a server gone between plateaus (a
 * crash); or the end of the levels (`max-level`). The capacity is the bisection's highest good level, a memory
 * budget's level interpolated between the last good and the first bad plateau, or the last good level; it is a
 * lower bound unless the runtime's own limit stopped the search. Pure.
 */
export function capacityStop(
  search: SearchOutcome<MeasuredCapacityPlateau>,
  o: { planned: number; serverGone: boolean; serverExit: string | null; budgetBytes: number | null },
): Pick<CapacityMetrics, 'capacity' | 'lowerBound' | 'refined' | 'lastGood' | 'firstBad' | 'cause' | 'limitClass' | 'stop'> {
  const lastGood = search.lastGood;
  const bad = search.firstBad;
  const held = search.plateaus.find((p) => p.outcome.verdict.lastLevel);
  let stop: CapacityMetrics['stop'];
  if (bad) stop = { ...bad.outcome.verdict, level: bad.target };
  else if (held) stop = { ...held.outcome.verdict, level: held.target };
  else if (o.serverGone || search.plateaus.filter((p) => !p.bisection).length < o.planned) {
    stop = { ok: false, cause: 'crash', limitClass: 'runtime', ...(o.serverExit ? { serverExit: o.serverExit } : {}), level: null };
  } else stop = { ok: true, cause: 'max-level', limitClass: 'none', level: null };
  const cause: CapacityCause = stop.cause!;
  const limitClass = stop.limitClass!;
  let capacity = lastGood?.target ?? null;
  let refined: CapacityMetrics['refined'] = null;
  if (search.refined !== undefined) {
    capacity = search.refined;
    refined = 'bisection';
  } else if (cause === 'memory' && bad && lastGood && o.budgetBytes !== null && lastGood.outcome.rssBytes !== null && bad.outcome.rssBytes !== null) {
    // Memory does not come back between plateaus: the budget's level is interpolated, not bisected.
    const at = interpolateBudget({ connections: lastGood.target, rssBytes: lastGood.outcome.rssBytes }, { connections: bad.target, rssBytes: bad.outcome.rssBytes }, o.budgetBytes);
    if (at > lastGood.target) {
      capacity = at;
      refined = 'interpolated';
    }
  }
  return { capacity, lowerBound: limitClass !== 'runtime', refined, lastGood: lastGood?.target ?? null, firstBad: bad?.target ?? null, cause, limitClass, stop };
}

/**
 * Server memory per unit of the dimension (connection, session, member): the least-squares slope of RSS at the
 * end of each window over the good stepped plateaus, only with at least 3 of them and a positive slope
 * (core/ceiling.ts usableFit); and its projection, units per GiB. None for the rate dimension, whose
 * connections do not change. Pure.
 */
export function capacityMemory(plateaus: readonly CapacityPlateau[], dimension: CapacityModel['dimension']): CapacityMetrics['memory'] {
  if (dimension === 'rate') return { fit: null, bytesPerUnit: null, unitsPerGiB: null };
  const pts = plateaus.filter((p) => p.ok && !p.bisection && p.rssBytes !== null).map((p) => [p.connections, p.rssBytes!] as [number, number]);
  const fit = usableFit(fitMemory(pts));
  return { fit, bytesPerUnit: fit?.bytesPerConnection ?? null, unitsPerGiB: fit ? Math.floor(GiB / fit.bytesPerConnection) : null };
}

/** Servers like the measured one, and cores, needed for `units` at `capacity` per server and `perCore` per core (a projection). Pure. */
export function projectServers(units: number | null, capacity: number | null, perCore: number | null): CapacityMetrics['projection'] {
  if (units === null || capacity === null || !(capacity > 0)) return null;
  return { for: units, serversNeeded: Math.ceil(units / capacity), coresNeeded: perCore !== null && perCore > 0 ? Math.ceil(units / perCore) : null };
}

// ---- the cell ----------------------------------------------------------------

export interface CapacityCellContext extends SteppedCellContext {
  upstream: UpstreamHandle | undefined;
}

/** A plateau's own figures, kept for the cell's figures at capacity. */
export interface PlateauFigures {
  metrics: CellMetrics;
  warnings: Warning[];
  load: LoadResult;
  phases: PhaseSamples;
}

/** A plateau as the cell runs it: its record, and its own figures while the cell is filled. */
export type Plateau = MeasuredCapacityPlateau & { figures?: PlateauFigures };

/** The server as the search sees it: alive or not, and how it ended. */
function watchServer(pid: number | undefined, server: ServerHandle | undefined) {
  let exit: string | null = null;
  let gone = false;
  void server?.exited.then((r) => {
    gone = true;
    exit = r.signal ?? `code ${r.code}`;
  });
  return {
    alive: () => !gone && (pid === undefined || readRssCpu(pid) !== undefined),
    exitText: () => exit,
    /** Lets a just-ended server's exit status arrive (it comes a moment after /proc stops showing it). */
    async settle() {
      if (server && exit === null && !this.alive()) await Promise.race([server.exited, delay(500)]);
    },
  };
}

function sum(xs: Record<string, number>): number {
  return Object.values(xs).reduce((a, b) => a + b, 0);
}

/**
 * Runs a capacity cell on a server that is up and verified: one plateau per level of the scenario's capacity
 * model (a fresh load at that level, runLoad), judged, on the stepped search (core/search.ts), with bisection
 * between the last good and the first bad level; then fills `cell.metrics` (the figures at capacity, and the
 * `capacity` block) and `cell.raw`. A server that dies is a result here (a crash), not an error. Throws only when
 * the load generator fails while the server is alive, or the run is interrupted.
 */
export async function runCapacityCell(ctx: CapacityCellContext): Promise<void> {
  const { cell, scenarioCase: c, plan, deps, pid, server, sampler, baseline } = ctx;
  const m = c.model as CapacityModel;
  const sc = c.scenario;
  const t0 = performance.now();
  const watch = watchServer(pid, server);
  const pinned = server !== undefined && plan.serverCpus !== null && plan.serverCpus !== undefined;
  const serverCpus = pinned ? expandCpuList(plan.serverCpus!).length : Math.max(1, expandCpuList(deps.environment.allowedCpus || '0').length);
  const judge: CapacityJudgeContext = { slo: m.slo, serverCpuCount: serverCpus };
  // The upstream is sampled at each window's edges only: its CPU shows whether it, not the server, was the limit.
  const upSampler = ctx.upstream ? startSampler(ctx.upstream.pid, 1000) : undefined;
  const upStats = ctx.upstream ? (deps.upstreamStats ?? ((u: UpstreamHandle) => fetchUpstreamStats(u.host, u.port))) : undefined;
  let lastUp = ctx.upstream && upStats ? await upStats(ctx.upstream) : undefined;
  let heldAtLimit = false;

  const runPlateau = async (level: number, bisection: boolean): Promise<Plateau> => {
    const at = workloadAt(m, level, sc.connections);
    // Held long enough for each percentile bound's samples (up to a cap): a p99 of fewer is the maximum.
    const durationSec = plateauDurationSec(m, level, sc.connections, sc.durationSec);
    const lp = loadPlanFor({ name: c.name, scenario: { ...sc, connections: at.connections, durationSec }, model: at.model }, ctx.url, plan, protocolFor(cell.runtime, plan));
    const marks: Partial<Record<'connected' | 'measureStart' | 'measureEnd', ProcSample>> = {};
    const upMarks: { start?: ProcSample; end?: ProcSample } = {};
    const fromMs = sampler?.samples.at(-1)?.tMs ?? 0;
    const abort = new AbortController();
    const onStop = () => abort.abort();
    deps.signal?.addEventListener('abort', onStop, { once: true });
    // A server that dies ends the plateau at once: its load has nothing left to measure.
    void server?.exited.then(onStop);
    let load: LoadResult | undefined;
    let failedAll = false;
    try {
      load = await deps.runLoad(lp, {
        nodePath: deps.host.nodePath,
        signal: abort.signal,
        onProgress: (p) => deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: p }),
        onPhase: (phase) => {
          const s = sampler?.sampleNow();
          if (phase === 'connected' && s) marks.connected = s;
          if (phase === 'measure-start') {
            if (s) marks.measureStart = s;
            upMarks.start = upSampler?.sampleNow();
          }
          if (phase === 'measure-end') {
            if (s) marks.measureEnd = s;
            upMarks.end = upSampler?.sampleNow();
          }
        },
      });
    } catch (e) {
      if (deps.signal?.aborted) throw e;
      // The load failing because the server vanished under it is the server's story, judged below.
      if (watch.alive()) {
        if (isBenchError(e) && e.code === 'E_LOADGEN_FAILED' && /no connection/.test(e.message)) failedAll = true;
        else throw e;
      }
    } finally {
      deps.signal?.removeEventListener('abort', onStop);
    }
    const alive = watch.alive();
    await watch.settle();
    const end = sampler?.sampleNow() ?? sampler?.samples.at(-1);
    let figures: PlateauFigures | undefined;
    let up: VoiceMetrics['upstream'] | undefined;
    if (load) {
      if (ctx.upstream && upStats) {
        const now = await upStats(ctx.upstream);
        const cpuUs = upMarks.start && upMarks.end ? cpuUsBetween(upMarks.start, upMarks.end) : 0;
        up = {
          pid: ctx.upstream.pid,
          cpus: plan.upstreamCpus ?? plan.loadgenCpus,
          cpuUtilPct: load.measuredMs > 0 ? (cpuUs / (load.measuredMs * 1000)) * 100 : 0,
          eventsReceived: (now?.eventsReceived ?? 0) - (lastUp?.eventsReceived ?? 0),
          chunksSent: (now?.chunksSent ?? 0) - (lastUp?.chunksSent ?? 0),
          chunksDropped: (now?.chunksDropped ?? 0) - (lastUp?.chunksDropped ?? 0),
        };
        lastUp = now ?? lastUp;
      }
      const last = end ?? baseline;
      const phases: PhaseSamples = {
        baseline,
        connected: marks.connected ?? last,
        measureStart: marks.measureStart ?? marks.connected ?? last,
        measureEnd: marks.measureEnd ?? last,
        end: last,
        all: sampler ? sampler.samples.filter((s) => s.tMs >= fromMs) : [last],
      };
      const { metrics, warnings } = computeCellMetrics(load, phases, at.model, up ? { upstream: up } : {});
      figures = { metrics, warnings, load, phases };
    }
    const mt = figures?.metrics;
    const d = mt?.delivery;
    const observed = pid !== undefined && sampler !== undefined && mt !== undefined;
    const voice = mt?.voice;
    const workloadLatency = voice ? voice.relayOverheadUs : mt?.latencyUs;
    const obs: CapacityObservation = {
      serverAlive: alive,
      serverExit: watch.exitText(),
      stderrTail: server?.stderrTail() ?? '',
      latencyP99Us: workloadLatency && workloadLatency.count > 0 ? workloadLatency.p99Us : null,
      firstChunkP99Us: voice && voice.firstChunkUs.count > 0 ? voice.firstChunkUs.p99Us : null,
      lastMemberP99Us: mt?.lastRecipientUs && mt.lastRecipientUs.count > 0 ? mt.lastRecipientUs.p99Us : null,
      latencySamples: workloadLatency?.count ?? 0,
      firstChunkSamples: voice?.firstChunkUs.count ?? 0,
      lastMemberSamples: mt?.lastRecipientUs?.count ?? 0,
      expected: d?.expected ?? 0,
      lost: d?.lost ?? 0,
      faulty: d ? d.corrupted + d.misdelivered + d.duplicated + d.outOfOrder : 0,
      connections: at.connections,
      failedConnects: failedAll ? at.connections : (load?.connectionsFailed ?? 0),
      closedByServer: load ? sum(load.closes.codes) : 0,
      serverCpuPct: observed ? mt.serverCpuUtilPct : null,
      rssBytes: observed ? figures!.phases.measureEnd.rssBytes : null,
      loadgen: load?.saturation ?? { saturated: false, reasons: [] },
      sendsMissing: load ? sendsMissing(load) : false,
      loadgenMaxLagUs: Math.max(0, ...(load?.workers ?? []).map((w) => w.eventLoopDelayMaxUs)),
      upstreamBusy: up !== undefined && (up.cpuUtilPct > UPSTREAM_BUSY_PCT || up.chunksDropped > 0),
    };
    const verdict = judgeCapacityPlateau(obs, judge);
    if (verdict.lastLevel) heldAtLimit = true;
    const windowSec = load && load.measuredMs > 0 ? load.measuredMs / 1000 : 0;
    const workers = load?.workers ?? [];
    const loadgenCpu = workers.some((w) => !w.spinWait)
      ? busiestLoadgenCpuPct(workers.map((w) => ({ worker: w.worker, cpus: w.cpus, cpuUs: w.cpuUs, windowMs: load!.measuredMs, eventLoopDelayP99Us: w.eventLoopDelayP99Us, spinWait: w.spinWait })))
      : null;
    if (alive) await delay(PLATEAU_PAUSE_MS);
    return {
      level,
      bisection,
      connections: at.connections,
      opened: load?.connectionsOpened ?? 0,
      offeredPerSec: load?.openLoop ? load.openLoop.targetPerSec : windowSec > 0 && d ? d.sent / windowSec : 0,
      sentPerSec: mt?.sentMsgsPerSec ?? 0,
      msgsPerSec: mt?.msgsPerSec ?? 0,
      latencyP50Us: workloadLatency && workloadLatency.count > 0 ? workloadLatency.p50Us : null,
      latencyP99Us: obs.latencyP99Us,
      firstChunkP99Us: obs.firstChunkP99Us,
      lastMemberP99Us: obs.lastMemberP99Us,
      expected: obs.expected,
      lost: obs.lost,
      faulty: obs.faulty,
      failedConnects: obs.failedConnects,
      closedByServer: obs.closedByServer,
      serverCpuPct: obs.serverCpuPct,
      serverCpuUsPerMsg: observed ? mt.serverCpuUsPerMsg : null,
      rssBytes: obs.rssBytes,
      loadgenSaturated: obs.loadgen.saturated,
      loadgenCpuPct: loadgenCpu,
      upstreamCpuPct: up?.cpuUtilPct ?? null,
      upstreamChunksDropped: up?.chunksDropped ?? null,
      ok: verdict.ok,
      verdict,
      bisectable: alive && isBisectable(verdict),
      ...(durationSec !== sc.durationSec ? { durationSec } : {}),
      ...(figures ? { figures } : {}),
    };
  };

  let search: SearchOutcome<Plateau> = { plateaus: [], lastGood: undefined, firstBad: undefined, refined: undefined, exhausted: false };
  try {
    ctx.step('connected');
    search = await steppedSearch<Plateau>({
      targets: m.levels,
      bisectSteps: m.bisectSteps,
      integer: true,
      canContinue: () => watch.alive() && !heldAtLimit && deps.signal?.aborted !== true,
      plateau: runPlateau,
    });
  } finally {
    upSampler?.stop();
  }
  ctx.step('measure-end');
  ctx.step('drain-done');

  const stop = capacityStop(search, {
    planned: m.levels.length,
    serverGone: !watch.alive() && server !== undefined,
    serverExit: watch.exitText(),
    budgetBytes: m.slo.memoryBudgetMiB !== null ? m.slo.memoryBudgetMiB * 1024 * 1024 : null,
  });
  const plateaus = search.plateaus.map((p) => p.outcome);
  const record = plateaus.map(({ bisectable: _b, figures: _f, ...p }): CapacityPlateau => p);
  // The figures at capacity: the good plateau at the capacity's level (a bisection's), else the last good one.
  const good = plateaus.filter((p) => p.ok);
  const atCap = good.filter((p) => p.level === stop.capacity).at(-1) ?? good.filter((p) => !p.bisection).at(-1);
  const perCore = pinned && stop.capacity !== null ? stop.capacity / serverCpus : null;
  const memory = capacityMemory(record, m.dimension);
  const capacity: CapacityMetrics = {
    workload: m.workload.model,
    dimension: m.dimension,
    ...stop,
    perCore,
    serverCpus,
    serverPinned: pinned,
    ...(stop.cause === 'loadgen' ? { limit: { part: 'loadgen' as const, cpus: plan.loadgenCpus ?? null, shared: false } } : {}),
    ...(stop.cause === 'upstream'
      ? { limit: { part: 'upstream' as const, cpus: plan.upstreamCpus ?? plan.loadgenCpus ?? null, shared: (plan.upstreamCpus ?? plan.loadgenCpus) === plan.loadgenCpus } }
      : {}),
    atCapacity: atCap
      ? { level: atCap.level, msgsPerSec: atCap.msgsPerSec, serverCpuUsPerMsg: atCap.serverCpuUsPerMsg, serverCpuPct: atCap.serverCpuPct, latencyP99Us: atCap.latencyP99Us, rssBytes: atCap.rssBytes }
      : null,
    memory,
    projection: projectServers(plan.capacityFor ?? m.projectFor, stop.capacity, perCore),
    slo: m.slo,
    levels: m.levels,
    bisectSteps: m.bisectSteps,
    plateaus: record,
    searchMs: Math.round(performance.now() - t0),
  };

  // The cell's usual figures are those at capacity (or of the first plateau when none held): a cost at a load nobody runs is no figure to plan with.
  const shown = (atCap ?? plateaus[0])?.figures;
  const base = shown ? shown.metrics : noMessageMetrics(baseline, sampler?.samples.at(-1) ?? baseline);
  cell.metrics = {
    ...base,
    throughputIsLowerBound: stop.limitClass === 'environment',
    bytesPerConnection: memory.bytesPerUnit,
    ...(base.voice ? { voice: { ...base.voice, bytesPerSession: memory.bytesPerUnit } } : {}),
    capacity,
  };
  cell.warnings.push(...capacityWarnings(plateaus, shown, capacity));
  cell.raw = {
    latencyEncoded: shown?.load.latencyEncoded ?? encodeHistogram(createLatencyHistogram()),
    connectEncoded: shown?.load.connectEncoded ?? encodeHistogram(createLatencyHistogram()),
    ...(shown?.load.lastRecipientEncoded ? { lastRecipientEncoded: shown.load.lastRecipientEncoded } : {}),
    timeline: shown?.load.timeline ?? [],
    samples: sampler ? [...sampler.samples] : [baseline],
    phasesMs: shown
      ? { connectedAt: shown.phases.connected.tMs, measureStart: shown.phases.measureStart.tMs, measureEnd: shown.phases.measureEnd.tMs }
      : { connectedAt: 0, measureStart: 0, measureEnd: Math.round(performance.now() - t0) },
  };
}

/**
 * The warnings of a capacity cell: those of the plateau at capacity, less lost messages and closed connections
 * within the SLO's loss bound (beyond capacity, loss is the finding, not a fault) and less a load generator
 * that fell behind there without stopping the search (its late sends counted against the SLO already, so the
 * capacity is not its figure: comparisons would otherwise call it a bound); faulty deliveries at any plateau
 * that met the SLO (a server that corrupts or misdelivers is broken at any load); and, when this machine
 * stopped the search, which part of it.
 */
export function capacityWarnings(
  plateaus: readonly (CapacityPlateau & { figures?: { metrics: Pick<CellMetrics, 'delivery'>; load: Pick<LoadResult, 'closes'> } })[],
  shown: Pick<PlateauFigures, 'warnings'> | undefined,
  c: CapacityMetrics,
): Warning[] {
  const out: Warning[] = (shown?.warnings ?? []).filter((w) => w.code !== 'delivery-errors' && (w.code !== 'loadgen-bound' || c.cause === 'loadgen'));
  const faulty = plateaus.find((p) => p.ok && p.faulty > 0 && p.figures);
  if (faulty) {
    const d = faulty.figures!.metrics.delivery;
    out.push({ code: 'delivery-errors', lost: d.lost, duplicated: d.duplicated, corrupted: d.corrupted, outOfOrder: d.outOfOrder, misdelivered: d.misdelivered, closedByServer: faulty.closedByServer, failedConnects: faulty.failedConnects, closeCodes: faulty.figures!.load.closes.codes });
  }
  if (c.cause === 'loadgen' && !out.some((w) => w.code === 'loadgen-bound')) out.push({ code: 'loadgen-bound', reasons: c.stop.loadgenReasons ?? [] });
  if (c.cause === 'upstream' && !out.some((w) => w.code === 'upstream-bound')) {
    const at = plateaus.find((p) => p.level === c.stop.level && !p.ok);
    out.push({ code: 'upstream-bound', cpuPct: at?.upstreamCpuPct ?? 0, chunksDropped: at?.upstreamChunksDropped ?? 0 });
  }
  return out;
}
