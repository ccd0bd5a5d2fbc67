import { checkNumber, checkObject, checkString, type Problems } from '../../base/validate.js';
import type { BroadcastModel } from '../types.js';

/** Broadcast: `publishers` connections publish at a rate into `rooms`; every room member receives each message (publisher included). */
export const description = 'broadcast: publishers send at a rate into rooms; every member receives every message, the sender included';

const KEYS = ['model', 'publishers', 'ratePerSecPerPublisher', 'rooms', 'arrivals', 'burst', 'churn', 'slowConsumers'];

/**
 * Validates a scenario's broadcast `load`. The optional shapes (arrivals, burst, churn, slowConsumers) are
 * checked here; that publishers and slow consumers fit in `connections` is checked by core/scenario.ts,
 * which knows the connection count.
 */
export function validate(raw: Record<string, unknown>, path: string, problems: Problems): BroadcastModel[] {
  const before = problems.length;
  checkObject(raw, path, problems, KEYS, ['publishers', 'ratePerSecPerPublisher']);
  const publishers = checkNumber(raw['publishers'], `${path}.publishers`, problems, { integer: true, min: 1 });
  const rate = checkNumber(raw['ratePerSecPerPublisher'], `${path}.ratePerSecPerPublisher`, problems, { min: 0.01, max: 1_000_000 });
  const rooms = checkNumber(raw['rooms'], `${path}.rooms`, problems, { integer: true, min: 1 }) ?? 1;
  const arrivals = checkString(raw['arrivals'], `${path}.arrivals`, problems, ['constant', 'poisson']) as BroadcastModel['arrivals'];

  let burst: BroadcastModel['burst'];
  if (raw['burst'] !== undefined) {
    const p = `${path}.burst`;
    const b = checkObject(raw['burst'], p, problems, ['probability', 'messages', 'gapMs'], ['probability', 'messages', 'gapMs']);
    if (b) {
      const probability = checkNumber(b['probability'], `${p}.probability`, problems, { min: 0, max: 1 });
      const messages = checkNumber(b['messages'], `${p}.messages`, problems, { integer: true, min: 1, max: 10_000 });
      const gapMs = checkNumber(b['gapMs'], `${p}.gapMs`, problems, { min: 0, max: 3_600_000 });
      if (probability !== undefined && messages !== undefined && gapMs !== undefined) burst = { probability, messages, gapMs };
    }
  }

  let churn: BroadcastModel['churn'];
  if (raw['churn'] !== undefined) {
    const p = `${path}.churn`;
    const c = checkObject(raw['churn'], p, problems, ['leavesPerSec', 'rejoinAfterMs'], ['leavesPerSec', 'rejoinAfterMs']);
    if (c) {
      const leavesPerSec = checkNumber(c['leavesPerSec'], `${p}.leavesPerSec`, problems, { max: 1_000_000 });
      if (leavesPerSec !== undefined && !(leavesPerSec > 0)) problems.push(`${p}.leavesPerSec: must be greater than 0, got ${leavesPerSec}`);
      const rejoinAfterMs = checkNumber(c['rejoinAfterMs'], `${p}.rejoinAfterMs`, problems, { min: 0, max: 3_600_000 });
      if (leavesPerSec !== undefined && leavesPerSec > 0 && rejoinAfterMs !== undefined) churn = { leavesPerSec, rejoinAfterMs };
    }
  }

  let slowConsumers: BroadcastModel['slowConsumers'];
  if (raw['slowConsumers'] !== undefined) {
    const p = `${path}.slowConsumers`;
    const s = checkObject(raw['slowConsumers'], p, problems, ['count', 'readBytesPerSec'], ['count', 'readBytesPerSec']);
    if (s) {
      const count = checkNumber(s['count'], `${p}.count`, problems, { integer: true, min: 1 });
      const readBytesPerSec = checkNumber(s['readBytesPerSec'], `${p}.readBytesPerSec`, problems, { min: 1 });
      if (count !== undefined && readBytesPerSec !== undefined) slowConsumers = { count, readBytesPerSec };
    }
  }

  if (publishers === undefined || rate === undefined || problems.length > before) return [];
  return [
    {
      model: 'broadcast',
      publishers,
      ratePerSecPerPublisher: rate,
      rooms,
      ...(arrivals ? { arrivals } : {}),
      ...(burst ? { burst } : {}),
      ...(churn ? { churn } : {}),
      ...(slowConsumers ? { slowConsumers } : {}),
    },
  ];
}

export function caseSuffix(_m: BroadcastModel): string {
  return '';
}
