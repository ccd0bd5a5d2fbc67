/**
 * RawWebSocket: one client connection on a raw `net.Socket`, using the frame
 * codec and handshake of this folder. Built to cost less CPU per message than
 * the servers it measures:
 *
 * - Receive: the socket reads into one process-wide buffer (`onread`), so no
 *   Buffer is allocated per read; the frame parser hands out views into it.
 * - Send: frames are copied into a per-connection batch buffer and written
 *   with one `socket.write` per connection per event-loop turn (see
 *   {@link RawWebSocket.sendFrame}).
 * - Events: one handler object for many connections, called with the
 *   connection as first argument; no EventEmitter, no closures per message.
 */
import * as net from 'node:net';
import {
  type DataOpcode,
  type FrameErrorKind,
  type FrameHandler,
  FrameParser,
  Opcode,
  closePayload,
  createMaskKey,
  headerLength,
  isValidCloseCode,
  writeFrame,
  DEFAULT_MAX_MESSAGE_BYTES,
} from './frame.js';
import { type HandshakeResult, HandshakeResponseParser, buildUpgradeRequest, createHandshakeKey } from './handshake.js';

/**
 * Stable error kinds:
 * - `refused`: ECONNREFUSED.
 * - `reset`: ECONNRESET or EPIPE.
 * - `timeout`: connect + handshake not done within handshakeTimeoutMs (detail
 *   `handshake`), or the server did not finish the close handshake within
 *   closeTimeoutMs (detail `close`), or ETIMEDOUT (detail `connect`).
 * - `handshake-rejected`: the server answered the upgrade with a non-101 status (`status`).
 * - `protocol`: a bad frame or bad 101 response (`detail` is the parser's kind).
 * - `unexpected-close`: the server sent a close frame we did not ask for
 *   (`closeCode` is its code), or the TCP connection ended without one
 *   (`closeCode` 1006).
 * - `socket`: any other socket error (EMFILE, EADDRNOTAVAIL, ...; `detail` is the errno code).
 */
export type RawWebSocketErrorKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'handshake-rejected'
  | 'protocol'
  | 'unexpected-close'
  | 'socket';

export class RawWebSocketError extends Error {
  readonly kind: RawWebSocketErrorKind;
  /** Finer cause: parser error kind, errno code, 'handshake' / 'close' for timeouts. */
  readonly detail: string | undefined;
  /** HTTP status, for `handshake-rejected`. */
  readonly status: number | undefined;
  /** Close code, for `unexpected-close`. */
  readonly closeCode: number | undefined;

  constructor(
    kind: RawWebSocketErrorKind,
    message: string,
    extra: { detail?: string; status?: number; closeCode?: number } = {},
  ) {
    super(message);
    this.name = 'RawWebSocketError';
    this.kind = kind;
    this.detail = extra.detail;
    this.status = extra.status;
    this.closeCode = extra.closeCode;
  }
}

/**
 * Receives a connection's events. One handler may serve every connection.
 * Order: onOpen at most once; onMessage/onPong while open or closing; onError
 * at most once; onClose exactly once, last, when the socket is gone.
 */
export interface RawWebSocketHandler<T = unknown> {
  onOpen(ws: RawWebSocket<T>): void;
  /**
   * Called once per chunk read from the socket, before its messages: a place
   * to read the clock once for every message in the chunk instead of per message.
   */
  onRead?(ws: RawWebSocket<T>): void;
  /**
   * A text or binary message in `buf[start, end)`: a view into a shared read
   * buffer or a reused reassembly buffer, valid only during this call.
   */
  onMessage(ws: RawWebSocket<T>, opcode: DataOpcode, buf: Buffer, start: number, end: number): void;
  /** A pong (payload view valid during the call). Pings are answered automatically. */
  onPong?(ws: RawWebSocket<T>, payload: Buffer): void;
  onError(ws: RawWebSocket<T>, error: RawWebSocketError): void;
  /** `code` is the server's close code, 1005 if its close frame had none, 1006 if it sent none. */
  onClose(ws: RawWebSocket<T>, code: number, reason: string): void;
}

