// The broadcast model's two membership shapes, run inside a worker (loadgen/worker.ts):
//
// - Churn (dashboard): subscribers leave their room and rejoin it later as a new connection. Their
//   deliveries are checked inside each membership (accounting.ts, `isPartial`).
// - Slow consumers: subscribers that read at a limited byte rate during warmup and the window, so the
//   server's per-recipient buffer fills and its backpressure rule (drop above 1 MiB, or close) shows; they
//   read freely in the drain, so everything the server kept is counted, and are reported apart.
//
// Kept out of worker.ts so the worker's hot path gains only a boolean test per message.
import { DeliveryAccounting, type DeferredStreams } from './accounting.js';
import { createLatencyHistogram, encodeHistogram, LatencyRecorder } from './histogram.js';
import { mulberry32, type Rng } from '../stats/random.js';
import { createSchedule, epochClockUs, type Schedule } from './schedule.js';
import type { Transport } from './transport.js';
import type { BroadcastModel, ErrorKind, LoadPlan, SlowConsumerResult } from './types.js';
import type { Conn } from './session.js';

/**
 * A worker's slow consumers as reported to the coordinator: the result's counts to sum, its latency encoded to
 * merge; in a load segment, the streams of other segments' publishers, which the merge completes.
 */
export type SlowConsumerPart = Omit<SlowConsumerResult, 'latency'> & { latencyEncoded: string; deferred?: DeferredStreams[] };

/** A worker's churn counts. */
export interface ChurnPart {
  leaves: number;
  rejoins: number;
  failedRejoins: number;
}

/**
 * Whether global connection `id` (one of the plan's first `connections` ids) is a slow consumer: the last
 * `count` ids, which are never publishers (core/scenario.ts bounds count by connections − publishers) and,
 * being consecutive, fall in different rooms (room = id % rooms).
 */
export function isSlowConsumerId(id: number, m: BroadcastModel, connections: number): boolean {
  if (m.slowConsumers === undefined) return false;
  return id >= connections - m.slowConsumers.count && id >= m.publishers && id < connections;
}

/** How long a slow consumer's read slice lasts, ms, and the bytes it may read in one. */
export function readSlice(readBytesPerSec: number): { sliceMs: number; sliceBytes: number } {
  // About 50 ms slices; at least one byte each, so very low rates get longer slices instead of none.
  const sliceBytes = Math.max(1, Math.round(readBytesPerSec * 0.05));
  return { sliceMs: (sliceBytes / readBytesPerSec) * 1000, sliceBytes };
}

/**
 * A worker's slow consumers: limits their reads from the moment they open (nothing is published before
 * the start), grants a slice's bytes every slice during warmup and the window, lifts the limit for the
 * drain, and accounts for what they received apart from the fast members.
 */
export class SlowConsumers {
  readonly accounting = new DeliveryAccounting();
  readonly latencyRec = new LatencyRecorder();
  readonly readBytesPerSec: number;
  readonly sliceMs: number;
  readonly sliceBytes: number;
  /** Those that opened, in id order. */
  readonly members: Conn[] = [];
  closedByServer = 0;
  readonly closeCodes: Record<string, number> = {};
  /** Arrival time of the last message any of them received, epoch µs. */
  lastRecvAtUs = 0;
  private timer: NodeJS.Timeout | undefined;
  private limited = true;

  constructor(
    config: NonNullable<BroadcastModel['slowConsumers']>,
    private readonly transport: Transport,
  ) {
    this.readBytesPerSec = config.readBytesPerSec;
    ({ sliceMs: this.sliceMs, sliceBytes: this.sliceBytes } = readSlice(config.readBytesPerSec));
  }

  /** A slow consumer opened: limited at once, from inside its open event, so even its first read is capped. */
  opened(c: Conn): void {
    this.members.push(c);
    if (this.limited) this.transport.allowReads(c.t!, this.sliceBytes);
  }

  /** Warmup begins: a slice's bytes every slice (unused bytes do not carry over: at most the rate, never more). */
  begin(): void {
    this.timer = setInterval(() => {
      for (const c of this.members) if (c.open) this.transport.allowReads(c.t!, this.sliceBytes);
    }, this.sliceMs);
  }

  /** The window is over: read freely, so what the server kept for them is collected in the drain. */
  release(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.limited = false;
    for (const c of this.members) if (c.open) this.transport.allowReads(c.t!, Infinity);
  }

  /** One message on a slow consumer: accounted here only. Latency over the whole run: they are slow by design. */
  received(c: Conn, connId: number, seq: number, bodyOk: boolean, nowUs: number, latencyUs: number): void {
    this.lastRecvAtUs = nowUs;
    this.accounting.record(connId, c.id, seq, bodyOk);
    this.latencyRec.record(latencyUs);
  }

  closed(code: number, byUs: boolean): void {
    if (byUs) return;
    this.closedByServer++;
    this.closeCodes[String(code)] = (this.closeCodes[String(code)] ?? 0) + 1;
  }

