import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder, PacketType } from 'socket.io-parser';
import { Opcode, createMaskKey, maskInto } from '../../../loadgen/protocol/frame.js';
import {
  PONG_PACKET,
  PacketKind,
  SessionAction,
  SocketIoEventFrame,
  SocketIoNamespace,
  SocketIoSession,
  parseEventPacket,
  socketIoRequestPath,
  socketIoTarget,
  type ByteRange,
} from '../../../loadgen/protocol/socketio.js';
import { SyntheticCodec } from '../../../loadgen/codec.js';
import { TemplateCodec } from '../../../loadgen/template.js';

// Frames from the specs (socketio/socket.io docs/engine.io-protocol/v4-current.md and
// docs/socket.io-protocol/v5-current.md), each with the Engine.IO type in front as sent over WebSocket.
const SPEC = {
  open: '0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}',
  connectAdmin: '40/admin,',
  connectAdminAck: '40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}',
  connectMain: '40',
  connectMainAck: '40{"sid":"wZX3oN0bSVIhsaknAAAI"}',
  connectError: '44{"message":"Not authorized"}',
  eventMain: '42["hey","Jude"]',
  eventAdmin: '42/admin,["bar"]',
  eventWithAck: '42/admin,1["tellme"]',
  binaryAck: '461-/admin,1[{"_placeholder":true,"num":0}]',
  binaryEvent: '451-["baz",{"_placeholder":true,"num":0}]',
  ack: '43/admin,13["bar"]',
  disconnectAdmin: '41/admin,',
  disconnectMain: '41',
  ping: '2',
  pong: '3',
  probe: '2probe',
  close: '1',
  noop: '6',
  upgrade: '5',
};

// Frames a socket.io 4.8.4 server (servers/node-socketio.ts) sent to a raw client.
const REAL = {
  open: '0{"sid":"wUEo4KbfiAbZOiuCAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":16777216}',
  echoAck: '40/echo,{"sid":"pCMFcu4xAgFbrbONAAAA"}',
  echo: '42/echo,["message",{"a":"b","n":1}]',
  invalidNamespace: '44/nope,{"message":"Invalid namespace"}',
  relayClose: '42/relay,["close",1011]',
  relayDisconnect: '41/relay,',
};

const text = (s: string) => Buffer.from(s, 'utf8');

function classify(ns: SocketIoNamespace, frame: string): { kind: number; range: string | undefined } {
  const buf = Buffer.concat([text('xx'), text(frame), text('yy')]); // at an offset, as in a shared read buffer
  const out: ByteRange = { start: -1, end: -1 };
  const kind = ns.classify(buf, 2, 2 + Buffer.byteLength(frame), out);
  return { kind, range: out.start < 0 ? undefined : buf.toString('utf8', out.start, out.end) };
}

describe('socketIoRequestPath', () => {
  it('asks for Engine.IO 4 over the WebSocket transport, then the extra query', () => {
    assert.equal(socketIoRequestPath(), '/socket.io/?EIO=4&transport=websocket');
    assert.equal(socketIoRequestPath({ room: 'a b&c' }), '/socket.io/?EIO=4&transport=websocket&room=a+b%26c');
    assert.equal(socketIoRequestPath({ session: 's1' }, '/custom/'), '/custom/?EIO=4&transport=websocket&session=s1');
  });
});

describe('socketIoTarget', () => {
  it("maps a bare route onto a stack: the path becomes the namespace, the query the handshake's", () => {
    assert.deepEqual(socketIoTarget('/echo'), { namespace: '/echo', requestPath: '/socket.io/?EIO=4&transport=websocket' });
    assert.deepEqual(socketIoTarget('/broadcast?room=r%201'), { namespace: '/broadcast', requestPath: '/socket.io/?EIO=4&transport=websocket&room=r+1' });
    assert.deepEqual(socketIoTarget('/relay?session=s1&x=2'), { namespace: '/relay', requestPath: '/socket.io/?EIO=4&transport=websocket&session=s1&x=2' });
  });
});

