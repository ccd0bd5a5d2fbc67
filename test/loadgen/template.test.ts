import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentHost } from '../../core/host.js';
import { startServer, type RegistryServerHandle } from '../../core/launcher.js';
import { codecFor } from '../../loadgen/codec.js';
import type { PayloadHeader } from '../../loadgen/payload.js';
import { runLoad } from '../../loadgen/run.js';
import { prebuildTemplates, validateShape } from '../../loadgen/shapes.js';
import { TemplateCodec } from '../../loadgen/template.js';
import type { LoadPlan, MessageShape } from '../../loadgen/types.js';

// Generated fields before and after the pad, nested in objects and arrays, beside literal values.
const TEMPLATE = {
  type: 'input_audio_buffer.append',
  from: '{{conn}}',
  meta: { seq: '{{seq}}', flags: [true, null, 1.5, 'literal {not a placeholder}'] },
  audio: '{{base64:12}}',
  filler: '{{pad}}',
  at: ['{{sentAtUs}}', { id: '{{id}}' }],
  note: 'héllo',
};

function expected(padLen: number, conn: string, seq: string, tUs: string) {
  return {
    type: 'input_audio_buffer.append',
    from: conn,
    meta: { seq, flags: [true, null, 1.5, 'literal {not a placeholder}'] },
    audio: AUDIO,
    filler: PAD.slice(0, padLen),
    at: [tUs, { id: conn + seq }],
    note: 'héllo',
  };
}

const codec = new TemplateCodec(TEMPLATE);
// The deterministic generated text, read from a built message (checked below to be base64 and stable).
const sample = JSON.parse(codec.build(codec.minBytes + 300).toString()) as { audio: string; filler: string };
const AUDIO = sample.audio;
const PAD = sample.filler;

function header(): PayloadHeader {
  return { connId: 0, seq: 0, tUs: 0 };
}

describe('template: rendering', () => {
  test('the smallest message is the template with zeroed digits and an empty pad, as compact JSON', () => {
    const msg = codec.build(codec.minBytes);
    const zeros = expected(0, '0'.repeat(10), '0'.repeat(10), '0'.repeat(16));
    assert.deepEqual(JSON.parse(msg.toString('utf8')), zeros);
    assert.equal(msg.toString('utf8'), JSON.stringify(zeros));
    assert.equal(codec.minBytes, Buffer.byteLength(JSON.stringify(zeros)));
    assert.equal(codec.opcodeKind, 'text');
  });

  test('base64 fields and the pad are base64 text, the same from every codec of the template', () => {
    assert.match(AUDIO, /^[A-Za-z0-9+/]{12}$/);
    assert.match(PAD, /^[A-Za-z0-9+/]{300}$/);
    assert.ok(new TemplateCodec(TEMPLATE).build(codec.minBytes + 300).equals(codec.build(codec.minBytes + 300)));
    const two = new TemplateCodec({ a: '{{base64:64}}', b: '{{base64:64}}' });
    const parsed = JSON.parse(two.build(two.minBytes).toString()) as { a: string; b: string };
    assert.notEqual(parsed.a, parsed.b, 'two base64 fields carry different text');
  });

  test('a message of any size with a pad is exactly that size', () => {
    for (const size of [codec.minBytes, codec.minBytes + 1, codec.minBytes + 4097]) {
      const msg = codec.build(size);
      assert.equal(msg.length, size);
      assert.equal((JSON.parse(msg.toString()) as { filler: string }).filler.length, size - codec.minBytes);
    }
  });

  test('build refuses sizes the template cannot have', () => {
    assert.throws(() => codec.build(codec.minBytes - 1), RangeError);
    assert.throws(() => codec.build(codec.minBytes + 0.5), RangeError);
    const noPad = new TemplateCodec({ c: '{{conn}}' });
    assert.equal(noPad.build(noPad.minBytes).length, noPad.minBytes);
    assert.throws(() => noPad.build(noPad.minBytes + 1), /no \{\{pad\}\}/);
  });

  test('an invalid template is refused with its problems', () => {
    assert.throws(() => new TemplateCodec({ x: '{{nope}}' }), /template\.x: unknown generator "\{\{nope\}\}"/);
  });
});

