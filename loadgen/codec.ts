// One interface for every payload kind, so the transports and the worker
// send and check messages through a single path whatever the scenario's
// message shape: payload.ts's synthetic binary and text payloads, and JSON
// templates (template.ts).
//
// A worker's codec is built once, so the hot path's calls through it stay
// monomorphic; the synthetic codec only passes payload.ts its `kind`,
// leaving its tuned code as it was.

import {
  bodyMatches, buildPayload, payloadMinBytes, readHeader, writeHeader, writeHeaderMasked, type PayloadHeader, type PayloadKind,
} from './payload.js';
import { TemplateCodec } from './template.js';
import type { MessageShape } from './types.js';

/**
 * Builds, patches and checks one kind of message. Every message carries the
 * sender's connection id, its sequence number and its intended send time (µs
 * since the epoch) in fields patched in place; `offset` is the message's start
 * inside `buf` (a frame, a read buffer) and `sizeBytes` its length.
 */
export interface PayloadCodec {
  /** The WebSocket frame type its messages go in. */
  readonly opcodeKind: 'binary' | 'text';
  /** Smallest message, bytes. */
  readonly minBytes: number;
  /** A message of exactly `sizeBytes` with zeroed header fields. Allocates: setup only. @throws RangeError on a size it cannot build */
  build(sizeBytes: number): Buffer;
  /** Patches the header fields in place. Hot path: no allocation, no validation. */
  writeHeader(buf: Buffer, offset: number, sizeBytes: number, connId: number, seq: number, tUs: number): void;
  /** `writeHeader` into a payload masked at build time: payload byte j is XOR-ed with maskKey[(keyPhase + j) & 3]. */
  writeHeaderMasked(
    buf: Buffer, offset: number, sizeBytes: number, connId: number, seq: number, tUs: number,
    maskKey: Uint8Array, keyPhase: number,
  ): void;
  /** Reads the header fields of an unmasked message into `out` (returned); a field the shape lacks, or a corrupted one, reads as -1. */
  readHeader(buf: Buffer, offset: number, sizeBytes: number, out: PayloadHeader): PayloadHeader;
  /** Exact corruption check: every byte outside the header fields equals the template's for that size. */
  bodyMatches(buf: Buffer, offset: number, sizeBytes: number): boolean;
}

function noHeader(out: PayloadHeader): PayloadHeader {
  out.connId = -1;
  out.seq = -1;
  out.tUs = -1;
  return out;
}

/**
 * payload.ts's synthetic payloads: binary (16-byte little-endian header, then
 * filler) or text (`{"c":…,"s":…,"t":…,"p":…}`). One class for both: a worker
 * builds one codec, so its calls stay monomorphic, and payload.ts branches on
 * `kind` as it did before codecs existed.
 */
export class SyntheticCodec implements PayloadCodec {
  readonly opcodeKind: PayloadKind;
  readonly minBytes: number;
  constructor(readonly kind: PayloadKind) {
    this.opcodeKind = kind;
    this.minBytes = payloadMinBytes(kind);
  }
  build(sizeBytes: number): Buffer {
    return buildPayload(this.kind, sizeBytes);
  }
  writeHeader(buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number): void {
    writeHeader(this.kind, buf, offset, connId, seq, tUs);
  }
  writeHeaderMasked(
    buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number,
    maskKey: Uint8Array, keyPhase: number,
  ): void {
    writeHeaderMasked(this.kind, buf, offset, connId, seq, tUs, maskKey, keyPhase);
  }
  readHeader(buf: Buffer, offset: number, sizeBytes: number, out: PayloadHeader): PayloadHeader {
    // payload.ts reads fixed offsets and assumes the minimum size; a shorter message has no header.
    if (sizeBytes < this.minBytes) return noHeader(out);
    return readHeader(this.kind, buf, offset, out);
  }
  bodyMatches(buf: Buffer, offset: number, sizeBytes: number): boolean {
    return bodyMatches(this.kind, buf, offset, sizeBytes);
  }
}

/**
 * The codec for a message shape: binary and text as in payload.ts, json a
 * compiled template (sent as text).
 * @throws RangeError on an invalid json template
 */
export function codecFor(shape: MessageShape): PayloadCodec {
  switch (shape.kind) {
    case 'binary':
    case 'text':
      return new SyntheticCodec(shape.kind);
    case 'json':
      return new TemplateCodec(shape.template);
  }
}
