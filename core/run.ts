import { seededShuffle } from '../stats/index.js';
import type { RunLoadOptions } from '../loadgen/run.js';
import type { LoadPlan, LoadProgress, LoadResult } from '../loadgen/types.js';
import type { ParityManifest } from '../servers/settings.js';
import type { Environment } from './environment.js';
import { sameCpus } from '../base/cpus.js';
import { BenchError, isBenchError } from '../base/errors.js';
import type { ServerHandle, StartCommandOptions, StartServerOptions, StartUpstreamOptions, UpstreamHandle } from './launcher.js';
import { computeCellMetrics, type PhaseSamples } from './metrics.js';
import { describeDifferences, diffManifests } from './parity.js';
import { exePath, hasUwsLoaded, runtimeOfExe, threadAffinities } from './procfs.js';
import { RESULT_SCHEMA_VERSION, type CellResult, type RunResult, type RunSettings, type Warning } from '../schema/result.js';
import { RUNTIMES, type HostInfo, type RuntimeId } from './runtimes.js';
import { cpuUsBetween, startSampler, type ProcSample } from './sampler.js';
import type { ScenarioCase } from './scenario.js';
import { CONTRACT_SETTINGS } from '../servers/settings.js';
import { summarizeCells } from './summarize.js';
import { runCeilingCell } from './ceiling.js';
import { fetchUpstreamStats, relayDifferences } from './voice.js';
import { modelOf } from '../loadgen/models/index.js';
import type { UpstreamStats } from '../upstream/config.js';
import type { VoiceMetrics } from '../schema/result.js';
import type { openCeilingSession } from '../loadgen/ceiling-run.js';

/**
 * The orchestrator: runs every (runtime × case × repetition) cell, each on a
 * fresh server process, in a seeded interleaved order, and saves the result
 * after every cell. It spawns nothing itself: servers come from the launcher
 * and load from the load generator, both injected so tests can observe the
 * lifecycle or replace the load generator.
 */

/** What to run: the result's settings (RunSettings), with the scenario cases themselves instead of their definitions. */
export interface RunPlan extends Omit<RunSettings, 'scenarios'> {
  /** Registry ids; with `external`, the one label of the user's server. */
  runtimes: string[];
  /** A server bench does not take from its registry (--target, --server-cmd). */
  external?: ExternalServer;
  cases: ScenarioCase[];
  /** Load-generator worker processes (default: the number of load-generator CPUs). */
  workers: number;
  label: string;
  commandLine: string[];
}

export type LifecycleStep =
  | 'spawn'
  | 'ready'
  | 'verified'
  | 'baseline'
  | 'connected'
  | 'warmup'
  | 'measure'
  | 'measure-end'
  | 'drain-done'
  | 'stop'
  | 'gone';

export type RunEvent =
  | { type: 'cell-start'; cell: CellResult; index: number; total: number }
  | { type: 'lifecycle'; cellId: string; step: LifecycleStep }
  | { type: 'progress'; cellId: string; progress: LoadProgress }
  | { type: 'cell-end'; cell: CellResult; index: number; total: number };

export interface RunDeps {
  host: HostInfo;
  environment: Environment;
  toolVersion: string;
  startServer(opts: StartServerOptions): Promise<ServerHandle>;
  /** Starts a user's server command (--server-cmd). */
  startCommand?(opts: StartCommandOptions): Promise<ServerHandle>;
  /** Starts the simulated model service for voice cases (core/launcher.ts startUpstream). */
  startUpstream?(opts: StartUpstreamOptions): Promise<UpstreamHandle>;
  /** Reads the upstream's counters (GET /stats); default: an HTTP GET. */
  upstreamStats?(upstream: UpstreamHandle): Promise<UpstreamStats | undefined>;
  runLoad(plan: LoadPlan, opts: RunLoadOptions): Promise<LoadResult>;
  /** The ceiling session (ceiling and stepped idle cases); default: the load generator's own (loadgen/ceiling-run.ts). */
  openCeiling?: typeof openCeilingSession;
  onEvent?(e: RunEvent): void;
  /** Persists the result; called after every cell (atomically, by the caller's writer). */
  save?(result: RunResult): Promise<void> | void;
  signal?: AbortSignal;
  /** Milliseconds to let the server settle before the baseline RSS sample. */
  baselineSettleMs?: number;
  now?: () => Date;
}

