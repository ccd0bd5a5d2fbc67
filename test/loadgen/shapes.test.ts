import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor } from '../../loadgen/codec.js';
import { bodyMatches } from '../../loadgen/payload.js';
import {
  createSizeSampler,
  prebuildTemplates,
  shapeHasHeader,
  validateShape,
  type MessageShape,
} from '../../loadgen/shapes.js';

function sortedNumbers(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

describe('shapes: validateShape', () => {
  test('accepts every size type for both kinds', () => {
    const valid: unknown[] = [
      { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
      { kind: 'text', size: { type: 'fixed', bytes: 65 } },
      { kind: 'binary', size: { type: 'uniform', minBytes: 64, maxBytes: 64 } },
      { kind: 'text', size: { type: 'lognormal', medianBytes: 512, sigma: 1 } },
      { kind: 'binary', size: { type: 'lognormal', medianBytes: 512, sigma: 0.5, minBytes: 16, maxBytes: 65_536 } },
      { kind: 'binary', size: { type: 'weighted', choices: [{ bytes: 32, weight: 9 }, { bytes: 4096, weight: 0.5 }] } },
    ];
    for (const v of valid) assert.deepEqual(validateShape(v, 'message'), [], JSON.stringify(v));
  });

  test('names the field, the limit and the kind', () => {
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'uniform', minBytes: 8, maxBytes: 100 } }, 'message'), [
      'message.size.minBytes: must be at least 16 for binary, got 8',
    ]);
    assert.deepEqual(validateShape({ kind: 'text', size: { type: 'fixed', bytes: 64 } }, 'message'), [
      'message.size.bytes: must be at least 65 for text, got 64',
    ]);
  });

  test('rejects unknown keys at every level', () => {
    assert.deepEqual(
      validateShape(
        { kind: 'binary', colour: 'red', size: { type: 'weighted', choices: [{ bytes: 20, weight: 1, extra: 1 }], n: 2 } },
        'message',
      ),
      [
        'message.colour: unknown key (allowed: kind, size)',
        'message.size.n: unknown key (allowed: type, choices)',
        'message.size.choices[0].extra: unknown key (allowed: bytes, weight)',
      ],
    );
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'fixed', bytes: 20, minBytes: 16 } }, 'm'), [
      'm.size.minBytes: unknown key (allowed: type, bytes)',
    ]);
  });

  test('collects every problem, not only the first', () => {
    const problems = validateShape(
      { kind: 'binary', size: { type: 'lognormal', medianBytes: 10.5, sigma: 0, minBytes: 200, maxBytes: 100 } },
      'message',
    );
    assert.deepEqual(problems, [
      'message.size.medianBytes: must be a whole number of bytes, got 10.5',
      'message.size.sigma: must be greater than 0, got 0',
      'message.size.maxBytes: must be at least minBytes (200), got 100',
    ]);
    assert.deepEqual(
      validateShape({ kind: 'binary', size: { type: 'lognormal', medianBytes: 50, sigma: 1, minBytes: 100, maxBytes: 200 } }, 'x'),
      ['x.size.medianBytes: must be at least minBytes (100), got 50'],
    );
  });

  test('reports missing, mistyped and out-of-range fields', () => {
    const notAnObject = 'message: must be an object with "kind" and "size" (or "kind": "json" and "template")';
    assert.deepEqual(validateShape(undefined, 'message'), [notAnObject]);
    assert.deepEqual(validateShape([], 'message'), [notAnObject]);
    assert.deepEqual(validateShape({}, 'message'), ['message.kind: is required', 'message.size: is required']);
    assert.deepEqual(validateShape({ kind: 'xml', size: { type: 'fixed', bytes: 100 } }, 'message'), [
      'message.kind: must be one of "binary", "text", "json", got "xml"',
    ]);
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'normal' } }, 'message'), [
      'message.size.type: must be one of "fixed", "uniform", "lognormal", "weighted", got "normal"',
    ]);
    assert.deepEqual(validateShape({ kind: 'binary', size: 100 }, 'message'), [
      'message.size: must be an object with a "type" (one of fixed, uniform, lognormal, weighted)',
    ]);
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'uniform', minBytes: '16' } }, 'message'), [
      'message.size.maxBytes: is required',
      'message.size.minBytes: must be a number of bytes, got "16"',
    ]);
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'fixed', bytes: 2 ** 40 } }, 'message'), [
      `message.size.bytes: must be at most ${64 * 1024 * 1024}, got ${2 ** 40}`,
    ]);
    assert.deepEqual(validateShape({ kind: 'binary', size: { type: 'weighted', choices: [] } }, 'message'), [
      'message.size.choices: must be a non-empty list of { "bytes": ..., "weight": ... }',
    ]);
    assert.deepEqual(
      validateShape({ kind: 'binary', size: { type: 'weighted', choices: [{ bytes: 16, weight: 0 }, 'x', { weight: 1 }] } }, 'message'),
      [
        'message.size.choices[0].weight: must be greater than 0, got 0',
        'message.size.choices[1]: must be an object with "bytes" and "weight"',
        'message.size.choices[2].bytes: is required',
      ],
    );
  });
});

