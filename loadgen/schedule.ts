// Open-loop arrival schedule (conventions, point 5).
//
// The schedule says when each message *should* leave, independent of when
// responses come back, so a slow server cannot slow the offered load down
// (no coordinated omission). The sender loop asks `tick(sender, nowUs)` which
// sends are due, sends them, and records every latency **from the intended
// send time the tick handed out**, never from the moment the write happened:
// a send that leaves late because the client stalled has that stall in its
// latency. Sends the client could not make at all are counted (`dropped`),
// not hidden.
//
// Units: times are microseconds on one clock (`epochClockUs` in production,
// a fake clock in tests); `ratePerSec` is the aggregate rate in messages per
// second across every connection of the sender. The caller assigns the due
// sends to connections round-robin. One interval is 1e6 / ratePerSec µs (not
// 1 / ratePerSec, and not per connection: autocannon's per-connection rate in
// the wrong unit is the bug this module is tested against).

import { mulberry32, type Rng } from '../stats/random.js';

/** A clock returning microseconds. Injected so tests can drive time by hand. */
export type ClockUs = () => number;

/**
 * Microseconds since the Unix epoch, sub-µs resolution:
 * `performance.timeOrigin * 1000 + performance.now() * 1000`. Monotonic
 * within a process; processes on one machine share it (each anchors
 * `timeOrigin` to the wall clock at start), so a timestamp written by one
 * worker can be subtracted in another. A wall-clock step (NTP) between two
 * processes' starts offsets them by that step.
 */
export const epochClockUs: ClockUs = () => performance.timeOrigin * 1000 + performance.now() * 1000;

/** How intended send times are spaced. */
/**
 * Runs `fn` once `epochClockUs()` has reached `us`. A timer alone can fire
 * early (a fractional delay is truncated, and libuv counts from its cached
 * loop time), which cut a measured window short and counted the open-loop
 * slots left before its end as dropped; so the clock is checked when the
 * timer fires and the timer re-armed for what is left.
 */
export function atEpochUs(us: number, fn: () => void): void {
  const check = () => {
    const leftUs = us - epochClockUs();
    if (leftUs > 0) setTimeout(check, Math.ceil(leftUs / 1000));
    else fn();
  };
  check();
}

export type Arrivals = 'constant' | 'poisson';

/** Options of `createSchedule`. */
export interface ScheduleOptions {
  /** Aggregate arrivals per second (messages per second unless `burst` is given); finite and > 0. */
  ratePerSec: number;
  /** 'constant': evenly spaced; 'poisson': exponential inter-arrival times. */
  arrivals: Arrivals;
  /** Origin of the schedule in µs on the sender's clock; the first send is one interval after it. */
  startUs: number;
  /** Seed of the PRNG for 'poisson' and for bursts; default 1. */
  seed?: number;
  /**
   * Bursts: each arrival is, with `probability`, `messages` messages `gapMs` apart (the first at the
   * arrival) instead of one. `ratePerSec` still counts arrivals. Absent: one message per arrival.
   */
  burst?: BurstOptions;
}

/** How arrivals turn into bursts of messages (see `ScheduleOptions.burst`). */
export interface BurstOptions {
  /** Chance that an arrival is a burst, in [0, 1]. */
  probability: number;
  /** Messages in a burst, an integer ≥ 1 (1: no bursts). */
  messages: number;
  /** Gap between a burst's messages, ms, ≥ 0. */
  gapMs: number;
}

/**
 * An endless sequence of intended send times in µs, strictly increasing for
 * 'constant' and non-decreasing for 'poisson'. Slot k (k = 1, 2, ...) is due
 * at `startUs + k·1e6/ratePerSec` for 'constant', so the window
 * (startUs, startUs + T] holds exactly ratePerSec·T slots; for 'poisson' the
 * first slot is one exponential draw after `startUs`, so the count in a
 * window is Poisson-distributed with mean ratePerSec·T.
 */
