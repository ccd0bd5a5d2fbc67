import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { captureEnvironment } from '../../core/environment.js';
import { BenchError } from '../../base/errors.js';
import { currentHost } from '../../core/host.js';
import { liveServers, liveUpstreams, startServer, startUpstream, stopAllServers } from '../../core/launcher.js';
import { isAlive } from '../../core/procfs.js';
import type { RunResult } from '../../schema/result.js';
import { loadPlanFor, planCells, runBenchmark, type RunEvent, type RunPlan } from '../../core/run.js';
import { expandCases, resolveScenario } from '../../core/scenario.js';
import { mockLoad } from '../helpers/mock-load.js';

const host = currentHost();
const env = await captureEnvironment(host, 'test');
const echo = resolveScenario('echo', process.cwd());

function plan(over: Partial<RunPlan> = {}): RunPlan {
  return {
    runtimes: ['node-ws'],
    cases: expandCases(echo),
    repeat: 1,
    seed: 1,
    quick: true,
    serverCpus: null,
    loadgenCpus: null,
    referenceRuntime: 'node-ws',
    client: 'raw',
    workers: 1,
    label: 'test',
    commandLine: ['bench', 'run'],
    ...over,
  };
}

after(() => stopAllServers());

describe('planCells', () => {
  test('interleaves runtimes in a seeded order that changes between repetitions and is reproducible', () => {
    const p = plan({ runtimes: ['bun', 'node-ws', 'node-uws', 'deno'], repeat: 3 });
    const a = planCells(p);
    assert.equal(a.length, 12);
    assert.deepEqual(a.map((c) => c.id), planCells(p).map((c) => c.id));
    const orders = [1, 2, 3].map((r) => a.filter((c) => c.repetition === r).map((c) => c.runtime).join());
    assert.ok(new Set(orders).size > 1, `every repetition had the same order: ${orders[0]}`);
    assert.notDeepEqual(planCells({ ...p, seed: 2 }).map((c) => c.id), a.map((c) => c.id));
  });
});

describe('runBenchmark with a mock load generator and a real server', () => {
  test('runs the lifecycle in order: spawn → ready → baseline → connected → warmup → measure → stop → gone', async () => {
    const log: string[] = [];
    const load = mockLoad();
    const saved: RunResult[] = [];
    const r = await runBenchmark(plan(), {
      host,
      environment: env,
      toolVersion: 'test',
      startServer,
      runLoad: load.run,
      onEvent: (e: RunEvent) => {
        if (e.type === 'lifecycle') log.push(e.step);
        else log.push(e.type);
      },
      save: (x) => void saved.push(structuredClone(x)),
      baselineSettleMs: 10,
    });
    assert.deepEqual(log, ['cell-start', 'spawn', 'ready', 'verified', 'baseline', 'connected', 'warmup', 'measure', 'measure-end', 'drain-done', 'stop', 'gone', 'cell-end']);
    assert.equal(r.status, 'completed');
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'completed');
    assert.equal(cell.server?.runtime, 'node');
    assert.equal(isAlive(cell.server!.pid), false, 'the server is gone');
    assert.equal(cell.metrics?.msgsPerSec, 1000);
    assert.ok((cell.metrics?.rssBaselineBytes ?? 0) > 0);
    assert.equal(load.plans[0]!.url.startsWith('ws://127.0.0.1:'), true);
    assert.ok(saved.length >= 2, 'saved before and after the cell');
    assert.equal(saved.at(-1)!.status, 'completed');
    assert.ok(r.cells[0]!.warnings.some((w) => w.code === 'server-cpu-unpinned'), 'unpinned runs say so');
  });

  test('a saturated load generator marks the throughput as a lower bound with a typed warning', async () => {
    const r = await runBenchmark(plan(), { host, environment: env, toolVersion: 't', startServer, runLoad: mockLoad({ saturated: true }).run, baselineSettleMs: 10 });
    const cell = r.cells[0]!;
    assert.equal(cell.metrics?.throughputIsLowerBound, true);
    assert.ok(cell.warnings.some((w) => w.code === 'loadgen-bound'));
    assert.equal(r.summary[0]?.throughputIsLowerBound, true);
  });

  test('a server that cannot start errors its cell with the reason, and the matrix continues', async () => {
    const r = await runBenchmark(plan({ runtimes: ['bun', 'node-ws'], repeat: 2 }), {
      host,
      environment: env,
      toolVersion: 't',
      startServer: async (o) => {
        if (o.runtime === 'bun') throw new BenchError('E_SERVER_NOT_READY', 'bun server printed no ready line within 15000 ms', { details: ['stderr: boom'] });
        return startServer(o);
      },
      runLoad: mockLoad().run,
      baselineSettleMs: 10,
    });
    assert.equal(r.status, 'failed');
    const bun = r.cells.filter((c) => c.runtime === 'bun');
    const node = r.cells.filter((c) => c.runtime === 'node-ws');
    assert.deepEqual(bun.map((c) => c.status), ['errored', 'errored']);
    assert.equal(bun[0]!.error?.code, 'E_SERVER_NOT_READY');
    assert.deepEqual(bun[0]!.error?.details, ['stderr: boom']);
    assert.deepEqual(node.map((c) => c.status), ['completed', 'completed']);
  });

  test('an interrupt during the load stops the server, skips the rest, and leaves a valid partial result', async () => {
    const abort = new AbortController();
    let saved: RunResult | undefined;
    const r = await runBenchmark(plan({ runtimes: ['node-ws', 'bun'], repeat: 2 }), {
      host,
      environment: env,
      toolVersion: 't',
      startServer,
      runLoad: mockLoad({ duringMeasure: () => abort.abort() }).run,
      save: (x) => void (saved = structuredClone(x)),
      signal: abort.signal,
      baselineSettleMs: 10,
    });
    assert.equal(r.status, 'interrupted');
    assert.ok(r.cells.every((c) => c.status === 'skipped'));
    assert.equal(saved?.status, 'interrupted');
    assert.ok(saved?.finishedAt);
    assert.equal(liveServers().length, 0, 'no server left running');
  });

  test('a server whose settings differ from the contract is refused with E_PARITY_MISMATCH naming the setting', async () => {
    const r = await runBenchmark(plan(), {
      host,
      environment: env,
      toolVersion: 't',
      startServer: async (o) => {
        const s = await startServer(o);
        return { ...s, ready: { ...s.ready, settings: { ...s.ready.settings, backpressureLimitBytes: 4096 } } };
      },
      runLoad: mockLoad().run,
      baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'errored');
    assert.equal(cell.error?.code, 'E_PARITY_MISMATCH');
    assert.ok(cell.error?.details.some((d) => d.startsWith('backpressureLimitBytes:')));
    assert.equal(liveServers().length, 0);
  });
});

