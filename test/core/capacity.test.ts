import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  capacityMemory,
  capacityStop,
  capacityWarnings,
  isBisectable,
  judgeCapacityPlateau,
  projectServers,
  sendsMissing,
  type CapacityJudgeContext,
  type CapacityObservation,
  type MeasuredCapacityPlateau,
} from '../../core/capacity.js';
import { findMetric } from '../../core/compare-metrics.js';
import { decideCase, primaryFigureOf } from '../../core/decide.js';
import { captureEnvironment } from '../../core/environment.js';
import { currentHost } from '../../core/host.js';
import { liveServers, startCommand, startServer, startUpstream, stopAllServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';
import { runBenchmark, type RunPlan } from '../../core/run.js';
import { BARE_RUNTIME_IDS, probeRuntimes } from '../../core/runtimes.js';
import { expandCases, validateScenario } from '../../core/scenario.js';
import { steppedSearch } from '../../core/search.js';
import { summarizeCells } from '../../core/summarize.js';
import { defaultSlo } from '../../loadgen/models/capacity.js';
import { runLoad } from '../../loadgen/run.js';
import type { CapacityMetrics, CapacityVerdict, RunResult, SaturationReason, Warning } from '../../schema/result.js';
import { metrics as cellMetrics } from '../helpers/cells.js';
import { describeCapacityStop } from '../../report/capacity.js';
import { capacityCell, capacityPlateau, voiceCapacity } from '../helpers/capacity-cells.js';

const MiB = 1024 * 1024;
const openSlo = { ...defaultSlo({ model: 'open', ratePerSec: 1, arrivals: 'constant' }), memoryBudgetMiB: 200 };
const voiceSlo = defaultSlo({ model: 'voice', frameIntervalMs: 20, framesPerTurn: 50, upstream: { latency: 'uniform:200:800', chunks: 10, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 } });
const ctx: CapacityJudgeContext = { slo: openSlo, serverCpuCount: 1 };
const cpuReason: SaturationReason = { kind: 'cpu', cpus: '1', workers: [0], pct: 97 };
const lateReason: SaturationReason = { kind: 'schedule', worker: 0, sent: 1000, late: 50, dropped: 0 };

function obs(o: Partial<CapacityObservation> = {}): CapacityObservation {
  return {
    serverAlive: true,
    serverExit: null,
    stderrTail: '',
    latencyP99Us: 3_000,
    firstChunkP99Us: null,
    lastMemberP99Us: null,
    expected: 10_000,
    lost: 0,
    faulty: 0,
    connections: 20,
    failedConnects: 0,
    closedByServer: 0,
    serverCpuPct: 40,
    rssBytes: 100 * MiB,
    loadgen: { saturated: false, reasons: [] },
    sendsMissing: false,
    loadgenMaxLagUs: 0,
    upstreamBusy: false,
    ...o,
  };
}

describe('judging a capacity plateau', () => {
  const cases: [string, Partial<CapacityObservation>, CapacityVerdict, Partial<CapacityJudgeContext>?][] = [
    ['within every bound', {}, { ok: true }],
    ['the server gone: a crash, with its exit and last words', { serverAlive: false, serverExit: 'code 3', stderrTail: 'listening\nboom\n' }, { ok: false, cause: 'crash', limitClass: 'runtime', serverExit: 'code 3', serverSaid: 'boom' }],
    ['RSS above the budget', { rssBytes: 201 * MiB }, { ok: false, cause: 'memory', limitClass: 'runtime' }],
    ['server CPU at the bound of its one CPU', { serverCpuPct: 90 }, { ok: false, cause: 'cpu', limitClass: 'runtime' }],
    ['the same CPU on two CPUs is within the bound', { serverCpuPct: 95 }, { ok: true }, { serverCpuCount: 2 }],
    ['lost messages beyond 0.1%', { lost: 11 }, { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['messages'] }],
    ['lost messages at exactly 0.1%', { lost: 10 }, { ok: true }],
    ['faulty messages count as loss', { faulty: 11 }, { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['messages'] }],
    ['failed connects', { failedConnects: 1 }, { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['connects'] }],
    ['connections the server closed', { closedByServer: 2 }, { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['closes'] }],
    ['latency beyond the bound', { latencyP99Us: 12_000 }, { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] }],
    ['a voice first chunk beyond its bound', { latencyP99Us: 5_000, firstChunkP99Us: 1_200_000 }, { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['firstChunk'] }, { slo: voiceSlo }],
    ['sends skipped: the level was not offered', { loadgen: { saturated: true, reasons: [lateReason] }, sendsMissing: true }, { ok: false, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [lateReason] }],
    ['a generator at its CPU limit, the SLO met: the level holds and is the last', { loadgen: { saturated: true, reasons: [cpuReason] } }, { ok: true, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [cpuReason], lastLevel: true }],
    ['a generator at its CPU limit, latency broken: its limit', { loadgen: { saturated: true, reasons: [cpuReason] }, latencyP99Us: 40_000 }, { ok: false, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [cpuReason] }],
    ['late sends alone, the SLO met: the search goes on', { loadgen: { saturated: true, reasons: [lateReason] } }, { ok: true }],
    ['latency its own stalls explain is the generator’s', { loadgen: { saturated: true, reasons: [lateReason] }, latencyP99Us: 12_000, loadgenMaxLagUs: 5_000 }, { ok: false, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [lateReason] }],
    ['latency beyond what its stalls explain is the server’s', { loadgen: { saturated: true, reasons: [lateReason] }, latencyP99Us: 1_500_000, loadgenMaxLagUs: 50_000 }, { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] }],
    ['loss beside a busy generator is the server’s', { loadgen: { saturated: true, reasons: [cpuReason] }, lost: 500 }, { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['messages'] }],
    ['the server at its CPU bound is the server’s limit, however busy the generator', { loadgen: { saturated: true, reasons: [cpuReason] }, serverCpuPct: 99 }, { ok: false, cause: 'cpu', limitClass: 'runtime' }],
    ['a busy upstream when latency broke', { upstreamBusy: true, latencyP99Us: 30_000 }, { ok: false, cause: 'upstream', limitClass: 'environment' }, { slo: voiceSlo }],
    ['a busy upstream with the SLO met is no stop', { upstreamBusy: true }, { ok: true }, { slo: voiceSlo }],
  ];
  for (const [what, o, want, c] of cases) {
    test(what, () => assert.deepEqual(judgeCapacityPlateau(obs(o), { ...ctx, ...c }), want));
  }

  test('latency, loss and CPU are bisectable (each plateau is a fresh load); memory, a crash and this machine are not', () => {
    const causes = ['latency', 'loss', 'cpu', 'memory', 'crash', 'loadgen', 'upstream'] as const;
    assert.deepEqual(
      causes.filter((cause) => isBisectable({ ok: false, cause })),
      ['latency', 'loss', 'cpu'],
    );
  });

  test('sends are missing when skipped or short of 99% of those intended', () => {
    const sat = { saturated: false, reasons: [] };
    assert.equal(sendsMissing({ openLoop: { targetPerSec: 1, intended: 1000, sent: 1000, late: 500, dropped: 0 }, saturation: sat }), false);
    assert.equal(sendsMissing({ openLoop: { targetPerSec: 1, intended: 1000, sent: 989, late: 0, dropped: 0 }, saturation: sat }), true);
    assert.equal(sendsMissing({ openLoop: { targetPerSec: 1, intended: 1000, sent: 1000, late: 0, dropped: 1 }, saturation: sat }), true);
    assert.equal(sendsMissing({ saturation: { saturated: true, reasons: [{ ...lateReason, dropped: 3 }] } }), true);
  });
});

