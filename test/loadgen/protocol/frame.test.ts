import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameParser,
  Opcode,
  PrebuiltFrame,
  closePayload,
  createMaskKey,
  encodeFrame,
  headerLength,
  maskInto,
  type FrameErrorKind,
  type FrameHandler,
} from '../../../loadgen/protocol/frame.js';

type Event =
  | { type: 'message'; opcode: number; data: Buffer }
  | { type: 'ping' | 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; kind: FrameErrorKind };

class Recorder implements FrameHandler {
  events: Event[] = [];
  onMessage(opcode: 1 | 2, buf: Buffer, start: number, end: number): void {
    this.events.push({ type: 'message', opcode, data: Buffer.from(buf.subarray(start, end)) });
  }
  onPing(payload: Buffer): void {
    this.events.push({ type: 'ping', data: Buffer.from(payload) });
  }
  onPong(payload: Buffer): void {
    this.events.push({ type: 'pong', data: Buffer.from(payload) });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onError(kind: FrameErrorKind): void {
    this.events.push({ type: 'error', kind });
  }
}

/** Server-style (unmasked) frame. */
function server(opcode: number, payload: Buffer | string, fin = true): Buffer {
  return encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, { fin, maskKey: null });
}

function parseAll(chunks: Buffer[], maxMessageBytes?: number): Event[] {
  const rec = new Recorder();
  const parser = new FrameParser(rec, maxMessageBytes === undefined ? {} : { maxMessageBytes });
  for (const c of chunks) parser.push(c);
  return rec.events;
}

function patterned(n: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Unmasks a client frame produced by the encoder (test-side decoder). */
function decodeClientFrame(frame: Buffer): { fin: boolean; opcode: number; payload: Buffer } {
  const b1 = frame[1]!;
  assert.equal(b1 & 0x80, 0x80, 'client frame must be masked');
  let len = b1 & 0x7f;
  let o = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    o = 4;
  } else if (len === 127) {
    len = Number(frame.readBigUInt64BE(2));
    o = 10;
  }
  const key = frame.subarray(o, o + 4);
  o += 4;
  assert.equal(frame.length, o + len);
  const payload = Buffer.allocUnsafe(len);
  maskInto(frame, o, o + len, payload, 0, key);
  return { fin: (frame[0]! & 0x80) !== 0, opcode: frame[0]! & 0x0f, payload };
}

describe('createMaskKey', () => {
  it('returns 4 bytes, none of them zero', () => {
    for (let i = 0; i < 200; i++) {
      const k = createMaskKey();
      assert.equal(k.length, 4);
      for (const byte of k) assert.notEqual(byte, 0);
    }
  });
});

describe('encodeFrame', () => {
  it('masks the payload so that unmasking restores it', () => {
    const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    for (const n of [0, 1, 3, 4, 5, 7, 125, 1000]) {
      const payload = patterned(n);
      const frame = encodeFrame(Opcode.Binary, payload, { maskKey: key });
      const d = decodeClientFrame(frame);
      assert.equal(d.opcode, Opcode.Binary);
      assert.equal(d.fin, true);
      assert.deepEqual(d.payload, payload);
      if (n > 0) assert.notDeepEqual(frame.subarray(frame.length - n), payload);
    }
  });

  it('uses the 7, 16 and 64-bit length forms at their boundaries', () => {
    const key = createMaskKey();
    const cases: Array<[number, number, number]> = [
      // payload bytes, length byte, header bytes (masked)
      [0, 0, 6],
      [125, 125, 6],
      [126, 126, 8],
      [65535, 126, 8],
      [65536, 127, 14],
      [1024 * 1024, 127, 14],
    ];
    for (const [n, len7, header] of cases) {
      const payload = patterned(n);
      const frame = encodeFrame(Opcode.Binary, payload, { maskKey: key });
      assert.equal(frame[1]! & 0x7f, len7, `length byte for ${n}`);
      assert.equal(headerLength(n, true), header);
      assert.equal(frame.length, header + n);
      assert.deepEqual(decodeClientFrame(frame).payload, payload);
      // And the parser reads the same length forms from server frames.
      const events = parseAll([server(Opcode.Binary, payload)]);
      assert.equal(events.length, 1);
      assert.deepEqual(events[0], { type: 'message', opcode: Opcode.Binary, data: payload });
    }
  });

  it('writes FIN clear for a non-final fragment', () => {
    const frame = encodeFrame(Opcode.Text, Buffer.from('ab'), { fin: false, maskKey: createMaskKey() });
    assert.equal(frame[0], 0x01);
  });
});

