// JSON message templates with generated fields: messages shaped like a real
// protocol's (an audio event, a chat message) instead of payload.ts's
// synthetic ones, still built once and patched in place per send.
//
// A template is a JSON object; a string value that is exactly a placeholder
// is generated:
//   {{conn}}        10 zero-padded digits: the sending connection's id
//   {{seq}}         10 digits: the message's sequence number on that connection
//   {{sentAtUs}}    16 digits: intended send time, whole µs since the epoch
//   {{id}}          20 digits: conn then seq, a message id unique in a run
//   {{base64:N}}    N base64 characters fixed at build time (e.g. audio)
//   {{pad}}         base64 filler whose length makes the message `sizeBytes` long
// Every generated field has a fixed width, so a message of a given size has
// each field at a fixed offset: fields after the pad sit `padLen` further on,
// where padLen = sizeBytes - (the message's size with an empty pad). Sending
// writes only the digits, receiving reads them back and compares every other
// byte with memcmp: no JSON is rendered or parsed per message.
//
// Generated text is deterministic (a function of the byte's index, and for
// base64 fields of the field's ordinal), so a receiver checks a message from
// any worker against its own copy of the template.

import type { PayloadCodec } from './codec.js';
import { MAX_PAYLOAD_BYTES, readDigits, writeDigits, type PayloadHeader } from './payload.js';

/** Largest `{{base64:N}}`: 16 MiB of characters. */
export const MAX_BASE64_CHARS = 16 * 1024 * 1024;

/** The placeholders, as listed in error messages. */
export const KNOWN_GENERATORS = '{{conn}}, {{seq}}, {{sentAtUs}}, {{id}}, {{base64:N}}, {{pad}}';

/** Generated fields patched per send (base64 text and the pad are fixed per size, so not among them). */
export type HeaderField = 'conn' | 'seq' | 'sentAtUs' | 'id';

const CONN = 0;
const SEQ = 1;
const SENT_AT = 2;
const ID = 3;
const FIELD_CODES: Record<HeaderField, number> = { conn: CONN, seq: SEQ, sentAtUs: SENT_AT, id: ID };
const FIELD_WIDTHS = [10, 10, 16, 20];

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT_0 = 0x30;
const PAD_SALT = 0;

type Segment =
  | { t: 'lit'; text: string }
  | { t: 'field'; code: number }
  | { t: 'b64'; chars: number; salt: number }
  | { t: 'pad' };

/** A template's structure: its rendering split into literal JSON, generated fields, base64 text and the pad. */
export interface TemplateLayout {
  readonly segments: readonly Segment[];
  /** Size of the message with an empty pad, bytes: the smallest message (and the only one without a pad). */
  readonly minBytes: number;
  readonly hasPad: boolean;
  /** Which header fields the template generates. */
  readonly fields: ReadonlySet<HeaderField>;
}

