import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { applyQuick, builtinScenarios, expandCases, resolveScenario, validateScenario } from '../../core/scenario.js';

const valid = {
  name: 'mine',
  description: 'a test scenario',
  route: '/echo',
  connections: 10,
  warmupSec: 1,
  durationSec: 2,
  load: { model: 'closed', depth: 4 },
  message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
};

describe('validateScenario', () => {
  test('accepts a valid scenario', () => {
    const r = validateScenario(valid, 'test');
    assert.deepEqual(r.problems, []);
    assert.equal(r.scenario?.connections, 10);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unknown top-level key', { ...valid, conections: 5 }, /^scenario "mine": conections: unknown key/],
    ['zero connections', { ...valid, connections: 0 }, /^scenario "mine": connections: must be at least 1, got 0$/],
    ['fractional connections', { ...valid, connections: 2.5 }, /connections: must be a whole number/],
    ['string duration', { ...valid, durationSec: '5' }, /durationSec: must be a number, got "5"/],
    ['unknown model', { ...valid, load: { model: 'zigzag' } }, /load\.model: must be one of "closed", "open", "broadcast", "idle", "http"/],
    ['depth below 1', { ...valid, load: { model: 'closed', depth: 0 } }, /load\.depth: must be at least 1/],
    ['unknown key in load', { ...valid, load: { model: 'closed', depht: 2 } }, /load\.depht: unknown key/],
    ['empty rates', { ...valid, load: { model: 'open', ratesPerSec: [] } }, /load\.ratesPerSec: must be a non-empty list/],
    ['bad rate', { ...valid, load: { model: 'open', ratesPerSec: [100, -1] } }, /load\.ratesPerSec\[1\]: must be at least 1/],
    ['missing message', { ...valid, message: undefined }, /message: is required/],
    ['route/model mismatch', { ...valid, route: '/broadcast' }, /route: the closed model drives \/echo, got "\/broadcast" \(\/broadcast is for the broadcast model\)/],
    ['too many publishers', { ...valid, route: '/broadcast', load: { model: 'broadcast', publishers: 20, ratePerSecPerPublisher: 1 } }, /load\.publishers: must be at most connections \(10\)/],
    ['bad message size', { ...valid, message: { kind: 'binary', size: { type: 'fixed', bytes: 4 } } }, /^scenario "mine": message\.size/],
    ['json template without a header', { ...valid, message: { kind: 'json', template: { type: 'ping', id: '{{id}}', at: '{{sentAtUs}}' } } }, /^scenario "mine": message\.template: the closed model needs \{\{conn\}\}, \{\{seq\}\} and \{\{sentAtUs\}\} to account for every delivery$/],
    ['json template with an unknown generator', { ...valid, message: { kind: 'json', template: { data: '{{foo}}' } } }, /^scenario "mine": message\.template\.data: unknown generator "\{\{foo\}\}"/],
    ['unknown quick key', { ...valid, quick: { duration: 1 } }, /quick\.duration: unknown key/],
    ['quick preset with fewer connections than publishers', { ...valid, connections: 50, route: '/broadcast', load: { model: 'broadcast', publishers: 20, ratePerSecPerPublisher: 1 }, quick: { connections: 10 } }, /load\.publishers: must be at most quick\.connections \(10\), got 20/],
    ['voice model on another route', { ...valid, load: { model: 'voice' }, message: { kind: 'json', template: { a: '{{base64:8}}' } } }, /route: the voice model drives \/relay, got "\/echo"/],
    ['relay route for another model', { ...valid, route: '/relay' }, /route: the closed model drives \/echo, got "\/relay" \(\/relay is for the voice model\)/],
  ];
  for (const [what, raw, re] of cases) {
    test(`names the field: ${what}`, () => {
      const r = validateScenario(raw, 'test');
      assert.equal(r.scenario, undefined);
      assert.ok(r.problems.some((p) => re.test(p)), `no problem matched ${re}: ${JSON.stringify(r.problems)}`);
    });
  }

  test('accepts a json template that carries the sender, sequence number and send time', () => {
    const message = { kind: 'json', template: { c: '{{conn}}', s: '{{seq}}', t: '{{sentAtUs}}', pad: '{{pad}}' }, size: { type: 'fixed', bytes: 200 } };
    const r = validateScenario({ ...valid, message }, 'test');
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.scenario?.message, message);
  });

  test('collects every problem, not only the first', () => {
    const r = validateScenario({ ...valid, connections: -1, durationSec: 0, extra: 1 }, 'test');
    assert.ok(r.problems.length >= 3, JSON.stringify(r.problems));
  });
});

describe('built-in scenarios', () => {
  test('all are valid and each has a description', () => {
    const all = builtinScenarios();
    assert.deepEqual(all.map((s) => s.name).sort(), [
      'broadcast',
      'ceiling',
      'chat',
      'chat-capacity',
      'dashboard',
      'dashboard-capacity',
      'echo',
      'echo-rate',
      'echo-rate-capacity',
      'echo-rate-text',
      'echo-text',
      'http',
      'idle',
      'slow-consumer',
      'voice-agent',
      'voice-agent-capacity',
    ]);
    for (const s of all) assert.ok(s.description.length > 40, s.name);
  });

  test('echo-rate expands into one case per rate, and --quick applies the overrides', () => {
    const s = resolveScenario('echo-rate', process.cwd());
    assert.deepEqual(expandCases(s).map((c) => c.name), ['echo-rate@10000/s', 'echo-rate@50000/s']);
    assert.equal(applyQuick(s).durationSec, s.quick?.durationSec);
  });

  test('an unknown name lists the built-ins (E_INVALID_SCENARIO)', () => {
    assert.throws(() => resolveScenario('nope', process.cwd()), (e: { code?: string; hint?: string }) => e.code === 'E_INVALID_SCENARIO' && /echo-rate/.test(e.hint ?? ''));
  });

  test('a file path is loaded and validated with every problem listed', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-scn-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...valid, connections: 0, warmupSec: -1 }));
    assert.throws(
      () => resolveScenario(file, dir),
      (e: { code?: string; details?: string[] }) => e.code === 'E_INVALID_SCENARIO' && (e.details ?? []).length === 2,
    );
    writeFileSync(file, '{ not json');
    assert.throws(() => resolveScenario(file, dir), /not valid JSON/);
  });
});
