import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { parseRuntimeList, protocolOf, RUNTIME_IDS, RUNTIMES, STACK_IDS } from '../../core/runtimes.js';
import { expandCases, resolveScenario, type Scenario } from '../../core/scenario.js';
import { assertStackPlan, defaultScenariosFor, protocolFor, stackPlanProblems, TEXT_TWINS } from '../../core/stack-plan.js';
import type { RunPlan } from '../../core/run.js';

const scenario = (name: string): Scenario => resolveScenario(name, process.cwd());

type PlanPart = Pick<RunPlan, 'runtimes' | 'external' | 'client' | 'cases'>;
const part = (runtimes: string[], scenarios: string[], client: RunPlan['client'] = 'raw', external?: RunPlan['external']): PlanPart => ({
  runtimes,
  client,
  cases: scenarios.map(scenario).flatMap(expandCases),
  ...(external ? { external } : {}),
});

describe('the registry', () => {
  test('every stack speaks Socket.IO and names a bare counterpart that speaks WebSocket; every bare runtime speaks WebSocket', () => {
    for (const id of RUNTIME_IDS) {
      const spec = RUNTIMES[id];
      const isStack = (STACK_IDS as readonly string[]).includes(id);
      assert.equal(spec.protocol, isStack ? 'socket.io' : 'websocket', id);
      if (isStack) {
        assert.equal(RUNTIMES[spec.bare!].protocol, 'websocket', id);
        assert.equal(RUNTIMES[spec.bare!].runtime, spec.runtime, `${id} runs on its bare counterpart's runtime`);
        assert.equal(RUNTIMES[spec.bare!].uws, spec.uws, `${id} and its bare counterpart share the WebSocket library`);
      } else assert.equal(spec.bare, null, id);
    }
  });

  test('`all` is the bare four, `stacks` the three stacks; ids and groups mix, in order, without repeats', () => {
    assert.deepEqual(parseRuntimeList(['all']), ['bun', 'node-ws', 'node-uws', 'deno']);
    assert.deepEqual(parseRuntimeList(['stacks']), ['node-socketio', 'node-socketio-uws', 'bun-socketio']);
    assert.deepEqual(parseRuntimeList(['node-socketio,bun', 'stacks']), ['node-socketio', 'bun', 'node-socketio-uws', 'bun-socketio']);
    assert.throws(() => parseRuntimeList(['socketio']), (e: unknown) => isBenchError(e) && e.code === 'E_UNKNOWN_RUNTIME' && /stacks/.test(e.hint ?? ''));
  });

  test('a label outside the registry, or any server of a --target or --server-cmd run, is spoken to in bare WebSocket', () => {
    assert.equal(protocolOf('custom'), 'websocket');
    assert.equal(protocolFor('node-socketio', {}), 'socket.io');
    assert.equal(protocolFor('node-socketio', { external: { kind: 'command', command: 'node x.js' } }), 'websocket');
  });
});