/** A search over `levels` where each level's verdict is `verdictAt(level)`, through the real stepped search. */
async function searchOf(levels: number[], verdictAt: (level: number) => CapacityVerdict, o: { bisectSteps?: number; rss?: (level: number) => number; stopAfterHeld?: boolean } = {}) {
  let held = false;
  return steppedSearch<MeasuredCapacityPlateau>({
    targets: levels,
    bisectSteps: o.bisectSteps ?? 0,
    canContinue: () => !held,
    plateau: async (level, bisection) => {
      const verdict = verdictAt(level);
      if (verdict.lastLevel) held = true;
      return { ...capacityPlateau(level, { verdict, bisection, ...(o.rss ? { rssBytes: o.rss(level) } : {}) }), bisectable: isBisectable(verdict) };
    },
  });
}

const latencyPast = (knee: number) => (l: number): CapacityVerdict => (l <= knee ? { ok: true } : { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] });
const noBudget = { planned: 4, serverGone: false, serverExit: null, budgetBytes: null };

describe('where a capacity search stopped', () => {
  test('a latency knee: the bisection finds it within the step', async () => {
    const s = await searchOf([10, 20, 30, 40], latencyPast(25), { bisectSteps: 2 });
    assert.deepEqual(s.plateaus.map((p) => p.target), [10, 20, 30, 25, 28]);
    assert.deepEqual(capacityStop(s, noBudget), {
      capacity: 25,
      lowerBound: false,
      refined: 'bisection',
      lastGood: 20,
      firstBad: 30,
      cause: 'latency',
      limitClass: 'runtime',
      stop: { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'], level: 30 },
    });
  });

  test('a level that held at the load generator’s limit ends the search: a lower bound at that level', async () => {
    const s = await searchOf([10, 20, 30, 40], (l) => (l < 30 ? { ok: true } : { ok: true, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [cpuReason], lastLevel: true }));
    const r = capacityStop(s, noBudget);
    assert.deepEqual([r.capacity, r.lowerBound, r.cause, r.limitClass, r.stop.level, r.firstBad], [30, true, 'loadgen', 'environment', 30, null]);
  });

  test('every level within the SLO: at least the top level', async () => {
    const r = capacityStop(await searchOf([10, 20, 30, 40], () => ({ ok: true })), noBudget);
    assert.deepEqual([r.capacity, r.lowerBound, r.cause, r.limitClass, r.stop.level], [40, true, 'max-level', 'none', null]);
  });

  test('the first level already broken: no capacity, and why', async () => {
    const r = capacityStop(await searchOf([10, 20], () => ({ ok: false, cause: 'crash', limitClass: 'runtime', serverExit: 'SIGSEGV' })), noBudget);
    assert.deepEqual([r.capacity, r.lowerBound, r.cause, r.firstBad], [null, false, 'crash', 10]);
  });

  test('a server gone between plateaus is a crash after the last good level', async () => {
    const s = await searchOf([10, 20], () => ({ ok: true }));
    const r = capacityStop(s, { ...noBudget, serverGone: true, serverExit: 'code 1' });
    assert.deepEqual([r.capacity, r.cause, r.stop.serverExit], [20, 'crash', 'code 1']);
  });

  test('a memory budget: interpolated between the last good and the first bad level, not bisected', async () => {
    const rss = (l: number) => 50 * MiB + l * 4 * MiB;
    const s = await searchOf([10, 20, 30], (l) => (rss(l) <= 150 * MiB ? { ok: true } : { ok: false, cause: 'memory', limitClass: 'runtime' }), { bisectSteps: 2, rss });
    const r = capacityStop(s, { ...noBudget, planned: 3, budgetBytes: 150 * MiB });
    assert.deepEqual([r.capacity, r.refined, r.cause, r.lastGood, r.firstBad], [25, 'interpolated', 'memory', 20, 30]);
  });
});

describe('memory per unit and projections', () => {
  test('the slope of RSS over the good stepped plateaus, with at least 3 of them', () => {
    const p = [10, 20, 30].map((l) => capacityPlateau(l, { bytesPerUnit: 300_000 }));
    const m = capacityMemory([...p, capacityPlateau(25, { bytesPerUnit: 900_000, bisection: true }), capacityPlateau(40, { bytesPerUnit: 900_000, verdict: { ok: false, cause: 'latency' } })], 'sessions');
    assert.ok(Math.abs(m.bytesPerUnit! - 300_000) < 1, String(m.bytesPerUnit));
    assert.equal(m.unitsPerGiB, Math.floor(1024 ** 3 / 300_000));
    assert.equal(m.fit!.n, 3);
  });

  const none: [string, number[], number, 'sessions' | 'rate'][] = [
    ['two points make a line, not a figure', [10, 20], 300_000, 'sessions'],
    ['a negative slope is never reported', [10, 20, 30], -1000, 'sessions'],
    ['the rate dimension holds its connections: no slope', [10, 20, 30], 300_000, 'rate'],
  ];
  for (const [what, levels, bytes, dim] of none) {
    test(what, () => assert.deepEqual(capacityMemory(levels.map((l) => capacityPlateau(l, { bytesPerUnit: bytes })), dim).bytesPerUnit, null));
  }

  test('servers and cores for N units, rounded up; none without a capacity', () => {
    assert.deepEqual(projectServers(100_000, 1_900, 950), { for: 100_000, serversNeeded: 53, coresNeeded: 106 });
    assert.deepEqual(projectServers(100_000, 1_900, null), { for: 100_000, serversNeeded: 53, coresNeeded: null });
    assert.equal(projectServers(100_000, null, null), null);
    assert.equal(projectServers(null, 1_900, 950), null);
  });
});

describe('the warnings of a capacity cell', () => {
  const lostOnly: Warning = { code: 'delivery-errors', lost: 3, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0, closedByServer: 0, failedConnects: 0, closeCodes: {} };
  const behind: Warning = { code: 'loadgen-bound', reasons: [lateReason] };
  const missed: Warning = { code: 'rate-missed', targetPerSec: 1000, sentPerSec: 1000, receivedPerSec: 1000, sent: 5000, late: 100, dropped: 0, part: 'loadgen' };
  const figures = (warnings: Warning[], corrupted = 0) => ({
    metrics: cellMetrics({ delivery: { sent: 10, expected: 10, received: 10, lost: 0, duplicated: 0, corrupted, outOfOrder: 0, misdelivered: 0 } }),
    warnings,
    load: { closes: { codes: {} } },
  });
  const plateau = (level: number, o: Partial<Parameters<typeof capacityWarnings>[0][number]> = {}) => ({ ...capacityPlateau(level), ...o });
  const latencyStop = voiceCapacity({ good: [20], bad: capacityPlateau(40, { verdict: { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] } }) });

  test("loss within the SLO and a generator's late sends at capacity are no fault of the figure", () => {
    const shown = figures([lostOnly, behind, missed]);
    assert.deepEqual(capacityWarnings([plateau(20, { figures: shown })], shown, latencyStop), [missed]);
  });

  test('faulty deliveries at a level within the SLO are: the server is broken at any load', () => {
    const bad = figures([], 2);
    const w = capacityWarnings([plateau(10, { faulty: 2, figures: bad }), plateau(20)], undefined, latencyStop);
    assert.deepEqual(w.map((x) => [x.code, x.code === 'delivery-errors' ? x.corrupted : null]), [['delivery-errors', 2]]);
  });

  test('a search this machine stopped says which part of it', () => {
    const gen = voiceCapacity({ good: [20], bad: capacityPlateau(40, { verdict: { ok: false, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [cpuReason] } }) });
    assert.deepEqual(capacityWarnings([], undefined, gen), [{ code: 'loadgen-bound', reasons: [cpuReason] }]);
    const up = voiceCapacity({ good: [20], bad: capacityPlateau(40, { verdict: { ok: false, cause: 'upstream', limitClass: 'environment' }, upstreamCpuPct: 95, upstreamChunksDropped: 4 }) });
    assert.deepEqual(capacityWarnings([plateau(40, { ok: false, upstreamCpuPct: 95, upstreamChunksDropped: 4 })], undefined, up), [{ code: 'upstream-bound', cpuPct: 95, chunksDropped: 4 }]);
  });
});

