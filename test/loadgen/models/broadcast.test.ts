import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateScenario } from '../../../core/scenario.js';
import { broadcast } from '../../../loadgen/models/broadcast.js';

const validate = broadcast.validate;

const base = { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 10, rooms: 1 };

function problemsOf(load: Record<string, unknown>): string[] {
  const problems: string[] = [];
  validate(load, 'load', problems);
  return problems;
}

describe('broadcast model: validation of bursts, churn and slow consumers', () => {
  test('accepts every optional shape and keeps it on the model', () => {
    const problems: string[] = [];
    const [m] = validate(
      {
        ...base,
        arrivals: 'poisson',
        burst: { probability: 0.5, messages: 4, gapMs: 0 },
        churn: { leavesPerSec: 2.5, rejoinAfterMs: 0 },
        slowConsumers: { count: 1, readBytesPerSec: 1 },
      },
      'load',
      problems,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(m, {
      model: 'broadcast',
      publishers: 2,
      ratePerSecPerPublisher: 10,
      rooms: 1,
      arrivals: 'poisson',
      burst: { probability: 0.5, messages: 4, gapMs: 0 },
      churn: { leavesPerSec: 2.5, rejoinAfterMs: 0 },
      slowConsumers: { count: 1, readBytesPerSec: 1 },
    });
  });

  test('leaves the optional shapes off a plain broadcast', () => {
    assert.deepEqual(validate({ ...base }, 'load', []), [{ model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 10, rooms: 1 }]);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['arrivals neither constant nor poisson', { arrivals: 'bursty' }, /^load\.arrivals: must be one of "constant", "poisson"/],
    ['unknown key in burst', { burst: { probability: 1, messages: 2, gapMs: 1, size: 3 } }, /^load\.burst\.size: unknown key/],
    ['burst probability above 1', { burst: { probability: 1.5, messages: 2, gapMs: 1 } }, /^load\.burst\.probability: must be at most 1/],
    ['burst probability below 0', { burst: { probability: -0.1, messages: 2, gapMs: 1 } }, /^load\.burst\.probability: must be at least 0/],
    ['burst of 0 messages', { burst: { probability: 1, messages: 0, gapMs: 1 } }, /^load\.burst\.messages: must be at least 1/],
    ['burst of 2.5 messages', { burst: { probability: 1, messages: 2.5, gapMs: 1 } }, /^load\.burst\.messages: must be a whole number/],
    ['negative burst gap', { burst: { probability: 1, messages: 2, gapMs: -1 } }, /^load\.burst\.gapMs: must be at least 0/],
    ['burst without gapMs', { burst: { probability: 1, messages: 2 } }, /^load\.burst\.gapMs: is required/],
    ['burst not an object', { burst: 3 }, /^load\.burst: must be an object/],
    ['zero leaves per second', { churn: { leavesPerSec: 0, rejoinAfterMs: 10 } }, /^load\.churn\.leavesPerSec: must be greater than 0/],
    ['negative rejoin delay', { churn: { leavesPerSec: 1, rejoinAfterMs: -5 } }, /^load\.churn\.rejoinAfterMs: must be at least 0/],
    ['unknown key in churn', { churn: { leavesPerSec: 1, rejoinAfterMs: 5, joinsPerSec: 1 } }, /^load\.churn\.joinsPerSec: unknown key/],
    ['zero slow consumers', { slowConsumers: { count: 0, readBytesPerSec: 100 } }, /^load\.slowConsumers\.count: must be at least 1/],
    ['fractional slow consumers', { slowConsumers: { count: 1.5, readBytesPerSec: 100 } }, /^load\.slowConsumers\.count: must be a whole number/],
    ['read rate below 1 byte/s', { slowConsumers: { count: 1, readBytesPerSec: 0.5 } }, /^load\.slowConsumers\.readBytesPerSec: must be at least 1/],
    ['unknown key in slowConsumers', { slowConsumers: { count: 1, readBytesPerSec: 9, closeAfterMs: 1 } }, /^load\.slowConsumers\.closeAfterMs: unknown key/],
    ['unknown key in load', { bursts: {} }, /^load\.bursts: unknown key/],
  ];
  for (const [what, extra, re] of cases) {
    test(`refuses ${what}, naming the field`, () => {
      const problems = problemsOf({ ...base, ...extra });
      assert.ok(problems.some((p) => re.test(p)), `no problem matched ${re}: ${JSON.stringify(problems)}`);
      assert.deepEqual(validate({ ...base, ...extra }, 'load', []), [], 'an invalid load yields no model');
    });
  }
});

describe('broadcast scenario: slow consumers and churn must fit in the connections', () => {
  const scenario = (load: Record<string, unknown>) => ({
    name: 'bc',
    description: 'a broadcast test scenario',
    route: '/broadcast',
    connections: 10,
    durationSec: 2,
    load: { ...base, ...load },
    message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
  });

  test('slow consumers may take every connection that does not publish', () => {
    assert.deepEqual(validateScenario(scenario({ slowConsumers: { count: 8, readBytesPerSec: 100 } }), 'test').problems, []);
  });

  test('more slow consumers than connections − publishers are refused with the field path', () => {
    const r = validateScenario(scenario({ slowConsumers: { count: 9, readBytesPerSec: 100 } }), 'test');
    assert.equal(r.scenario, undefined);
    assert.ok(
      r.problems.some((p) => /^scenario "bc": load\.slowConsumers\.count: must be at most connections − publishers \(8\), got 9$/.test(p)),
      JSON.stringify(r.problems),
    );
  });

  test('churn needs a subscriber that is neither a publisher nor a slow consumer', () => {
    const r = validateScenario(scenario({ slowConsumers: { count: 8, readBytesPerSec: 100 }, churn: { leavesPerSec: 1, rejoinAfterMs: 0 } }), 'test');
    assert.ok(r.problems.some((p) => /load\.churn: needs a subscriber/.test(p)), JSON.stringify(r.problems));
    assert.deepEqual(validateScenario(scenario({ slowConsumers: { count: 7, readBytesPerSec: 100 }, churn: { leavesPerSec: 1, rejoinAfterMs: 0 } }), 'test').problems, []);
  });
});