describe('PrebuiltFrame', () => {
  it('holds a masked copy of the template and exposes the payload offset', () => {
    const key = Buffer.from([1, 2, 3, 4]);
    for (const n of [16, 200, 70000]) {
      const template = patterned(n);
      const pf = new PrebuiltFrame(Opcode.Binary, template, key);
      assert.equal(pf.payloadOffset, headerLength(n, true));
      assert.equal(pf.payloadBytes, n);
      assert.deepEqual(decodeClientFrame(pf.frame).payload, template);
      assert.deepEqual(pf.readPayload(), template);
    }
  });

  it('patches bytes at every alignment by writing masked values', () => {
    const key = createMaskKey();
    const template = patterned(80);
    const pf = new PrebuiltFrame(Opcode.Binary, template, key);
    const expected = Buffer.from(template);
    for (let index = 0; index < 8; index++) {
      pf.writeUInt32BE(0xdeadbeef + index, index);
      expected.writeUInt32BE(0xdeadbeef + index, index);
      pf.writeDoubleBE(1234.5678 * (index + 1), 16 + index);
      expected.writeDoubleBE(1234.5678 * (index + 1), 16 + index);
      pf.writeUInt53BE(2 ** 52 + 12345 + index, 32 + index);
      expected.writeBigUInt64BE(BigInt(2 ** 52 + 12345 + index), 32 + index);
      pf.writeUInt32LE(0x01020304 * (index + 1), 24 + index);
      expected.writeUInt32LE(0x01020304 * (index + 1), 24 + index);
      pf.writeDoubleLE(-98.76 * (index + 1), 40 + index);
      expected.writeDoubleLE(-98.76 * (index + 1), 40 + index);
      pf.writeUInt8(200 + index, 48 + index);
      expected[48 + index] = 200 + index;
      const src = Buffer.from([9, 8, 7, 6, 5]);
      pf.writeBytes(src, 56 + (index % 3));
      src.copy(expected, 56 + (index % 3));
      assert.deepEqual(decodeClientFrame(pf.frame).payload, expected, `alignment ${index}`);
    }
  });
});

