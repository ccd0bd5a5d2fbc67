import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchError } from '../../base/errors.js';
import { parseRuntimeLabels, registryIdOf } from '../../core/runtimes.js';

describe('registryIdOf', () => {
  const cases: [string, string][] = [
    ['bun', 'bun'],
    ['bun#2', 'bun'],
    ['bun#mine', 'bun'],
    ['bun@1.3.14', 'bun'],
    ['node-ws@24', 'node-ws'],
    ['node-ws@24.22.3#2', 'node-ws'],
    ['node-ws@system', 'node-ws'],
    ['node-socketio-uws@22', 'node-socketio-uws'],
    ['my-server', 'my-server'],
  ];
  for (const [label, id] of cases) test(`${label} → ${id}`, () => assert.equal(registryIdOf(label), id));
});

describe('parseRuntimeLabels', () => {
  const cases: [string, string[], string[]][] = [
    ['a group expands once', ['all', 'bun'], ['bun', 'node-ws', 'node-uws', 'deno', 'bun#2']],
    ['an id named again is an A/A copy', ['bun', 'bun', 'bun'], ['bun', 'bun#2', 'bun#3']],
    ['a named copy is kept', ['bun', 'bun#mine'], ['bun', 'bun#mine']],
    ['versions are kept as written', ['bun@1.3.14', 'bun@1.4.5', 'node-ws@24', 'node-ws@system'], ['bun@1.3.14', 'bun@1.4.5', 'node-ws@24', 'node-ws@system']],
    ['a version named again is a copy of that version', ['bun@1.3.14', 'bun@1.3.14'], ['bun@1.3.14', 'bun@1.3.14#2']],
    ['a copy of a version named again', ['bun@1.3.14#a', 'bun@1.3.14#a'], ['bun@1.3.14#a', 'bun@1.3.14#2']],
    ['comma lists', ['bun@1.3,deno@2.8'], ['bun@1.3', 'deno@2.8']],
    ['a stack with a version', ['node-socketio@22'], ['node-socketio@22']],
  ];
  for (const [name, items, labels] of cases) test(name, () => assert.deepEqual(parseRuntimeLabels(items), labels));

  test('an unknown id is refused whatever version it names', () => {
    for (const item of ['nodejs', 'nodejs@20', 'node@20']) {
      assert.throws(() => parseRuntimeLabels([item]), (e: unknown) => e instanceof BenchError && e.code === 'E_UNKNOWN_RUNTIME');
    }
  });
});
