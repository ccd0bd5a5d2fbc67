import { checkNumber, checkObject, checkString, isObject, type Problems } from '../../base/validate.js';
import { createCeilingRunner } from '../ceiling.js';
import type { CeilingModel } from '../types.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './common.js';
import type { LoadModelDef } from './model.js';

/**
 * Ceiling search: connections are opened in equal steps up to the scenario's
 * `connections`; at each plateau the server's RSS settles (idle), then every
 * connection sends a light heartbeat for the scenario's `durationSec` (after
 * `warmupSec`), and the plateau is judged against the SLO. The search stops at
 * the first plateau that breaks it; the result names the cause and whether it
 * was the runtime's limit or the environment's (core/ceiling.ts).
 */
const description =
  'ceiling: open connections in steps with a light heartbeat at each plateau until a latency, error, memory or CPU bound breaks; reports the ceiling, its cause, and memory per connection';

/** Defaults of every optional field (documented in scenarios/README.md). */
export const CEILING_DEFAULTS: Omit<CeilingModel, 'model' | 'steps'> = {
  heartbeat: { kind: 'echo', intervalMs: 1000, bytes: 16 },
  slo: { heartbeatP99Ms: 50, maxErrorRatio: 0.001, memoryBudgetMiB: null, maxServerCpuPct: 95 },
  settle: { tolerancePct: 1, windowMs: 500, timeoutMs: 3000 },
  bisectSteps: 0,
  stopShortOfFdLimitBy: 0,
  // Measured: 19,000 connects took 5.4–6.3 s from one address (the kernel's ephemeral-port search), 1.7–1.9 s over 4 (README).
  sourceAddresses: 4,
};

/** Smallest heartbeat payload: 8-byte send time, 4-byte connection index, 4-byte sequence number. */
export const HEARTBEAT_MIN_BYTES = 16;

