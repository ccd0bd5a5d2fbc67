// The transports of a Socket.IO stack (servers/CONTRACT.md, "Stacks"): the
// load models send and receive through the same Transport interface as on a
// bare server, and see the same payloads, so every model, its accounting and
// its byte-exact check run unchanged on a stack.
//
// - createSocketIoTransport: bench's raw client (RawWebSocket) with the
//   Engine.IO v4 / Socket.IO v5 layer of protocol/socketio.ts, through
//   withSocketIo (protocol/socketio-handler.ts) around the bare transport's
//   own connection handler. The instrument: an event frame built and masked
//   once per payload template, patched in place per send; nothing allocated
//   per message either way.
// - createSocketIoClientTransport: socket.io-client, the library a Socket.IO
//   team uses, as the cross-check (as `ws` is for bare servers): it allocates
//   per message (JSON.parse to emit, JSON.stringify of what it parsed) and is
//   not the instrument.
//
// A route of the bare contract becomes a namespace and its query goes into
// the Engine.IO handshake's (socketIoTarget): `/broadcast?room=r3` is
// namespace /broadcast of the session `/socket.io/?EIO=4&transport=websocket&room=r3`.
import { io as ioClient, type Socket as IoSocket } from 'socket.io-client';
import type WebSocket from 'ws';
import type { PayloadCodec } from './codec.js';
import { connect as rawConnect, createMaskKey } from './protocol/index.js';
import { SocketIoConnection, SocketIoNamespaces, withSocketIo } from './protocol/socketio-handler.js';
import { SocketIoEventFrame, socketIoTarget, type SocketIoNamespace } from './protocol/socketio.js';
import type { Conn } from './session.js';
import { errorKindOf, limitWsReads, rawConnHandler, type RawConn, type Transport, type TransportConn, type TransportHandlers } from './transport.js';
import type { ErrorKind } from './types.js';

/** A raw client's connection to a stack: the bare one plus its session and its namespace's event frames. */
interface SioConn extends RawConn {
  sio: SocketIoConnection;
  /** The event frames of this connection's namespace, by payload template (shared by the namespace's connections). */
  frames: Map<Buffer, SocketIoEventFrame>;
}

/**
 * bench's raw client speaking Socket.IO: connect opens an Engine.IO session on the route's namespace and
 * completes when the namespace acknowledged it (within the same `timeoutMs`); send patches the payload's
 * header fields inside a pre-built `42/<ns>,["message",<payload>]` frame, masked, at the payload's offset and
 * mask phase, and copies the frame into the connection's batch; a received event reaches the model as its
 * payload's range. Pings are answered inside (protocol/socketio-handler.ts).
 */
export function createSocketIoTransport(h: TransportHandlers): Transport {
  const maskKey = createMaskKey();
  const namespaces = new SocketIoNamespaces();
  const framesByNamespace = new Map<SocketIoNamespace, Map<Buffer, SocketIoEventFrame>>();
  const handler = withSocketIo(rawConnHandler(h), (c: Conn) => (c.t as SioConn).sio);
  const frameFor = (t: SioConn, template: Buffer): SocketIoEventFrame => {
    let f = t.frames.get(template);
    if (!f) {
      // Throws (RangeError) for a payload that is not JSON text; the plan check refuses such shapes first.
      f = new SocketIoEventFrame(t.sio.session.ns, template, maskKey);
      t.frames.set(template, f);
    }
    return f;
  };
  return {
    connect(c, host, port, path, timeoutMs, done) {
      const { namespace, requestPath } = socketIoTarget(path);
      const ns = namespaces.get(namespace);
      let frames = framesByNamespace.get(ns);
      if (!frames) framesByNamespace.set(ns, (frames = new Map()));
      const t = { conn: c, closingByUs: false, opened: false, done, sio: new SocketIoConnection(ns, timeoutMs), frames } as SioConn;
      c.t = t;
      t.ws = rawConnect({ host, port, path: requestPath, handshakeTimeoutMs: timeoutMs, maskKey, closeTimeoutMs: 2000 }, handler, c);
    },
    send(t, codec, template, connId, seq, tUs) {
      const f = frameFor(t as SioConn, template);
      codec.writeHeaderMasked(f.frame.frame, f.payloadIndex, f.payloadBytes, connId, seq, tUs, maskKey, f.keyPhase);
      // sendFrame copies the bytes at once, so the shared frame can be patched again right away.
      (t as SioConn).ws.sendFrame(f.frame.frame);
    },
    flush() {},
    close(t) {
      // The WebSocket's close ends the Engine.IO session and with it the namespace's socket (Socket.IO's
      // "transport close"), as a bare close frame ends a bare connection.
      const r = t as SioConn;
      r.closingByUs = true;
      r.ws.close(1000);
    },
    destroy(t) {
      const r = t as SioConn;
      r.closingByUs = true;
      r.ws.terminate();
    },
    allowReads(t, bytes) {
      (t as SioConn).ws.allowReads(bytes);
    },
    backedUp(t) {
      return (t as SioConn).ws.socketBackedUp;
    },
  };
}