describe('capacity in the decision and in bench compare', () => {
  test('capacity per core is a compared metric, higher is better', () => {
    const d = findMetric('capacity')!;
    assert.deepEqual([d.id, d.better, d.unit], ['capacityPerCore', 'higher', 'count']);
  });

  test('a capacity case ranks its runtimes by capacity per core, the highest first', () => {
    const bun = [1000, 1010, 990, 1005, 995].map((v, i) => capacityCell('bun', i + 1, voiceCapacity({ good: [20, 40], perCore: v })));
    const ws = [500, 505, 495, 498, 502].map((v, i) => capacityCell('node-ws', i + 1, voiceCapacity({ good: [20, 40], perCore: v })));
    const rows = summarizeCells([...ws, ...bun], 'node-ws');
    assert.equal(rows.find((r) => r.runtime === 'bun')!.capacityPerCore!.median, 1000);
    const primary = primaryFigureOf('capacity-slo', [...ws, ...bun])!;
    assert.deepEqual(primary, { metric: 'capacityPerCore', why: 'capacity-slo' });
    const d = decideCase('voice-agent-capacity', 'voice-agent-capacity', rows, primary);
    assert.deepEqual(d.ranking.map((r) => r.runtime), ['bun', 'node-ws']);
    assert.equal(d.better, 'higher');
    assert.ok(Math.abs(d.ranking[1]!.ratioToBest - 0.5) < 0.01);
  });
});