function validate(raw: Record<string, unknown>, path: string, problems: Problems): CeilingModel[] {
  const before = problems.length;
  checkObject(
    raw,
    path,
    problems,
    ['model', 'steps', 'heartbeat', 'slo', 'settle', 'bisectSteps', 'stopShortOfFdLimitBy', 'sourceAddresses'],
    ['steps'],
  );
  const steps = checkNumber(raw['steps'], `${path}.steps`, problems, { integer: true, min: 1, max: 1000 });
  const d = CEILING_DEFAULTS;

  let heartbeat: CeilingModel['heartbeat'] = d.heartbeat;
  const hb = raw['heartbeat'];
  if (hb === null) heartbeat = null;
  else if (hb !== undefined) {
    const o = checkObject(hb, `${path}.heartbeat`, problems, ['kind', 'intervalMs', 'bytes']);
    if (o) {
      const kind = (checkString(o['kind'], `${path}.heartbeat.kind`, problems, ['echo', 'ping']) ?? d.heartbeat!.kind) as 'echo' | 'ping';
      const intervalMs = checkNumber(o['intervalMs'], `${path}.heartbeat.intervalMs`, problems, { min: 10, max: 600_000 }) ?? d.heartbeat!.intervalMs;
      // A ping's payload is a control frame: at most 125 bytes.
      const bytes =
        checkNumber(o['bytes'], `${path}.heartbeat.bytes`, problems, { integer: true, min: HEARTBEAT_MIN_BYTES, max: kind === 'ping' ? 125 : 65_536 }) ??
        d.heartbeat!.bytes;
      heartbeat = { kind, intervalMs, bytes };
    }
  }

  const slo = { ...d.slo };
  if (raw['slo'] !== undefined) {
    const o = checkObject(raw['slo'], `${path}.slo`, problems, ['heartbeatP99Ms', 'maxErrorRatio', 'memoryBudgetMiB', 'maxServerCpuPct']);
    if (o) {
      slo.heartbeatP99Ms = checkNumber(o['heartbeatP99Ms'], `${path}.slo.heartbeatP99Ms`, problems, { min: 0.001, max: 60_000 }) ?? slo.heartbeatP99Ms;
      slo.maxErrorRatio = checkNumber(o['maxErrorRatio'], `${path}.slo.maxErrorRatio`, problems, { min: 0, max: 1 }) ?? slo.maxErrorRatio;
      if (o['memoryBudgetMiB'] !== null) {
        slo.memoryBudgetMiB = checkNumber(o['memoryBudgetMiB'], `${path}.slo.memoryBudgetMiB`, problems, { min: 1, max: 16 * 1024 * 1024 }) ?? slo.memoryBudgetMiB;
      }
      slo.maxServerCpuPct = checkNumber(o['maxServerCpuPct'], `${path}.slo.maxServerCpuPct`, problems, { min: 1, max: 100 }) ?? slo.maxServerCpuPct;
    }
  }

  const settle = { ...d.settle };
  if (raw['settle'] !== undefined) {
    const o = checkObject(raw['settle'], `${path}.settle`, problems, ['tolerancePct', 'windowMs', 'timeoutMs']);
    if (o) {
      settle.tolerancePct = checkNumber(o['tolerancePct'], `${path}.settle.tolerancePct`, problems, { min: 0, max: 100 }) ?? settle.tolerancePct;
      settle.windowMs = checkNumber(o['windowMs'], `${path}.settle.windowMs`, problems, { integer: true, min: 100, max: 600_000 }) ?? settle.windowMs;
      settle.timeoutMs = checkNumber(o['timeoutMs'], `${path}.settle.timeoutMs`, problems, { integer: true, min: 100, max: 3_600_000 }) ?? settle.timeoutMs;
      if (isObject(o) && settle.timeoutMs < settle.windowMs) {
        problems.push(`${path}.settle.timeoutMs: must be at least settle.windowMs (${settle.windowMs}), got ${settle.timeoutMs}`);
      }
    }
  }

  const bisectSteps = checkNumber(raw['bisectSteps'], `${path}.bisectSteps`, problems, { integer: true, min: 0, max: 20 }) ?? d.bisectSteps;
  const margin = checkNumber(raw['stopShortOfFdLimitBy'], `${path}.stopShortOfFdLimitBy`, problems, { integer: true, min: 0, max: 1_000_000 }) ?? d.stopShortOfFdLimitBy;
  const sourceAddresses = checkNumber(raw['sourceAddresses'], `${path}.sourceAddresses`, problems, { integer: true, min: 1, max: 250 }) ?? d.sourceAddresses;
  if (steps === undefined || problems.length > before) return [];
  return [{ model: 'ceiling', steps, heartbeat, slo, settle, bisectSteps, stopShortOfFdLimitBy: margin, sourceAddresses }];
}


/** One line for reports: what the search ran with. */
export function describeCeiling(m: CeilingModel): string {
  const hb = m.heartbeat ? `${m.heartbeat.kind} heartbeat of ${m.heartbeat.bytes} B every ${m.heartbeat.intervalMs} ms per connection` : 'no heartbeat';
  const s = m.slo;
  const bounds = [
    `heartbeat p99 ≤ ${s.heartbeatP99Ms} ms`,
    `errors ≤ ${s.maxErrorRatio * 100}%`,
    ...(s.memoryBudgetMiB !== null ? [`RSS ≤ ${s.memoryBudgetMiB} MiB`] : []),
    `server CPU < ${s.maxServerCpuPct}%`,
  ];
  return `${m.steps} steps, ${hb}; SLO: ${bounds.join(', ')}`;
}

export const ceiling: LoadModelDef<CeilingModel> = {
  name: 'ceiling',
  description,
  routes: ['/echo'],
  // The heartbeat has its own size (load.heartbeat.bytes).
  message: 'none',
  validate,
  caseSuffix: () => '',
  runsAs: () => 'search',
  search: (m) => ({ model: m, memoryOnly: false }),
  segmentable: () => false,
  drainTimeoutMs: () => DEFAULT_DRAIN_TIMEOUT_MS,
  createRunner: (m, init, post) => createCeilingRunner(m, init, post),
  describe: describeCeiling,
};
