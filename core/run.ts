import { seededShuffle } from '../stats/index.js';
import type { RunLoadOptions } from '../loadgen/run.js';
import type { LoadPlan, LoadProgress, LoadResult } from '../loadgen/types.js';
import type { Environment } from './environment.js';
import { BenchError, isBenchError } from '../base/errors.js';
import type { ServerHandle, StartCommandOptions, StartServerOptions, StartUpstreamOptions, UpstreamHandle } from './launcher.js';
import { exePath, hasUwsLoaded, mappedFiles, runtimeOfExe } from './procfs.js';
import { checkServerProcess } from './runtime-versions/check.js';
import type { ServerBinary } from './runtime-versions/labels.js';
import { RESULT_SCHEMA_VERSION, type CaseDecision, type CellResult, type DecisionSettings, type RunResult, type RunSettings } from '../schema/result.js';
import { decideAll, FIXED_SAMPLE } from './decide.js';
import { FIRST_LOOK_ROUND, runBudgeted } from './budget.js';
import { RUNTIMES, type HostInfo, type RuntimeId, type ServerProtocol } from './runtimes.js';
import type { ScenarioCase } from './scenario.js';
import { summarizeCells } from './summarize.js';
import { runCell } from './cell.js';
import { assertStackPlan } from './stack-plan.js';
import { modelOf } from '../loadgen/models/index.js';
import type { UpstreamStats } from '../upstream/config.js';
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
  /**
   * Per label, the resolved binary its servers start with and must be found running (core/runtime-versions);
   * a label without one runs the registry's (the Node on PATH, the project's bun and deno).
   */
  binaries?: Readonly<Record<string, ServerBinary>>;
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
  | { type: 'cell-end'; cell: CellResult; index: number; total: number }
  /** A budgeted run looked at a case after a round: how many of its runtime pairs are settled, and whether it stops. */
  | { type: 'look'; case: string; look: number; maxLooks: number; settledPairs: number; pairs: number; settled: boolean };

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
  /** A monotonic clock, ms, for the budget (default performance.now; tests inject a fake one). */
  clockMs?: () => number;
}

/** The cells in execution order: repetitions outermost, then cases, runtimes shuffled per (repetition, case) with the seed. */
export function planCells(plan: RunPlan): CellResult[] {
  const cells: CellResult[] = [];
  for (let rep = 1; rep <= plan.repeat; rep++) {
    plan.cases.forEach((c, ci) => {
      for (const runtime of seededShuffle(plan.runtimes, plan.seed * 1000 + rep * 100 + ci)) {
        cells.push(newCell(c, runtime, rep, cells.length));
      }
    });
  }
  return cells;
}

/**
 * Builds the load generator's plan for a case against a server: the common plan, adjusted by the model.
 * `protocol` is what the server speaks (core/runtimes.ts protocolOf): a Socket.IO stack's plan says so, and
 * the workers speak Engine.IO/Socket.IO to it.
 */
export function loadPlanFor(
  c: ScenarioCase,
  url: string,
  plan: Pick<RunPlan, 'workers' | 'loadgenCpus' | 'upstreamCpus' | 'client' | 'seed'>,
  protocol: ServerProtocol = 'websocket',
): LoadPlan {
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
    ...(protocol !== 'websocket' ? { protocol } : {}),
    seed: plan.seed,
  };
  return def.plan ? def.plan(c.model, base) : base;
}

/**
 * Checks from outside that the server is the runtime it claims and, for a resolved version, that
 * /proc/<pid>/exe is exactly that version's binary (and a node-uws server has that build's addon mapped).
 * @throws BenchError E_RUNTIME_MISMATCH
 */