describe('template: patching in place', () => {
  test('the patched message parses to the template with the generated values, wherever the pad shifts them', () => {
    for (const padLen of [0, 1, 7, 300]) {
      const size = codec.minBytes + padLen;
      const msg = codec.build(size);
      codec.writeHeader(msg, 0, size, 4_000_000_123, 42, 1_700_000_000_123_456.25);
      assert.deepEqual(JSON.parse(msg.toString('utf8')), expected(padLen, '4000000123', '0000000042', '1700000000123456'), `pad ${padLen}`);
    }
  });

  test('patching at an offset inside a larger buffer touches only the message', () => {
    const size = codec.minBytes + 5;
    const buf = Buffer.alloc(size + 20, 0xee);
    codec.build(size).copy(buf, 13);
    codec.writeHeader(buf, 13, size, 1, 2, 3);
    assert.deepEqual(JSON.parse(buf.subarray(13, 13 + size).toString()), expected(5, '0000000001', '0000000002', '0000000000000003'));
    assert.ok(buf.subarray(0, 13).every((b) => b === 0xee) && buf.subarray(13 + size).every((b) => b === 0xee));
  });

  test('masked patching equals unmasking the unmasked patch, for every key phase', () => {
    const key = Uint8Array.from([0x12, 0xa5, 0x3c, 0xff]);
    const size = codec.minBytes + 33;
    for (const phase of [0, 1, 2, 3]) {
      const plain = codec.build(size);
      const masked = Buffer.from(plain);
      for (let j = 0; j < size; j++) masked[j] = masked[j]! ^ key[(phase + j) & 3]!;
      codec.writeHeader(plain, 0, size, 99, 7, 1_650_000_000_000_001);
      codec.writeHeaderMasked(masked, 0, size, 99, 7, 1_650_000_000_000_001, key, phase);
      for (let j = 0; j < size; j++) masked[j] = masked[j]! ^ key[(phase + j) & 3]!;
      assert.ok(masked.equals(plain), `phase ${phase}`);
    }
  });

  test('readHeader reads back what writeHeader wrote', () => {
    for (const padLen of [0, 250]) {
      const size = codec.minBytes + padLen;
      const msg = codec.build(size);
      codec.writeHeader(msg, 0, size, 12345, 4_294_967_295, 1_712_345_678_901_234);
      assert.deepEqual(codec.readHeader(msg, 0, size, header()), { connId: 12345, seq: 4_294_967_295, tUs: 1_712_345_678_901_234 });
    }
  });

  test('fields a template lacks, corrupted digits and impossible sizes read as -1', () => {
    const control = new TemplateCodec({ type: 'response.create', turn_id: '{{id}}' });
    const msg = control.build(control.minBytes);
    control.writeHeader(msg, 0, msg.length, 3, 4, 5);
    assert.deepEqual(JSON.parse(msg.toString()), { type: 'response.create', turn_id: '00000000030000000004' });
    assert.deepEqual(control.readHeader(msg, 0, msg.length, header()), { connId: -1, seq: -1, tUs: -1 });
    assert.equal(control.hasHeader, false);

    const size = codec.minBytes + 10;
    const m = codec.build(size);
    codec.writeHeader(m, 0, size, 1, 2, 3);
    const at = m.indexOf('0000000002');
    m[at + 3] = 0x41; // 'A'
    assert.deepEqual(codec.readHeader(m, 0, size, header()), { connId: 1, seq: -1, tUs: 3 });
    assert.deepEqual(codec.readHeader(m, 0, codec.minBytes - 1, header()), { connId: -1, seq: -1, tUs: -1 });
  });
});

describe('template: bodyMatches', () => {
  const size = codec.minBytes + 9;
  const patched = () => {
    const m = codec.build(size);
    codec.writeHeader(m, 0, size, 77, 88, 1_700_000_000_000_000);
    return m;
  };
  // Offsets of the generated digits in a message of `size`, found from the values patched in (each first
  // occurrence is its own field: conn, seq and sentAtUs come before id in the template).
  const generated = new Set<number>();
  {
    const text = patched().toString('latin1');
    for (const digits of ['0000000077', '0000000088', '1700000000000000', '00000000770000000088']) {
      const at = text.indexOf(digits);
      assert.ok(at >= 0, digits);
      for (let i = 0; i < digits.length; i++) generated.add(at + i);
    }
  }

  test('accepts every patched message, whatever its header', () => {
    assert.ok(codec.bodyMatches(patched(), 0, size));
    const m = codec.build(size);
    codec.writeHeader(m, 0, size, 4_294_967_295, 0, 9_999_999_999_999_999);
    assert.ok(codec.bodyMatches(m, 0, size));
    const big = codec.build(codec.minBytes + 70_000);
    assert.ok(codec.bodyMatches(big, 0, big.length));
  });

  test('catches a change to any byte of the template and ignores the generated fields', () => {
    const bytes = patched().length;
    for (let i = 0; i < bytes; i++) {
      const m = patched();
      m[i] = m[i] === 0x30 ? 0x31 : 0x30;
      assert.equal(codec.bodyMatches(m, 0, size), generated.has(i), `byte ${i} (${JSON.stringify(patched().toString('latin1', Math.max(0, i - 5), i + 5))})`);
    }
  });

  test('refuses a size the template cannot have and a range outside the buffer', () => {
    const m = patched();
    assert.equal(codec.bodyMatches(m, 0, size - 1), false);
    assert.equal(codec.bodyMatches(m, 1, size), false);
    assert.equal(codec.bodyMatches(m, 0, codec.minBytes - 1), false);
    const noPad = new TemplateCodec({ c: '{{conn}}', s: '{{seq}}' });
    const n = Buffer.concat([noPad.build(noPad.minBytes), Buffer.from('x')]);
    assert.equal(noPad.bodyMatches(n, 0, n.length), false);
    assert.equal(noPad.bodyMatches(n, 0, n.length - 1), true);
  });
});

