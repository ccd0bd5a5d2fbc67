/**
 * A WebSocket client on a bare TCP socket, for what a conforming client library
 * refuses to send: fragments with interleaved control frames, invalid UTF-8,
 * unmasked frames. It parses the server's frames itself so that a test sees
 * exactly what went over the wire (close codes included).
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface FrameOptions {
  /** Default true. */
  fin?: boolean;
  /** Default true: clients must mask (RFC 6455 section 5.1); false makes a protocol violation. */
  masked?: boolean;
}

/** Encodes one frame. */
export function encodeFrame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer {
  const fin = options.fin ?? true;
  const masked = options.masked ?? true;
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) header.writeUInt16BE(length, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  mask.copy(header, 2 + lengthBytes);
  const body = Buffer.alloc(length);
  for (let i = 0; i < length; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, body]);
}

/** A close frame's payload: the code, then an optional UTF-8 reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** How the server ended the connection, as seen on the wire. */
export interface CloseSeen {
  /** The code in the server's close frame; undefined if it sent none (TCP close or reset only) or an empty one. */
  code: number | undefined;
  reason: string;
  /** Whether a close frame arrived at all before the TCP connection ended. */
  closeFrame: boolean;
  /** How TCP ended: an orderly FIN, or a reset (ECONNRESET/EPIPE). */
  tcpEnd: 'fin' | 'reset';
}

export class RawSocket {
  private buffered = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private tcpEnd: 'fin' | 'reset' = 'fin';

  private constructor(private readonly socket: net.Socket, initial: Buffer) {
    this.buffered = Buffer.from(initial);
    this.parse();
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
      this.wake();
    });
    const onEnd = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    // A reset after the server's close is one of the outcomes tests observe; it is not an error here.
    socket.on('error', () => {
      this.tcpEnd = 'reset';
      onEnd();
    });
  }

  /** Opens a TCP connection and completes the opening handshake on `path`. */
  static async connect(host: string, port: number, path: string, timeoutMs = 5000): Promise<RawSocket> {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const key = randomBytes(16).toString('base64');
    const head = await new Promise<{ status: string; rest: Buffer }>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => fail(new Error(`no handshake response within ${timeoutMs} ms`)), timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', fail);
        resolve({ status: received.subarray(0, received.indexOf('\r\n')).toString('latin1'), rest: received.subarray(end + 4) });
      };
      socket.on('data', onData);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
    if (!/^HTTP\/1\.1 101\b/.test(head.status)) {
      socket.destroy();
      throw new Error(`handshake refused: ${head.status}`);
    }
    return new RawSocket(socket, head.rest);
  }

  send(opcode: number, payload: Buffer | string, options?: FrameOptions): void {
    this.socket.write(encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, options));
  }

  /** Writes bytes as given, for frames encodeFrame cannot make. */
  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next frame from the server; rejects if the connection ends first or nothing comes in time. */
  async nextFrame(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame !== undefined) return frame;
      if (this.ended) throw new Error('connection ended before a frame arrived');
      if (!(await this.waitForActivity(deadline - Date.now()))) throw new Error(`no frame within ${timeoutMs} ms`);
    }
  }

  /** The next message: data fragments reassembled, control frames returned as they come. */
  async nextMessage(timeoutMs = 5000): Promise<Frame> {
    const first = await this.nextFrame(timeoutMs);
    if (first.opcode >= OPCODE.close || first.fin) return first;
    const parts = [first.payload];
    for (;;) {
      const frame = await this.nextFrame(timeoutMs);
      if (frame.opcode !== OPCODE.continuation) throw new Error(`expected a continuation frame, got opcode ${frame.opcode}`);
      parts.push(frame.payload);
      if (frame.fin) return { fin: true, opcode: first.opcode, payload: Buffer.concat(parts) };
    }
  }

  /** Whether, for `ms`, the server neither sent anything nor ended the connection. */
  async silentFor(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (this.frames.length === 0 && !this.ended) {
      if (!(await this.waitForActivity(deadline - Date.now()))) break;
    }
    return this.frames.length === 0 && !this.ended;
  }

  /**
   * Reads until the server closes: returns its close frame's code (if any) once
   * the TCP connection has ended too. Data frames before it are skipped.
   */
  async closed(timeoutMs = 5000): Promise<CloseSeen> {
    const deadline = Date.now() + timeoutMs;
    let seen: CloseSeen | undefined;
    for (;;) {
      for (let frame = this.frames.shift(); frame !== undefined; frame = this.frames.shift()) {
        if (frame.opcode === OPCODE.close && seen === undefined) {
          seen = {
            code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined,
            reason: frame.payload.subarray(2).toString('utf8'),
            closeFrame: true,
            tcpEnd: 'fin',
          };
          // Complete the closing handshake as a well-behaved client would.
          if (!this.socket.destroyed) this.socket.end(encodeFrame(OPCODE.close, frame.payload.subarray(0, 2)));
        }
      }
      if (this.ended) return { ...(seen ?? { code: undefined, reason: '', closeFrame: false }), tcpEnd: this.tcpEnd };
      if (!(await this.waitForActivity(deadline - Date.now()))) {
        throw new Error(`the server did not close within ${timeoutMs} ms${seen ? ' (after its close frame)' : ''}`);
      }
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private waitForActivity(timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(true);
      };
    });
  }

  private wake(): void {
    this.waiter?.();
  }

  private parse(): void {
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const maskOffset = offset;
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      const payload = Buffer.from(b.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < length; i++) payload[i] = payload[i]! ^ b[maskOffset + (i & 3)]!;
      this.frames.push({ fin, opcode, payload });
      this.buffered = b.subarray(offset + length);
    }
  }
}