describe('SocketIoNamespace', () => {
  it('builds the CONNECT, DISCONNECT and event packets of a namespace as the spec encodes them', () => {
    const admin = new SocketIoNamespace('/admin', 'hey');
    assert.equal(admin.connectPacket.toString(), SPEC.connectAdmin);
    assert.equal(admin.disconnectPacket.toString(), SPEC.disconnectAdmin);
    assert.equal(admin.eventPrefix.toString(), '42/admin,["hey",');
    assert.equal(admin.eventSuffix.toString(), ']');
    const main = new SocketIoNamespace('/', 'hey');
    assert.equal(main.connectPacket.toString(), SPEC.connectMain);
    assert.equal(main.disconnectPacket.toString(), SPEC.disconnectMain);
    assert.equal(main.buildEvent(text('["Jude"]')).toString(), '42["hey",["Jude"]]');
  });

  it('refuses a namespace without a leading slash or with a comma, and an empty event name', () => {
    assert.throws(() => new SocketIoNamespace('echo'), RangeError);
    assert.throws(() => new SocketIoNamespace('/a,b'), RangeError);
    assert.throws(() => new SocketIoNamespace('/echo', ''), RangeError);
  });

  it("frames a text payload exactly as socket.io-parser's encoder does, payload embedded as a JSON value", () => {
    const echo = new SocketIoNamespace('/echo');
    const codec = new SyntheticCodec('text');
    const payload = codec.build(200);
    codec.writeHeader(payload, 0, payload.length, 7, 42, 1_700_000_000_123_456);
    const [encoded] = new Encoder().encode({ type: PacketType.EVENT, nsp: '/echo', data: ['message', JSON.parse(payload.toString())] }) as [string];
    const message = echo.buildEvent(payload);
    assert.equal(message.toString(), `4${encoded}`);
    assert.equal(message.length, echo.eventBytes(payload.length));
    assert.ok(message.subarray(echo.payloadOffset, echo.payloadOffset + payload.length).equals(payload));
    assert.equal(echo.payloadOffset, '42/echo,["message",'.length);
  });

  it('frames a JSON template message the same way (its rendering is JSON.stringify-stable)', () => {
    const codec = new TemplateCodec({ type: 'chat.message', id: '{{id}}', at: '{{sentAtUs}}', n: 1.5, ok: true, u: 'é€', nested: { a: [1, null] }, pad: '{{pad}}' });
    const payload = codec.build(codec.minBytes + 40);
    const [encoded] = new Encoder().encode({ type: PacketType.EVENT, nsp: '/broadcast', data: ['message', JSON.parse(payload.toString())] }) as [string];
    assert.equal(new SocketIoNamespace('/broadcast').buildEvent(payload).toString(), `4${encoded}`);
  });

  it('refuses a payload that is not a JSON object or array (binary needs attachments)', () => {
    const echo = new SocketIoNamespace('/echo');
    assert.throws(() => echo.buildEvent(new SyntheticCodec('binary').build(64)), /JSON object or array/);
    assert.throws(() => echo.buildEvent(text('"a string"')), /JSON object or array/);
    assert.throws(() => echo.buildEvent(Buffer.alloc(0)), /JSON object or array/);
  });

  describe('classify', () => {
    const admin = new SocketIoNamespace('/admin', 'bar');
    const main = new SocketIoNamespace('/', 'hey');
    const echo = new SocketIoNamespace('/echo');
    const table: [string, SocketIoNamespace, string, number, string | undefined][] = [
      ['spec open', admin, SPEC.open, PacketKind.Open, SPEC.open.slice(1)],
      ['real open', echo, REAL.open, PacketKind.Open, REAL.open.slice(1)],
      ['ping', admin, SPEC.ping, PacketKind.Ping, ''],
      ['probe ping', admin, SPEC.probe, PacketKind.Ping, 'probe'],
      ['pong', admin, SPEC.pong, PacketKind.Pong, undefined],
      ['engine close', admin, SPEC.close, PacketKind.Close, undefined],
      ['noop', admin, SPEC.noop, PacketKind.Other, undefined],
      ['upgrade', admin, SPEC.upgrade, PacketKind.Other, undefined],
      ['empty frame', admin, '', PacketKind.Other, undefined],
      ['lone message type', admin, '4', PacketKind.Other, undefined],
      ['connect ack, custom namespace', admin, SPEC.connectAdminAck, PacketKind.Connect, '{"sid":"-G5j-67EZFp-q59rADQM"}'],
      ['connect ack, main namespace', main, SPEC.connectMainAck, PacketKind.Connect, '{"sid":"wZX3oN0bSVIhsaknAAAI"}'],
      ['real connect ack', echo, REAL.echoAck, PacketKind.Connect, '{"sid":"pCMFcu4xAgFbrbONAAAA"}'],
      ["another namespace's connect ack", echo, SPEC.connectAdminAck, PacketKind.Other, undefined],
      ["a custom namespace's ack seen from /", main, SPEC.connectAdminAck, PacketKind.Other, undefined],
      ['connect error, main namespace', main, SPEC.connectError, PacketKind.ConnectError, '{"message":"Not authorized"}'],
      ['real connect error', new SocketIoNamespace('/nope'), REAL.invalidNamespace, PacketKind.ConnectError, '{"message":"Invalid namespace"}'],
      ['event, main namespace', main, SPEC.eventMain, PacketKind.Event, '"Jude"'],
      ['event, custom namespace', admin, SPEC.eventAdmin, PacketKind.OtherEvent, '["bar"]'],
      ['real echo', echo, REAL.echo, PacketKind.Event, '{"a":"b","n":1}'],
      ['event with another name', new SocketIoNamespace('/relay'), REAL.relayClose, PacketKind.OtherEvent, '["close",1011]'],
      ['event with an ack id', admin, SPEC.eventWithAck, PacketKind.OtherEvent, '1["tellme"]'],
      ["another namespace's event", echo, SPEC.eventAdmin, PacketKind.Other, undefined],
      ['event without its closing bracket', echo, '42/echo,["message",{"a":1}', PacketKind.OtherEvent, '["message",{"a":1}'],
      ['event without a payload', echo, '42/echo,["message",]', PacketKind.Event, ''],
      ['binary event', main, SPEC.binaryEvent, PacketKind.Binary, undefined],
      ['binary ack', admin, SPEC.binaryAck, PacketKind.Binary, undefined],
      ['ack', admin, SPEC.ack, PacketKind.Other, undefined],
      ['disconnect, custom namespace', admin, SPEC.disconnectAdmin, PacketKind.Disconnect, undefined],
      ['disconnect, main namespace', main, SPEC.disconnectMain, PacketKind.Disconnect, undefined],
      ['real relay disconnect', new SocketIoNamespace('/relay'), REAL.relayDisconnect, PacketKind.Disconnect, undefined],
      ["another namespace's disconnect", echo, SPEC.disconnectAdmin, PacketKind.Other, undefined],
    ];
    for (const [what, ns, frame, kind, range] of table) {
      it(`${what}: ${JSON.stringify(frame.slice(0, 40))}`, () => {
        assert.deepEqual(classify(ns, frame), { kind, range });
      });
    }
  });
});

