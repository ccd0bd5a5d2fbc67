// The words of every measurement-quality warning, made from its data (the
// result stores codes and figures only): what happened, with the figures, and
// what to change. One function per code, so a new warning is a compile error
// here until it has its words.
import type { SaturationReason, Warning, WarningCode, WarningData } from '../schema/result.js';

export interface WarningText {
  message: string;
  hint: string;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function closes(codes: Record<string, number>): string {
  const parts = Object.entries(codes).map(([code, count]) => `${count} × ${code === '1006' ? '1006 (no close frame)' : code}`);
  return parts.length > 0 ? ` (close codes: ${parts.join(', ')})` : '';
}

/** Whose limit a missed rate was (Warning 'rate-missed' part), first in its message. */
const RATE_MISSED_WHO = {
  loadgen: "the load generator's schedule slipped",
  server: 'the server fell short of the rate',
  'server-reads': 'the server held sends back (its sockets backed up)',
} as const;

const WORDS: { [C in WarningCode]: (w: Extract<WarningData, { code: C }>) => WarningText } = {
  'loadgen-bound': (w) =>
    w.atConnections
      ? {
          message: `the load generator fell behind its heartbeat schedule at ${w.atConnections.map(n).join(', ')} connections: heartbeat latency there is partly its own`,
          hint: 'lengthen load.heartbeat.intervalMs, or give the load generator more CPUs (--loadgen-cpus)',
        }
      : {
          message: `the load generator limited this cell (${w.reasons.map(describeSaturationReason).join('; ')}): figures it can bound (throughput, latency) describe the client here, not the server`,
          hint: 'give the load generator more CPUs (--loadgen-cpus), fewer connections, or compare server CPU µs per message instead',
        },
  'rate-missed': (w) => ({
    // Who missed first, so the figures after it read as evidence, not as a contradiction of "the rate was carried".
    message: `${RATE_MISSED_WHO[w.part]}: ${[
      `target ${n(w.targetPerSec)} msg/s`,
      `sent ${n(w.sentPerSec)} msg/s`,
      ...(w.receivedPerSec !== null ? [`received ${n(w.receivedPerSec)} msg/s`] : []),
      `${n(w.late)} of ${n(w.sent)} sends late, ${n(w.dropped)} dropped`,
      ...(w.held ? [`${n(w.held)} written onto backed-up sockets`] : []),
    ].join(', ')}`,
    hint:
      w.part === 'server'
        ? 'the generator kept its schedule but replies fell short: the server did not carry this rate, so its latency includes queueing'
        : w.part === 'loadgen'
          ? 'the load generator could not keep its schedule: lower the rate or give it more CPUs (--loadgen-cpus)'
          : "sends left late while the generator was not busy: the server stopped reading (its socket buffers filled), so the lateness is the server's",
  }),
  'rss-growing': (w) => ({
    message: `server RSS grew ${w.growthPct.toFixed(0)}% during the measured window and was still rising`,
    hint: 'memory figures are not settled: use a longer --warmup or --duration, or look for a leak or unbounded buffering',
  }),
  'delivery-errors': (w) => ({
    message: [
      ...(w.atConnections !== undefined ? [`at ${n(w.atConnections)} connections:`] : []),
      `lost ${n(w.lost)}, duplicated ${n(w.duplicated)}, corrupted ${n(w.corrupted)}, out of order ${n(w.outOfOrder)}, misdelivered ${n(w.misdelivered)};`,
      `${n(w.closedByServer)} connections closed by the server${closes(w.closeCodes)}, ${n(w.failedConnects)} failed connects`,
    ].join(' '),
    hint: 'a server that loses, duplicates, reorders or misroutes messages, or drops connections, is not comparable on speed: the run fails (exit 3); see the errors by kind in the JSON',
  }),
  'upstream-bound': (w) => ({
    message: `the simulated upstream used ${w.cpuPct.toFixed(0)}% of a core and dropped ${n(w.chunksDropped)} reply chunks: its own delay may be in the first-chunk times`,
    hint: 'give the upstream a CPU of its own (a third CPU), or run fewer sessions',
  }),
  'parity-unknown': () => ({
    message: 'the server did not report its settings (max payload, compression, backpressure, idle timeout, publish-to-self), so its equivalence with other servers is unchecked',
    hint: 'print a bench ready line with the settings when listening (servers/CONTRACT.md)',
  }),
  'server-unobserved': (w) =>
    w.reason === 'no-pid'
      ? { message: 'no server pid: server CPU, memory, threads and fds were not measured (shown as 0)', hint: 'pass --target-pid PID, or let bench start the server with --server-cmd' }
      : w.reason === 'remote'
        ? {
            message: 'merged from load segments: the server ran on another machine, so its CPU, memory, threads and fds were not measured here (shown as 0)',
            hint: "read them on the server's machine (the k8s manifests' sampler sidecar prints them in its log)",
          }
      : {
          message: `no process of the command's group was seen listening on port ${w.port}: the measured pid ${w.pid} is the command's own`,
          hint: 'let the command exec the server (no wrapper that forks it away), or make it print a bench ready line with its pid',
        },
  'server-cpu-unpinned': (w) => ({
    message:
      w.reason === 'stray-threads'
        ? `${w.stray} of ${w.threads} server threads are not confined to CPUs ${w.cpus}`
        : w.reason === 'not-started'
          ? 'bench did not start this server, so it could not pin it'
          : 'the server was not pinned: server and load generator share CPUs',
    hint: 'pin the server and the load generator to separate CPUs (--server-cpus, --loadgen-cpus)',
  }),
  'clock-offset': (w) => ({
    message:
      w.basis === 'cross-segment'
        ? `the clocks of load segments ${w.from} and ${w.segment} differ by about ${w.offsetMs.toFixed(2)} ms (from their first arrivals of the same messages), more than the ${w.boundMs.toFixed(2)} ms the latency figures can bear: latencies between them are off by that much`
        : w.basis === 'wall-step'
          ? `load segment ${w.segment}'s wall clock moved ${w.offsetMs.toFixed(2)} ms against its monotonic clock during its run, more than the ${w.boundMs.toFixed(2)} ms the window can bear: its window was not the others'`
          : `load segment ${w.segment} was ready ${(-w.offsetMs).toFixed(0)} ms after the agreed start (its warmup shortened by that), more than the ${w.boundMs.toFixed(0)} ms the window can bear`,
    hint:
      w.basis === 'late-start'
        ? 'give the segments more time before --start-at (image pull, connecting)'
        : 'synchronise the load machines\' clocks (chrony or PTP) and keep them from stepping during a run',
  }),
  'server-killed': (w) => ({ message: `the server ignored SIGTERM for ${(w.graceMs / 1000).toFixed(1)} s and was killed`, hint: 'check its shutdown path (servers/CONTRACT.md)' }),
  'rss-unsettled': (w) => ({
    message: `server RSS did not settle within ±${w.tolerancePct}% over ${w.windowMs} ms at ${n(w.connections)} connections (timeout ${w.timeoutMs} ms): that plateau's memory is the last window's median`,
    hint: 'raise load.settle.timeoutMs, or widen load.settle.tolerancePct for a runtime whose RSS keeps moving',
  }),
  'high-spread': (w) => ({
    message: `${w.spreads.map((s) => `${s.figure} varies ±${s.madPct.toFixed(1)}% (MAD/median)`).join('; ')} over ${w.n} repetitions: differences smaller than this are noise`,
    hint: 'run more repetitions (--repeat or a longer --budget), longer (--duration), on a quieter machine',
  }),
  'single-run': (w) => ({
    message: `only 1 completed repetition${w.of > 1 ? ` of ${w.of}` : ''}: no spread can be estimated, so no verdict is possible`,
    hint: w.of > 1 ? 'fix what made the other repetitions fail (see the errored cells), then run again with --repeat 3 or more' : 'run with --repeat 3 or more, or with --budget',
  }),
};

/** A warning in words: its message (with how many repetitions raised it) and its hint. */
export function describeWarning(w: Warning): WarningText {
  const words = (WORDS[w.code] as (x: Warning) => WarningText)(w);
  const reps = w.repetitions && w.repetitions.of > 1 ? ` (in ${w.repetitions.count} of ${w.repetitions.of} repetitions)` : '';
  return { message: words.message + reps, hint: words.hint };
}

/** Why the load generator limited a window, in words. */
export function describeSaturationReason(r: SaturationReason): string {
  switch (r.kind) {
    case 'cpu':
      return r.cpus === null
        ? `load-generator worker ${r.workers.join(', ')} at ${r.pct.toFixed(0)}% CPU`
        : `load-generator CPU ${r.cpus} at ${r.pct.toFixed(0)}% (worker${r.workers.length > 1 ? 's' : ''} ${r.workers.join(', ')})`;
    case 'loop-delay':
      return `load-generator worker ${r.worker} event-loop delay p99 ${(r.p99Us / 1000).toFixed(1)} ms`;
    case 'schedule':
      return `load-generator worker ${r.worker} could not keep its schedule (${((100 * r.late) / Math.max(1, r.sent)).toFixed(1)}% of sends late, ${r.dropped} dropped)`;
  }
}
