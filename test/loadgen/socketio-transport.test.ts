// The Socket.IO transport against a scripted Engine.IO server (ws on port 0): what goes on the wire, byte for
// byte, and what the load model sees of what comes back. The stacks themselves are in test/core/stacks-run.test.ts.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { isBenchError } from '../../base/errors.js';
import { SyntheticCodec } from '../../loadgen/codec.js';
import type { Conn } from '../../loadgen/session.js';
import { createTransport, type Transport, type TransportHandlers } from '../../loadgen/transport.js';
import type { ErrorKind } from '../../loadgen/types.js';

const OPEN_PACKET = '0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":16777216}';

/** A server session, scripted by each test: what it received, and its socket to answer on. */
interface Peer {
  url: string;
  ws: WebSocket;
  frames: { text: string; binary: boolean }[];
  next(): Promise<string>;
}

let server: http.Server;
let wss: WebSocketServer;
let port = 0;
const waiting: ((p: Peer) => void)[] = [];

before(async () => {
  server = http.createServer();
  wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const frames: Peer['frames'] = [];
    const wake: (() => void)[] = [];
    ws.on('message', (data: Buffer, binary) => {
      frames.push({ text: data.toString('utf8'), binary });
      wake.shift()?.();
    });
    let read = 0;
    const peer: Peer = {
      url: req.url ?? '',
      ws,
      frames,
      async next() {
        while (frames.length <= read) await new Promise<void>((r) => wake.push(r));
        return frames[read++]!.text;
      },
    };
    waiting.shift()?.(peer);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => wss.close(() => server.close(() => r())));
});

const nextPeer = () => new Promise<Peer>((r) => waiting.push(r));

/** What the transport handed to the model. */
function recorder() {
  const got = { messages: [] as string[], closes: [] as { code: number; byUs: boolean }[], errors: [] as ErrorKind[], reads: 0 };
  const h: TransportHandlers = {
    onRead: () => got.reads++,
    onMessage: (_c, buf, start, end) => got.messages.push(buf.toString('utf8', start, end)),
    onClose: (_c, code, byUs) => got.closes.push({ code, byUs }),
    onError: (_c, kind) => got.errors.push(kind),
  };
  return { got, h };
}

const newConn = (id = 7): Conn => ({ id, room: 0, publisher: false, seq: 0, inFlight: 0, open: false, t: undefined });

/** Connects `c` on `path`; resolves with the server's peer and a promise of the connect's outcome. */
async function connect(t: Transport, c: Conn, path: string, timeoutMs = 5000) {
  const peerP = nextPeer();
  let settled = false;
  const done = new Promise<ErrorKind | 'ok'>((resolve) =>
    t.connect(c, '127.0.0.1', port, path, timeoutMs, (err) => {
      settled = true;
      resolve(err ?? 'ok');
    }),
  );
  const peer = await peerP;
  return { peer, done, settled: () => settled };
}