// ---- against deliberately limited servers, on the real load generator ------------------------------------------

const host = currentHost();
const env = await captureEnvironment(host, 'test');
after(() => stopAllServers());

/**
 * A small search over connections of an open-loop echo, 20 msg/s per connection: 20, 30 and 40 connections.
 * Bounds that a busy machine cannot break (latency 10 s, CPU of every CPU) unless a test sets its own.
 */
function capacityCase(load: Record<string, unknown>) {
  const r = validateScenario(
    {
      name: 'capacity-test',
      description: 'a small capacity search for the tests',
      route: '/echo',
      connections: 10,
      warmupSec: 0.3,
      durationSec: 0.8,
      load: {
        model: 'capacity',
        workload: { model: 'open', ratesPerSec: [200], arrivals: 'constant' },
        dimension: 'connections',
        levels: [20, 30, 40],
        bisectSteps: 2,
        ...load,
        slo: { latencyP99Ms: 10_000, maxServerCpuPct: 100, ...(load['slo'] as object | undefined) },
      },
      message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
    },
    'test',
  );
  assert.deepEqual(r.problems, []);
  return expandCases(r.scenario!);
}

function planFor(label: string, cases: ReturnType<typeof capacityCase>, command: string): RunPlan {
  return {
    runtimes: [label],
    external: { kind: 'command', command },
    cases,
    repeat: 1,
    seed: 1,
    quick: false,
    serverCpus: null,
    loadgenCpus: null,
    referenceRuntime: label,
    client: 'raw',
    workers: 1,
    label: 'test',
    commandLine: ['test'],
    capacityFor: 1000,
  };
}