export function verifyRuntime(runtime: RuntimeId, pid: number, binary?: ServerBinary): string {
  const spec = RUNTIMES[runtime];
  const exe = exePath(pid) ?? '';
  const actual = runtimeOfExe(exe);
  if (actual !== spec.runtime) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${runtime} server (pid ${pid}) runs ${exe || 'an unknown executable'}, not ${spec.runtime}`, {
      hint: 'something wraps the runtime; bench must sample the runtime process itself',
    });
  }
  const uws = hasUwsLoaded(pid);
  if (uws !== spec.uws) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${runtime} server (pid ${pid}) ${spec.uws ? 'has no uWebSockets.js addon loaded' : 'has uWebSockets.js loaded'}`, {
      hint: 'the server file and the registry entry (core/runtimes.ts) disagree about the WebSocket library',
    });
  }
  const check = binary ? checkServerProcess(pid, binary, { exePath, mappedFiles }) : { ok: true as const };
  if (!check.ok) {
    throw new BenchError('E_RUNTIME_MISMATCH', check.problem, { hint: `the server must run the binary ${binary!.key} was resolved to; \`bench doctor --runtime ${binary!.key}\` shows where that is` });
  }
  return exe;
}

/** The decision settings of a budgeted run: the sequential test's error rate and spending function. */
export const BUDGET_DECISION: Omit<DecisionSettings, 'look' | 'maxLooks'> = { alpha: 0.05, spending: 'pocock' };

/**
 * Runs the plan to the end (or until aborted) and returns the result; never throws for a failing cell.
 * With `plan.budgetMs`, repetitions are added round by round (core/budget.ts) until every pair of every case is
 * settled or the budget is spent; otherwise `plan.repeat` fixed repetitions. Either way `result.decisions`
 * holds the last look's verdicts (core/decide.ts).
 * @throws BenchError E_USAGE, before anything starts, for a plan a Socket.IO stack cannot take (core/stack-plan.ts)
 */
export async function runBenchmark(plan: RunPlan, deps: RunDeps): Promise<RunResult> {
  // A client or a message a Socket.IO stack cannot take is refused before anything starts (throws E_USAGE).
  assertStackPlan(plan);
  const now = deps.now ?? (() => new Date());
  const budgeted = plan.budgetMs !== undefined;
  const cells = budgeted ? [] : planCells(plan);
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
      ...(plan.cases.some((c) => modelOf(c.model).upstream?.(c.model) !== undefined) ? { upstreamCpus: plan.upstreamCpus ?? plan.loadgenCpus } : {}),
      ...(plan.capacityFor !== undefined ? { capacityFor: plan.capacityFor } : {}),
      referenceRuntime: plan.referenceRuntime,
      client: plan.client,
      ...(budgeted ? { budgetMs: plan.budgetMs } : {}),
    },
    parity: { manifests: {}, differences: [] },
    cells,
    summary: [],
  };
  let decision: DecisionSettings = FIXED_SAMPLE;
  const save = async () => {
    result.summary = summarizeCells(result.cells, plan.referenceRuntime);
    await deps.save?.(result);
  };
  await save();

  let index = 0;
  const runOne = async (cell: CellResult, total: number) => {
    const i = index++;
    if (deps.signal?.aborted) {
      cell.status = 'skipped';
      return;
    }
    const c = plan.cases.find((x) => x.name === cell.case)!;
    cell.status = 'running';
    cell.startedAt = now().toISOString();
    deps.onEvent?.({ type: 'cell-start', cell, index: i, total });
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
    deps.onEvent?.({ type: 'cell-end', cell, index: i, total });
    await save();
  };

  if (!budgeted) {
    for (const cell of cells) await runOne(cell, cells.length);
    result.decisions = decideAll(result, plan.cases, { settings: FIXED_SAMPLE });
  } else {
    const clock = deps.clockMs ?? (() => performance.now());
    const looks = new Map<string, CaseDecision | null>();
    const outcome = await runBudgeted({
      cases: plan.cases.map((c) => c.name),
      unranked: plan.cases.filter((c) => modelOf(c.model).primary === 'none').map((c) => c.name),
      budgetMs: plan.budgetMs!,
      now: clock,
      stopped: () => deps.signal?.aborted === true,
      runRound: async (round, names) => {
        for (const name of names) {
          const ci = plan.cases.findIndex((c) => c.name === name);
          const c = plan.cases[ci]!;
          const fresh = seededShuffle(plan.runtimes, plan.seed * 1000 + round * 100 + ci).map((runtime) => newCell(c, runtime, round, cells.length));
          for (const cell of fresh) cells.push(cell);
          // Total so far plus this round: a budgeted run does not know its last cell in advance.
          for (const cell of fresh) await runOne(cell, cells.length);
        }
      },
      settled: (name, look, maxLooks) => {
        decision = { ...BUDGET_DECISION, look, maxLooks };
        const c = plan.cases.find((x) => x.name === name)!;
        const d = decideAll(result, [c], { settings: decision })[0] ?? null;
        looks.set(name, d ? { ...d, look, maxLooks } : null);
        // A case that ranks nothing (a ceiling search) needs no more repetitions than the first look's.
        const settled = d === null || d.settled;
        if (d) {
          const settledPairs = d.pairs.filter((p) => p.verdict !== 'undecided').length;
          deps.onEvent?.({ type: 'look', case: name, look, maxLooks, settledPairs, pairs: d.pairs.length, settled });
        }
        return settled;
      },
    });
    result.settings.decision = { ...BUDGET_DECISION, look: Math.max(0, outcome.rounds - (FIRST_LOOK_ROUND - 1)), maxLooks: outcome.maxLooks };
    // The most repetitions any cell got: what "repeat" means for a fixed run.
    result.settings.repeat = outcome.rounds;
    result.budget = { rounds: outcome.rounds, maxLooks: outcome.maxLooks, stop: outcome.stop };
    // Each case at its own last look: a case that settled early keeps the verdict it stopped on.
    result.decisions = plan.cases.flatMap((c) => {
      const o = outcome.cases.find((x) => x.case === c.name)!;
      if (o.look === 0) {
        // Never looked at (the budget ran out before the first look): decided at one look of one, to say why not.
        const d = decideAll(result, [c], { settings: { ...BUDGET_DECISION, look: 1, maxLooks: 1 } })[0];
        return d ? [{ ...d, look: 0, maxLooks: outcome.maxLooks }] : [];
      }
      const d = looks.get(c.name);
      return d ? [d] : [];
    });
  }
  result.status = deps.signal?.aborted ? 'interrupted' : cells.some((c) => c.status === 'errored' || hasDeliveryFaults(c)) ? 'failed' : 'completed';
  result.finishedAt = now().toISOString();
  await save();
  return result;
}

