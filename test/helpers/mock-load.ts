// A load generator that sends nothing: it walks through the phases the real one
// reports and returns a synthetic result, so orchestrator, reporter and CLI tests
// do not depend on wall time or CPU.
import { createLatencyHistogram, encodeHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import type { RunLoadOptions } from '../../loadgen/run.js';
import type { LoadPlan, LoadResult } from '../../loadgen/types.js';

export interface MockLoadOptions {
  /** Messages per second the fake run reports. */
  msgsPerSec?: number;
  /** Called between measure-start and measure-end (for example to interrupt the run). */
  duringMeasure?: () => void | Promise<void>;
  saturated?: boolean;
  /** Add a voice result (for voice cases): 10 turns, each with its 11 replies. */
  voice?: boolean;
}

export function mockLoad(o: MockLoadOptions = {}) {
  const plans: LoadPlan[] = [];
  const run = async (plan: LoadPlan, opts: RunLoadOptions): Promise<LoadResult> => {
    plans.push(plan);
    const rate = o.msgsPerSec ?? 1000;
    // As the real one: the caller's baseline is taken after the workers start, before they connect.
    await opts.beforeConnect?.();
    opts.onPhase?.('connected');
    opts.onPhase?.('measure-start');
    await o.duringMeasure?.();
    if (opts.signal?.aborted) throw Object.assign(new Error('interrupted'), { code: 'E_INTERRUPTED' });
    opts.onPhase?.('measure-end');
    opts.onPhase?.('done');
    const h = createLatencyHistogram();
    for (let i = 1; i <= 100; i++) recordUs(h, i * 10);
    const seconds = 3;
    const timeline = Array.from({ length: seconds }, (_, s) => ({ second: s, sentMsgs: rate, receivedMsgs: rate, sentBytes: rate * 128, receivedBytes: rate * 128 }));
    const total = rate * seconds;
    return {
      latency: summarizeHistogram(h),
      latencyEncoded: encodeHistogram(h),
      connect: summarizeHistogram(h),
      connectEncoded: encodeHistogram(h),
      timeline,
      connectionsOpened: plan.connections,
      connectionsFailed: 0,
      connectPhaseMs: 5,
      errors: {},
      closes: { codes: {} },
      delivery: { sent: total, expected: total, received: total, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
      workers: [{ worker: 0, pid: 1, cpus: '1', connections: plan.connections, cpuUs: 1e6, cpuUtilPct: o.saturated ? 99 : 40, eventLoopDelayP99Us: 100, eventLoopDelayMaxUs: 200, spinWait: false }],
      saturation: o.saturated ? { saturated: true, reasons: [{ kind: 'cpu', cpus: '1', workers: [0], pct: 99 }] } : { saturated: false, reasons: [] },
      measuredMs: seconds * 1000,
      ...(o.voice
        ? {
            voice: {
              firstChunk: summarizeHistogram(h),
              firstChunkEncoded: encodeHistogram(h),
              relayOverhead: summarizeHistogram(h),
              relayOverheadEncoded: encodeHistogram(h),
              jitter: summarizeHistogram(h),
              jitterEncoded: encodeHistogram(h),
              audioEventsSent: total - 10,
              controlEventsSent: 10,
              turnsTriggered: 10,
              turnsCompleted: 10,
              repliesExpected: 110,
              repliesReceived: 110,
              repliesCorrupted: 0,
            },
          }
        : {}),
    };
  };
  return { run, plans };
}
