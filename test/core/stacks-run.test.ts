// The Socket.IO stacks as runtimes of `bench run`, end to end through runBenchmark with the real launcher and
// load generator: every load model on every stack with zero delivery errors, their settings checked and
// recorded, socket.io-client agreeing with the raw client, and a plan a stack cannot take refused up front.
// Short windows: what is tested is that the protocol layer loses, adds and corrupts nothing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { captureEnvironment } from '../../core/environment.js';
import { currentHost } from '../../core/host.js';
import { liveServers, liveUpstreams, startServer, startUpstream, stopAllServers } from '../../core/launcher.js';
import { runBenchmark, type RunPlan } from '../../core/run.js';
import { probeRuntimes, RUNTIMES, STACK_IDS } from '../../core/runtimes.js';
import { expandCases, resolveScenario, type Scenario } from '../../core/scenario.js';
import { runLoad } from '../../loadgen/run.js';
import { tableFormat } from '../../report/table.js';
import type { CellResult, RunResult } from '../../schema/result.js';
import { STACK_SETTINGS } from '../../servers/settings.js';

const host = currentHost();
const env = await captureEnvironment(host, 'test');
const statuses = await probeRuntimes(host);
const usableStacks = STACK_IDS.filter((id) => statuses.find((s) => s.id === id)?.usable);

after(() => stopAllServers());

/**
 * A built-in scenario, shortened: 0.6 s of window after 0.2 s of warmup. Enough for what is checked (counts
 * add up, nothing lost): 1,200 echoes, three voice turns per session, six churn leaves.
 */
function short(name: string, edit: (s: Scenario) => Scenario = (s) => s): Scenario {
  return edit({ ...resolveScenario(name, process.cwd()), warmupSec: 0.2, durationSec: 0.6 });
}

const dashboard = short('dashboard', (s) => ({
  ...s,
  connections: 60,
  load: { ...s.load, rooms: 4, publishers: 8, ratePerSecPerPublisher: 5, churn: { leavesPerSec: 10, rejoinAfterMs: 100 } },
}));
const echoRate = short('echo-rate-text', (s) => ({ ...s, connections: 20, load: { ...s.load, ratesPerSec: [2000] } }));

function plan(runtimes: string[], scenarios: Scenario[], over: Partial<RunPlan> = {}): RunPlan {
  return {
    runtimes,
    cases: scenarios.flatMap(expandCases),
    repeat: 1,
    seed: 1,
    quick: true,
    serverCpus: null,
    loadgenCpus: null,
    referenceRuntime: runtimes[0]!,
    client: 'raw',
    workers: 1,
    label: 'stacks',
    commandLine: ['bench', 'run'],
    ...over,
  };
}

const run = (p: RunPlan): Promise<RunResult> =>
  runBenchmark(p, { host, environment: env, toolVersion: 'test', startServer, startUpstream, runLoad, baselineSettleMs: 50 });

function faults(c: CellResult) {
  const d = c.metrics!.delivery;
  return { lost: d.lost, duplicated: d.duplicated, corrupted: d.corrupted, outOfOrder: d.outOfOrder, misdelivered: d.misdelivered, errors: Object.values(c.metrics!.errors).reduce((a, n) => a + (n ?? 0), 0) };
}
const NO_FAULTS = { lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0, errors: 0 };

function assertClean(r: RunResult): void {
  for (const c of r.cells) {
    assert.equal(c.status, 'completed', `${c.id}: ${c.error?.message} ${c.error?.details.join(' | ')}`);
    assert.deepEqual(faults(c), NO_FAULTS, c.id);
    assert.ok(c.metrics!.delivery.received > 0, `${c.id}: something was delivered`);
    assert.equal(c.metrics!.delivery.received, c.metrics!.delivery.expected, c.id);
  }
  assert.equal(r.status, 'completed');
  assert.equal(liveServers().length, 0);
  assert.equal(liveUpstreams().length, 0);
}