async function search(mode: string, n: number, load: Record<string, unknown> = {}): Promise<{ r: RunResult; c: CapacityMetrics }> {
  const server = `node --expose-gc ${path.join(projectRoot, 'dist/test/helpers/limited-server.js')} ${mode} ${n}`;
  const r = await runBenchmark(planFor(mode, capacityCase(load), server), { host, environment: env, toolVersion: 'test', startServer, startCommand, runLoad, baselineSettleMs: 50 });
  const cell = r.cells[0]!;
  assert.equal(cell.status, 'completed', `${cell.error?.message} ${cell.error?.details.join('\n')}`);
  return { r, c: cell.metrics!.capacity! };
}

// Four servers at once keep the file fast; every bound but the one under test is far beyond what a busy machine adds.
describe('the capacity of deliberately limited servers, and what broke first', { concurrency: true }, () => {
  test('a server that slows down past 25 connections: latency, bisected to 25', async () => {
    // Echoes held 1.5 s past its knee against a 500 ms bound: far beyond what a busy machine adds.
    const { c } = await search('slow', 25, { slo: { latencyP99Ms: 500 } });
    assert.equal(c.cause, 'latency', describeCapacityStop(c));
    assert.deepEqual(c.stop.latency, ['latency']);
    assert.deepEqual([c.lastGood, c.firstBad, c.capacity, c.refined, c.lowerBound], [20, 30, 25, 'bisection', false]);
    assert.deepEqual(c.plateaus.filter((p) => p.bisection).map((p) => [p.level, p.ok]), [[25, true], [28, false]]);
    const past = c.plateaus.find((p) => p.level === 30)!;
    const within = c.plateaus.find((p) => p.level === 20)!;
    assert.ok(past.latencyP99Us! > 10 * within.latencyP99Us!, `p99 ${within.latencyP99Us} µs within, ${past.latencyP99Us} µs past the knee`);
    assert.match(describeCapacityStop(c), /echo p99 .* is above the bound of 500 ms at 30 connections/);
  });

  test('a server that serves 25 sessions and drops the messages of the rest: loss, bisected to 25', async () => {
    const { c } = await search('drop', 25);
    assert.equal(c.cause, 'loss', describeCapacityStop(c));
    assert.ok(c.stop.loss!.includes('messages'));
    assert.deepEqual([c.lastGood, c.firstBad, c.capacity, c.refined], [20, 30, 25, 'bisection']);
    for (const p of c.plateaus.filter((x) => x.ok)) assert.equal(p.lost, 0, `${p.level}: ${p.lost} lost`);
    assert.match(describeCapacityStop(c), /messages lost .* at 30 connections: above the loss bound of 0\.1%/);
  });

  test('a server that crashes at its 26th connection: a crash, the last good level, no bisection', async () => {
    const { r, c } = await search('crash', 25);
    assert.equal(c.cause, 'crash', describeCapacityStop(c));
    assert.equal(c.stop.serverExit, 'code 3');
    assert.deepEqual([c.lastGood, c.firstBad, c.capacity, c.refined, c.lowerBound], [20, 30, 20, null, false]);
    assert.equal(c.plateaus.some((p) => p.bisection), false);
    assert.equal(r.cells[0]!.status, 'completed');
    // The figures at capacity are those of 20 connections: 400 msg/s offered.
    assert.equal(c.atCapacity!.level, 20);
  });

  test('a server that holds 4 MiB per session under a 150 MiB budget: memory, its slope found, the capacity within a step', async () => {
    const { r, c } = await search('memory', 4096, { levels: [6, 12, 18, 24, 30, 36], slo: { memoryBudgetMiB: 150 } });
    assert.equal(c.cause, 'memory', describeCapacityStop(c));
    const good = c.plateaus.filter((p) => p.ok && !p.bisection);
    const bad = c.plateaus.find((p) => !p.ok)!;
    assert.ok(good.at(-1)!.rssBytes! <= 150 * MiB && bad.rssBytes! > 150 * MiB, `${good.at(-1)!.rssBytes} ≤ budget < ${bad.rssBytes}`);
    assert.equal(c.plateaus.some((p) => p.bisection), false);
    // 4 MiB per session: the slope over the plateaus finds it (the runtime's own memory rides along).
    const slope = c.memory.bytesPerUnit!;
    assert.ok(slope > 3.5 * MiB && slope < 6 * MiB, `slope ${slope}`);
    assert.equal(r.cells[0]!.metrics!.bytesPerConnection, slope);
    assert.ok(c.capacity! >= c.lastGood! && c.capacity! < c.firstBad!, `${c.capacity} in [${c.lastGood}, ${c.firstBad})`);
    // Where the fitted line meets the budget, within one step of the capacity found.
    const fit = c.memory.fit!;
    const atBudget = (150 * MiB - fit.interceptBytes) / fit.bytesPerConnection;
    assert.ok(Math.abs(atBudget - c.capacity!) <= 6, `budget reached at ${atBudget.toFixed(1)}, capacity ${c.capacity}`);
    assert.deepEqual(c.projection, { for: 1000, serversNeeded: Math.ceil(1000 / c.capacity!), coresNeeded: null });
  });
});

