import { BenchError } from '../base/errors.js';
import { intersect, type IdRange } from './id-range.js';
import { modelOf } from './models/index.js';
import type { LoadPlan } from './types.js';

// The load models import intersect from id-range.ts, not from here: this module imports the model registry, so
// a model importing it would be a cycle that breaks when a model is the first module loaded.
export { intersect, type IdRange };

/**
 * Load segments: one scenario cut into N parts that separate processes (or Kubernetes pods, or network
 * namespaces) run at the same time, so that together they are exactly the scenario. Pure: no I/O, no clock.
 *
 * How a scenario is cut, and why:
 * - **Connections** are split into N contiguous, disjoint ranges of *global* connection ids, sizes differing
 *   by at most one (the first `total % N` segments get one more, as `splitConnections` does for workers).
 *   Everything that depends on an id keeps its meaning across segments: a broadcast room is `id % rooms`,
 *   the publishers are the first `publishers` ids, slow consumers the last `count` ids, a voice session is
 *   `s<id>`, and a payload's `connId` + per-sender `seq` never collide between segments.
 * - **Per-connection settings stay per connection** (closed-loop depth, a broadcast publisher's rate, a voice
 *   session's frame interval). **Aggregate rates** (the open loop's msg/s, churn's leaves/s, the connect rate)
 *   are split in proportion to what the segment holds: its connections (open loop, connect rate) or its
 *   churnable subscribers (churn), so the segments' rates add up to the scenario's.
 * - **Seeds**: each segment gets its own, derived from the scenario's seed and its index, so no two segments
 *   draw the same arrivals or sizes; a single segment (`0/1`) keeps the scenario's seed.
 *
 * What is the model's own (its publishers, slow consumers, rates) comes from its definition's `segment` hook
 * (loadgen/models/<model>.ts, `LoadModelDef.segment`): nothing here names a model.
 *
 * One consequence of contiguous ranges, on purpose: a broadcast with fewer publishers than a segment's
 * connections has all of them in segment 0. Publishing is 1/members of a broadcast's traffic (the fan-out is
 * received), so the receive load, which dominates, stays even.
 *
 * The workers inside a segment then split the segment's range as they split a whole run (loadgen/run.ts):
 * worker shares there are `init.connections / plan.connections` with `plan.connections` the scenario's
 * *global* total, which gives the same shares as `segmentShare` below. Pass either the global plan with the
 * segment's id range, or the segment's shares, never both (the share would be applied twice).
 */

/** Segment `index` of `count`; `index` is 0-based: 0 … count − 1, as Kubernetes' JOB_COMPLETION_INDEX. */
export interface Segment {
  index: number;
  count: number;
}

/**
 * Most segments. The manifests run every segment at once (parallelism = completions = N), and Kubernetes
 * refuses an Indexed Job with parallelism above 100,000 (pkg/apis/batch/validation/validation.go,
 * maxParallelismForIndexedJob).
 */
export const MAX_SEGMENTS = 100_000;

/** Why a `--segment` value was refused; stable, so tests and callers can tell the cases apart. */
export type SegmentErrorReason = 'syntax' | 'unexpanded' | 'index-range' | 'count-range' | 'too-many-segments';

/** E_INVALID_SEGMENT with the reason it was refused. */
export class SegmentError extends BenchError {
  readonly reason: SegmentErrorReason;
  constructor(reason: SegmentErrorReason, message: string, hint: string) {
    super('E_INVALID_SEGMENT', message, { hint });
    this.reason = reason;
  }
}

const INDEXED_JOB_HINT = 'segments are 0-based like JOB_COMPLETION_INDEX: 0/4, 1/4, 2/4, 3/4; an Indexed Job passes "$(JOB_COMPLETION_INDEX)/4"';

