/**
 * RFC 6455 framing for the load generator's client side: a masking encoder,
 * a pre-built frame whose payload bytes can be patched in place per send, and
 * an incremental parser for (unmasked) server frames.
 *
 * Hot-path rules followed here: no closures, objects, strings or copies per
 * message when a message arrives whole in one chunk; callbacks instead of
 * events; Buffer views instead of slices.
 */
import { randomBytes } from 'node:crypto';

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];
/** Opcode of a complete data message as delivered by the parser. */
export type DataOpcode = typeof Opcode.Text | typeof Opcode.Binary;

/** Default cap on one reassembled message: 64 MiB, bounds client memory. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Control frames carry at most 125 payload bytes (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD_BYTES = 125;

/** Largest header a frame can have: 2 + 8 (64-bit length) + 4 (mask key). */
export const MAX_HEADER_BYTES = 14;

/**
 * A fresh masking key: 4 random bytes, none of them zero.
 *
 * The key is chosen once per connection and reused for every frame so that
 * pre-built frames stay valid (RFC 6455 wants a fresh key per frame to stop
 * cache poisoning through intermediaries; there are none on loopback).
 * It must not be all zeros: masking with zero is the identity, and servers
 * take shortcuts for it (ws's receiver skips unmasking entirely when the key
 * is 0), which would make one runtime look cheaper than it is under a real
 * browser's traffic. Requiring every byte non-zero also makes every masked
 * payload byte differ from the plain one, so a missed unmask shows up in tests.
 */
export function createMaskKey(): Buffer {
  const key = randomBytes(4);
  for (let i = 0; i < 4; i++) {
    while (key[i] === 0) key[i] = randomBytes(1)[0]!;
  }
  return key;
}

/** Header size in bytes for a payload of `payloadBytes`, masked or not. */
export function headerLength(payloadBytes: number, masked: boolean): number {
  const base = payloadBytes < 126 ? 2 : payloadBytes < 65536 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Writes a frame header into `target` at `offset`; returns the header length.
 * `maskKey` null writes an unmasked (server-style) header.
 */
export function writeHeader(
  target: Buffer,
  offset: number,
  opcode: number,
  fin: boolean,
  payloadBytes: number,
  maskKey: Buffer | null,
): number {
  let o = offset;
  target[o++] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  const maskBit = maskKey === null ? 0 : 0x80;
  if (payloadBytes < 126) {
    target[o++] = maskBit | payloadBytes;
  } else if (payloadBytes < 65536) {
    target[o++] = maskBit | 126;
    target[o++] = payloadBytes >>> 8;
    target[o++] = payloadBytes & 0xff;
  } else {
    target[o++] = maskBit | 127;
    const hi = Math.floor(payloadBytes / 0x100000000);
    target.writeUInt32BE(hi, o);
    target.writeUInt32BE(payloadBytes >>> 0, o + 4);
    o += 8;
  }
  if (maskKey !== null) {
    target[o++] = maskKey[0]!;
    target[o++] = maskKey[1]!;
    target[o++] = maskKey[2]!;
    target[o++] = maskKey[3]!;
  }
  return o - offset;
}

/**
 * Copies `src[srcStart, srcEnd)` into `target` at `targetOffset`, XOR-ing with
 * `maskKey`; `keyPhase` is the payload index of the first byte (mod 4).
 * Masking is its own inverse, so this also unmasks.
 */
export function maskInto(
  src: Buffer,
  srcStart: number,
  srcEnd: number,
  target: Buffer,
  targetOffset: number,
  maskKey: Buffer,
  keyPhase = 0,
): void {
  const k0 = maskKey[keyPhase & 3]!;
  const k1 = maskKey[(keyPhase + 1) & 3]!;
  const k2 = maskKey[(keyPhase + 2) & 3]!;
  const k3 = maskKey[(keyPhase + 3) & 3]!;
  const n = srcEnd - srcStart;
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    target[targetOffset + i] = src[srcStart + i]! ^ k0;
    target[targetOffset + i + 1] = src[srcStart + i + 1]! ^ k1;
    target[targetOffset + i + 2] = src[srcStart + i + 2]! ^ k2;
    target[targetOffset + i + 3] = src[srcStart + i + 3]! ^ k3;
  }
  if (i < n) target[targetOffset + i] = src[srcStart + i]! ^ k0;
  if (i + 1 < n) target[targetOffset + i + 1] = src[srcStart + i + 1]! ^ k1;
  if (i + 2 < n) target[targetOffset + i + 2] = src[srcStart + i + 2]! ^ k2;
}