/** A socket.io-client connection. */
interface IoConn extends TransportConn {
  socket: IoSocket;
  closingByUs: boolean;
  /** The relay's `close` event code, reported at the disconnect; 0 when none came. */
  eventCloseCode: number;
  /** For allowReads: the WebSocket under the socket, and what it may still read. */
  ws?: WebSocket;
  readAllowance?: number;
}

/** The `ws` WebSocket under a socket.io-client socket (engine.io-client's Node transport), when there is one. */
function wsOf(socket: IoSocket): WebSocket | undefined {
  // engine.io-client keeps it in a protected field of its Node transport: read by name, checked by shape.
  const t: object | undefined = socket.io.engine?.transport;
  const ws: unknown = t && 'ws' in t ? t.ws : undefined;
  return typeof ws === 'object' && ws !== null && 'bufferedAmount' in ws && 'pause' in ws ? (ws as WebSocket) : undefined;
}

/** The close code behind a socket.io-client disconnect: the WebSocket's own when the transport closed, else 1006. */
function closeCodeOf(details: unknown): number {
  const code = (details as { context?: { code?: unknown } } | undefined)?.context?.code;
  return typeof code === 'number' ? code : 1006;
}

/** What a socket.io-client connect_error was: the server refused the namespace, a timeout, or the transport's failure. */
function connectErrorKind(e: Error & { type?: string; description?: unknown }): ErrorKind {
  if (e.message === 'timeout') return 'timeout';
  if (e.type === 'TransportError') return errorKindOf(e.description ?? e);
  return 'handshake-rejected';
}

/**
 * socket.io-client (WebSocket transport only, no reconnection, a Manager per connection) as
 * a cross-check of the raw client on a stack: each message is the argument of a `message` event, emitted as
 * the parsed JSON of the patched template (socket.io-client writes it back with JSON.stringify, so the same
 * bytes go out) and handed to the model as the JSON.stringify of what it received, which is byte-identical
 * to what the server sent for every payload bench builds (servers/CONTRACT.md, "Stacks", Frames).
 */
export function createSocketIoClientTransport(h: TransportHandlers): Transport {
  return {
    connect(c, host, port, path, timeoutMs, done) {
      const url = new URL(path, 'http://localhost');
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const socket = ioClient(`http://${host}:${port}${url.pathname}`, {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        query,
        timeout: timeoutMs,
        // Its offer of permessage-deflate stays (the option is typed as a threshold): every stack declines it.
      });
      const t: IoConn = { conn: c, socket, closingByUs: false, eventCloseCode: 0 };
      c.t = t;
      let settled = false;
      socket.once('connect', () => {
        settled = true;
        done();
      });
      socket.once('connect_error', (e: Error) => {
        if (settled) return;
        settled = true;
        socket.close();
        done(connectErrorKind(e));
      });
      socket.on('message', (data: unknown) => {
        h.onRead();
        const buf = Buffer.from(JSON.stringify(data), 'utf8');
        h.onMessage(c, buf, 0, buf.length);
      });
      socket.on('close', (code: unknown) => {
        // The relay's end: the code a bare relay would close with; the disconnect follows.
        if (typeof code === 'number') t.eventCloseCode = code;
      });
      socket.on('disconnect', (reason: string, details: unknown) => {
        if (!settled) return;
        const byUs = t.closingByUs || reason === 'io client disconnect';
        h.onClose(c, t.eventCloseCode || (reason === 'io server disconnect' ? 1000 : closeCodeOf(details)), byUs);
      });
    },
    send(t, codec: PayloadCodec, template, connId, seq, tUs) {
      const buf = Buffer.allocUnsafe(template.length);
      template.copy(buf);
      codec.writeHeader(buf, 0, buf.length, connId, seq, tUs);
      (t as IoConn).socket.emit('message', JSON.parse(buf.toString('utf8')));
    },
    flush() {},
    close(t) {
      const s = t as IoConn;
      s.closingByUs = true;
      s.socket.disconnect();
    },
    destroy(t) {
      const s = t as IoConn;
      s.closingByUs = true;
      wsOf(s.socket)?.terminate();
      s.socket.disconnect();
    },
    allowReads(t, bytes) {
      const s = t as IoConn;
      s.ws ??= wsOf(s.socket);
      if (s.ws) limitWsReads(s as IoConn & { ws: WebSocket }, bytes);
    },
    backedUp(t) {
      const s = t as IoConn;
      s.ws ??= wsOf(s.socket);
      // ws's public count: its socket's unsent bytes plus its own queue.
      return (s.ws?.bufferedAmount ?? 0) > 0;
    },
  };
}