/**
 * Parses `I/N` strictly: decimal digits without signs, spaces or leading zeros, N from 1 to MAX_SEGMENTS,
 * I from 0 to N − 1. The index is **0-based** so that an Indexed Job can pass `$(JOB_COMPLETION_INDEX)/N`
 * unchanged (Kubernetes numbers completions 0 … completions − 1; docs: "Indexed Job for Parallel Processing
 * with Static Work Assignment"). `1/1` is therefore an error (the only segment of one is `0/1`).
 *
 * @param text the flag's value, e.g. "2/4"
 * @param flag the flag named in errors (default `--segment`)
 * @throws SegmentError (code E_INVALID_SEGMENT) with reason `syntax`, `unexpanded` (the text still holds
 *   `$(JOB_COMPLETION_INDEX)` or `$JOB_COMPLETION_INDEX`: Kubernetes did not expand it), `count-range` (N is 0),
 *   `index-range` (I ≥ N) or `too-many-segments` (N > MAX_SEGMENTS)
 */
export function parseSegment(text: string, flag = '--segment'): Segment {
  if (/\$|JOB_COMPLETION_INDEX/.test(text)) {
    throw new SegmentError(
      'unexpanded',
      `${flag}: "${text}" holds a variable that was not expanded`,
      'Kubernetes expands $(JOB_COMPLETION_INDEX) in a container\'s command and args only when the variable is in its env (an Indexed Job sets it); a shell expands $JOB_COMPLETION_INDEX',
    );
  }
  const m = /^(0|[1-9][0-9]*)\/([0-9]+)$/.exec(text);
  if (!m) throw new SegmentError('syntax', `${flag}: must be I/N (segment I of N, I from 0 to N − 1), got "${text}"`, INDEXED_JOB_HINT);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (m[2]!.length > 1 && m[2]!.startsWith('0')) {
    throw new SegmentError('syntax', `${flag}: N must be written without leading zeros, got "${text}"`, INDEXED_JOB_HINT);
  }
  if (count < 1) throw new SegmentError('count-range', `${flag}: N must be at least 1, got "${text}"`, INDEXED_JOB_HINT);
  if (count > MAX_SEGMENTS) {
    throw new SegmentError('too-many-segments', `${flag}: at most ${MAX_SEGMENTS} segments, got ${count}`, 'an Indexed Job has at most 100,000 completions');
  }
  if (index >= count) {
    throw new SegmentError(
      'index-range',
      `${flag}: segment index ${index} is out of range for ${count} segment${count === 1 ? '' : 's'} (0-based: 0 to ${count - 1}), got "${text}"`,
      INDEXED_JOB_HINT,
    );
  }
  return { index, count };
}

/** `I/N`, the form parseSegment reads. */
export function formatSegment(s: Segment): string {
  return `${s.index}/${s.count}`;
}

/**
 * Segment `seg`'s contiguous part of `total` items: sizes ⌊total/N⌋ or ⌈total/N⌉, the larger ones first, so
 * that the N ranges are disjoint, in order and cover [0, total) exactly.
 */
export function segmentRange(total: number, seg: Segment): IdRange {
  const base = Math.floor(total / seg.count);
  const extra = total % seg.count;
  return { first: seg.index * base + Math.min(seg.index, extra), count: base + (seg.index < extra ? 1 : 0) };
}

/** The segment (0-based) that holds global id `id` of `total` split into `count` segments (inverse of segmentRange). */
export function segmentOfId(id: number, total: number, count: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= total) throw new RangeError(`id ${id} is outside [0, ${total})`);
  const base = Math.floor(total / count);
  const extra = total % count;
  const boundary = extra * (base + 1);
  return id < boundary ? Math.floor(id / (base + 1)) : extra + Math.floor((id - boundary) / base);
}

/** murmur3's 32-bit finaliser (fmix32): a bijection on 32-bit integers that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The seed of one segment, an unsigned 32-bit integer (mulberry32 reads the low 32 bits of a seed, prng.ts).
 * One segment of one keeps the scenario's seed, so `--segment 0/1` is the same run as no segment. Otherwise
 * fmix32(seed + index × 0x9E3779B9): 0x9E3779B9 is odd, so index ↦ index × it is a bijection mod 2^32, and
 * fmix32 is one too, so the segments of one seed always get distinct seeds (up to 2^32 segments).
 */