describe('FrameParser', () => {
  const stream = Buffer.concat([
    server(Opcode.Text, 'hello'),
    server(Opcode.Binary, patterned(300)),
    server(Opcode.Ping, 'p1'),
    server(Opcode.Binary, Buffer.alloc(0)),
    server(Opcode.Text, 'frag-', false),
    server(Opcode.Pong, 'p2'),
    server(Opcode.Continuation, patterned(130), false),
    server(Opcode.Continuation, 'end'),
    server(Opcode.Binary, patterned(126)),
    server(Opcode.Close, closePayload(1001, 'bye')),
  ]);
  const expected: Event[] = [
    { type: 'message', opcode: Opcode.Text, data: Buffer.from('hello') },
    { type: 'message', opcode: Opcode.Binary, data: patterned(300) },
    { type: 'ping', data: Buffer.from('p1') },
    { type: 'message', opcode: Opcode.Binary, data: Buffer.alloc(0) },
    { type: 'pong', data: Buffer.from('p2') },
    { type: 'message', opcode: Opcode.Text, data: Buffer.concat([Buffer.from('frag-'), patterned(130), Buffer.from('end')]) },
    { type: 'message', opcode: Opcode.Binary, data: patterned(126) },
    { type: 'close', code: 1001, reason: 'bye' },
  ];

  it('parses a stream of frames fed in one chunk', () => {
    assert.deepEqual(parseAll([stream]), expected);
  });

  it('gives the same events when the stream is split at every byte boundary', () => {
    for (let split = 1; split < stream.length; split++) {
      assert.deepEqual(parseAll([stream.subarray(0, split), stream.subarray(split)]), expected, `split at ${split}`);
    }
  });

  it('gives the same events when split at two points', () => {
    for (let a = 1; a < stream.length; a += 7) {
      for (let b = a + 1; b < stream.length; b += 3) {
        assert.deepEqual(parseAll([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]), expected, `splits ${a}, ${b}`);
      }
    }
  });

  it('gives the same events when fed one byte at a time', () => {
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
    assert.deepEqual(parseAll(chunks), expected);
  });

  it('handles 16 and 64-bit length headers split at every byte', () => {
    const s = Buffer.concat([server(Opcode.Binary, patterned(65535)), server(Opcode.Binary, patterned(65536, 3))]);
    const want: Event[] = [
      { type: 'message', opcode: Opcode.Binary, data: patterned(65535) },
      { type: 'message', opcode: Opcode.Binary, data: patterned(65536, 3) },
    ];
    const points = [1, 2, 3, 4, 5, 65538, 65539, 65540, 65541, 65542, 65543, 65544, 65545, 65546, 65547, 65548];
    for (const split of points) {
      assert.deepEqual(parseAll([s.subarray(0, split), s.subarray(split)]), want, `split at ${split}`);
    }
  });

  it('reads the offset range it is given and accepts a reused chunk', () => {
    const rec = new Recorder();
    const parser = new FrameParser(rec);
    const shared = Buffer.alloc(64);
    const f = server(Opcode.Binary, patterned(40));
    // First half of the frame, then the shared buffer is overwritten with the second half.
    f.copy(shared, 10, 0, 20);
    parser.push(shared, 10, 30);
    shared.fill(0);
    f.copy(shared, 5, 20);
    parser.push(shared, 5, 5 + f.length - 20);
    assert.deepEqual(rec.events, [{ type: 'message', opcode: Opcode.Binary, data: patterned(40) }]);
  });

  it('delivers an unfragmented message in one chunk as a view into that chunk', () => {
    const chunk = Buffer.concat([server(Opcode.Binary, patterned(50)), server(Opcode.Text, 'x')]);
    const seen: Array<[Buffer, number, number]> = [];
    const parser = new FrameParser({
      onMessage: (_op, buf, start, end) => seen.push([buf, start, end]),
      onPing: () => {},
      onPong: () => {},
      onClose: () => {},
      onError: () => {},
    });
    parser.push(chunk);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]![0], chunk);
    assert.deepEqual([seen[0]![1], seen[0]![2]], [2, 52]);
    assert.equal(seen[1]![0], chunk);
    assert.deepEqual([seen[1]![1], seen[1]![2]], [54, 55]);
  });

  it('delivers interleaved ping, pong and close between fragments', () => {
    const events = parseAll([
      server(Opcode.Binary, 'a', false),
      server(Opcode.Ping, 'x'),
      server(Opcode.Continuation, 'b', false),
      server(Opcode.Pong, ''),
      server(Opcode.Continuation, 'c'),
      server(Opcode.Text, 'd', false),
      server(Opcode.Close, closePayload(1000, '')),
      server(Opcode.Continuation, 'e'),
    ]);
    assert.deepEqual(events, [
      { type: 'ping', data: Buffer.from('x') },
      { type: 'pong', data: Buffer.alloc(0) },
      { type: 'message', opcode: Opcode.Binary, data: Buffer.from('abc') },
      { type: 'close', code: 1000, reason: '' },
    ]);
  });

  it('reports close code 1005 for an empty close frame and stops parsing', () => {
    assert.deepEqual(parseAll([Buffer.concat([server(Opcode.Close, ''), server(Opcode.Text, 'after')])]), [
      { type: 'close', code: 1005, reason: '' },
    ]);
  });

  const errorCases: Array<[string, Buffer, FrameErrorKind]> = [
    ['a masked server frame', encodeFrame(Opcode.Text, Buffer.from('hi'), { maskKey: Buffer.from([1, 2, 3, 4]) }), 'masked-frame'],
    ['RSV1 set', Buffer.from([0xc1, 0x00]), 'reserved-bits'],
    ['RSV3 set', Buffer.from([0x92, 0x00]), 'reserved-bits'],
    ['a fragmented ping', Buffer.from([0x09, 0x00]), 'fragmented-control'],
    ['a ping longer than 125 bytes', Buffer.from([0x89, 126, 0x00, 126, ...Buffer.alloc(126)]), 'control-too-long'],
    ['a continuation without a start', server(Opcode.Continuation, 'x'), 'unexpected-continuation'],
    [
      'a new message inside a fragmented one',
      Buffer.concat([server(Opcode.Text, 'a', false), server(Opcode.Text, 'b')]),
      'expected-continuation',
    ],
    ['data opcode 0x3', Buffer.from([0x83, 0x00]), 'unknown-opcode'],
    ['control opcode 0xb', Buffer.from([0x8b, 0x00]), 'unknown-opcode'],
    ['a 64-bit length with the top bit set', Buffer.from([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]), 'invalid-length'],
    ['a 1-byte close payload', Buffer.from([0x88, 0x01, 0x03]), 'invalid-close-payload'],
    ['close code 1005 on the wire', server(Opcode.Close, closePayload(1005, '')), 'invalid-close-code'],
    ['close code 999', server(Opcode.Close, closePayload(999, '')), 'invalid-close-code'],
  ];
  for (const [name, bytes, kind] of errorCases) {
    it(`reports ${kind} for ${name}, whole or split`, () => {
      assert.deepEqual(parseAll([bytes, server(Opcode.Text, 'ignored')]), [{ type: 'error', kind }]);
      for (let split = 1; split < Math.min(bytes.length, 16); split++) {
        const events = parseAll([bytes.subarray(0, split), bytes.subarray(split)]);
        assert.deepEqual(events, [{ type: 'error', kind }], `split at ${split}`);
      }
    });
  }

  it('reports message-too-big for a frame or a fragmented message over the limit', () => {
    assert.deepEqual(parseAll([server(Opcode.Binary, patterned(101))], 100), [{ type: 'error', kind: 'message-too-big' }]);
    assert.deepEqual(parseAll([server(Opcode.Binary, patterned(100))], 100), [
      { type: 'message', opcode: Opcode.Binary, data: patterned(100) },
    ]);
    assert.deepEqual(
      parseAll([server(Opcode.Binary, patterned(60), false), server(Opcode.Continuation, patterned(41))], 100),
      [{ type: 'error', kind: 'message-too-big' }],
    );
  });

  it('reuses its reassembly buffer for messages that span chunks', () => {
    const bufs: Buffer[] = [];
    const parser = new FrameParser({
      onMessage: (_op, buf) => bufs.push(buf),
      onPing: () => {},
      onPong: () => {},
      onClose: () => {},
      onError: () => {},
    });
    for (let i = 0; i < 3; i++) {
      const f = server(Opcode.Binary, patterned(200));
      parser.push(f.subarray(0, 50));
      parser.push(f.subarray(50));
    }
    assert.equal(bufs.length, 3);
    assert.equal(bufs[1], bufs[0]);
    assert.equal(bufs[2], bufs[0]);
  });
});
