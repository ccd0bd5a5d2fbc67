import WebSocket from 'ws';
import type { PayloadCodec } from './codec.js';
import { connect as rawConnect, createMaskKey, Opcode, PrebuiltFrame, type RawWebSocket, type RawWebSocketHandler } from './protocol/index.js';
import { BenchError } from '../base/errors.js';
import { createSocketIoClientTransport, createSocketIoTransport } from './socketio-transport.js';
import type { ErrorKind, LoadClient, ServerProtocol } from './types.js';
import type { Conn } from './session.js';

/**
 * How a worker talks WebSocket. The load models in worker.ts are written once
 * against this interface; `raw` is our own client (the instrument), `ws` is the
 * ws library, kept as a cross-check that both clients agree where both are fast enough.
 */
export interface TransportConn {
  readonly conn: Conn;
}

export interface TransportHandlers {
  /** A chunk was read from a socket; its messages follow. The clock is read here, once per chunk. */
  onRead(): void;
  /** A whole message arrived: its payload is `buf[start, end)`, valid only during the call. */
  onMessage(c: Conn, buf: Buffer, start: number, end: number): void;
  /** The connection closed; `byUs` when we initiated it. */
  onClose(c: Conn, code: number, byUs: boolean): void;
  onError(c: Conn, kind: ErrorKind): void;
}

export interface Transport {
  /** Opens `c` and sets `c.t`; `done(kind)` on failure, `done()` once open. */
  connect(c: Conn, host: string, port: number, path: string, timeoutMs: number, done: (err?: ErrorKind) => void): void;
  /**
   * Sends a copy of `template` (a message `codec` built) with its header patched by `codec` (sender id,
   * sequence number, send time in epoch µs), in a frame of the codec's opcode kind. The codec is per call
   * so one worker can send messages of several shapes (e.g. audio and control events).
   */
  send(t: TransportConn, codec: PayloadCodec, template: Buffer, connId: number, seq: number, tUs: number): void;
  /** Writes what `send` queued (batching transports write once per event-loop turn). */
  flush(): void;
  /** Close handshake with 1000. */
  close(t: TransportConn): void;
  /** Drops the socket at once. */
  destroy(t: TransportConn): void;
  /**
   * Lets `t` read at most `bytes` more from its socket, then stop reading until given a new allowance
   * (which replaces what is left); Infinity reads freely. A rate limiter grants a slice's bytes at each
   * slice: a slow consumer. The raw client caps each socket read at the allowance and never overshoots a
   * steady grant; ws reads whole socket chunks (up to 64 KiB), so it overdraws and pays the excess back
   * from the next grants: the same average rate, in bursts of up to a chunk.
   */
  allowReads(t: TransportConn, bytes: number): void;
  /** Whether `t`'s socket holds bytes the kernel would not take yet (its send queue full: the peer is not reading). */
  backedUp(t: TransportConn): boolean;
}

export function errorKindOf(e: unknown): ErrorKind {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = (e as Error | undefined)?.message ?? '';
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) return 'timeout';
  if (/Unexpected server response/i.test(msg)) return 'handshake-rejected';
  if (/Invalid|must be masked|Unsupported|RSV|opcode/i.test(msg)) return 'protocol';
  return 'other';
}

interface WsConn extends TransportConn {
  ws: WebSocket;
  closingByUs: boolean;
}

// ws's send options, shared so a send allocates no options object.
const WS_BINARY = { binary: true };
const WS_TEXT = { binary: false };

/** The `ws` library as a client: compression off, as on the servers. */
export function createWsTransport(h: TransportHandlers): Transport {
  return {
    connect(c, host, port, path, timeoutMs, done) {
      const ws = new WebSocket(`ws://${host}:${port}${path}`, { perMessageDeflate: false, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024 * 1024 });
      const t: WsConn = { conn: c, ws, closingByUs: false };
      c.t = t;
      let settled = false;
      ws.on('open', () => {
        settled = true;
        done();
      });
      ws.on('message', (data: Buffer) => {
        h.onRead();
        h.onMessage(c, data, 0, data.length);
      });
      ws.on('error', (e) => {
        if (!settled) {
          settled = true;
          done(errorKindOf(e));
        } else h.onError(c, errorKindOf(e));
      });
      ws.on('close', (code) => {
        if (settled) h.onClose(c, code, t.closingByUs);
      });
    },
    send(t, codec, template, connId, seq, tUs) {
      const buf = Buffer.allocUnsafe(template.length);
      template.copy(buf);
      codec.writeHeader(buf, 0, buf.length, connId, seq, tUs);
      (t as WsConn).ws.send(buf, codec.opcodeKind === 'binary' ? WS_BINARY : WS_TEXT);
    },
    flush() {},
    close(t) {
      const w = t as WsConn;
      w.closingByUs = true;
      if (w.ws.readyState === WebSocket.OPEN) w.ws.close(1000);
    },
    destroy(t) {
      (t as WsConn).closingByUs = true;
      (t as WsConn).ws.terminate();
    },
    backedUp(t) {
      // ws's public count: its socket's unsent bytes plus its own queue.
      return (t as WsConn).ws.bufferedAmount > 0;
    },
    allowReads(t, bytes) {
      limitWsReads(t as WsConn, bytes);
    },
  };
}

/**
 * Transport.allowReads for a connection of the `ws` library (ws's own client, or the one under
 * socket.io-client): pauses the WebSocket once the socket reads have used up the grant.
 */
