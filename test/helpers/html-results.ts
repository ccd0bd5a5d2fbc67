// Results the HTML report tests render beyond the stored fixture: a "rich" run
// (the fixture plus a ceiling case, a voice relay case, a broadcast case and
// stepped idle memory fits, each with the raw data its charts are drawn from),
// and a comparison of two synthetic runs with planted changes (a regression,
// an improvement, a load-generator-bound row, unchanged rows). Deterministic:
// seeded random numbers, no clock.

import { memoryPerConnection } from '../../core/ceiling.js';
import { compareResults, type Comparison } from '../../core/compare.js';
import { summarizeCells } from '../../core/summarize.js';
import { createLatencyHistogram, encodeHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import type { CeilingMetrics, CeilingPlateau, CellResult, RunResult, VoiceMetrics } from '../../schema/result.js';
import { mulberry32, type Rng } from '../../stats/random.js';
import { EMPTY_LATENCY } from './cells.js';
import { ceilingResult, plateau } from './ceiling-cells.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from './make-fixture.js';
import { gaussian, syntheticResult, type Figures } from './synthetic.js';

export const VOICE_CASE = 'voice-agent';
export const BROADCAST_CASE = 'broadcast@8x50';
export const CEILING_CASE = 'ceiling';

const RUNTIMES = ['bun', 'node-ws', 'node-uws', 'deno'] as const;

/** A histogram of n log-normal values around `medianUs`, encoded, with its summary. */
function histogram(rng: Rng, n: number, medianUs: number, sigma: number, floorUs = 0) {
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) recordUs(h, floorUs + medianUs * Math.exp(sigma * gaussian(rng)));
  return { encoded: encodeHistogram(h), summary: summarizeHistogram(h) };
}

/**
 * A ceiling search that looks like one: heartbeat p99 and server CPU rise with
 * the connections held (faster for a heavier runtime, `weight`), the plateau
 * that broke keeps its own figures.
 */
function rising(c: CeilingMetrics, weight: number): CeilingMetrics {
  const plateaus = c.plateaus.map((p): CeilingPlateau => {
    if (!p.ok) return { ...p, cpuPct: Math.min(97, 12 + weight * 80), p99Us: p.p99Us === 90_000 ? 90_000 : p.p99Us };
    const k = p.connections / 19_200;
    return { ...p, p99Us: Math.round(700 + 30_000 * weight * k ** 3), cpuPct: Math.round((4 + 60 * weight * k) * 10) / 10 };
  });
  return { ...c, plateaus, memory: memoryPerConnection(plateaus) };
}