export interface EncodeOptions {
  /** FIN bit; default true. false starts or continues a fragmented message. */
  fin?: boolean;
  /** 4-byte masking key; null encodes an unmasked (server-style) frame. */
  maskKey: Buffer | null;
}

/**
 * Encodes one complete frame into a new Buffer. General use (control frames,
 * varied payloads, tests); the per-message send path uses {@link PrebuiltFrame}
 * or {@link writeFrame} into a batch buffer instead.
 */
export function encodeFrame(opcode: number, payload: Buffer, options: EncodeOptions): Buffer {
  const maskKey = options.maskKey;
  const len = payload.length;
  const out = Buffer.allocUnsafe(headerLength(len, maskKey !== null) + len);
  writeFrame(out, 0, opcode, options.fin ?? true, payload, 0, len, maskKey);
  return out;
}

/**
 * Writes a complete frame for `payload[start, end)` into `target` at `offset`
 * (which must have room: header + payload bytes); returns bytes written.
 */
export function writeFrame(
  target: Buffer,
  offset: number,
  opcode: number,
  fin: boolean,
  payload: Buffer,
  start: number,
  end: number,
  maskKey: Buffer | null,
): number {
  const len = end - start;
  const h = writeHeader(target, offset, opcode, fin, len, maskKey);
  if (maskKey === null) payload.copy(target, offset + h, start, end);
  else maskInto(payload, start, end, target, offset + h, maskKey, 0);
  return h + len;
}

/**
 * A complete masked client frame built once from a template payload, for the
 * hot send path: the caller patches a few payload bytes (sequence number,
 * timestamp) per send with the `write*` methods, which write already-masked
 * bytes, then hands `frame` to the connection (which copies it). No re-masking
 * of the rest of the payload, no allocation.
 *
 * Invariant: `frame[payloadOffset + i] === plain[i] ^ maskKey[i % 4]`.
 */
export class PrebuiltFrame {
  /** The whole frame: header, mask key, masked payload. */
  readonly frame: Buffer;
  /** Index of payload byte 0 inside `frame`. */
  readonly payloadOffset: number;
  /** Payload length in bytes. */
  readonly payloadBytes: number;
  readonly maskKey: Buffer;
  /** maskWords[p] = big-endian u32 of key bytes p, p+1, p+2, p+3 (mod 4). */
  private readonly maskWords: Uint32Array;

  constructor(opcode: number, template: Buffer, maskKey: Buffer) {
    if (maskKey.length !== 4) throw new RangeError('maskKey must be 4 bytes');
    this.maskKey = maskKey;
    this.payloadBytes = template.length;
    this.payloadOffset = headerLength(template.length, true);
    this.frame = Buffer.alloc(this.payloadOffset + template.length);
    writeFrame(this.frame, 0, opcode, true, template, 0, template.length, maskKey);
    this.maskWords = new Uint32Array(4);
    for (let p = 0; p < 4; p++) {
      this.maskWords[p] =
        ((maskKey[p & 3]! << 24) |
          (maskKey[(p + 1) & 3]! << 16) |
          (maskKey[(p + 2) & 3]! << 8) |
          maskKey[(p + 3) & 3]!) >>>
        0;
    }
  }

  /** Writes byte `value` (0..255) at payload index `index`, masked. */
  writeUInt8(value: number, index: number): void {
    this.frame[this.payloadOffset + index] = (value ^ this.maskKey[index & 3]!) & 0xff;
  }

  /** Writes `value` (0..2^32-1) big-endian at payload index `index`, masked. */
  writeUInt32BE(value: number, index: number): void {
    this.frame.writeUInt32BE((value ^ this.maskWords[index & 3]!) >>> 0, this.payloadOffset + index);
  }

  /** Writes `value` (0..2^32-1) little-endian at payload index `index`, masked. */
  writeUInt32LE(value: number, index: number): void {
    // Little-endian u32 of key bytes p..p+3 is the byte swap of the big-endian word.
    const w = this.maskWords[index & 3]!;
    const le = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
    this.frame.writeUInt32LE((value ^ le) >>> 0, this.payloadOffset + index);
  }

  /**
   * Writes a non-negative integer below 2^53 as a big-endian u64 at payload
   * index `index`, masked (no BigInt, so no allocation).
   */
  writeUInt53BE(value: number, index: number): void {
    const hi = Math.floor(value / 0x100000000);
    this.writeUInt32BE(hi, index);
    this.writeUInt32BE(value >>> 0, index + 4);
  }

