// One cell (runtime × case × repetition) from start to end: a fresh simulated
// upstream when the model needs one, a fresh server, its identity and settings
// checked from outside, the load (or the stepped search), the server's /proc
// readings at the phase boundaries, the figures, and everything stopped however
// the cell ends. The orchestrator (core/run.ts) runs cells in order and saves.
import { sameCpus } from '../base/cpus.js';
import { BenchError, isBenchError } from '../base/errors.js';
import { modelOf } from '../loadgen/models/index.js';
import type { LoadResult } from '../loadgen/types.js';
import type { CellResult, ParityState, VoiceMetrics, Warning } from '../schema/result.js';
import { CONTRACT_SETTINGS, SHUTDOWN_GRACE_MS } from '../servers/settings.js';
import { runCapacityCell } from './capacity.js';
import { runCeilingCell } from './ceiling.js';
import type { ServerHandle, UpstreamHandle } from './launcher.js';
import { computeCellMetrics, type PhaseSamples } from './metrics.js';
import { describeDifferences, diffManifests } from './parity.js';
import { exePath, threadAffinities } from './procfs.js';
import { loadPlanFor, verifyRuntime, type LifecycleStep, type RunDeps, type RunPlan } from './run.js';
import { protocolOf, registryIdOf, type RuntimeId } from './runtimes.js';
import { verifyStack } from './stack-parity.js';
import { protocolFor } from './stack-plan.js';
import { cpuUsBetween, startSampler, type ProcSample, type Sampler } from './sampler.js';
import type { ScenarioCase } from './scenario.js';
import { fetchUpstreamStats, relayDifferences } from './voice.js';

/** A zero reading, for a server whose pid is unknown: nothing of it can be sampled. */
const UNOBSERVED: ProcSample = { tMs: 0, cpuUserUs: 0, cpuSystemUs: 0, rssBytes: 0, peakRssBytes: 0, threads: 0, fds: 0, kernelTcpMemBytes: 0 };

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one cell; throws (a BenchError) when it cannot complete, leaving nothing running. */
export async function runCell(cell: CellResult, c: ScenarioCase, plan: RunPlan, deps: RunDeps, parity: ParityState): Promise<void> {
  const upstreamConfig = modelOf(c.model).upstream?.(c.model);
  let upstream: UpstreamHandle | undefined;
  if (upstreamConfig) {
    if (plan.external?.kind === 'target') {
      throw new BenchError('E_USAGE', `${c.name} needs a server that relays to bench's simulated upstream, which a running --target was not started with`, {
        hint: 'use --server-cmd (bench passes UPSTREAM_URL to the command) or a built-in runtime',
      });
    }
    // A fresh upstream per cell, like the server: no session or latency-draw state carries over.
    const cpus = plan.upstreamCpus ?? plan.loadgenCpus;
    upstream = await deps.startUpstream!({ config: upstreamConfig, ...(cpus ? { cpus } : {}), hostInfo: deps.host });
  }
  try {
    await serveCell(cell, c, plan, deps, parity, upstream);
  } finally {
    // After the server: it closes its upstream legs first, so the upstream sees clean closes.
    await upstream?.stop(deps.signal?.aborted ? 500 : undefined);
  }
}

/** The server's /proc sampler and baseline, once taken (the baseline is taken while the load generator starts). */
interface Probe {
  sampler?: Sampler;
  baseline?: ProcSample;
}

/** Where the cell's server is: one bench started (with its handle), or a --target it can only reach. */
interface Served {
  server: ServerHandle | undefined;
  host: string;
  port: number;
  pid: number | undefined;
}