export interface RawWebSocketOptions {
  host: string;
  port: number;
  /** Request path; default '/'. */
  path?: string;
  /** Source address to bind (slow to connect on Linux: see shared/reference.md). */
  localAddress?: string;
  /** Extra upgrade request headers. */
  headers?: Readonly<Record<string, string>>;
  /** Connect + upgrade deadline in ms; default 10_000. */
  handshakeTimeoutMs?: number;
  /** How long to wait for the server's close frame and TCP close, in ms; default 5_000. */
  closeTimeoutMs?: number;
  /** Largest message accepted, in bytes; default 64 MiB. */
  maxMessageBytes?: number;
  /** Masking key (4 non-zero bytes); default a random one from {@link createMaskKey}. */
  maskKey?: Buffer;
}

export type RawWebSocketState = 'connecting' | 'open' | 'closing' | 'closed';

/**
 * Size of the process-wide read buffer. Reads happen one at a time on the
 * event-loop thread and the parser copies anything it keeps, so one buffer
 * serves every connection (10k connections x 64 KiB each would be 640 MB).
 */
const READ_BUFFER_BYTES = 64 * 1024;
let sharedReadBuffer: Buffer | null = null;

/** First batch buffer size per connection; grows by doubling as needed. */
const INITIAL_BATCH_BYTES = 2048;
/** Batch buffers above this are dropped after a flush instead of reused. */
const KEEP_BATCH_BYTES = 256 * 1024;
/** A batch this large is written at once instead of waiting for the turn's end. */
const FLUSH_NOW_BYTES = 256 * 1024;

// Connections with queued bytes, flushed together by one setImmediate per turn.
let dirty: RawWebSocket<unknown>[] = [];
let spare: RawWebSocket<unknown>[] = [];
let flushScheduled = false;

function flushDirty(): void {
  flushScheduled = false;
  const list = dirty;
  dirty = spare;
  spare = list;
  for (let i = 0; i < list.length; i++) list[i]!.flush();
  list.length = 0;
}

/** Adapts parser callbacks to the connection without exposing them on it. */
class ParserSink<T> implements FrameHandler {
  constructor(private readonly ws: RawWebSocket<T>) {}
  onMessage(opcode: DataOpcode, buf: Buffer, start: number, end: number): void {
    this.ws.handler.onMessage(this.ws, opcode, buf, start, end);
  }
  onPing(payload: Buffer): void {
    this.ws.handlePing(payload);
  }
  onPong(payload: Buffer): void {
    const h = this.ws.handler;
    if (h.onPong !== undefined) h.onPong(this.ws, payload);
  }
  onClose(code: number, reason: string): void {
    this.ws.handleCloseFrame(code, reason);
  }
  onError(kind: FrameErrorKind, message: string): void {
    this.ws.handleProtocolError(kind, message);
  }
}

/** One client WebSocket connection. Connecting starts in the constructor. */
export class RawWebSocket<T = unknown> {
  /** Caller's per-connection state (e.g. index, counters). */
  data: T;
  readonly handler: RawWebSocketHandler<T>;
  /** This connection's fixed masking key (for {@link PrebuiltFrame}s). */
  readonly maskKey: Buffer;
  private _state: RawWebSocketState = 'connecting';
  private readonly socket: net.Socket;
  private readonly parser: FrameParser;
  private handshake: HandshakeResponseParser | null;
  private readonly handshakeKey: string;
  private readonly closeTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;

  private batch: Buffer | null = null;
  private batchLen = 0;
  private queued = false;

  /** Bytes this connection may still read (see `allowReads`); Infinity: no limit. */
  private readAllowance = Infinity;
  /** Where the next socket read goes: the shared buffer, or a view of it capped at the allowance. */
  private readTarget: Buffer;
  private readPaused = false;

  private error: RawWebSocketError | null = null;
  private closeCode = 1006;
  private closeReason = '';
  private closeReceived = false;
  private closeSent = false;

