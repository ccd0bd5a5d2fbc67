// Delivery accounting: did every message arrive, once, in order, intact?
//
// Messages are counted per stream, a stream being one (sender connection →
// receiver connection) pair: in echo each connection receives its own
// stream; in broadcast each receiver gets one stream per publisher. The
// sender numbers its messages 0, 1, 2, ... (the payload's `seq`), so a
// receiver can tell duplicates and reordering from the numbers alone, and
// losses once it is told how many each sender sent.
//
// Cost per message: one Map lookup (skipped when the same stream repeats, as
// in echo, or when the caller holds the stream from `stream()`), a few
// compares and one bit set. Memory per stream: `windowSeqs / 8` bytes of
// bitset (128 B by default) plus ~100 B of object, independent of how many
// messages the stream carries. Exactness holds as long as no message arrives
// more than `windowSeqs` sequence numbers behind the highest one seen on its
// stream; one that does is counted in `beyondWindow` (it cannot be told apart
// from a duplicate) instead of being guessed at.

/** Default reorder window per stream, in sequence numbers (a power of two). */
export const DEFAULT_WINDOW_SEQS = 1024;

/**
 * Per-stream state. Fields are counts of messages. Exposed so a connection
 * can hold its own stream and call `recordDelivery` without a lookup.
 */
export class StreamState {
  /** Highest sequence number seen, -1 before the first message. */
  highestSeq = -1;
  /** Lowest sequence number seen (beyond-window arrivals aside), -1 before the first message. */
  lowestSeq = -1;
  /** Every arrival, duplicates and corrupted ones included. */
  received = 0;
  /** Arrivals of a sequence number already seen (within the window). */
  duplicated = 0;
  /** First arrivals of a sequence number below the highest already seen. */
  outOfOrder = 0;
  /** Arrivals whose body did not match the template (see payload `bodyMatches`). */
  corrupted = 0;
  /** Arrivals more than the window behind `highestSeq`: new or duplicate, unknowable. */
  beyondWindow = 0;
  /** Bit (seq mod window) is set when seq in (highestSeq − window, highestSeq] was seen. */
  readonly seen: Uint32Array;
  readonly windowMask: number;

  constructor(readonly senderConnId: number, readonly receiverConnId: number, windowSeqs: number) {
    this.seen = new Uint32Array(windowSeqs >>> 5);
    this.windowMask = windowSeqs - 1;
  }
}

/**
 * Records one arrival on a stream. `seq` must be an integer in [0, 2^32);
 * `bodyOk` is the result of the payload's `bodyMatches`. A corrupted message
 * is still accounted by its sequence number (its header is trusted: the
 * filler check cannot cover it). No allocation.
 */
export function recordDelivery(stream: StreamState, seq: number, bodyOk: boolean): void {
  stream.received++;
  if (!bodyOk) stream.corrupted++;
  const seen = stream.seen;
  const mask = stream.windowMask;
  const highest = stream.highestSeq;
  if (seq > highest) {
    if (highest < 0) stream.lowestSeq = seq;
    // The slots for highest+1 .. seq now stand for new sequence numbers:
    // clear what they held for numbers a window ago.
    const gap = seq - highest;
    if (gap > mask) {
      seen.fill(0);
    } else {
      for (let s = highest + 1; s < seq; s++) seen[(s & mask) >>> 5]! &= ~(1 << (s & 31));
    }
    seen[(seq & mask) >>> 5]! |= 1 << (seq & 31);
    stream.highestSeq = seq;
    return;
  }
  if (highest - seq > mask) {
    stream.beyondWindow++;
    return;
  }
  const word = (seq & mask) >>> 5;
  const bit = 1 << (seq & 31);
  if ((seen[word]! & bit) !== 0) {
    stream.duplicated++;
  } else {
    seen[word]! |= bit;
    stream.outOfOrder++;
    if (seq < stream.lowestSeq) stream.lowestSeq = seq;
  }
}

/** Totals over the streams a `DeliveryAccounting` was told to expect. All counts are messages. */
export interface DeliveryTotals {
  /** Σ over expected streams of what their sender sent (echo: = sent; broadcast: sent × recipients). */
  expected: number;
  /** Every arrival, including duplicates, corrupted, unexpected and unattributable ones. */
  received: number;
  /** Expected messages that never arrived: Σ max(0, sent − distinct received) per expected stream. */
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Arrivals whose body failed the template check (unattributable ones included). */
  corrupted: number;
  /** Arrivals too far behind to classify; treated as distinct when computing `lost`. */
  beyondWindow: number;
  /**
   * Arrivals nobody expected: on a stream not in the expectations (a
   * misrouted message), or beyond what the sender sent on an expected stream.
   */
  unexpected: number;
  /** Arrivals whose header could not be read (negative or non-integer id or seq). */
  unattributable: number;
  /** Expected streams that lost at least one message (how concentrated the loss is). */
  streamsWithLoss: number;
}