export interface Schedule {
  /** Mean messages per second (with bursts: arrivals per second × mean messages per arrival). */
  readonly ratePerSec: number;
  readonly arrivals: Arrivals;
  readonly startUs: number;
  /** Mean interval between sends in µs: 1e6 / ratePerSec. */
  readonly meanIntervalUs: number;
  /**
   * The arrival (0, 1, 2, ... in arrival order) that the slot last returned by `next()` belongs to: without
   * bursts the slot's own index, with bursts shared by every message of a burst, so the caller can give a
   * burst's messages one sender.
   */
  readonly lastArrival: number;
  /** Intended time of the next slot, without consuming it. */
  peekUs(): number;
  /** Intended time of the next slot, consuming it. */
  next(): number;
}

class ConstantSchedule implements Schedule {
  readonly arrivals = 'constant' as const;
  readonly meanIntervalUs: number;
  private k = 1;
  private nextUs: number;
  lastArrival = -1;

  constructor(readonly ratePerSec: number, readonly startUs: number) {
    this.meanIntervalUs = 1e6 / ratePerSec;
    this.nextUs = this.slotUs(1);
  }

  // Computed from k each time rather than accumulated, so rounding error
  // never builds up over millions of slots; k·1e6 is an exact integer, so
  // k·1e6/rate is exact whenever the true value is representable.
  private slotUs(k: number): number {
    return this.startUs + (k * 1e6) / this.ratePerSec;
  }

  peekUs(): number {
    return this.nextUs;
  }

  next(): number {
    const t = this.nextUs;
    this.lastArrival = this.k - 1;
    this.k++;
    this.nextUs = this.slotUs(this.k);
    return t;
  }
}

class PoissonSchedule implements Schedule {
  readonly arrivals = 'poisson' as const;
  readonly meanIntervalUs: number;
  private readonly random: Rng;
  private nextUs: number;
  lastArrival = -1;

  constructor(readonly ratePerSec: number, readonly startUs: number, seed: number) {
    this.meanIntervalUs = 1e6 / ratePerSec;
    this.random = mulberry32(seed);
    this.nextUs = startUs + this.drawIntervalUs();
  }

  // Inverse-CDF exponential draw; 1 - u lies in (0, 1], so the log is finite.
  private drawIntervalUs(): number {
    return -Math.log(1 - this.random()) * this.meanIntervalUs;
  }

  peekUs(): number {
    return this.nextUs;
  }

  next(): number {
    const t = this.nextUs;
    this.lastArrival++;
    this.nextUs = t + this.drawIntervalUs();
    return t;
  }
}

/**
 * Arrivals from a base schedule, each turned with probability `p` into a burst of `messages` messages
 * `gapMs` apart. Bursts may overlap (a long burst and the next arrivals), so the followers still owed are
 * kept in a binary min-heap keyed by their next time: one entry per unfinished burst, held in typed arrays
 * that grow by doubling, so a message costs O(log bursts pending) and no allocation.
 */
class BurstSchedule implements Schedule {
  readonly ratePerSec: number;
  readonly meanIntervalUs: number;
  readonly arrivals: Arrivals;
  readonly startUs: number;
  lastArrival = -1;
  private readonly random: Rng;
  private readonly gapUs: number;
  private arrivalCount = 0;
  // Heap of unfinished bursts: next follower time, arrival index, followers still to come.
  private heapUs = new Float64Array(16);
  private heapArrival = new Float64Array(16);
  private heapLeft = new Int32Array(16);
  private size = 0;

  constructor(private readonly base: Schedule, private readonly burst: BurstOptions, seed: number) {
    this.arrivals = base.arrivals;
    this.startUs = base.startUs;
    this.ratePerSec = base.ratePerSec * (1 + burst.probability * (burst.messages - 1));
    this.meanIntervalUs = 1e6 / this.ratePerSec;
    this.gapUs = burst.gapMs * 1000;
    // A stream of its own (not the Poisson one's), so adding bursts leaves the arrival times unchanged.
    this.random = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  }