describe('template: sizes through prebuildTemplates', () => {
  const template = { c: '{{conn}}', s: '{{seq}}', t: '{{sentAtUs}}', p: '{{pad}}' };
  const minBytes = new TemplateCodec(template).minBytes;

  test('uniform sizes cover the range evenly, each template a valid message of its size', () => {
    const shape: MessageShape = { kind: 'json', template, size: { type: 'uniform', minBytes: 100, maxBytes: 1123 } };
    const pool = prebuildTemplates(shape, 256, 3);
    const check = codecFor(shape);
    const sorted = [...pool.sizesBytes].sort((a, b) => a - b);
    // Stratified: slot i sits at quantile (i + 0.5) / 256 of 1024 equally likely sizes.
    sorted.forEach((s, i) => assert.equal(s, 100 + Math.floor(((i + 0.5) / 256) * 1024)));
    pool.templates.forEach((t, i) => {
      assert.equal(t.length, pool.sizesBytes[i]);
      assert.ok(check.bodyMatches(t, 0, t.length));
      assert.deepEqual(check.readHeader(t, 0, t.length, header()), { connId: 0, seq: 0, tUs: 0 });
    });
    assert.equal(pool.kind, 'json');
  });

  test('lognormal sizes have their median and stay within the bounds', () => {
    const shape: MessageShape = { kind: 'json', template, size: { type: 'lognormal', medianBytes: 400, sigma: 0.8, minBytes: minBytes, maxBytes: 5000 } };
    const sorted = [...prebuildTemplates(shape, 255, 1).sizesBytes].sort((a, b) => a - b);
    assert.equal(sorted[127], 400);
    assert.ok(sorted[0]! >= minBytes && sorted[254]! <= 5000);
    assert.ok(sorted[0]! < 200 && sorted[254]! > 1500, `spread: ${sorted[0]}..${sorted[254]}`);
  });

  test('a template without a pad is one message shared by every slot', () => {
    const pool = prebuildTemplates({ kind: 'json', template: { c: '{{conn}}', s: '{{seq}}', t: '{{sentAtUs}}' } }, 256);
    assert.equal(pool.templates.length, 256);
    assert.equal(pool.distinctSizes, 1);
    assert.ok(pool.templates.every((t) => t === pool.templates[0]));
  });
});

