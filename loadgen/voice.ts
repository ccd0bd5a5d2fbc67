// The voice model's per-worker driver: which audio event ends a turn, and
// what the reply events of each turn say (loadgen/models/voice.ts, types.ts
// VoiceModel). The Worker owns the sockets and the open-loop schedule; this
// file owns the turns and the reply bookkeeping, so it can be tested by feeding
// it the upstream's own reply text (upstream/events.ts) with chosen arrival times.
//
// Replies are read without JSON.parse: the upstream writes their fields in a
// fixed order, so the parser walks the message comparing the pre-built field
// names at the cursor and reading the digits between them, and checks the
// audio with one memcmp against the base64 the upstream sends in every chunk.
// Nothing is allocated per event; one small object per turn.
import { audioBase64, RESPONSE_CREATE } from '../upstream/events.js';
import { codecFor, type PayloadCodec } from './codec.js';
import { createLatencyHistogram, encodeHistogram, LatencyRecorder, LOWEST_US } from './histogram.js';
import type { VoiceModel, VoiceResult } from './types.js';

/** A turn id is 20 digits: the connection id in 10, then the session's turn number (1, 2, …) in 10. */
export const TURN_ID_CONN_DIGITS = 10;
export const TURN_ID_TURN_DIGITS = 10;
const TURN_ID_DIGITS = TURN_ID_CONN_DIGITS + TURN_ID_TURN_DIGITS;

/** The session id connection `connId` gives /relay (`?session=`), which the upstream writes back into every reply. */
export function sessionIdOf(connId: number): string {
  return `s${connId}`;
}

/** The turn id of a session's `turn`-th response.create (what `{{id}}` makes of connection id and seq). */
export function turnIdOf(connId: number, turn: number): string {
  return String(connId).padStart(TURN_ID_CONN_DIGITS, '0') + String(turn).padStart(TURN_ID_TURN_DIGITS, '0');
}

/**
 * The control event that ends a turn. Sent through its own codec with seq = the turn number, so `{{id}}` makes
 * the turn id `turnIdOf(connId, turn)`: the reply events carry it back and name their session's turn.
 */
export const CONTROL_TEMPLATE = { type: RESPONSE_CREATE, turn_id: '{{id}}' };

/** What a worker sends its coordinator about the voice model: VoiceResult without the summaries, which are built after merging. */
export type VoicePart = Omit<VoiceResult, 'firstChunk' | 'relayOverhead' | 'jitter'> & {
  /** Reply events of a known turn that had already arrived. */
  duplicated: number;
  /** Chunks that arrived after a later chunk of the same turn. */
  outOfOrder: number;
};

// ---- reply parsing ----------------------------------------------------------

/** The fields of one reply event; filled in place by `parseReply`. Times are epoch µs. */
export interface ReplyFields {
  /** response.done (true) or response.audio.delta (false). */
  done: boolean;
  /** The connection id in the `session` field (`s<id>`). */
  sessionConnId: number;
  /** The connection id and turn number in the `turn` field. */
  turnConnId: number;
  turn: number;
  /** Chunk position in the turn (deltas); the turn's chunk count (done). */
  seq: number;
  latencyMs: number;
  requestedAtUs: number;
  sentAtUs: number;
  /** Deltas: the base64 audio is buf[audioStart, audioEnd). */
  audioStart: number;
  audioEnd: number;
}

export function emptyReplyFields(): ReplyFields {
  return { done: false, sessionConnId: -1, turnConnId: -1, turn: -1, seq: -1, latencyMs: -1, requestedAtUs: -1, sentAtUs: -1, audioStart: 0, audioEnd: 0 };
}

// Field names as the upstream writes them (upstream/events.ts formatDelta, formatDone), in order.
const DELTA_HEAD = Buffer.from('{"type":"response.audio.delta","session":"s');
const DONE_HEAD = Buffer.from('{"type":"response.done","session":"s');
const TURN = Buffer.from('","turn":"');
const SEQ = Buffer.from('","seq":');
const CHUNKS = Buffer.from('","chunks":');
const LATENCY = Buffer.from(',"latencyMs":');
const REQUESTED = Buffer.from(',"requestedAtUs":');
const SENT = Buffer.from(',"sentAtUs":');
const DELTA = Buffer.from(',"delta":"');
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;
const DIGIT_0 = 0x30;
/** Epoch µs have 16 digits; more could not be read exactly as a double. */
const MAX_NUMBER_DIGITS = 16;

