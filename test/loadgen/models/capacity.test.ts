import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyQuick, builtinScenarios, expandCases, validateScenario } from '../../../core/scenario.js';
import { capacity, defaultSlo, expandLevels, workloadAt } from '../../../loadgen/models/capacity.js';
import type { BroadcastModel, CapacityModel } from '../../../loadgen/types.js';

const open = { model: 'open', arrivals: 'constant' };

function problemsOf(load: Record<string, unknown>): string[] {
  const problems: string[] = [];
  capacity.validate(load, 'load', problems);
  return problems;
}

function modelOf(load: Record<string, unknown>): CapacityModel {
  const problems: string[] = [];
  const [m] = capacity.validate(load, 'load', problems);
  assert.deepEqual(problems, []);
  return m!;
}

describe('capacity model: levels', () => {
  const cases: [string, unknown, boolean, number[] | RegExp][] = [
    ['a list', [10, 20, 40], true, [10, 20, 40]],
    ['equal steps, the top included', { from: 10, to: 45, step: 10 }, true, [10, 20, 30, 40, 45]],
    ['doubling', { from: 25, to: 800, factor: 2 }, true, [25, 50, 100, 200, 400, 800]],
    ['a factor on whole numbers rounds and drops repeats', { from: 1, to: 4, factor: 1.2 }, true, [1, 2, 3, 4]],
    ['rates keep fractions', { from: 1000, to: 2000, factor: 1.5 }, false, [1000, 1500, 2000]],
    ['one level', { from: 5, to: 5, step: 1 }, true, [5]],
    ['a list must increase', [10, 10], true, /load\.levels\[1\]: levels must increase, got 10 after 10/],
    ['a list is not empty', [], true, /load\.levels: must list 1 to 100 levels, got 0/],
    ['whole numbers of connections', [1.5], true, /load\.levels\[0\]: must be a whole number/],
    ['step or factor, not both', { from: 1, to: 4, step: 1, factor: 2 }, true, /exactly one of step .* and factor/],
    ['step or factor, not neither', { from: 1, to: 4 }, true, /exactly one of step .* and factor/],
    ['to below from', { from: 10, to: 5, step: 1 }, true, /load\.levels\.to: must be at least from \(10\), got 5/],
    ['too many levels', { from: 1, to: 1000, step: 1 }, true, /more than 100 levels from 1 to 1000; take a larger step/],
    ['unknown keys', { from: 1, to: 4, step: 1, by: 2 }, true, /load\.levels\.by: unknown key/],
    ['not a list or object', 'many', true, /load\.levels: must be an object/],
  ];
  for (const [what, raw, integer, want] of cases) {
    test(what, () => {
      const problems: string[] = [];
      const levels = expandLevels(raw, 'load.levels', problems, integer);
      if (Array.isArray(want)) {
        assert.deepEqual(problems, []);
        assert.deepEqual(levels, want);
      } else {
        assert.equal(levels, undefined);
        assert.match(problems.join('\n'), want);
      }
    });
  }
});