/** The cells of a ceiling search as bench writes them: no traffic figures, memory per connection from the idle fit. */
function asCeilingCell(cell: CellResult, weight: number): CellResult {
  const ceiling = rising(cell.metrics!.ceiling!, weight);
  return {
    ...cell,
    scenario: 'ceiling',
    metrics: {
      ...cell.metrics!,
      msgsPerSec: 0,
      sentMsgsPerSec: 0,
      latencyUs: EMPTY_LATENCY,
      serverCpuUsPerMsg: null,
      msgsPerServerCpuSec: null,
      bytesPerConnection: ceiling.memory.idle?.bytesPerConnection ?? null,
      delivery: { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
      ceiling,
    },
  };
}

const VOICE_PROFILE: Record<(typeof RUNTIMES)[number], { relayUs: number; cpuUs: number }> = {
  bun: { relayUs: 420, cpuUs: 21 },
  'node-ws': { relayUs: 1_150, cpuUs: 58 },
  'node-uws': { relayUs: 380, cpuUs: 24 },
  deno: { relayUs: 760, cpuUs: 44 },
};

const BROADCAST_PROFILE: Record<(typeof RUNTIMES)[number], { deliveryUs: number; deliveriesPerSec: number }> = {
  bun: { deliveryUs: 820, deliveriesPerSec: 198_000 },
  'node-ws': { deliveryUs: 6_400, deliveriesPerSec: 121_000 },
  'node-uws': { deliveryUs: 610, deliveriesPerSec: 199_000 },
  deno: { deliveryUs: 2_300, deliveriesPerSec: 176_000 },
};

/** A completed cell of `caseName` built on a fixture echo cell of the same runtime and repetition (its timeline and /proc samples). */
function onTemplate(r: RunResult, caseName: string, scenario: string, runtime: string, repetition: number, order: number): CellResult {
  const t = r.cells.find((c) => c.case === OPEN_CASE && c.runtime === runtime && c.repetition === repetition)!;
  return { ...structuredClone(t), id: `${caseName}/${runtime}/${repetition}`, scenario, case: caseName, order, warnings: [] };
}

/**
 * The fixture plus: a ceiling case (test/helpers/ceiling-cells.ts, with
 * rising p99 and CPU), a voice relay case and a broadcast case (3 repetitions
 * per runtime, encoded histograms, the fixture's timelines and samples), and a
 * stepped memory fit in every idle cell. Summary recomputed.
 */
export function richResult(): RunResult {
  const rng = mulberry32(7);
  const base = loadFixture();
  const withCeiling = ceilingResult(base);
  const weights: Record<string, number> = { bun: 0.3, 'node-ws': 1, 'node-uws': 0.2, deno: 0.55 };
  const cells: CellResult[] = withCeiling.cells.map((c) => (c.case === CEILING_CASE ? asCeilingCell(c, weights[c.runtime] ?? 0.5) : c));
  // Stepped idle runs: a memory fit over plateaus of 400…2,000 connections.
  for (const c of cells) {
    if (c.case !== IDLE_CASE || !c.metrics) continue;
    const bpc = c.metrics.bytesPerConnection!;
    const steps = [400, 800, 1200, 1600, 2000].map((n, i): CeilingPlateau => {
      const bytes = c.metrics!.rssBaselineBytes + bpc * n + ((i % 3) - 1) * 6_000;
      return { ...plateau(n, bpc), rssIdleBytes: bytes, rssBytes: bytes + 40 * n };
    });
    c.metrics.memory = memoryPerConnection(steps);
  }
  let order = cells.length;
  for (let rep = 1; rep <= 3; rep++) {
    for (const runtime of RUNTIMES) {
      const v = VOICE_PROFILE[runtime];
      const first = histogram(rng, 240, 520_000 + v.relayUs, 0.18);
      const relay = histogram(rng, 240, v.relayUs, 0.5, 80);
      const jitter = histogram(rng, 2_000, 300, 0.6);
      const voice: VoiceMetrics = {
        firstChunkUs: first.summary,
        relayOverheadUs: relay.summary,
        jitterUs: jitter.summary,
        turnsTriggered: 240,
        turnsCompleted: 240,
        audioEventsSent: 12_000,
        controlEventsSent: 240,
        repliesExpected: 2_640,
        repliesReceived: 2_640,
        repliesCorrupted: 0,
        relayedMsgs: 14_880,
        serverCpuUsPerRelayedMsg: v.cpuUs * (1 + 0.03 * gaussian(rng)),
        bytesPerSession: 21_000,
        upstream: { pid: 9, cpus: '1', cpuUtilPct: 12, eventsReceived: 12_240, chunksSent: 2_400, chunksDropped: 0 },
      };
      const cell = onTemplate(withCeiling, VOICE_CASE, 'voice-agent', runtime, rep, order++);
      cell.server = { ...cell.server!, relay: { upstreamUrl: 'ws://127.0.0.1:1/', upstreamClient: runtime === 'bun' ? 'bun' : runtime === 'deno' ? 'deno' : 'ws', upstreamClientVersion: '1', connectTimeoutMs: 5000 } };
      cell.metrics = { ...cell.metrics!, msgsPerSec: 2_976, latencyUs: first.summary, serverCpuUsPerMsg: voice.serverCpuUsPerRelayedMsg, voice };
      cell.raw = { ...cell.raw!, latencyEncoded: first.encoded, timeline: cell.raw!.timeline.map((b) => ({ ...b, receivedMsgs: Math.round(b.receivedMsgs / 16.8), sentMsgs: Math.round(b.sentMsgs / 20) })) };
      cells.push(cell);

      const b = BROADCAST_PROFILE[runtime];
      const delivery = histogram(rng, 20_000, b.deliveryUs, 0.45);
      const last = histogram(rng, 2_500, b.deliveryUs * 2.2, 0.4);
      const bc = onTemplate(withCeiling, BROADCAST_CASE, 'broadcast', runtime, rep, order++);
      const perSec = b.deliveriesPerSec * (1 + 0.01 * gaussian(rng));
      // A broadcast is not an open loop: no schedule of its own.
      const { openLoop: _schedule, ...echo } = bc.metrics!;
      bc.metrics = { ...echo, msgsPerSec: perSec, latencyUs: delivery.summary, lastRecipientUs: last.summary };
      bc.raw = { ...bc.raw!, latencyEncoded: delivery.encoded, lastRecipientEncoded: last.encoded, timeline: bc.raw!.timeline.map((x, i) => ({ ...x, receivedMsgs: Math.round(perSec + 900 * Math.sin(i + rep)) })) };
      cells.push(bc);
    }
  }
  const scenarios = [
    ...base.settings.scenarios,
    { name: 'ceiling', route: '/echo', connections: 24_000, load: { model: 'ceiling' } },
    { name: 'voice-agent', route: '/relay', connections: 40, load: { model: 'voice' } },
    { name: 'broadcast', route: '/broadcast', connections: 400, load: { model: 'broadcast', rooms: 8, publishersPerRoom: 1, ratePerSec: 500 } },
  ];
  const ref = base.settings.referenceRuntime;
  return { ...withCeiling, settings: { ...base.settings, scenarios }, cells, summary: summarizeCells(cells, ref) };
}

/** Per-runtime figures that make a synthetic comparison look like four real runtimes. */
const RUNTIME_FIGURES: Record<(typeof RUNTIMES)[number], Partial<Figures>> = {
  bun: { msgsPerSec: 1.6, latencyP99Us: 0.6, latencyP999Us: 0.7, serverCpuUsPerMsg: 0.5, rssPeakBytes: 0.9 },
  'node-ws': { msgsPerSec: 0.8, latencyP50Us: 3, latencyP99Us: 12, latencyP999Us: 9, serverCpuUsPerMsg: 2, rssPeakBytes: 1.5, bytesPerConnection: 2.5 },
  'node-uws': { msgsPerSec: 1.9, latencyP99Us: 0.5, latencyP999Us: 0.6, serverCpuUsPerMsg: 0.6 },
  deno: { msgsPerSec: 1.2, latencyP99Us: 1.3, latencyP999Us: 1.5, serverCpuUsPerMsg: 1.1, rssPeakBytes: 1.3, bytesPerConnection: 1.6 },
};

function times(a: Partial<Figures>, b: Partial<Figures> = {}): Partial<Figures> {
  const out: Partial<Figures> = { ...a };
  for (const [k, v] of Object.entries(b) as [keyof Figures, number][]) out[k] = (out[k] ?? 1) * v;
  return out;
}

/**
 * BASE and HEAD: 4 runtimes × 2 cases × 10 repetitions; HEAD has bun's p99
 * 18% higher (a regression), node-uws 9% more msgs/s (an improvement), and one
 * load-generator-bound deno repetition in `echo` (its client-bound rows suspect).
 */
export function comparisonForHtml(): { base: RunResult; head: RunResult; comparison: Comparison } {
  const runtimes = [...RUNTIMES];
  const cases = ['echo', 'echo-rate@20000/s'];
  const factors = (change: Partial<Record<string, Partial<Figures>>> = {}) => Object.fromEntries(runtimes.map((r) => [r, times(RUNTIME_FIGURES[r], change[r])]));
  const base = syntheticResult({ seed: 21, label: 'main', runtimes, cases, revision: '4f1c2a9e0b7d3c5a1e2f', factors: factors() });
  const head = syntheticResult({
    seed: 22,
    label: 'pr-123',
    runtimes,
    cases,
    revision: '9a8b7c6d5e4f3a2b1c0d',
    factors: factors({ bun: { latencyP99Us: 1.18 }, 'node-uws': { msgsPerSec: 1.09 } }),
    loadgenBound: ['echo/deno/4'],
  });
  return { base, head, comparison: compareResults(base, head) };
}
