import { readProc, readSockStat, type ProcReading } from './procfs.js';
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
  return b.cpuUserUs + b.cpuSystemUs - (a.cpuUserUs + a.cpuSystemUs);
}