  peekUs(): number {
    const b = this.base.peekUs();
    return this.size > 0 && this.heapUs[0]! < b ? this.heapUs[0]! : b;
  }

  next(): number {
    const b = this.base.peekUs();
    // Ties go to the follower: it belongs to an earlier arrival.
    if (this.size > 0 && this.heapUs[0]! <= b) {
      const t = this.heapUs[0]!;
      this.lastArrival = this.heapArrival[0]!;
      if (--this.heapLeft[0]! > 0) {
        this.heapUs[0] = t + this.gapUs;
      } else {
        this.size--;
        this.heapUs[0] = this.heapUs[this.size]!;
        this.heapArrival[0] = this.heapArrival[this.size]!;
        this.heapLeft[0] = this.heapLeft[this.size]!;
      }
      this.siftDown(0);
      return t;
    }
    const t = this.base.next();
    this.lastArrival = this.arrivalCount++;
    const p = this.burst.probability;
    // Draw only when it can matter, so probability 0 and 1 use no randomness.
    if (this.burst.messages > 1 && p > 0 && (p >= 1 || this.random() < p)) this.push(t + this.gapUs, this.lastArrival, this.burst.messages - 1);
    return t;
  }

  private push(us: number, arrival: number, left: number): void {
    if (this.size === this.heapUs.length) {
      const grow = <A extends Float64Array | Int32Array>(a: A, make: (n: number) => A): A => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.heapUs = grow(this.heapUs, (n) => new Float64Array(n));
      this.heapArrival = grow(this.heapArrival, (n) => new Float64Array(n));
      this.heapLeft = grow(this.heapLeft, (n) => new Int32Array(n));
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(us, arrival, this.heapUs[parent]!, this.heapArrival[parent]!)) break;
      this.move(parent, i);
      i = parent;
    }
    this.heapUs[i] = us;
    this.heapArrival[i] = arrival;
    this.heapLeft[i] = left;
  }

  private move(from: number, to: number): void {
    this.heapUs[to] = this.heapUs[from]!;
    this.heapArrival[to] = this.heapArrival[from]!;
    this.heapLeft[to] = this.heapLeft[from]!;
  }

  private siftDown(i: number): void {
    const n = this.size;
    if (n === 0) return;
    const us = this.heapUs[i]!;
    const arrival = this.heapArrival[i]!;
    const left = this.heapLeft[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && earlier(this.heapUs[right]!, this.heapArrival[right]!, this.heapUs[child]!, this.heapArrival[child]!)) child = right;
      if (!earlier(this.heapUs[child]!, this.heapArrival[child]!, us, arrival)) break;
      this.move(child, i);
      i = child;
    }
    this.heapUs[i] = us;
    this.heapArrival[i] = arrival;
    this.heapLeft[i] = left;
  }
}

// Earlier time first; an earlier arrival first on equal times, so each publisher's messages keep their order.
function earlier(us: number, arrival: number, otherUs: number, otherArrival: number): boolean {
  return us < otherUs || (us === otherUs && arrival < otherArrival);
}

/**
 * Creates an open-loop arrival schedule (see `Schedule`).
 * @throws RangeError if ratePerSec is not finite and > 0, startUs is not finite, arrivals is unknown, or
 *   burst is out of range
 */
