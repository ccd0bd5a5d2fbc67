import path from 'node:path';
import { calibrate, type Calibration } from '../../core/calibrate.js';
import { metricDef } from '../../core/compare-metrics.js';
import { expandCpuList } from '../../base/cpus.js';
import { captureEnvironment } from '../../core/environment.js';
import { BenchError, ExitCode } from '../../base/errors.js';
import { startCommand, startServer } from '../../core/launcher.js';
import type { RunResult } from '../../schema/result.js';
import { runBenchmark, type RunPlan } from '../../core/run.js';
import { probeRuntimes } from '../../core/runtimes.js';
import { assertLoadable, labelRequest, resolveRunRuntimes, runtimeEntries, serverBinaries } from '../../core/runtime-versions/labels.js';
import { runtimeDeps } from '../runtime-deps.js';
import { applyQuick, builtinScenarios, expandCases, resolveScenario, type Scenario } from '../../core/scenario.js';
import { defaultScenariosFor } from '../../core/stack-plan.js';
import { runLoad } from '../../loadgen/run.js';
import { alignColumns } from '../../report/compare/text.js';
import { formatMetric, metricLabel, signedPct } from '../../report/compare/view.js';
import { formatPct } from '../../report/units.js';
import { writeAtomic, writeRunReports } from '../../report/writer.js';
import type { Io } from '../io.js';
import { toolVersion } from '../version.js';
import { pinningPlan } from './run.js';
import { preflightRun } from '../checks.js';

/** File name of the calibration inside the run's result folder. */
export const CALIBRATION_FILE = 'calibration.json';