describe('the stacks in bench run', { skip: usableStacks.length === 0 ? 'no stack can run here' : false }, () => {
  test('dashboard fan-out (rooms, churn) and echo at a rate on every stack: zero delivery errors, stack settings recorded', async () => {
    const r = await run(plan([...usableStacks], [dashboard, echoRate]));
    assertClean(r);
    for (const c of r.cells.filter((x) => x.scenario === 'dashboard')) {
      assert.ok((c.metrics!.churn?.leaves ?? 0) > 0, `${c.id}: subscribers left and rejoined`);
    }
    for (const id of usableStacks) {
      const cell = r.cells.find((c) => c.runtime === id)!;
      assert.equal(cell.server?.library, 'socket.io');
      assert.deepEqual(cell.server?.stack?.settings, STACK_SETTINGS);
      assert.deepEqual(r.parity.stacks?.[id], STACK_SETTINGS);
    }
    assert.deepEqual(r.parity.differences, []);
    if (usableStacks.includes('bun-socketio') && usableStacks.includes('node-socketio')) assert.match(tableFormat.render(r), /bun-socketio ÷ node-socketio/);
  });

  test('the voice relay on both engines and upstream clients: every turn answered, every reply intact; idle sessions held in steps beside the bare server', async () => {
    const voice = short('voice-agent', (s) => ({
      ...s,
      connections: 6,
      load: { ...s.load, framesPerTurn: 10, upstream: { ...(s.load['upstream'] as object), latency: 'uniform:20:60', chunks: 4 } },
    }));
    const idle = short('idle', (s) => ({ ...s, connections: 300, load: { model: 'idle', steps: 3 } }));
    // node-socketio-uws and node-socketio share engine.io's Node relay and ws as the upstream client; bun-socketio has Bun's.
    const r = await run(plan(usableStacks.filter((id) => id !== 'node-socketio'), [voice]));
    assertClean(r);
    for (const c of r.cells) {
      const v = c.metrics!.voice!;
      assert.ok(v.turnsCompleted > 0 && v.turnsCompleted === v.turnsTriggered, `${c.id}: ${v.turnsCompleted}/${v.turnsTriggered} turns`);
      assert.equal(v.repliesCorrupted, 0, c.id);
    }
    // A stack beside its bare counterpart: allowed (the heartbeat is the stack's), and the report reads the layer's cost.
    const stack = usableStacks.at(-1)!;
    const bare = RUNTIMES[stack].bare!;
    const idleRun = await run(plan([stack, bare], [idle]));
    for (const cell of idleRun.cells) {
      assert.equal(cell.status, 'completed', `${cell.id}: ${cell.error?.message} ${cell.error?.details.join(' | ')}`);
      assert.deepEqual(cell.warnings.filter((w) => w.code === 'delivery-errors'), [], cell.id);
      assert.ok(cell.metrics!.memory, `${cell.id}: memory read over the steps`);
      // A slope over three small steps may be noise for a runtime as lean as Bun: then no figure, never a negative one.
      const perConn = cell.metrics!.bytesPerConnection;
      assert.ok(perConn === null || perConn > 0, `${cell.id}: ${perConn}`);
      if (perConn !== null) assert.equal(cell.metrics!.memory?.idle?.n, 3, cell.id);
    }
    assert.equal(idleRun.cells.find((c) => c.runtime === bare)!.server?.stack, undefined);
    assert.deepEqual(idleRun.parity.differences, []);
    const text = tableFormat.render(idleRun);
    assert.match(text, new RegExp(`${stack} ÷ ${bare}`));
    assert.match(text, /stack\.pingIntervalMs/);
  });

  test('socket.io-client as the cross-check client, on the closed loop: every echo arrives, nothing else', { skip: usableStacks.includes('node-socketio') ? false : 'node-socketio cannot run here' }, async () => {
    const echo = short('echo-text', (s) => ({ ...s, connections: 8, load: { model: 'closed', depth: 4 } }));
    const r = await run(plan(['node-socketio'], [echo], { client: 'socketio' }));
    assertClean(r);
    assert.equal(r.settings.client, 'socketio');
  });

  test('a plan a stack cannot take is refused before any server starts, naming the field', async () => {
    const echo = short('echo');
    await assert.rejects(run(plan(['node-socketio', 'bun'], [echo])), (e: unknown) => {
      assert.ok(isBenchError(e) && e.code === 'E_USAGE');
      assert.match(e.details.join('\n'), /scenario "echo": message\.kind: "binary" cannot go to a Socket\.IO stack \(node-socketio\).*echo-text/);
      return true;
    });
    await assert.rejects(run(plan(['node-socketio'], [echoRate], { client: 'ws' })), (e: unknown) => isBenchError(e) && /--client ws/.test(e.details.join()));
    assert.equal(liveServers().length, 0);
  });
});
