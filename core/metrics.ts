import { describeSaturationReason } from '../loadgen/saturation.js';
import { linearRegression, medianRatePerSec } from '../stats/index.js';
import type { AnyModel } from '../loadgen/models/index.js';
import type { LoadResult } from '../loadgen/types.js';
import type { CellMetrics, SlowConsumerMetrics, VoiceMetrics, Warning } from '../schema/result.js';
import type { ProcSample } from './sampler.js';
import { cpuUsBetween } from './sampler.js';

/** Samples of the server taken exactly at the phase boundaries (plus the periodic ones). */
export interface PhaseSamples {
  /** Before any client connected. */
  baseline: ProcSample;
  /** All connections open, before warmup. */
  connected: ProcSample;
  measureStart: ProcSample;
  measureEnd: ProcSample;
  /** Last sample before the server was stopped. */
  end: ProcSample;
  /** Every sample, for peak RSS and growth. */
  all: ProcSample[];
}

/** Thresholds of the measurement-quality warnings. */
export const RATE_MISSED_FRACTION = 0.95;
export const LATE_FRACTION = 0.01;
export const RSS_GROWTH_FRACTION = 0.1;

/**
 * The figures of one cell, computed from what the load generator measured and
 * what /proc said about the server. Pure: the same inputs give the same figures.
 */
export function computeCellMetrics(
  load: LoadResult,
  ph: PhaseSamples,
  model: AnyModel,
  extra: { upstream?: VoiceMetrics['upstream'] } = {},
): { metrics: CellMetrics; warnings: Warning[] } {
  const warnings: Warning[] = [];
  const received = load.timeline.map((b) => b.receivedMsgs);
  const sent = load.timeline.map((b) => b.sentMsgs);
  const windowMs = load.measuredMs;
  const lastPartial = windowMs % 1000 !== 0;
  const totalReceived = received.reduce((a, b) => a + b, 0);
  const rate = (xs: number[], total: number) =>
    medianRatePerSec(xs, { firstBucketPartial: false, lastBucketPartial: lastPartial }) ?? (windowMs > 0 ? (total * 1000) / windowMs : 0);
  const msgsPerSec = rate(received, totalReceived);
  const sentMsgsPerSec = rate(sent, sent.reduce((a, b) => a + b, 0));

  const serverCpuUs = cpuUsBetween(ph.measureStart, ph.measureEnd);
  // A relay's work is both directions: per relayed message, not per message the client received.
  const relayedMsgs = model.model === 'voice' ? totalReceived + sent.reduce((a, b) => a + b, 0) : totalReceived;
  const serverCpuUsPerMsg = relayedMsgs > 0 ? serverCpuUs / relayedMsgs : null;
  const msgsPerServerCpuSec = serverCpuUs > 0 && totalReceived > 0 ? totalReceived / (serverCpuUs / 1e6) : null;
  const serverCpuUtilPct = windowMs > 0 ? (serverCpuUs / (windowMs * 1000)) * 100 : 0;
  const connections = load.connectionsOpened;
  const bytesPerConnection = connections > 0 ? (ph.measureStart.rssBytes - ph.baseline.rssBytes) / connections : null;

  const sat = load.saturation;
  // A closed loop measures capacity: when the generator was the limit, the rate is only a lower bound.
  const throughputIsLowerBound = sat.saturated && model.model !== 'idle';
  if (sat.saturated) {
    warnings.push({
      code: 'loadgen-bound',
      message: `the load generator limited this cell (${sat.reasons.map(describeSaturationReason).join('; ')}); its throughput is a lower bound of the server's`,
      hint: 'give the load generator more CPUs (--loadgen-cpus), fewer connections, or compare server CPU µs per message instead',
    });
  }
  if (load.openLoop) {
    const ol = load.openLoop;
    const expectedReceived = (ol.targetPerSec * windowMs) / 1000;
    // A relay's replies are not its sends: for voice only the schedule itself (dropped sends) tells a missed rate.
    const echoShort = model.model === 'open' && expectedReceived > 0 && totalReceived < expectedReceived * RATE_MISSED_FRACTION;
    const missed = ol.dropped > 0 || echoShort;
    const lateShare = ol.sent > 0 ? ol.late / ol.sent : 0;
    if (missed || lateShare > LATE_FRACTION) {
      warnings.push({
        code: 'rate-missed',
        message:
          `target ${ol.targetPerSec} msg/s: ${model.model === 'voice' ? `sent ${Math.round(sentMsgsPerSec)}` : `received ${Math.round(msgsPerSec)}`} msg/s, ` +
          `${ol.late} of ${ol.sent} sends late, ${ol.dropped} dropped`,
        hint: sat.saturated
          ? 'the load generator could not keep the schedule: lower the rate or give it more CPUs'
          : 'the server could not keep up with this rate: its latency here includes queueing',
      });
    }
  }
  const during = ph.all.filter((s) => s.tMs >= ph.measureStart.tMs && s.tMs <= ph.measureEnd.tMs);
  if (during.length >= 4 && ph.measureStart.rssBytes > 0) {
    const fit = linearRegression(during.map((s) => ({ x: s.tMs, y: s.rssBytes })));
    const growth = (ph.measureEnd.rssBytes - ph.measureStart.rssBytes) / ph.measureStart.rssBytes;
    if (fit.ok && fit.slope > 0 && growth > RSS_GROWTH_FRACTION) {
      warnings.push({
        code: 'rss-growing',
        message: `server RSS grew ${(growth * 100).toFixed(0)}% during the measured window and was still rising`,
        hint: 'memory figures are not settled: use a longer --warmup or --duration, or look for a leak or unbounded buffering',
      });
    }
  }
  const d = load.delivery;
  const errorCount = Object.values(load.errors).reduce((a, b) => a + (b ?? 0), 0);
  if (d.lost + d.duplicated + d.corrupted + d.outOfOrder > 0 || errorCount > 0 || load.connectionsFailed > 0) {
    warnings.push({
      code: 'delivery-errors',
      message:
        `lost ${d.lost}, duplicated ${d.duplicated}, corrupted ${d.corrupted}, out of order ${d.outOfOrder}, ` +
        `${errorCount} connection errors, ${load.connectionsFailed} failed connects`,
      hint: 'a server that loses or reorders messages is not comparable on speed; see the errors by kind in the JSON',
    });
  }

  const voice = load.voice ? voiceMetrics(load, relayedMsgs, serverCpuUsPerMsg, bytesPerConnection, extra.upstream) : undefined;
  if (voice?.upstream && (voice.upstream.cpuUtilPct > UPSTREAM_BUSY_PCT || voice.upstream.chunksDropped > 0)) {
    warnings.push({
      code: 'upstream-bound',
      message: `the simulated upstream used ${voice.upstream.cpuUtilPct.toFixed(0)}% of a core and dropped ${voice.upstream.chunksDropped} reply chunks: its own delay may be in the first-chunk times`,
      hint: 'give the upstream a CPU of its own (a third CPU), or run fewer sessions',
    });
  }
  const slowConsumers = load.slowConsumers ? slowConsumerMetrics(load.slowConsumers, ph) : undefined;

  const metrics: CellMetrics = {
    msgsPerSec,
    sentMsgsPerSec,
    throughputIsLowerBound,
    latencyUs: load.latency,
    connectUs: load.connect,
    serverCpuUsPerMsg,
    serverCpuUtilPct,
    msgsPerServerCpuSec,
    rssBaselineBytes: ph.baseline.rssBytes,
    rssPeakBytes: Math.max(...ph.all.map((s) => s.rssBytes), ph.end.rssBytes),
    rssEndBytes: ph.end.rssBytes,
    bytesPerConnection,
    serverThreads: ph.measureEnd.threads,
    serverFds: ph.measureEnd.fds,
    errors: load.errors,
    delivery: load.delivery,
    loadgen: { workers: load.workers, saturation: load.saturation },
    ...(load.lastRecipient ? { lastRecipientUs: load.lastRecipient } : {}),
    ...(load.openLoop ? { openLoop: load.openLoop } : {}),
    ...(voice ? { voice } : {}),
    ...(slowConsumers ? { slowConsumers } : {}),
    ...(load.churn ? { churn: load.churn } : {}),
  };
  return { metrics, warnings };
}