  constructor(options: RawWebSocketOptions, handler: RawWebSocketHandler<T>, data: T) {
    this.data = data;
    this.handler = handler;
    this.maskKey = options.maskKey ?? createMaskKey();
    if (this.maskKey.length !== 4) throw new RangeError('maskKey must be 4 bytes');
    this.closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    this.parser = new FrameParser(new ParserSink(this), {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    });
    this.handshakeKey = createHandshakeKey();
    this.handshake = new HandshakeResponseParser(this.handshakeKey);
    const request = buildUpgradeRequest({
      host: options.host,
      port: options.port,
      path: options.path ?? '/',
      key: this.handshakeKey,
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    });
    if (sharedReadBuffer === null) sharedReadBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    this.readTarget = sharedReadBuffer;
    const connectOptions: net.TcpNetConnectOpts = {
      host: options.host,
      port: options.port,
      noDelay: true,
      // Node asks for the next read's buffer after each read, so a rate-limited connection (allowReads) can
      // read into a smaller view; the others always get the shared buffer. Returning true keeps reading.
      onread: { buffer: () => this.readTarget, callback: (nread, buf) => this.onRead(nread, buf as Buffer) },
    };
    if (options.localAddress !== undefined) connectOptions.localAddress = options.localAddress;
    const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.timer = setTimeout(() => {
      this.fail(new RawWebSocketError('timeout', `connect and handshake not done within ${timeoutMs} ms`, { detail: 'handshake' }));
    }, timeoutMs);
    this.socket = net.connect(connectOptions);
    this.socket.on('connect', () => this.socket.write(request));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.onSocketError(err));
    this.socket.on('close', () => this.onSocketClose());
  }

  get state(): RawWebSocketState {
    return this._state;
  }

  /** Whether the socket holds bytes the kernel did not take (its send queue is full: the peer is not reading). */
  get socketBackedUp(): boolean {
    return this.socket.writableLength > 0;
  }

  /** Bytes accepted but not yet handed to the kernel: batch + socket.writableLength. */
  get bufferedBytes(): number {
    return this.batchLen + this.socket.writableLength;
  }

  /**
   * Queues a complete, already-masked frame (e.g. a {@link PrebuiltFrame}'s
   * `frame`). The bytes are copied now, so the caller may patch and resend
   * the same Buffer at once. Queued bytes are written with one socket.write
   * per connection per event-loop turn (setImmediate), so every send
   * triggered while handling one read, or one timer tick, shares one syscall.
   * Returns false (and drops the frame) unless the connection is open.
   */
  sendFrame(frame: Buffer): boolean {
    if (this._state !== 'open') return false;
    const n = frame.length;
    const batch = this.reserve(n);
    frame.copy(batch, this.batchLen);
    this.batchLen += n;
    this.queue();
    return true;
  }

  /** Encodes and queues one unfragmented message, masking straight into the batch. */
  send(opcode: DataOpcode, payload: Buffer, start = 0, end = payload.length): boolean {
    if (this._state !== 'open') return false;
    this.writeFrameToBatch(opcode, payload, start, end);
    return true;
  }

  /** Queues a ping (payload ≤ 125 bytes). */
  ping(payload: Buffer = EMPTY): boolean {
    if (this._state !== 'open') return false;
    if (payload.length > 125) throw new RangeError('ping payload longer than 125 bytes');
    this.writeFrameToBatch(Opcode.Ping, payload, 0, payload.length);
    return true;
  }

  /**
   * Starts the close handshake: flushes queued frames, sends a close frame,
   * waits for the server's close frame (closeTimeoutMs), then ends the socket.
   * onClose then reports the server's code. Before the connection is open,
   * aborts it instead.
   */
  close(code = 1000, reason = ''): void {
    if (this._state === 'connecting') {
      this.terminate();
      return;
    }
    if (this._state !== 'open') return;
    if (this.readAllowance !== Infinity) this.allowReads(Infinity);
    if (!isValidCloseCode(code)) throw new RangeError(`invalid close code ${code}`);
    this._state = 'closing';
    this.sendClose(closePayload(code, reason));
    this.flush();
    this.setTimer(this.closeTimeoutMs, 'close');
  }

  /** Destroys the socket now, without a close handshake. */
  terminate(): void {
    if (this._state === 'closed') return;
    this._state = 'closing';
    this.socket.destroy();
  }

  /**
   * Aborts the TCP connection with a reset (SO_LINGER 0): no close handshake and no TIME_WAIT on either side,
   * so tearing down thousands of connections leaves no ports tied up for 60 s. For teardown, not for tests of
   * close behaviour.
   */
  reset(): void {
    if (this._state === 'closed') return;
    this._state = 'closing';
    this.socket.resetAndDestroy();
  }

  /**
   * Lets this connection read at most `bytes` more from its socket, then stop reading until given a new
   * allowance (replacing what is left of the old one); Infinity, the default, reads freely. While it does
   * not read, the kernel's receive buffer fills and the server's sends queue on its side: a slow reader.
   * Node takes the next read's buffer right after each read, so each read is capped at what was left of
   * the allowance then, and at 1 byte once it ran out: a new grant is never overshot, unless it is smaller
   * than what was left of the previous one (by at most the difference), or limits a connection that read
   * freely until now outside a read (its next read may still fill the 64 KiB buffer: limit from `onOpen`).
   * `close` lifts the limit so the server's close frame can be read.
   */
  allowReads(bytes: number): void {
    const n = bytes >= READ_BUFFER_BYTES ? Infinity : Math.max(0, Math.floor(bytes));
    this.readAllowance = n;
    this.setReadTarget();
    if (n > 0) this.resumeReading();
    else this.pauseReading();
  }

  /** Writes queued bytes now (normally done once per event-loop turn). */
  flush(): void {
    this.queued = false;
    const len = this.batchLen;
    if (len === 0) return;
    this.batchLen = 0;
    const batch = this.batch!;
    if (this.socket.destroyed) return;
    this.socket.write(len === batch.length ? batch : batch.subarray(0, len));
    // If the kernel took everything synchronously, nothing references the
    // batch any more and it is reused; otherwise the socket owns it until written.
    if (this.socket.writableLength !== 0 || batch.length > KEEP_BATCH_BYTES) this.batch = null;
  }

  // --- internals (public only for ParserSink and the flush scheduler) ---

  /** @internal */
  handlePing(payload: Buffer): void {
    if (this._state === 'open') this.writeFrameToBatch(Opcode.Pong, payload, 0, payload.length);
  }

  /** @internal */
  handleCloseFrame(code: number, reason: string): void {
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    if (this._state === 'open') {
      // Server-initiated: echo its code, then report it as unexpected.
      this._state = 'closing';
      this.sendClose(code === 1005 ? EMPTY : closePayload(code, ''));
      this.flush();
      this.reportError(
        new RawWebSocketError('unexpected-close', `server closed the connection with code ${code}${reason ? ` (${reason})` : ''}`, {
          closeCode: code,
        }),
      );
    }
    this.socket.end();
    this.setTimer(this.closeTimeoutMs, 'close');
  }

  /** @internal */
  handleProtocolError(kind: FrameErrorKind, message: string): void {
    const err = new RawWebSocketError('protocol', message, { detail: kind });
    if (this._state === 'open') {
      this._state = 'closing';
      this.sendClose(closePayload(kind === 'message-too-big' ? 1009 : 1002, ''));
      this.flush();
      this.reportError(err);
      this.socket.end();
      this.setTimer(this.closeTimeoutMs, 'close');
    } else {
      this.fail(err);
    }
  }

  private onRead(nread: number, buf: Buffer): boolean {
    if (this._state === 'closed') return true;
    if (this.readAllowance !== Infinity) {
      this.readAllowance -= nread;
      if (this.readAllowance <= 0) {
        this.readAllowance = 0;
        this.pauseReading();
      }
      this.setReadTarget();
    }
    const hs = this.handshake;
    if (hs === null) {
      this.handler.onRead?.(this);
      this.parser.push(buf, 0, nread);
      // Replies to this read leave now, not at the end of the turn: with every
      // connection flushed together, client and server took turns instead of
      // working at once (measured: see README, "Self-benchmark").
      if (this.batchLen > 0) this.flush();
      return true;
    }
    const result = hs.push(buf, 0, nread);
    if (result === null) return true;
    this.onHandshakeDone(result);
    return true;
  }

  /**
   * The next read's buffer: the shared one, or a view of it no longer than the allowance. Once the allowance
   * ran out, 1 byte: the read that follows the next grant is then never larger than that grant.
   */
  private setReadTarget(): void {
    const cap = this.readAllowance > 0 ? this.readAllowance : 1;
    this.readTarget = cap >= READ_BUFFER_BYTES ? sharedReadBuffer! : sharedReadBuffer!.subarray(0, cap);
  }

  private pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  private resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.socket.resume();
  }

  private onHandshakeDone(result: HandshakeResult): void {
    this.handshake = null;
    if (!result.ok) {
      this.fail(
        result.kind === 'handshake-rejected'
          ? new RawWebSocketError('handshake-rejected', result.message, { status: result.status })
          : new RawWebSocketError('protocol', result.message, { detail: result.detail }),
      );
      return;
    }
    if (this._state !== 'connecting') return;
    this.clearTimer();
    this._state = 'open';
    this.handler.onOpen(this);
    if (result.rest.length > 0 && (this._state === 'open' || this._state === 'closing')) {
      this.parser.push(result.rest);
    }
  }

  private onSocketError(err: NodeJS.ErrnoException): void {
    // Errors after the server's close frame (e.g. a reset racing our FIN) change nothing.
    if (this.closeReceived) return;
    const code = err.code ?? '';
    let e: RawWebSocketError;
    if (code === 'ECONNREFUSED') e = new RawWebSocketError('refused', err.message, { detail: code });
    else if (code === 'ECONNRESET' || code === 'EPIPE') e = new RawWebSocketError('reset', err.message, { detail: code });
    else if (code === 'ETIMEDOUT') e = new RawWebSocketError('timeout', err.message, { detail: 'connect' });
    else e = new RawWebSocketError('socket', err.message, { detail: code });
    this.fail(e);
  }

  private onSocketClose(): void {
    this.clearTimer();
    if (this._state === 'closed') return;
    const prev = this._state;
    this._state = 'closed';
    this.parser.stop();
    this.batch = null;
    this.batchLen = 0;
    if (!this.closeReceived && prev !== 'closing' && this.error === null) {
      this.reportError(
        new RawWebSocketError(
          'unexpected-close',
          prev === 'connecting' ? 'connection closed during the handshake' : 'connection closed without a close frame',
          { closeCode: 1006 },
        ),
      );
    }
    this.handler.onClose(this, this.closeCode, this.closeReason);
  }

  /** Reports `err` (once) and destroys the socket; onClose follows from 'close'. */
  private fail(err: RawWebSocketError): void {
    if (this._state === 'closed') return;
    this.reportError(err);
    this._state = 'closing';
    this.parser.stop();
    this.socket.destroy();
  }

  private reportError(err: RawWebSocketError): void {
    if (this.error !== null) return;
    this.error = err;
    this.handler.onError(this, err);
  }

  private sendClose(payload: Buffer): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.writeFrameToBatch(Opcode.Close, payload, 0, payload.length);
  }

  private writeFrameToBatch(opcode: number, payload: Buffer, start: number, end: number): void {
    const n = headerLength(end - start, true) + (end - start);
    const batch = this.reserve(n);
    this.batchLen += writeFrame(batch, this.batchLen, opcode, true, payload, start, end, this.maskKey);
    this.queue();
  }

  /** Returns a batch buffer with room for `n` more bytes. */
  private reserve(n: number): Buffer {
    const cur = this.batch;
    const need = this.batchLen + n;
    if (cur !== null && cur.length >= need) return cur;
    let cap = cur === null ? INITIAL_BATCH_BYTES : cur.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafeSlow(cap);
    if (cur !== null && this.batchLen > 0) cur.copy(next, 0, 0, this.batchLen);
    this.batch = next;
    return next;
  }

  private queue(): void {
    if (this.batchLen >= FLUSH_NOW_BYTES) {
      this.flush();
      return;
    }
    if (this.queued) return;
    this.queued = true;
    dirty.push(this as RawWebSocket<unknown>);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushDirty);
    }
  }

  private setTimer(ms: number, detail: string): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      if (this._state === 'closed') return;
      if (!this.closeReceived) {
        this.reportError(new RawWebSocketError('timeout', `close handshake not done within ${ms} ms`, { detail }));
      }
      this.socket.destroy();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

const EMPTY = Buffer.alloc(0);

/** Starts connecting; same as `new RawWebSocket(options, handler, data)`. */
export function connect<T>(options: RawWebSocketOptions, handler: RawWebSocketHandler<T>, data: T): RawWebSocket<T> {
  return new RawWebSocket(options, handler, data);
}