  /** Writes `value` as a big-endian float64 at payload index `index`, masked. */
  writeDoubleBE(value: number, index: number): void {
    scratch.writeDoubleBE(value, 0);
    const off = this.payloadOffset + index;
    for (let i = 0; i < 8; i++) {
      this.frame[off + i] = scratch[i]! ^ this.maskKey[(index + i) & 3]!;
    }
  }

  /** Writes `value` as a little-endian float64 at payload index `index`, masked. */
  writeDoubleLE(value: number, index: number): void {
    scratch.writeDoubleLE(value, 0);
    const off = this.payloadOffset + index;
    for (let i = 0; i < 8; i++) {
      this.frame[off + i] = scratch[i]! ^ this.maskKey[(index + i) & 3]!;
    }
  }

  /** Writes `src[srcStart, srcEnd)` at payload index `index`, masked. */
  writeBytes(src: Buffer, index: number, srcStart = 0, srcEnd = src.length): void {
    maskInto(src, srcStart, srcEnd, this.frame, this.payloadOffset + index, this.maskKey, index);
  }

  /** The unmasked payload as a new Buffer (tests, debugging; allocates). */
  readPayload(): Buffer {
    const out = Buffer.allocUnsafe(this.payloadBytes);
    maskInto(this.frame, this.payloadOffset, this.frame.length, out, 0, this.maskKey, 0);
    return out;
  }
}

const scratch = Buffer.alloc(8);

/**
 * Stable parser error kinds. The connection reports all of them as its
 * `protocol` kind with this value as the detail.
 */
export type FrameErrorKind =
  | 'masked-frame' // server frames must not be masked (§5.1)
  | 'reserved-bits' // RSV1-3 set; no extension was negotiated
  | 'unknown-opcode'
  | 'fragmented-control' // control frame without FIN
  | 'control-too-long' // control payload > 125 bytes
  | 'unexpected-continuation' // continuation with no message in progress
  | 'expected-continuation' // new text/binary frame while a message is in progress
  | 'invalid-length' // 64-bit length with the top bit set or beyond 2^53
  | 'message-too-big' // message exceeds maxMessageBytes
  | 'invalid-close-payload' // 1-byte close payload
  | 'invalid-close-code';

/** Receives parser output. Buffers passed in are only valid during the call. */
export interface FrameHandler {
  /**
   * A complete text or binary message in `buf[start, end)`. When the message
   * arrived unfragmented inside one pushed chunk this is a view into that
   * chunk (no copy); otherwise a view into a reused reassembly buffer. Either
   * way it is overwritten later: copy what you keep. Text is not decoded or
   * UTF-8-validated (the instrument does not convert on the hot path).
   */
  onMessage(opcode: DataOpcode, buf: Buffer, start: number, end: number): void;
  /** Ping payload (≤125 bytes, view valid during the call). */
  onPing(payload: Buffer): void;
  /** Pong payload (≤125 bytes, view valid during the call). */
  onPong(payload: Buffer): void;
  /** Close frame: code 1005 when the frame had no payload. Parsing stops. */
  onClose(code: number, reason: string): void;
  /** Protocol violation. Parsing stops; the connection must be failed. */
  onError(kind: FrameErrorKind, message: string): void;
}

export interface FrameParserOptions {
  /** Largest message accepted, in bytes; default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxMessageBytes?: number;
}

/** Reassembly buffers above this size are released after use, not kept. */
const KEEP_ASSEMBLY_BYTES = 1024 * 1024;

const enum State {
  Header, // waiting for / collecting header bytes
  Payload, // collecting the payload of a frame that spans chunks
  Stopped, // after a close frame, an error, or stop()
}

/**
 * Incremental parser for server-to-client frames. Feed it with {@link push};
 * it parses as many frames as each chunk holds and keeps partial state across
 * chunks split at any byte.
 *
 * Allocation: none for an unfragmented message contained in one chunk; a
 * reused, growable reassembly buffer for messages that span chunks or are
 * fragmented (grown by doubling, released when above 1 MiB).
 */
export class FrameParser {
  private readonly handler: FrameHandler;
  private readonly maxMessageBytes: number;
  private state: State = State.Header;

  // Header collected across chunks.
  private readonly headerBuf = Buffer.alloc(MAX_HEADER_BYTES);
  private headerHave = 0;

  // Current frame.
  private fin = false;
  private opcode = 0;
  private frameBytes = 0; // payload length of the current frame
  private frameHave = 0; // payload bytes of the current frame already copied

