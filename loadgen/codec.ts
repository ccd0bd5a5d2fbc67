// One interface for every payload kind, so the transports and the worker
// send and check messages through a single path whatever the scenario's
// message shape: payload.ts's synthetic binary and text payloads, and JSON
// templates (template.ts).
//
// Each kind is its own class and a worker's codec is built once, so the hot
// path's calls through it stay monomorphic; the binary and text codecs only
// pin payload.ts's `kind` argument, leaving its tuned code as it was.

import {
  bodyMatches, buildPayload, payloadMinBytes, readHeader, writeHeader, writeHeaderMasked, type PayloadHeader,
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

/** payload.ts's binary payload (16-byte little-endian header, then filler). */
export class BinaryCodec implements PayloadCodec {
  readonly opcodeKind = 'binary' as const;
  readonly minBytes = payloadMinBytes('binary');
  build(sizeBytes: number): Buffer {
    return buildPayload('binary', sizeBytes);
  }
  writeHeader(buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number): void {
    writeHeader('binary', buf, offset, connId, seq, tUs);
  }
  writeHeaderMasked(
    buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number,
    maskKey: Uint8Array, keyPhase: number,
  ): void {
    writeHeaderMasked('binary', buf, offset, connId, seq, tUs, maskKey, keyPhase);
  }
  readHeader(buf: Buffer, offset: number, sizeBytes: number, out: PayloadHeader): PayloadHeader {
    // payload.ts reads fixed offsets and assumes the minimum size; a shorter message has no header.
    if (sizeBytes < this.minBytes) return noHeader(out);
    return readHeader('binary', buf, offset, out);
  }
  bodyMatches(buf: Buffer, offset: number, sizeBytes: number): boolean {
    return bodyMatches('binary', buf, offset, sizeBytes);
  }
}

/** payload.ts's text payload (`{"c":…,"s":…,"t":…,"p":…}`). */
export class TextCodec implements PayloadCodec {
  readonly opcodeKind = 'text' as const;
  readonly minBytes = payloadMinBytes('text');
  build(sizeBytes: number): Buffer {
    return buildPayload('text', sizeBytes);
  }
  writeHeader(buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number): void {
    writeHeader('text', buf, offset, connId, seq, tUs);
  }
  writeHeaderMasked(
    buf: Buffer, offset: number, _sizeBytes: number, connId: number, seq: number, tUs: number,
    maskKey: Uint8Array, keyPhase: number,
  ): void {
    writeHeaderMasked('text', buf, offset, connId, seq, tUs, maskKey, keyPhase);
  }
  readHeader(buf: Buffer, offset: number, sizeBytes: number, out: PayloadHeader): PayloadHeader {
    if (sizeBytes < this.minBytes) return noHeader(out);
    return readHeader('text', buf, offset, out);
  }
  bodyMatches(buf: Buffer, offset: number, sizeBytes: number): boolean {
    return bodyMatches('text', buf, offset, sizeBytes);
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
      return new BinaryCodec();
    case 'text':
      return new TextCodec();
    case 'json':
      return new TemplateCodec(shape.template);
  }
}