// A placeholder-looking string: "{{" anything without braces "}}".
const PLACEHOLDER_RE = /^\{\{[^{}]*\}\}$/;
// A known placeholder inside a longer string: a likely mistake, since only whole values are generated.
const EMBEDDED_RE = /\{\{(?:conn|seq|sentAtUs|id|pad|base64:\d+)\}\}/;
const IDENT_RE = /^[A-Za-z_$][\w$]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyPath(path: string, key: string): string {
  return IDENT_RE.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function shown(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/**
 * Lays out a template without rendering it (cheap even with 16 MiB base64
 * fields), collecting every problem with its field path under `path`:
 * not an object, a value that is not JSON, an unknown placeholder, a bad
 * `{{base64:N}}`, a second `{{pad}}`, a placeholder inside a longer string,
 * a message above MAX_PAYLOAD_BYTES.
 *
 * @returns the layout, or undefined when there are problems
 */
export function layoutTemplate(template: unknown, path: string, problems: string[]): TemplateLayout | undefined {
  const before = problems.length;
  if (!isRecord(template)) {
    problems.push(`${path}: must be a JSON object, got ${Array.isArray(template) ? 'an array' : JSON.stringify(template) ?? typeof template}`);
    return undefined;
  }
  const segments: Segment[] = [];
  const fields = new Set<HeaderField>();
  let lit = '';
  let pads = 0;
  let b64Count = 0;
  let generatedBytes = 0;
  const flush = () => {
    if (lit.length > 0) segments.push({ t: 'lit', text: lit });
    lit = '';
  };
  const gen = (s: string, p: string): void => {
    const name = s.slice(2, -2);
    if (name in FIELD_CODES) {
      const f = name as HeaderField;
      fields.add(f);
      flush();
      segments.push({ t: 'field', code: FIELD_CODES[f] });
      generatedBytes += FIELD_WIDTHS[FIELD_CODES[f]]!;
    } else if (name === 'pad') {
      if (++pads > 1) problems.push(`${p}: a second {{pad}}; a template has at most one`);
      flush();
      segments.push({ t: 'pad' });
    } else if (name.startsWith('base64:')) {
      const n = name.slice('base64:'.length);
      const chars = /^[0-9]+$/.test(n) ? Number(n) : NaN;
      if (!(chars >= 1 && chars <= MAX_BASE64_CHARS)) {
        problems.push(`${p}: {{base64:N}} needs N a whole number of characters from 1 to ${MAX_BASE64_CHARS}, got ${shown(s)}`);
        return;
      }
      flush();
      // Each base64 field gets its own text, the same on every worker.
      segments.push({ t: 'b64', chars, salt: ++b64Count });
      generatedBytes += chars;
    } else {
      problems.push(`${p}: unknown generator ${shown(s)} (known: ${KNOWN_GENERATORS})`);
    }
  };
  const walk = (v: unknown, p: string): void => {
    if (typeof v === 'string') {
      if (PLACEHOLDER_RE.test(v)) {
        lit += '"';
        gen(v, p);
        lit += '"';
        return;
      }
      if (EMBEDDED_RE.test(v)) problems.push(`${p}: a generator must be the whole string value, got ${shown(v)}`);
      lit += JSON.stringify(v);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) problems.push(`${p}: must be a JSON value, got ${v}`);
      lit += JSON.stringify(v);
    } else if (typeof v === 'boolean' || v === null) {
      lit += JSON.stringify(v);
    } else if (Array.isArray(v)) {
      lit += '[';
      v.forEach((item, i) => {
        if (i > 0) lit += ',';
        walk(item, `${p}[${i}]`);
      });
      lit += ']';
    } else if (isRecord(v)) {
      lit += '{';
      let first = true;
      for (const [k, item] of Object.entries(v)) {
        if (!first) lit += ',';
        first = false;
        lit += `${JSON.stringify(k)}:`;
        walk(item, keyPath(p, k));
      }
      lit += '}';
    } else {
      problems.push(`${p}: must be a JSON value, got ${typeof v}`);
    }
  };
  walk(template, path);
  flush();
  if (problems.length > before) return undefined;
  let minBytes = generatedBytes;
  for (const s of segments) if (s.t === 'lit') minBytes += Buffer.byteLength(s.text);
  if (minBytes > MAX_PAYLOAD_BYTES) {
    problems.push(`${path}: renders to ${minBytes} bytes, more than the largest message (${MAX_PAYLOAD_BYTES})`);
    return undefined;
  }
  return { segments, minBytes, hasPad: pads === 1, fields };
}

// A base64 character for index i of a stream: murmur3's finaliser of (i, salt), so the text looks random
// and is the same on every worker without shared state.
function base64At(i: number, salt: number): number {
  let h = (Math.imul(i, 0x9e3779b1) ^ Math.imul(salt, 0x85ebca6b)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return BASE64_ALPHABET.charCodeAt(h & 63);
}

// The pad's text for every length: one shared reference grown on demand (doubling), as payload.ts does.
let padRef = Buffer.alloc(0);

function padReference(lengthBytes: number): Buffer {
  if (padRef.length >= lengthBytes) return padRef;
  let length = Math.max(4096, padRef.length);
  while (length < lengthBytes) length *= 2;
  const grown = Buffer.allocUnsafe(Math.min(length, MAX_PAYLOAD_BYTES));
  for (let i = 0; i < grown.length; i++) grown[i] = base64At(i, PAD_SALT);
  padRef = grown;
  return grown;
}



/**
 * The codec of a JSON template (see the file comment for the format). Sent
 * as text. Sizes: `minBytes` (the template with an empty pad) without a pad,
 * any size from `minBytes` to MAX_PAYLOAD_BYTES with one. Header fields the
 * template does not generate read as -1.
 */
export class TemplateCodec implements PayloadCodec {
  readonly opcodeKind = 'text' as const;
  readonly minBytes: number;
  readonly hasPad: boolean;
  /** Generates {{conn}}, {{seq}} and {{sentAtUs}}: every delivery can be accounted for. */
  readonly hasHeader: boolean;
  /** The message with an empty pad and the generated digits all '0'. */
  private readonly base: Buffer;
  /** Where the pad's text starts, in `base` (= minBytes without a pad). */
  private readonly padPos: number;
  // Generated fields, in order: kind code, offset in `base`, and 1 when after the pad (shifted by its length).
  private readonly fieldCodes: Uint8Array;
  private readonly fieldOffsets: Int32Array;
  private readonly fieldAfterPad: Uint8Array;
  // Position in `base` of the first conn / seq / sentAtUs field (-1: absent) and whether it follows the pad.
  private readonly connPos: number;
  private readonly connAfter: number;
  private readonly seqPos: number;
  private readonly seqAfter: number;
  private readonly tPos: number;
  private readonly tAfter: number;
  // Ranges [start, end) of `base` outside the generated fields, split at the pad, for bodyMatches.
  private readonly staticStarts: Int32Array;
  private readonly staticEnds: Int32Array;
  private readonly staticAfterPad: Uint8Array;

  /** @throws RangeError listing the problems when the template is invalid (see `layoutTemplate`) */
  constructor(template: Record<string, unknown>) {
    const problems: string[] = [];
    const layout = layoutTemplate(template, 'template', problems);
    if (!layout) throw new RangeError(`invalid JSON template: ${problems.join('; ')}`);
    this.minBytes = layout.minBytes;
    this.hasPad = layout.hasPad;
    this.hasHeader = layout.fields.has('conn') && layout.fields.has('seq') && layout.fields.has('sentAtUs');
    const base = Buffer.allocUnsafe(layout.minBytes);
    const codes: number[] = [];
    const offsets: number[] = [];
    let pos = 0;
    let padPos = layout.minBytes;
    for (const s of layout.segments) {
      if (s.t === 'lit') pos += base.write(s.text, pos, 'utf8');
      else if (s.t === 'field') {
        const w = FIELD_WIDTHS[s.code]!;
        base.fill(DIGIT_0, pos, pos + w);
        codes.push(s.code);
        offsets.push(pos);
        pos += w;
      } else if (s.t === 'b64') {
        for (let i = 0; i < s.chars; i++) base[pos + i] = base64At(i, s.salt);
        pos += s.chars;
      } else padPos = pos;
    }
    this.base = base;
    this.padPos = padPos;
    this.fieldCodes = Uint8Array.from(codes);
    this.fieldOffsets = Int32Array.from(offsets);
    this.fieldAfterPad = Uint8Array.from(offsets.map((o) => (layout.hasPad && o >= padPos ? 1 : 0)));
    const first = (code: number) => codes.indexOf(code);
    const posOf = (code: number) => (first(code) < 0 ? -1 : offsets[first(code)]!);
    const afterOf = (code: number) => (first(code) < 0 ? 0 : this.fieldAfterPad[first(code)]!);
    this.connPos = posOf(CONN);
    this.connAfter = afterOf(CONN);
    this.seqPos = posOf(SEQ);
    this.seqAfter = afterOf(SEQ);
    this.tPos = posOf(SENT_AT);
    this.tAfter = afterOf(SENT_AT);
    // The static ranges are the gaps between generated fields; a gap holding the pad splits in two.
    const starts: number[] = [];
    const ends: number[] = [];
    const after: number[] = [];
    const addRange = (s: number, e: number) => {
      const cuts = layout.hasPad && s < padPos && padPos < e ? [[s, padPos], [padPos, e]] : [[s, e]];
      for (const [a, b] of cuts as [number, number][]) {
        if (b <= a) continue;
        starts.push(a);
        ends.push(b);
        after.push(layout.hasPad && a >= padPos ? 1 : 0);
      }
    };
    let cursor = 0;
    codes.forEach((code, i) => {
      addRange(cursor, offsets[i]!);
      cursor = offsets[i]! + FIELD_WIDTHS[code]!;
    });
    addRange(cursor, layout.minBytes);
    this.staticStarts = Int32Array.from(starts);
    this.staticEnds = Int32Array.from(ends);
    this.staticAfterPad = Uint8Array.from(after);
  }

  /** A message of exactly `sizeBytes` with the generated digits '0'. Allocates: setup only. */
  build(sizeBytes: number): Buffer {
    if (!this.fits(sizeBytes)) {
      throw new RangeError(
        this.hasPad
          ? `TemplateCodec.build: a message of this template must be an integer from ${this.minBytes} to ${MAX_PAYLOAD_BYTES} bytes, got ${sizeBytes}`
          : `TemplateCodec.build: this template has no {{pad}}, so its messages are ${this.minBytes} bytes, got ${sizeBytes}`,
      );
    }
    const padLen = sizeBytes - this.minBytes;
    const out = Buffer.allocUnsafe(sizeBytes);
    this.base.copy(out, 0, 0, this.padPos);
    if (padLen > 0) padReference(padLen).copy(out, this.padPos, 0, padLen);
    this.base.copy(out, this.padPos + padLen, this.padPos, this.minBytes);
    return out;
  }

  private fits(sizeBytes: number): boolean {
    return this.hasPad
      ? Number.isInteger(sizeBytes) && sizeBytes >= this.minBytes && sizeBytes <= MAX_PAYLOAD_BYTES
      : sizeBytes === this.minBytes;
  }

  private write(
    buf: Buffer, offset: number, sizeBytes: number, connId: number, seq: number, tUs: number,
    m0: number, m1: number, m2: number, m3: number,
  ): void {
    const shift = sizeBytes - this.minBytes;
    const n = this.fieldCodes.length;
    for (let i = 0; i < n; i++) {
      const pos = this.fieldOffsets[i]! + (this.fieldAfterPad[i] === 1 ? shift : 0);
      switch (this.fieldCodes[i]) {
        case CONN:
          writeDigits(buf, offset, pos, 10, connId, m0, m1, m2, m3);
          break;
        case SEQ:
          writeDigits(buf, offset, pos, 10, seq, m0, m1, m2, m3);
          break;
        case SENT_AT:
          writeDigits(buf, offset, pos, 16, Math.round(tUs), m0, m1, m2, m3);
          break;
        default:
          writeDigits(buf, offset, pos, 10, connId, m0, m1, m2, m3);
          writeDigits(buf, offset, pos + 10, 10, seq, m0, m1, m2, m3);
      }
    }
  }

  /**
   * Patches the generated fields of the message at `buf[offset, offset + sizeBytes)`. Hot path: no
   * allocation, no validation. Preconditions as payload.ts `writeHeader` (text): connId and seq
   * integers in [0, 2^32), tUs finite, ≥ 0 and < 1e16; sizeBytes the size the message was built with.
   */
  writeHeader(buf: Buffer, offset: number, sizeBytes: number, connId: number, seq: number, tUs: number): void {
    this.write(buf, offset, sizeBytes, connId, seq, tUs, 0, 0, 0, 0);
  }

  /** `writeHeader` into a payload masked once at build time; payload byte j is XOR-ed with maskKey[(keyPhase + j) & 3]. */
  writeHeaderMasked(
    buf: Buffer, offset: number, sizeBytes: number, connId: number, seq: number, tUs: number,
    maskKey: Uint8Array, keyPhase: number,
  ): void {
    this.write(
      buf, offset, sizeBytes, connId, seq, tUs,
      maskKey[keyPhase & 3]!, maskKey[(keyPhase + 1) & 3]!, maskKey[(keyPhase + 2) & 3]!, maskKey[(keyPhase + 3) & 3]!,
    );
  }

  /**
   * Reads conn, seq and sentAtUs back (the first field of each); a field the template lacks, a field
   * that is not all digits, or a size no message of this template has, reads as -1.
   */
  readHeader(buf: Buffer, offset: number, sizeBytes: number, out: PayloadHeader): PayloadHeader {
    if (!this.fits(sizeBytes) || offset < 0 || offset + sizeBytes > buf.length) {
      out.connId = -1;
      out.seq = -1;
      out.tUs = -1;
      return out;
    }
    const shift = sizeBytes - this.minBytes;
    out.connId = this.connPos < 0 ? -1 : readDigits(buf, offset + this.connPos + this.connAfter * shift, 10);
    out.seq = this.seqPos < 0 ? -1 : readDigits(buf, offset + this.seqPos + this.seqAfter * shift, 10);
    out.tUs = this.tPos < 0 ? -1 : readDigits(buf, offset + this.tPos + this.tAfter * shift, 16);
    return out;
  }

  /**
   * Corruption check: every byte of the message outside the patched digits equals the template's for
   * that size (JSON punctuation, literal values, base64 text, the pad). One memcmp per range between
   * generated fields, no allocation except growing the shared pad reference for a larger size.
   */
  bodyMatches(buf: Buffer, offset: number, sizeBytes: number): boolean {
    if (!this.fits(sizeBytes) || offset < 0 || offset + sizeBytes > buf.length) return false;
    const shift = sizeBytes - this.minBytes;
    const base = this.base;
    const n = this.staticStarts.length;
    for (let i = 0; i < n; i++) {
      const s = this.staticStarts[i]!;
      const e = this.staticEnds[i]!;
      const at = offset + (this.staticAfterPad[i] === 1 ? shift : 0);
      if (base.compare(buf, at + s, at + e, s, e) !== 0) return false;
    }
    if (shift > 0 && padReference(shift).compare(buf, offset + this.padPos, offset + this.padPos + shift, 0, shift) !== 0) {
      return false;
    }
    return true;
  }
}

/** Which header fields a template generates (an invalid template generates none). */
export function templateFields(template: unknown): ReadonlySet<HeaderField> {
  return layoutTemplate(template, 'template', [])?.fields ?? new Set();
}
