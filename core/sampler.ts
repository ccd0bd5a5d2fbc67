import { readProc, readSockStat, USER_HZ, type ProcReading } from './procfs.js';
import type { ProcSample } from '../schema/result.js';
export type { ProcSample };


export interface Sampler {
  /** Every sample so far (the array grows while sampling). */
  readonly samples: ProcSample[];
  /** Takes one sample now (also used to mark phase boundaries exactly). */
  sampleNow(): ProcSample | undefined;
  stop(): ProcSample[];
}

/**
 * Samples a process from /proc every `intervalMs` (default 250 ms): RSS, peak
 * RSS, cumulative CPU time, threads and fds. Measured from outside, so it works
 * for any runtime and for a user's own server whose pid is known.
 */
export function startSampler(pid: number, intervalMs = 250, nowMs: () => number = () => performance.now()): Sampler {
  const t0 = nowMs();
  const samples: ProcSample[] = [];
  const sampleNow = () => {
    const r = readProc(pid);
    if (!r) return undefined;
    const s: ProcSample = { ...r, tMs: nowMs() - t0, kernelTcpMemBytes: readSockStat()?.tcpMemBytes ?? 0 };
    samples.push(s);
    return s;
  };
  sampleNow();
  const timer = setInterval(sampleNow, intervalMs);
  timer.unref();
  return {
    samples,
    sampleNow,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** CPU microseconds (user + system) spent between two samples. */
export function cpuUsBetween(a: ProcReading, b: ProcReading): number {
  const ticks = b.cpuUserUs + b.cpuSystemUs - (a.cpuUserUs + a.cpuSystemUs);
  if (a.cpuPreciseUs === undefined || b.cpuPreciseUs === undefined) return ticks;
  const precise = b.cpuPreciseUs - a.cpuPreciseUs;
  // The precise sum covers live threads only: a thread that ended in between took its time with it. The tick
  // count keeps it, to a tick per thread: where the two disagree by more than that, the ticks are the truth.
  const slackUs = (2 * 1e6) / USER_HZ + (Math.max(a.threads, b.threads) * 1e6) / USER_HZ;
  return precise >= 0 && Math.abs(precise - ticks) <= slackUs ? precise : ticks;
}