/** Feeds text frames to a fresh session; returns each action (and Reply bytes). */
function drive(session: SocketIoSession, frames: (string | Buffer)[]): string[] {
  return frames.map((f) => {
    const buf = typeof f === 'string' ? text(f) : f;
    const action = session.receive(typeof f === 'string' ? Opcode.Text : Opcode.Binary, buf, 0, buf.length);
    const name = Object.entries(SessionAction).find(([, v]) => v === action)![0];
    if (action === SessionAction.Reply) return `Reply ${session.reply.toString()}`;
    if (action === SessionAction.Event || action === SessionAction.OtherEvent) return `${name} ${buf.toString('utf8', session.payload.start, session.payload.end)}`;
    return name;
  });
}

describe('SocketIoSession', () => {
  it('walks the handshake of a real session: open → CONNECT → ack, then events and heartbeats', () => {
    const s = new SocketIoSession(new SocketIoNamespace('/echo'));
    assert.deepEqual(drive(s, [REAL.open, SPEC.ping, REAL.echoAck, REAL.echo, SPEC.ping, SPEC.pong]), [
      'Reply 40/echo,',
      'Reply 3',
      'Connected',
      'Event {"a":"b","n":1}',
      'Reply 3',
      'None',
    ]);
    assert.equal(s.state, 'connected');
    assert.deepEqual([s.sid, s.namespaceSid, s.pingIntervalMs, s.pingTimeoutMs, s.maxPayloadBytes, s.pings], ['wUEo4KbfiAbZOiuCAAAA', 'pCMFcu4xAgFbrbONAAAA', 25000, 20000, 16777216, 2]);
    assert.equal(s.reply, PONG_PACKET);
  });

  it('handles the spec sample session (main namespace, maxPayload from the open packet)', () => {
    const s = new SocketIoSession(new SocketIoNamespace('/', 'hey'));
    assert.deepEqual(drive(s, [SPEC.open, SPEC.connectMainAck, SPEC.eventMain]), ['Reply 40', 'Connected', 'Event "Jude"']);
    assert.equal(s.maxPayloadBytes, 1_000_000);
  });

  it('answers a ping that carries data with a pong carrying it back', () => {
    const s = new SocketIoSession(new SocketIoNamespace('/echo'));
    assert.deepEqual(drive(s, [REAL.open, REAL.echoAck, SPEC.probe]), ['Reply 40/echo,', 'Connected', 'Reply 3probe']);
  });

  it('hands over other events of the namespace, which parseEventPacket reads', () => {
    const s = new SocketIoSession(new SocketIoNamespace('/relay'));
    const frame = text(REAL.relayClose);
    drive(s, [REAL.open, '40/relay,{"sid":"x"}']);
    assert.equal(s.receive(Opcode.Text, frame, 0, frame.length), SessionAction.OtherEvent);
    assert.deepEqual(parseEventPacket(frame, s.payload.start, s.payload.end), { name: 'close', args: [1011] });
    assert.equal(parseEventPacket(text('1["tellme"]'), 0, 11), undefined, 'an ack id is not an event array');
    assert.equal(parseEventPacket(text('[1]'), 0, 3), undefined);
  });

  it('ends on a server DISCONNECT or an Engine.IO close, and ignores what follows', () => {
    const a = new SocketIoSession(new SocketIoNamespace('/relay'));
    assert.deepEqual(drive(a, [REAL.open, '40/relay,{"sid":"x"}', REAL.relayDisconnect, REAL.echo]), ['Reply 40/relay,', 'Connected', 'Closed', 'None']);
    assert.deepEqual([a.state, a.closeReason], ['closed', 'disconnect']);
    const b = new SocketIoSession(new SocketIoNamespace('/echo'));
    assert.deepEqual(drive(b, [REAL.open, SPEC.close]), ['Reply 40/echo,', 'Closed']);
    assert.deepEqual([b.state, b.closeReason], ['closed', 'engine-close']);
  });

  it('reports frames a connected session does not expect, without failing it', () => {
    const s = new SocketIoSession(new SocketIoNamespace('/echo'));
    drive(s, [REAL.open, REAL.echoAck]);
    assert.deepEqual(drive(s, ['43/echo,1[]', SPEC.noop, '4', REAL.echo]), ['Unexpected', 'Unexpected', 'Unexpected', 'Event {"a":"b","n":1}']);
    assert.equal(s.state, 'connected');
  });

  const failures: [string, string, (string | Buffer)[], string, RegExp][] = [
    ['a refused namespace', '/nope', [REAL.open, REAL.invalidNamespace], 'connect-error', /refused namespace \/nope: Invalid namespace/],
    ['a first frame that is not the open packet', '/echo', [REAL.echo], 'unexpected-packet', /expected the Engine\.IO open packet/],
    ['an open packet that is not JSON', '/echo', ['0{sid'], 'malformed-open', /not JSON/],
    ['an open packet without a sid', '/echo', ['0{"pingInterval":1,"pingTimeout":2}'], 'malformed-open', /lacks sid/],
    ['an event before the namespace ack', '/echo', [REAL.open, REAL.echo], 'unexpected-packet', /expected the CONNECT acknowledgement/],
    ['a connect ack without a sid', '/echo', [REAL.open, '40/echo,{}'], 'unexpected-packet', /carries no sid/],
    ['a binary event', '/', [SPEC.open, SPEC.connectMainAck, SPEC.binaryEvent], 'binary-unsupported', /binary event/],
    ['a binary frame', '/echo', [REAL.open, REAL.echoAck, Buffer.from([1, 2, 3, 4])], 'binary-unsupported', /binary frame/],
  ];
  for (const [what, namespace, frames, error, message] of failures) {
    it(`fails on ${what} (${error}), then ignores everything`, () => {
      const s = new SocketIoSession(new SocketIoNamespace(namespace));
      const actions = drive(s, frames);
      assert.equal(actions.at(-1), 'Failed');
      assert.deepEqual([s.state, s.error], ['failed', error]);
      assert.match(s.errorMessage, message);
      assert.deepEqual(drive(s, [SPEC.ping, REAL.echo]), ['None', 'None']);
    });
  }
});

