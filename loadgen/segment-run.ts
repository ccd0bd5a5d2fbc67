import { BenchError, isBenchError } from '../base/errors.js';
import type { WorkerResult } from './ipc.js';
import { runLoad, type RunLoadOptions } from './run.js';
import { epochClockUs } from './schedule.js';
import { formatSegment, segmentShare, type Segment, type SegmentShare } from './segment.js';
import type { LoadPlan, LoadResult } from './types.js';

/**
 * One load segment from start to end (issue 16): the scenario's plan cut to segment I of N (loadgen/segment.ts),
 * run by this process's workers (runLoad) with warmup starting at the wall-clock time every segment agreed on,
 * and what the merge of the segments needs (core/merge.ts): the workers' raw results, the sent counts of the
 * senders other segments hear, and the segment's clock.
 *
 * The clock, and what is measured about it. The segments agree on a *wall-clock* instant (`--start-at`, epoch
 * ms: what Date.now reads, which NTP or PTP keeps in step across machines); the workers run their windows on
 * a *monotonic* epoch clock (schedule.ts epochClockUs: the process's start on the wall clock plus the monotonic
 * time since), which a stepped or slewed wall clock does not move. The segment reads the difference between the
 * two (`wallMinusMonotonicMs`) before it connects, converts the agreed start into its workers' clock with
 * it, and reads it again after the window: the change (`wallStepMs`) is how far the wall clock moved meanwhile,
 * i.e. how far this segment's window drifted from the others' (to a millisecond: Date.now counts whole ones). It also records when it was ready
 * (`readyMarginMs`: the agreed start minus the time its connections were all open; negative: late, its warmup
 * was shortened by that). What one segment cannot see alone is its clock's offset from the other machines';
 * the merge estimates that where messages cross segments (core/merge.ts, first arrivals of broadcast messages).
 */

/** A segment's clock readings, wall-clock times as epoch ms. */
export interface SegmentClock {
  /** The agreed start of the warmup (--start-at). */
  startAtMs: number;
  /** Wall clock when every connection of this segment was open. */
  connectedAtMs: number;
  /** startAtMs − connectedAtMs: how early the segment was ready; negative: late. */
  readyMarginMs: number;
  /** Date.now() − epochClockUs()/1000 as the segment began (before connecting): what the agreed start was corrected by. */
  wallMinusMonotonicMs: number;
  /** The same after the window's end. */
  wallMinusMonotonicEndMs: number;
  /** wallMinusMonotonicEndMs − wallMinusMonotonicMs: the wall clock's step or slew during the run. */
  wallStepMs: number;
}

/** What one segment measured, before the merge. */
export interface SegmentRun {
  /** The segment's plan: the scenario's, with this segment's seed, connect rate and ids (`plan.segment`). */
  plan: LoadPlan;
  share: SegmentShare;
  /** The segment's own figures, merged over its workers (what it prints); its broadcast delivery leaves other segments' publishers to the merge. */
  load: LoadResult;
  /** Its workers' raw results (encoded histograms, timelines, counts, deferred streams): what the merge adds up. */
  workers: WorkerResult[];
  /** Sent counts of this segment's senders that other segments hear ([connection id, messages]); empty when none. */
  sentBySender: [number, number][];
  clock: SegmentClock;
}

/**
 * Segment `seg` of a whole scenario's plan: the segment's seed and connect rate (segmentShare), its ids in
 * `plan.segment`, at most one worker per connection. `plan.connections` stays the scenario's total.
 * @throws SegmentError (E_INVALID_SEGMENT) with more segments than connections
 */
export function segmentPlan(plan: LoadPlan, seg: Segment): { plan: LoadPlan; share: SegmentShare } {
  const share = segmentShare(plan, seg);
  const out: LoadPlan = {
    ...plan,
    seed: share.seed,
    workers: Math.max(1, Math.min(plan.workers, share.connections.count)),
    connect: { ...plan.connect },
    segment: { index: seg.index, count: seg.count, firstConnId: share.connections.first, connections: share.connections.count },
  };
  if (share.connectRatePerSec !== undefined) out.connect.ratePerSec = share.connectRatePerSec;
  else delete out.connect.ratePerSec;
  return { plan: out, share };
}

