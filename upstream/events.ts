/**
 * The upstream's wire format: the control events it reacts to, the reply
 * events it sends, the audio blob they carry and the digest of what it
 * received. Pure and shared with the tests, which rebuild every reply byte for
 * byte from its parsed fields to prove that a relay changed nothing.
 */

/** Client control event that ends a turn: `{"type":"response.create"}`, optionally with `"turn_id":"<string>"`. */
export const RESPONSE_CREATE = 'response.create';
/**
 * Client control event asking the upstream to close this session with a
 * close code: `{"type":"upstream.close","code":4000}` (1000 or 3000–4999).
 * It stands in for a model service ending a session; tests use it to check
 * how relays pass an upstream close on.
 */
export const UPSTREAM_CLOSE = 'upstream.close';
/** One reply chunk. */
export const AUDIO_DELTA = 'response.audio.delta';
/** The end of a turn's reply, after its last chunk. */
export const RESPONSE_DONE = 'response.done';

export type ControlEvent = { type: 'response.create'; turnId: string | undefined } | { type: 'upstream.close'; code: number };

/** Both control event types appear as quoted strings; base64 audio contains neither `"` nor `.`, so audio events never match. */
const CONTROL_MARKERS = [Buffer.from(`"${RESPONSE_CREATE}"`), Buffer.from(`"${UPSTREAM_CLOSE}"`)];

/**
 * The control event in a text message, or undefined. Only messages that
 * contain a marker are parsed, so audio events cost one substring search and
 * no JSON.parse.
 */
export function controlEventOf(data: Buffer): ControlEvent | undefined {
  if (!CONTROL_MARKERS.some((marker) => data.includes(marker))) return undefined;
  let event: unknown;
  try {
    event = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const fields = event as Record<string, unknown>;
  if (fields['type'] === RESPONSE_CREATE) {
    const turnId = fields['turn_id'];
    return { type: RESPONSE_CREATE, turnId: typeof turnId === 'string' ? turnId : undefined };
  }
  if (fields['type'] === UPSTREAM_CLOSE) {
    const code = fields['code'];
    const valid = typeof code === 'number' && (code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999));
    return { type: UPSTREAM_CLOSE, code: valid ? code : 1000 };
  }
  return undefined;
}

/** Wall-clock time in epoch µs at sub-ms resolution, comparable across processes on one machine. */
export function epochUs(): number {
  return Math.round(performance.timeOrigin * 1000 + performance.now() * 1000);
}

export interface DeltaFields {
  session: string;
  turn: string;
  /** 0-based position in the turn's burst. */
  seq: number;
  /** The think time drawn for this turn, as scheduled (whole ms). */
  latencyMs: number;
  /** When the upstream received the turn's trigger, epoch µs. */
  requestedAtUs: number;
  /** When the upstream sent this event, epoch µs. */
  sentAtUs: number;
}

/** One reply chunk as JSON text; the field order is fixed, so tests can rebuild it exactly. */
export function formatDelta(f: DeltaFields, audioBase64: string): string {
  return (
    `{"type":"${AUDIO_DELTA}","session":${JSON.stringify(f.session)},"turn":${JSON.stringify(f.turn)},"seq":${f.seq}` +
    `,"latencyMs":${f.latencyMs},"requestedAtUs":${f.requestedAtUs},"sentAtUs":${f.sentAtUs},"delta":"${audioBase64}"}`
  );
}

export interface DoneFields {
  session: string;
  turn: string;
  /** Chunks in the burst (sent or dropped under backpressure). */
  chunks: number;
  latencyMs: number;
  requestedAtUs: number;
  sentAtUs: number;
  /** Messages and bytes this session had received when the turn was triggered (the trigger included). */
  eventsReceived: number;
  bytesReceived: number;
  /** digestMessage over every message received up to the trigger, as 8 hex digits; null unless `verify` is on. */
  digest: string | null;
}

export function formatDone(f: DoneFields): string {
  return (
    `{"type":"${RESPONSE_DONE}","session":${JSON.stringify(f.session)},"turn":${JSON.stringify(f.turn)},"chunks":${f.chunks}` +
    `,"latencyMs":${f.latencyMs},"requestedAtUs":${f.requestedAtUs},"sentAtUs":${f.sentAtUs}` +
    `,"eventsReceived":${f.eventsReceived},"bytesReceived":${f.bytesReceived},"digest":${f.digest === null ? 'null' : `"${f.digest}"`}}`
  );
}

/**
 * The audio every reply chunk carries: `bytes` bytes of a deterministic
 * PCM16-like waveform (from `seed`), base64-encoded once at start so that a
 * chunk costs a string concatenation, not an encoding.
 */
export function audioBase64(bytes: number, seed: number): string {
  const buf = Buffer.alloc(bytes);
  let state = (seed >>> 0) || 1;
  for (let i = 0; i < bytes; i++) {
    // xorshift32: cheap noise; the content only has to be fixed and non-trivial.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    buf[i] = state & 0xff;
  }
  return buf.toString('base64');
}

export const DIGEST_START = 0x811c9dc5;

/**
 * FNV-1a (32-bit) over one message framed as [opcode byte (1 text, 2 binary),
 * length as 4 bytes big-endian, payload], continuing from `hash`. Framing each
 * message makes the digest see boundaries and opcodes, not only bytes.
 */
export function digestMessage(hash: number, data: Uint8Array, isBinary: boolean): number {
  const length = data.length;
  const header = [isBinary ? 2 : 1, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
  let h = hash;
  for (const byte of header) h = Math.imul(h ^ byte, 0x01000193);
  for (let i = 0; i < length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

export function formatDigest(hash: number): string {
  return (hash >>> 0).toString(16).padStart(8, '0');
}
