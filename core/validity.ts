// Which figures of a cell the load generator's limits affected: "mark what a limit affected", figure by
// figure, instead of flagging the whole cell. Latency is measured from each message's intended send time, so a
// send that left late carries its lateness in its own latency: with a share L of sends late, the percentiles
// below 1 − L are the server's; a generator at full CPU reads late and affects every latency and throughput.
// Pure.

import type { CellResult } from '../schema/result.js';
import type { MetricId } from './compare-metrics.js';

/** A percentile counts as the server's when at most this share of the sends beyond it can have left late. */
const PERCENTILE_MARGIN = 0.5;

/** The share of a cell's scheduled sends that left late or were dropped (the generator's own lateness), or 0. */
export function lateShareOf(cell: CellResult): number {
  const workers = cell.metrics?.loadgen.workers ?? [];
  let sent = 0;
  let late = 0;
  for (const w of workers) {
    if (!w.schedule) continue;
    sent += w.schedule.sent + w.schedule.dropped;
    late += w.schedule.late + w.schedule.dropped;
  }
  return sent > 0 ? late / sent : 0;
}

const PERCENTILE: Partial<Record<MetricId, number>> = {
  latencyP50Us: 0.5,
  latencyP99Us: 0.99,
  latencyP999Us: 0.999,
  relayOverheadP50Us: 0.5,
  relayOverheadP99Us: 0.99,
};

/**
 * Whether the load generator's limits in `cell` make `metric` describe the client rather than the server:
 * - server-side figures (CPU per message, RSS, bytes per connection): never;
 * - throughput: when the cell's throughput is a lower bound (core/metrics.ts: a closed loop the generator
 *   limited, an open loop whose load was not offered in full);
 * - a latency percentile q: when the generator was CPU-bound, or when more than half of the 1 − q tail can be
 *   sends that left late (late share > (1 − q) × 0.5; stalls of its event loop show in that share): p50 stays
 *   the server's with up to 25% of sends late, p99 only below 0.5%. Lateness the server caused (held sends) is
 *   not the generator's (loadgen/saturation.ts moves it out of the reasons).
 * A closed loop's latency is Little's law and follows throughput: affected whenever the cell was saturated.
 */
export function affectedByLoadgen(metric: MetricId, cell: CellResult): boolean {
  const m = cell.metrics;
  if (!m) return false;
  if (metric === 'msgsPerSec') return m.throughputIsLowerBound;
  const q = PERCENTILE[metric];
  if (q === undefined) return false;
  const reasons = m.loadgen.saturation.reasons;
  if (!reasons.some((r) => r.kind === 'schedule')) return m.loadgen.saturation.saturated;
  // Scheduled (open-loop) sends: a generator at full CPU reads every reply late; stalls (event-loop delay) make
  // sends leave late and replies wait during them, a share of the time the late share measures: the tail's.
  if (reasons.some((r) => r.kind === 'cpu')) return true;
  return lateShareOf(cell) > (1 - q) * PERCENTILE_MARGIN;
}