const statuses = await probeRuntimes(host);
const usable = BARE_RUNTIME_IDS.filter((id) => statuses.find((s) => s.id === id)?.usable);
const runtime = usable.includes('node-ws') ? 'node-ws' : usable[0]!;

/** A tiny search of a real workload on a real runtime, every bound out of a busy machine's reach: it must run every level. */
async function realSearch(route: string, load: Record<string, unknown>, message: unknown, connections: number): Promise<CapacityMetrics> {
  const r = validateScenario({ name: 'capacity-real', description: 'a tiny capacity search of a real workload', route, connections, warmupSec: 0.2, durationSec: 1, load, message }, 'test');
  assert.deepEqual(r.problems, []);
  const plan: RunPlan = { ...planFor(runtime, expandCases(r.scenario!), ''), runtimes: [runtime], referenceRuntime: runtime };
  delete plan.external;
  const result = await runBenchmark(plan, { host, environment: env, toolVersion: 'test', startServer, startCommand, startUpstream, runLoad, baselineSettleMs: 50 });
  const cell = result.cells[0]!;
  assert.equal(cell.status, 'completed', `${cell.error?.message} ${cell.error?.details.join('\n')}`);
  return cell.metrics!.capacity!;
}

const loose = { latencyP99Ms: 10_000, maxServerCpuPct: 100 };

