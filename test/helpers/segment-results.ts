// Segment results made without a network: a broadcast whose deliveries are decided by the caller (losses,
// per-segment clock offsets), accounted by each segment's one worker exactly as a real worker does
// (DeliveryAccounting, deferred streams of other segments' publishers), so the merge can be checked against
// one accounting of the whole run.
import { DeliveryAccounting, type DeliveryTotals } from '../../loadgen/accounting.js';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../loadgen/histogram.js';
import type { WorkerResult } from '../../loadgen/ipc.js';
import { mergeWorkerResults } from '../../loadgen/run.js';
import { segmentPlan } from '../../loadgen/segment-run.js';
import { segmentOfId, segmentRange, type Segment } from '../../loadgen/segment.js';
import type { LoadPlan, SaturationVerdict } from '../../loadgen/types.js';
import { expandCases, validateScenario } from '../../core/scenario.js';
import { SEGMENT_RESULT_KIND, SEGMENT_RESULT_VERSION, type SegmentResult } from '../../core/segment-result.js';
import { deliveryOf } from '../../loadgen/session.js';

export interface FakeBroadcast {
  connections: number;
  publishers: number;
  rooms: number;
  segments: number;
  /** Messages each publisher sends (all inside the window). */
  sentPerPublisher: number;
  /** True when the message (sender, seq) never reaches `receiver`. */
  lost?: (sender: number, receiver: number, seq: number) => boolean;
  /** Each segment's clock minus the true time, µs (default 0). */
  clockOffsetUs?: (segment: number) => number;
  /** Segments whose load generator was saturated (a CPU reason on their worker 0). */
  saturated?: number[];
  /** Each segment's readiness before the start, ms (default 1000). */
  readyMarginMs?: (segment: number) => number;
  startAtMs?: number;
}

export const FAKE_START_AT_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

export function fakeScenario(b: Pick<FakeBroadcast, 'connections' | 'publishers' | 'rooms'>) {
  const { scenario, problems } = validateScenario(
    {
      name: 'fake-broadcast',
      description: 'a broadcast made up for the merge tests',
      route: '/broadcast',
      connections: b.connections,
      warmupSec: 1,
      durationSec: 1,
      load: { model: 'broadcast', publishers: b.publishers, ratePerSecPerPublisher: 10, rooms: b.rooms, arrivals: 'constant' },
      message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
    },
    'test',
  );
  if (!scenario) throw new Error(problems.join('; '));
  return expandCases(scenario)[0]!;
}

const membersIn = (b: FakeBroadcast, sender: number, range: { first: number; count: number }) => {
  const out: number[] = [];
  for (let r = range.first; r < range.first + range.count; r++) if (r % b.rooms === sender % b.rooms) out.push(r);
  return out;
};

/** The whole run's delivery totals, as one load generator holding every receiver would count them. */
export function wholeTotals(b: FakeBroadcast): DeliveryTotals {
  const acc = new DeliveryAccounting();
  const sent = new Map<number, number>();
  for (let s = 0; s < b.publishers; s++) {
    sent.set(s, b.sentPerPublisher);
    for (const r of membersIn(b, s, { first: 0, count: b.connections })) {
      for (let q = 0; q < b.sentPerPublisher; q++) if (!b.lost?.(s, r, q)) acc.record(s, r, q, true);
    }
  }
  return acc.finish(sent, (s) => membersIn(b, s, { first: 0, count: b.connections }));
}

