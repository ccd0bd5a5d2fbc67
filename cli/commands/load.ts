import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { quote } from '../../base/validate.js';
import { readMachineFacts } from '../../core/environment.js';
import { readKernelFacts, readLoadHostFacts } from '../../core/kernel-limits.js';
import { loadPlanFor } from '../../core/run.js';
import { applyQuick, expandCases, resolveScenario, type ScenarioCase } from '../../core/scenario.js';
import { SEGMENT_RESULT_KIND, SEGMENT_RESULT_VERSION, type SegmentResult } from '../../core/segment-result.js';
import { formatSegmentResult } from '../../k8s/collect.js';
import { runLoad } from '../../loadgen/run.js';
import { modelOf } from '../../loadgen/models/index.js';
import { runSegment } from '../../loadgen/segment-run.js';
import { formatSegment, segmentShare, type Segment } from '../../loadgen/segment.js';
import type { LoadModel, LoadPlan, LoadResult } from '../../loadgen/types.js';
import { renderLoadSummary } from '../../report/load-summary.js';
import { expandCpuList } from '../../base/cpus.js';
import type { Io } from '../io.js';
import { checkCpuList, checkWsUrl, formatKernelLimits, preflightLoad, segmentKernelLimits, throwFindings, type Finding } from '../checks.js';
import { toolVersion } from '../version.js';

/** The load model the flags describe: --idle, --publishers (broadcast), --rate (open) or a closed loop. */
export function modelFromFlags(opts: Record<string, unknown>): LoadModel {
  const rate = opts['rate'] as number | undefined;
  if (opts['idle']) return { model: 'idle' };
  if (opts['publishers'] !== undefined) {
    if (rate === undefined) throw new BenchError('E_USAGE', '--publishers needs --rate (messages per second per publisher)', { hint: 'for example --publishers 10 --rate 50' });
    return { model: 'broadcast', publishers: opts['publishers'] as number, ratePerSecPerPublisher: rate, rooms: 1 };
  }
  if (rate !== undefined) return { model: 'open', ratePerSec: rate, arrivals: opts['arrivals'] as 'constant' | 'poisson' };
  return { model: 'closed', depth: opts['depth'] as number };
}

/** Exit 3 when the server lost, broke or refused anything; else 0. */
function exitOf(r: LoadResult): number {
  const d = r.delivery;
  const closed = Object.values(r.closes.codes).reduce((a, b) => a + b, 0);
  return d.lost + d.corrupted + d.duplicated + d.outOfOrder + d.misdelivered + closed + r.connectionsFailed > 0 ? ExitCode.runFailed : ExitCode.ok;
}

function progressOf(io: Io) {
  return io.stderr.isTTY
    ? { onProgress: (p: { phase: string; connectionsOpen: number; recvPerSec: number }) => io.stderr.write(`\r\x1b[2K${p.phase} · ${p.connectionsOpen} open · ${Math.round(p.recvPerSec).toLocaleString('en-US')} msg/s`) }
    : {};
}

export async function loadCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  if (opts['scenario'] !== undefined) return scenarioLoad(opts, args, io);
  for (const flag of ['segment', 'startAt', 'target', 'case', 'quick'] as const) {
    if (opts[flag] !== undefined) {
      const name = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new BenchError('E_USAGE', `${name}: needs --scenario (the load of a scenario case)`, { hint: 'bench load --scenario FILE --target ws://HOST:PORT [--segment I/N --start-at TIME]' });
    }
  }
  if (opts['url'] === undefined) {
    throw new BenchError('E_USAGE', '--url: required (or --scenario with --target)', { hint: 'bench load --url ws://127.0.0.1:9001/echo, or bench load --scenario echo --target ws://127.0.0.1:9001' });
  }
  const url = String(opts['url']);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BenchError('E_USAGE', `--url: not a URL: ${quote(url)}`, { hint: 'for example ws://127.0.0.1:9001/echo' });
  }
  if (parsed.protocol !== 'ws:') throw new BenchError('E_USAGE', `--url: must start with ws:// (got ${parsed.protocol}//)`, { hint: 'wss:// is not supported; for HTTP use autocannon' });
  const load = modelFromFlags(opts);
  const problems = modelOf(load).checkConnections?.(load, opts['connections'] as number, '--connections') ?? [];
  if (problems.length > 0) throw new BenchError('E_USAGE', problems.join('; ').replace(/^load\.publishers/, '--publishers'), { hint: 'see `bench load --help`' });
  const cpus = opts['cpus'] as string | undefined;
  const plan: LoadPlan = {
    url,
    connections: opts['connections'] as number,
    load,
    message: { kind: opts['text'] ? 'text' : 'binary', size: { type: 'fixed', bytes: opts['size'] as number } },
    warmupMs: (opts['warmup'] as number) * 1000,
    durationMs: (opts['duration'] as number) * 1000,
    drainTimeoutMs: 2000,
    connect: { maxInFlight: 256, timeoutMs: 10_000 },
    workers: opts['workers'] as number,
    ...(cpus ? { cpus } : {}),
    client: opts['client'] as 'raw' | 'ws',
    seed: (opts['seed'] as number | undefined) ?? 1,
  };
  if (cpus && expandCpuList(cpus).length === 0) throw new BenchError('E_USAGE', `--cpus: no CPU in "${cpus}"`);
  preflightLoad(opts, plan);
  return runWhole(plan, opts, io);
}