/** The noise floor for a terminal: per metric the floor, then per case and metric the figures behind it. */
export function renderCalibration(c: Calibration): string {
  const out = [
    `A/A noise floor of ${c.runtime}: ${c.repeatPerGroup} + ${c.repeatPerGroup} interleaved repetitions (odd = A, even = B)`,
    `  ${c.environment.cpuModel}, ${c.environment.logicalCpus} CPUs, ${c.environment.kernel}`,
    '',
    'Noise floor per metric (largest over the cases): a threshold below twice this cannot be told from noise',
  ];
  const ids = Object.keys(c.floorPct) as (keyof typeof c.floorPct)[];
  out.push(...alignColumns(['metric', 'noise', '2× noise'], ids.map((id) => [metricLabel(metricDef(id)), formatPct(c.floorPct[id]!), formatPct(2 * c.floorPct[id]!)]), ['left', 'right', 'right']), '');
  out.push('Per case: median, robust spread (1.4826 × MAD / median), shift B − A with its 95% CI, the A/A verdict');
  out.push(
    ...alignColumns(
      ['case', 'metric', 'median', 'spread', 'shift B−A', '95% CI', 'A/A verdict'],
      c.rows.map((r) => [r.case, metricLabel(metricDef(r.metric)), formatMetric(r.metric, r.median), formatPct(r.spreadPct), signedPct(r.shiftPct), `[${signedPct(r.lowPct)}, ${signedPct(r.highPct)}]`, r.verdict]),
      ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
    ),
    '',
  );
  if (c.falseChanges > 0) out.push(`warning: ${c.falseChanges} A/A row(s) were called changed: this machine drifts between identical runs; its comparisons need wider thresholds`, '');
  return `${out.join('\n')}\n`;
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/**
 * `bench calibrate`: one runtime against itself. The orchestrator runs 2N
 * repetitions (repetition-major, so consecutive repetitions of a case are
 * minutes apart at most and A and B alternate); odd repetitions are group A,
 * even ones group B (core/calibrate.ts). Writes the run's reports and
 * calibration.json to a result folder; the table goes to stderr, the
 * calibration JSON to stdout with --json.
 */
export async function calibrateCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const version = toolVersion();
  // A version (`bun@1.3.14`) or a plain id (its pinned default), resolved like bench run's after every check.
  const versionDeps = runtimeDeps(io, true);
  const asked = labelRequest(String(opts['runtime']), versionDeps.defaultNode);
  assertLoadable(asked, versionDeps.facts);
  const runtime = asked.label;
  const perGroup = opts['repeat'] as number;
  const [environment, statuses] = await Promise.all([captureEnvironment(io.host, version), probeRuntimes(io.host)]);
  const st = statuses.find((s) => s.id === asked.registryId)!;
  if (!st.usable && (asked.registryId !== asked.bare || asked.request.spec.kind === 'system')) throw new BenchError('E_RUNTIME_UNAVAILABLE', `runtime ${runtime} cannot run here: ${st.reason}`, { hint: st.fix ?? 'run `bench doctor`' });

  const names = opts['scenario'] as string[] | undefined;
  let scenarios: Scenario[] = names?.length ? names.map((n) => resolveScenario(n, io.cwd)) : builtinScenarios().filter((s) => s.default);
  if (!names?.length) {
    // A Socket.IO stack runs the text twins of the binary echo scenarios (core/stack-plan.ts).
    const d = defaultScenariosFor(scenarios, [runtime], (n) => resolveScenario(n, io.cwd));
    scenarios = d.scenarios;
    if (d.note) io.stderr.write(`note: ${d.note}\n`);
  }
  const quick = opts['quick'] === true || (!names?.length && opts['full'] !== true);
  if (quick) scenarios = scenarios.map(applyQuick);
  const warmup = opts['warmup'] as number | undefined;
  const duration = opts['duration'] as number | undefined;
  scenarios = scenarios.map((s) => ({ ...s, ...(warmup !== undefined ? { warmupSec: warmup } : {}), ...(duration !== undefined ? { durationSec: duration } : {}) }));
  const pins = pinningPlan(environment.allowedCpus, opts['serverCpus'] as string | undefined, opts['loadgenCpus'] as string | undefined);
  const label = `calibrate-${runtime}`;
  const plan: RunPlan = {
    runtimes: [runtime],
    cases: scenarios.flatMap(expandCases),
    repeat: 2 * perGroup,
    seed: opts['seed'] as number,
    quick,
    serverCpus: pins.server,
    loadgenCpus: pins.loadgen,
    referenceRuntime: runtime,
    client: opts['client'] as RunPlan['client'],
    workers: (opts['workers'] as number | undefined) ?? (pins.loadgen ? expandCpuList(pins.loadgen).length : 1),
    label,
    commandLine: ['bench', ...io.argv],
  };
  const outDir = path.resolve(io.cwd, String(opts['out']), `${utcStamp(new Date())}-${label}`);
  await preflightRun(opts, plan, outDir);
  const runs = await resolveRunRuntimes([asked], versionDeps);
  plan.runtimes = runs.map((r) => r.label);
  plan.referenceRuntime = plan.runtimes[0]!;
  plan.binaries = serverBinaries(runs);
  environment.runtimes = runtimeEntries(runs, environment.runtimes);
  io.stderr.write(`bench calibrate: ${runtime} × ${plan.cases.map((c) => c.name).join(', ')} × ${plan.repeat} repetitions (${perGroup} per group)\nresults: ${outDir}\n`);

  const abort = new AbortController();
  const unsubscribe = io.onSignal(() => abort.abort());
  let saving: Promise<unknown> = Promise.resolve();
  const save = (r: RunResult) => {
    const snapshot = JSON.parse(JSON.stringify(r)) as RunResult;
    saving = saving.then(() => writeRunReports(outDir, snapshot));
    return saving as Promise<void>;
  };
  let result: RunResult;
  try {
    result = await runBenchmark(plan, { host: io.host, environment, toolVersion: version, startServer, startCommand, runLoad, save, signal: abort.signal });
    await saving;
  } finally {
    unsubscribe();
  }
  if (result.status === 'interrupted') {
    io.stderr.write('interrupted: no calibration written\n');
    return ExitCode.interrupted;
  }
  const calibration = calibrate(result);
  await writeAtomic(path.join(outDir, CALIBRATION_FILE), `${JSON.stringify(calibration, null, 2)}\n`);
  io.stderr.write(renderCalibration(calibration));
  io.stderr.write(`calibration written to ${path.join(outDir, CALIBRATION_FILE)} (use it with bench compare --noise)\n`);
  if (opts['json']) io.stdout.write(`${JSON.stringify(calibration, null, 2)}\n`);
  return result.cells.some((c) => c.status === 'errored') ? ExitCode.runFailed : ExitCode.ok;
}
