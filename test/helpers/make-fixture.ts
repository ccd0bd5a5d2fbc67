// Builds test/fixtures/run-result.json: a realistic, deterministic RunResult
// (2 cases × 4 runtimes × 3 repetitions) whose histograms are real encodings
// and whose summaries are computed, not typed in. Regenerate after a schema
// or summarize change with:
//   npx tsc -p tsconfig.json && node dist/test/helpers/make-fixture.js
// (a test fails while the stored file differs from what this builds).

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Environment } from '../../core/environment.js';
import { projectRoot } from '../../core/paths.js';
import { RESULT_SCHEMA_VERSION, type CellMetrics, type CellResult, type RunResult, type Warning } from '../../schema/result.js';
import type { ProcSample } from '../../core/sampler.js';
import { summarizeCells } from '../../core/summarize.js';
import { createLatencyHistogram, encodeHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import { mulberry32, type Rng } from '../../stats/random.js';
import type { ErrorKind } from '../../loadgen/types.js';
import { CONTRACT_SETTINGS } from '../../servers/settings.js';

export const FIXTURE_PATH = path.join(projectRoot, 'test', 'fixtures', 'run-result.json');

export const FIXTURE_RUNTIMES = ['bun', 'node-ws', 'node-uws', 'deno'] as const;
type Rt = (typeof FIXTURE_RUNTIMES)[number];

export const OPEN_CASE = 'echo-rate@50000/s';
export const IDLE_CASE = 'idle';
/** The one load-generator-bound cell. */
export const LOWER_BOUND_CELL = `${OPEN_CASE}/node-uws/2`;
/** The one errored cell (with details), and the skipped one after it. */
export const ERRORED_CELL = `${IDLE_CASE}/deno/2`;
export const SKIPPED_CELL = `${IDLE_CASE}/deno/3`;

const RATE_PER_SEC = 50_000;
const ECHO_CONNECTIONS = 100;
const IDLE_CONNECTIONS = 2000;
const ECHO_WINDOW_SEC = 5;
const IDLE_WINDOW_SEC = 3;
const MIB = 1024 * 1024;
const ECHO_PHASES_MS = { connectedAt: 310, measureStart: 2_310, measureEnd: 7_310 };
const IDLE_PHASES_MS = { connectedAt: 1_420, measureStart: 2_420, measureEnd: 5_420 };

/** Standard normal deviate (Box–Muller) from a seeded PRNG. */
function normal(rand: Rng): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** A log-normal latency sample: median `medianUs`, shape `sigma`; n values. */
function latencyHistogram(rand: Rng, n: number, medianUs: number, sigma: number) {
  const h = createLatencyHistogram();
  for (let i = 0; i < n; i++) recordUs(h, medianUs * Math.exp(sigma * normal(rand)));
  return h;
}

interface EchoProfile {
  /** Received msgs/s per repetition (median of the 1-s buckets). */
  msgsPerSec: [number, number, number];
  p50Us: number;
  /** Log-normal shape per repetition: drives p99 and its spread. */
  sigma: [number, number, number];
  cpuUsPerMsg: number;
  rssBaselineBytes: number;
  rssGrowthBytes: number;
  library: string;
  libraryVersion: string;
  runtimeVersion: string;
}

const VERSIONS: Record<Rt, { runtimeVersion: string; library: string; libraryVersion: string; exe: string }> = {
  bun: { runtimeVersion: '1.4.5', library: 'bun', libraryVersion: '1.4.5', exe: '/work/main/node_modules/bun/bin/bun.exe' },
  'node-ws': { runtimeVersion: '20.20.2', library: 'ws', libraryVersion: '8.23.0', exe: '/usr/local/bin/node' },
  'node-uws': { runtimeVersion: '20.20.2', library: 'uWebSockets.js', libraryVersion: '20.0.8', exe: '/usr/local/bin/node' },
  deno: { runtimeVersion: '2.9.6', library: 'deno', libraryVersion: '2.9.6', exe: '/work/main/node_modules/deno/deno' },
};

const ECHO: Record<Rt, Omit<EchoProfile, 'library' | 'libraryVersion' | 'runtimeVersion'>> = {
  // Repetition 1 has a heavier tail: the first-run outlier.
  bun: { msgsPerSec: [49_962, 49_987, 49_979], p50Us: 182, sigma: [0.7, 0.5, 0.51], cpuUsPerMsg: 9.4, rssBaselineBytes: 38 * MIB, rssGrowthBytes: 9 * MIB },
  'node-ws': { msgsPerSec: [46_810, 47_320, 46_540], p50Us: 7_900, sigma: [0.45, 0.46, 0.44], cpuUsPerMsg: 19.8, rssBaselineBytes: 46 * MIB, rssGrowthBytes: 31 * MIB },
  // Repetition 2 was load-generator-bound: fewer messages left the generator.
  'node-uws': { msgsPerSec: [49_991, 47_880, 49_985], p50Us: 141, sigma: [0.48, 0.49, 0.47], cpuUsPerMsg: 6.1, rssBaselineBytes: 44 * MIB, rssGrowthBytes: 6 * MIB },
  // p99 varies a lot between repetitions: the high-spread case.
  deno: { msgsPerSec: [49_940, 49_955, 49_931], p50Us: 265, sigma: [0.5, 0.92, 0.62], cpuUsPerMsg: 11.7, rssBaselineBytes: 52 * MIB, rssGrowthBytes: 14 * MIB },
};

const IDLE_BYTES_PER_CONNECTION: Record<Rt, number> = { bun: 3_180, 'node-ws': 10_240, 'node-uws': 2_450, deno: 6_630 };


/** Cell-level warnings placed on purpose, so that every code appears once. */
function cellWarnings(id: string): Warning[] {
  switch (id) {
    case `${OPEN_CASE}/bun/1`:
      return [{ code: 'server-killed', graceMs: 2000 }];
    case `${OPEN_CASE}/node-ws/1`:
    case `${OPEN_CASE}/node-ws/2`:
    case `${OPEN_CASE}/node-ws/3`:
      return [{ code: 'rate-missed', targetPerSec: 50_000, sentPerSec: 49_990, receivedPerSec: 47_200, sent: 249_950, late: 0, dropped: 0, part: 'server' }];
    case LOWER_BOUND_CELL:
      return [{ code: 'loadgen-bound', reasons: [{ kind: 'schedule', worker: 0, sent: 239_400, late: 2_394, dropped: 10_600 }, { kind: 'loop-delay', worker: 0, p99Us: 14_200 }] }];
    case `${IDLE_CASE}/node-ws/3`:
      return [{ code: 'rss-growing', growthPct: 12 }];
    case `${IDLE_CASE}/bun/2`:
      return [{ code: 'server-cpu-unpinned', reason: 'stray-threads', stray: 1, threads: 5, cpus: '0' }];
    default:
      return [];
  }
}

/**
 * The server's /proc samples every 250 ms from the sampler's start to just after the measured window,
 * as the sampler takes them: cumulative CPU at the cell's own window rate (`windowCpuUs` over the window,
 * a little less while connecting, ±4% from one step to the next), RSS from the baseline through the
 * connect and warm-up to the peak and the end figure (still rising at the end when `endBytes` ≥ `peakBytes`).
 * Deterministic and free of the random stream, so the histograms stay as they are.
 */
function samples(phasesMs: { connectedAt: number; measureStart: number; measureEnd: number }, baselineBytes: number, peakBytes: number, endBytes: number, windowCpuUs: number, threads: number, fds: number): ProcSample[] {
  const { connectedAt, measureStart, measureEnd } = phasesMs;
  const perMs = windowCpuUs / (measureEnd - measureStart);
  const delta = peakBytes - baselineBytes;
  const rising = endBytes >= peakBytes;
  const warm = baselineBytes + 0.95 * delta;
  const knots: [number, number][] = [
    [0, baselineBytes],
    [connectedAt, baselineBytes + 0.6 * delta],
    [measureStart, warm],
    [(measureStart + measureEnd) / 2, rising ? (warm + endBytes) / 2 : peakBytes],
    [measureEnd, endBytes],
  ];
  const rssAt = (t: number): number => {
    for (let k = 1; k < knots.length; k++) {
      const [t0, v0] = knots[k - 1]!;
      const [t1, v1] = knots[k]!;
      if (t <= t1) return Math.round(v0 + ((v1 - v0) * (t - t0)) / (t1 - t0));
    }
    return endBytes;
  };
  const out: ProcSample[] = [];
  let cpuUs = 0;
  let peak = 0;
  for (let tMs = 0; tMs <= measureEnd + 250; tMs += 250) {
    const share = tMs === 0 ? 0 : tMs <= connectedAt ? 0.08 : tMs <= measureStart ? 0.85 : tMs <= measureEnd + 125 ? 1 : 0.05;
    cpuUs += 250 * perMs * share * (1 + 0.04 * Math.sin(tMs / 170));
    const rss = rssAt(tMs);
    peak = Math.max(peak, rss);
    out.push({
      tMs,
      cpuUserUs: Math.round(cpuUs * 0.7),
      cpuSystemUs: Math.round(cpuUs * 0.3),
      rssBytes: rss,
      peakRssBytes: peak,
      threads,
      fds,
      kernelTcpMemBytes: 4096 * 64 * (1 + Math.min(tMs, measureEnd) / 1000),
    });
  }
  return out;
}

function echoCell(rt: Rt, rep: 1 | 2 | 3, order: number, rand: Rng): CellResult {
  const p = ECHO[rt];
  const id = `${OPEN_CASE}/${rt}/${rep}`;
  const msgsPerSec = p.msgsPerSec[rep - 1]!;
  const lowerBound = id === LOWER_BOUND_CELL;
  const sent = lowerBound ? 239_400 : RATE_PER_SEC * ECHO_WINDOW_SEC;
  const lost = id === `${OPEN_CASE}/node-ws/3` ? 12 : 0;
  const errors: Partial<Record<ErrorKind, number>> = id === `${OPEN_CASE}/node-ws/3` ? { timeout: 2 } : {};
  const sigma = p.sigma[rep - 1]!;
  const latency = latencyHistogram(rand, Math.round(msgsPerSec * ECHO_WINDOW_SEC / 20), p.p50Us, sigma);
  const connect = latencyHistogram(rand, ECHO_CONNECTIONS, 850, 0.3);
  const cpuUs = p.cpuUsPerMsg * msgsPerSec * ECHO_WINDOW_SEC;
  const peak = p.rssBaselineBytes + p.rssGrowthBytes + rep * 64 * 1024;
  const end = peak - 512 * 1024;
  // Open-loop workers spin-wait for send times: ~100% CPU by design, saturation is read from the schedule.
  const workerCpuPct = Math.round((99.1 + rep * 0.2) * 10) / 10;
  const late = lowerBound ? 2_410 : 3;
  const dropped = lowerBound ? RATE_PER_SEC * ECHO_WINDOW_SEC - sent : 0;
  const warnings = cellWarnings(id);
  if (lost > 0) {
    warnings.push({ code: 'delivery-errors', lost: 12, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0, closedByServer: 0, failedConnects: 0, closeCodes: {} });
  }
  const buckets = [msgsPerSec - 40, msgsPerSec + 25, msgsPerSec, msgsPerSec - 10, msgsPerSec + 30];
  const metrics: CellMetrics = {
    msgsPerSec,
    sentMsgsPerSec: sent / ECHO_WINDOW_SEC,
    throughputIsLowerBound: lowerBound,
    latencyUs: summarizeHistogram(latency),
    connectUs: summarizeHistogram(connect),
    serverCpuUsPerMsg: p.cpuUsPerMsg,
    serverCpuUtilPct: Math.round(cpuUs / (ECHO_WINDOW_SEC * 1e6) * 1000) / 10,
    msgsPerServerCpuSec: Math.round(1e6 / p.cpuUsPerMsg),
    rssBaselineBytes: p.rssBaselineBytes,
    rssPeakBytes: peak,
    rssEndBytes: end,
    bytesPerConnection: Math.round((p.rssGrowthBytes / 3) / ECHO_CONNECTIONS),
    serverThreads: rt === 'node-ws' || rt === 'node-uws' ? 11 : 7,
    serverFds: ECHO_CONNECTIONS + 24,
    errors,
    delivery: { sent, expected: sent, received: sent - lost, lost, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
    openLoop: {
      targetPerSec: RATE_PER_SEC,
      intended: RATE_PER_SEC * ECHO_WINDOW_SEC,
      sent,
      late,
      dropped,
    },
    loadgen: {
      workers: [
        { worker: 0, pid: 41_000 + order, cpus: '1', connections: ECHO_CONNECTIONS, cpuUs: Math.round(workerCpuPct * ECHO_WINDOW_SEC * 1e4), cpuUtilPct: workerCpuPct, eventLoopDelayP99Us: lowerBound ? 14_200 : 1_150, eventLoopDelayMaxUs: lowerBound ? 31_000 : 4_800, spinWait: true, schedule: { sent, late, dropped } },
      ],
      saturation: lowerBound
        ? { saturated: true, reasons: [{ kind: 'schedule', worker: 0, sent, late, dropped }, { kind: 'loop-delay', worker: 0, p99Us: 14_200 }] }
        : { saturated: false, reasons: [] },
    },
  };
  return {
    id,
    scenario: 'echo-rate',
    case: OPEN_CASE,
    runtime: rt,
    repetition: rep,
    order,
    status: 'completed',
    startedAt: new Date(Date.UTC(2026, 10, 24, 7, 0, 0) + order * 9_000).toISOString(),
    durationMs: 8_400 + order * 3,
    server: server(rt, order),
    metrics,
    warnings,
    raw: {
      latencyEncoded: encodeHistogram(latency),
      connectEncoded: encodeHistogram(connect),
      timeline: buckets.map((received, second) => ({
        second,
        sentMsgs: Math.round(sent / ECHO_WINDOW_SEC),
        receivedMsgs: received,
        sentBytes: Math.round(sent / ECHO_WINDOW_SEC) * 134,
        receivedBytes: received * 132,
      })),
      samples: samples(ECHO_PHASES_MS, p.rssBaselineBytes, peak, end, cpuUs, metrics.serverThreads, metrics.serverFds),
      phasesMs: ECHO_PHASES_MS,
    },
  };
}

function server(rt: Rt, order: number) {
  const v = VERSIONS[rt];
  return { pid: 30_000 + order, runtime: rt, ...v, settings: { ...CONTRACT_SETTINGS }, cpus: '0', startupMs: rt === 'deno' ? 118 : rt === 'bun' ? 41 : 74 };
}

function idleCell(rt: Rt, rep: 1 | 2 | 3, order: number, rand: Rng): CellResult {
  const id = `${IDLE_CASE}/${rt}/${rep}`;
  const base: Omit<CellResult, 'status'> = {
    id,
    scenario: 'idle',
    case: IDLE_CASE,
    runtime: rt,
    repetition: rep,
    order,
    warnings: cellWarnings(id),
  };
  if (id === SKIPPED_CELL) return { ...base, status: 'skipped' };
  const startedAt = new Date(Date.UTC(2026, 10, 24, 7, 2, 0) + order * 6_000).toISOString();
  if (id === ERRORED_CELL) {
    return {
      ...base,
      status: 'errored',
      startedAt,
      durationMs: 2_730,
      server: server(rt, order),
      error: {
        code: 'E_SERVER_EXITED',
        message: 'the deno server exited with signal SIGKILL while 1,412 of 2,000 connections were open',
        details: [
          'last stderr lines of the server:',
          'Listening on http://127.0.0.1:40511/',
          'error: Uncaught (in promise) Interrupted: operation canceled',
          'exit: signal SIGKILL (out of memory? see dmesg)',
        ],
      },
    };
  }
  const bpc = IDLE_BYTES_PER_CONNECTION[rt] + (rep - 2) * 24;
  const baseline = ECHO[rt].rssBaselineBytes;
  const peak = baseline + bpc * IDLE_CONNECTIONS + 256 * 1024;
  const end = id === `${IDLE_CASE}/node-ws/3` ? peak + 3.1 * MIB : peak - 128 * 1024;
  const connect = latencyHistogram(rand, IDLE_CONNECTIONS, rt === 'node-ws' ? 1_900 : 1_200, 0.35);
  const empty = createLatencyHistogram();
  const cpuUs = 180_000 + rep * 1_000;
  const metrics: CellMetrics = {
    msgsPerSec: 0,
    sentMsgsPerSec: 0,
    throughputIsLowerBound: false,
    latencyUs: summarizeHistogram(empty),
    connectUs: summarizeHistogram(connect),
    serverCpuUsPerMsg: null,
    serverCpuUtilPct: Math.round(cpuUs / (IDLE_WINDOW_SEC * 1e6) * 1000) / 10,
    msgsPerServerCpuSec: null,
    rssBaselineBytes: baseline,
    rssPeakBytes: Math.round(Math.max(peak, end)),
    rssEndBytes: Math.round(end),
    bytesPerConnection: bpc,
    serverThreads: 7,
    serverFds: IDLE_CONNECTIONS + 24,
    errors: {},
    delivery: { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
    loadgen: {
      workers: [{ worker: 0, pid: 41_000 + order, cpus: '1', connections: IDLE_CONNECTIONS, cpuUs: 30_000, cpuUtilPct: 1, eventLoopDelayP99Us: 900, eventLoopDelayMaxUs: 2_100, spinWait: false }],
      saturation: { saturated: false, reasons: [] },
    },
  };
  return {
    ...base,
    status: 'completed',
    startedAt,
    durationMs: 5_200 + order,
    server: server(rt, order),
    metrics,
    raw: {
      latencyEncoded: encodeHistogram(empty),
      connectEncoded: encodeHistogram(connect),
      timeline: [0, 1, 2].map((second) => ({ second, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 })),
      samples: samples(IDLE_PHASES_MS, baseline, metrics.rssPeakBytes, metrics.rssEndBytes, cpuUs, metrics.serverThreads, metrics.serverFds),
      phasesMs: IDLE_PHASES_MS,
    },
  };
}

const ENVIRONMENT: Environment = {
  hostname: 'bench-ci-01',
  cpuModel: 'AMD EPYC 7B13',
  logicalCpus: 2,
  allowedCpus: '0-1',
  kernel: 'Linux 6.8.0-1019-gcp',
  platform: 'linux',
  arch: 'x64',
  memoryBytes: 8_341_323_776,
  openFileLimit: 1_048_576,
  ephemeralPortRange: [32_768, 60_999],
  cpuGovernor: null,
  nodeVersion: '20.20.2',
  runtimes: [
    { id: 'bun', label: 'Bun.serve', usable: true, runtimeVersion: '1.4.5', libraryVersion: '1.4.5' },
    { id: 'node-ws', label: 'Node + ws', usable: true, runtimeVersion: '20.20.2', libraryVersion: '8.23.0' },
    { id: 'node-uws', label: 'Node + uWebSockets.js', usable: true, runtimeVersion: '20.20.2', libraryVersion: '20.0.8' },
    { id: 'deno', label: 'Deno.serve', usable: true, runtimeVersion: '2.9.6', libraryVersion: '2.9.6' },
  ],
  toolVersion: '0.1.0',
  gitRevision: '552ac61d0e4f3b1a9c7e2d8f6a5b4c3d2e1f0a9b',
  gitDirty: false,
};

/** The fixture, built from scratch (deterministic: same output on every machine). */
export function buildFixtureResult(): RunResult {
  const rand = mulberry32(20261124);
  // Stored in plan order (case, runtime, repetition); `order` is the seeded, interleaved execution order.
  const execOrder: Record<Rt, number[]> = { bun: [2, 5, 11], 'node-ws': [0, 7, 9], 'node-uws': [3, 4, 10], deno: [1, 6, 8] };
  const cells: CellResult[] = [];
  for (const rt of FIXTURE_RUNTIMES) for (const rep of [1, 2, 3] as const) cells.push(echoCell(rt, rep, execOrder[rt][rep - 1]!, rand));
  for (const rt of FIXTURE_RUNTIMES) for (const rep of [1, 2, 3] as const) cells.push(idleCell(rt, rep, 12 + execOrder[rt][rep - 1]!, rand));
  const referenceRuntime = 'node-ws';
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: { name: 'bench', version: '0.1.0', gitRevision: ENVIRONMENT.gitRevision, gitDirty: false },
    label: 'nightly',
    status: 'completed',
    startedAt: '2026-11-24T07:00:00.000Z',
    finishedAt: '2026-11-24T07:04:12.000Z',
    commandLine: ['bench', 'run', '--scenario', 'echo-rate', '--scenario', 'idle', '--repeat', '3', '--seed', '42', '--server-cpus', '0', '--loadgen-cpus', '1'],
    environment: ENVIRONMENT,
    settings: {
      runtimes: [...FIXTURE_RUNTIMES],
      scenarios: [
        { name: 'echo-rate', route: '/echo', connections: ECHO_CONNECTIONS, warmupSec: 2, durationSec: ECHO_WINDOW_SEC, load: { model: 'open', ratesPerSec: [RATE_PER_SEC], arrivals: 'constant' }, message: { kind: 'binary', size: { type: 'fixed', bytes: 128 } } },
        { name: 'idle', route: '/echo', connections: IDLE_CONNECTIONS, warmupSec: 1, durationSec: IDLE_WINDOW_SEC, load: { model: 'idle' } },
      ],
      repeat: 3,
      seed: 42,
      quick: false,
      serverCpus: '0',
      loadgenCpus: '1',
      referenceRuntime,
      client: 'raw',
    },
    parity: { manifests: Object.fromEntries(FIXTURE_RUNTIMES.map((rt) => [rt, { ...CONTRACT_SETTINGS }])), differences: [] },
    cells,
    summary: summarizeCells(cells, referenceRuntime),
  };
}

/** The stored fixture as parsed JSON. */
export function loadFixture(): RunResult {
  return JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as RunResult;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(FIXTURE_PATH, `${JSON.stringify(buildFixtureResult(), null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(projectRoot, FIXTURE_PATH)}\n`);
}
