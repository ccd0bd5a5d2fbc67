import { checkNumber, checkObject, checkString, type Problems } from '../../base/validate.js';
import type { SlowConsumerMetrics } from '../../schema/result.js';
import { Churn, isSlowConsumerId, SlowConsumers } from '../broadcast-shapes.js';
import { createLatencyHistogram, decodeHistogram, encodeHistogram, mergeHistograms, recordUs, summarizeHistogram } from '../histogram.js';
import type { WorkerResult } from '../ipc.js';
import { intersect, type IdRange } from '../id-range.js';
import type { ModelSegmentShare, SegmentContext } from '../segment.js';
import { deliveryOf, WsSession, type Conn, type ModelResult } from '../session.js';
import type { BroadcastModel, SlowConsumerResult } from '../types.js';
import { carried, DEFAULT_DRAIN_TIMEOUT_MS } from './common.js';
import type { LoadModelDef, PhaseSamples } from './model.js';

/** Slow consumers read what the server buffered for them at full speed in the drain; megabytes take a moment. */
export const SLOW_CONSUMER_DRAIN_TIMEOUT_MS = 15_000;

const KEYS = ['model', 'publishers', 'ratePerSecPerPublisher', 'rooms', 'arrivals', 'burst', 'churn', 'slowConsumers'];

/**
 * Broadcast in a worker: connection i joins room r(i mod rooms); the first `publishers` ids publish on the
 * schedule; every member (the publisher included) receives every message, checked against its sender's
 * stream. Churn and slow consumers (broadcast-shapes.ts) change who is a member, and when.
 */
class BroadcastSession extends WsSession {
  readonly m = this.plan.load as BroadcastModel;
  /** Per message key (connId·2^32 + seq) sent in the window, the latest and the earliest delivery latency seen here. */
  readonly lastRecipient = new Map<number, { maxLatencyUs: number; minLatencyUs: number; deliveries: number }>();
  slow: SlowConsumers | undefined = this.m.slowConsumers ? new SlowConsumers(this.m.slowConsumers, this.transport) : undefined;
  churn: Churn | undefined;

  override setupConn(c: Conn): void {
    c.room = c.id % this.m.rooms;
    c.publisher = c.id < this.m.publishers;
    if (this.slow && isSlowConsumerId(c.id, this.m, this.plan.connections)) c.slow = true;
  }

  override pathFor(c: Conn, url: URL): string {
    return `${url.pathname}?room=r${c.room}`;
  }

  override onOpen(c: Conn): void {
    if (c.slow) this.slow!.opened(c);
  }

  begin(): void {
    const m = this.m;
    const pubs = this.conns.filter((c) => c.open && c.publisher);
    if (pubs.length > 0) this.runSchedule(pubs, m.ratePerSecPerPublisher * pubs.length, m.arrivals ?? 'constant', m.burst);
    this.slow?.begin();
    if (m.churn) {
      // This worker's share of the leaves: its churnable subscribers over all workers'.
      let local = 0;
      for (const c of this.conns) if (!c.publisher && !c.slow) local++;
      const all = this.plan.connections - m.publishers - (m.slowConsumers?.count ?? 0);
      this.churn = new Churn(m.churn, this, all > 0 ? local / all : 0, this.plan.seed * 7919 + this.init.worker);
      this.churn.begin(this.startAtUs);
    }
  }

  onMessage(c: Conn, buf: Buffer, start: number, end: number): void {
    const nowUs = this.readAtUs;
    const size = end - start;
    this.recvSinceProgress++;
    this.lastRecvAtUs = nowUs;
    const h = this.codec.readHeader(buf, start, size, this.header);
    const bodyOk = this.codec.bodyMatches(buf, start, size);
    if (c.slow) {
      // Reported apart: not in delivery, latency, the time to the last recipient or the timeline.
      this.slow!.received(c, h.connId, h.seq, bodyOk, nowUs, nowUs - h.tUs);
      return;
    }
    const fresh = this.accounting.record(h.connId, c.id, h.seq, bodyOk);
    // A delivery is a first, intact arrival of a message published in this member's room; duplicates, corrupted and
    // misdelivered arrivals (another room's) are counted by the accounting, not in throughput or latency.
    if (!fresh || !bodyOk || h.connId % this.m.rooms !== c.room) return;
    const inWindow = h.tUs >= this.measureStartUs && h.tUs < this.measureEndUs;
    const latencyUs = nowUs - h.tUs;
    (inWindow ? this.latencyRec : this.scratchRec).record(latencyUs);
    if (inWindow) this.noteDelivery(h.connId * 4294967296 + h.seq, latencyUs);
    const b = this.bucket(nowUs);
    b.receivedMsgs++;
    b.receivedBytes += size;
  }

