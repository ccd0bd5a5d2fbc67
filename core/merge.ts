import { BenchError } from '../base/errors.js';
import { resolveDeferred } from '../loadgen/accounting.js';
import type { WorkerResult } from '../loadgen/ipc.js';
import { mergeWorkerResults } from '../loadgen/run.js';
import { formatSegment, segmentOfId } from '../loadgen/segment.js';
import type { LoadPlan, LoadResult } from '../loadgen/types.js';
import { RESULT_SCHEMA_VERSION, type CellResult, type ClockOffsetEstimate, type RunResult, type SaturationReason, type SaturationVerdict, type SegmentsInfo, type Warning } from '../schema/result.js';
import { decideAll, FIXED_SAMPLE } from './decide.js';
import { computeCellMetrics, type PhaseSamples } from './metrics.js';
import type { ScenarioCase } from './scenario.js';
import { parseSegmentResult, type SegmentResult } from './segment-result.js';
import { parseServerSample } from './server-sample.js';
import { summarizeCells } from './summarize.js';
import { stableJson } from './compare.js';

/**
 * `bench merge`: N load segments' results (core/segment-result.ts) as one result, exactly what one load
 * generator with all their workers would have measured. Pure.
 *
 * - **The merge of segments is the merge of workers.** Each segment ships its workers' raw results, so the
 *   segments add up through the same code that adds up the workers of one run (loadgen/run.ts
 *   mergeWorkerResults): HDR histograms added (exact percentiles of the union, loadgen/histogram.ts),
 *   counts summed, timelines bucket by bucket, the models' own parts (a broadcast's time to the last
 *   recipient per message, over every segment; slow consumers; churn; voice).
 * - **Timelines on wall-clock seconds.** A worker's bucket k holds what arrived in second k after
 *   `--start-at + warmup` on its machine's wall clock (loadgen/segment-run.ts converts the agreed instant into
 *   its workers' clock), so bucket k of every segment is the same wall-clock second, as far as the machines'
 *   clocks agree (what `segments.offsets` estimates).
 * - **Delivery across segments, each delivery once.** A broadcast message is counted where it was received: a
 *   segment accounts for the streams of its own publishers to its own members, and defers the streams of other
 *   segments' publishers (loadgen/accounting.ts deferStreams) because it cannot know what they sent. Here every
 *   segment's sent counts are known: the deferred streams are completed (resolveDeferred) into their worker's
 *   delivery before the workers are merged. A message published in segment 2 and lost at a member in segment 5
 *   is one lost delivery, counted at segment 5's worker, once.
 * - **The worst saturation verdict**: the merged run was load-generator-bound if any segment was, for each of
 *   its reasons (judged on its own machine's CPUs; re-judging across machines would add up CPUs of different
 *   hosts that share a number).
 * - **Clocks**: each segment's readiness and wall-clock step, and for a broadcast the offset between segments
 *   estimated from their first arrivals of the same messages; each beyond what the figures can bear is a
 *   `clock-offset` warning (CLOCK_BOUNDS).
 */

/** What clock disagreement the figures can bear, and why. */
export const CLOCK_BOUNDS = {
  /**
   * Share of the merged latency p50 a cross-segment offset may reach: a broadcast delivery between segments is
   * timed from one machine's clock to another's, so an offset adds to every such latency; 5% is within the run
   * to run spread of latency percentiles on a quiet machine.
   */
  latencyShare: 0.05,
  /** Share of the measured window a segment's window may be shifted by (late start, clock step): 1% of the messages move to a neighbouring window. */
  windowShare: 0.01,
} as const;

/** Renumbers a segment's worker ids in a saturation reason (segment-local 0… → global). */
function renumber(r: SaturationReason, offset: number): SaturationReason {
  switch (r.kind) {
    case 'cpu':
      return { ...r, workers: r.workers.map((w) => w + offset) };
    case 'loop-delay':
    case 'schedule':
      return { ...r, worker: r.worker + offset };
  }
}

