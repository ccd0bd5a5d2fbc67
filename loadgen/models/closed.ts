import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import { epochClockUs } from '../schedule.js';
import { deliveryOf, WsSession, type Conn, type ModelResult } from '../session.js';
import type { ClosedModel } from '../types.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './common.js';
import type { LoadModelDef } from './model.js';

/**
 * Closed loop: every connection keeps `depth` messages in flight; a reply frees a slot and the next message
 * leaves at once. Measures capacity (msgs/s where the server, not the generator, is the limit); its latency is
 * Little's law (connections × depth ÷ throughput), not the server's.
 */
class ClosedSession extends WsSession {
  readonly depth: number;

  constructor(...args: ConstructorParameters<typeof WsSession>) {
    super(...args);
    this.depth = (this.plan.load as ClosedModel).depth;
  }

  begin(): void {
    const now = epochClockUs();
    for (const c of this.conns) if (c.open) for (let k = 0; k < this.depth; k++) this.sendOn(c, now);
    this.transport.flush();
  }

  onMessage(c: Conn, buf: Buffer, start: number, end: number): void {
    // The reply frees a slot: the next message leaves at once, stamped with its arrival time.
    if (this.receiveEcho(c, buf, start, end) && this.sending && c.open) this.sendOn(c, this.readAtUs);
  }

  drained(): boolean {
    return this.conns.every((c) => c.inFlight <= 0 || !c.open);
  }

  modelResult(sent: Map<number, number>): ModelResult {
    return { delivery: deliveryOf(this.conns.reduce((a, c) => a + c.seq, 0), this.echoTotals(sent)) };
  }
}

export const closed: LoadModelDef<ClosedModel> = {
  name: 'closed',
  description: 'closed loop: each connection keeps `depth` messages in flight (capacity; latency here is connections ÷ throughput)',
  routes: ['/echo'],
  message: 'accounted',
  validate(raw: Record<string, unknown>, path: string, problems: Problems): ClosedModel[] {
    checkObject(raw, path, problems, ['model', 'depth']);
    const depth = checkNumber(raw['depth'], `${path}.depth`, problems, { integer: true, min: 1, max: 4096 });
    return [{ model: 'closed', depth: depth ?? 1 }];
  },
  caseSuffix: () => '',
  primary: 'capacity',
  runsAs: () => 'load',
  segmentable: () => true,
  drainTimeoutMs: () => DEFAULT_DRAIN_TIMEOUT_MS,
  createRunner: (_m, init, post) => new ClosedSession(init, post),
  describe: (m) => `closed loop, depth ${m.depth}`,
};