  /** The latest delivery of each message seen by this worker, for the time to the last recipient. */
  noteDelivery(key: number, latencyUs: number): void {
    const e = this.lastRecipient.get(key);
    if (e) {
      e.deliveries++;
      if (latencyUs > e.maxLatencyUs) e.maxLatencyUs = latencyUs;
      else if (latencyUs < e.minLatencyUs) e.minLatencyUs = latencyUs;
    } else this.lastRecipient.set(key, { maxLatencyUs: latencyUs, minLatencyUs: latencyUs, deliveries: 1 });
  }

  override onClose(c: Conn, code: number, byUs: boolean): void {
    if (c.slow) this.slow!.closed(code, byUs);
    super.onClose(c, code, byUs);
  }

  override endWindow(): void {
    // No more leaves or rejoins; slow consumers read freely to collect what the server kept for them.
    this.churn?.stop();
    this.slow?.release();
  }

  drained(): boolean {
    // Nothing owed is known locally: the drain ends when the wire has been quiet for 200 ms (and the slow
    // consumers, which read their backlog from the server's buffers now, for 500 ms).
    return this.quietFor(200) && (this.slow === undefined || this.quietFor(500, this.slow.lastRecvAtUs));
  }

  /**
   * In a load segment, the publishers of the other segments: what they sent is known only to the merge, so their
   * member streams here are deferred to it (accounting.ts deferStreams); empty for a whole run.
   */
  remotePublishers(): number[] {
    const seg = this.plan.segment;
    if (seg === undefined || seg.count === 1) return [];
    const out: number[] = [];
    const end = seg.firstConnId + seg.connections;
    for (let id = 0; id < Math.min(this.m.publishers, this.plan.connections); id++) if (id < seg.firstConnId || id >= end) out.push(id);
    return out;
  }

  modelResult(sent: Map<number, number>): ModelResult {
    const m = this.m;
    const membersByRoom = new Map<number, number[]>();
    const partial = new Set<number>();
    for (const c of this.conns) {
      if ((!c.open && c.t === undefined) || c.slow) continue;
      if (c.partial) partial.add(c.id);
      const list = membersByRoom.get(c.room) ?? [];
      list.push(c.id);
      membersByRoom.set(c.room, list);
    }
    const recipientsOf = (sender: number) => membersByRoom.get(sender % m.rooms) ?? [];
    const isPartial = partial.size > 0 ? (receiver: number) => partial.has(receiver) : undefined;
    const remote = this.remotePublishers();
    const totals = this.accounting.finish(sent, recipientsOf, isPartial, remote);
    return {
      delivery: deliveryOf(this.conns.reduce((a, c) => a + c.seq, 0), totals),
      lastRecipient: [...this.lastRecipient].map(([key, v]) => ({ key: String(key), ...v })),
      ...(remote.length > 0 ? { deferred: this.accounting.deferStreams(remote, recipientsOf, isPartial) } : {}),
      ...(this.slow ? { slowConsumers: this.slow.result(sent, m.rooms, remote) } : {}),
      ...(m.churn ? { churn: this.churn?.result() ?? { leaves: 0, rejoins: 0, failedRejoins: 0 } } : {}),
    };
  }
}

/**
 * Who a broadcast's connections can be: publishers first, then slow consumers and churning subscribers from
 * the rest; publishers receive too (publish-to-self), so they remain fast members checked exactly.
 */
function checkConnections(b: BroadcastModel, connections: number, field: string): string[] {
  if (b.publishers > connections) return [`load.publishers: must be at most ${field} (${connections}), got ${b.publishers}`];
  const subscribers = connections - b.publishers;
  const slow = b.slowConsumers?.count ?? 0;
  if (b.slowConsumers && slow > subscribers) {
    return [`load.slowConsumers.count: must be at most ${field} − publishers (${subscribers}), got ${slow}`];
  }
  if (b.churn && subscribers - slow < 1) {
    return [`load.churn: needs a subscriber that is neither a publisher nor a slow consumer (${field} − publishers − slowConsumers.count is 0)`];
  }
  return [];
}

function addCounts<K extends string>(into: Partial<Record<K, number>>, from: Partial<Record<K, number>>) {
  for (const [k, v] of Object.entries(from) as [K, number][]) into[k] = (into[k] ?? 0) + v;
}

/** Merges the workers' slow consumers: counts and close codes summed, latency histograms added. */
export function mergeSlowConsumerParts(parts: readonly NonNullable<WorkerResult['slowConsumers']>[]): SlowConsumerResult {
  const latency = mergeHistograms(parts.map((p) => decodeHistogram(p.latencyEncoded)));
  const closeCodes: Record<string, number> = {};
  for (const p of parts) addCounts(closeCodes, p.closeCodes);
  const sum = (pick: (p: NonNullable<WorkerResult['slowConsumers']>) => number) => parts.reduce((a, p) => a + pick(p), 0);
  return {
    count: sum((p) => p.count),
    readBytesPerSec: parts[0]?.readBytesPerSec ?? 0,
    expected: sum((p) => p.expected),
    received: sum((p) => p.received),
    missing: sum((p) => p.missing),
    closedByServer: sum((p) => p.closedByServer),
    closeCodes,
    latency: summarizeHistogram(latency),
  };
}

