import { checkNumber, checkObject, checkString, type Problems } from '../../base/validate.js';
import type { Warning } from '../../schema/result.js';
import { deliveryOf, WsSession, type Conn, type ModelResult } from '../session.js';
import type { OpenModel } from '../types.js';
import { carried, DEFAULT_DRAIN_TIMEOUT_MS, rateMissedWarning } from './common.js';
import type { LoadModelDef } from './model.js';

/**
 * Open loop at a fixed aggregate rate: messages leave on a schedule whatever the replies do, latency is
 * measured from each message's intended send time, and sends that could not leave on time are counted (late,
 * dropped) instead of hidden (no coordinated omission).
 */
class OpenSession extends WsSession {
  begin(): void {
    const m = this.plan.load as OpenModel;
    // This worker's share of the aggregate rate, in proportion to its connections.
    const share = this.init.connections / this.plan.connections;
    this.runSchedule(
      this.conns.filter((c) => c.open),
      m.ratePerSec * share,
      m.arrivals,
    );
  }

  onMessage(c: Conn, buf: Buffer, start: number, end: number): void {
    this.receiveEcho(c, buf, start, end);
  }

  drained(): boolean {
    return this.conns.every((c) => c.inFlight <= 0 || !c.open);
  }

  modelResult(sent: Map<number, number>): ModelResult {
    const m = this.plan.load as OpenModel;
    const ol = this.windowSchedule();
    return {
      delivery: deliveryOf(this.conns.reduce((a, c) => a + c.seq, 0), this.echoTotals(sent)),
      ...(ol ? { openLoop: { targetPerSec: m.ratePerSec * (this.init.connections / this.plan.connections), ...ol } } : {}),
    };
  }
}

/** Rates one open-loop scenario may list (each is a case). */
export const MAX_RATES = 100;

export const open: LoadModelDef<OpenModel> = {
  name: 'open',
  description: 'open loop: fixed aggregate rates (ratesPerSec), latency from the intended send time, late and dropped sends counted',
  routes: ['/echo'],
  message: 'accounted',
  /** In a scenario file `ratesPerSec` lists one or more rates; each becomes a case. */
  validate(raw: Record<string, unknown>, path: string, problems: Problems): OpenModel[] {
    checkObject(raw, path, problems, ['model', 'ratesPerSec', 'arrivals'], ['ratesPerSec']);
    const arrivals = (checkString(raw['arrivals'], `${path}.arrivals`, problems, ['constant', 'poisson']) ?? 'constant') as OpenModel['arrivals'];
    const rates = raw['ratesPerSec'];
    if (rates === undefined) return [];
    if (!Array.isArray(rates) || rates.length === 0) {
      problems.push(`${path}.ratesPerSec: must be a non-empty list of messages per second, e.g. [10000, 50000]`);
      return [];
    }
    // Each rate is a case of its own (a fresh server per repetition): a long list is a mistake, not a plan.
    if (rates.length > MAX_RATES) {
      problems.push(`${path}.ratesPerSec: must list at most ${MAX_RATES} rates (each is a case of its own), got ${rates.length.toLocaleString('en-US')}`);
      return [];
    }
    const out: OpenModel[] = [];
    rates.forEach((r, i) => {
      const rate = checkNumber(r, `${path}.ratesPerSec[${i}]`, problems, { min: 1, max: 10_000_000 });
      if (rate !== undefined) out.push({ model: 'open', ratePerSec: rate, arrivals });
    });
    return out;
  },
  caseSuffix: (m) => `@${m.ratePerSec}/s`,
  applyQuick: (load, quick) => (quick.ratesPerSec ? { ...load, ratesPerSec: quick.ratesPerSec } : load),
  primary: 'fixed-rate',
  primaryLatency: 'latencyP99Us',
  runsAs: () => 'load',
  segmentable: () => true,
  // The aggregate rate in proportion to the segment's connections, as the workers split it.
  segment: (m, ctx) => ({ sendRatePerSec: (m.ratePerSec * ctx.connections.count) / ctx.total }),
  drainTimeoutMs: () => DEFAULT_DRAIN_TIMEOUT_MS,
  createRunner: (_m, init, post) => new OpenSession(init, post),
  metrics(_m, load, ctx) {
    const warnings: Warning[] = [];
    // An echo is owed for every send: fewer back than the target rate means the rate was not carried.
    const w = load.openLoop ? rateMissedWarning(load, ctx.receivedMsgs, ctx.windowMs, { echoes: true }) : undefined;
    if (w) warnings.push(w);
    // Every send is owed its echo: carried when (nearly) every message of the window came back.
    return { metrics: { sustained: carried(ctx.receivedMsgs, ctx.sentMsgs) }, warnings };
  },
  describe: (m) => `open loop at ${m.ratePerSec} msg/s (${m.arrivals} arrivals)`,
};
