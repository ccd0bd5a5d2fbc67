import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_JSON_DEPTH, parseJsonText, tooDeepAt } from '../../base/json.js';

const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);

describe('tooDeepAt', () => {
  const cases: [string, unknown, number, string | undefined][] = [
    ['a scalar is depth 0', 5, 0, undefined],
    ['[] is depth 1', [], 1, undefined],
    ['[] is too deep for 0', [], 0, '(top level)'],
    ['[[1]] is depth 2', [[1]], 2, undefined],
    ['[[1]] is too deep for 1, under index 0', [[1]], 1, '[0]'],
    ['an object names its top-level key', { a: 1, b: { c: { d: 1 } } }, 2, 'b'],
    ['within the bound', { a: { b: { c: 1 } } }, 3, undefined],
  ];
  for (const [name, value, max, want] of cases) test(name, () => assert.equal(tooDeepAt(value, max), want));

  test('200,000 levels are walked without overflowing the stack', () => {
    const v = JSON.parse(nested(200_000)) as unknown;
    assert.equal(tooDeepAt(v), '[0]');
  });
});

describe('parseJsonText', () => {
  test('plain JSON parses', () => {
    assert.deepEqual(parseJsonText('{"a":[1,2]}'), { ok: true, value: { a: [1, 2] }, hadBom: false });
  });

  test('a leading byte order mark is accepted and said', () => {
    assert.deepEqual(parseJsonText('\uFEFF{"a":1}'), { ok: true, value: { a: 1 }, hadBom: true });
  });

  test('a byte order mark anywhere else is a syntax error', () => {
    assert.equal(parseJsonText('{"a":\uFEFF1}').ok, false);
  });

  test('a syntax error is one short line', () => {
    const r = parseJsonText(`{"name": "${'x'.repeat(100_000)}`);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.match(r.problem, /^not valid JSON: /);
      assert.ok(r.problem.length < 300, `${r.problem.length} characters`);
      assert.doesNotMatch(r.problem, /\n/);
    }
  });

  test('NaN and Infinity are not JSON', () => {
    assert.equal(parseJsonText('{"connections": NaN}').ok, false);
    assert.equal(parseJsonText('{"connections": Infinity}').ok, false);
  });

  test(`nesting deeper than ${MAX_JSON_DEPTH} is refused naming the top-level field`, () => {
    const r = parseJsonText(`{"name":"x","connections":${nested(200_000)}}`);
    assert.deepEqual(r, { ok: false, problem: `connections: nested more than ${MAX_JSON_DEPTH} levels deep (lists or objects inside each other); at most ${MAX_JSON_DEPTH} are read` });
    assert.equal(parseJsonText(nested(MAX_JSON_DEPTH)).ok, true);
    assert.equal(parseJsonText(nested(MAX_JSON_DEPTH + 1)).ok, false);
    assert.equal(parseJsonText(`{"t":${nested(100, '{"a":', '}').replace(/\{"a":\}/, '{}')}}`).ok, false);
  });
});