  // Message reassembly (fragmented or chunk-spanning data messages).
  private fragmented = false; // a text/binary message without FIN is in progress
  private messageOpcode: DataOpcode = Opcode.Binary;
  private assembly: Buffer | null = null;
  private assemblyLen = 0;

  // Control frame spanning chunks.
  private readonly controlBuf = Buffer.alloc(MAX_CONTROL_PAYLOAD_BYTES);

  constructor(handler: FrameHandler, options: FrameParserOptions = {}) {
    this.handler = handler;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** True once a close frame or an error ended parsing (or stop() was called). */
  get stopped(): boolean {
    return this.state === State.Stopped;
  }

  /** Stops parsing; later input is ignored. Safe to call from a callback. */
  stop(): void {
    this.state = State.Stopped;
    this.releaseAssembly();
  }

  /** Parses `chunk[start, end)`. The chunk may be reused by the caller after return. */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let pos = start;
    while (pos < end) {
      const state = this.state;
      if (state === State.Header) {
        if (this.headerHave === 0) {
          // Fast path: a whole header in this chunk, parsed in place.
          const avail = end - pos;
          if (avail < 2) {
            this.headerBuf[0] = chunk[pos]!;
            this.headerHave = 1;
            return;
          }
          const need = this.headerNeed(chunk[pos + 1]!);
          if (avail < need) {
            chunk.copy(this.headerBuf, 0, pos, end);
            this.headerHave = avail;
            return;
          }
          if (!this.parseHeader(chunk, pos, need)) return;
          pos += need;
        } else {
          // Slow path: finish a header split across chunks.
          if (this.headerHave === 1) {
            this.headerBuf[1] = chunk[pos++]!;
            this.headerHave = 2;
          }
          const need = this.headerNeed(this.headerBuf[1]!);
          const take = Math.min(need - this.headerHave, end - pos);
          chunk.copy(this.headerBuf, this.headerHave, pos, pos + take);
          this.headerHave += take;
          pos += take;
          if (this.headerHave < need) return;
          this.headerHave = 0;
          if (!this.parseHeader(this.headerBuf, 0, need)) return;
        }
        // Header parsed: deliver the payload if it is all here.
        const avail = end - pos;
        const len = this.frameBytes;
        if (this.opcode >= 0x8) {
          if (avail >= len) {
            this.deliverControl(chunk, pos, pos + len);
            pos += len;
          } else {
            chunk.copy(this.controlBuf, 0, pos, end);
            this.frameHave = avail;
            this.state = State.Payload;
            return;
          }
        } else if (this.fin && !this.fragmented && avail >= len) {
          // The common case: whole unfragmented message in this chunk, zero copy.
          this.handler.onMessage(this.opcode as DataOpcode, chunk, pos, pos + len);
          pos += len;
        } else {
          if (this.opcode !== Opcode.Continuation) {
            this.messageOpcode = this.opcode as DataOpcode;
            this.assemblyLen = 0;
          }
          this.fragmented = !this.fin;
          const total = this.assemblyLen + len;
          if (total > this.maxMessageBytes) {
            this.fail('message-too-big', `message of at least ${total} bytes exceeds ${this.maxMessageBytes}`);
            return;
          }
          this.reserveAssembly(total);
          const take = avail < len ? avail : len;
          chunk.copy(this.assembly!, this.assemblyLen, pos, pos + take);
          this.assemblyLen += take;
          pos += take;
          if (take < len) {
            this.frameHave = take;
            this.state = State.Payload;
            return;
          }
          if (this.fin) this.deliverAssembled();
        }
      } else if (state === State.Payload) {
        const want = this.frameBytes - this.frameHave;
        const take = end - pos < want ? end - pos : want;
        if (this.opcode >= 0x8) {
          chunk.copy(this.controlBuf, this.frameHave, pos, pos + take);
        } else {
          chunk.copy(this.assembly!, this.assemblyLen, pos, pos + take);
          this.assemblyLen += take;
        }
        this.frameHave += take;
        pos += take;
        if (this.frameHave < this.frameBytes) return;
        this.state = State.Header;
        if (this.opcode >= 0x8) this.deliverControl(this.controlBuf, 0, this.frameBytes);
        else if (this.fin) this.deliverAssembled();
      } else {
        return; // Stopped
      }
    }
  }

  /** Header size implied by the second header byte (server frames: no mask key). */
  private headerNeed(b1: number): number {
    const len7 = b1 & 0x7f;
    return (len7 < 126 ? 2 : len7 === 126 ? 4 : 10) + (b1 & 0x80 ? 4 : 0);
  }