describe('stackPlanProblems', () => {
  const table: [string, PlanPart, RegExp[]][] = [
    ['bare servers with the ws client', part(['bun', 'node-ws'], ['echo'], 'ws'), []],
    ['stacks with text, json and no messages, raw client', part(['node-socketio', 'bun'], ['echo-rate-text', 'dashboard', 'voice-agent', 'idle', 'http'], 'raw'), []],
    ['stacks with the socketio client', part(['node-socketio', 'bun-socketio'], ['broadcast'], 'socketio'), []],
    ['a binary scenario on a stack', part(['node-socketio', 'bun-socketio', 'bun'], ['echo-rate']), [/^scenario "echo-rate": message\.kind: "binary" cannot go to the Socket\.IO stacks \(node-socketio, bun-socketio\).*the built-in echo-rate-text is echo-rate with text messages/]],
    ['a binary scenario without a twin', part(['bun-socketio'], ['slow-consumer']), [/^scenario "slow-consumer": message\.kind: "binary" cannot go to a Socket\.IO stack \(bun-socketio\): .*use "text" or "json"$/]],
    ['the ws client to a stack', part(['node-socketio', 'node-ws'], ['broadcast'], 'ws'), [/^--client ws: .*node-socketio is a Socket\.IO stack/]],
    ['the socketio client to bare servers', part(['node-socketio', 'node-ws', 'bun'], ['broadcast'], 'socketio'), [/^--client socketio: .*node-ws, bun are bare WebSocket servers/]],
    ['the socketio client to a --target', part(['custom'], ['broadcast'], 'socketio', { kind: 'target', url: 'ws://127.0.0.1:9' }), [/^--client socketio: .*custom is a bare WebSocket server/]],
  ];
  for (const [what, p, expected] of table) {
    test(`${what}: ${expected.length === 0 ? 'runs' : 'refused, naming the flag or field'}`, () => {
      const problems = stackPlanProblems(p);
      assert.equal(problems.length, expected.length, problems.join('\n'));
      expected.forEach((re, i) => assert.match(problems[i]!, re));
    });
  }

  test('a ceiling whose heartbeat is a WebSocket ping is refused on a stack; an echo heartbeat is not', () => {
    const ceiling = scenario('ceiling');
    const withPing: Scenario = { ...ceiling, load: { ...ceiling.load, heartbeat: { kind: 'ping', intervalMs: 1000, bytes: 16 } } };
    const p = (s: Scenario): PlanPart => ({ runtimes: ['node-socketio-uws'], client: 'raw', cases: expandCases(s) });
    assert.deepEqual(stackPlanProblems(p(ceiling)), []);
    assert.match(stackPlanProblems(p(withPing))[0]!, /^scenario "ceiling": load\.heartbeat\.kind: "ping" is a WebSocket ping/);
  });

  test('assertStackPlan throws E_USAGE with every problem as a detail', () => {
    assert.throws(
      () => assertStackPlan(part(['node-socketio'], ['echo', 'echo-rate'], 'ws')),
      (e: unknown) => isBenchError(e) && e.code === 'E_USAGE' && e.details.length === 3,
    );
  });
});

describe('defaultScenariosFor', () => {
  const defaults = ['echo', 'echo-rate', 'broadcast', 'http', 'idle', 'voice-agent'].map(scenario);

  test('leaves the default set alone without a stack', () => {
    const d = defaultScenariosFor(defaults, ['bun', 'node-ws'], scenario);
    assert.deepEqual(d.scenarios.map((s) => s.name), defaults.map((s) => s.name));
    assert.equal(d.note, undefined);
  });

  test('with a stack, runs the text twins of the binary echo scenarios for every runtime, and says so', () => {
    const d = defaultScenariosFor(defaults, ['node-socketio', 'bun'], scenario);
    assert.deepEqual(d.scenarios.map((s) => s.name), ['echo-text', 'echo-rate-text', 'broadcast', 'http', 'idle', 'voice-agent']);
    assert.match(d.note ?? '', /node-socketio speaks Socket\.IO.*echo → echo-text, echo-rate → echo-rate-text/);
    assert.deepEqual(stackPlanProblems({ runtimes: ['node-socketio', 'bun'], client: 'raw', cases: d.scenarios.flatMap(expandCases) }), []);
  });

  test('each twin is its scenario with text messages of the same size, the same load and route', () => {
    for (const [name, twin] of Object.entries(TEXT_TWINS)) {
      const a = scenario(name);
      const b = scenario(twin);
      assert.equal(b.message?.kind, 'text', twin);
      assert.deepEqual({ ...b.message, kind: 'binary' }, a.message, twin);
      assert.deepEqual([b.route, b.connections, b.warmupSec, b.durationSec, b.load, b.quick, b.default], [a.route, a.connections, a.warmupSec, a.durationSec, a.load, a.quick, false], twin);
    }
  });
});
