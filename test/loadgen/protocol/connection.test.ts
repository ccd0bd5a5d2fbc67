import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  RawWebSocket,
  type RawWebSocketError,
  type RawWebSocketHandler,
  type RawWebSocketOptions,
} from '../../../loadgen/protocol/connection.js';
import { Opcode, PrebuiltFrame, encodeFrame, type DataOpcode } from '../../../loadgen/protocol/frame.js';
import { computeAcceptKey } from '../../../loadgen/protocol/handshake.js';

/** Records one connection's events. */
class Client implements RawWebSocketHandler<null> {
  opened = false;
  messages: Array<{ opcode: DataOpcode; data: Buffer }> = [];
  pongs: Buffer[] = [];
  errors: RawWebSocketError[] = [];
  closed: { code: number; reason: string } | null = null;
  onOpen(_ws?: RawWebSocket<null>): void {
    this.opened = true;
  }
  onMessage(_ws: RawWebSocket<null>, opcode: DataOpcode, buf: Buffer, start: number, end: number): void {
    this.messages.push({ opcode, data: Buffer.from(buf.subarray(start, end)) });
  }
  onPong(_ws: RawWebSocket<null>, payload: Buffer): void {
    this.pongs.push(Buffer.from(payload));
  }
  onError(_ws: RawWebSocket<null>, error: RawWebSocketError): void {
    this.errors.push(error);
  }
  onClose(_ws: RawWebSocket<null>, code: number, reason: string): void {
    assert.equal(this.closed, null, 'onClose called twice');
    this.closed = { code, reason };
  }
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function text(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 0x21 + ((i * 7) % 90);
  return b;
}

function binary(n: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed) & 0xff;
  return b;
}