  /** Validates and records a header; false (after reporting) on a protocol error. */
  private parseHeader(buf: Buffer, at: number, need: number): boolean {
    const b0 = buf[at]!;
    const b1 = buf[at + 1]!;
    if ((b1 & 0x80) !== 0) return this.fail('masked-frame', 'server frame is masked');
    if ((b0 & 0x70) !== 0) return this.fail('reserved-bits', 'reserved bits set without a negotiated extension');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    let len = b1 & 0x7f;
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.fail('unknown-opcode', `unknown opcode 0x${opcode.toString(16)}`);
      if (!fin) return this.fail('fragmented-control', 'control frame without FIN');
      if (len > MAX_CONTROL_PAYLOAD_BYTES) {
        return this.fail('control-too-long', 'control frame payload longer than 125 bytes');
      }
    } else {
      if (opcode > 0x2) return this.fail('unknown-opcode', `unknown opcode 0x${opcode.toString(16)}`);
      if (opcode === Opcode.Continuation) {
        if (!this.fragmented) return this.fail('unexpected-continuation', 'continuation frame without a message in progress');
      } else if (this.fragmented) {
        return this.fail('expected-continuation', 'new data frame while a fragmented message is in progress');
      }
      if (need === 4) {
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
      } else if (need === 10) {
        const hi = buf.readUInt32BE(at + 2);
        if (hi > 0x1fffff) return this.fail('invalid-length', '64-bit payload length above 2^53 - 1');
        len = hi * 0x100000000 + buf.readUInt32BE(at + 6);
      }
      if (len > this.maxMessageBytes) {
        return this.fail('message-too-big', `frame of ${len} bytes exceeds ${this.maxMessageBytes}`);
      }
    }
    this.opcode = opcode;
    this.fin = fin;
    this.frameBytes = len;
    this.frameHave = 0;
    return true;
  }

  private deliverControl(buf: Buffer, start: number, end: number): void {
    const opcode = this.opcode;
    if (opcode === Opcode.Ping) {
      this.handler.onPing(buf.subarray(start, end));
    } else if (opcode === Opcode.Pong) {
      this.handler.onPong(buf.subarray(start, end));
    } else {
      const n = end - start;
      if (n === 1) {
        this.fail('invalid-close-payload', 'close frame with a 1-byte payload');
        return;
      }
      const code = n === 0 ? 1005 : buf.readUInt16BE(start);
      if (n > 0 && !isValidCloseCode(code)) {
        this.fail('invalid-close-code', `invalid close code ${code}`);
        return;
      }
      const reason = n > 2 ? buf.toString('utf8', start + 2, end) : '';
      this.stop();
      this.handler.onClose(code, reason);
    }
  }

  private deliverAssembled(): void {
    this.fragmented = false;
    const buf = this.assembly!;
    const len = this.assemblyLen;
    this.assemblyLen = 0;
    if (buf.length > KEEP_ASSEMBLY_BYTES) this.assembly = null;
    this.handler.onMessage(this.messageOpcode, buf, 0, len);
  }

  private reserveAssembly(bytes: number): void {
    const cur = this.assembly;
    if (cur !== null && cur.length >= bytes) return;
    let cap = cur === null ? 4096 : cur.length * 2;
    while (cap < bytes) cap *= 2;
    if (cap > this.maxMessageBytes) cap = Math.max(bytes, this.maxMessageBytes);
    const next = Buffer.allocUnsafe(cap);
    if (cur !== null && this.assemblyLen > 0) cur.copy(next, 0, 0, this.assemblyLen);
    this.assembly = next;
  }

  private releaseAssembly(): void {
    this.assembly = null;
    this.assemblyLen = 0;
  }

  private fail(kind: FrameErrorKind, message: string): false {
    this.stop();
    this.handler.onError(kind, message);
    return false;
  }
}

/** Close codes a peer may send (RFC 6455 §7.4; IANA registry up to 1014). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Encodes a close frame payload: 2-byte code + UTF-8 reason (≤123 bytes). */
export function closePayload(code: number, reason: string): Buffer {
  const reasonBytes = Buffer.byteLength(reason);
  if (reasonBytes > MAX_CONTROL_PAYLOAD_BYTES - 2) throw new RangeError('close reason longer than 123 bytes');
  const out = Buffer.allocUnsafe(2 + reasonBytes);
  out.writeUInt16BE(code, 0);
  out.write(reason, 2, 'utf8');
  return out;
}
