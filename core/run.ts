import { seededShuffle } from '../stats/index.js';
import type { RunLoadOptions } from '../loadgen/run.js';
import type { LoadPlan, LoadProgress, LoadResult } from '../loadgen/types.js';
import type { ParityManifest } from '../servers/settings.js';
import type { Environment } from './environment.js';
import { BenchError, isBenchError } from './errors.js';
import type { ServerHandle, StartServerOptions } from './launcher.js';
import { computeCellMetrics, type PhaseSamples } from './metrics.js';
import { describeDifferences, diffManifests } from './parity.js';
import { exePath, hasUwsLoaded, runtimeOfExe, threadAffinities } from './procfs.js';
import { RESULT_SCHEMA_VERSION, type CellResult, type RunResult, type Warning } from './result.js';
import { RUNTIMES, type HostInfo, type RuntimeId } from './runtimes.js';
import { startSampler, type ProcSample } from './sampler.js';
import type { ScenarioCase } from './scenario.js';
import { CONTRACT_SETTINGS } from '../servers/settings.js';
import { summarizeCells } from './summarize.js';

/**
 * The orchestrator: runs every (runtime × case × repetition) cell, each on a
 * fresh server process, in a seeded interleaved order, and saves the result
 * after every cell. It spawns nothing itself: servers come from the launcher
 * and load from the load generator, both injected so tests can observe the
 * lifecycle or replace the load generator.
 */

