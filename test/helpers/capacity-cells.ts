// Capacity searches for the tests: a plateau, a search's metrics and a cell
// holding them. Deterministic.

import { capacityMemory } from '../../core/capacity.js';
import { defaultSlo } from '../../loadgen/models/capacity.js';
import type { CapacityMetrics, CapacityPlateau, CapacityVerdict, CellResult } from '../../schema/result.js';
import { cell } from './cells.js';

/** A plateau at `level` sessions that met the SLO (or broke it with `verdict`), RSS growing `bytesPerUnit` per session. */
export function capacityPlateau(level: number, o: { bytesPerUnit?: number; verdict?: CapacityVerdict; bisection?: boolean } & Partial<CapacityPlateau> = {}): CapacityPlateau {
  const { bytesPerUnit = 200_000, verdict = { ok: true }, bisection = false, ...rest } = o;
  return {
    level,
    bisection,
    connections: level,
    opened: level,
    offeredPerSec: level * 50,
    sentPerSec: level * 50,
    msgsPerSec: level * 60,
    latencyP50Us: 900,
    latencyP99Us: verdict.ok ? 4_000 : 31_200,
    firstChunkP99Us: 790_000,
    lastMemberP99Us: null,
    expected: level * 550,
    lost: 0,
    faulty: 0,
    failedConnects: 0,
    closedByServer: 0,
    serverCpuPct: Math.min(99, level * 0.5),
    serverCpuUsPerMsg: 15,
    rssBytes: 50e6 + bytesPerUnit * level,
    loadgenSaturated: false,
    loadgenCpuPct: 40,
    upstreamCpuPct: 30,
    upstreamChunksDropped: 0,
    ok: verdict.ok,
    verdict,
    ...rest,
  };
}

/** A voice capacity search: good plateaus at `good`, then `bad` (its verdict), capacity `capacity`. */
export function voiceCapacity(o: { good: number[]; bad?: CapacityPlateau; capacity?: number | null } & Partial<CapacityMetrics>): CapacityMetrics {
  const { good, bad, ...rest } = o;
  const plateaus = [...good.map((l) => capacityPlateau(l)), ...(bad ? [bad] : [])];
  const capacity = o.capacity === undefined ? (good.at(-1) ?? null) : o.capacity;
  const stop = bad ? { ...bad.verdict, level: bad.level } : { ok: true, cause: 'max-level' as const, limitClass: 'none' as const, level: null };
  const at = plateaus.filter((p) => p.ok).at(-1);
  const workload = { model: 'voice' as const, frameIntervalMs: 20, framesPerTurn: 50, upstream: { latency: 'uniform:200:800', chunks: 10, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 } };
  return {
    workload: 'voice',
    dimension: 'sessions',
    capacity,
    lowerBound: stop.limitClass !== 'runtime',
    refined: null,
    perCore: capacity,
    serverCpus: 1,
    serverPinned: true,
    lastGood: good.at(-1) ?? null,
    firstBad: bad?.level ?? null,
    cause: stop.cause!,
    limitClass: stop.limitClass!,
    stop,
    atCapacity: at ? { level: at.level, msgsPerSec: at.msgsPerSec, serverCpuUsPerMsg: at.serverCpuUsPerMsg, serverCpuPct: at.serverCpuPct, latencyP99Us: at.latencyP99Us, rssBytes: at.rssBytes } : null,
    memory: capacityMemory(plateaus, 'sessions'),
    projection: capacity ? { for: 100_000, serversNeeded: Math.ceil(100_000 / capacity), coresNeeded: Math.ceil(100_000 / capacity) } : null,
    slo: defaultSlo(workload),
    levels: [20, 40, 80, 160, 320],
    bisectSteps: 1,
    plateaus,
    searchMs: 40_000,
    ...rest,
  };
}

export function capacityCell(runtime: string, repetition: number, c: CapacityMetrics, caseName = 'voice-agent-capacity'): CellResult {
  return cell({ case: caseName, runtime, repetition, metrics: { capacity: c, bytesPerConnection: c.memory.bytesPerUnit } });
}