export function segmentSeed(seed: number, seg: Segment): number {
  if (seg.count === 1) return seed;
  return fmix32(((seed >>> 0) + Math.imul(seg.index, 0x9e3779b9)) >>> 0);
}

/** What a segment needs of the plan: the scenario's global connection count, its load model, seed and connect rate. */
export type SegmentablePlan = Pick<LoadPlan, 'connections' | 'load' | 'seed'> & { connect?: { ratePerSec?: number } };

/** One segment's part of a scenario: global id ranges and its shares of the aggregate rates. */
export interface SegmentShare {
  segment: Segment;
  /** The scenario's connection count (all segments): keep it as the plan's `connections`. */
  totalConnections: number;
  /** This segment's connections, as global ids. */
  connections: IdRange;
  /** This segment's seed (segmentSeed). */
  seed: number;
  /** Broadcast: the publishers among this segment's connections (the global publishers are ids [0, publishers)); otherwise count 0. */
  publishers: IdRange;
  /** Broadcast with slow consumers: the slow consumers among its connections (global: the last `count` ids); otherwise count 0. */
  slowConsumers: IdRange;
  /** Broadcast: subscribers that are neither publishers nor slow consumers (churn picks its leaves among them). */
  churnableSubscribers: number;
  /**
   * Scheduled sends per second this segment makes (arrivals, before bursts): the open loop's share of the
   * aggregate rate; a broadcast's publishers × rate per publisher; voice sessions × 1000 / frameIntervalMs
   * (audio events). Undefined for models without a schedule (closed, idle, http, ceiling).
   */
  sendRatePerSec?: number;
  /** Broadcast with churn: this segment's leaves per second (its churnable subscribers' share). */
  leavesPerSec?: number;
  /** Its share of the connect rate, connections per second, when the plan sets one. */
  connectRatePerSec?: number;
  /** Its connections whose messages receivers in other segments hear (a broadcast's publishers here); otherwise count 0. */
  crossSenders: IdRange;
}

/** What segmentShare hands a model's `segment` hook (LoadModelDef.segment). */
export interface SegmentContext {
  segment: Segment;
  /** The scenario's connection count (all segments). */
  total: number;
  /** This segment's connections, as global ids. */
  connections: IdRange;
}

/**
 * A model's own part of a segment's share, from its `segment` hook; a field it leaves out is none (count 0,
 * no rate). Integer parts must sum exactly over the N segments; rates to the scenario's aggregate.
 */
export interface ModelSegmentShare {
  /**
   * The global ids whose messages receivers in *other* segments hear (a broadcast's publishers, heard by every
   * member of their room). Their streams can only be accounted once the merge knows what each sent.
   */
  crossSenders?: IdRange;
  publishers?: IdRange;
  slowConsumers?: IdRange;
  churnableSubscribers?: number;
  sendRatePerSec?: number;
  leavesPerSec?: number;
}

/**
 * Segment `seg`'s share of a plan. Integer parts (connections, publishers, slow consumers, churnable
 * subscribers) sum over the N segments to the scenario's exactly; rates sum to the scenario's aggregate up to
 * floating-point rounding (each is `rate × part / whole`).
 *
 * @throws SegmentError reason `too-many-segments` when a segment would hold no connection (N > connections):
 *   a segment with nothing to do would still report a result and skew the merged worker statistics
 */