describe('SocketIoEventFrame', () => {
  /** The unmasked WebSocket payload of a prebuilt client frame. */
  function unmasked(f: SocketIoEventFrame, maskKey: Buffer): Buffer {
    const frame = f.frame.frame;
    const out = Buffer.alloc(frame.length - f.frame.payloadOffset);
    maskInto(frame, f.frame.payloadOffset, frame.length, out, 0, maskKey, 0);
    return out;
  }

  for (const [what, codec, size] of [
    ['text payload of 125 bytes', new SyntheticCodec('text'), 125],
    ['text payload of 65,536 bytes', new SyntheticCodec('text'), 65_536],
    ['JSON template', new TemplateCodec({ type: 'tick', c: '{{conn}}', s: '{{seq}}', t: '{{sentAtUs}}', pad: '{{pad}}' }), 300],
  ] as const) {
    it(`is patched in place at the payload's offset and mask phase: ${what}`, () => {
      const ns = new SocketIoNamespace('/broadcast');
      const maskKey = createMaskKey();
      const f = new SocketIoEventFrame(ns, codec.build(size), maskKey);
      assert.equal(f.frame.frame[0], 0x80 | Opcode.Text);
      for (const [connId, seq, tUs] of [[1, 2, 1_700_000_000_000_001], [4_000_000_000, 99, 1_800_000_000_999_999]] as const) {
        codec.writeHeaderMasked(f.frame.frame, f.payloadIndex, f.payloadBytes, connId, seq, tUs, maskKey, f.keyPhase);
        const message = unmasked(f, maskKey);
        const payload = codec.build(size);
        codec.writeHeader(payload, 0, size, connId, seq, tUs);
        assert.ok(message.equals(ns.buildEvent(payload)), 'the frame carries prefix + patched payload + suffix');
        // What a receiver does with the server's copy of it.
        const out: ByteRange = { start: 0, end: 0 };
        assert.equal(ns.classify(message, 0, message.length, out), PacketKind.Event);
        assert.equal(out.end - out.start, size);
        assert.deepEqual(codec.readHeader(message, out.start, out.end - out.start, { connId: 0, seq: 0, tUs: 0 }), { connId, seq, tUs });
        assert.ok(codec.bodyMatches(message, out.start, out.end - out.start));
      }
    });
  }
});