/**
 * The backpressure outcome for slow consumers: closed by the server, messages dropped for them, or everything
 * delivered in the end (buffered, in the server or the kernel), with the server's memory growth beside it.
 */
export function slowConsumerMetrics(sc: SlowConsumerResult, ph: PhaseSamples): SlowConsumerMetrics {
  const outcome: SlowConsumerMetrics['outcome'] = sc.closedByServer > 0 ? 'closes' : sc.missing > 0 ? 'drops' : 'buffers';
  const inWindow = ph.all.filter((s) => s.tMs >= ph.measureStart.tMs && s.tMs <= ph.end.tMs).map((s) => s.rssBytes);
  const peak = Math.max(ph.measureEnd.rssBytes, ...inWindow);
  return { ...sc, outcome, rssGrowthBytes: ph.measureEnd.rssBytes - ph.measureStart.rssBytes, rssPeakGrowthBytes: peak - ph.measureStart.rssBytes };
}

/** Broadcast membership in global ids: the first `publishers` publish, the last `slowConsumers.count` read slowly. */
function broadcastSets(total: number, m: BroadcastModel): { publishers: IdRange; slow: IdRange } {
  const slowCount = m.slowConsumers?.count ?? 0;
  // checkConnections bounds slow consumers by connections − publishers, so the two sets never overlap.
  const slowFirst = Math.max(m.publishers, total - slowCount);
  return { publishers: { first: 0, count: Math.min(m.publishers, total) }, slow: { first: slowFirst, count: Math.max(0, total - slowFirst) } };
}

/**
 * A segment's part of a broadcast: the publishers and slow consumers among its ids (roles are global, as the
 * worker gives them: id < publishers publishes), its publish rate, its churnable subscribers' share of the
 * leaves; and the publishers as the senders every other segment's members hear.
 */
function segmentOf(m: BroadcastModel, ctx: SegmentContext): ModelSegmentShare {
  const sets = broadcastSets(ctx.total, m);
  const publishers = intersect(ctx.connections, sets.publishers);
  const slowConsumers = intersect(ctx.connections, sets.slow);
  const churnableSubscribers = ctx.connections.count - publishers.count - slowConsumers.count;
  const out: ModelSegmentShare = {
    crossSenders: sets.publishers,
    publishers,
    slowConsumers,
    churnableSubscribers,
    sendRatePerSec: publishers.count * m.ratePerSecPerPublisher,
  };
  if (m.churn) {
    const allChurnable = ctx.total - sets.publishers.count - sets.slow.count;
    out.leavesPerSec = allChurnable > 0 ? (m.churn.leavesPerSec * churnableSubscribers) / allChurnable : 0;
  }
  return out;
}

export const broadcast: LoadModelDef<BroadcastModel> = {
  name: 'broadcast',
  description: 'broadcast: publishers send at a rate into rooms; every member receives every message, the sender included',
  routes: ['/broadcast'],
  message: 'accounted',
  validate,
  checkConnections,
  caseSuffix: () => '',
  primary: 'fixed-rate',
  primaryLatency: 'latencyP99Us',
  runsAs: () => 'load',
  segmentable: () => true,
  segment: segmentOf,
  drainTimeoutMs: (m) => (m.slowConsumers ? SLOW_CONSUMER_DRAIN_TIMEOUT_MS : DEFAULT_DRAIN_TIMEOUT_MS),
  createRunner: (_m, init, post) => new BroadcastSession(init, post),
  mergeParts(results, out) {
    // The time to the last recipient: per message, the latest delivery over every worker.
    const lastByKey = new Map<string, number>();
    for (const r of results) for (const e of r.lastRecipient ?? []) lastByKey.set(e.key, Math.max(lastByKey.get(e.key) ?? 0, e.maxLatencyUs));
    if (lastByKey.size > 0) {
      const h = createLatencyHistogram();
      for (const v of lastByKey.values()) recordUs(h, v);
      out.lastRecipient = summarizeHistogram(h);
      out.lastRecipientEncoded = encodeHistogram(h);
    }
    const slow = results.flatMap((r) => (r.slowConsumers ? [r.slowConsumers] : []));
    if (slow.length > 0) out.slowConsumers = mergeSlowConsumerParts(slow);
    const churn = results.flatMap((r) => (r.churn ? [r.churn] : []));
    if (churn.length > 0) {
      out.churn = { leaves: 0, rejoins: 0, failedRejoins: 0 };
      for (const c of churn) addCounts(out.churn, c);
    }
  },
  metrics(_m, load, ctx) {
    // Every published message is owed to every member of its room: the run's fan-out factor turns the window's
    // publishes into the deliveries owed; carried when (nearly) all of them arrived in the window.
    const fanout = load.delivery.sent > 0 ? load.delivery.expected / load.delivery.sent : 0;
    const owed = ctx.sentMsgs * fanout;
    const sustained = carried(ctx.receivedMsgs, owed);
    return { metrics: { sustained, ...(load.slowConsumers ? { slowConsumers: slowConsumerMetrics(load.slowConsumers, ctx.phases) } : {}) }, warnings: [] };
  },
  describe: (m) => `broadcast: ${m.publishers} publishers × ${m.ratePerSecPerPublisher} msg/s into ${m.rooms} room${m.rooms === 1 ? '' : 's'}`,
};

