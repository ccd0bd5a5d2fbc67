import { modelOf, type AnyModel, type PhaseSamples } from '../loadgen/models/index.js';
import type { LoadResult } from '../loadgen/types.js';
import { linearRegression, medianRatePerSec } from '../stats/index.js';
import type { CellMetrics, HistogramSummary, ProcSample, VoiceMetrics, Warning } from '../schema/result.js';
import { createLatencyHistogram, summarizeHistogram } from '../loadgen/histogram.js';
import { cpuUsBetween } from './sampler.js';

export type { PhaseSamples };

/** Thresholds of the measurement-quality warnings. */
export const RSS_GROWTH_FRACTION = 0.1;

/**
 * The figures of one cell, computed from what the load generator measured and what /proc said about the
 * server: the figures every model has here, then the model's own (its `metrics`, loadgen/models/). Pure: the
 * same inputs give the same figures.
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
  const totalSent = sent.reduce((a, b) => a + b, 0);
  const rate = (xs: number[], total: number) =>
    medianRatePerSec(xs, { firstBucketPartial: false, lastBucketPartial: lastPartial }) ?? (windowMs > 0 ? (total * 1000) / windowMs : 0);
  const msgsPerSec = rate(received, totalReceived);
  const sentMsgsPerSec = rate(sent, totalSent);

  const serverCpuUs = cpuUsBetween(ph.measureStart, ph.measureEnd);
  const serverCpuUsPerMsg = totalReceived > 0 ? serverCpuUs / totalReceived : null;
  const msgsPerServerCpuSec = serverCpuUs > 0 && totalReceived > 0 ? totalReceived / (serverCpuUs / 1e6) : null;
  const serverCpuUtilPct = windowMs > 0 ? (serverCpuUs / (windowMs * 1000)) * 100 : 0;

  const sat = load.saturation;
  if (sat.saturated) {
    warnings.push({ code: 'loadgen-bound', reasons: sat.reasons });
  }
  const during = ph.all.filter((s) => s.tMs >= ph.measureStart.tMs && s.tMs <= ph.measureEnd.tMs);
  if (during.length >= 4 && ph.measureStart.rssBytes > 0) {
    const fit = linearRegression(during.map((s) => ({ x: s.tMs, y: s.rssBytes })));
    const growth = (ph.measureEnd.rssBytes - ph.measureStart.rssBytes) / ph.measureStart.rssBytes;
    if (fit.ok && fit.slope > 0 && growth > RSS_GROWTH_FRACTION) {
      warnings.push({ code: 'rss-growing', growthPct: growth * 100 });
    }
  }
  const d = load.delivery;
  const closedByServer = Object.values(load.closes.codes).reduce((a, b) => a + b, 0);
  if (d.lost + d.duplicated + d.corrupted + d.outOfOrder + d.misdelivered > 0 || closedByServer > 0 || load.connectionsFailed > 0) {
    warnings.push({
      code: 'delivery-errors',
      lost: d.lost,
      duplicated: d.duplicated,
      corrupted: d.corrupted,
      outOfOrder: d.outOfOrder,
      misdelivered: d.misdelivered,
      closedByServer,
      failedConnects: load.connectionsFailed,
      closeCodes: load.closes.codes,
    });
  }

  const metrics: CellMetrics = {
    msgsPerSec,
    sentMsgsPerSec,
    // A closed loop measures capacity: when the generator was the limit, the rate is only a lower bound. An open
    // loop's rate is what the server carried of an offered load: a bound only if the generator did not offer it
    // all (sends dropped or missing) or read late (its CPU); sends that merely left late were still offered.
    throughputIsLowerBound: load.openLoop ? !offeredInFull(load) : sat.saturated,
    latencyUs: load.latency,
    connectUs: load.connect,
    serverCpuUsPerMsg,
    serverCpuUtilPct,
    msgsPerServerCpuSec,
    rssBaselineBytes: ph.baseline.rssBytes,
    rssPeakBytes: Math.max(...ph.all.map((s) => s.rssBytes), ph.end.rssBytes),
    rssEndBytes: ph.end.rssBytes,
    // Memory per connection only ever comes from a slope over plateaus (idle in steps, a ceiling or capacity
    // search): RSS growth over one warmup divided by 50 connections measured the runtime's warm-up, not them.
    bytesPerConnection: null,
    serverThreads: ph.measureEnd.threads,
    serverFds: ph.measureEnd.fds,
    errors: load.errors,
    delivery: load.delivery,
    loadgen: { workers: load.workers, saturation: load.saturation },
    ...(load.lastRecipient ? { lastRecipientUs: load.lastRecipient } : {}),
    ...(load.openLoop ? { openLoop: load.openLoop } : {}),
    ...(load.churn ? { churn: load.churn } : {}),
  };
  const own = modelOf(model).metrics?.(model, load, {
    phases: ph,
    receivedMsgs: totalReceived,
    serverCpuUs,
    sentMsgs: totalSent,
    windowMs,
    msgsPerSec,
    ...(extra.upstream ? { upstream: extra.upstream } : {}),
  });
  if (own) {
    Object.assign(metrics, own.metrics);
    warnings.push(...own.warnings);
  }
  return { metrics, warnings };
}

/**
 * Whether an open loop's generator offered its whole load on time: nothing dropped, at least 99% of the intended
 * sends sent, no CPU limit (a generator at full CPU reads replies late, so fewer count in the window), and its
 * schedule kept (sends that left late through the generator's own stalls carry their replies past the window's
 * end: seen with 54 of 200 sends late after a ~70 ms stall, 189 replies in the window, and the case ranked on the
 * rate "carried" while the rate-missed warning rightly blamed the generator). Lateness the server caused (sockets
 * it stopped reading) is not in the reasons (loadgen/saturation.ts), so an overloaded server's shortfall stays its own.
 */
export function offeredInFull(load: Pick<LoadResult, 'openLoop' | 'saturation'>): boolean {
  const ol = load.openLoop;
  if (!ol) return !load.saturation.saturated;
  return ol.dropped === 0 && ol.sent >= 0.99 * ol.intended && !load.saturation.reasons.some((r) => r.kind === 'cpu' || r.kind === 'schedule');
}

/**
 * The figures of a cell that measured no messages: a ceiling or stepped idle search (its own figures beside
 * these), or a capacity search whose server was gone at its first plateau. Memory, threads and descriptors from
 * /proc (`baseline` before the load, `end` after; peak RSS the highest reading, by default of the two), the
 * handshakes' histogram where connections were opened (`connectUs`, µs), and no throughput, latency or cost.
 */
export function noMessageMetrics(baseline: ProcSample, end: ProcSample, o: { rssPeakBytes?: number; connectUs?: HistogramSummary } = {}): CellMetrics {
  const none = summarizeHistogram(createLatencyHistogram());
  return {
    msgsPerSec: 0,
    sentMsgsPerSec: 0,
    throughputIsLowerBound: false,
    latencyUs: none,
    connectUs: o.connectUs ?? none,
    serverCpuUsPerMsg: null,
    serverCpuUtilPct: 0,
    msgsPerServerCpuSec: null,
    rssBaselineBytes: baseline.rssBytes,
    rssPeakBytes: o.rssPeakBytes ?? Math.max(baseline.rssBytes, end.rssBytes),
    rssEndBytes: end.rssBytes,
    bytesPerConnection: null,
    serverThreads: end.threads,
    serverFds: end.fds,
    errors: {},
    delivery: { sent: 0, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
    loadgen: { workers: [], saturation: { saturated: false, reasons: [] } },
  };
}
