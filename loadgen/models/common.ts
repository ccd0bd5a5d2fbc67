// Small pieces several load models share.
import type { Warning } from '../../schema/result.js';
import type { LoadResult } from '../types.js';

/** The ordinary drain: what is in flight on loopback arrives well within it. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2000;

/** Below this share of the target rate, replies count as short of the rate. */
export const RATE_MISSED_FRACTION = 0.95;
/**
 * A fixed-rate load counts as carried (sustained) when at least this share of what was owed came back in the
 * window: the rest of 1% is what is still in flight at the window's edge.
 */
export const SUSTAINED_SHARE = 0.99;

/**
 * A few messages either side of the window's edges are not a shortfall: the window counts sends by their
 * intended time and arrivals by their arrival time, so at a low rate or in a short window one or two messages
 * in flight at an edge would exceed 1% (120 sent, 118 back at 200 msg/s over 0.6 s).
 */
export const EDGE_SLACK_MSGS = 5;

/** Whether `received` of `owed` means the offered load was carried: short by at most 1%, or by the edge slack. */
export function carried(received: number, owed: number): boolean {
  return owed > 0 && owed - received <= Math.max((1 - SUSTAINED_SHARE) * owed, EDGE_SLACK_MSGS);
}

/** Above this share of late sends, the schedule counts as missed. */
export const LATE_FRACTION = 0.01;

/**
 * The `rate-missed` warning of a scheduled load, or undefined when the rate was carried: sends dropped or
 * more than 1% late (the generator's schedule), or, for a model whose every send is echoed, fewer than 95% of
 * the target coming back (the server). The hint names the part that fell short, and agrees with the figures:
 * a generator that kept its schedule is never blamed, nor a server whose replies all came back.
 */
export function rateMissedWarning(load: LoadResult, receivedMsgs: number, windowMs: number, o: { echoes: boolean }): Warning | undefined {
  const ol = load.openLoop;
  if (!ol) return undefined;
  const expected = (ol.targetPerSec * windowMs) / 1000;
  const short = o.echoes && expected > 0 && receivedMsgs < expected * RATE_MISSED_FRACTION;
  const lateShare = ol.sent > 0 ? ol.late / ol.sent : 0;
  const scheduleMissed = ol.dropped > 0 || lateShare > LATE_FRACTION;
  if (!short && !scheduleMissed) return undefined;
  const sentPerSec = windowMs > 0 ? (ol.sent * 1000) / windowMs : 0;
  // Sockets backed up: the server stopped reading, and lateness around it is the server's (judgeLoadgen agrees).
  const held = ol.sent > 0 && (ol.held ?? 0) / ol.sent > LATE_FRACTION;
  const part = held ? 'server-reads' : short && !scheduleMissed ? 'server' : load.saturation.saturated ? 'loadgen' : 'server-reads';
  return {
    code: 'rate-missed',
    targetPerSec: ol.targetPerSec,
    sentPerSec,
    receivedPerSec: o.echoes && windowMs > 0 ? (receivedMsgs * 1000) / windowMs : null,
    sent: ol.sent,
    late: ol.late,
    dropped: ol.dropped,
    ...(ol.held ? { held: ol.held } : {}),
    part,
  };
}