describe('RawWebSocket against a ws server', () => {
  let wss: WebSocketServer;
  let port = 0;
  const serverSockets = new Set<WebSocket>();
  const clients: RawWebSocket<null>[] = [];
  const serverEvents: Array<{ path: string; event: string; code?: number; reason?: string; data?: Buffer }> = [];

  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    port = (wss.address() as net.AddressInfo).port;
    wss.on('connection', (ws, req) => {
      const path = req.url ?? '/';
      serverSockets.add(ws);
      ws.on('close', (code, reason) => {
        serverSockets.delete(ws);
        serverEvents.push({ path, event: 'close', code, reason: reason.toString() });
      });
      ws.on('pong', (data) => serverEvents.push({ path, event: 'pong', data }));
      ws.on('message', (data, isBinary) => {
        if (path.startsWith('/echo')) ws.send(data as Buffer, { binary: isBinary });
      });
      if (path === '/fragments') {
        ws.send(Buffer.from('frag'), { binary: true, fin: false });
        ws.send(binary(70000, 1), { binary: true, fin: false });
        ws.ping(Buffer.from('between'));
        ws.send(Buffer.from('ment'), { binary: true, fin: true });
      } else if (path === '/ping') {
        ws.ping(Buffer.from('are you there'));
      } else if (path === '/server-close') {
        ws.close(4001, 'server bye');
      } else if (path === '/terminate') {
        ws.terminate();
      }
    });
  });

  afterEach(() => {
    for (const c of clients) c.terminate();
    clients.length = 0;
  });

  after(async () => {
    for (const s of serverSockets) s.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  function open(path: string, options: Partial<RawWebSocketOptions> = {}): { ws: RawWebSocket<null>; client: Client } {
    const client = new Client();
    const ws = new RawWebSocket({ host: '127.0.0.1', port, path, ...options }, client, null);
    clients.push(ws);
    return { ws, client };
  }

  it('opens and echoes text and binary at several sizes byte-exact', async () => {
    const { ws, client } = open('/echo');
    await waitUntil(() => client.opened, 'open');
    assert.equal(ws.state, 'open');
    const sent: Array<{ opcode: DataOpcode; data: Buffer }> = [];
    for (const n of [0, 1, 125, 126, 65535, 65536, 1024 * 1024]) {
      sent.push({ opcode: Opcode.Text, data: text(n) });
      sent.push({ opcode: Opcode.Binary, data: binary(n, n) });
    }
    for (const m of sent) assert.equal(ws.send(m.opcode, m.data), true);
    await waitUntil(() => client.messages.length === sent.length, 'echoes');
    assert.deepEqual(client.messages, sent);
    assert.deepEqual(client.errors, []);
  });

  it('sends pre-built frames patched per send, copying them at send time', async () => {
    const { ws, client } = open('/echo');
    await waitUntil(() => client.opened, 'open');
    const pf = new PrebuiltFrame(Opcode.Binary, Buffer.alloc(128), ws.maskKey);
    const count = 1000;
    for (let seq = 0; seq < count; seq++) {
      pf.writeUInt32BE(seq, 0);
      pf.writeDoubleBE(seq * 1.5, 8);
      assert.equal(ws.sendFrame(pf.frame), true);
    }
    // All of one turn's sends are still in the batch, not yet written.
    assert.ok(ws.bufferedBytes >= count * pf.frame.length);
    await waitUntil(() => client.messages.length === count, 'echoes');
    for (let seq = 0; seq < count; seq++) {
      const m = client.messages[seq]!;
      assert.equal(m.data.length, 128);
      assert.equal(m.data.readUInt32BE(0), seq);
      assert.equal(m.data.readDoubleBE(8), seq * 1.5);
    }
  });

  it('keeps every frame intact across turns while the kernel is backed up', async () => {
    const { ws, client } = open('/echo');
    await waitUntil(() => client.opened, 'open');
    const size = 4096;
    const pf = new PrebuiltFrame(Opcode.Binary, binary(size, 9), ws.maskKey);
    const turns = 8;
    const perTurn = 1000; // 4 MB per turn, 32 MB in all: more than the socket buffers hold
    let sawBackpressure = false;
    for (let t = 0; t < turns; t++) {
      for (let i = 0; i < perTurn; i++) {
        pf.writeUInt32LE(t * perTurn + i, 0);
        ws.sendFrame(pf.frame);
      }
      await new Promise((r) => setImmediate(r));
      if (ws.bufferedBytes > 0) sawBackpressure = true;
    }
    await waitUntil(() => client.messages.length === turns * perTurn, 'echoes', 20_000);
    assert.ok(sawBackpressure, 'the test should have filled the socket buffers');
    const want = binary(size, 9);
    for (let k = 0; k < turns * perTurn; k++) {
      want.writeUInt32LE(k, 0);
      assert.ok(client.messages[k]!.data.equals(want), `message ${k}`);
    }
  });

  it('sends the encodeFrame output of a fragmented message', async () => {
    const { ws, client } = open('/echo');
    await waitUntil(() => client.opened, 'open');
    ws.sendFrame(encodeFrame(Opcode.Text, Buffer.from('hel'), { fin: false, maskKey: ws.maskKey }));
    ws.sendFrame(encodeFrame(Opcode.Continuation, Buffer.from('lo'), { fin: true, maskKey: ws.maskKey }));
    await waitUntil(() => client.messages.length === 1, 'echo');
    assert.deepEqual(client.messages[0], { opcode: Opcode.Text, data: Buffer.from('hello') });
  });

  it('receives a fragmented message with a ping between fragments, and answers the ping', async () => {
    const { client } = open('/fragments');
    await waitUntil(() => client.messages.length === 1, 'message');
    assert.deepEqual(client.messages[0], {
      opcode: Opcode.Binary,
      data: Buffer.concat([Buffer.from('frag'), binary(70000, 1), Buffer.from('ment')]),
    });
    await waitUntil(() => serverEvents.some((e) => e.path === '/fragments' && e.event === 'pong'), 'pong at the server');
    const pong = serverEvents.find((e) => e.path === '/fragments' && e.event === 'pong')!;
    assert.equal(pong.data!.toString(), 'between');
  });

  it('answers a server ping with a pong carrying the same payload', async () => {
    open('/ping');
    await waitUntil(() => serverEvents.some((e) => e.path === '/ping' && e.event === 'pong'), 'pong at the server');
    assert.equal(serverEvents.find((e) => e.path === '/ping' && e.event === 'pong')!.data!.toString(), 'are you there');
  });

  it('reports the pong to its own ping', async () => {
    const { ws, client } = open('/echo');
    await waitUntil(() => client.opened, 'open');
    ws.ping(Buffer.from('hi'));
    await waitUntil(() => client.pongs.length === 1, 'pong');
    assert.equal(client.pongs[0]!.toString(), 'hi');
  });

  it('closes with a code: the server sees it, and onClose reports the server reply', async () => {
    const { ws, client } = open('/echo?close');
    await waitUntil(() => client.opened, 'open');
    ws.send(Opcode.Text, Buffer.from('last'));
    ws.close(4000, 'bye');
    assert.equal(ws.state, 'closing');
    assert.equal(ws.send(Opcode.Text, Buffer.from('too late')), false);
    await waitUntil(() => client.closed !== null, 'close');
    assert.deepEqual(client.closed, { code: 4000, reason: 'bye' }); // ws echoes code and reason
    assert.deepEqual(client.errors, []);
    assert.equal(ws.state, 'closed');
    await waitUntil(() => serverEvents.some((e) => e.path === '/echo?close' && e.event === 'close'), 'server close');
    const e = serverEvents.find((x) => x.path === '/echo?close' && x.event === 'close')!;
    assert.equal(e.code, 4000);
    assert.equal(e.reason, 'bye');
    // The message sent before close was echoed before the server's close frame.
    assert.deepEqual(client.messages, [{ opcode: Opcode.Text, data: Buffer.from('last') }]);
  });

  it('reports a server-initiated close as unexpected-close with its code', async () => {
    const { ws, client } = open('/server-close');
    await waitUntil(() => client.closed !== null, 'close');
    assert.deepEqual(client.closed, { code: 4001, reason: 'server bye' });
    assert.equal(client.errors.length, 1);
    assert.equal(client.errors[0]!.kind, 'unexpected-close');
    assert.equal(client.errors[0]!.closeCode, 4001);
    assert.equal(ws.state, 'closed');
    // The client echoed the code, so the server saw a clean close.
    await waitUntil(() => serverEvents.some((e) => e.path === '/server-close' && e.event === 'close'), 'server close');
    assert.equal(serverEvents.find((e) => e.path === '/server-close' && e.event === 'close')!.code, 4001);
  });

  it('reports a dropped TCP connection without a close frame with code 1006', async () => {
    const { client } = open('/terminate');
    await waitUntil(() => client.closed !== null, 'close');
    assert.equal(client.closed!.code, 1006);
    assert.equal(client.errors.length, 1);
    assert.ok(['unexpected-close', 'reset'].includes(client.errors[0]!.kind), client.errors[0]!.kind);
  });

  it('reports handshake-rejected with the status when the server refuses the upgrade', async () => {
    const strict = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, verifyClient: () => false });
    try {
      await new Promise<void>((resolve) => strict.once('listening', () => resolve()));
      const client = new Client();
      const ws = new RawWebSocket({ host: '127.0.0.1', port: (strict.address() as net.AddressInfo).port }, client, null);
      clients.push(ws);
      await waitUntil(() => client.closed !== null, 'close');
      assert.equal(client.opened, false);
      assert.equal(client.errors.length, 1);
      assert.equal(client.errors[0]!.kind, 'handshake-rejected');
      assert.equal(client.errors[0]!.status, 401);
    } finally {
      await new Promise<void>((resolve) => strict.close(() => resolve()));
    }
  });
});