async function serveCell(cell: CellResult, c: ScenarioCase, plan: RunPlan, deps: RunDeps, parity: ParityState, upstream: UpstreamHandle | undefined): Promise<void> {
  const step = (s: LifecycleStep) => deps.onEvent?.({ type: 'lifecycle', cellId: cell.id, step: s });
  step('spawn');
  const spawnedAt = performance.now();
  const served = await launch(cell.runtime, plan, deps, upstream);
  const { server, pid } = served;
  const probe: Probe = {};
  try {
    step('ready');
    verify(cell, served, plan, parity, upstream, performance.now() - spawnedAt);
    step('verified');
    // The server's baseline: after it settled from its start, before any load. Idle and at rest.
    const takeBaseline = async (): Promise<ProcSample> => {
      await delay(deps.baselineSettleMs ?? 200);
      if (pid !== undefined) probe.sampler = startSampler(pid, 250);
      const baseline = probe.sampler ? probe.sampler.sampleNow() : UNOBSERVED;
      if (!baseline) throw serverGone(cell.runtime, server, 'before the load started');
      probe.baseline = baseline;
      step('baseline');
      return baseline;
    };
    const url = `ws://${served.host}:${served.port}${c.scenario.route}`;
    if (modelOf(c.model).runsAs(c.model) === 'capacity') {
      const baseline = await takeBaseline();
      await runCapacityCell({ cell, scenarioCase: c, plan, deps, url, pid, server, sampler: probe.sampler, baseline, upstream, step });
      return;
    }
    if (modelOf(c.model).runsAs(c.model) === 'search') {
      const baseline = await takeBaseline();
      await runCeilingCell({ cell, scenarioCase: c, plan, deps, url, pid, server, sampler: probe.sampler, baseline, step });
      return;
    }
    const { load, phases, upstreamMarks } = await measure(cell, c, url, plan, deps, served, probe, takeBaseline, upstream, step);
    const up = upstream ? await upstreamFiguresOf(upstream, upstreamMarks, load.measuredMs, plan, deps) : undefined;
    const { metrics, warnings } = computeCellMetrics(load, phases, c.model, up ? { upstream: up } : {});
    cell.metrics = metrics;
    cell.warnings.push(...warnings);
    cell.raw = {
      latencyEncoded: load.latencyEncoded,
      connectEncoded: load.connectEncoded,
      ...(load.lastRecipientEncoded ? { lastRecipientEncoded: load.lastRecipientEncoded } : {}),
      timeline: load.timeline,
      samples: phases.all,
      phasesMs: { connectedAt: phases.connected.tMs, measureStart: phases.measureStart.tMs, measureEnd: phases.measureEnd.tMs },
    };
  } catch (e) {
    // Attach what the server said last: often the only clue to why a cell failed.
    if (isBenchError(e) && e.code !== 'E_SERVER_EXITED' && server?.stderrTail()) {
      throw new BenchError(e.code, e.message, { details: [...e.details, ...server.stderrTail().split('\n').slice(-8).map((l) => `server stderr: ${l}`)], ...(e.hint ? { hint: e.hint } : {}) });
    }
    throw e;
  } finally {
    probe.sampler?.stop();
    step('stop');
    // Interrupted: the whole exit must fit in 2 s, so the server gets less grace than the contract's 2 s.
    const r = server ? await server.stop(deps.signal?.aborted ? 500 : undefined) : { forced: false };
    if (r.forced) cell.warnings.push({ code: 'server-killed', graceMs: deps.signal?.aborted ? 500 : SHUTDOWN_GRACE_MS });
    step('gone');
  }
}

/** Starts the cell's server: a registry runtime, a user's command, or nothing for a --target already running. */
async function launch(label: string, plan: RunPlan, deps: RunDeps, upstream: UpstreamHandle | undefined): Promise<Served> {
  const ext = plan.external;
  if (ext?.kind === 'target') {
    const u = new URL(ext.url);
    return { server: undefined, host: u.hostname, port: Number(u.port || 80), pid: ext.pid };
  }
  const env = upstream ? { UPSTREAM_URL: upstream.url } : undefined;
  const cpus = plan.serverCpus ? { cpus: plan.serverCpus } : {};
  const server =
    ext?.kind === 'command'
      ? await deps.startCommand!({ command: ext.command, label, hostInfo: deps.host, ...cpus, ...(env ? { env } : {}) })
      : await deps.startServer({ runtime: registryIdOf(label) as RuntimeId, port: 0, host: '127.0.0.1', hostInfo: deps.host, ...cpus, ...(env ? { env } : {}) });
  return { server, host: server.host, port: server.port, pid: server.pid };
}

/**
 * Equivalence and identity first: the runtime checked from /proc (registry servers), the effective settings
 * against the contract and every other server (a difference is a refusal), a stack's Engine.IO settings
 * against the other stacks' (core/stack-parity.ts), the relay against this cell's upstream, the pinning of
 * every thread; then `cell.server` records what was found.
 * @throws BenchError E_RUNTIME_MISMATCH, E_PARITY_MISMATCH
 */
function verify(cell: CellResult, served: Served, plan: RunPlan, parity: ParityState, upstream: UpstreamHandle | undefined, startupMs: number): void {
  const { server, pid } = served;
  const label = cell.runtime;
  const ext = plan.external;
  const exe = ext ? (pid ? (exePath(pid) ?? 'unknown') : 'unknown') : verifyRuntime(registryIdOf(label) as RuntimeId, pid!);
  const ready = server?.ready ?? null;
  if (ready) {
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
    verifyStack(label, ext ? undefined : protocolOf(label), ready.stack, parity);
    const relayDiffs = upstream ? relayDifferences(label, ready.relay, upstream.url) : [];
    if (relayDiffs.length > 0) {
      throw new BenchError('E_PARITY_MISMATCH', `${label}'s /relay route is not the contract's`, {
        details: relayDiffs,
        hint: 'every server relays to the upstream bench started (UPSTREAM_URL) with servers/settings.ts RELAY_CONNECT_TIMEOUT_MS',
      });
    }
  } else {
    cell.warnings.push({ code: 'parity-unknown' });
  }
  cell.warnings.push(...observationWarnings(served, plan));
  cell.server = {
    pid: pid ?? 0,
    runtime: ready?.runtime ?? (exe !== 'unknown' ? exe.split('/').at(-1)! : 'unknown'),
    runtimeVersion: ready?.runtimeVersion ?? 'unknown',
    library: ready?.library ?? 'unknown',
    libraryVersion: ready?.libraryVersion ?? 'unknown',
    exe,
    settings: ready?.settings ?? null,
    cpus: server ? plan.serverCpus : null,
    startupMs: Math.round(startupMs),
    ...(upstream && ready?.relay ? { relay: ready.relay } : {}),
    ...(ready?.stack ? { stack: ready.stack } : {}),
  };
}