export function limitWsReads(w: { ws: WebSocket; readAllowance?: number }, bytes: number): void {
  const socket = (w.ws as unknown as { _socket?: import('node:net').Socket })._socket;
  if (socket === undefined) return;
  if (w.readAllowance === undefined) {
    // Beside ws's own listener, to count the bytes of every socket read (frame headers included).
    socket.on('data', (chunk: Buffer) => {
      if (w.readAllowance === undefined || w.readAllowance === Infinity) return;
      w.readAllowance -= chunk.length;
      if (w.readAllowance <= 0 && !w.ws.isPaused) w.ws.pause();
    });
  }
  // A chunk that overdrew the last grant is paid back from this one, so the average rate holds.
  w.readAllowance = Math.min(w.readAllowance ?? 0, 0) + bytes;
  if (w.readAllowance > 0 && w.ws.isPaused) w.ws.resume();
  else if (w.readAllowance <= 0 && !w.ws.isPaused) w.ws.pause();
}

/** A connection of the raw client, as its handler (rawConnHandler) sees it. */
export interface RawConn extends TransportConn {
  ws: RawWebSocket<Conn>;
  closingByUs: boolean;
  /** Completed the handshake (errors before that fail the connect instead). */
  opened: boolean;
  done: ((err?: ErrorKind) => void) | undefined;
}

/**
 * The raw client's connection events turned into the transport's: a connect completes (`done`) at `onOpen`
 * or fails with the first error; after that errors and closes go to `h`. Shared by the bare transport and
 * the Socket.IO one (socketio-transport.ts), which calls it through withSocketIo.
 */
export function rawConnHandler(h: TransportHandlers): RawWebSocketHandler<Conn> {
  return {
    onOpen(ws) {
      const t = ws.data.t as RawConn;
      t.opened = true;
      const done = t.done;
      t.done = undefined;
      done?.();
    },
    onRead() {
      h.onRead();
    },
    onMessage(ws, _opcode, buf, start, end) {
      h.onMessage(ws.data, buf, start, end);
    },
    onError(ws, e) {
      const t = ws.data.t as RawConn;
      const kind: ErrorKind = e.kind === 'socket' ? 'other' : e.kind;
      if (!t.opened) {
        const done = t.done;
        t.done = undefined;
        done?.(kind);
      } else if (!t.closingByUs) h.onError(ws.data, kind);
    },
    onClose(ws, code) {
      const t = ws.data.t as RawConn;
      if (!t.opened) {
        const done = t.done;
        t.done = undefined;
        done?.('reset');
        return;
      }
      h.onClose(ws.data, code, t.closingByUs);
    },
  };
}

/**
 * Our own client (loadgen/protocol): one masking key per worker, one frame per
 * payload template built and masked once, then per send only the header bytes
 * are patched (already masked) and the frame is copied into the connection's
 * batch, which is written once per event-loop turn.
 */
export function createRawTransport(h: TransportHandlers): Transport {
  const maskKey = createMaskKey();
  // Keyed by template: a template belongs to one codec, so its frame's opcode is fixed at the first send.
  const frames = new Map<Buffer, PrebuiltFrame>();
  const frameFor = (codec: PayloadCodec, template: Buffer) => {
    let f = frames.get(template);
    if (!f) {
      f = new PrebuiltFrame(codec.opcodeKind === 'binary' ? Opcode.Binary : Opcode.Text, template, maskKey);
      frames.set(template, f);
    }
    return f;
  };
  const handler = rawConnHandler(h);
  return {
    connect(c, host, port, path, timeoutMs, done) {
      const t = { conn: c, closingByUs: false, opened: false, done } as RawConn;
      c.t = t;
      t.ws = rawConnect({ host, port, path, handshakeTimeoutMs: timeoutMs, maskKey, closeTimeoutMs: 2000 }, handler, c);
    },
    send(t, codec, template, connId, seq, tUs) {
      const f = frameFor(codec, template);
      codec.writeHeaderMasked(f.frame, f.payloadOffset, f.payloadBytes, connId, seq, tUs, maskKey, 0);
      // sendFrame copies the bytes at once, so the shared frame can be patched again right away.
      (t as RawConn).ws.sendFrame(f.frame);
    },
    // RawWebSocket batches per connection and flushes once per event-loop turn by itself.
    flush() {},
    close(t) {
      const r = t as RawConn;
      r.closingByUs = true;
      r.ws.close(1000);
    },
    destroy(t) {
      const r = t as RawConn;
      r.closingByUs = true;
      r.ws.terminate();
    },
    allowReads(t, bytes) {
      (t as RawConn).ws.allowReads(bytes);
    },
    backedUp(t) {
      return (t as RawConn).ws.socketBackedUp;
    },
  };
}

/**
 * The transport for a plan's `client` and the server's `protocol`, chosen once per worker, so the hot path
 * never asks which it is; each send names its codec, which sets the frame's opcode (bare) or is the event's
 * payload (Socket.IO).
 * @throws BenchError E_USAGE for a client that does not speak the protocol (`ws` to a stack, `socketio` to
 *   a bare server); the plan check (core/stack-plan.ts) refuses such a plan before any worker starts
 */
export function createTransport(client: LoadClient, h: TransportHandlers, protocol: ServerProtocol = 'websocket'): Transport {
  if (protocol === 'socket.io') {
    if (client === 'raw') return createSocketIoTransport(h);
    if (client === 'socketio') return createSocketIoClientTransport(h);
  } else {
    if (client === 'raw') return createRawTransport(h);
    if (client === 'ws') return createWsTransport(h);
  }
  throw new BenchError('E_USAGE', `the ${client} client does not speak ${protocol}`, {
    hint: protocol === 'socket.io' ? 'use --client raw or --client socketio for a Socket.IO stack' : 'use --client raw or --client ws for a bare server',
  });
}
