// Ceiling cells for report tests: a search's plateaus, its metrics and a cell
// holding them, and the fixture with one ceiling case added (bun stopped twice
// by the open-file limit while spinning, node-ws by latency at 19,200, deno
// exiting at its open-file limit). Deterministic.

import { memoryPerConnection } from '../../core/ceiling.js';
import type { CeilingMetrics, CeilingPlateau, CellResult, PlateauVerdict, RunResult } from '../../schema/result.js';
import { cell } from './cells.js';
import { loadFixture } from './make-fixture.js';

/** A plateau at `connections` that met the SLO (or not), RSS growing `bytesPerConn` per connection. */
export function plateau(connections: number, bytesPerConn: number, ok = true): CeilingPlateau {
  return {
    targetConnections: connections,
    connections,
    bisection: false,
    rssIdleBytes: 40e6 + bytesPerConn * connections,
    rssIdleSettled: true,
    rssBytes: 40e6 + 1.1 * bytesPerConn * connections,
    rssSettled: true,
    p50Us: 700,
    p99Us: ok ? 4000 : 90_000,
    maxUs: 9000,
    heartbeatsSent: connections,
    heartbeatsLost: 0,
    connectAttempted: 2400,
    connectFailed: 0,
    errors: {},
    drops: 0,
    cpuPct: 20,
    idleCpuPct: 0,
    fds: connections + 20,
    threads: 5,
    kernelTcpMemBytes: 400_000,
    kernelSlabBytes: 1e8 + 9000 * connections,
    connectMs: 300,
    loadgenSaturated: false,
    ok,
    verdict: ok ? { ok: true } : { ok: false, cause: 'latency', limitClass: 'runtime' },
  };
}

/** A ceiling search's metrics: good plateaus up to `upTo`, then the bad plateau `bad` (its figures and verdict). */
export function ceilingMetrics(o: Partial<CeilingMetrics> & { bytesPerConn: number; upTo: number; bad: Partial<CeilingPlateau> & { verdict: PlateauVerdict } }): CeilingMetrics {
  const { bad, ...rest } = o;
  const good = [2400, 4800, 7200, 9600, 12_000, 14_400, 16_800, 19_200].filter((n) => n <= o.upTo).map((n) => plateau(n, o.bytesPerConn));
  const badPlateau: CeilingPlateau = { ...plateau(bad.targetConnections ?? 20_044, o.bytesPerConn, false), ...bad, ok: false };
  const plateaus = [...good, badPlateau];
  return {
    ceilingConnections: null,
    lastGoodConnections: good.at(-1)!.connections,
    firstBadConnections: badPlateau.targetConnections,
    refined: null,
    cause: bad.verdict.cause!,
    limitClass: bad.verdict.limitClass!,
    stop: bad.verdict,
    openFileLimit: 20_000,
    maxConnections: 24_000,
    stopShortOfFdLimitBy: 0,
    slo: { heartbeatP99Ms: 50, maxErrorRatio: 0.001, memoryBudgetMiB: null, maxServerCpuPct: 95 },
    plateaus,
    memory: memoryPerConnection(plateaus),
    searchMs: 30_000,
    ...rest,
  };
}

export function ceilingCell(runtime: string, repetition: number, c: CeilingMetrics): CellResult {
  return cell({ case: 'ceiling', runtime, repetition, metrics: { msgsPerSec: 0, ceiling: c } });
}

/** At 20,044 connections, the step past the open-file limit: 64 connects timed out while the server spun. */
export const spins = { targetConnections: 20_044, connections: 19_200, connectAttempted: 844, connectFailed: 64, errors: { timeout: 64 }, idleCpuPct: 99, verdict: { ok: false, cause: 'fd-limit', limitClass: 'environment', atFdLimit: 'spins' } } as const;

/** The fixture (or `base`) with the ceiling case `ceiling` added. */
export function ceilingResult(base: RunResult = loadFixture()): RunResult {
  return {
    ...base,
    cells: [
      ...base.cells,
      ceilingCell('bun', 1, ceilingMetrics({ bytesPerConn: 1300, upTo: 19_200, bad: { ...spins, errors: { ...spins.errors }, verdict: { ...spins.verdict } } })),
      ceilingCell('bun', 2, ceilingMetrics({ bytesPerConn: 1340, upTo: 19_200, bad: { ...spins, errors: { ...spins.errors }, verdict: { ...spins.verdict } } })),
      ceilingCell(
        'node-ws',
        1,
        ceilingMetrics({ bytesPerConn: 7000, upTo: 16_800, ceilingConnections: 16_800, bad: { targetConnections: 19_200, connections: 19_200, p99Us: 83_900, verdict: { ok: false, cause: 'latency', limitClass: 'runtime' } } }),
      ),
      ceilingCell(
        'deno',
        1,
        ceilingMetrics({
          bytesPerConn: 20_000,
          upTo: 19_200,
          bad: {
            targetConnections: 20_044,
            connections: 0,
            drops: 19_200,
            verdict: { ok: false, cause: 'fd-limit', limitClass: 'environment', atFdLimit: 'exited', serverExit: 'code 1', serverSaid: 'Too many open files (os error 24)' },
          },
        }),
      ),
    ],
  };
}