// The parser's cursor: module state instead of a returned pair, so reading a number allocates nothing.
let cursor = 0;

function at(buf: Buffer, end: number, needle: Buffer): boolean {
  const stop = cursor + needle.length;
  if (stop > end || needle.compare(buf, cursor, stop) !== 0) return false;
  cursor = stop;
  return true;
}

/** Reads 1..16 decimal digits at the cursor; -1 when there are none or too many. */
function number(buf: Buffer, end: number): number {
  let v = 0;
  const start = cursor;
  while (cursor < end) {
    const d = buf[cursor]! - DIGIT_0;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    cursor++;
  }
  const n = cursor - start;
  return n === 0 || n > MAX_NUMBER_DIGITS ? -1 : v;
}

/** Reads exactly `width` digits at the cursor; -1 when any is not a digit. */
function fixedDigits(buf: Buffer, end: number, width: number): number {
  if (cursor + width > end) return -1;
  let v = 0;
  for (let i = 0; i < width; i++) {
    const d = buf[cursor + i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  cursor += width;
  return v;
}

/**
 * Parses the reply event in `buf[start, end)` into `out`. False when it is not a
 * response.audio.delta or response.done in the upstream's field order, with a
 * session of the form `s<digits>` and a 20-digit turn id (a foreign or damaged
 * event). The audio itself is not checked here, only located.
 */
export function parseReply(buf: Buffer, start: number, end: number, out: ReplyFields): boolean {
  cursor = start;
  if (at(buf, end, DELTA_HEAD)) out.done = false;
  else if (at(buf, end, DONE_HEAD)) out.done = true;
  else return false;
  out.sessionConnId = number(buf, end);
  if (out.sessionConnId < 0 || !at(buf, end, TURN)) return false;
  out.turnConnId = fixedDigits(buf, end, TURN_ID_CONN_DIGITS);
  out.turn = fixedDigits(buf, end, TURN_ID_TURN_DIGITS);
  if (out.turn < 0 || out.turnConnId < 0 || !at(buf, end, out.done ? CHUNKS : SEQ)) return false;
  out.seq = number(buf, end);
  if (out.seq < 0 || !at(buf, end, LATENCY)) return false;
  out.latencyMs = number(buf, end);
  if (out.latencyMs < 0 || !at(buf, end, REQUESTED)) return false;
  out.requestedAtUs = number(buf, end);
  if (out.requestedAtUs < 0 || !at(buf, end, SENT)) return false;
  out.sentAtUs = number(buf, end);
  if (out.sentAtUs < 0) return false;
  if (out.done) return buf[end - 1] === CLOSE_BRACE;
  if (!at(buf, end, DELTA) || end - cursor < 2 || buf[end - 2] !== QUOTE || buf[end - 1] !== CLOSE_BRACE) return false;
  out.audioStart = cursor;
  out.audioEnd = end - 2;
  return true;
}

// ---- turns --------------------------------------------------------------------

class Turn {
  /** Reply events seen: index = chunk seq, the last slot = response.done. */
  readonly seen: Uint8Array;
  firstArrivalUs = -1;
  lastArrivalUs = 0;
  lastSentAtUs = 0;
  highestSeq = -1;
  /** Replies still owed (chunks + done); the turn is released when none is. */
  owed: number;

  constructor(
    /** Intended send time of the response.create: the user-visible first-chunk time counts from here. */
    readonly triggerUs: number,
    /** When it actually left (≥ triggerUs): the relay's share counts from here, so the generator's lateness is not the server's. */
    readonly triggerSentUs: number,
    readonly inWindow: boolean,
    chunks: number,
  ) {
    this.seen = new Uint8Array(chunks + 1);
    this.owed = chunks + 1;
  }
}

class Session {
  /** turns[n - 1] is turn n; undefined once every reply of it arrived (memory stays bounded by what is outstanding). */
  readonly turns: (Turn | undefined)[] = [];
  /** Triggered turns whose response.done has not arrived. */
  pendingTurns = 0;
}

/**
 * One worker's voice sessions (connection ids [firstConnId, firstConnId + connections)).
 *
 * Sending: the Worker calls `afterAudio` after each audio event; every
 * `framesPerTurn`-th call returns the turn number the Worker then sends a
 * response.create for, at the same intended time, which becomes the turn's
 * trigger time. Receiving: `onReply` with the arrival time of the read.
 *
 * Only turns triggered inside [measureStartUs, measureEndUs) are measured and
 * counted; the others run the same code into scratch recorders (warmup keeps the
 * JIT honest). Sends are counted by intended time inside the window.
 */
export class VoiceDriver {
  readonly framesPerTurn: number;
  readonly chunks: number;
  /** The base64 audio of every reply chunk, as the upstream encodes it. */
  readonly expectedAudio: Buffer;
  readonly firstConnId: number;
  /** The response.create event: built once, patched in place per turn by the transport. */
  readonly controlCodec: PayloadCodec = codecFor({ kind: 'json', template: CONTROL_TEMPLATE });
  readonly controlTemplate: Buffer = this.controlCodec.build(this.controlCodec.minBytes);
  measureStartUs = Number.NEGATIVE_INFINITY;
  measureEndUs = Number.POSITIVE_INFINITY;
  private readonly sessions: Session[] = [];
  private readonly firstChunkRec = new LatencyRecorder();
  private readonly overheadRec = new LatencyRecorder();
  private readonly jitterRec = new LatencyRecorder();
  /** Everything of turns outside the window: recorded and thrown away. */
  private readonly scratchRec = new LatencyRecorder();
  private readonly fields = emptyReplyFields();
  audioEventsSent = 0;
  controlEventsSent = 0;
  turnsTriggered = 0;
  turnsCompleted = 0;
  repliesExpected = 0;
  repliesReceived = 0;
  repliesCorrupted = 0;
  duplicated = 0;
  outOfOrder = 0;

  constructor(model: VoiceModel, firstConnId: number, connections: number) {
    this.framesPerTurn = model.framesPerTurn;
    this.chunks = model.upstream.chunks;
    this.expectedAudio = Buffer.from(audioBase64(model.upstream.chunkAudioBytes, model.upstream.seed), 'latin1');
    this.firstConnId = firstConnId;
    for (let i = 0; i < connections; i++) this.sessions.push(new Session());
  }

  setWindow(measureStartUs: number, measureEndUs: number): void {
    this.measureStartUs = measureStartUs;
    this.measureEndUs = measureEndUs;
  }

  private inWindow(tUs: number): boolean {
    return tUs >= this.measureStartUs && tUs < this.measureEndUs;
  }

  /**
   * The session `connId` has sent its `audioSent`-th audio event (counted from 1), intended at `tUs` and
   * handed to the socket at `sentUs` (clock read only when a turn ends). Returns the number of the turn to
   * trigger now (its response.create is registered as intended at `tUs`), or 0.
   */
  afterAudio(connId: number, audioSent: number, tUs: number, sentUs: () => number = () => tUs): number {
    const inWindow = this.inWindow(tUs);
    if (inWindow) this.audioEventsSent++;
    if (audioSent % this.framesPerTurn !== 0) return 0;
    const turn = audioSent / this.framesPerTurn;
    const s = this.sessions[connId - this.firstConnId]!;
    s.turns[turn - 1] = new Turn(tUs, Math.max(tUs, sentUs()), inWindow, this.chunks);
    s.pendingTurns++;
    if (inWindow) {
      this.controlEventsSent++;
      this.turnsTriggered++;
      this.repliesExpected += this.chunks + 1;
    }
    return turn;
  }

  /** Triggered turns of `connId` still waiting for their response.done. */
  pendingTurns(connId: number): number {
    return this.sessions[connId - this.firstConnId]?.pendingTurns ?? 0;
  }

  /** A text message from the relay on connection `connId`, read at `arrivalUs` (epoch µs). */
  onReply(connId: number, buf: Buffer, start: number, end: number, arrivalUs: number): void {
    const f = this.fields;
    const s = this.sessions[connId - this.firstConnId];
    if (s === undefined || !parseReply(buf, start, end, f) || f.sessionConnId !== connId || f.turnConnId !== connId) {
      // Damaged, or meant for another session (cross-talk): no turn of ours can own it.
      this.corruptedUnowned(arrivalUs);
      return;
    }
    const t = f.turn >= 1 ? s.turns[f.turn - 1] : undefined;
    if (t === undefined) {
      // Released turns had every reply already: another one is a duplicate. Never triggered: not ours.
      if (f.turn >= 1 && f.turn <= s.turns.length) {
        if (this.inWindow(arrivalUs)) this.duplicated++;
      } else this.corruptedUnowned(arrivalUs);
      return;
    }
    const inWindow = t.inWindow;
    const slot = f.done ? this.chunks : f.seq;
    if (!f.done && f.seq >= this.chunks) {
      if (inWindow) this.repliesCorrupted++;
      return;
    }
    if (t.seen[slot] !== 0) {
      if (inWindow) this.duplicated++;
      return;
    }
    t.seen[slot] = 1;
    if (inWindow) this.repliesReceived++;
    if (f.done) {
      s.pendingTurns--;
      if (inWindow) this.turnsCompleted++;
    } else this.onChunk(t, f, buf, arrivalUs);
    if (--t.owed === 0) s.turns[f.turn - 1] = undefined;
  }

  private onChunk(t: Turn, f: ReplyFields, buf: Buffer, arrivalUs: number): void {
    const inWindow = t.inWindow;
    const audio = this.expectedAudio;
    const audioOk = f.audioEnd - f.audioStart === audio.length && audio.compare(buf, f.audioStart, f.audioEnd) === 0;
    if (inWindow) {
      if (!audioOk) this.repliesCorrupted++;
      if (f.seq < t.highestSeq) this.outOfOrder++;
    }
    if (f.seq > t.highestSeq) t.highestSeq = f.seq;
    if (t.firstArrivalUs < 0) {
      t.firstArrivalUs = arrivalUs;
      const firstChunkUs = arrivalUs - t.triggerUs;
      (inWindow ? this.firstChunkRec : this.scratchRec).record(firstChunkUs);
      // Relay in (trigger left → upstream had it) plus relay out (first chunk sent → here), both on one machine's
      // clock. Not firstChunk − latencyMs: the upstream's timer counts from libuv's cached loop time and fires up
      // to ~1 ms early or late, which would swamp the relay's few hundred µs.
      (inWindow ? this.overheadRec : this.scratchRec).record(f.requestedAtUs - t.triggerSentUs + (arrivalUs - f.sentAtUs));
    } else {
      const jitterUs = Math.abs(arrivalUs - t.lastArrivalUs - (f.sentAtUs - t.lastSentAtUs));
      // Times are whole µs on the upstream's side: a jitter under 1 µs is below resolution, not out of range.
      (inWindow ? this.jitterRec : this.scratchRec).record(jitterUs < LOWEST_US ? LOWEST_US : jitterUs);
    }
    t.lastArrivalUs = arrivalUs;
    t.lastSentAtUs = f.sentAtUs;
  }

  private corruptedUnowned(arrivalUs: number): void {
    // Warmup arrivals are outside what is reported; the drain's are not (they answer turns of the window).
    if (arrivalUs >= this.measureStartUs) this.repliesCorrupted++;
  }

  /** What this worker measured, histograms encoded for the coordinator. */
  result(): VoicePart {
    const encode = (rec: LatencyRecorder) => {
      const h = createLatencyHistogram();
      rec.flushInto(h);
      return encodeHistogram(h);
    };
    return {
      firstChunkEncoded: encode(this.firstChunkRec),
      relayOverheadEncoded: encode(this.overheadRec),
      jitterEncoded: encode(this.jitterRec),
      audioEventsSent: this.audioEventsSent,
      controlEventsSent: this.controlEventsSent,
      turnsTriggered: this.turnsTriggered,
      turnsCompleted: this.turnsCompleted,
      repliesExpected: this.repliesExpected,
      repliesReceived: this.repliesReceived,
      repliesCorrupted: this.repliesCorrupted,
      duplicated: this.duplicated,
      outOfOrder: this.outOfOrder,
    };
  }
}