describe('RawWebSocket against broken peers', () => {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const clients: RawWebSocket<null>[] = [];

  async function listen(onConnection: (s: net.Socket) => void): Promise<number> {
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
      onConnection(s);
    });
    servers.push(srv);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
    return (srv.address() as net.AddressInfo).port;
  }

  function open(p: number, options: Partial<RawWebSocketOptions> = {}): Client {
    const client = new Client();
    clients.push(new RawWebSocket({ host: '127.0.0.1', port: p, ...options }, client, null));
    return client;
  }

  afterEach(() => {
    for (const c of clients) c.terminate();
    clients.length = 0;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  it('reports refused when nothing listens on the port', async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
    const freePort = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const client = open(freePort);
    await waitUntil(() => client.closed !== null, 'close');
    assert.equal(client.errors.length, 1);
    assert.equal(client.errors[0]!.kind, 'refused');
    assert.equal(client.closed!.code, 1006);
  });

  it('reports timeout when the server never answers the upgrade', async () => {
    const p = await listen(() => {});
    const started = Date.now();
    const client = open(p, { handshakeTimeoutMs: 150 });
    await waitUntil(() => client.closed !== null, 'close');
    assert.ok(Date.now() - started >= 140);
    assert.equal(client.errors.length, 1);
    assert.equal(client.errors[0]!.kind, 'timeout');
    assert.equal(client.errors[0]!.detail, 'handshake');
    assert.equal(client.opened, false);
  });

  /** Answers the upgrade correctly, then writes `after` in the same segment. */
  function upgradeThen(after: Buffer): (s: net.Socket) => void {
    return (s) => {
      let head = '';
      let answered = false;
      s.on('data', (d) => {
        if (answered) return; // later bytes (e.g. a close frame) are read and ignored
        head += d.toString('latin1');
        const m = /Sec-WebSocket-Key: (\S+)\r\n/i.exec(head);
        if (!head.includes('\r\n\r\n') || m === null) return;
        answered = true;
        s.write(
          Buffer.concat([
            Buffer.from(
              'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
                `Sec-WebSocket-Accept: ${computeAcceptKey(m[1]!)}\r\n\r\n`,
              'latin1',
            ),
            after,
          ]),
        );
      });
    };
  }

  it('parses frames that arrive in the same segment as the 101 response', async () => {
    const frames = Buffer.concat([
      encodeFrame(Opcode.Text, Buffer.from('first'), { maskKey: null }),
      encodeFrame(Opcode.Binary, binary(300), { maskKey: null }),
    ]);
    const client = open(await listen(upgradeThen(frames)));
    await waitUntil(() => client.messages.length === 2, 'messages');
    assert.deepEqual(client.messages, [
      { opcode: Opcode.Text, data: Buffer.from('first') },
      { opcode: Opcode.Binary, data: binary(300) },
    ]);
  });

  it('reports protocol with the parser kind for a masked server frame', async () => {
    const bad = encodeFrame(Opcode.Text, Buffer.from('x'), { maskKey: Buffer.from([1, 2, 3, 4]) });
    const client = open(await listen(upgradeThen(bad)));
    await waitUntil(() => client.closed !== null, 'close');
    assert.equal(client.opened, true);
    assert.equal(client.errors.length, 1);
    assert.equal(client.errors[0]!.kind, 'protocol');
    assert.equal(client.errors[0]!.detail, 'masked-frame');
  });

  it('reports protocol/bad-accept for a wrong Sec-WebSocket-Accept', async () => {
    const p = await listen((s) => {
      s.once('data', () =>
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n'),
      );
    });
    const client = open(p);
    await waitUntil(() => client.closed !== null, 'close');
    assert.equal(client.opened, false);
    assert.equal(client.errors[0]!.kind, 'protocol');
    assert.equal(client.errors[0]!.detail, 'bad-accept');
  });

  it('reports timeout when the server never answers a close frame', async () => {
    const client = open(await listen(upgradeThen(Buffer.alloc(0))), { closeTimeoutMs: 100 });
    await waitUntil(() => client.opened, 'open');
    clients[clients.length - 1]!.close(1000);
    await waitUntil(() => client.closed !== null, 'close');
    assert.equal(client.errors.length, 1);
    assert.equal(client.errors[0]!.kind, 'timeout');
    assert.equal(client.errors[0]!.detail, 'close');
    assert.equal(client.closed!.code, 1006);
  });
});