export function createSchedule(options: ScheduleOptions): Schedule {
  const { ratePerSec, arrivals, startUs, seed = 1 } = options;
  if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) {
    throw new RangeError(`createSchedule: ratePerSec must be a finite number > 0, got ${ratePerSec}`);
  }
  if (!Number.isFinite(startUs)) {
    throw new RangeError(`createSchedule: startUs must be finite, got ${startUs}`);
  }
  let base: Schedule;
  if (arrivals === 'constant') base = new ConstantSchedule(ratePerSec, startUs);
  else if (arrivals === 'poisson') base = new PoissonSchedule(ratePerSec, startUs, seed);
  else throw new RangeError(`createSchedule: arrivals must be 'constant' or 'poisson', got ${String(arrivals)}`);
  const burst = options.burst;
  if (burst === undefined) return base;
  if (!(burst.probability >= 0 && burst.probability <= 1)) throw new RangeError(`createSchedule: burst.probability must be in [0, 1], got ${burst.probability}`);
  if (!Number.isInteger(burst.messages) || burst.messages < 1) throw new RangeError(`createSchedule: burst.messages must be an integer ≥ 1, got ${burst.messages}`);
  if (!(burst.gapMs >= 0 && Number.isFinite(burst.gapMs))) throw new RangeError(`createSchedule: burst.gapMs must be finite and ≥ 0, got ${burst.gapMs}`);
  return new BurstSchedule(base, burst, seed);
}

/** What the sender does about sends it could not make on time. */
export interface TickPolicy {
  /** A send is *late* when it leaves more than this many µs after its intended time. */
  lateThresholdUs: number;
  /**
   * Most sends one tick hands out. Bounds the burst after a stall so the
   * event loop still reads responses; the rest stay due for the next tick.
   */
  maxCatchUpPerTick: number;
  /**
   * A due send more than this many µs behind its intended time is *dropped*:
   * skipped and counted, never sent. Bounds the backlog (and memory of what
   * is owed); may be Infinity to never drop. Dropped sends have no latency,
   * so reports must show dropped/intended next to the percentiles.
   */
  dropAfterUs: number;
}

/**
 * Defaults for a rate: late after 1 ms (a quarter of the ~4 ms floor seen
 * with a naive client, see shared/reference.md); catch up at most 10 ms worth
 * of sends per tick (at least 64); drop what is more than 1 s behind, at which
 * point the generator is saturated and the run is flagged anyway.
 */
export function defaultTickPolicy(ratePerSec: number): TickPolicy {
  return {
    lateThresholdUs: 1_000,
    maxCatchUpPerTick: Math.max(64, Math.ceil(ratePerSec / 100)),
    dropAfterUs: 1_000_000,
  };
}

/**
 * Counters of a sender. Invariants: `sent + dropped = intended`, and
 * `late ≤ sent`. Only slots the sender has resolved (handed out or dropped)
 * are counted as intended; slots due but held back by `maxCatchUpPerTick`
 * are counted once resolved, and `finishSender` resolves the rest.
 */
export interface SendCounters {
  /** Slots whose intended time has come and that were resolved. */
  intended: number;
  /** Sends handed out by `tick` (the caller sends each of them). */
  sent: number;
  /** Sent more than `lateThresholdUs` after their intended time (subset of sent). */
  late: number;
  /** Skipped: more than `dropAfterUs` behind, or still unsent at `finishSender`. */
  dropped: number;
  /** Largest (tick time − intended time) of any sent slot, µs; 0 before any send. */
  maxLagUs: number;
}

/** State of one sender loop: its schedule, policy, counters and output buffer. */
export interface Sender {
  readonly schedule: Schedule;
  readonly policy: Readonly<TickPolicy>;
  readonly counters: SendCounters;
  /**
   * Intended send times of the sends due after the last `tick`, in µs, in
   * schedule order: entries [0, returned count) are valid. Allocated once
   * (length `maxCatchUpPerTick`) and overwritten by every tick, so the hot
   * path allocates nothing.
   */
  readonly dueUs: Float64Array;
  /**
   * The arrival (`Schedule.lastArrival`) each of those sends belongs to, entries [0, n) as for `dueUs`: a
   * burst's messages share one, so the caller can send them from one connection.
   */
  readonly dueArrival: Float64Array;
  /** The clock the caller reads `nowUs` from (`epochClockUs` unless injected). */
  readonly clock: ClockUs;
}