/** The most a start may lie ahead: a day; further is a mistake (seconds for milliseconds, a wrong date). */
export const MAX_START_AHEAD_MS = 24 * 3600 * 1000;

export interface RunSegmentOptions extends Omit<RunLoadOptions, 'startAtUs' | 'onWorkerResults'> {
  /** The wall clock, epoch ms (default Date.now); tests inject one. */
  wallClockMs?: () => number;
}

/**
 * Runs segment `seg` of `plan` (a whole scenario's plan, as core/run.ts loadPlanFor makes it) with its warmup
 * starting at `startAtMs` on the wall clock.
 * @throws BenchError E_SEGMENT_LATE when the measured window (start + warmup) has begun before the segment's
 *   connections were open (nothing this segment measured would line up with the others'), or the start lies
 *   more than MAX_START_AHEAD_MS ahead; E_LOADGEN_FAILED, E_INTERRUPTED as runLoad
 */
export async function runSegment(plan: LoadPlan, seg: Segment, startAtMs: number, opts: RunSegmentOptions): Promise<SegmentRun> {
  const wall = opts.wallClockMs ?? (() => Date.now());
  const label = formatSegment(seg);
  const windowAtMs = startAtMs + plan.warmupMs;
  const late = (nowMs: number) =>
    new BenchError('E_SEGMENT_LATE', `segment ${label}: its window began at ${new Date(windowAtMs).toISOString()} (--start-at + warmup), ${Math.round(nowMs - windowAtMs)} ms before it was ready`, {
      hint: 'give every segment time to start and connect before --start-at (image pull, scheduling, connects), e.g. --start-at $(date -d "+3 min" +%s%3N)',
    });
  if (wall() >= windowAtMs) throw late(wall());
  if (startAtMs - wall() > MAX_START_AHEAD_MS) {
    throw new BenchError('E_SEGMENT_LATE', `segment ${label}: --start-at ${new Date(startAtMs).toISOString()} is more than a day ahead`, { hint: 'give the start in epoch milliseconds (not seconds, not microseconds)' });
  }
  const { plan: segPlan, share } = segmentPlan(plan, seg);
  const offsetMs = () => wall() - epochClockUs() / 1000;
  // The start on the workers' clock, from the wall-clock instant and the difference between the two clocks now.
  const atConnect = offsetMs();
  const startAtUs = (startAtMs - atConnect) * 1000;
  let connectedAtMs = NaN;
  let wentLate = false;
  const abort = new AbortController();
  const onUserAbort = () => abort.abort();
  opts.signal?.addEventListener('abort', onUserAbort, { once: true });
  let workers: WorkerResult[] = [];
  let sentAll: [number, number][] = [];
  try {
    const load = await runLoad(segPlan, {
      ...opts,
      signal: abort.signal,
      startAtUs,
      onWorkerResults: (results, sent) => {
        workers = results;
        sentAll = sent;
      },
      onPhase: (p) => {
        if (p === 'connected') {
          connectedAtMs = wall();
          if (connectedAtMs >= windowAtMs) {
            wentLate = true;
            abort.abort();
          }
        }
        opts.onPhase?.(p);
      },
    });
    const atEnd = offsetMs();
    const cross = share.crossSenders;
    const sentBySender = cross.count > 0 ? sentAll.filter(([id]) => id >= cross.first && id < cross.first + cross.count) : [];
    return {
      plan: segPlan,
      share,
      load,
      workers,
      sentBySender,
      clock: {
        startAtMs,
        connectedAtMs,
        readyMarginMs: startAtMs - connectedAtMs,
        wallMinusMonotonicMs: atConnect,
        wallMinusMonotonicEndMs: atEnd,
        wallStepMs: atEnd - atConnect,
      },
    };
  } catch (e) {
    if (wentLate && !opts.signal?.aborted && (!isBenchError(e) || e.code === 'E_INTERRUPTED')) throw late(connectedAtMs);
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onUserAbort);
  }
}
