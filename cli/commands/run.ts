import path from 'node:path';
import { captureEnvironment } from '../../core/environment.js';
import { BenchError, ExitCode } from '../../base/errors.js';
import { startCommand, startServer, startUpstream } from '../../core/launcher.js';
import type { RunResult } from '../../schema/result.js';
import { asInterrupted, hasDeliveryFaults, runBenchmark, type ExternalServer, type RunPlan } from '../../core/run.js';
import { parseRuntimeLabels, probeRuntimes, registryIdOf, RUNTIME_GROUPS, RUNTIME_IDS } from '../../core/runtimes.js';
import { applyQuick, builtinScenarios, expandCases, resolveScenario, type Scenario } from '../../core/scenario.js';
import { assertStackPlan, defaultScenariosFor } from '../../core/stack-plan.js';
import { runLoad } from '../../loadgen/run.js';
import { modelOf } from '../../loadgen/models/index.js';
import { getFormat } from '../../report/format.js';
import { tableFormat } from '../../report/table.js';
import { renderDecisionText } from '../../report/verdict.js';
import { writeResultSync, writeRunReports } from '../../report/writer.js';
import { compareResults } from '../../core/compare.js';
import { compareTableFormat } from '../../report/compare/table.js';
import { loadSide } from './compare.js';
import { expandCpuList } from '../../base/cpus.js';
import type { Io } from '../io.js';
import { fmtClock, progressRenderer } from '../progress.js';
import { toolVersion } from '../version.js';
import { preflightRun } from '../checks.js';
import { runtimeDeps } from '../runtime-deps.js';
import { assertLoadable, labelRequest, resolveRunRuntimes, runtimeEntries, serverBinaries } from '../../core/runtime-versions/labels.js';

/** The default time budget of `bench run` when no --repeat is given, seconds. */
export const DEFAULT_BUDGET_SEC = 180;

/**
 * Server on the first allowed CPU, load generator on the rest; no pinning on a single CPU. With a simulated
 * upstream (voice scenarios) and at least three CPUs, the upstream gets the last CPU to itself; with two it
 * shares the load generator's, so that it never competes with the server being measured. When only one side's
 * CPUs are given, the other gets the allowed CPUs it leaves (the server one of them); none left: unpinned,
 * which cli/checks.ts refuses as sharing unless --allow-shared-cpus.
 */
export function pinningPlan(
  allowed: string,
  serverCpus?: string,
  loadgenCpus?: string,
  needsUpstream = false,
): { server: string | null; loadgen: string | null; upstream: string | null } {
  const cpus = expandCpuList(allowed);
  const left = (given: string) => cpus.filter((c) => !expandCpuList(given).includes(c));
  if (serverCpus && !loadgenCpus) return { server: serverCpus, loadgen: left(serverCpus).join(',') || null, upstream: left(serverCpus).join(',') || null };
  if (loadgenCpus && !serverCpus) return { server: left(loadgenCpus).slice(0, 1).join(',') || null, loadgen: loadgenCpus, upstream: loadgenCpus };
  if (serverCpus && loadgenCpus) return { server: serverCpus, loadgen: loadgenCpus, upstream: loadgenCpus };
  if (cpus.length < 2) return { server: null, loadgen: null, upstream: null };
  if (needsUpstream && cpus.length >= 3) {
    return { server: String(cpus[0]), loadgen: cpus.slice(1, -1).join(','), upstream: String(cpus[cpus.length - 1]) };
  }
  const loadgen = cpus.slice(1).join(',');
  return { server: String(cpus[0]), loadgen, upstream: loadgen };
}