describe('shapes: json templates', () => {
  const header = { c: '{{conn}}', s: '{{seq}}', t: '{{sentAtUs}}' };

  test('accepts a template with or without a pad, and checks the size against the template', () => {
    assert.deepEqual(validateShape({ kind: 'json', template: header }, 'message'), []);
    assert.deepEqual(validateShape({ kind: 'json', template: { ...header, p: '{{pad}}' }, size: { type: 'lognormal', medianBytes: 300, sigma: 1 } }, 'message'), []);
    assert.deepEqual(validateShape({ kind: 'json', template: { ...header, p: '{{pad}}' }, size: { type: 'fixed', bytes: 16 } }, 'message'), [
      "message.size.bytes: must be at least 65 (the template's size with an empty {{pad}}), got 16",
    ]);
    // A broken template leaves only the size's form to check.
    assert.deepEqual(validateShape({ kind: 'json', template: { a: '{{bad}}' }, size: { type: 'fixd' } }, 'message').length, 2);
  });

  test('shapeHasHeader: binary and text always, json with conn, seq and sentAtUs', () => {
    assert.equal(shapeHasHeader({ kind: 'binary', size: { type: 'fixed', bytes: 16 } }), true);
    assert.equal(shapeHasHeader({ kind: 'text', size: { type: 'fixed', bytes: 65 } }), true);
    assert.equal(shapeHasHeader({ kind: 'json', template: { x: [{ ...header }] } }), true);
    assert.equal(shapeHasHeader({ kind: 'json', template: { type: 'response.create', turn_id: '{{id}}' } }), false);
    assert.equal(shapeHasHeader({ kind: 'json', template: { c: '{{conn}}', s: '{{seq}}' } }), false);
  });

  test("sizes follow the size spec from the template's own size, or are the template's size without a pad", () => {
    const padded: MessageShape = { kind: 'json', template: { ...header, p: '{{pad}}' }, size: { type: 'uniform', minBytes: 65, maxBytes: 69 } }; // 65: the template with an empty pad
    const next = createSizeSampler(padded, 2);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(next());
    assert.deepEqual([...seen].sort((a, b) => a - b), [65, 66, 67, 68, 69]);
    assert.equal(createSizeSampler({ kind: 'json', template: header })(), 58);
  });

  test("pools are built by the shape's codec, so its checks accept them", () => {
    const shape: MessageShape = { kind: 'json', template: { ...header, p: '{{pad}}' }, size: { type: 'weighted', choices: [{ bytes: 100, weight: 1 }, { bytes: 900, weight: 1 }] } };
    const codec = codecFor(shape);
    const pool = prebuildTemplates(shape, 8, 1, codec);
    assert.equal(pool.distinctSizes, 2);
    for (const t of pool.templates) assert.ok(codec.bodyMatches(t, 0, t.length) && JSON.parse(t.toString()));
    assert.throws(() => prebuildTemplates({ kind: 'json', template: { a: '{{pad}}' } }), /size: is required/);
  });
});

