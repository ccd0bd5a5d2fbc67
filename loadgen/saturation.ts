// The one verdict on whether the load generator, not the server, limited a
// measurement. Used by every kind of load (a whole run, a ceiling beat, a
// capacity plateau): the figures are judged the same way everywhere.
import type { SaturationReason, SaturationVerdict } from '../schema/result.js';
import { expandCpuList } from '../base/cpus.js';

/** What one worker measured about itself over a window. */
export interface LoadgenSample {
  worker: number;
  /** The CPU list the worker was pinned to (several workers may share one); null when unpinned. */
  cpus: string | null;
  /** CPU time the worker used over the window, µs. */
  cpuUs: number;
  windowMs: number;
  eventLoopDelayP99Us: number;
  /** Spin-waiting for send times: its CPU reads ~100% by design, so its schedule, not its CPU, tells saturation. */
  spinWait: boolean;
  /** Scheduled sending (open loop, broadcast publishers, heartbeats): sends made, late and skipped. */
  schedule?: { sent: number; late: number; dropped: number; held?: number };
}

/** Bounds of the verdict. */
export interface SaturationBounds {
  /** CPU of the workers sharing a CPU list, summed, as % of that list's CPUs. */
  cpuPct: number;
  /** Event-loop delay p99 of any worker, µs. */
  loopDelayP99Us: number;
  /** Share of scheduled sends that may leave late. */
  lateFraction: number;
}

/**
 * 90% CPU: a worker that busy reads late and delays sends; 20 ms event-loop delay p99: a stall that long is
 * in every latency of its window; 1% late sends: beyond that the schedule, not the server, shapes latency.
 */
export const SATURATION_BOUNDS: SaturationBounds = { cpuPct: 90, loopDelayP99Us: 20_000, lateFraction: 0.01 };

/**
 * Whether the load generator limited the window, and why, as data (reports word it). Judged per CPU list,
 * not per worker: workers that share a CPU are summed, so two workers at 50% each on one core are a full
 * core (judging each alone called that 50%). Spin-waiting workers are judged by their schedule only; any
 * worker by its event-loop delay; any scheduled sender by late (beyond `lateFraction`) or dropped sends. A
 * worker whose sends were held back by backed-up sockets beyond `lateFraction` (the server not reading) has
 * its schedule and event-loop signs put under `heldByServer`: lateness the server caused is its latency.
 * An unpinned worker is judged alone against one core. Pure.
 */
export function judgeLoadgen(samples: readonly LoadgenSample[], bounds: SaturationBounds = SATURATION_BOUNDS): SaturationVerdict {
  const reasons: SaturationReason[] = [];
  const byCpus = new Map<string, { pct: number; workers: number[] }>();
  for (const s of samples) {
    if (s.spinWait) continue;
    const pct = s.windowMs > 0 ? (s.cpuUs / (s.windowMs * 1000)) * 100 : 0;
    const key = s.cpus ?? `unpinned:${s.worker}`;
    const cpuCount = s.cpus === null ? 1 : Math.max(1, expandCpuList(s.cpus).length);
    const g = byCpus.get(key) ?? { pct: 0, workers: [] };
    g.pct += pct / cpuCount;
    g.workers.push(s.worker);
    byCpus.set(key, g);
  }
  for (const [key, g] of byCpus) {
    if (g.pct >= bounds.cpuPct) reasons.push({ kind: 'cpu', cpus: key.startsWith('unpinned:') ? null : key, workers: g.workers, pct: g.pct });
  }
  const heldByServer: SaturationReason[] = [];
  for (const s of samples) {
    const sch = s.schedule;
    // Sockets backed up (the server stopped reading) beyond the late share: the worker's lateness and stalls are
    // the server's doing (writes queue, replies come in bursts), so they are the server's latency, not a limit.
    const held = sch !== undefined && sch.sent > 0 && (sch.held ?? 0) / sch.sent > bounds.lateFraction;
    const into = held ? heldByServer : reasons;
    if (sch && (sch.dropped > 0 || (sch.sent > 0 && sch.late / sch.sent > bounds.lateFraction))) {
      into.push({ kind: 'schedule', worker: s.worker, sent: sch.sent, late: sch.late, dropped: sch.dropped, ...(sch.held !== undefined ? { held: sch.held } : {}) });
    }
    if (s.eventLoopDelayP99Us >= bounds.loopDelayP99Us) into.push({ kind: 'loop-delay', worker: s.worker, p99Us: s.eventLoopDelayP99Us });
  }
  return { saturated: reasons.length > 0, reasons, ...(heldByServer.length > 0 ? { heldByServer } : {}) };
}

/** Load-generator CPU of the busiest CPU list (or unpinned worker), % of its CPUs, for reports. Pure. */
export function busiestLoadgenCpuPct(samples: readonly LoadgenSample[]): number {
  let worst = 0;
  const byCpus = new Map<string, number>();
  for (const s of samples) {
    if (s.spinWait) continue;
    const pct = s.windowMs > 0 ? (s.cpuUs / (s.windowMs * 1000)) * 100 : 0;
    const key = s.cpus ?? `unpinned:${s.worker}`;
    const n = s.cpus === null ? 1 : Math.max(1, expandCpuList(s.cpus).length);
    byCpus.set(key, (byCpus.get(key) ?? 0) + pct / n);
  }
  for (const v of byCpus.values()) worst = Math.max(worst, v);
  return worst;
}