/** The handshake up to the ack: open packet, the client's CONNECT, the ack. */
async function handshake(peer: Peer, connectPacket: string): Promise<void> {
  peer.ws.send(OPEN_PACKET);
  assert.equal(await peer.next(), connectPacket);
  peer.ws.send(`${connectPacket}{"sid":"n1"}`);
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('the raw client speaking Socket.IO (createTransport raw + socket.io)', () => {
  test('opens an Engine.IO session on the route as namespace, its query in the handshake, and counts it open only at the ack', async () => {
    const { h } = recorder();
    const t = createTransport('raw', h, 'socket.io');
    const c = newConn();
    const { peer, done, settled } = await connect(t, c, '/broadcast?room=r3');
    assert.equal(peer.url, '/socket.io/?EIO=4&transport=websocket&room=r3');
    peer.ws.send(OPEN_PACKET);
    assert.equal(await peer.next(), '40/broadcast,');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled(), false, 'open before the namespace acknowledged the session');
    peer.ws.send('40/broadcast,{"sid":"n1"}');
    assert.equal(await done, 'ok');
    t.destroy(c.t!);
  });

  test('sends each message as 42/<ns>,["message",<payload>] with the codec\'s header patched in, byte for byte', async () => {
    const { h } = recorder();
    const t = createTransport('raw', h, 'socket.io');
    const c = newConn(12);
    const { peer, done } = await connect(t, c, '/echo');
    await handshake(peer, '40/echo,');
    assert.equal(await done, 'ok');
    const codec = new SyntheticCodec('text');
    const template = codec.build(96);
    const expected = (seq: number, tUs: number) => {
      const b = Buffer.from(template);
      codec.writeHeader(b, 0, b.length, 12, seq, tUs);
      return `42/echo,["message",${b.toString('utf8')}]`;
    };
    // The same template twice: one pre-built frame, patched per send.
    t.send(c.t!, codec, template, 12, 0, 1_700_000_000_000_001);
    t.send(c.t!, codec, template, 12, 1, 1_700_000_000_000_002);
    assert.equal(await peer.next(), expected(0, 1_700_000_000_000_001));
    assert.equal(await peer.next(), expected(1, 1_700_000_000_000_002));
    assert.ok(peer.frames.every((f) => !f.binary), 'events are text frames');
    t.destroy(c.t!);
  });

  test('hands the model only an event\'s payload, answers pings with 3 without the model seeing them', async () => {
    const { got, h } = recorder();
    const t = createTransport('raw', h, 'socket.io');
    const c = newConn();
    const { peer, done } = await connect(t, c, '/echo');
    await handshake(peer, '40/echo,');
    await done;
    peer.ws.send('2');
    assert.equal(await peer.next(), '3');
    peer.ws.send('42/echo,["message",{"c":"1","p":"x"}]');
    // What a session of /echo does not expect (another event, another namespace's) reaches the model whole, for its accounting to count.
    peer.ws.send('42/echo,["typing",1]');
    peer.ws.send('42/other,["message",{"c":"2"}]');
    await until(() => got.messages.length === 3);
    assert.deepEqual(got.messages, ['{"c":"1","p":"x"}', '42/echo,["typing",1]', '42/other,["message",{"c":"2"}]']);
    assert.deepEqual(got.errors, []);
    t.destroy(c.t!);
  });

  test('the relay\'s close event sets the code its close reports, as a bare relay\'s close frame would', async () => {
    const { got, h } = recorder();
    const t = createTransport('raw', h, 'socket.io');
    const c = newConn();
    const { peer, done } = await connect(t, c, '/relay?session=s7');
    assert.equal(peer.url, '/socket.io/?EIO=4&transport=websocket&session=s7');
    await handshake(peer, '40/relay,');
    await done;
    peer.ws.send('42/relay,["close",1011]');
    peer.ws.send('41/relay,');
    peer.ws.close();
    await until(() => got.closes.length === 1);
    assert.deepEqual(got.closes, [{ code: 1011, byUs: false }]);
  });

  const refusals: [string, (peer: Peer) => Promise<void>, ErrorKind, number?][] = [
    ['the namespace refused (CONNECT_ERROR)', async (p) => {
      p.ws.send(OPEN_PACKET);
      await p.next();
      p.ws.send('44/relay,{"message":"no upstream"}');
    }, 'handshake-rejected'],
    ['a first frame that is not the open packet', async (p) => p.ws.send('40/relay,{"sid":"x"}'), 'protocol'],
    ['no acknowledgement within the connect timeout', async (p) => p.ws.send(OPEN_PACKET), 'timeout', 300],
  ];
  for (const [what, script, kind, timeoutMs] of refusals) {
    test(`fails the connect for ${what}: ${kind}`, async () => {
      const { got, h } = recorder();
      const t = createTransport('raw', h, 'socket.io');
      const { peer, done } = await connect(t, newConn(), '/relay?session=s1', timeoutMs);
      await script(peer);
      assert.equal(await done, kind);
      // A failed connect is the connect's failure only: no close or error for the model afterwards.
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(got.closes, []);
      assert.deepEqual(got.errors, []);
    });
  }

  test('a binary frame on an open session is a protocol error and ends the connection', async () => {
    const { got, h } = recorder();
    const t = createTransport('raw', h, 'socket.io');
    const c = newConn();
    const { peer, done } = await connect(t, c, '/echo');
    await handshake(peer, '40/echo,');
    await done;
    peer.ws.on('close', () => {});
    peer.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await until(() => got.closes.length === 1);
    assert.deepEqual(got.errors, ['protocol']);
    assert.equal(got.closes[0]!.byUs, false);
  });
});

describe('createTransport', () => {
  const { h } = recorder();
  const table: [Parameters<typeof createTransport>[0], Parameters<typeof createTransport>[2]][] = [
    ['ws', 'socket.io'],
    ['socketio', 'websocket'],
  ];
  for (const [client, protocol] of table) {
    test(`refuses the ${client} client for a ${protocol} server with E_USAGE`, () => {
      assert.throws(() => createTransport(client, h, protocol), (e: unknown) => isBenchError(e) && e.code === 'E_USAGE');
    });
  }
});
