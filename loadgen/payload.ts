// The message payload the load generator sends, in two kinds.
//
// A payload is built once as a template and then patched in place per send:
// only the header (connection id, sequence number, intended send time)
// changes between messages, so the hot path writes 16 (binary) or 36 (text)
// bytes and allocates nothing. The filler after the header is a fixed
// function of the byte's index in the payload, so a receiver can check a
// body of any size against one shared reference without knowing the sender.
//
// binary (minimum 16 bytes), all little-endian:
//   [0, 4)   u32 connection id (global across workers)
//   [4, 8)   u32 sequence number (per sending connection, from 0)
//   [8, 16)  f64 intended send time, µs since the Unix epoch (`epochClockUs`)
//   [16, n)  filler: byte i = (i * 31 + 7) & 0xff, i = index in the payload
//
// text (minimum 65 bytes): ASCII JSON, so valid UTF-8 and `JSON.parse`-able:
//   {"c":"<10 digits>","s":"<10 digits>","t":"<16 digits>","p":"<filler>"}
//   zero-padded decimal fields at fixed offsets; `t` is whole µs since the
//   epoch (rounded); filler char i = BASE64_ALPHABET[i & 63], i = index in
//   the payload (no character needs JSON escaping).
//
// Every function takes the payload's `offset` inside a larger buffer, so the
// protocol layer can patch a payload where it sits inside a pre-built frame.

/** Payload kind: a binary or a text WebSocket message. */
export type PayloadKind = 'binary' | 'text';

/** Header fields of a payload. */
export interface PayloadHeader {
  /** Sending connection's id, u32, global across workers. */
  connId: number;
  /** Sequence number of the message on its sending connection, u32. */
  seq: number;
  /** Intended send time, µs since the Unix epoch (text: whole µs). */
  tUs: number;
}

/** Largest payload this module builds: 64 MiB, the raw client's default message limit. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const BINARY_HEADER_BYTES = 16;

// Text layout, derived from its pieces so the offsets cannot drift from the format.
const T_OPEN = '{"c":"';
const T_SEP_S = '","s":"';
const T_SEP_T = '","t":"';
const T_SEP_P = '","p":"';
const T_CLOSE = '"}';
const C_DIGITS = 10;
const S_DIGITS = 10;
const T_DIGITS = 16;
const C_OFF = T_OPEN.length; // 6
const S_SEP_OFF = C_OFF + C_DIGITS; // 16
const S_OFF = S_SEP_OFF + T_SEP_S.length; // 23
const T_SEP_OFF = S_OFF + S_DIGITS; // 33
const T_OFF = T_SEP_OFF + T_SEP_T.length; // 40
const P_SEP_OFF = T_OFF + T_DIGITS; // 56
const FILLER_OFF = P_SEP_OFF + T_SEP_P.length; // 63
const TEXT_HEADER_BYTES = FILLER_OFF + T_CLOSE.length; // 65

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;
const DIGIT_0 = 0x30;

/**
 * Smallest payload of a kind, in bytes: 16 for binary (the header), 65 for
 * text (the JSON header with an empty filler).
 */
export function payloadMinBytes(kind: PayloadKind): number {
  return kind === 'binary' ? BINARY_HEADER_BYTES : TEXT_HEADER_BYTES;
}

// One reference buffer per kind holding the filler for every index, grown on
// demand (doubling, so at most log2(max) allocations per process). Templates
// are copied from it and `bodyMatches` compares against it.
let binaryRef = Buffer.alloc(0);
let textRef = Buffer.alloc(0);

function fillBinaryRef(buf: Buffer): void {
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 0xff;
}

function fillTextRef(buf: Buffer): void {
  for (let i = 0; i < buf.length; i++) buf[i] = BASE64_ALPHABET.charCodeAt(i & 63);
  // Static header bytes at their offsets; digit fields hold '0'.
  buf.write(T_OPEN, 0, 'latin1');
  buf.fill(DIGIT_0, C_OFF, C_OFF + C_DIGITS);
  buf.write(T_SEP_S, S_SEP_OFF, 'latin1');
  buf.fill(DIGIT_0, S_OFF, S_OFF + S_DIGITS);
  buf.write(T_SEP_T, T_SEP_OFF, 'latin1');
  buf.fill(DIGIT_0, T_OFF, T_OFF + T_DIGITS);
  buf.write(T_SEP_P, P_SEP_OFF, 'latin1');
}

