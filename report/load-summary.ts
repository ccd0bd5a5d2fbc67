import { modelOf } from '../loadgen/models/index.js';
import { describeSaturationReason } from './warnings.js';
import Table from 'cli-table3';
import type { LoadPlan, LoadResult } from '../loadgen/types.js';
import { formatRate, formatUs } from './units.js';

/** The human summary of one `bench load` run (stderr). Pure. */
export function renderLoadSummary(plan: LoadPlan, r: LoadResult): string {
  const seconds = r.measuredMs / 1000;
  const received = r.timeline.reduce((a, b) => a + b.receivedMsgs, 0);
  const t = new Table({ style: { head: [], border: [] } });
  const l = r.latency;
  const model = modelOf(plan.load).describe(plan.load);
  t.push(
    ['target', `${plan.url} · ${plan.connections} connections · ${model} · ${plan.client} client`],
    ['received', `${formatRate(seconds > 0 ? received / seconds : 0)} msg/s over ${seconds} s${r.saturation.saturated ? ' (lower bound: the load generator was saturated)' : ''}`],
    ['latency', l.count ? `p50 ${formatUs(l.p50Us)} · p90 ${formatUs(l.p90Us)} · p99 ${formatUs(l.p99Us)} · p99.9 ${formatUs(l.p999Us)} · max ${formatUs(l.maxUs)}` : '–'],
    ['connect', `${r.connectionsOpened} opened, ${r.connectionsFailed} failed in ${Math.round(r.connectPhaseMs)} ms · p50 ${formatUs(r.connect.p50Us)} · p99 ${formatUs(r.connect.p99Us)}`],
    ['delivery', `sent ${r.delivery.sent}, expected ${r.delivery.expected}, received ${r.delivery.received}, lost ${r.delivery.lost}, duplicated ${r.delivery.duplicated}, corrupted ${r.delivery.corrupted}, out of order ${r.delivery.outOfOrder}, misdelivered ${r.delivery.misdelivered}`],
    ['errors', Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '0'],
    ['closed by server', Object.entries(r.closes.codes).map(([code, n]) => `${n} × ${code === '1006' ? '1006 (no close frame)' : code}`).join(', ') || '0'],
    ['load generator', r.workers.map((w) => `worker ${w.worker}: ${w.spinWait ? 'spin-wait' : `${w.cpuUtilPct.toFixed(0)}% CPU`}, loop delay p99 ${formatUs(w.eventLoopDelayP99Us)}`).join('; ')],
  );
  if (r.openLoop) {
    const held = r.openLoop.held ? `, held by backed-up sockets ${r.openLoop.held}` : '';
    t.push(['schedule (window)', `intended ${r.openLoop.intended}, sent ${r.openLoop.sent}, late ${r.openLoop.late}, dropped ${r.openLoop.dropped}${held}`]);
  }
  if (r.lastRecipient) t.push(['last recipient', `p50 ${formatUs(r.lastRecipient.p50Us)} · p99 ${formatUs(r.lastRecipient.p99Us)} · max ${formatUs(r.lastRecipient.maxUs)}`]);
  if (r.saturation.saturated) t.push(['saturated', r.saturation.reasons.map(describeSaturationReason).join('; ')]);
  if (r.saturation.heldByServer) {
    t.push(['held by server', `${r.saturation.heldByServer.map(describeSaturationReason).join('; ')}: the server stopped reading, so this lateness is its latency`]);
  }
  return t.toString() + '\n';
}