/** The cells in execution order: repetitions outermost, then cases, runtimes shuffled per (repetition, case) with the seed. */
export function planCells(plan: RunPlan): CellResult[] {
  const cells: CellResult[] = [];
  for (let rep = 1; rep <= plan.repeat; rep++) {
    plan.cases.forEach((c, ci) => {
      for (const runtime of seededShuffle(plan.runtimes, plan.seed * 1000 + rep * 100 + ci)) {
        cells.push({
          id: `${c.name}/${runtime}/${rep}`,
          scenario: c.scenario.name,
          case: c.name,
          runtime,
          repetition: rep,
          order: cells.length,
          status: 'pending',
          warnings: [],
        });
      }
    });
  }
  return cells;
}

/** Builds the load generator's plan for a case against a server: the common plan, adjusted by the model. */
export function loadPlanFor(c: ScenarioCase, url: string, plan: RunPlan): LoadPlan {
  const s = c.scenario;
  const def = modelOf(c.model);
  const base: LoadPlan = {
    url,
    connections: s.connections,
    load: c.model,
    message: s.message ?? { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
    warmupMs: s.warmupSec * 1000,
    durationMs: s.durationSec * 1000,
    drainTimeoutMs: def.drainTimeoutMs(c.model),
    // A simulated upstream sits on the load generator's CPUs unless it has one of its own: workers must not spin.
    ...(def.upstream && (plan.upstreamCpus ?? plan.loadgenCpus) === plan.loadgenCpus ? { cpusShared: true } : {}),
    connect: { maxInFlight: 256, timeoutMs: 10_000 },
    workers: plan.workers,
    ...(plan.loadgenCpus ? { cpus: plan.loadgenCpus } : {}),
    client: plan.client,
    seed: plan.seed,
  };
  return def.plan ? def.plan(c.model, base) : base;
}

/** Checks from outside that the server is the runtime it claims; throws E_RUNTIME_MISMATCH. */
export function verifyRuntime(runtime: RuntimeId, pid: number): string {
  const spec = RUNTIMES[runtime];
  const exe = exePath(pid) ?? '';
  const actual = runtimeOfExe(exe);
  if (actual !== spec.runtime) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${runtime} server (pid ${pid}) runs ${exe || 'an unknown executable'}, not ${spec.runtime}`, {
      hint: 'something wraps the runtime; bench must sample the runtime process itself',
    });
  }
  const uws = hasUwsLoaded(pid);
  if (runtime === 'node-uws' && !uws) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the node-uws server (pid ${pid}) has no uWebSockets.js addon loaded`);
  }
  if (runtime !== 'node-uws' && uws) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${runtime} server (pid ${pid}) has uWebSockets.js loaded`);
  }
  return exe;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the plan to the end (or until aborted) and returns the result; never throws for a failing cell. */
export async function runBenchmark(plan: RunPlan, deps: RunDeps): Promise<RunResult> {
  const now = deps.now ?? (() => new Date());
  const cells = planCells(plan);
  const result: RunResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'bench', version: deps.toolVersion, gitRevision: deps.environment.gitRevision, gitDirty: deps.environment.gitDirty },
    label: plan.label,
    status: 'running',
    startedAt: now().toISOString(),
    commandLine: plan.commandLine,
    environment: deps.environment,
    settings: {
      runtimes: plan.runtimes,
      scenarios: dedupe(plan.cases.map((c) => c.scenario)),
      repeat: plan.repeat,
      seed: plan.seed,
      quick: plan.quick,
      serverCpus: plan.serverCpus,
      loadgenCpus: plan.loadgenCpus,
      ...(plan.cases.some((c) => modelOf(c.model).upstream) ? { upstreamCpus: plan.upstreamCpus ?? plan.loadgenCpus } : {}),
      referenceRuntime: plan.referenceRuntime,
      client: plan.client,
    },
    parity: { manifests: {}, differences: [] },
    cells,
    summary: [],
  };
  const save = async () => {
    result.summary = summarizeCells(result.cells, plan.referenceRuntime);
    await deps.save?.(result);
  };
  await save();

  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (deps.signal?.aborted) {
      cell.status = 'skipped';
      continue;
    }
    const c = plan.cases.find((x) => x.name === cell.case)!;
    cell.status = 'running';
    cell.startedAt = now().toISOString();
    deps.onEvent?.({ type: 'cell-start', cell, index: i, total: cells.length });
    // On disk too: a run killed during this cell shows which cell it was in.
    await save();
    const t0 = performance.now();
    try {
      await runCell(cell, c, plan, deps, result.parity);
      cell.status = 'completed';
    } catch (e) {
      if (deps.signal?.aborted) {
        cell.status = 'skipped';
        cell.error = { code: 'E_INTERRUPTED', message: 'interrupted', details: [] };
      } else {
        cell.status = 'errored';
        cell.error = isBenchError(e)
          ? { code: e.code, message: e.message, details: e.details }
          : { code: 'E_INTERNAL', message: (e as Error).message, details: ((e as Error).stack ?? '').split('\n').slice(1, 6) };
      }
    }
    cell.durationMs = Math.round(performance.now() - t0);
    deps.onEvent?.({ type: 'cell-end', cell, index: i, total: cells.length });
    await save();
  }
  result.status = deps.signal?.aborted ? 'interrupted' : cells.some((c) => c.status === 'errored') ? 'failed' : 'completed';
  result.finishedAt = now().toISOString();
  await save();
  return result;
}

function dedupe<T extends { name: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(x.name) ? false : (seen.add(x.name), true)));
}

/** A server bench does not start from its registry: one already running, or a user's command. */
export type ExternalServer = { kind: 'target'; url: string; pid?: number } | { kind: 'command'; command: string };

/** A zero reading, for a server whose pid is unknown: nothing of it can be sampled. */
const UNOBSERVED: ProcSample = { tMs: 0, cpuUserUs: 0, cpuSystemUs: 0, rssBytes: 0, peakRssBytes: 0, threads: 0, fds: 0, kernelTcpMemBytes: 0 };

type Parity = { manifests: Record<string, ParityManifest>; differences: string[] };

async function runCell(cell: CellResult, c: ScenarioCase, plan: RunPlan, deps: RunDeps, parity: Parity): Promise<void> {
  const ext = plan.external;
  const upstreamConfig = modelOf(c.model).upstream?.(c.model);
  let upstream: UpstreamHandle | undefined;
  if (upstreamConfig) {
    if (ext?.kind === 'target') {
      throw new BenchError('E_USAGE', `${c.name} needs a server that relays to bench's simulated upstream, which a running --target was not started with`, {
        hint: 'use --server-cmd (bench passes UPSTREAM_URL to the command) or a built-in runtime',
      });
    }
    // A fresh upstream per cell, like the server: no session or latency-draw state carries over.
    const upstreamCpus = plan.upstreamCpus ?? plan.loadgenCpus;
    upstream = await deps.startUpstream!({
      config: upstreamConfig,
      ...(upstreamCpus ? { cpus: upstreamCpus } : {}),
      hostInfo: deps.host,
    });
  }
  try {
    await serveCell(cell, c, plan, deps, parity, upstream);
  } finally {
    // After the server: it closes its upstream legs first, so the upstream sees clean closes.
    await upstream?.stop(deps.signal?.aborted ? 500 : undefined);
  }
}