function reference(kind: PayloadKind, sizeBytes: number): Buffer {
  const current = kind === 'binary' ? binaryRef : textRef;
  if (current.length >= sizeBytes) return current;
  let length = Math.max(4096, current.length);
  while (length < sizeBytes) length *= 2;
  const grown = Buffer.alloc(Math.min(length, MAX_PAYLOAD_BYTES));
  if (kind === 'binary') {
    fillBinaryRef(grown);
    binaryRef = grown;
  } else {
    fillTextRef(grown);
    textRef = grown;
  }
  return grown;
}

function checkSize(kind: PayloadKind, sizeBytes: number, what: string): void {
  const min = payloadMinBytes(kind);
  if (!Number.isInteger(sizeBytes) || sizeBytes < min || sizeBytes > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`${what}: a ${kind} payload must be an integer from ${min} to ${MAX_PAYLOAD_BYTES} bytes, got ${sizeBytes}`);
  }
}

/**
 * A payload template of exactly `sizeBytes`: header zeroed (connId 0, seq 0,
 * tUs 0) and the filler in place. Allocates; call at setup, then patch copies
 * with `writeHeader` per send.
 * @throws RangeError unless payloadMinBytes(kind) ≤ sizeBytes ≤ MAX_PAYLOAD_BYTES (integer)
 */
export function buildPayload(kind: PayloadKind, sizeBytes: number): Buffer {
  checkSize(kind, sizeBytes, 'buildPayload');
  const out = Buffer.alloc(sizeBytes);
  reference(kind, sizeBytes).copy(out, 0, 0, sizeBytes);
  if (kind === 'binary') {
    out.fill(0, 0, BINARY_HEADER_BYTES);
  } else {
    out[sizeBytes - 2] = QUOTE;
    out[sizeBytes - 1] = CLOSE_BRACE;
  }
  return out;
}

// Scratch for the f64 → bytes conversion: module-level so writes allocate nothing.
const f64Scratch = new DataView(new ArrayBuffer(8));

/**
 * Writes `value` as `width` zero-padded decimal digits at payload index `pos`,
 * XOR-ing payload byte j with m[j & 3] (all 0 when not masking). Division on
 * doubles is exact for integers < 2^53. Shared with template.ts.
 */
export function writeDigits(
  buf: Buffer, offset: number, pos: number, width: number, value: number,
  m0: number, m1: number, m2: number, m3: number,
): void {
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    const q = Math.floor(v / 10);
    const j = pos + i;
    const m = (j & 3) === 0 ? m0 : (j & 3) === 1 ? m1 : (j & 3) === 2 ? m2 : m3;
    buf[offset + j] = (DIGIT_0 + (v - q * 10)) ^ m;
    v = q;
  }
}

function writeHeaderImpl(
  kind: PayloadKind, buf: Buffer, offset: number, connId: number, seq: number, tUs: number,
  m0: number, m1: number, m2: number, m3: number,
): void {
  if (kind === 'binary') {
    buf[offset] = (connId & 0xff) ^ m0;
    buf[offset + 1] = ((connId >>> 8) & 0xff) ^ m1;
    buf[offset + 2] = ((connId >>> 16) & 0xff) ^ m2;
    buf[offset + 3] = (connId >>> 24) ^ m3;
    buf[offset + 4] = (seq & 0xff) ^ m0;
    buf[offset + 5] = ((seq >>> 8) & 0xff) ^ m1;
    buf[offset + 6] = ((seq >>> 16) & 0xff) ^ m2;
    buf[offset + 7] = (seq >>> 24) ^ m3;
    f64Scratch.setFloat64(0, tUs, true);
    buf[offset + 8] = f64Scratch.getUint8(0) ^ m0;
    buf[offset + 9] = f64Scratch.getUint8(1) ^ m1;
    buf[offset + 10] = f64Scratch.getUint8(2) ^ m2;
    buf[offset + 11] = f64Scratch.getUint8(3) ^ m3;
    buf[offset + 12] = f64Scratch.getUint8(4) ^ m0;
    buf[offset + 13] = f64Scratch.getUint8(5) ^ m1;
    buf[offset + 14] = f64Scratch.getUint8(6) ^ m2;
    buf[offset + 15] = f64Scratch.getUint8(7) ^ m3;
  } else {
    writeDigits(buf, offset, C_OFF, C_DIGITS, connId, m0, m1, m2, m3);
    writeDigits(buf, offset, S_OFF, S_DIGITS, seq, m0, m1, m2, m3);
    writeDigits(buf, offset, T_OFF, T_DIGITS, Math.round(tUs), m0, m1, m2, m3);
  }
}