function newCell(c: ScenarioCase, runtime: string, repetition: number, order: number): CellResult {
  return { id: `${c.name}/${runtime}/${repetition}`, scenario: c.scenario.name, case: c.name, runtime, repetition, order, status: 'pending', warnings: [] };
}

function dedupe<T extends { name: string }>(xs: T[]): T[] {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(x.name) ? false : (seen.add(x.name), true)));
}

/** A server bench does not start from its registry: one already running, or a user's command. */
export type ExternalServer = { kind: 'target'; url: string; pid?: number } | { kind: 'command'; command: string };

/**
 * Whether a completed cell's server lost, duplicated, corrupted, reordered or misdelivered a message, dropped
 * a connection, or refused one: the run then fails (exit 3) however fast the server was. Slow consumers are
 * accounted apart (their loss is what the scenario measures) and never count here.
 */
/**
 * A copy of a run's last saved state as an interrupted run reports it: status 'interrupted', finished at `at`,
 * the cell that was running marked skipped (E_INTERRUPTED), as runBenchmark marks it when it gets to. For the
 * CLI's last save when the run could not finish its own within the exit deadline. Pure.
 */
export function asInterrupted(result: RunResult, at: Date): RunResult {
  const r = JSON.parse(JSON.stringify(result)) as RunResult;
  if (r.status !== 'running') return r;
  r.status = 'interrupted';
  r.finishedAt = at.toISOString();
  for (const c of r.cells) {
    if (c.status !== 'running') continue;
    c.status = 'skipped';
    c.error = { code: 'E_INTERRUPTED', message: 'interrupted', details: [] };
  }
  return r;
}

export function hasDeliveryFaults(cell: CellResult): boolean {
  return cell.status === 'completed' && cell.warnings.some((w) => w.code === 'delivery-errors');
}