async function serveCell(cell: CellResult, c: ScenarioCase, plan: RunPlan, deps: RunDeps, parity: Parity, upstream: UpstreamHandle | undefined): Promise<void> {
  const step = (s: LifecycleStep) => deps.onEvent?.({ type: 'lifecycle', cellId: cell.id, step: s });
  const label = cell.runtime;
  step('spawn');
  const spawnedAt = performance.now();
  const ext = plan.external;
  const serverEnv = upstream ? { UPSTREAM_URL: upstream.url } : undefined;
  let server: ServerHandle | undefined;
  let host = '127.0.0.1';
  let port: number;
  let pid: number | undefined;
  if (ext?.kind === 'target') {
    const u = new URL(ext.url);
    host = u.hostname;
    port = Number(u.port || 80);
    pid = ext.pid;
  } else {
    server =
      ext?.kind === 'command'
        ? await deps.startCommand!({ command: ext.command, label, ...(plan.serverCpus ? { cpus: plan.serverCpus } : {}), ...(serverEnv ? { env: serverEnv } : {}) })
        : await deps.startServer({
            runtime: label as RuntimeId,
            port: 0,
            host,
            hostInfo: deps.host,
            ...(plan.serverCpus ? { cpus: plan.serverCpus } : {}),
            ...(serverEnv ? { env: serverEnv } : {}),
          });
    port = server.port;
    pid = server.pid;
  }
  let sampler: ReturnType<typeof startSampler> | undefined;
  try {
    step('ready');
    const startupMs = performance.now() - spawnedAt;
    // Only registry runtimes have a known executable to check.
    const exe = ext ? (pid ? (exePath(pid) ?? 'unknown') : 'unknown') : verifyRuntime(label as RuntimeId, pid!);
    if (server?.ready) {
      const ready = server.ready;
      // Equivalence first: the server's effective settings must match the contract and every other server's.
      const others = { ...parity.manifests };
      delete others[label];
      const diffs = diffManifests({ contract: CONTRACT_SETTINGS, ...others, [label]: ready.settings });
      parity.manifests[label] = ready.settings;
      if (diffs.length > 0) {
        parity.differences = describeDifferences(diffs);
        throw new BenchError('E_PARITY_MISMATCH', `${label} runs with different settings from the contract or the other servers`, {
          details: parity.differences,
          hint: 'differing settings are a refusal, not a footnote: make the server apply servers/settings.ts',
        });
      }
      if (upstream) {
        const relayDiffs = relayDifferences(label, ready.relay, upstream.url);
        if (relayDiffs.length > 0) {
          throw new BenchError('E_PARITY_MISMATCH', `${label}'s /relay route is not the contract's`, {
            details: relayDiffs,
            hint: 'every server relays to the upstream bench started (UPSTREAM_URL) with servers/settings.ts RELAY_CONNECT_TIMEOUT_MS',
          });
        }
      }
    } else {
      cell.warnings.push({
        code: 'parity-unknown',
        message: `${label} did not report its settings (max payload, compression, backpressure, idle timeout, publish-to-self), so its equivalence with other servers is unchecked`,
        hint: 'print a bench ready line with the settings when listening (servers/CONTRACT.md)',
      });
    }
    if (pid === undefined) {
      cell.warnings.push({
        code: 'server-unobserved',
        message: 'no server pid: server CPU, memory, threads and fds were not measured (shown as 0)',
        hint: 'pass --target-pid PID, or let bench start the server with --server-cmd',
      });
    } else if (plan.serverCpus && server) {
      const aff = threadAffinities(pid);
      const stray = [...aff].filter(([, cpus]) => !sameCpus(cpus, plan.serverCpus!));
      if (stray.length > 0) cell.warnings.push(unpinnedWarning(`${stray.length} of ${aff.size} server threads are not confined to CPUs ${plan.serverCpus}`));
    } else {
      cell.warnings.push(unpinnedWarning(server ? 'the server was not pinned: server and load generator share CPUs' : 'bench did not start this server, so it could not pin it'));
    }
    const ready = server?.ready;
    cell.server = {
      pid: pid ?? 0,
      runtime: ready?.runtime ?? 'unknown',
      runtimeVersion: ready?.runtimeVersion ?? 'unknown',
      library: ready?.library ?? 'unknown',
      libraryVersion: ready?.libraryVersion ?? 'unknown',
      exe,
      settings: ready?.settings as ParityManifest,
      cpus: server ? plan.serverCpus : null,
      startupMs: Math.round(startupMs),
      ...(upstream && ready?.relay ? { relay: ready.relay } : {}),
    };
    step('verified');

    await delay(deps.baselineSettleMs ?? 200);
    if (pid !== undefined) sampler = startSampler(pid, 250);
    // The upstream is sampled at the window's edges only: its CPU shows whether it could have been the limit.
    const upstreamSampler = upstream ? startSampler(upstream.pid, 1000) : undefined;
    const upstreamMarks: { start?: ProcSample; end?: ProcSample } = {};
    const baseline = sampler ? sampler.sampleNow() : UNOBSERVED;
    if (!baseline) throw serverGone(label, server, 'before the load started');
    step('baseline');

    const marks: Partial<Record<'connected' | 'measureStart' | 'measureEnd', ProcSample>> = {};
    const url = `ws://${host}:${port}${c.scenario.route}`;
    const serverDied = server
      ? server.exited.then((r) => {
          throw serverGone(label, server, `during the load (${r.signal ?? `code ${r.code}`})`);
        })
      : new Promise<never>(() => {});
    serverDied.catch(() => {});
    if (modelOf(c.model).runsAs(c.model) === 'search') {
      await runCeilingCell({ cell, scenarioCase: c, plan, deps, url, pid, server, sampler, baseline, step });
      return;
    }
    const load = await Promise.race([
      deps.runLoad(loadPlanFor(c, url, plan), {
        nodePath: deps.host.nodePath,
        ...(deps.signal ? { signal: deps.signal } : {}),
        onProgress: (p) => deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: p }),
        onPhase: (p) => {
          const s = sampler ? sampler.sampleNow() : UNOBSERVED;
          if (p === 'connected') {
            if (s) marks.connected = s;
            step('connected');
            step('warmup');
          } else if (p === 'measure-start') {
            if (s) marks.measureStart = s;
            upstreamMarks.start = upstreamSampler?.sampleNow();
            step('measure');
          } else if (p === 'measure-end') {
            if (s) marks.measureEnd = s;
            upstreamMarks.end = upstreamSampler?.sampleNow();
            step('measure-end');
          }
        },
      }),
      serverDied,
    ]);
    step('drain-done');
    const end = sampler ? (sampler.sampleNow() ?? sampler.samples[sampler.samples.length - 1]!) : UNOBSERVED;
    const all = sampler ? sampler.stop() : [UNOBSERVED];
    const ph: PhaseSamples = {
      baseline,
      connected: marks.connected ?? baseline,
      measureStart: marks.measureStart ?? marks.connected ?? baseline,
      measureEnd: marks.measureEnd ?? end,
      end,
      all,
    };
    upstreamSampler?.stop();
    const upstreamFigures = upstream ? await upstreamFiguresOf(upstream, upstreamMarks, load.measuredMs, plan, deps) : undefined;
    const { metrics, warnings } = computeCellMetrics(load, ph, c.model, upstreamFigures ? { upstream: upstreamFigures } : {});
    cell.metrics = metrics;
    cell.warnings.push(...warnings);
    cell.raw = {
      latencyEncoded: load.latencyEncoded,
      connectEncoded: load.connectEncoded,
      ...(load.lastRecipientEncoded ? { lastRecipientEncoded: load.lastRecipientEncoded } : {}),
      timeline: load.timeline,
      samples: all,
      phasesMs: { connectedAt: ph.connected.tMs, measureStart: ph.measureStart.tMs, measureEnd: ph.measureEnd.tMs },
    };
  } catch (e) {
    if (isBenchError(e) && e.code === 'E_SERVER_EXITED') throw e;
    // Attach what the server said last: often the only clue to why a cell failed.
    if (isBenchError(e) && server?.stderrTail()) {
      throw new BenchError(e.code, e.message, { details: [...e.details, ...server.stderrTail().split('\n').slice(-8).map((l) => `server stderr: ${l}`)] });
    }
    throw e;
  } finally {
    sampler?.stop();
    step('stop');
    // Interrupted: the whole exit must fit in 2 s, so the server gets less grace than the contract's 2 s.
    const r = server ? await server.stop(deps.signal?.aborted ? 500 : undefined) : { forced: false };
    if (r.forced) cell.warnings.push({ code: 'server-killed', message: 'the server ignored SIGTERM for 2 s and was killed', hint: 'check its shutdown path (servers/CONTRACT.md)' });
    step('gone');
  }
}

