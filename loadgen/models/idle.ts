import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import { WsSession, type Conn, type ModelResult } from '../session.js';
import type { CeilingModel, IdleModel } from '../types.js';
import { CEILING_DEFAULTS } from './ceiling.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './common.js';
import type { LoadModelDef } from './model.js';

/**
 * Idle: open the connections and hold them without traffic for warmup and window, to measure memory per
 * connection. With `steps` above 1 the connections open in equal steps, RSS settles at each, and bytes per
 * connection is the slope of a least-squares fit over the plateaus: the stepped search of the ceiling model
 * without heartbeats or SLO (core/ceiling.ts).
 */
class IdleSession extends WsSession {
  begin(): void {}

  onMessage(_c: Conn, _buf: Buffer, start: number, end: number): void {
    // An idle connection is owed nothing; whatever arrives (a server's ping is answered by the transport) is counted.
    this.recvSinceProgress++;
    this.lastRecvAtUs = this.readAtUs;
    const b = this.bucket(this.readAtUs);
    b.receivedMsgs++;
    b.receivedBytes += end - start;
  }

  drained(): boolean {
    return true;
  }

  modelResult(): ModelResult {
    return {};
  }
}

export const idle: LoadModelDef<IdleModel> = {
  name: 'idle',
  description: 'idle: hold the connections without traffic (optionally in steps); measures server memory per connection',
  routes: ['/echo'],
  message: 'none',
  validate(raw: Record<string, unknown>, path: string, problems: Problems): IdleModel[] {
    checkObject(raw, path, problems, ['model', 'steps']);
    const steps = checkNumber(raw['steps'], `${path}.steps`, problems, { integer: true, min: 1, max: 100 });
    return [steps !== undefined && steps > 1 ? { model: 'idle', steps } : { model: 'idle' }];
  },
  caseSuffix: () => '',
  primary: 'memory',
  runsAs: (m) => ((m.steps ?? 1) > 1 ? 'search' : 'load'),
  search: (m) => ({ model: idleAsCeiling(m), memoryOnly: true }),
  segmentable: (m) => (m.steps ?? 1) <= 1,
  drainTimeoutMs: () => DEFAULT_DRAIN_TIMEOUT_MS,
  createRunner: (_m, init, post) => new IdleSession(init, post),
  // No traffic: throughput is not a figure here, so the load generator cannot have bounded it.
  metrics: () => ({ metrics: { throughputIsLowerBound: false }, warnings: [] }),
  describe: (m) => ((m.steps ?? 1) > 1 ? `idle, opened in ${m.steps} steps` : 'idle'),
};

/**
 * A stepped idle run as a ceiling search without heartbeats: RSS settles at each step and bytes per connection
 * is fitted over the plateaus; no latency or CPU bound, and no error allowed (a connection the server closed
 * means its memory cannot be read per connection).
 */
export function idleAsCeiling(m: IdleModel): CeilingModel {
  return {
    model: 'ceiling',
    steps: m.steps ?? 1,
    heartbeat: null,
    slo: { heartbeatP99Ms: Number.MAX_SAFE_INTEGER, maxErrorRatio: 0, memoryBudgetMiB: null, maxServerCpuPct: 100 },
    // Idle sockets add no churn: RSS holding ±1% over 0.3 s (three readings) is settled; the ceiling's 0.5 s is
    // for plateaus under heartbeats.
    settle: { ...CEILING_DEFAULTS.settle, windowMs: 300 },
    bisectSteps: 0,
    stopShortOfFdLimitBy: 0,
    sourceAddresses: CEILING_DEFAULTS.sourceAddresses,
  };
}