describe('capacity model: validation, with field paths', () => {
  test('defaults a user recognises: per workload latency bounds, 0.1% loss, CPU below 90%, two bisection steps', () => {
    const echo = modelOf({ model: 'capacity', workload: open, levels: [1000, 2000] });
    assert.equal(echo.dimension, 'rate');
    assert.equal(echo.bisectSteps, 2);
    assert.deepEqual(echo.slo, { latencyP99Ms: 10, firstChunkP99Ms: null, lastMemberP99Ms: null, maxLossRatio: 0.001, maxServerCpuPct: 90, memoryBudgetMiB: null });
    const voice = modelOf({ model: 'capacity', workload: { model: 'voice', upstream: { latency: 'uniform:200:800' } }, levels: [10, 20] });
    assert.equal(voice.dimension, 'sessions');
    // The relay's share of a turn within a frame; the first chunk within the longest think time plus 200 ms.
    assert.equal(voice.slo.latencyP99Ms, 20);
    assert.equal(voice.slo.firstChunkP99Ms, 1000);
    const fan = modelOf({ model: 'capacity', workload: { model: 'broadcast', publishers: 3, ratePerSecPerPublisher: 2, rooms: 1 }, levels: [10, 20] });
    assert.equal(fan.dimension, 'members');
    assert.equal(fan.slo.latencyP99Ms, 50);
    assert.equal(fan.slo.lastMemberP99Ms, 100);
    assert.deepEqual(defaultSlo(fan.workload), fan.slo);
  });

  test('every SLO bound is overridable, and null turns a secondary bound off', () => {
    const m = modelOf({
      model: 'capacity',
      workload: { model: 'broadcast', publishers: 3, ratePerSecPerPublisher: 2, rooms: 1 },
      levels: [10, 20],
      slo: { latencyP99Ms: 80, lastMemberP99Ms: null, maxLossRatio: 0, maxServerCpuPct: 75, memoryBudgetMiB: 512 },
      bisectSteps: 0,
      projectFor: 250000,
    });
    assert.deepEqual(m.slo, { latencyP99Ms: 80, firstChunkP99Ms: null, lastMemberP99Ms: null, maxLossRatio: 0, maxServerCpuPct: 75, memoryBudgetMiB: 512 });
    assert.equal(m.bisectSteps, 0);
    assert.equal(m.projectFor, 250000);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['workload and levels are required', { model: 'capacity' }, /load\.workload: is required[\s\S]*load\.levels: is required/],
    ['a workload it cannot scale', { model: 'capacity', workload: { model: 'closed', depth: 1 }, levels: [1] }, /load\.workload\.model: must be one of "open", "broadcast", "voice", got "closed"/],
    ["the workload's own problems, under its path", { model: 'capacity', workload: { model: 'broadcast', publishers: 0, ratePerSecPerPublisher: 1 }, levels: [1] }, /load\.workload\.publishers: must be at least 1/],
    ["a dimension the workload does not have", { model: 'capacity', workload: open, dimension: 'members', levels: [1] }, /load\.dimension: the open workload is searched over rate or connections/],
    ['a voice bound on an echo workload', { model: 'capacity', workload: open, levels: [1], slo: { firstChunkP99Ms: 100 } }, /load\.slo\.firstChunkP99Ms: unknown key/],
    ['a loss ratio above 1', { model: 'capacity', workload: open, levels: [1], slo: { maxLossRatio: 2 } }, /load\.slo\.maxLossRatio: must be at most 1, got 2/],
    ['slow consumers are not a bound to search under', { model: 'capacity', workload: { model: 'broadcast', publishers: 1, ratePerSecPerPublisher: 1, slowConsumers: { count: 1, readBytesPerSec: 10 } }, levels: [2] }, /load\.workload\.slowConsumers: not in a capacity search/],
    ['one reference rate', { model: 'capacity', workload: { ...open, ratesPerSec: [1, 2] }, dimension: 'connections', levels: [1] }, /load\.workload\.ratesPerSec: a capacity search takes one reference rate/],
    ['the quick levels are checked too', { model: 'capacity', workload: open, levels: [1], quick: { levels: [3, 2] } }, /load\.quick\.levels\[1\]: levels must increase/],
    ['unknown keys', { model: 'capacity', workload: open, levels: [1], steps: 3 }, /load\.steps: unknown key/],
    ['a bisection of at most 20 steps', { model: 'capacity', workload: open, levels: [1], bisectSteps: 21 }, /load\.bisectSteps: must be at most 20/],
  ];
  for (const [what, load, want] of bad) {
    test(`refused: ${what}`, () => assert.match(problemsOf(load).join('\n'), want));
  }

  const scenario = (load: Record<string, unknown>, o: Record<string, unknown> = {}) =>
    validateScenario({ name: 'cap', description: 'a capacity search', route: '/echo', connections: 10, durationSec: 1, load, message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } }, ...o }, 'test');

  test("in a scenario: the workload's route and message rules apply", () => {
    assert.deepEqual(scenario({ model: 'capacity', workload: open, levels: [100] }).problems, []);
    const route = scenario({ model: 'capacity', workload: open, levels: [100] }, { route: '/relay' }).problems.join('\n');
    assert.match(route, /route: the open workload drives \/echo, got "\/relay"/);
    const template = scenario({ model: 'capacity', workload: open, levels: [100] }, { message: { kind: 'json', template: { a: 1 } } }).problems.join('\n');
    assert.match(template, /message\.template: the open model needs \{\{conn\}\}/);
    const members = scenario({ model: 'capacity', workload: { model: 'broadcast', publishers: 20, ratePerSecPerPublisher: 1 }, levels: [10] }, { route: '/broadcast' }).problems.join('\n');
    assert.match(members, /load\.workload\.publishers: must be at most connections \(10\), got 20/);
  });

  test('its own quick preset under load.quick replaces the levels and bisection steps', () => {
    const r = scenario({ model: 'capacity', workload: open, levels: [100, 200, 400], quick: { levels: [100, 200], bisectSteps: 0 } }, { quick: { durationSec: 0.5 } });
    assert.deepEqual(r.problems, []);
    const [full] = expandCases(r.scenario!);
    const [quick] = expandCases(applyQuick(r.scenario!));
    assert.deepEqual((full!.model as CapacityModel).levels, [100, 200, 400]);
    assert.deepEqual((quick!.model as CapacityModel).levels, [100, 200]);
    assert.equal((quick!.model as CapacityModel).bisectSteps, 0);
  });

  test('the peak connections are the top level, except for the rate dimension', () => {
    assert.equal(capacity.peakConnections!(modelOf({ model: 'capacity', workload: open, levels: [1000, 9000] }), 100), 100);
    assert.equal(capacity.peakConnections!(modelOf({ model: 'capacity', workload: { ...open, ratesPerSec: [100] }, dimension: 'connections', levels: [10, 400] }), 100), 400);
  });
});