/** The upstream's CPU over the window and its counters, for the voice metrics. */
async function upstreamFiguresOf(
  upstream: UpstreamHandle,
  marks: { start?: ProcSample; end?: ProcSample },
  windowMs: number,
  plan: RunPlan,
  deps: RunDeps,
): Promise<VoiceMetrics['upstream']> {
  const stats = await (deps.upstreamStats ?? ((u: UpstreamHandle) => fetchUpstreamStats(u.host, u.port)))(upstream);
  const cpuUs = marks.start && marks.end ? cpuUsBetween(marks.start, marks.end) : 0;
  return {
    pid: upstream.pid,
    cpus: plan.upstreamCpus ?? plan.loadgenCpus,
    cpuUtilPct: windowMs > 0 ? (cpuUs / (windowMs * 1000)) * 100 : 0,
    eventsReceived: stats?.eventsReceived ?? 0,
    chunksSent: stats?.chunksSent ?? 0,
    chunksDropped: stats?.chunksDropped ?? 0,
  };
}

function unpinnedWarning(message: string): Warning {
  return { code: 'server-cpu-unpinned', message, hint: 'pin the server and the load generator to separate CPUs (--server-cpus, --loadgen-cpus)' };
}

function serverGone(label: string, server: ServerHandle | undefined, when: string): BenchError {
  return new BenchError('E_SERVER_EXITED', `the ${label} server exited ${when}`, {
    details: (server?.stderrTail() ?? '').split('\n').slice(-10).map((l) => `server stderr: ${l}`),
    hint: server && !server.ready ? 'run the server command yourself to see why' : `run \`bench serve --runtime ${label}\` to reproduce`,
  });
}