describe('servers bench does not take from its registry', () => {
  test('--server-cmd: a server printing a bench ready line is started, checked for parity, sampled and stopped', async () => {
    const { startCommand } = await import('../../core/launcher.js');
    const cmd = `${process.execPath} ${new URL('../../servers/node-ws.js', import.meta.url).pathname}`;
    const r = await runBenchmark(plan({ runtimes: ['mine'], external: { kind: 'command', command: cmd }, referenceRuntime: 'mine' }), {
      host, environment: env, toolVersion: 't', startServer, startCommand, runLoad: mockLoad().run, baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'completed', cell.error?.message);
    assert.equal(cell.server?.runtime, 'node');
    assert.ok((cell.metrics?.rssBaselineBytes ?? 0) > 0, 'sampled from /proc');
    assert.ok(r.parity.manifests['mine']);
    assert.ok(!cell.warnings.some((w) => w.code === 'parity-unknown'));
    assert.equal(isAlive(cell.server!.pid), false);
  });

  test('--server-cmd: a server that only listens on PORT is measured, with its unknown settings flagged', async () => {
    const { startCommand } = await import('../../core/launcher.js');
    const script = "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.env.PORT),process.env.HOST)";
    const r = await runBenchmark(plan({ runtimes: ['plain'], external: { kind: 'command', command: `${process.execPath} -e "${script}"` }, referenceRuntime: 'plain' }), {
      host, environment: env, toolVersion: 't', startServer, startCommand, runLoad: mockLoad().run, baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'completed', cell.error?.message);
    assert.ok(cell.warnings.some((w) => w.code === 'parity-unknown'));
    assert.equal(isAlive(cell.server!.pid), false, 'stopped after the cell');
  });

  test('--server-cmd that never listens errors the cell with E_SERVER_EXITED and its stderr', async () => {
    const { startCommand } = await import('../../core/launcher.js');
    const r = await runBenchmark(plan({ runtimes: ['broken'], external: { kind: 'command', command: `${process.execPath} -e "console.error('no config file'); process.exit(3)"` }, referenceRuntime: 'broken' }), {
      host, environment: env, toolVersion: 't', startServer, startCommand, runLoad: mockLoad().run, baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'errored');
    assert.equal(cell.error?.code, 'E_SERVER_EXITED');
    assert.ok(cell.error?.details.some((d) => d.includes('no config file')));
  });

  test('--target without a pid: measured, with the server marked unobserved', async () => {
    const s = await startServer({ runtime: 'node-ws' });
    try {
      const load = mockLoad();
      const r = await runBenchmark(plan({ runtimes: ['t'], external: { kind: 'target', url: `ws://127.0.0.1:${s.port}` }, referenceRuntime: 't' }), {
        host, environment: env, toolVersion: 't', startServer, runLoad: load.run, baselineSettleMs: 10,
      });
      const cell = r.cells[0]!;
      assert.equal(cell.status, 'completed', cell.error?.message);
      assert.equal(load.plans[0]!.url, `ws://127.0.0.1:${s.port}/echo`);
      assert.ok(cell.warnings.some((w) => w.code === 'server-unobserved'));
      assert.ok(isAlive(s.pid), 'a target is not bench\'s to stop');
    } finally {
      await s.stop();
    }
  });
});

describe('runBenchmark with a voice case', () => {
  const voice = resolveScenario('voice-agent', process.cwd());

  test('starts a fresh upstream per cell, points the server at it, reports the relay and stops both', async () => {
    const upstreams: { url: string; pid: number }[] = [];
    const load = mockLoad({ voice: true });
    const r = await runBenchmark(plan({ cases: expandCases(voice) }), {
      host,
      environment: env,
      toolVersion: 't',
      startServer,
      startUpstream: async (o) => {
        const u = await startUpstream(o);
        upstreams.push({ url: u.url, pid: u.pid });
        return u;
      },
      runLoad: load.run,
      baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'completed', JSON.stringify(cell.error));
    assert.equal(upstreams.length, 1);
    assert.equal(cell.server?.relay?.upstreamUrl, upstreams[0]!.url);
    assert.equal(cell.server?.relay?.upstreamClient, 'ws');
    assert.equal(isAlive(upstreams[0]!.pid), false, 'the upstream is gone');
    assert.equal(liveUpstreams().length, 0);
    const v = cell.metrics?.voice;
    assert.ok(v, 'voice metrics');
    assert.equal(v.turnsCompleted, 10);
    assert.equal(v.upstream?.pid, upstreams[0]!.pid);
    // Both directions are relayed work: 3 s × 1000 sent + 3 s × 1000 received.
    assert.equal(v.relayedMsgs, 6000);
    assert.equal(cell.metrics?.serverCpuUsPerMsg, v.serverCpuUsPerRelayedMsg);
    // The drain waits out the longest think time (800 ms) and the burst (10 × 20 ms) before counting replies lost.
    assert.ok(load.plans[0]!.drainTimeoutMs >= 800 + 200 + 2000);
    // The upstream shares the load generator's CPUs here, so the workers must not spin-wait on them.
    assert.equal(load.plans[0]!.cpusShared, true);
    assert.equal(load.plans[0]!.url.endsWith('/relay'), true);
  });

  test('refuses a server whose relay is not the contract\'s (E_PARITY_MISMATCH), and stops the upstream', async () => {
    let upstreamPid = 0;
    const r = await runBenchmark(plan({ cases: expandCases(voice) }), {
      host,
      environment: env,
      toolVersion: 't',
      startServer: async (o) => {
        const s = await startServer(o);
        s.ready.relay = { ...s.ready.relay!, connectTimeoutMs: 1 };
        return s;
      },
      startUpstream: async (o) => {
        const u = await startUpstream(o);
        upstreamPid = u.pid;
        return u;
      },
      runLoad: mockLoad({ voice: true }).run,
      baselineSettleMs: 10,
    });
    const cell = r.cells[0]!;
    assert.equal(cell.status, 'errored');
    assert.equal(cell.error?.code, 'E_PARITY_MISMATCH');
    assert.match(cell.error?.details.join('\n') ?? '', /waits 1 ms for its upstream leg/);
    assert.equal(isAlive(upstreamPid), false);
  });

  test('workers spin-wait only when the upstream has a CPU of its own', () => {
    const [c] = expandCases(voice);
    assert.equal(loadPlanFor(c!, 'ws://127.0.0.1:1/relay', plan({ loadgenCpus: '1', upstreamCpus: '1' })).cpusShared, true);
    assert.equal(loadPlanFor(c!, 'ws://127.0.0.1:1/relay', plan({ loadgenCpus: '1', upstreamCpus: '2' })).cpusShared, undefined);
    assert.equal(loadPlanFor(expandCases(echo)[0]!, 'ws://127.0.0.1:1/echo', plan({ loadgenCpus: '1' })).cpusShared, undefined);
  });

  test('refuses a voice case against a --target it cannot point at the upstream', async () => {
    const r = await runBenchmark(plan({ cases: expandCases(voice), external: { kind: 'target', url: 'ws://127.0.0.1:1' } }), {
      host, environment: env, toolVersion: 't', startServer, startUpstream, runLoad: mockLoad({ voice: true }).run, baselineSettleMs: 10,
    });
    assert.equal(r.cells[0]!.error?.code, 'E_USAGE');
    assert.match(r.cells[0]!.error!.message, /--target/);
  });
});
