import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchError, clip, formatError, MAX_DETAILS } from '../../base/errors.js';
import { checkNumber, checkObject, checkString, quote } from '../../base/validate.js';

describe('quote', () => {
  const cases: [string, unknown, string][] = [
    ['a short string as JSON', 'abc', '"abc"'],
    ['a number', 42, '42'],
    ['NaN spelled out (JSON would say null)', NaN, 'NaN'],
    ['Infinity spelled out', Infinity, 'Infinity'],
    ['null', null, 'null'],
    ['a small object', { a: 1 }, '{"a":1}'],
    ['a newline is escaped', 'a\nb', '"a\\nb"'],
  ];
  for (const [name, v, want] of cases) test(name, () => assert.equal(quote(v), want));

  test('a long string: its first 80 characters and its length', () => {
    const q = quote('x'.repeat(50_000_000));
    assert.equal(q, `"${'x'.repeat(80)}…" (50,000,000 characters)`);
  });

  test('a long list is cut', () => {
    const q = quote(Array.from({ length: 10_000 }, (_, i) => i));
    assert.ok(q.length <= 81 && q.endsWith('…'), q);
  });

  test('a value JSON cannot write is named, never thrown', () => {
    let deep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.equal(quote(deep), 'a list');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.equal(quote(cyclic), 'a value of type object');
    assert.equal(quote(10n), 'a value of type bigint');
  });
});

describe('validation messages quote bounded values', () => {
  test('checkNumber, checkString and checkObject never echo a huge value', () => {
    const huge = 'y'.repeat(1_000_000);
    const problems: string[] = [];
    checkNumber(huge, 'connections', problems);
    checkString(huge, 'route', problems, ['/echo']);
    checkObject({ [huge]: 1 }, 'load', problems, ['model']);
    assert.equal(problems.length, 3);
    for (const p of problems) assert.ok(p.length < 300, p.slice(0, 100));
  });
});

describe('formatError is bounded whatever it is given', () => {
  test('at most MAX_DETAILS details, then how many more', () => {
    const e = new BenchError('E_INVALID_SCENARIO', 'many problems', { details: Array.from({ length: 10_000 }, (_, i) => `problem ${i}`) });
    const text = formatError(e);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 1 + MAX_DETAILS + 1);
    assert.equal(lines.at(-1), `  … and ${10_000 - MAX_DETAILS} more`);
  });

  test('long lines are cut and the whole stays under 16 KB', () => {
    const long = 'z'.repeat(1_000_000);
    const e = new BenchError('E_USAGE', long, { details: Array.from({ length: 60 }, () => `${long}\n${long}\n${long}\n${long}`), hint: long });
    const text = formatError(e);
    assert.ok(text.length < 16 * 1024, `${text.length} bytes`);
    for (const l of text.split('\n')) assert.ok(l.length <= 400, `${l.length}`);
    assert.match(text, /^error\[E_USAGE\]: z+…\n/);
    assert.match(text, /\nhint: z+…\n$/);
  });

  test('an ordinary error prints as before', () => {
    assert.equal(formatError(new BenchError('E_USAGE', '--repeat: bad', { details: ['a', 'b'], hint: 'fix it' })), 'error[E_USAGE]: --repeat: bad\n  a\n  b\nhint: fix it\n');
  });

  test('clip', () => {
    assert.equal(clip('abc', 3), 'abc');
    assert.equal(clip('abcd', 3), 'ab…');
  });
});