export interface RunPlan {
  runtimes: RuntimeId[];
  cases: ScenarioCase[];
  repeat: number;
  seed: number;
  quick: boolean;
  serverCpus: string | null;
  loadgenCpus: string | null;
  referenceRuntime: string;
  client: 'raw' | 'ws';
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
  runLoad(plan: LoadPlan, opts: RunLoadOptions): Promise<LoadResult>;
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

/** Builds the load generator's plan for a case against a server. */
export function loadPlanFor(c: ScenarioCase, url: string, plan: RunPlan): LoadPlan {
  const s = c.scenario;
  if (c.model.model === 'http') {
    return {
      url,
      connections: s.connections,
      load: c.model,
      message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
      warmupMs: s.warmupSec * 1000,
      durationMs: s.durationSec * 1000,
      drainTimeoutMs: 2000,
      connect: { maxInFlight: 64, timeoutMs: 10_000 },
      workers: 1,
      ...(plan.loadgenCpus ? { cpus: plan.loadgenCpus } : {}),
      client: plan.client,
      seed: plan.seed,
    };
  }
  return {
    url,
    connections: s.connections,
    load: c.model,
    message: s.message ?? { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
    warmupMs: s.warmupSec * 1000,
    durationMs: s.durationSec * 1000,
    drainTimeoutMs: 2000,
    connect: { maxInFlight: 256, timeoutMs: 10_000 },
    workers: plan.workers,
    ...(plan.loadgenCpus ? { cpus: plan.loadgenCpus } : {}),
    client: plan.client,
    seed: plan.seed,
  };
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

function cpusEqual(a: string, b: string): boolean {
  const expand = (s: string) => {
    const out = new Set<number>();
    for (const part of s.split(',')) {
      const [x, y] = part.split('-').map(Number);
      if (x === undefined || Number.isNaN(x)) continue;
      for (let c = x; c <= (y ?? x); c++) out.add(c);
    }
    return [...out].sort().join(',');
  };
  return expand(a) === expand(b);
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

async function runCell(
  cell: CellResult,
  c: ScenarioCase,
  plan: RunPlan,
  deps: RunDeps,
  parity: { manifests: Record<string, ParityManifest>; differences: string[] },
): Promise<void> {
  const step = (s: LifecycleStep) => deps.onEvent?.({ type: 'lifecycle', cellId: cell.id, step: s });
  const runtime = cell.runtime as RuntimeId;
  step('spawn');
  const spawnedAt = performance.now();
  const server = await deps.startServer({
    runtime,
    port: 0,
    host: '127.0.0.1',
    hostInfo: deps.host,
    ...(plan.serverCpus ? { cpus: plan.serverCpus } : {}),
  });
  let sampler: ReturnType<typeof startSampler> | undefined;
  try {
    step('ready');
    const startupMs = performance.now() - spawnedAt;
    const exe = verifyRuntime(runtime, server.pid);
    // Equivalence first: the server's effective settings must match the contract and every other server's.
    const others = { ...parity.manifests };
    delete others[runtime];
    const diffs = diffManifests({ contract: CONTRACT_SETTINGS, ...others, [runtime]: server.ready.settings });
    parity.manifests[runtime] = server.ready.settings;
    if (diffs.length > 0) {
      parity.differences = describeDifferences(diffs);
      throw new BenchError('E_PARITY_MISMATCH', `${runtime} runs with different settings from the contract or the other servers`, {
        details: parity.differences,
        hint: 'differing settings are a refusal, not a footnote: make the server apply servers/settings.ts',
      });
    }
    if (plan.serverCpus) {
      const aff = threadAffinities(server.pid);
      const stray = [...aff].filter(([, cpus]) => !cpusEqual(cpus, plan.serverCpus!));
      if (stray.length > 0) cell.warnings.push(unpinnedWarning(`${stray.length} of ${aff.size} server threads are not confined to CPUs ${plan.serverCpus}`));
    } else {
      cell.warnings.push(unpinnedWarning('the server was not pinned: server and load generator share CPUs'));
    }
    cell.server = {
      pid: server.pid,
      runtime: server.ready.runtime,
      runtimeVersion: server.ready.runtimeVersion,
      library: server.ready.library,
      libraryVersion: server.ready.libraryVersion,
      exe,
      settings: server.ready.settings,
      cpus: plan.serverCpus,
      startupMs: Math.round(startupMs),
    };
    step('verified');

    await delay(deps.baselineSettleMs ?? 200);
    sampler = startSampler(server.pid, 250);
    const baseline = sampler.sampleNow();
    if (!baseline) throw serverGone(server, 'before the load started');
    step('baseline');

    const marks: Partial<Record<'connected' | 'measureStart' | 'measureEnd', ProcSample>> = {};
    const path = c.model.model === 'http' ? '/health' : c.scenario.route;
    const url = `${c.model.model === 'http' ? 'http' : 'ws'}://127.0.0.1:${server.port}${path}`;
    const serverDied = server.exited.then((r) => {
      throw serverGone(server, `during the load (${r.signal ?? `code ${r.code}`})`);
    });
    serverDied.catch(() => {});
    const load = await Promise.race([
      deps.runLoad(loadPlanFor(c, url, plan), {
        nodePath: deps.host.nodePath,
        ...(deps.signal ? { signal: deps.signal } : {}),
        onProgress: (p) => deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: p }),
        onPhase: (p) => {
          const s = sampler!.sampleNow();
          if (p === 'connected') {
            if (s) marks.connected = s;
            step('connected');
            step('warmup');
          } else if (p === 'measure-start') {
            if (s) marks.measureStart = s;
            step('measure');
          } else if (p === 'measure-end') {
            if (s) marks.measureEnd = s;
            step('measure-end');
          }
        },
      }),
      serverDied,
    ]);
    step('drain-done');
    const end = sampler.sampleNow() ?? sampler.samples[sampler.samples.length - 1]!;
    const all = sampler.stop();
    const ph: PhaseSamples = {
      baseline,
      connected: marks.connected ?? baseline,
      measureStart: marks.measureStart ?? marks.connected ?? baseline,
      measureEnd: marks.measureEnd ?? end,
      end,
      all,
    };
    const { metrics, warnings } = computeCellMetrics(load, ph, c.model);
    if (c.model.model === 'http') metrics.http = { requestsPerSec: metrics.msgsPerSec, non2xx: load.errors['handshake-rejected'] ?? 0 };
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
    if (isBenchError(e) && server.stderrTail()) {
      throw new BenchError(e.code, e.message, { details: [...e.details, ...server.stderrTail().split('\n').slice(-8).map((l) => `server stderr: ${l}`)] });
    }
    throw e;
  } finally {
    sampler?.stop();
    step('stop');
    const r = await server.stop();
    if (r.forced) cell.warnings.push({ code: 'server-killed', message: 'the server ignored SIGTERM for 2 s and was killed', hint: 'check its shutdown path (servers/CONTRACT.md)' });
    step('gone');
  }
}

function unpinnedWarning(message: string): Warning {
  return { code: 'server-cpu-unpinned', message, hint: 'pin the server and the load generator to separate CPUs (--server-cpus, --loadgen-cpus)' };
}

function serverGone(server: ServerHandle, when: string): BenchError {
  return new BenchError('E_SERVER_EXITED', `the ${server.runtimeId} server exited ${when}`, {
    details: server.stderrTail().split('\n').slice(-10).map((l) => `server stderr: ${l}`),
    hint: `run \`bench serve --runtime ${server.runtimeId}\` to reproduce`,
  });
}