/**
 * Creates a sender loop state for `schedule`.
 * @param policy defaults to `defaultTickPolicy(schedule.ratePerSec)`
 * @param clock defaults to `epochClockUs`; tests pass a fake one
 * @throws RangeError on a negative/NaN threshold or a maxCatchUpPerTick that is not an integer ≥ 1
 */
export function createSender(schedule: Schedule, policy?: TickPolicy, clock: ClockUs = epochClockUs): Sender {
  const p = policy ?? defaultTickPolicy(schedule.ratePerSec);
  if (!(p.lateThresholdUs >= 0)) throw new RangeError(`createSender: lateThresholdUs must be ≥ 0, got ${p.lateThresholdUs}`);
  if (!(p.dropAfterUs >= 0)) throw new RangeError(`createSender: dropAfterUs must be ≥ 0, got ${p.dropAfterUs}`);
  if (!Number.isInteger(p.maxCatchUpPerTick) || p.maxCatchUpPerTick < 1) {
    throw new RangeError(`createSender: maxCatchUpPerTick must be an integer ≥ 1, got ${p.maxCatchUpPerTick}`);
  }
  return {
    schedule,
    policy: { ...p },
    counters: { intended: 0, sent: 0, late: 0, dropped: 0, maxLagUs: 0 },
    dueUs: new Float64Array(p.maxCatchUpPerTick),
    dueArrival: new Float64Array(p.maxCatchUpPerTick),
    clock,
  };
}

/**
 * The pure step of the sender loop: given the current time, resolves the
 * slots that are due (intended time ≤ nowUs), oldest first. A slot more than
 * `dropAfterUs` behind is dropped; the others are handed out, up to
 * `maxCatchUpPerTick`, by writing their intended times to `sender.dueUs` (and their arrivals to `dueArrival`).
 * The send is deemed to leave at `nowUs` (the caller writes in the same
 * synchronous turn), which decides `late` and `maxLagUs`.
 *
 * The caller sends exactly the returned number of messages, stamping each
 * with its `dueUs[i]` and measuring its latency from that time. Reads no
 * clock, allocates nothing; costs O(sends + drops).
 *
 * @param nowUs current time on the schedule's clock, µs
 * @returns how many sends are due now (entries [0, n) of `sender.dueUs`)
 */
export function tick(sender: Sender, nowUs: number): number {
  const { schedule, policy, counters, dueUs } = sender;
  const max = policy.maxCatchUpPerTick;
  let n = 0;
  while (n < max) {
    const intendedUs = schedule.peekUs();
    if (intendedUs > nowUs) break;
    schedule.next();
    counters.intended++;
    const lagUs = nowUs - intendedUs;
    if (lagUs > policy.dropAfterUs) {
      counters.dropped++;
      continue;
    }
    if (lagUs > policy.lateThresholdUs) counters.late++;
    if (lagUs > counters.maxLagUs) counters.maxLagUs = lagUs;
    counters.sent++;
    sender.dueArrival[n] = schedule.lastArrival;
    dueUs[n++] = intendedUs;
  }
  return n;
}

/**
 * How far the sender is behind at `nowUs`: µs since the intended time of the
 * oldest slot not yet resolved, or 0 if nothing is due. Non-zero after a
 * tick means `maxCatchUpPerTick` held sends back.
 */
export function behindUs(sender: Sender, nowUs: number): number {
  const lagUs = nowUs - sender.schedule.peekUs();
  return lagUs > 0 ? lagUs : 0;
}

/**
 * Ends the run at `endUs`: every slot with intended time ≤ endUs that was
 * never handed out is counted as intended and dropped, so that afterwards
 * `sent + dropped = intended` covers the whole run. Call once, after the
 * last tick. Costs O(slots still owed).
 */
export function finishSender(sender: Sender, endUs: number): void {
  const { schedule, counters } = sender;
  while (schedule.peekUs() <= endUs) {
    schedule.next();
    counters.intended++;
    counters.dropped++;
  }
}