/** The worst of the segments' verdicts: saturated when any was, with every reason (workers renumbered). */
export function worstSaturation(verdicts: readonly { verdict: SaturationVerdict; workerOffset: number }[]): SaturationVerdict {
  const reasons = verdicts.flatMap((v) => v.verdict.reasons.map((r) => renumber(r, v.workerOffset)));
  const held = verdicts.flatMap((v) => (v.verdict.heldByServer ?? []).map((r) => renumber(r, v.workerOffset)));
  return { saturated: verdicts.some((v) => v.verdict.saturated), reasons, ...(held.length > 0 ? { heldByServer: held } : {}) };
}

/** A worker's result with its deferred streams completed against every segment's sent counts. */
function completeWorker(w: WorkerResult, sent: ReadonlyMap<number, number>, worker: number): WorkerResult {
  const { deferred, ...rest } = w;
  const out: WorkerResult = { ...rest, worker, delivery: { ...w.delivery } };
  if (deferred && deferred.length > 0) {
    const t = resolveDeferred(deferred, sent);
    out.delivery.expected += t.expected;
    out.delivery.lost += t.lost;
    out.delivery.misdelivered += t.unexpected;
  }
  if (w.slowConsumers) {
    const { deferred: slowDeferred, ...slow } = w.slowConsumers;
    out.slowConsumers = slow;
    if (slowDeferred && slowDeferred.length > 0) {
      const t = resolveDeferred(slowDeferred, sent);
      out.slowConsumers = { ...slow, expected: slow.expected + t.expected, missing: slow.missing + t.lost, received: slow.received + t.expected - t.lost };
    }
  }
  return out;
}

/** The median of a non-empty list, and its interquartile range (nearest-rank quartiles). */
function medianAndIqr(xs: number[]): { median: number; iqr: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, iqr: at(0.75) - at(0.25) };
}

/**
 * Clock offsets between segments from their first arrivals of the same broadcast messages: for each message
 * published in segment A (its sender's id says which) and heard in segment B, d = (earliest delivery latency in
 * B) − (earliest in A); both latencies are from the same send stamp, each arrival read on its own machine's
 * clock, so d = clock(B) − clock(A) plus the difference in when the server sent to the two (its fan-out order).
 * The median over messages per (A, B); its interquartile range bounds the fan-out part. A always hears its own
 * messages (a publisher is a member of its room). Empty when no message crossed segments.
 */
export function estimateClockOffsets(segments: readonly { index: number; workers: readonly WorkerResult[] }[], totalConnections: number): ClockOffsetEstimate[] {
  const count = segments.length;
  const firstBySegment = segments.map((s) => {
    const m = new Map<number, number>();
    for (const w of s.workers) {
      for (const e of w.lastRecipient ?? []) {
        if (e.minLatencyUs === undefined) continue;
        const key = Number(e.key);
        const prev = m.get(key);
        if (prev === undefined || e.minLatencyUs < prev) m.set(key, e.minLatencyUs);
      }
    }
    return m;
  });
  const diffs = new Map<string, number[]>();
  for (let b = 0; b < count; b++) {
    for (const [key, firstB] of firstBySegment[b]!) {
      const sender = Math.floor(key / 4294967296);
      if (sender >= totalConnections) continue;
      const a = segmentOfId(sender, totalConnections, count);
      if (a === b) continue;
      const firstA = firstBySegment[a]?.get(key);
      if (firstA === undefined) continue;
      const k = `${a}>${b}`;
      const list = diffs.get(k) ?? [];
      list.push((firstB - firstA) / 1000);
      diffs.set(k, list);
    }
  }
  return [...diffs]
    .map(([k, xs]) => {
      const [from, to] = k.split('>').map(Number) as [number, number];
      const { median, iqr } = medianAndIqr(xs);
      return { from, to, offsetMs: median, spreadMs: iqr, messages: xs.length };
    })
    .sort((x, y) => x.from - y.from || x.to - y.to);
}