describe('shapes: createSizeSampler', () => {
  test('is deterministic for a seed', () => {
    const shape: MessageShape = { kind: 'binary', size: { type: 'lognormal', medianBytes: 1000, sigma: 1 } };
    const a = createSizeSampler(shape, 5);
    const b = createSizeSampler(shape, 5);
    const c = createSizeSampler(shape, 6);
    const xs = Array.from({ length: 50 }, a);
    assert.deepEqual(Array.from({ length: 50 }, b), xs);
    assert.notDeepEqual(Array.from({ length: 50 }, c), xs);
  });

  test('fixed and uniform stay in range and reach both ends', () => {
    assert.equal(createSizeSampler({ kind: 'text', size: { type: 'fixed', bytes: 300 } })(), 300);
    const next = createSizeSampler({ kind: 'binary', size: { type: 'uniform', minBytes: 16, maxBytes: 20 } }, 3);
    const seen = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const s = next();
      seen.set(s, (seen.get(s) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), [16, 17, 18, 19, 20]);
    for (const n of seen.values()) assert.ok(Math.abs(n - 10_000) < 500, `count ${n}`);
  });

  test('lognormal has the requested median and is clamped to its bounds', () => {
    const next = createSizeSampler(
      { kind: 'binary', size: { type: 'lognormal', medianBytes: 1000, sigma: 1.5, minBytes: 100, maxBytes: 20_000 } },
      11,
    );
    const xs = sortedNumbers(Array.from({ length: 40_001 }, next));
    assert.ok(Math.abs(xs[20_000]! - 1000) < 30, `median ${xs[20_000]}`);
    assert.equal(xs[0], 100);
    assert.equal(xs[xs.length - 1], 20_000);
    // P(size < 100) = Φ(ln(0.1)/1.5) ≈ 6.3%, all clamped onto 100.
    const atMin = xs.filter((x) => x === 100).length / xs.length;
    assert.ok(Math.abs(atMin - 0.0627) < 0.005, `mass at min ${atMin}`);
  });

  test('weighted picks sizes in proportion to their weights', () => {
    const next = createSizeSampler(
      { kind: 'binary', size: { type: 'weighted', choices: [{ bytes: 32, weight: 1 }, { bytes: 64, weight: 3 }] } },
      2,
    );
    let small = 0;
    const n = 40_000;
    for (let i = 0; i < n; i++) if (next() === 32) small++;
    assert.ok(Math.abs(small / n - 0.25) < 0.01, `share ${small / n}`);
  });

  test('throws on an invalid shape', () => {
    assert.throws(() => createSizeSampler({ kind: 'binary', size: { type: 'fixed', bytes: 3 } }), RangeError);
  });
});

describe('shapes: prebuildTemplates', () => {
  test('a fixed shape holds one template shared by every slot', () => {
    const pool = prebuildTemplates({ kind: 'binary', size: { type: 'fixed', bytes: 128 } }, 64);
    assert.equal(pool.templates.length, 64);
    assert.equal(pool.distinctSizes, 1);
    assert.equal(pool.totalBytes, 128);
    assert.ok(pool.templates.every((t) => t === pool.templates[0]));
  });

  test('weighted pools match the weights exactly when the slots allow it', () => {
    const pool = prebuildTemplates(
      { kind: 'text', size: { type: 'weighted', choices: [{ bytes: 100, weight: 1 }, { bytes: 2000, weight: 3 }] } },
      256,
    );
    assert.equal(pool.sizesBytes.filter((s) => s === 100).length, 64);
    assert.equal(pool.sizesBytes.filter((s) => s === 2000).length, 192);
    assert.equal(pool.distinctSizes, 2);
    assert.equal(pool.totalBytes, 2100);
  });

  test('stratified lognormal pools hit the median and are shuffled', () => {
    const pool = prebuildTemplates({ kind: 'binary', size: { type: 'lognormal', medianBytes: 1000, sigma: 1 } }, 255, 4);
    const sorted = sortedNumbers(pool.sizesBytes);
    assert.equal(sorted[127], 1000);
    assert.notDeepEqual(pool.sizesBytes, sorted);
    assert.equal(pool.distinctSizes, new Set(pool.sizesBytes).size);
    assert.equal(pool.totalBytes, [...new Set(pool.sizesBytes)].reduce((a, b) => a + b, 0));
  });

  test('templates are valid payloads of their slot size, deterministic per seed', () => {
    const shape: MessageShape = { kind: 'text', size: { type: 'uniform', minBytes: 65, maxBytes: 1000 } };
    const pool = prebuildTemplates(shape, 32, 9);
    pool.templates.forEach((t, i) => {
      assert.equal(t.length, pool.sizesBytes[i]);
      assert.ok(bodyMatches('text', t, 0, t.length));
      assert.ok(t.length >= 65 && t.length <= 1000);
    });
    assert.deepEqual(prebuildTemplates(shape, 32, 9).sizesBytes, pool.sizesBytes);
    assert.notDeepEqual(prebuildTemplates(shape, 32, 10).sizesBytes, pool.sizesBytes);
  });

  test('validates its arguments', () => {
    const shape: MessageShape = { kind: 'binary', size: { type: 'fixed', bytes: 16 } };
    assert.throws(() => prebuildTemplates(shape, 0), RangeError);
    assert.throws(() => prebuildTemplates(shape, 1.5), RangeError);
    assert.throws(() => prebuildTemplates({ kind: 'text', size: { type: 'fixed', bytes: 16 } }), RangeError);
  });
});