function validate(raw: Record<string, unknown>, path: string, problems: Problems): BroadcastModel[] {
  const before = problems.length;
  checkObject(raw, path, problems, KEYS, ['publishers', 'ratePerSecPerPublisher']);
  const publishers = checkNumber(raw['publishers'], `${path}.publishers`, problems, { integer: true, min: 1, max: 1_000_000 });
  const rate = checkNumber(raw['ratePerSecPerPublisher'], `${path}.ratePerSecPerPublisher`, problems, { min: 0.01, max: 1_000_000 });
  const rooms = checkNumber(raw['rooms'], `${path}.rooms`, problems, { integer: true, min: 1, max: 1_000_000 }) ?? 1;
  const arrivals = checkString(raw['arrivals'], `${path}.arrivals`, problems, ['constant', 'poisson']) as BroadcastModel['arrivals'];

  let burst: BroadcastModel['burst'];
  if (raw['burst'] !== undefined) {
    const p = `${path}.burst`;
    const b = checkObject(raw['burst'], p, problems, ['probability', 'messages', 'gapMs'], ['probability', 'messages', 'gapMs']);
    if (b) {
      const probability = checkNumber(b['probability'], `${p}.probability`, problems, { min: 0, max: 1 });
      const messages = checkNumber(b['messages'], `${p}.messages`, problems, { integer: true, min: 1, max: 10_000 });
      const gapMs = checkNumber(b['gapMs'], `${p}.gapMs`, problems, { min: 0, max: 3_600_000 });
      if (probability !== undefined && messages !== undefined && gapMs !== undefined) burst = { probability, messages, gapMs };
    }
  }

  let churn: BroadcastModel['churn'];
  if (raw['churn'] !== undefined) {
    const p = `${path}.churn`;
    const c = checkObject(raw['churn'], p, problems, ['leavesPerSec', 'rejoinAfterMs'], ['leavesPerSec', 'rejoinAfterMs']);
    if (c) {
      const leavesPerSec = checkNumber(c['leavesPerSec'], `${p}.leavesPerSec`, problems, { max: 1_000_000 });
      if (leavesPerSec !== undefined && !(leavesPerSec > 0)) problems.push(`${p}.leavesPerSec: must be greater than 0, got ${leavesPerSec}`);
      const rejoinAfterMs = checkNumber(c['rejoinAfterMs'], `${p}.rejoinAfterMs`, problems, { min: 0, max: 3_600_000 });
      if (leavesPerSec !== undefined && leavesPerSec > 0 && rejoinAfterMs !== undefined) churn = { leavesPerSec, rejoinAfterMs };
    }
  }

  let slowConsumers: BroadcastModel['slowConsumers'];
  if (raw['slowConsumers'] !== undefined) {
    const p = `${path}.slowConsumers`;
    const s = checkObject(raw['slowConsumers'], p, problems, ['count', 'readBytesPerSec'], ['count', 'readBytesPerSec']);
    if (s) {
      const count = checkNumber(s['count'], `${p}.count`, problems, { integer: true, min: 1, max: 1_000_000 });
      const readBytesPerSec = checkNumber(s['readBytesPerSec'], `${p}.readBytesPerSec`, problems, { min: 1, max: 2 ** 30 });
      if (count !== undefined && readBytesPerSec !== undefined) slowConsumers = { count, readBytesPerSec };
    }
  }

  if (publishers === undefined || rate === undefined || problems.length > before) return [];
  return [
    {
      model: 'broadcast',
      publishers,
      ratePerSecPerPublisher: rate,
      rooms,
      ...(arrivals ? { arrivals } : {}),
      ...(burst ? { burst } : {}),
      ...(churn ? { churn } : {}),
      ...(slowConsumers ? { slowConsumers } : {}),
    },
  ];
}