/** Runs a whole plan in this process: the summary on stderr, `{ plan, result }` with --json (or --out FILE). */
async function runWhole(plan: LoadPlan, opts: Record<string, unknown>, io: Io): Promise<number> {
  const abort = new AbortController();
  const unsubscribe = io.onSignal(() => abort.abort());
  try {
    const result = await runLoad(plan, { nodePath: io.host.nodePath, signal: abort.signal, ...progressOf(io) });
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[2K');
    io.stderr.write(renderLoadSummary(plan, result));
    const json = JSON.stringify({ plan, result }, null, 2) + '\n';
    if (opts['json']) io.stdout.write(json);
    if (typeof opts['out'] === 'string') await writeOut(io, opts['out'], json);
    return exitOf(result);
  } finally {
    unsubscribe();
  }
}

async function writeOut(io: Io, file: string, text: string): Promise<void> {
  const p = path.resolve(io.cwd, file);
  try {
    await writeFile(p, text);
  } catch (e) {
    throw new BenchError('E_USAGE', `--out: cannot write ${quote(p, 200)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'give --out a file in a folder you can write to' });
  }
}

/** The flags that shape a --url load; with --scenario the scenario shapes it, so giving one is a mistake. */
const URL_ONLY_FLAGS = [
  ['url', '--url'],
  ['rate', '--rate'],
  ['publishers', '--publishers'],
  ['idle', '--idle'],
  ['text', '--text'],
] as const;

/** The scenario case the flags name: --case, or the scenario's only case. */
function chooseCase(opts: Record<string, unknown>, io: Io): ScenarioCase {
  let scenario = resolveScenario(String(opts['scenario']), io.cwd);
  if (opts['quick']) scenario = applyQuick(scenario);
  const cases = expandCases(scenario);
  const name = opts['case'] as string | undefined;
  if (name !== undefined) {
    const c = cases.find((x) => x.name === name);
    if (!c) throw new BenchError('E_USAGE', `--case: ${quote(name)} is not a case of ${scenario.name}`, { hint: `its cases: ${cases.map((x) => x.name).join(', ')}` });
    return c;
  }
  if (cases.length > 1) throw new BenchError('E_USAGE', `--case: ${scenario.name} has ${cases.length} cases; name one`, { hint: `its cases: ${cases.map((x) => x.name).join(', ')}` });
  return cases[0]!;
}

/**
 * `bench load --scenario … --target …`: the load side of one scenario case against a server that runs elsewhere,
 * whole, or as segment I of N (`--segment I/N --start-at TIME`, loadgen/segment-run.ts) that writes its segment
 * result (core/segment-result.ts) between markers on stdout (k8s/collect.ts) and, with --out, to a file.
 */
async function scenarioLoad(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const findings: Finding[] = [];
  for (const [key, flag] of URL_ONLY_FLAGS) {
    if (opts[key] !== undefined) findings.push({ field: flag, message: 'shapes a --url load; with --scenario the scenario does', fix: `drop ${flag}, or --scenario` });
  }
  if (opts['target'] === undefined) findings.push({ field: '--target', message: 'required with --scenario: the server, ws://HOST:PORT (the scenario gives the route)' });
  else findings.push(...checkWsUrl('--target', String(opts['target'])));
  const segment = opts['segment'] as Segment | undefined;
  const startAtMs = opts['startAt'] as number | undefined;
  if (segment !== undefined && startAtMs === undefined) findings.push({ field: '--segment', message: 'needs --start-at: every segment starts its warmup at the same agreed instant', fix: 'add --start-at with the same time on every segment' });
  if (startAtMs !== undefined && segment === undefined) findings.push({ field: '--start-at', message: 'is the agreed start of segments: it needs --segment I/N', fix: 'add --segment 0/1 to run the whole scenario at that time' });
  findings.push(...checkCpuList('--cpus', opts['cpus'] as string | undefined, readMachineFacts()));
  throwFindings(findings);
  const c = chooseCase(opts, io);
  const def = modelOf(c.model);
  if (def.runsAs(c.model) !== 'load' || def.name === 'http') {
    throw new BenchError('E_USAGE', `--scenario: ${c.scenario.name} uses the ${c.model.model} model (${def.describe(c.model)}), which bench load cannot run against a --target`, { hint: 'run it with bench run' });
  }
  const target = new URL(String(opts['target']));
  const url = `ws://${target.host}${c.scenario.route}`;
  const cpus = opts['cpus'] as string | undefined;
  const plan = loadPlanFor(c, url, { workers: opts['workers'] as number, loadgenCpus: cpus ?? null, client: opts['client'] as 'raw' | 'ws', seed: (opts['seed'] as number | undefined) ?? 1 });
  if (segment === undefined) {
    const { findings: refusals } = segmentKernelLimits({ field: `scenario "${c.scenario.name}": connections`, connections: plan.connections, workers: plan.workers }, readKernelFacts());
    throwFindings(refusals);
    return runWhole(plan, opts, io);
  }
  if (!def.segmentable(c.model)) {
    throw new BenchError('E_USAGE', `--segment: the ${c.model.model} model (${def.describe(c.model)}) does not split into independent segments`, { hint: 'run it whole, with bench run' });
  }
  return segmentLoad(c, plan, segment, startAtMs!, opts, io);
}

/** One segment: kernel limits checked and reported, the segment run, its result printed (and written with --out). */
async function segmentLoad(c: ScenarioCase, plan: LoadPlan, segment: Segment, startAtMs: number, opts: Record<string, unknown>, io: Io): Promise<number> {
  const label = formatSegment(segment);
  const share = segmentShare(plan, segment);
  const workers = Math.max(1, Math.min(plan.workers, share.connections.count));
  const { limits, findings } = segmentKernelLimits({ field: `--segment ${label}: its ${share.connections.count.toLocaleString('en-US')} connections`, connections: share.connections.count, workers }, readKernelFacts());
  io.stderr.write(`segment ${label}: connections ${share.connections.first}–${share.connections.first + share.connections.count - 1} of ${plan.connections}, seed ${share.seed}; kernel limits:\n${formatKernelLimits(limits)}`);
  throwFindings(findings);
  const abort = new AbortController();
  const unsubscribe = io.onSignal(() => abort.abort());
  try {
    const run = await runSegment(plan, segment, startAtMs, { nodePath: io.host.nodePath, signal: abort.signal, ...progressOf(io) });
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[2K');
    io.stderr.write(renderLoadSummary(run.plan, run.load));
    const deferred = run.workers.reduce((a, w) => a + (w.deferred ?? []).reduce((b, e) => b + e.received, 0), 0);
    if (deferred > 0) {
      io.stderr.write(
        `segment ${label}: ${deferred.toLocaleString('en-US')} of its arrivals are from other segments' publishers: what those owed (expected, lost) is counted by bench merge, which knows every segment's sends\n`,
      );
    }
    const ck = run.clock;
    io.stderr.write(
      `segment ${label}: ready ${Math.round(ck.readyMarginMs)} ms before the start; wall clock − monotonic clock ${ck.wallMinusMonotonicMs.toFixed(1)} ms, moved ${ck.wallStepMs.toFixed(1)} ms during the run (Date.now counts whole milliseconds)\n`,
    );
    const result: SegmentResult = {
      schemaVersion: SEGMENT_RESULT_VERSION,
      kind: SEGMENT_RESULT_KIND,
      tool: { name: 'bench', version: toolVersion() },
      commandLine: ['bench', ...io.argv],
      segment,
      scenario: c.scenario,
      case: c.name,
      server: { label: String(opts['serverLabel'] ?? 'custom'), url: plan.url },
      seed: plan.seed,
      plan: run.plan,
      share: run.share,
      host: readLoadHostFacts(io.host),
      kernel: limits,
      clock: run.clock,
      load: run.load,
      workers: run.workers,
      sentBySender: run.sentBySender,
    };
    // One write: the markers and the JSON line must not interleave with anything else on stdout.
    io.stdout.write(formatSegmentResult(segment, result));
    if (typeof opts['out'] === 'string') await writeOut(io, opts['out'], JSON.stringify(result) + '\n');
    // The segment ran to its end: whether the server lost anything is the merge's to say (it knows every segment's sends).
    return ExitCode.ok;
  } finally {
    unsubscribe();
  }
}