/** What could not be observed or pinned about the server, as warnings. */
function observationWarnings(served: Served, plan: RunPlan): Warning[] {
  const { server, pid } = served;
  const out: Warning[] = [];
  if (server?.pidNote) out.push({ code: 'server-unobserved', reason: 'no-listener', port: served.port, pid: server.pid });
  if (pid === undefined) {
    out.push({ code: 'server-unobserved', reason: 'no-pid' });
  } else if (plan.serverCpus && server) {
    const aff = threadAffinities(pid);
    const stray = [...aff].filter(([, cpus]) => !sameCpus(cpus, plan.serverCpus!));
    if (stray.length > 0) out.push({ code: 'server-cpu-unpinned', reason: 'stray-threads', stray: stray.length, threads: aff.size, cpus: plan.serverCpus });
  } else {
    out.push({ code: 'server-cpu-unpinned', reason: server ? 'not-pinned' : 'not-started' });
  }
  return out;
}

/** Runs the load, sampling the server (and the upstream) exactly at the phase boundaries; a server that dies ends it. */
async function measure(
  cell: CellResult,
  c: ScenarioCase,
  url: string,
  plan: RunPlan,
  deps: RunDeps,
  served: Served,
  probe: Probe,
  takeBaseline: () => Promise<ProcSample>,
  upstream: UpstreamHandle | undefined,
  step: (s: LifecycleStep) => void,
): Promise<{ load: LoadResult; phases: PhaseSamples; upstreamMarks: { start?: ProcSample; end?: ProcSample } }> {
  const { server } = served;
  const marks: Partial<Record<'connected' | 'measureStart' | 'measureEnd', ProcSample>> = {};
  // The upstream is sampled at the window's edges only: its CPU shows whether it could have been the limit.
  const upstreamSampler = upstream ? startSampler(upstream.pid, 1000) : undefined;
  const upstreamMarks: { start?: ProcSample; end?: ProcSample } = {};
  const serverDied = server
    ? server.exited.then((r) => {
        throw serverGone(cell.runtime, server, `during the load (${r.signal ?? `code ${r.code}`})`);
      })
    : new Promise<never>(() => {});
  serverDied.catch(() => {});
  const at = (p: 'connected' | 'measure-start' | 'measure-end' | 'done') => {
    const s = probe.sampler ? probe.sampler.sampleNow() : UNOBSERVED;
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
  };
  try {
    const load = await Promise.race([
      deps.runLoad(loadPlanFor(c, url, plan, protocolFor(cell.runtime, plan)), {
        nodePath: deps.host.nodePath,
        ...(deps.signal ? { signal: deps.signal } : {}),
        onProgress: (p) => deps.onEvent?.({ type: 'progress', cellId: cell.id, progress: p }),
        onPhase: at,
        // The baseline settles while the load generator's workers start.
        beforeConnect: async () => void (await takeBaseline()),
      }),
      serverDied,
    ]);
    step('drain-done');
    const { sampler } = probe;
    const baseline = probe.baseline ?? UNOBSERVED;
    const end = sampler ? (sampler.sampleNow() ?? sampler.samples[sampler.samples.length - 1]!) : UNOBSERVED;
    const all = sampler ? sampler.stop() : [UNOBSERVED];
    const phases: PhaseSamples = {
      baseline,
      connected: marks.connected ?? baseline,
      measureStart: marks.measureStart ?? marks.connected ?? baseline,
      measureEnd: marks.measureEnd ?? end,
      end,
      all,
    };
    return { load, phases, upstreamMarks };
  } finally {
    upstreamSampler?.stop();
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

function serverGone(label: string, server: ServerHandle | undefined, when: string): BenchError {
  return new BenchError('E_SERVER_EXITED', `the ${label} server exited ${when}`, {
    details: (server?.stderrTail() ?? '').split('\n').slice(-10).map((l) => `server stderr: ${l}`),
    hint: server && !server.ready ? 'run the server command yourself to see why' : `run \`bench serve --runtime ${label}\` to reproduce`,
  });
}