/**
 * The member streams of one sender whose sent count is not known where they were received: a broadcast
 * publisher in another load segment (loadgen/segment.ts), whose count only the merge of the segments' results
 * knows. Everything that does not depend on that count (received, duplicated, out of order, corrupted, beyond
 * the window; and arrivals on streams to non-members, which are misdelivered whatever was sent) was counted
 * where they arrived; this keeps what `finish` needs to count the rest, compactly: the distinct counts of the
 * members' streams as a multiset, not one entry per stream.
 */
export interface DeferredStreams {
  sender: number;
  /** Every arrival on these member streams, duplicates included (all unexpected if the sender turns out to have sent nothing). */
  received: number;
  /** Members for the whole run: [distinct messages received, members with that count]; a member that heard nothing has 0. */
  whole: [number, number][];
  /** Members for part of the run (churn) that heard the sender: [lowest seq, highest seq, distinct, members]; the others are owed nothing. */
  partial: [number, number, number, number][];
}

/** What deferred streams add to the totals once every sender's count is known (resolveDeferred). */
export type ResolvedTotals = Pick<DeliveryTotals, 'expected' | 'lost' | 'unexpected' | 'streamsWithLoss'>;

/**
 * Completes deferred streams against every sender's sent count, exactly as `finish` would have with the count
 * at hand: a whole-run member is owed everything sent, a part-time member from its lowest to its highest
 * sequence number seen (within what was sent); a sender missing from `sentBySender` sent nothing, so every
 * arrival from it was unexpected. Pure; sums over any split of the entries.
 */
export function resolveDeferred(entries: readonly DeferredStreams[], sentBySender: ReadonlyMap<number, number>): ResolvedTotals {
  const t: ResolvedTotals = { expected: 0, lost: 0, unexpected: 0, streamsWithLoss: 0 };
  const add = (owed: number, distinct: number, members: number) => {
    t.expected += owed * members;
    if (distinct < owed) {
      t.lost += (owed - distinct) * members;
      t.streamsWithLoss += members;
    } else t.unexpected += (distinct - owed) * members;
  };
  for (const e of entries) {
    const sent = sentBySender.get(e.sender);
    if (sent === undefined) {
      t.unexpected += e.received;
      continue;
    }
    for (const [distinct, members] of e.whole) add(sent, distinct, members);
    for (const [lowest, highest, distinct, members] of e.partial) add(lowest >= sent ? 0 : Math.min(highest, sent - 1) - lowest + 1, distinct, members);
  }
  return t;
}

/** Sums totals, e.g. over workers that each accounted for their own receivers. */
export function sumDeliveryTotals(list: readonly DeliveryTotals[]): DeliveryTotals {
  const out = emptyTotals();
  for (const t of list) {
    for (const k of Object.keys(out) as (keyof DeliveryTotals)[]) out[k] += t[k];
  }
  return out;
}

function emptyTotals(): DeliveryTotals {
  return {
    expected: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0, corrupted: 0,
    beyondWindow: 0, unexpected: 0, unattributable: 0, streamsWithLoss: 0,
  };
}

/**
 * Delivery accounting for the receivers of one worker (or any set of
 * receivers): record every arrival, then `finish` with what was sent.
 */
export class DeliveryAccounting {
  readonly windowSeqs: number;
  /** receiver → sender → stream. */
  private readonly byReceiver = new Map<number, Map<number, StreamState>>();
  private unattributable = 0;
  private unattributableCorrupted = 0;
  // One-entry cache: echo, and bursts from one publisher, hit it every time.
  private last: StreamState | undefined;

  /**
   * @param windowSeqs reorder window per stream in sequence numbers: a power
   *   of two ≥ 32 (default `DEFAULT_WINDOW_SEQS`); memory is windowSeqs / 8 bytes per stream
   * @throws RangeError on another window size
   */
  constructor(windowSeqs = DEFAULT_WINDOW_SEQS) {
    if (!Number.isInteger(windowSeqs) || windowSeqs < 32 || windowSeqs > 2 ** 30 || (windowSeqs & (windowSeqs - 1)) !== 0) {
      throw new RangeError(`DeliveryAccounting: windowSeqs must be a power of two from 32 to 2^30, got ${windowSeqs}`);
    }
    this.windowSeqs = windowSeqs;
  }

  /** The stream from `senderConnId` to `receiverConnId`, created on first use (allocates once per stream). */
  stream(senderConnId: number, receiverConnId: number): StreamState {
    const last = this.last;
    if (last !== undefined && last.senderConnId === senderConnId && last.receiverConnId === receiverConnId) return last;
    let senders = this.byReceiver.get(receiverConnId);
    if (senders === undefined) {
      senders = new Map();
      this.byReceiver.set(receiverConnId, senders);
    }
    let s = senders.get(senderConnId);
    if (s === undefined) {
      s = new StreamState(senderConnId, receiverConnId, this.windowSeqs);
      senders.set(senderConnId, s);
    }
    this.last = s;
    return s;
  }