/**
 * Patches the header of the payload at `buf[offset, offset + size)` in place.
 * Hot path: no allocation, no validation. Preconditions: connId and seq are
 * integers in [0, 2^32) (wrapping is the caller's decision); tUs is finite,
 * ≥ 0, and for text < 1e16 (16 digits; it is rounded to whole µs).
 */
export function writeHeader(kind: PayloadKind, buf: Buffer, offset: number, connId: number, seq: number, tUs: number): void {
  writeHeaderImpl(kind, buf, offset, connId, seq, tUs, 0, 0, 0, 0);
}

/**
 * Like `writeHeader`, but writes the header bytes already masked, for
 * patching a frame whose payload was masked once at build time: payload byte
 * j is stored as `byte ^ maskKey[(keyPhase + j) & 3]`. `keyPhase` is the
 * index of the payload's first byte within the masked region (0 when the
 * payload is the whole frame payload), as in protocol/frame.ts `maskInto`.
 * The filler is left untouched (it is already masked). Same preconditions
 * as `writeHeader`; `maskKey` must hold at least 4 bytes.
 */
export function writeHeaderMasked(
  kind: PayloadKind, buf: Buffer, offset: number, connId: number, seq: number, tUs: number,
  maskKey: Uint8Array, keyPhase: number,
): void {
  writeHeaderImpl(
    kind, buf, offset, connId, seq, tUs,
    maskKey[keyPhase & 3]!, maskKey[(keyPhase + 1) & 3]!, maskKey[(keyPhase + 2) & 3]!, maskKey[(keyPhase + 3) & 3]!,
  );
}

/** Parses fixed-width ASCII digits; -1 if any byte is not a digit. Shared with template.ts. */
export function readDigits(buf: Buffer, pos: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) {
    const d = buf[pos + i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Reads the header of the (unmasked) payload at `buf[offset, ...)`.
 * Allocates nothing when `out` is given (it is filled and returned). For
 * text, a field that is not all digits reads as -1 (a corrupted header);
 * binary headers cannot be checked. Precondition: the buffer holds at least
 * payloadMinBytes(kind) bytes from `offset`.
 */
export function readHeader(
  kind: PayloadKind, buf: Buffer, offset: number,
  out: PayloadHeader = { connId: 0, seq: 0, tUs: 0 },
): PayloadHeader {
  if (kind === 'binary') {
    out.connId = buf.readUInt32LE(offset);
    out.seq = buf.readUInt32LE(offset + 4);
    out.tUs = buf.readDoubleLE(offset + 8);
  } else {
    out.connId = readDigits(buf, offset + C_OFF, C_DIGITS);
    out.seq = readDigits(buf, offset + S_OFF, S_DIGITS);
    out.tUs = readDigits(buf, offset + T_OFF, T_DIGITS);
  }
  return out;
}

/**
 * Corruption check: true when every byte of the payload at
 * `buf[offset, offset + sizeBytes)` outside the header's variable fields
 * equals the template's (binary: the filler; text: the JSON punctuation and
 * the filler). Uses `Buffer#compare` on ranges (a memcmp), no per-byte JS
 * loop and no allocation, except that the shared reference grows the first
 * time a larger size is checked. False for a size below the minimum or a
 * range that does not fit in `buf`.
 */
export function bodyMatches(kind: PayloadKind, buf: Buffer, offset: number, sizeBytes: number): boolean {
  if (sizeBytes < payloadMinBytes(kind) || sizeBytes > MAX_PAYLOAD_BYTES || offset < 0 || offset + sizeBytes > buf.length) {
    return false;
  }
  const ref = reference(kind, sizeBytes);
  if (kind === 'binary') {
    return ref.compare(buf, offset + BINARY_HEADER_BYTES, offset + sizeBytes, BINARY_HEADER_BYTES, sizeBytes) === 0;
  }
  const end = sizeBytes - T_CLOSE.length;
  return (
    buf[offset + end] === QUOTE &&
    buf[offset + end + 1] === CLOSE_BRACE &&
    ref.compare(buf, offset + P_SEP_OFF, offset + end, P_SEP_OFF, end) === 0 &&
    ref.compare(buf, offset, offset + C_OFF, 0, C_OFF) === 0 &&
    ref.compare(buf, offset + S_SEP_OFF, offset + S_OFF, S_SEP_OFF, S_OFF) === 0 &&
    ref.compare(buf, offset + T_SEP_OFF, offset + T_OFF, T_SEP_OFF, T_OFF) === 0
  );
}
