// One warning of every code, as data with figures the tests can check the words against.
import type { WarningCode, WarningData } from '../../schema/result.js';

export const SAMPLE_WARNINGS: { [C in WarningCode]: Extract<WarningData, { code: C }> } = {
  'loadgen-bound': { code: 'loadgen-bound', reasons: [{ kind: 'cpu', cpus: '1', workers: [0, 1], pct: 97 }] },
  'rate-missed': { code: 'rate-missed', targetPerSec: 50_000, sentPerSec: 49_990, receivedPerSec: 28_400, sent: 249_950, late: 120, dropped: 0, part: 'server' },
  'rss-growing': { code: 'rss-growing', growthPct: 23 },
  'delivery-errors': { code: 'delivery-errors', lost: 12, duplicated: 3, corrupted: 1, outOfOrder: 2, misdelivered: 7, closedByServer: 4, failedConnects: 5, closeCodes: { '1009': 3, '1006': 1 } },
  'upstream-bound': { code: 'upstream-bound', cpuPct: 86, chunksDropped: 9 },
  'parity-unknown': { code: 'parity-unknown' },
  'server-unobserved': { code: 'server-unobserved', reason: 'no-listener', port: 40_123, pid: 4242 },
  'server-cpu-unpinned': { code: 'server-cpu-unpinned', reason: 'stray-threads', stray: 2, threads: 11, cpus: '0' },
  'clock-offset': { code: 'clock-offset', basis: 'cross-segment', segment: 2, from: 0, offsetMs: 1.25, boundMs: 0.05 },
  'server-killed': { code: 'server-killed', graceMs: 2000 },
  'rss-unsettled': { code: 'rss-unsettled', connections: 12_000, tolerancePct: 1, windowMs: 500, timeoutMs: 3000 },
  'high-spread': { code: 'high-spread', spreads: [{ figure: 'msgs/s', madPct: 14.2 }], n: 5 },
  'single-run': { code: 'single-run', of: 3 },
};

/** A sample warning of `code`. */
export function sampleWarning<C extends WarningCode>(code: C): Extract<WarningData, { code: C }> {
  return { ...SAMPLE_WARNINGS[code] };
}