describe('RawWebSocket read allowance (slow readers)', () => {
  let wss: WebSocketServer;
  let port = 0;
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    port = (wss.address() as net.AddressInfo).port;
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });

  it('reads no more than it is allowed, a grant at a time, and everything once the limit is lifted', async () => {
    // Limited from inside onOpen, as the load generator does, so even the first read after the handshake is capped.
    class Slow extends Client {
      override onOpen(ws: RawWebSocket<null>): void {
        ws.allowReads(1000);
        super.onOpen();
      }
    }
    const client = new Slow();
    const ws = new RawWebSocket({ host: '127.0.0.1', port, path: '/' }, client, null);
    try {
      await waitUntil(() => client.opened, 'open');
      // 40 echoes of 100-byte payloads: 102-byte frames from the server (2-byte header, unmasked).
      for (let i = 0; i < 40; i++) ws.send(Opcode.Binary, binary(100, i));
      // 1000 bytes hold 9 whole frames and part of the 10th.
      await waitUntil(() => client.messages.length >= 9, '9 echoes');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(client.messages.length, 9, 'nothing beyond the allowance was read');
      ws.allowReads(204);
      await waitUntil(() => client.messages.length >= 11, '11 echoes');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(client.messages.length, 11, 'a new grant of 204 bytes completes exactly two more frames');
      ws.allowReads(Infinity);
      await waitUntil(() => client.messages.length === 40, 'every echo');
      assert.deepEqual(client.messages.map((m) => m.data), Array.from({ length: 40 }, (_, i) => binary(100, i)));
      assert.deepEqual(client.errors, []);
    } finally {
      ws.terminate();
    }
  });

  it('close lifts the limit so the close handshake completes', async () => {
    class Paused extends Client {
      override onOpen(ws: RawWebSocket<null>): void {
        ws.allowReads(0);
        super.onOpen();
      }
    }
    const client = new Paused();
    const ws = new RawWebSocket({ host: '127.0.0.1', port, path: '/', closeTimeoutMs: 60_000 }, client, null);
    await waitUntil(() => client.opened, 'open');
    ws.send(Opcode.Text, text(10));
    ws.close(1000);
    await waitUntil(() => client.closed !== null, 'close');
    assert.deepEqual(client.closed, { code: 1000, reason: '' });
    assert.deepEqual(client.errors, []);
  });
});