describe('template: validation', () => {
  const problems = (template: unknown, size?: unknown) =>
    validateShape({ kind: 'json', template, ...(size === undefined ? {} : { size }) }, 'message');

  test('an unknown generator names its field path and lists the known ones', () => {
    assert.deepEqual(problems({ data: '{{foo}}' }), [
      'message.template.data: unknown generator "{{foo}}" (known: {{conn}}, {{seq}}, {{sentAtUs}}, {{id}}, {{base64:N}}, {{pad}})',
    ]);
    assert.deepEqual(problems({ a: [{ 'odd key': ['x', '{{ conn }}'] }] }), [
      'message.template.a[0]["odd key"][1]: unknown generator "{{ conn }}" (known: {{conn}}, {{seq}}, {{sentAtUs}}, {{id}}, {{base64:N}}, {{pad}})',
    ]);
  });

  test('{{base64:N}} needs N a whole number from 1 to 16 MiB', () => {
    for (const bad of ['{{base64:0}}', '{{base64:1.5}}', '{{base64:}}', '{{base64:x}}', `{{base64:${16 * 1024 * 1024 + 1}}}`]) {
      assert.deepEqual(problems({ audio: bad }), [
        `message.template.audio: {{base64:N}} needs N a whole number of characters from 1 to ${16 * 1024 * 1024}, got ${JSON.stringify(bad)}`,
      ]);
    }
    assert.deepEqual(problems({ audio: `{{base64:${16 * 1024 * 1024}}}` }), []);
  });

  test('at most one pad, a pad exactly when there is a size, and every problem at once', () => {
    assert.deepEqual(problems({ a: '{{pad}}', b: ['{{pad}}'] }, { type: 'fixed', bytes: 100 }), [
      'message.template.b[0]: a second {{pad}}; a template has at most one',
    ]);
    assert.deepEqual(problems({ a: '{{pad}}' }), [
      'message.size: is required when the template has a {{pad}} (the pad fills each message to a size drawn from it)',
    ]);
    assert.deepEqual(problems({ a: '{{conn}}' }, { type: 'fixed', bytes: 100 }), [
      "message.size: needs a {{pad}} in the template to fill messages to it; without one every message is the template's 18 bytes",
    ]);
    assert.deepEqual(problems({ a: '{{foo}}', b: '{{base64:0}}' }).length, 2);
  });

  test('sizes below the template with an empty pad name that minimum', () => {
    const t = { c: '{{conn}}', p: '{{pad}}' }; // {"c":"0000000000","p":""} is 25 bytes
    assert.deepEqual(problems(t, { type: 'uniform', minBytes: 20, maxBytes: 100 }), [
      "message.size.minBytes: must be at least 25 (the template's size with an empty {{pad}}), got 20",
    ]);
    assert.deepEqual(problems(t, { type: 'weighted', choices: [{ bytes: 25, weight: 1 }, { bytes: 24, weight: 1 }] }), [
      "message.size.choices[1].bytes: must be at least 25 (the template's size with an empty {{pad}}), got 24",
    ]);
    assert.deepEqual(problems(t, { type: 'fixed', bytes: 25 }), []);
  });

  test('the template must be an object of JSON values, generators whole string values, the shape without unknown keys', () => {
    assert.deepEqual(problems(['{{conn}}']), ['message.template: must be a JSON object, got an array']);
    assert.deepEqual(problems('{"a":1}'), ['message.template: must be a JSON object, got "{\\"a\\":1}"']);
    assert.deepEqual(problems({ n: Number.NaN, u: undefined }), [
      'message.template.n: must be a JSON value, got NaN',
      'message.template.u: must be a JSON value, got undefined',
    ]);
    assert.deepEqual(problems({ id: 'msg-{{seq}}' }), ['message.template.id: a generator must be the whole string value, got "msg-{{seq}}"']);
    assert.deepEqual(validateShape({ kind: 'json', template: { a: 1 }, sise: {} }, 'message'), [
      'message.sise: unknown key (allowed: kind, template, size)',
    ]);
    assert.deepEqual(validateShape({ kind: 'json' }, 'message'), ['message.template: is required']);
  });
});

describe('template: end to end against node-ws', () => {
  const host = currentHost();
  let server: RegistryServerHandle;
  before(async () => {
    server = await startServer({ runtime: 'node-ws', port: 0, host: '127.0.0.1', hostInfo: host });
  });
  after(() => server?.stop());

  const plan = (over: Partial<LoadPlan>): LoadPlan => ({
    url: `ws://127.0.0.1:${server.port}/echo`,
    connections: 4,
    load: { model: 'closed', depth: 4 },
    message: {
      kind: 'json',
      template: { type: 'chat.message', user: '{{conn}}', seq: '{{seq}}', ts: '{{sentAtUs}}', id: '{{id}}', text: '{{pad}}', sig: '{{base64:16}}' },
      size: { type: 'uniform', minBytes: 150, maxBytes: 3000 },
    },
    warmupMs: 200,
    durationMs: 1000,
    drainTimeoutMs: 2000,
    connect: { maxInFlight: 16, timeoutMs: 5000 },
    workers: 1,
    client: 'raw',
    seed: 1,
    ...over,
  });

  for (const client of ['raw', 'ws'] as const) {
    test(`closed-loop echo of json messages: nothing lost, corrupted or out of order (${client} client)`, async () => {
      const r = await runLoad(plan({ client }), { nodePath: host.nodePath });
      const d = r.delivery;
      assert.ok(d.received > 0, `received ${d.received}`);
      assert.deepEqual([d.lost, d.duplicated, d.corrupted, d.outOfOrder, d.expected], [0, 0, 0, 0, d.sent], JSON.stringify(d));
      assert.deepEqual(r.errors, {});
    });
  }

  test('broadcast of json messages: every member gets every message intact', async () => {
    const r = await runLoad(
      plan({
        url: `ws://127.0.0.1:${server.port}/broadcast`,
        connections: 8,
        load: { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 50, rooms: 2 },
      }),
      { nodePath: host.nodePath },
    );
    const d = r.delivery;
    assert.ok(d.sent > 0 && d.expected === d.sent * 4, `each message reaches the 4 members of its room: ${JSON.stringify(d)}`);
    assert.deepEqual([d.lost, d.duplicated, d.corrupted, d.outOfOrder], [0, 0, 0, 0]);
    assert.deepEqual(r.errors, {});
  });
});