/** The N segment results of the fake broadcast (parsed-JSON shape, as `bench merge` reads them). */
export function fakeSegmentResults(b: FakeBroadcast): SegmentResult[] {
  const c = fakeScenario(b);
  const startAtMs = b.startAtMs ?? FAKE_START_AT_MS;
  const whole: LoadPlan = {
    url: 'ws://10.77.0.1:9001/broadcast',
    connections: b.connections,
    load: c.model,
    message: c.scenario.message!,
    warmupMs: 1000,
    durationMs: 1000,
    drainTimeoutMs: 2000,
    connect: { maxInFlight: 256, timeoutMs: 10_000 },
    workers: 1,
    client: 'raw',
    seed: 1,
  };
  const out: SegmentResult[] = [];
  for (let k = 0; k < b.segments; k++) {
    const seg: Segment = { index: k, count: b.segments };
    const { plan, share } = segmentPlan(whole, seg);
    const range = segmentRange(b.connections, seg);
    const acc = new DeliveryAccounting();
    const latency = createLatencyHistogram();
    const lastRecipient = new Map<number, { maxLatencyUs: number; minLatencyUs: number; deliveries: number }>();
    const offset = (i: number) => b.clockOffsetUs?.(i) ?? 0;
    let deliveries = 0;
    for (let s = 0; s < b.publishers; s++) {
      const senderSeg = segmentOfId(s, b.connections, b.segments);
      for (const r of membersIn(b, s, range)) {
        for (let q = 0; q < b.sentPerPublisher; q++) {
          if (b.lost?.(s, r, q)) continue;
          acc.record(s, r, q, true);
          // The true latency grows with the receiver's id (the server's fan-out order); read on two clocks.
          const us = 100 + r + offset(k) - offset(senderSeg);
          recordUs(latency, us);
          deliveries++;
          const key = s * 4294967296 + q;
          const e = lastRecipient.get(key);
          if (!e) lastRecipient.set(key, { maxLatencyUs: us, minLatencyUs: us, deliveries: 1 });
          else {
            e.deliveries++;
            e.maxLatencyUs = Math.max(e.maxLatencyUs, us);
            e.minLatencyUs = Math.min(e.minLatencyUs, us);
          }
        }
      }
    }
    const localSent = new Map<number, number>();
    for (let s = range.first; s < Math.min(b.publishers, range.first + range.count); s++) localSent.set(s, b.sentPerPublisher);
    const remote: number[] = [];
    for (let s = 0; s < b.publishers; s++) if (s < range.first || s >= range.first + range.count) remote.push(s);
    const recipientsOf = (s: number) => membersIn(b, s, range);
    const totals = acc.finish(localSent, recipientsOf, undefined, remote);
    const localSentCount = [...localSent.values()].reduce((a, x) => a + x, 0);
    const connect = createLatencyHistogram();
    for (let i = 0; i < range.count; i++) recordUs(connect, 500 + i);
    const worker: WorkerResult = {
      worker: 0,
      pid: 1000 + k,
      connections: range.count,
      opened: range.count,
      failed: 0,
      connectPhaseMs: 20,
      latencyEncoded: encodeHistogram(latency),
      connectEncoded: encodeHistogram(connect),
      timeline: [{ second: 0, sentMsgs: localSentCount, receivedMsgs: deliveries, sentBytes: localSentCount * 64, receivedBytes: deliveries * 64 }],
      errors: {},
      closeCodes: {},
      delivery: deliveryOf(localSentCount, totals),
      lastRecipient: [...lastRecipient].map(([key, v]) => ({ key: String(key), ...v })),
      cpuUs: 100_000,
      measuredMs: 1000,
      eventLoopDelayP99Us: 100,
      eventLoopDelayMaxUs: 200,
      spinWait: false,
      ...(remote.length > 0 ? { deferred: acc.deferStreams(remote, recipientsOf) } : {}),
    };
    const load = mergeWorkerResults(plan, [worker], ['0']);
    if (b.saturated?.includes(k)) {
      const verdict: SaturationVerdict = { saturated: true, reasons: [{ kind: 'cpu', cpus: '0', workers: [0], pct: 99 }] };
      load.saturation = verdict;
    }
    const readyMarginMs = b.readyMarginMs?.(k) ?? 1000;
    out.push(
      JSON.parse(
        JSON.stringify({
          schemaVersion: SEGMENT_RESULT_VERSION,
          kind: SEGMENT_RESULT_KIND,
          tool: { name: 'bench', version: '0.1.0' },
          commandLine: ['bench', 'load', '--segment', `${k}/${b.segments}`],
          segment: seg,
          scenario: c.scenario,
          case: c.name,
          server: { label: 'node-ws', url: whole.url },
          seed: 1,
          plan,
          share,
          host: {
            hostname: `load-${k}`,
            cpuModel: 'test',
            logicalCpus: 2,
            allowedCpus: '0-1',
            kernel: 'Linux test',
            platform: 'linux',
            arch: 'x64',
            memoryBytes: 1,
            openFileLimit: 20000,
            ephemeralPortRange: [1024, 65535],
            cpuGovernor: null,
            nodeVersion: '20.0.0',
          },
          kernel: [{ name: 'RLIMIT_NOFILE', needed: range.count + 100, available: 20000, status: 'ok' }],
          clock: { startAtMs, connectedAtMs: startAtMs - readyMarginMs, readyMarginMs, wallMinusMonotonicMs: 0.01, wallMinusMonotonicEndMs: 0.01, wallStepMs: 0 },
          load,
          workers: [worker],
          sentBySender: [...localSent],
        } satisfies SegmentResult),
      ) as SegmentResult,
    );
  }
  return out;
}