/** ws://host:port (a path is ignored: the scenarios give the routes). */
function parseTarget(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BenchError('E_USAGE', `--target: not a URL: ${JSON.stringify(url.slice(0, 80))}`, { hint: 'for example ws://127.0.0.1:9001' });
  }
  if (u.protocol !== 'ws:' || !u.port) throw new BenchError('E_USAGE', `--target: must be ws://host:port, got ${JSON.stringify(url.slice(0, 80))}`, { hint: 'for example ws://127.0.0.1:9001: a server you started, listening on that port' });
  return `ws://${u.hostname}:${u.port}`;
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export async function runCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const version = toolVersion();
  // Read the baseline first: a bad path should fail before minutes of measuring, not after.
  const baseline = opts['baseline'] ? loadSide(String(opts['baseline']), io.cwd) : undefined;
  const environment = await captureEnvironment(io.host, version);

  const external: ExternalServer | undefined = opts['target']
    ? { kind: 'target', url: parseTarget(String(opts['target'])), ...(opts['targetPid'] ? { pid: opts['targetPid'] as number } : {}) }
    : opts['serverCmd']
      ? { kind: 'command', command: String(opts['serverCmd']) }
      : undefined;
  if (opts['target'] && opts['serverCmd']) throw new BenchError('E_USAGE', '--target and --server-cmd exclude each other', { hint: 'use --target for a running server, --server-cmd for one bench starts' });
  if (external && opts['runtime']) throw new BenchError('E_USAGE', '--runtime cannot be combined with --target or --server-cmd', { hint: 'compare your server with the built-in ones in separate runs, then `bench compare`' });

  // Runtimes: a group ("all", "stacks") means its usable ones; an explicitly named unusable runtime is an error with its fix.
  const asked = (opts['runtime'] as string[] | undefined) ?? ['all'];
  const requested = external ? [] : parseRuntimeLabels(asked);
  // Versions (bun@1.3.14, node-ws@24) are checked for form now and resolved once every other check has passed.
  const versionDeps = runtimeDeps(io, true);
  const labelRequests = requested.map((label) => labelRequest(label, versionDeps.defaultNode));
  const explicit = !asked.some((a) => Object.hasOwn(RUNTIME_GROUPS, a));
  // A version that cannot load here (uWebSockets.js on Node 24+ with glibc < 2.38) is refused now, naming the nearest that works.
  if (explicit) for (const lr of labelRequests) assertLoadable(lr, versionDeps.facts);
  const statuses = await probeRuntimes(io.host);
  const runtimes: string[] = external ? [String(opts['serverLabel'])] : [];
  for (const { label: id, registryId, bare, request } of labelRequests) {
    const st = statuses.find((s) => s.id === registryId)!;
    // A bare runtime's version is usable when it resolves (below); the probe speaks for the Node on PATH and for a stack's packages.
    if (st.usable || (registryId === bare && request.spec.kind !== 'system')) runtimes.push(id);
    else if (explicit) {
      throw new BenchError('E_RUNTIME_UNAVAILABLE', `runtime ${id} cannot run here: ${st.reason}`, { hint: st.fix ?? 'run `bench doctor`' });
    } else io.stderr.write(`note: skipping ${id}: ${st.reason} (fix: ${st.fix})\n`);
  }
  if (runtimes.length === 0) throw new BenchError('E_RUNTIME_UNAVAILABLE', 'no usable runtime', { hint: 'run `bench doctor`' });

  const names = opts['scenario'] as string[] | undefined;
  let scenarios: Scenario[] = names?.length ? names.map((n) => resolveScenario(n, io.cwd)) : builtinScenarios().filter((s) => s.default);
  if (!names?.length && !external) {
    // With a Socket.IO stack in the run, the binary echo scenarios of the default set become their text twins (for every runtime).
    const d = defaultScenariosFor(scenarios, runtimes, (n) => resolveScenario(n, io.cwd));
    scenarios = d.scenarios;
    if (d.note) io.stderr.write(`note: ${d.note}\n`);
  }
  const quick = opts['quick'] === true || (!names?.length && opts['full'] !== true);
  if (quick) scenarios = scenarios.map(applyQuick);
  const warmup = opts['warmup'] as number | undefined;
  const duration = opts['duration'] as number | undefined;
  scenarios = scenarios.map((s) => ({ ...s, ...(warmup !== undefined ? { warmupSec: warmup } : {}), ...(duration !== undefined ? { durationSec: duration } : {}) }));
  const cases = scenarios.flatMap(expandCases);

  // Called, not only present: a capacity search has the hook and needs an upstream only for a voice workload.
  const needsUpstream = cases.some((c) => modelOf(c.model).upstream?.(c.model) !== undefined);
  const pins = pinningPlan(environment.allowedCpus, opts['serverCpus'] as string | undefined, opts['loadgenCpus'] as string | undefined, needsUpstream);
  const loadgenCpuCount = pins.loadgen ? expandCpuList(pins.loadgen).length : 1;
  const reference = external ? runtimes[0]! : String(opts['reference']);
  if (!external && !(RUNTIME_IDS as readonly string[]).includes(registryIdOf(reference))) {
    throw new BenchError('E_UNKNOWN_RUNTIME', `--reference: unknown runtime "${reference}"`, { hint: `valid runtimes: ${RUNTIME_IDS.join(', ')}` });
  }
  if (opts['budget'] !== undefined && opts['repeat'] !== undefined) {
    throw new BenchError('E_USAGE', '--budget and --repeat exclude each other', { hint: 'a budget adds repetitions until every comparison is settled; --repeat N runs exactly N' });
  }
  // A budget unless fixed repetitions were asked for: the main job ends in a decision, not in a count.
  const budgetMs = opts['repeat'] === undefined ? Math.round(((opts['budget'] as number | undefined) ?? DEFAULT_BUDGET_SEC) * 1000) : undefined;
  const startedAt = new Date();
  const isAll = runtimes.length === RUNTIME_GROUPS.all.length && RUNTIME_GROUPS.all.every((id) => runtimes.includes(id));
  const label = String(opts['label'] ?? (isAll ? 'all' : runtimes.join('+')));
  const plan: RunPlan = {
    runtimes,
    cases,
    repeat: (opts['repeat'] as number | undefined) ?? 0,
    ...(budgetMs !== undefined ? { budgetMs } : {}),
    seed: opts['seed'] as number,
    quick,
    serverCpus: pins.server,
    loadgenCpus: pins.loadgen,
    ...(needsUpstream ? { upstreamCpus: pins.upstream } : {}),
    referenceRuntime: runtimes.includes(reference) ? reference : runtimes[0]!,
    ...(external ? { external } : {}),
    client: opts['client'] as RunPlan['client'],
    ...(opts['for'] !== undefined ? { capacityFor: opts['for'] as number } : {}),
    workers: (opts['workers'] as number | undefined) ?? loadgenCpuCount,
    label,
    commandLine: ['bench', ...io.argv],
  };
  // Refused before anything is printed or started: a client or a message a Socket.IO stack cannot take (E_USAGE).
  assertStackPlan(plan);
  const outDir = path.resolve(io.cwd, String(opts['out']), `${utcStamp(startedAt)}-${label.replace(/[^\w.+-]/g, '_')}`);
  await preflightRun(opts, plan, outDir); // every check against this machine (cli/checks.ts), and the result folder, before anything starts
  if (!external) {
    // Each label to its exact, verified binary, installed into the cache when missing (issue 17): still before anything starts.
    const runs = await resolveRunRuntimes(
      labelRequests.filter((lr) => runtimes.includes(lr.label)),
      versionDeps,
      explicit ? undefined : (id, e) => io.stderr.write(`note: skipping ${id}: ${e.message}${e.hint ? ` (fix: ${e.hint})` : ''}\n`),
    );
    if (runs.length === 0) throw new BenchError('E_RUNTIME_UNAVAILABLE', 'no usable runtime', { hint: 'run `bench doctor`' });
    for (const r of runs) {
      io.stderr.write(`runtime ${r.label}${r.asked !== r.label ? ` (asked as ${r.asked})` : ''}: ${r.resolved.runtime} ${r.resolved.version} from the ${r.resolved.source}, ${r.resolved.binaryPath}\n`);
    }
    plan.runtimes = runs.map((r) => r.label);
    plan.binaries = serverBinaries(runs);
    plan.referenceRuntime = (runs.find((r) => r.asked === plan.referenceRuntime) ?? runs[0]!).label;
    environment.runtimes = runtimeEntries(runs, environment.runtimes);
  }

  const abort = new AbortController();
  const unsubscribe = io.onSignal(() => {
    if (!abort.signal.aborted) io.stderr.write('\ninterrupted: stopping the load and the server, writing the partial report…\n');
    abort.abort();
  });
  // Writes never overlap, and a save asked for while one is writing replaces any still waiting: only the latest
  // state matters, and an interrupted run's last save must not queue behind stale ones (it has 2 s).
  let latest: RunResult | undefined;
  let newest: RunResult | undefined;
  let onDisk: RunResult | undefined;
  let saving: Promise<void> = Promise.resolve();
  let writing = false;
  const save = (r: RunResult) => {
    latest = JSON.parse(JSON.stringify(r)) as RunResult;
    newest = latest;
    if (!writing) {
      writing = true;
      saving = (async () => {
        try {
          while (latest) {
            const snapshot = latest;
            latest = undefined;
            await writeRunReports(outDir, snapshot);
            onDisk = snapshot;
          }
        } finally {
          writing = false;
        }
      })();
    }
    return saving;
  };
  // When bench must exit before the run has saved its end (a server start that outlives the 2 s deadline), the
  // newest state is written at once, marked interrupted: a result is never left "running" (seen 2 in 20 SIGHUPs).
  const forgetLastWords = io.onForcedExit(() => {
    if (newest && (newest !== onDisk || newest.status === 'running')) writeResultSync(outDir, asInterrupted(newest, new Date()));
  });
  io.stderr.write(
    `bench ${version}: ${plan.runtimes.join(', ')} × ${cases.map((c) => c.name).join(', ')} × ${budgetMs !== undefined ? `a ${fmtClock(budgetMs)} budget` : `${plan.repeat} repetition${plan.repeat === 1 ? '' : 's'}`}` +
      `${quick ? ' (quick preset)' : ''}; server CPUs ${pins.server ?? 'unpinned'}, load generator CPUs ${pins.loadgen ?? 'unpinned'}` +
      `${needsUpstream ? `, simulated upstream CPUs ${pins.upstream ?? 'unpinned'}` : ''}\n` +
      `results: ${outDir}\n`,
  );
  const progress = progressRenderer(io.stderr, budgetMs !== undefined ? { budgetMs } : {});
  let result: RunResult;
  try {
    result = await runBenchmark(plan, {
      host: io.host,
      environment,
      toolVersion: version,
      startServer,
      startCommand,
      startUpstream,
      runLoad,
      save,
      signal: abort.signal,
      onEvent: progress,
    });
    await saving;
  } finally {
    unsubscribe();
    forgetLastWords();
  }
  // The per-cell tables with --verbose (they end in the decision), else the decision alone.
  io.stderr.write(opts['verbose'] === true ? tableFormat.render(result) : renderDecisionText(result));
  io.stderr.write(`\nresults written to ${outDir}\n`);
  const format = opts['json'] ? 'json' : (opts['format'] as string | undefined);
  if (format) io.stdout.write(getFormat(format).render(result));
  if (baseline && result.status !== 'interrupted') {
    const comparison = compareResults(baseline.result, result, { names: { base: 'baseline', head: 'this run' } }, { base: baseline.runs, head: 1 });
    io.stderr.write(`\nCompared with the baseline ${String(opts['baseline'])}:\n${compareTableFormat.render(comparison)}`);
  }
  if (result.status === 'interrupted') return ExitCode.interrupted;
  const faulty = result.cells.filter(hasDeliveryFaults);
  if (faulty.length > 0) {
    io.stderr.write(
      `\nrun failed: messages were lost, duplicated, corrupted, reordered or misdelivered, or connections dropped, in ${faulty.length} cell${faulty.length === 1 ? '' : 's'} ` +
        `(${faulty.slice(0, 5).map((c) => c.id).join(', ')}${faulty.length > 5 ? ', …' : ''}): such a server is not comparable on speed; see the delivery-errors warnings\n`,
    );
  }
  return result.status === 'failed' ? ExitCode.runFailed : ExitCode.ok;
}