  /**
   * Records one arrival: `senderConnId` and `seq` from the payload header,
   * `receiverConnId` the connection it arrived on, `bodyOk` from
   * `bodyMatches`. A negative or non-integer sender id or seq (an unreadable
   * text header reads as -1) is counted as unattributable instead.
   * @returns true for the first arrival of an attributable message (not a duplicate)
   */
  record(senderConnId: number, receiverConnId: number, seq: number, bodyOk: boolean): boolean {
    if (!(senderConnId >= 0 && seq >= 0 && Number.isInteger(senderConnId) && Number.isInteger(seq))) {
      this.unattributable++;
      if (!bodyOk) this.unattributableCorrupted++;
      return false;
    }
    const s = this.stream(senderConnId, receiverConnId);
    const before = s.duplicated;
    recordDelivery(s, seq, bodyOk);
    return s.duplicated === before;
  }

  /**
   * Totals against what was sent. `sentBySender` maps each sender to the
   * number of messages it sent (seq 0 .. n−1). `recipientsOf(sender)` lists
   * the receivers this instance accounts for that should have received
   * every one of them: omit it for echo (each sender is its own only
   * recipient); for broadcast pass the local members of the sender's room
   * (including the sender when the server publishes to itself). Streams not
   * named here count as `unexpected`. Does not modify the state.
   *
   * `isPartial(receiver)` marks receivers that were members for part of the
   * run only (broadcast churn: joined or left while messages flowed). Their
   * streams are checked inside the membership: from the lowest to the
   * highest sequence number received, gaps count as lost; a sender they
   * heard nothing from is expected nothing, since where the membership
   * began and ended is not known to the message.
   *
   * `deferred` senders (not in `sentBySender`: their counts are known only
   * elsewhere, see `deferStreams`) leave their member streams out of
   * `unexpected`; their arrivals still count in received and the rest.
   */
  finish(
    sentBySender: ReadonlyMap<number, number>,
    recipientsOf: (senderConnId: number) => Iterable<number> = (s) => [s],
    isPartial?: (receiverConnId: number) => boolean,
    deferred?: Iterable<number>,
  ): DeliveryTotals {
    const t = emptyTotals();
    const expectedStreams = new Set<StreamState>();
    for (const sender of deferred ?? []) {
      for (const receiver of recipientsOf(sender)) {
        const s = this.byReceiver.get(receiver)?.get(sender);
        if (s !== undefined) expectedStreams.add(s);
      }
    }
    for (const [sender, sentCount] of sentBySender) {
      for (const receiver of recipientsOf(sender)) {
        const s = this.byReceiver.get(receiver)?.get(sender);
        const distinct = s === undefined ? 0 : s.received - s.duplicated;
        if (s !== undefined) expectedStreams.add(s);
        let owed = sentCount;
        if (isPartial !== undefined && isPartial(receiver)) {
          // Sequence numbers at or beyond sentCount are not owed: they count as unexpected below.
          owed = s === undefined || s.lowestSeq >= sentCount ? 0 : Math.min(s.highestSeq, sentCount - 1) - s.lowestSeq + 1;
        }
        t.expected += owed;
        if (distinct < owed) {
          t.lost += owed - distinct;
          t.streamsWithLoss++;
        } else {
          t.unexpected += distinct - owed;
        }
      }
    }
    for (const senders of this.byReceiver.values()) {
      for (const s of senders.values()) {
        t.received += s.received;
        t.duplicated += s.duplicated;
        t.outOfOrder += s.outOfOrder;
        t.corrupted += s.corrupted;
        t.beyondWindow += s.beyondWindow;
        if (!expectedStreams.has(s)) t.unexpected += s.received;
      }
    }
    t.received += this.unattributable;
    t.corrupted += this.unattributableCorrupted;
    t.unattributable = this.unattributable;
    return t;
  }

  /**
   * The member streams of `senders` whose counts are not known here, kept for `resolveDeferred` (pass the
   * same senders to `finish` as `deferred`). `recipientsOf` and `isPartial` as for `finish`. Senders without
   * a member here are left out: they are owed nothing here. Does not modify the state.
   */
  deferStreams(
    senders: Iterable<number>,
    recipientsOf: (senderConnId: number) => Iterable<number>,
    isPartial?: (receiverConnId: number) => boolean,
  ): DeferredStreams[] {
    const out: DeferredStreams[] = [];
    for (const sender of senders) {
      const whole = new Map<number, number>();
      const partial = new Map<string, [number, number, number, number]>();
      let received = 0;
      let members = 0;
      for (const receiver of recipientsOf(sender)) {
        members++;
        const s = this.byReceiver.get(receiver)?.get(sender);
        const distinct = s === undefined ? 0 : s.received - s.duplicated;
        if (s !== undefined) received += s.received;
        if (isPartial !== undefined && isPartial(receiver)) {
          if (s === undefined) continue;
          const key = `${s.lowestSeq}:${s.highestSeq}:${distinct}`;
          const e = partial.get(key);
          if (e) e[3]++;
          else partial.set(key, [s.lowestSeq, s.highestSeq, distinct, 1]);
        } else whole.set(distinct, (whole.get(distinct) ?? 0) + 1);
      }
      if (members === 0) continue;
      out.push({ sender, received, whole: [...whole].sort((a, b) => a[0] - b[0]), partial: [...partial.values()] });
    }
    return out;
  }
}