describe('capacity model: the workload at a level', () => {
  test('rate: the aggregate rate on the reference connections', () => {
    const m = modelOf({ model: 'capacity', workload: open, levels: [1000] });
    assert.deepEqual(workloadAt(m, 5000, 100), { model: { model: 'open', ratePerSec: 5000, arrivals: 'constant' }, connections: 100 });
  });

  test("connections: each at the reference's rate per connection", () => {
    const m = modelOf({ model: 'capacity', workload: { ...open, ratesPerSec: [200] }, dimension: 'connections', levels: [10] });
    assert.deepEqual(workloadAt(m, 30, 10), { model: { model: 'open', ratePerSec: 600, arrivals: 'constant' }, connections: 30 });
  });

  test('sessions: the voice workload as it is, on that many sessions', () => {
    const m = modelOf({ model: 'capacity', workload: { model: 'voice' }, levels: [10] });
    const at = workloadAt(m, 80, 50);
    assert.equal(at.connections, 80);
    assert.deepEqual(at.model, m.workload);
  });

  test('members: rooms of the reference size with its publishers per room, churn kept as a share of the members', () => {
    const m = modelOf({ model: 'capacity', workload: { model: 'broadcast', rooms: 20, publishers: 60, ratePerSecPerPublisher: 2, churn: { leavesPerSec: 20, rejoinAfterMs: 500 } }, levels: [250] });
    const at = workloadAt(m, 250, 1000);
    assert.equal(at.connections, 250);
    const b = at.model as BroadcastModel;
    assert.equal(b.rooms, 5);
    assert.equal(b.publishers, 15);
    assert.equal(b.ratePerSecPerPublisher, 2);
    assert.deepEqual(b.churn, { leavesPerSec: 5, rejoinAfterMs: 500 });
    // Every member a publisher (chat): they all publish at every level.
    const chat = modelOf({ model: 'capacity', workload: { model: 'broadcast', rooms: 4, publishers: 200, ratePerSecPerPublisher: 0.2 }, levels: [100] });
    assert.deepEqual([(workloadAt(chat, 100, 200).model as BroadcastModel).rooms, (workloadAt(chat, 100, 200).model as BroadcastModel).publishers], [2, 100]);
    assert.deepEqual([(workloadAt(chat, 10, 200).model as BroadcastModel).rooms, (workloadAt(chat, 10, 200).model as BroadcastModel).publishers], [1, 10]);
  });
});

describe('capacity scenarios', () => {
  test('the four built-in capacity variants are valid, not in the default set, and have a smaller quick preset', () => {
    const all = builtinScenarios().filter((s) => s.name.endsWith('-capacity'));
    assert.deepEqual(all.map((s) => s.name).sort(), ['chat-capacity', 'dashboard-capacity', 'echo-rate-capacity', 'voice-agent-capacity']);
    for (const s of all) {
      assert.equal(s.default, false, s.name);
      const [full] = expandCases(s);
      const [quick] = expandCases(applyQuick(s));
      const f = full!.model as CapacityModel;
      const q = quick!.model as CapacityModel;
      assert.equal(f.model, 'capacity');
      assert.ok(q.levels.at(-1)! < f.levels.at(-1)!, s.name);
      assert.ok(q.bisectSteps <= f.bisectSteps, s.name);
      assert.ok(f.projectFor !== null, s.name);
    }
  });
});