describe('small searches of the real workloads on a real runtime', { concurrency: true }, () => {
  test('voice sessions: each level a fresh load through the relay and the simulated upstream', async () => {
    const c = await realSearch(
      '/relay',
      {
        model: 'capacity',
        workload: { model: 'voice', frameIntervalMs: 20, framesPerTurn: 10, upstream: { latency: 'fixed:50', chunks: 3, chunkIntervalMs: 20 } },
        levels: [2, 4],
        slo: { ...loose, firstChunkP99Ms: 10_000 },
      },
      { kind: 'json', template: { type: 'input_audio_buffer.append', event_id: '{{id}}', sent_at_us: '{{sentAtUs}}', audio: '{{base64:64}}' } },
      2,
    );
    assert.equal(c.cause, 'max-level', describeCapacityStop(c));
    assert.deepEqual([c.capacity, c.lowerBound, c.dimension], [4, true, 'sessions']);
    assert.deepEqual(c.plateaus.map((p) => [p.level, p.opened]), [[2, 2], [4, 4]]);
    for (const p of c.plateaus) {
      assert.ok(p.latencyP99Us !== null && p.firstChunkP99Us !== null, `${p.level}: relay share and first chunk measured`);
      assert.ok(p.upstreamCpuPct !== null && p.upstreamChunksDropped === 0, `${p.level}: the upstream observed`);
      assert.equal(p.lost, 0);
    }
  });

  test('broadcast members: rooms keep their size as the members grow', async () => {
    const c = await realSearch(
      '/broadcast',
      { model: 'capacity', workload: { model: 'broadcast', rooms: 2, publishers: 4, ratePerSecPerPublisher: 5 }, levels: [20, 40], slo: { ...loose, lastMemberP99Ms: 10_000 } },
      { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
      20,
    );
    assert.equal(c.cause, 'max-level', describeCapacityStop(c));
    assert.deepEqual(c.plateaus.map((p) => p.connections), [20, 40]);
    // 4 publishers × 5 msg/s to rooms of 10: 200 deliveries a second at 20 members, 400 at 40.
    const [a, b] = c.plateaus;
    assert.ok(b!.offeredPerSec > 1.5 * a!.offeredPerSec, `${a!.offeredPerSec} → ${b!.offeredPerSec} publishes/s`);
    for (const p of c.plateaus) assert.equal(p.lost, 0, `${p.level}: ${p.lost} lost`);
  });
});

describe('after the searches', () => {
  test('no server outlives its cell', () => assert.equal(liveServers().length, 0));
});