export function segmentShare(plan: SegmentablePlan, seg: Segment): SegmentShare {
  const total = plan.connections;
  if (seg.count > total) {
    throw new SegmentError(
      'too-many-segments',
      `--segment: ${seg.count} segments for ${total} connection${total === 1 ? '' : 's'}: a segment would open none`,
      `use at most ${total} segments`,
    );
  }
  const connections = segmentRange(total, seg);
  const m = plan.load;
  const none: IdRange = { first: connections.first, count: 0 };
  const share: SegmentShare = {
    segment: seg,
    totalConnections: total,
    connections,
    seed: segmentSeed(plan.seed, seg),
    publishers: none,
    slowConsumers: none,
    churnableSubscribers: 0,
    crossSenders: none,
  };
  const fraction = connections.count / total;
  const own = modelOf(m).segment?.(m, { segment: seg, total, connections }) ?? {};
  if (own.publishers) share.publishers = own.publishers;
  if (own.slowConsumers) share.slowConsumers = own.slowConsumers;
  if (own.churnableSubscribers !== undefined) share.churnableSubscribers = own.churnableSubscribers;
  if (own.sendRatePerSec !== undefined) share.sendRatePerSec = own.sendRatePerSec;
  if (own.leavesPerSec !== undefined) share.leavesPerSec = own.leavesPerSec;
  if (own.crossSenders) share.crossSenders = intersect(connections, own.crossSenders);
  if (plan.connect?.ratePerSec !== undefined) share.connectRatePerSec = plan.connect.ratePerSec * fraction;
  return share;
}

/**
 * Broadcast: the global publishers that live in *other* segments, by segment, in segment order. A segment's
 * receivers hear them too; once the segments' sent counts are exchanged (the merge step), its delivery
 * accounting for those streams can be completed: expected = sent × (members of the publisher's room among
 * this segment's receivers). Empty for other models and for a single segment.
 */
export function remotePublishers(plan: SegmentablePlan, seg: Segment): { segment: number; publishers: IdRange }[] {
  const total = plan.connections;
  const senders = modelOf(plan.load).segment?.(plan.load, { segment: seg, total, connections: segmentRange(total, seg) })?.crossSenders;
  if (!senders || senders.count === 0) return [];
  const out: { segment: number; publishers: IdRange }[] = [];
  for (let j = 0; j < seg.count; j++) {
    if (j === seg.index) continue;
    const theirs = intersect(segmentRange(total, { index: j, count: seg.count }), senders);
    if (theirs.count > 0) out.push({ segment: j, publishers: theirs });
  }
  return out;
}

/** How many ids of `range` are members of broadcast room `room` (room = id % rooms). */
export function roomMembers(range: IdRange, rooms: number, room: number): number {
  if (range.count <= 0) return 0;
  // Ids ≡ room (mod rooms) in [0, end): ⌈(end − room) / rooms⌉ when end > room.
  const below = (end: number) => (end > room ? Math.ceil((end - room) / rooms) : 0);
  return below(range.first + range.count) - below(range.first);
}

/** Earliest accepted `--start-at`: 2001-09-09 (10^12 ms). Anything smaller is almost surely seconds, not ms. */
const MIN_START_AT_MS = 1e12;

/**
 * Parses `--start-at`: the wall-clock time at which every segment starts its warmup, as epoch milliseconds
 * (`1767225600000`) or an ISO 8601 time with a zone (`2026-01-01T00:00:00Z`).
 * @throws BenchError E_USAGE naming the flag: not a time, a time without a zone (ambiguous across pods),
 *   or a number below 10^12 (seconds given instead of milliseconds)
 */
export function parseStartAt(text: string, flag = '--start-at'): number {
  if (/^[0-9]+$/.test(text)) {
    const ms = Number(text);
    if (ms < MIN_START_AT_MS) {
      throw new BenchError('E_USAGE', `${flag}: ${text} is before 2001 as epoch milliseconds`, {
        hint: `give milliseconds since the Unix epoch (${text}000 if you meant seconds), or an ISO time such as 2026-01-01T00:00:00Z`,
      });
    }
    return ms;
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new BenchError('E_USAGE', `${flag}: must be epoch milliseconds or an ISO 8601 time with a zone (…Z or …+02:00), got "${text}"`, {
    hint: 'every segment must start at the same instant; e.g. --start-at $(date -d "+2 min" +%s%3N)',
  });
}
