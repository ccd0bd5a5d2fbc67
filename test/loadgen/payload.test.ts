import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PAYLOAD_BYTES,
  bodyMatches,
  buildPayload,
  payloadMinBytes,
  readHeader,
  writeHeader,
  writeHeaderMasked,
  type PayloadKind,
} from '../../loadgen/payload.js';

const KINDS: PayloadKind[] = ['binary', 'text'];
const T_US = 1_750_000_123_456_789.25; // an epoch time in µs with a fraction

/** XOR `buf[start, end)` with `key`, payload byte j using key[(phase + j) & 3]. */
function mask(buf: Buffer, start: number, end: number, key: Uint8Array, phase: number): void {
  for (let j = 0; j < end - start; j++) buf[start + j]! ^= key[(phase + j) & 3]!;
}

/** A payload embedded in a larger buffer with guard bytes on both sides. */
function embedded(kind: PayloadKind, size: number, before = 11, after = 5): Buffer {
  const frame = Buffer.alloc(before + size + after, 0xaa);
  buildPayload(kind, size).copy(frame, before);
  return frame;
}

describe('payload', () => {
  test('minimum sizes are the header lengths', () => {
    assert.equal(payloadMinBytes('binary'), 16);
    assert.equal(payloadMinBytes('text'), '{"c":"0000000000","s":"0000000000","t":"0000000000000000","p":""}'.length);
    assert.equal(payloadMinBytes('text'), 65);
  });

  test('the binary template has a zero header and the index-derived filler', () => {
    const p = buildPayload('binary', 300);
    assert.equal(p.length, 300);
    assert.deepEqual([...p.subarray(0, 16)], new Array(16).fill(0));
    for (let i = 16; i < 300; i++) assert.equal(p[i], (i * 31 + 7) & 0xff, `byte ${i}`);
  });

  test('text templates are exact-size printable ASCII JSON', () => {
    for (const size of [65, 66, 67, 128, 129, 4097, 10_000]) {
      const p = buildPayload('text', size);
      assert.equal(p.length, size);
      for (const b of p) assert.ok(b >= 0x20 && b < 0x7f, `size ${size}: byte ${b}`);
      const text = p.toString('utf8');
      assert.ok(Buffer.from(text, 'utf8').equals(p), 'valid UTF-8, one byte per char');
      const obj = JSON.parse(text) as Record<string, string>;
      assert.deepEqual(Object.keys(obj), ['c', 's', 't', 'p']);
      assert.equal(obj.c, '0000000000');
      assert.equal(obj.p!.length, size - 65);
      assert.match(obj.p!, /^[A-Za-z0-9+/]*$/);
    }
  });

  test('binary header round-trips exactly at an offset inside a frame', () => {
    for (const [connId, seq] of [[0, 0], [1, 2], [4_294_967_295, 4_294_967_295], [123_456, 789]] as const) {
      const frame = embedded('binary', 64);
      writeHeader('binary', frame, 11, connId, seq, T_US);
      assert.deepEqual(readHeader('binary', frame, 11), { connId, seq, tUs: T_US });
      assert.equal(frame.readUInt32LE(11), connId);
      assert.equal(frame.readDoubleLE(19), T_US);
    }
  });

  test('text header round-trips (time rounded to whole µs) and stays valid JSON', () => {
    const frame = embedded('text', 100);
    writeHeader('text', frame, 11, 4_294_967_295, 42, T_US);
    assert.deepEqual(readHeader('text', frame, 11), { connId: 4_294_967_295, seq: 42, tUs: 1_750_000_123_456_789 });
    const obj = JSON.parse(frame.subarray(11, 111).toString('utf8')) as Record<string, string>;
    assert.deepEqual([obj.c, obj.s, obj.t], ['4294967295', '0000000042', '1750000123456789']);
    writeHeader('text', frame, 11, 7, 0, 0);
    assert.deepEqual(readHeader('text', frame, 11), { connId: 7, seq: 0, tUs: 0 });
  });

  test('writeHeader touches only the header bytes', () => {
    for (const kind of KINDS) {
      const frame = embedded(kind, 200);
      const before = Buffer.from(frame);
      writeHeader(kind, frame, 11, 99, 98, T_US);
      const headerEnd = kind === 'binary' ? 16 : 56;
      for (let i = 0; i < frame.length; i++) {
        const inHeader = i >= 11 && i < 11 + headerEnd;
        if (!inHeader) assert.equal(frame[i], before[i], `${kind}: byte ${i} changed`);
      }
    }
  });

  test('readHeader fills a caller-provided object (no allocation per read)', () => {
    const out = { connId: -5, seq: -5, tUs: -5 };
    const p = buildPayload('binary', 16);
    writeHeader('binary', p, 0, 3, 4, 5);
    assert.equal(readHeader('binary', p, 0, out), out);
    assert.deepEqual(out, { connId: 3, seq: 4, tUs: 5 });
  });

  test('a text header with a non-digit reads as -1 in that field', () => {
    const p = buildPayload('text', 80);
    writeHeader('text', p, 0, 12, 34, 56);
    p[25] = 0x78; // 'x' inside the seq digits
    assert.deepEqual(readHeader('text', p, 0), { connId: 12, seq: -1, tUs: 56 });
  });

  test('bodyMatches accepts intact payloads whatever their header', () => {
    for (const kind of KINDS) {
      for (const size of [payloadMinBytes(kind), 100, 5000, 70_000]) {
        const frame = embedded(kind, size);
        assert.ok(bodyMatches(kind, frame, 11, size), `${kind} ${size} template`);
        writeHeader(kind, frame, 11, 4_000_000_000, 17, T_US);
        assert.ok(bodyMatches(kind, frame, 11, size), `${kind} ${size} patched`);
      }
    }
  });

  test('bodyMatches rejects any changed byte outside the header fields', () => {
    for (const kind of KINDS) {
      const size = 300;
      const positions = kind === 'binary' ? [16, 17, 150, 298, 299] : [0, 5, 16, 22, 33, 39, 56, 62, 63, 200, 298, 299];
      for (const pos of positions) {
        const frame = embedded(kind, size);
        frame[11 + pos]! ^= 0x01;
        assert.equal(bodyMatches(kind, frame, 11, size), false, `${kind}: flip at ${pos}`);
      }
    }
  });

  test('bodyMatches rejects sizes below the minimum and ranges outside the buffer', () => {
    const p = buildPayload('binary', 32);
    assert.equal(bodyMatches('binary', p, 0, 15), false);
    assert.equal(bodyMatches('binary', p, 1, 32), false);
    assert.equal(bodyMatches('binary', p, 0, 33), false);
    assert.equal(bodyMatches('text', buildPayload('text', 65), 0, 64), false);
    // A binary template checked as text (and the reverse) does not match.
    assert.equal(bodyMatches('text', buildPayload('binary', 100), 0, 100), false);
    assert.equal(bodyMatches('binary', buildPayload('text', 100), 0, 100), false);
  });

  test('writeHeaderMasked patches a pre-masked payload as writeHeader would before masking', () => {
    const key = Uint8Array.from([0x12, 0x34, 0x56, 0x78]);
    for (const kind of KINDS) {
      for (const phase of [0, 1, 2, 3, 6]) {
        const size = 120;
        // Expected: patch in clear, then mask.
        const expected = embedded(kind, size);
        writeHeader(kind, expected, 11, 305_419_896, 65_537, T_US);
        mask(expected, 11, 11 + size, key, phase);
        // Actual: mask the template once, then patch masked.
        const frame = embedded(kind, size);
        mask(frame, 11, 11 + size, key, phase);
        writeHeaderMasked(kind, frame, 11, 305_419_896, 65_537, T_US, key, phase);
        assert.ok(frame.equals(expected), `${kind}, phase ${phase}`);
        // And unmasked, it reads back.
        mask(frame, 11, 11 + size, key, phase);
        assert.equal(readHeader(kind, frame, 11).seq, 65_537);
        assert.ok(bodyMatches(kind, frame, 11, size));
      }
    }
  });

  test('buildPayload validates the size', () => {
    assert.throws(() => buildPayload('binary', 15), RangeError);
    assert.throws(() => buildPayload('text', 64), RangeError);
    assert.throws(() => buildPayload('binary', 20.5), RangeError);
    assert.throws(() => buildPayload('binary', MAX_PAYLOAD_BYTES + 1), RangeError);
  });
});