/**
 * The clock warnings of a merge (see CLOCK_BOUNDS): a cross-segment offset beyond its share of the latency p50
 * and beyond the estimate's own spread (only for a model whose messages cross segments; on one machine, one
 * clock, the estimates are the fan-out order and stay inside their spread), a segment late or its wall clock
 * stepped beyond its share of the window. Pure.
 */
export function clockWarnings(
  parts: readonly { index: number; readyMarginMs: number; wallStepMs: number }[],
  offsets: readonly ClockOffsetEstimate[],
  o: { latencyP50Us: number; windowMs: number },
): Warning[] {
  const out: Warning[] = [];
  const latencyBoundMs = (o.latencyP50Us / 1000) * CLOCK_BOUNDS.latencyShare;
  const windowBoundMs = o.windowMs * CLOCK_BOUNDS.windowShare;
  for (const e of offsets) {
    // An offset inside the estimate's own spread cannot be told from the server's fan-out order: only one beyond both is one.
    if (Math.abs(e.offsetMs) > latencyBoundMs + e.spreadMs) out.push({ code: 'clock-offset', basis: 'cross-segment', segment: e.to, from: e.from, offsetMs: e.offsetMs, boundMs: latencyBoundMs });
  }
  for (const p of parts) {
    if (-p.readyMarginMs > windowBoundMs) out.push({ code: 'clock-offset', basis: 'late-start', segment: p.index, offsetMs: p.readyMarginMs, boundMs: windowBoundMs });
    if (Math.abs(p.wallStepMs) > windowBoundMs) out.push({ code: 'clock-offset', basis: 'wall-step', segment: p.index, offsetMs: p.wallStepMs, boundMs: windowBoundMs });
  }
  return out;
}

/**
 * The N segments of one run, checked to belong together: the same scenario case, server, count N, agreed
 * start and scenario seed; every index 0 … N − 1 exactly once.
 * @throws BenchError E_INVALID_RESULT listing every problem (a missing segment, a stranger, a duplicate)
 */
