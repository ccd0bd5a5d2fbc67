import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FD_OVERSHOOT,
  fdLimitBehaviour,
  fitMemory,
  interpolateBudget,
  judgePlateau,
  kernelBytesPerSocket,
  memoryPerConnection,
  planTargets,
  projectConnections,
  type JudgeContext,
  type PlateauObservation,
} from '../../core/ceiling.js';
import { captureEnvironment } from '../../core/environment.js';
import { currentHost } from '../../core/host.js';
import { liveServers, setReadyLineGraceMs, startCommand, startServer, stopAllServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';
import type { CeilingMetrics, CeilingPlateau, FdLimitBehaviour, PlateauVerdict, RunResult } from '../../schema/result.js';
import { describeStop, describeVerdict, headline } from '../../report/ceiling.js';
import { runBenchmark, type RunPlan } from '../../core/run.js';
import { BARE_RUNTIME_IDS, probeRuntimes, RUNTIMES } from '../../core/runtimes.js';
import { expandCases, validateScenario } from '../../core/scenario.js';
import { CEILING_DEFAULTS } from '../../loadgen/models/ceiling.js';

const GiB = 1024 ** 3;
const slo = CEILING_DEFAULTS.slo;
const ctx: JudgeContext = { slo, serverCpuCount: 1, openFileLimit: 20_000, baselineFds: 20 };

function obs(o: Partial<PlateauObservation> = {}): PlateauObservation {
  return {
    targetConnections: 10_000,
    connections: 10_000,
    openBefore: 8_000,
    connectAttempted: 2_000,
    connectFailed: 0,
    errors: {},
    errnos: {},
    drops: 0,
    heartbeatsSent: 10_000,
    heartbeatsLost: 0,
    p99Us: 3_000,
    loadgenSaturated: false,
    loadgenReasons: [],
    loadgenMaxLagUs: 0,
    serverAlive: true,
    serverExit: null,
    stderrTail: '',
    fds: 10_020,
    rssBytes: 200 * 1024 * 1024,
    cpuPct: 30,
    idleCpuPct: 0,
    ...o,
  };
}

/** A plateau record as the search stores it, from an observation and its verdict. */
function plateauOf(o: PlateauObservation, v: PlateauVerdict): CeilingPlateau {
  return {
    targetConnections: o.targetConnections,
    connections: o.connections,
    bisection: false,
    rssIdleBytes: o.rssBytes,
    rssIdleSettled: true,
    rssBytes: o.rssBytes,
    rssSettled: true,
    p50Us: o.p99Us,
    p99Us: o.p99Us,
    maxUs: o.p99Us,
    heartbeatsSent: o.heartbeatsSent,
    heartbeatsLost: o.heartbeatsLost,
    connectAttempted: o.connectAttempted,
    connectFailed: o.connectFailed,
    errors: o.errors,
    drops: o.drops,
    cpuPct: o.cpuPct,
    idleCpuPct: o.idleCpuPct,
    fds: o.fds,
    threads: null,
    kernelTcpMemBytes: null,
    kernelSlabBytes: null,
    connectMs: 0,
    loadgenSaturated: o.loadgenSaturated,
    ok: v.ok,
    verdict: v,
  };
}

describe('planTargets', () => {
  const cases: [string, Parameters<typeof planTargets>, number[], string][] = [
    ['equal steps up to the maximum', [1000, 4, { limit: null, baselineFds: 0, margin: 0 }], [250, 500, 750, 1000], 'max-connections'],
    ['a last partial step', [1000, 3, { limit: null, baselineFds: 0, margin: 0 }], [334, 668, 1000], 'max-connections'],
    ['one step', [500, 1, { limit: 20_000, baselineFds: 20, margin: 0 }], [500], 'max-connections'],
    ['below the fd limit: unchanged', [10_000, 2, { limit: 20_000, baselineFds: 20, margin: 0 }], [5000, 10_000], 'max-connections'],
    [
      'the step crossing the fd limit goes a little past it',
      [24_000, 10, { limit: 20_000, baselineFds: 20, margin: 0 }],
      [2400, 4800, 7200, 9600, 12_000, 14_400, 16_800, 19_200, 19_980 + FD_OVERSHOOT],
      'max-connections',
    ],
    ['a margin ends the search short of the limit', [24_000, 4, { limit: 20_000, baselineFds: 20, margin: 500 }], [6000, 12_000, 18_000, 19_480], 'fd-margin'],
    ['a margin larger than the room leaves nothing to do', [1000, 2, { limit: 100, baselineFds: 20, margin: 100 }], [], 'fd-margin'],
  ];
  for (const [what, args, targets, endCause] of cases) {
    test(what, () => assert.deepEqual(planTargets(...args), { targets, endCause }));
  }
});

describe('judgePlateau: whose limit, in plain words', () => {
  const cases: [string, Partial<PlateauObservation>, JudgeContext, { ok: boolean; cause?: string; limitClass?: string; text: RegExp; behaviour?: string }][] = [
    ['a plateau within every bound', {}, ctx, { ok: true, text: /met the SLO/ }],
    ['heartbeat p99 above the bound', { p99Us: 80_000 }, ctx, { ok: false, cause: 'latency', limitClass: 'runtime', text: /heartbeat p99 80\.0 ms is above the bound of 50 ms/ }],
    [
      'slow heartbeats while the load generator fell behind are the machine’s',
      { p99Us: 80_000, loadgenSaturated: true, loadgenReasons: [{ kind: 'loop-delay', worker: 0, p99Us: 30_000 }], loadgenMaxLagUs: 40_000 },
      ctx,
      { ok: false, cause: 'loadgen-saturated', limitClass: 'environment', text: /load generator fell behind/ },
    ],
    [
      'heartbeats slower than the generator’s own lateness explains are the server’s, even when the generator fell behind',
      { p99Us: 800_000, loadgenSaturated: true, loadgenReasons: [{ kind: 'loop-delay', worker: 0, p99Us: 30_000 }], loadgenMaxLagUs: 40_000 },
      ctx,
      { ok: false, cause: 'latency', limitClass: 'runtime', text: /heartbeat p99 800\.0 ms is above the bound of 50 ms/ },
    ],
    ['failed connects above the error bound', { connectFailed: 10, errors: { refused: 10 } }, ctx, { ok: false, cause: 'errors', limitClass: 'runtime', text: /10 of 2,000 connects failed \(10 refused\)/ }],
    ['failed connects within the bound', { connectFailed: 1, errors: { refused: 1 } }, ctx, { ok: true, text: /met/ }],
    ['dropped connections', { drops: 50 }, ctx, { ok: false, cause: 'errors', limitClass: 'runtime', text: /dropped 50 open connections/ }],
    ['lost heartbeats', { heartbeatsLost: 100 }, ctx, { ok: false, cause: 'errors', limitClass: 'runtime', text: /100 of 10,000 heartbeats got no reply/ }],
    [
      'RSS above the memory budget',
      { rssBytes: 600 * 1024 * 1024 },
      { ...ctx, slo: { ...slo, memoryBudgetMiB: 512 } },
      { ok: false, cause: 'memory', limitClass: 'runtime', text: /RSS 600 MiB is above the memory budget of 512 MiB/ },
    ],
    ['server CPU pegged', { cpuPct: 97 }, ctx, { ok: false, cause: 'cpu', limitClass: 'runtime', text: /server CPU 97%/ }],
    ['two server CPUs double the CPU bound', { cpuPct: 150 }, { ...ctx, serverCpuCount: 2 }, { ok: true, text: /met/ }],
    [
      'a crash with no sign of the fd limit',
      { serverAlive: false, serverExit: 'SIGSEGV', stderrTail: 'Segmentation fault\n' },
      ctx,
      { ok: false, cause: 'crash', limitClass: 'runtime', text: /the server exited \(SIGSEGV\) at 10,000 connections: "Segmentation fault"/ },
    ],
    [
      'Deno: exits with EMFILE at the limit',
      { targetConnections: 20_044, serverAlive: false, serverExit: 'code 1', stderrTail: '\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught (in promise) Too many open files (os error 24)\n', openBefore: 19_200, connections: 0, drops: 19_200, fds: null },
      ctx,
      { ok: false, cause: 'fd-limit', limitClass: 'environment', text: /open-file limit \(20000\).*exited \(code 1\): "error: Uncaught \(in promise\) Too many open files \(os error 24\)", dropping every connection \(19,200 open\)/, behaviour: 'exited' },
    ],
    [
      'Bun and uWebSockets.js: keep running, leave extra connections unanswered and spin',
      { targetConnections: 20_044, fds: 20_000, connectFailed: 64, errors: { timeout: 64 }, idleCpuPct: 99 },
      ctx,
      { ok: false, cause: 'fd-limit', limitClass: 'environment', text: /unanswered \(64 timeout\) and used 99% CPU with no traffic/, behaviour: 'spins' },
    ],
    [
      'Node + ws: accepts and closes extra connections at once',
      { targetConnections: 20_044, fds: 19_999, connectFailed: 64, errors: { 'unexpected-close': 60, reset: 4 } },
      ctx,
      { ok: false, cause: 'fd-limit', limitClass: 'environment', text: /closed connections beyond the limit at once/, behaviour: 'closes-extra' },
    ],
    [
      'crossing the limit with failures counts even without an fd reading',
      { targetConnections: 20_044, fds: null, connectFailed: 64, errors: { timeout: 64 } },
      ctx,
      { ok: false, cause: 'fd-limit', limitClass: 'environment', text: /left connections beyond the limit unanswered/, behaviour: 'stalls' },
    ],
    [
      'the load generator out of ports',
      { connectFailed: 100, errors: { other: 100 }, errnos: { EADDRNOTAVAIL: 100 } },
      ctx,
      { ok: false, cause: 'loadgen-ports', limitClass: 'environment', text: /ran out of source ports/ },
    ],
    [
      'the load generator out of fds',
      { connectFailed: 100, errors: { other: 100 }, errnos: { EMFILE: 100 } },
      ctx,
      { ok: false, cause: 'loadgen-fds', limitClass: 'environment', text: /ran out of file descriptors/ },
    ],
  ];
  for (const [what, o, c, want] of cases) {
    test(what, () => {
      const ob = obs(o);
      const v = judgePlateau(ob, c);
      // The verdict is data; the report words it from the plateau's figures.
      const text = describeVerdict(plateauOf(ob, v), { slo: c.slo, openFileLimit: c.openFileLimit });
      assert.equal(v.ok, want.ok, text);
      assert.equal(v.cause, want.cause);
      assert.equal(v.limitClass, want.limitClass);
      assert.match(text, want.text);
      assert.equal(v.atFdLimit, want.behaviour);
    });
  }

  test('fdLimitBehaviour without a CPU reading does not claim spinning', () => {
    assert.equal(fdLimitBehaviour(obs({ errors: { timeout: 3 }, idleCpuPct: null })).atFdLimit, 'stalls');
  });
});

describe('the headline: a number only for the runtime’s own limit', () => {
  const base = { openFileLimit: 20_000, stopShortOfFdLimitBy: 500, maxConnections: 24_000, lastGoodConnections: 19_200 };
  const cases: [CeilingMetrics['cause'], string][] = [
    ['fd-limit', 'not reached: stopped by the open-file limit 20000'],
    ['fd-margin', 'not reached: stopped 500 short of the open-file limit 20000'],
    ['loadgen-ports', "not reached: stopped by the load generator's source ports"],
    ['loadgen-saturated', 'not reached: the load generator could not keep up on this machine'],
    ['max-connections', "not reached: within the SLO at the scenario's maximum of 24,000 connections"],
    ['latency', '19,200 connections'],
    ['memory', '19,200 connections'],
  ];
  for (const [cause, text] of cases) {
    test(cause, () => {
      const runtime = cause === 'latency' || cause === 'memory';
      const c = { ...base, cause, ceilingConnections: runtime ? 19_200 : null } as Pick<CeilingMetrics, 'cause' | 'ceilingConnections' | 'openFileLimit' | 'stopShortOfFdLimitBy' | 'maxConnections' | 'lastGoodConnections'>;
      assert.equal(headline(c as CeilingMetrics), text);
    });
  }
});

describe('memory per connection', () => {
  test('fitMemory recovers a known slope and intercept exactly', () => {
    const pts: [number, number][] = [1000, 2000, 3000, 4000].map((n) => [n, 50e6 + 4096 * n]);
    const f = fitMemory(pts)!;
    assert.ok(Math.abs(f.bytesPerConnection - 4096) < 1e-6);
    assert.ok(Math.abs(f.interceptBytes - 50e6) < 1e-3);
    assert.equal(f.r2, 1);
    assert.equal(f.n, 4);
    assert.deepEqual(f.points, pts);
  });

  test('fitMemory needs two distinct connection counts', () => {
    assert.equal(fitMemory([]), null);
    assert.equal(fitMemory([[100, 1]]), null);
    assert.equal(fitMemory([[100, 1], [100, 2]]), null);
  });

  test('projectConnections: (budget − intercept) ÷ slope, rounded down, only where positive', () => {
    const fit = fitMemory([[0, 100 * 1024 * 1024], [1000, 100 * 1024 * 1024 + 10_240 * 1000]])!;
    assert.deepEqual(projectConnections(fit, 'active'), [
      { budgetBytes: GiB, connections: Math.floor((GiB - 100 * 1024 * 1024) / 10_240), basis: 'active' },
      { budgetBytes: 4 * GiB, connections: Math.floor((4 * GiB - 100 * 1024 * 1024) / 10_240), basis: 'active' },
      { budgetBytes: 16 * GiB, connections: Math.floor((16 * GiB - 100 * 1024 * 1024) / 10_240), basis: 'active' },
    ]);
    const big = fitMemory([[0, 2 * GiB], [10, 2 * GiB + 10]])!;
    assert.deepEqual(projectConnections(big, 'idle').map((p) => p.budgetBytes), [4 * GiB, 16 * GiB], 'a budget below the intercept projects nothing');
    assert.deepEqual(projectConnections(fitMemory([[0, 5], [10, 5]]), 'idle'), [], 'a flat line projects nothing');
    assert.deepEqual(projectConnections(null, 'idle'), []);
  });

  test('kernelBytesPerSocket halves the machine-wide slope (two sockets per loopback connection)', () => {
    assert.deepEqual(kernelBytesPerSocket([[1000, 1e6 + 8000 * 1000], [2000, 1e6 + 8000 * 2000]]), { bytesPerSocket: 4000, r2: 1 });
    assert.equal(kernelBytesPerSocket([[1000, 5]]), null);
  });

  test('interpolateBudget: where the line between two plateaus crosses the budget, within them', () => {
    assert.equal(interpolateBudget({ connections: 1000, rssBytes: 100 }, { connections: 2000, rssBytes: 200 }, 150), 1500);
    assert.equal(interpolateBudget({ connections: 1000, rssBytes: 100 }, { connections: 2000, rssBytes: 200 }, 500), 2000);
    assert.equal(interpolateBudget({ connections: 1000, rssBytes: 100 }, { connections: 2000, rssBytes: 90 }, 95), 1000);
  });

  test('memoryPerConnection fits the good plateaus going up, and projects from the active fit', () => {
    const p = (connections: number, ok = true, bisection = false): CeilingPlateau => ({
      targetConnections: connections,
      connections,
      bisection,
      rssIdleBytes: 1e7 + 1000 * connections,
      rssIdleSettled: true,
      rssBytes: 1e7 + 1500 * connections,
      rssSettled: true,
      p50Us: 500,
      p99Us: 900,
      maxUs: 1000,
      heartbeatsSent: connections,
      heartbeatsLost: 0,
      connectAttempted: 100,
      connectFailed: 0,
      errors: {},
      drops: 0,
      cpuPct: 10,
      idleCpuPct: 0,
      fds: connections,
      threads: 4,
      kernelTcpMemBytes: 4096,
      kernelSlabBytes: 1e8 + 7000 * connections,
      connectMs: 10,
      loadgenSaturated: false,
      ok,
      verdict: ok ? { ok: true } : { ok: false, cause: 'latency', limitClass: 'runtime' },
    });
    // The bad plateau and the bisection plateau (reached by closing connections) stay out of the fit.
    const m = memoryPerConnection([p(100), p(200), p(300), { ...p(400, false), rssIdleBytes: 1 }, { ...p(350, true, true), rssIdleBytes: 1 }]);
    assert.ok(Math.abs(m.idle!.bytesPerConnection - 1000) < 1e-6);
    assert.equal(m.idle!.n, 3);
    assert.ok(Math.abs(m.active!.bytesPerConnection - 1500) < 1e-6);
    assert.ok(Math.abs(m.kernel.slabBytesPerSocket! - 3500) < 1e-6);
    assert.equal(m.kernel.buffersBytesPerSocket, 0);
    assert.equal(m.projections[0]!.basis, 'active');
  });
});

// ---- against deliberately limited servers and every runtime ----------------------------------------------------

const host = currentHost();
const env = await captureEnvironment(host, 'test');
after(() => stopAllServers());

function ceilingScenario(connections: number, steps: number, load: Record<string, unknown> = {}) {
  const r = validateScenario(
    {
      name: 'ceiling-test',
      description: 'a small ceiling search for the tests',
      route: '/echo',
      connections,
      warmupSec: 0.1,
      durationSec: 0.5,
      load: {
        model: 'ceiling',
        steps,
        heartbeat: { kind: 'echo', intervalMs: 100, bytes: 16 },
        settle: { tolerancePct: 2, windowMs: 200, timeoutMs: 600 },
        // Latency is the cause only where a test makes it one (the slow server): a busy machine must not be.
        slo: { heartbeatP99Ms: 10_000 },
        ...load,
      },
    },
    'test',
  );
  assert.deepEqual(r.problems, []);
  return expandCases(r.scenario!);
}

function planFor(label: string, cases: ReturnType<typeof ceilingScenario>, command?: string): RunPlan {
  return {
    runtimes: [label],
    ...(command ? { external: { kind: 'command' as const, command } } : {}),
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
  };
}

async function run(plan: RunPlan): Promise<RunResult> {
  return runBenchmark(plan, { host, environment: env, toolVersion: 'test', startServer, startCommand, runLoad: () => Promise.reject(new Error('runLoad is not used by ceiling cells')), baselineSettleMs: 50 });
}

const limited = (mode: string, n: number) => `node ${path.join(projectRoot, 'dist/test/helpers/limited-server.js')} ${mode} ${n}`;

// Three servers at once keep the file fast: the searches are light (a heartbeat every 100 ms on at most 400
// connections), and every bound but the one under test is far beyond what a busy machine adds.
describe('cause classification against deliberately limited servers', { concurrency: 3 }, () => {
  // The limited server prints no ready line: each start would wait the launcher's whole grace for one.
  let graceMs: number;
  before(() => void (graceMs = setReadyLineGraceMs(0)));
  after(() => void setReadyLineGraceMs(graceMs));
  const cases: [string, string, number, Record<string, unknown>, { cause: string; limitClass: string; lastGood: number; text: RegExp }][] = [
    // Connects queued in its backlog when it stops listening are reset, later ones refused.
    ['a server that stops accepting after 150 connections', 'stop-accepting', 150, {}, { cause: 'errors', limitClass: 'runtime', lastGood: 100, text: /connects failed \(\d+ (refused|reset)/ }],
    ['a server that closes its connections once 150 are open', 'close', 150, {}, { cause: 'errors', limitClass: 'runtime', lastGood: 100, text: /dropped \d+ open connections|connects failed/ }],
    // Replies held 1.5 s past 150 connections against a 400 ms bound: far beyond what a busy machine adds.
    ['a server whose replies slow down with load', 'slow', 150, { slo: { heartbeatP99Ms: 400 } }, { cause: 'latency', limitClass: 'runtime', lastGood: 100, text: /heartbeat p99 .* above the bound of 400 ms/ }],
    ['a server that crashes at 151 connections', 'crash', 150, {}, { cause: 'crash', limitClass: 'runtime', lastGood: 100, text: /the server exited \(code 3\)/ }],
    // 512 KiB per connection over a ~50 MiB baseline: 300 connections hold ~200 MiB, 400 need ~250 MiB.
    ['a server holding 512 KiB per connection, under a memory budget', 'memory', 512, { slo: { memoryBudgetMiB: 230 } }, { cause: 'memory', limitClass: 'runtime', lastGood: 300, text: /above the memory budget of 230 MiB/ }],
  ];
  for (const [what, mode, n, load, want] of cases) {
    test(what, async () => {
      const r = await run(planFor(mode, ceilingScenario(400, 4, load), limited(mode, n)));
      const cell = r.cells[0]!;
      assert.equal(cell.status, 'completed', `${cell.error?.message} ${cell.error?.details.join('\n')}`);
      const c = cell.metrics!.ceiling!;
      assert.equal(c.cause, want.cause, describeStop(c));
      assert.equal(c.limitClass, want.limitClass);
      assert.match(describeStop(c), want.text);
      assert.equal(c.lastGoodConnections, want.lastGood, describeStop(c));
      assert.equal(c.plateaus.at(-1)!.ok, false);
      if (mode === 'memory') {
        // Memory does not come back when connections close: the budget's ceiling is interpolated, not bisected.
        assert.equal(c.refined, 'interpolated');
        assert.ok(c.ceilingConnections! >= 300 && c.ceilingConnections! <= 400, String(c.ceilingConnections));
        assert.equal(headline(c), `${c.ceilingConnections} connections`);
        // 256 KiB held per connection: the fitted slope finds it.
        const slope = c.memory.idle!.bytesPerConnection;
        assert.ok(slope > 512 * 1024 && slope < 512 * 1024 * 1.25, `idle slope ${slope}`);
      } else {
        assert.equal(c.ceilingConnections, want.lastGood);
        assert.equal(headline(c), `${want.lastGood} connections`);
      }
      assert.deepEqual(liveServers().filter((h) => h.runtimeId === mode), [], 'the server is stopped');
    });
  }

  test('a bisection sharpens a latency ceiling between the last good and the first bad plateau', async () => {
    const r = await run(planFor('slow-bisected', ceilingScenario(400, 2, { slo: { heartbeatP99Ms: 400 }, bisectSteps: 2 }), limited('slow', 330)));
    const c = r.cells[0]!.metrics!.ceiling!;
    assert.equal(c.cause, 'latency', describeStop(c));
    assert.equal(c.lastGoodConnections, 200);
    assert.equal(c.firstBadConnections, 400);
    // Replies slow down past 330 connections: the bisection tries 300 (good), then 350 (bad).
    assert.deepEqual(c.plateaus.filter((p) => p.bisection).map((p) => p.targetConnections), [300, 350]);
    assert.equal(c.ceilingConnections, 300);
    assert.equal(c.refined, 'bisection');
    assert.deepEqual(liveServers().filter((h) => h.runtimeId === 'slow-bisected'), [], 'the server is stopped');
  });
});

const statuses = await probeRuntimes(host);
const usable = BARE_RUNTIME_IDS.filter((id) => statuses.find((s) => s.id === id)?.usable);

describe('a small real ceiling run against every runtime', () => {
  test('each runtime holds 600 connections within the SLO, with memory per connection fitted over the plateaus', async () => {
    const r = await run({ ...planFor(usable[0]!, ceilingScenario(600, 3)), runtimes: usable, referenceRuntime: usable[0]! });
    assert.equal(r.status, 'completed');
    for (const c of r.cells) {
      assert.equal(c.status, 'completed', `${c.id}: ${c.error?.message}`);
      const m = c.metrics!.ceiling!;
      assert.equal(m.cause, 'max-connections', `${c.id}: ${describeStop(m)}`);
      assert.equal(m.limitClass, 'none');
      assert.equal(m.ceilingConnections, null);
      assert.equal(headline(m), "not reached: within the SLO at the scenario's maximum of 600 connections");
      assert.deepEqual(m.plateaus.map((p) => p.connections), [200, 400, 600]);
      for (const p of m.plateaus) {
        assert.ok(p.heartbeatsSent > 0 && p.heartbeatsLost === 0, `${c.id} at ${p.connections}: ${p.heartbeatsLost} of ${p.heartbeatsSent} lost`);
        assert.equal(p.fds! >= p.connections, true, `${c.id}: ${p.fds} fds at ${p.connections} connections`);
      }
      assert.equal(m.memory.idle?.n, 3);
      assert.ok(m.memory.idle!.bytesPerConnection > 0, `${c.id}: ${m.memory.idle!.bytesPerConnection} B/conn`);
      assert.equal(c.metrics!.bytesPerConnection, m.memory.idle!.bytesPerConnection);
      assert.equal(m.openFileLimit, env.openFileLimit);
    }
    assert.equal(liveServers().length, 0);
  });

  // The open-file limit lowered to 400 with prlimit, so every runtime meets it within seconds.
  // As seen at 20,000 on this machine (shared/reference.md): Bun and uWebSockets.js spin, ws closes, Deno exits.
  const expected: Record<string, FdLimitBehaviour[]> = { bun: ['spins'], 'node-uws': ['spins'], 'node-ws': ['closes-extra'], deno: ['exited'] };
  const prlimit = (process.env['PATH'] ?? '').split(':').some((d) => existsSync(path.join(d, 'prlimit')));
  for (const id of usable) {
    test(`${id} at an open-file limit of 400: "not reached", and its behaviour there named`, { skip: prlimit ? false : 'prlimit (util-linux) is not installed' }, async (t) => {
      const { command, args } = RUNTIMES[id].command(host.nodePath);
      const r = await run(planFor(id, ceilingScenario(800, 4), `prlimit --nofile=400:400 ${[command, ...args].join(' ')}`));
      const c = r.cells[0]!;
      assert.equal(c.status, 'completed', `${c.error?.message} ${c.error?.details.join('\n')}`);
      const m = c.metrics!.ceiling!;
      assert.equal(m.openFileLimit, 400);
      assert.equal(m.cause, 'fd-limit', describeStop(m));
      assert.equal(m.limitClass, 'environment');
      assert.equal(m.ceilingConnections, null);
      assert.equal(headline(m), 'not reached: stopped by the open-file limit 400');
      assert.equal(m.lastGoodConnections, 200);
      t.diagnostic(`${id} at its open-file limit: ${describeStop(m)}`);
      assert.ok(expected[id]!.includes(m.stop.atFdLimit!), `${id}: ${m.stop.atFdLimit}: ${describeStop(m)}`);
      assert.equal(liveServers().length, 0);
    });
  }
});

describe('the idle scenario opened in steps', () => {
  test('reports bytes per connection as the slope over its plateaus, without a ceiling', async () => {
    const r = validateScenario(
      { name: 'idle-steps', description: 'idle in steps', route: '/echo', connections: 600, durationSec: 1, load: { model: 'idle', steps: 3 } },
      'test',
    );
    assert.deepEqual(r.problems, []);
    const id = usable.includes('node-ws') ? 'node-ws' : usable[0]!;
    const result = await run({ ...planFor(id, expandCases(r.scenario!)) });
    const m = result.cells[0]!.metrics!;
    assert.equal(result.cells[0]!.status, 'completed', result.cells[0]!.error?.message);
    assert.equal(m.ceiling, undefined);
    assert.deepEqual(m.memory!.idle!.points.map(([n]) => n), [200, 400, 600]);
    assert.equal(m.bytesPerConnection, m.memory!.idle!.bytesPerConnection);
    assert.equal(m.memory!.active, null);
    assert.equal(m.latencyUs.count, 0);
  });
});