  /**
   * Against every sender's count of sent messages: each slow consumer joined before the first publish, so
   * it is owed everything published into its room; after a server close, the rest counts as missing.
   * `deferred`: publishers whose counts are known only to the merge of load segments (their streams are kept
   * in the part's `deferred`).
   */
  result(sent: ReadonlyMap<number, number>, rooms: number, deferred: readonly number[] = []): SlowConsumerPart {
    const byRoom = new Map<number, number[]>();
    for (const c of this.members) byRoom.set(c.room, [...(byRoom.get(c.room) ?? []), c.id]);
    const recipientsOf = (sender: number) => byRoom.get(sender % rooms) ?? [];
    const t = this.accounting.finish(sent, recipientsOf, undefined, deferred);
    const latency = createLatencyHistogram();
    this.latencyRec.flushInto(latency);
    return {
      count: this.members.length,
      readBytesPerSec: this.readBytesPerSec,
      expected: t.expected,
      // expected − lost = Σ per stream of min(sent, distinct received).
      received: t.expected - t.lost,
      missing: t.lost,
      closedByServer: this.closedByServer,
      closeCodes: { ...this.closeCodes },
      latencyEncoded: encodeHistogram(latency),
      ...(deferred.length > 0 ? { deferred: this.accounting.deferStreams(deferred, recipientsOf) } : {}),
    };
  }
}

/** What churn needs from its worker. */
export interface ChurnHost {
  readonly transport: Transport;
  /** Every connection of the worker; rejoins are appended, so the accounting sees them. */
  readonly conns: Conn[];
  readonly plan: LoadPlan;
  /** True from the start until the window's end. */
  readonly sending: boolean;
  count(kind: ErrorKind): void;
}

/**
 * Churn in one worker: its share of `leavesPerSec` (in proportion to its churnable subscribers), evenly
 * spaced from the start to the window's end. Each leave closes (1000) a subscriber picked with the seeded
 * PRNG among the joined ones; `rejoinAfterMs` later, if the window is still on, the same room is joined by
 * a new connection whose id (base id + connections × generation) is unique across workers, so no
 * accounting stream spans two memberships.
 */
export class Churn {
  leaves = 0;
  rejoins = 0;
  failedRejoins = 0;
  /** Joined subscribers that may leave. */
  private readonly pool: Conn[];
  private readonly random: Rng;
  private readonly timers = new Set<NodeJS.Timeout>();
  private schedule: Schedule | undefined;
  private stopped = false;

  constructor(
    private readonly config: NonNullable<BroadcastModel['churn']>,
    private readonly host: ChurnHost,
    /** This worker's churnable subscribers out of all workers': its share of the rate. */
    private readonly share: number,
    seed: number,
  ) {
    this.pool = host.conns.filter((c) => c.open && !c.publisher && !c.slow);
    this.random = mulberry32(seed);
  }

  /** Leaves from `startUs` (epoch µs) on, until `stop` or the window's end. */
  begin(startUs: number): void {
    const ratePerSec = this.config.leavesPerSec * this.share;
    if (!(ratePerSec > 0)) return;
    this.schedule = createSchedule({ ratePerSec, arrivals: 'constant', startUs });
    this.arm();
  }

  private arm(): void {
    if (this.stopped || this.schedule === undefined) return;
    const waitMs = Math.max(0, Math.ceil((this.schedule.peekUs() - epochClockUs()) / 1000));
    this.later(waitMs, () => {
      const now = epochClockUs();
      while (!this.stopped && this.host.sending && this.schedule!.peekUs() <= now) {
        this.schedule!.next();
        this.leaveOne();
      }
      if (this.host.sending) this.arm();
    });
  }

  private leaveOne(): void {
    // Members the server closed are dropped from the pool as they are met.
    while (this.pool.length > 0) {
      const i = Math.floor(this.random() * this.pool.length);
      const c = this.pool[i]!;
      this.pool[i] = this.pool[this.pool.length - 1]!;
      this.pool.pop();
      if (!c.open) continue;
      c.partial = true;
      this.host.transport.close(c.t!);
      this.leaves++;
      this.later(this.config.rejoinAfterMs, () => this.rejoin(c));
      return;
    }
  }

  private rejoin(left: Conn): void {
    if (this.stopped || !this.host.sending) return;
    const { plan } = this.host;
    const n: Conn = {
      id: left.id + plan.connections,
      room: left.room,
      publisher: false,
      seq: 0,
      inFlight: 0,
      open: false,
      t: undefined,
      partial: true,
    };
    this.host.conns.push(n);
    const url = new URL(plan.url);
    this.host.transport.connect(n, url.hostname, Number(url.port), `${url.pathname}?room=r${n.room}`, plan.connect.timeoutMs, (err) => {
      if (err) {
        this.failedRejoins++;
        this.host.count(err);
        return;
      }
      n.open = true;
      this.rejoins++;
      if (this.stopped) return;
      this.pool.push(n);
    });
  }

  /** No more leaves or rejoins (the window is over). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  result(): ChurnPart {
    return { leaves: this.leaves, rejoins: this.rejoins, failedRejoins: this.failedRejoins };
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}