/** Above this share of one core the simulated upstream may be delaying replies itself. */
export const UPSTREAM_BUSY_PCT = 80;

function voiceMetrics(
  load: LoadResult,
  relayedMsgs: number,
  serverCpuUsPerMsg: number | null,
  bytesPerConnection: number | null,
  upstream: VoiceMetrics['upstream'] | undefined,
): VoiceMetrics {
  const v = load.voice!;
  return {
    firstChunkUs: v.firstChunk,
    relayOverheadUs: v.relayOverhead,
    jitterUs: v.jitter,
    turnsTriggered: v.turnsTriggered,
    turnsCompleted: v.turnsCompleted,
    audioEventsSent: v.audioEventsSent,
    controlEventsSent: v.controlEventsSent,
    repliesExpected: v.repliesExpected,
    repliesReceived: v.repliesReceived,
    repliesCorrupted: v.repliesCorrupted,
    relayedMsgs,
    serverCpuUsPerRelayedMsg: serverCpuUsPerMsg,
    bytesPerSession: bytesPerConnection,
    ...(upstream ? { upstream } : {}),
  };
}

/**
 * The backpressure outcome for slow consumers: closed by the server, messages
 * dropped for them, or everything delivered in the end (buffered, in the
 * server or the kernel), with the server's memory growth beside it.
 */
export function slowConsumerMetrics(sc: NonNullable<LoadResult['slowConsumers']>, ph: PhaseSamples): SlowConsumerMetrics {
  const outcome: SlowConsumerMetrics['outcome'] = sc.closedByServer > 0 ? 'closes' : sc.missing > 0 ? 'drops' : 'buffers';
  const inWindow = ph.all.filter((s) => s.tMs >= ph.measureStart.tMs && s.tMs <= ph.end.tMs).map((s) => s.rssBytes);
  const peak = Math.max(ph.measureEnd.rssBytes, ...inWindow);
  return {
    ...sc,
    outcome,
    rssGrowthBytes: ph.measureEnd.rssBytes - ph.measureStart.rssBytes,
    rssPeakGrowthBytes: peak - ph.measureStart.rssBytes,
  };
}