export function checkSegmentSet(parsed: readonly { name: string; result: SegmentResult }[]): void {
  const problems: string[] = [];
  const first = parsed[0]!.result;
  const n = first.segment.count;
  const seen = new Map<number, string>();
  for (const { name, result: r } of parsed) {
    const differs = (what: string, a: unknown, b: unknown) => {
      if (stableJson(a) !== stableJson(b)) problems.push(`${name}: ${what} ${JSON.stringify(b)} differs from ${parsed[0]!.name}'s ${JSON.stringify(a)}`);
    };
    if (r.segment.count !== n) problems.push(`${name}: segment ${formatSegment(r.segment)} is one of ${r.segment.count}, ${parsed[0]!.name}'s of ${n}`);
    differs('case', first.case, r.case);
    differs('scenario', { ...first.scenario, source: '' }, { ...r.scenario, source: '' });
    differs('server', first.server, r.server);
    differs('seed', first.seed, r.seed);
    differs('clock.startAtMs (--start-at)', first.clock.startAtMs, r.clock.startAtMs);
    if (seen.has(r.segment.index)) problems.push(`segment ${formatSegment(r.segment)} appears twice: ${seen.get(r.segment.index)} and ${name}`);
    seen.set(r.segment.index, name);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) problems.push(`no result for segment${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${n}`).join(', ')}`);
  if (problems.length > 0) {
    throw new BenchError('E_INVALID_RESULT', `the segment results are not the ${n} segments of one run`, {
      details: problems,
      hint: 'merge the results of every segment of one run (same scenario, server, --start-at and --seed), each once',
    });
  }
}

/** The merged load of N checked segments, ordered by index, and how the segments went. */
export function mergeSegmentLoads(results: readonly SegmentResult[]): { plan: LoadPlan; load: LoadResult; info: SegmentsInfo } {
  const sorted = [...results].sort((a, b) => a.segment.index - b.segment.index);
  const sent = new Map<number, number>();
  for (const r of sorted) for (const [id, n] of r.sentBySender) sent.set(id, (sent.get(id) ?? 0) + n);
  const workers: WorkerResult[] = [];
  const cpus: (string | null)[] = [];
  const verdicts: { verdict: SaturationVerdict; workerOffset: number }[] = [];
  for (const r of sorted) {
    verdicts.push({ verdict: r.load.saturation, workerOffset: workers.length });
    r.workers.forEach((w, i) => {
      cpus.push(r.load.workers[i]?.cpus ?? null);
      workers.push(completeWorker(w, sent, workers.length));
    });
  }
  // The whole scenario's plan: every segment's but for its own part.
  const { segment: _segment, ...whole } = sorted[0]!.plan;
  const plan: LoadPlan = { ...whole, seed: sorted[0]!.seed, workers: workers.length };
  const load = mergeWorkerResults(plan, workers, cpus);
  load.saturation = worstSaturation(verdicts);
  const offsets = estimateClockOffsets(sorted.map((r, i) => ({ index: r.segment.index, workers: sorted[i]!.workers })), plan.connections);
  const info: SegmentsInfo = {
    count: sorted.length,
    startAtMs: sorted[0]!.clock.startAtMs,
    parts: sorted.map((r) => ({
      index: r.segment.index,
      hostname: r.host.hostname,
      firstConnId: r.share.connections.first,
      connections: r.share.connections.count,
      workers: r.workers.length,
      seed: r.plan.seed,
      wallMinusMonotonicMs: r.clock.wallMinusMonotonicMs,
      wallStepMs: r.clock.wallStepMs,
      readyMarginMs: r.clock.readyMarginMs,
      kernel: r.kernel,
    })),
    offsets,
  };
  return { plan, load, info };
}

/** A zero reading: the server ran elsewhere and was not sampled here. */
const UNSAMPLED = { tMs: 0, cpuUserUs: 0, cpuSystemUs: 0, rssBytes: 0, peakRssBytes: 0, threads: 0, fds: 0, kernelTcpMemBytes: 0 };

export interface MergeOptions {
  toolVersion: string;
  commandLine: string[];
  /** The server's side (`bench sample`, core/server-sample.ts), parsed JSON and a name: its CPU and memory figures. */
  server?: { name: string; raw: unknown };
  /** Result label (default `<case>-<server>-<N>seg`). */
  label?: string;
  now?: () => Date;
}

/**
 * N segment results (parsed JSON, with the names to report them by) as one result of `bench run`'s schema: one
 * completed cell of the segments' case and server, figures computed as for any cell (core/metrics.ts) from the
 * merged load and, with `o.server`, the server's own readings at the agreed phase edges (without one, its
 * figures are absent: `server-unobserved`, reason `remote`); the segments and their clocks under `segments`.
 * `bench report`, `choose` and `compare` read it like any result.
 * @throws BenchError E_INVALID_RESULT for a result that is not a segment result, a set that is not one run's, or
 *   a server sample of another start
 */
export function mergeSegmentResults(inputs: readonly { name: string; raw: unknown }[], o: MergeOptions): RunResult {
  if (inputs.length === 0) throw new BenchError('E_USAGE', 'bench merge: give the segment results to merge');
  const parsed = inputs.map((x) => ({ name: x.name, ...parseSegmentResult(x.raw, x.name) }));
  checkSegmentSet(parsed);
  const c: ScenarioCase = parsed[0]!.scenarioCase;
  const results = parsed.map((p) => p.result);
  const { plan, load, info } = mergeSegmentLoads(results);
  const first = results.find((r) => r.segment.index === 0)!;
  const label = first.server.label;
  const sample = o.server ? parseServerSample(o.server.raw, o.server.name) : undefined;
  if (sample && sample.startAtMs !== info.startAtMs) {
    throw new BenchError('E_INVALID_RESULT', `${o.server!.name} sampled a run that started at ${new Date(sample.startAtMs).toISOString()}, the segments one at ${new Date(info.startAtMs).toISOString()}`, {
      hint: "give the server sample of the segments' run (the same --start-at)",
    });
  }
  const phases: PhaseSamples = sample?.phases ?? { baseline: UNSAMPLED, connected: UNSAMPLED, measureStart: UNSAMPLED, measureEnd: UNSAMPLED, end: UNSAMPLED, all: [UNSAMPLED] };
  const { metrics, warnings } = computeCellMetrics(load, phases, c.model);
  if (!sample) {
    // Nothing of the server was measured: no CPU cost per message rather than a cost of 0.
    metrics.serverCpuUsPerMsg = null;
    metrics.msgsPerServerCpuSec = null;
  }
  const clock = clockWarnings(info.parts, info.offsets, { latencyP50Us: load.latency.p50Us, windowMs: load.measuredMs });
  const cell: CellResult = {
    id: `${c.name}/${label}/1`,
    scenario: c.scenario.name,
    case: c.name,
    runtime: label,
    repetition: 1,
    order: 0,
    status: 'completed',
    startedAt: new Date(info.startAtMs).toISOString(),
    durationMs: Math.round(plan.warmupMs + load.measuredMs),
    metrics,
    warnings: [...(sample ? [] : [{ code: 'server-unobserved' as const, reason: 'remote' as const }]), ...warnings, ...clock],
    ...(sample
      ? {
          server: {
            pid: sample.ready.pid,
            runtime: sample.ready.runtime,
            runtimeVersion: sample.ready.runtimeVersion,
            library: sample.ready.library,
            libraryVersion: sample.ready.libraryVersion,
            // Read on the server's machine by its sampler; not checked from here.
            exe: 'unknown',
            settings: sample.ready.settings,
            cpus: null,
            startupMs: 0,
            ...(sample.ready.relay ? { relay: sample.ready.relay } : {}),
            ...(sample.ready.stack ? { stack: sample.ready.stack } : {}),
          },
        }
      : {}),
    raw: {
      latencyEncoded: load.latencyEncoded,
      connectEncoded: load.connectEncoded,
      ...(load.lastRecipientEncoded ? { lastRecipientEncoded: load.lastRecipientEncoded } : {}),
      timeline: load.timeline,
      samples: sample ? phases.all : [],
      phasesMs: sample
        ? { connectedAt: phases.connected.tMs, measureStart: phases.measureStart.tMs, measureEnd: phases.measureEnd.tMs }
        : { connectedAt: 0, measureStart: plan.warmupMs, measureEnd: plan.warmupMs + load.measuredMs },
    },
  };
  const now = o.now ?? (() => new Date());
  const faulty = cell.warnings.some((w) => w.code === 'delivery-errors');
  const result: RunResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'bench', version: o.toolVersion, gitRevision: null, gitDirty: null },
    label: o.label ?? `${c.name}-${label}-${info.count}seg`.replace(/[^A-Za-z0-9._@-]+/g, '-'),
    status: faulty ? 'failed' : 'completed',
    startedAt: new Date(info.startAtMs).toISOString(),
    finishedAt: now().toISOString(),
    commandLine: o.commandLine,
    environment: {
      ...first.host,
      // Every load host, so the result says where it was measured from; compare ignores host names.
      hostname: results.map((r) => r.host.hostname).join(','),
      runtimes: [],
      toolVersion: first.tool.version,
      gitRevision: null,
      gitDirty: null,
    },
    settings: {
      runtimes: [label],
      scenarios: [c.scenario],
      repeat: 1,
      seed: first.seed,
      quick: false,
      serverCpus: null,
      loadgenCpus: first.plan.cpus ?? null,
      referenceRuntime: label,
      client: first.plan.client,
    },
    parity: { manifests: sample ? { [label]: sample.ready.settings } : {}, differences: [] },
    cells: [cell],
    summary: [],
    segments: info,
  };
  result.summary = summarizeCells(result.cells, label);
  result.decisions = decideAll(result, [c], { settings: FIXED_SAMPLE });
  return result;
}
