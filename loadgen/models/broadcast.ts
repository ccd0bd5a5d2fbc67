import { checkNumber, checkObject, type Problems } from '../../core/validate.js';
import type { BroadcastModel } from '../types.js';

/** Broadcast: `publishers` connections publish at a rate into `rooms`; every room member receives each message (publisher included). */
export const description = 'broadcast: publishers send at a rate into rooms; every member receives every message, the sender included';

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): BroadcastModel[] {
  checkObject(raw, path, problems, ['model', 'publishers', 'ratePerSecPerPublisher', 'rooms'], ['publishers', 'ratePerSecPerPublisher']);
  const publishers = checkNumber(raw['publishers'], `${path}.publishers`, problems, { integer: true, min: 1 });
  const rate = checkNumber(raw['ratePerSecPerPublisher'], `${path}.ratePerSecPerPublisher`, problems, { min: 0.01, max: 1_000_000 });
  const rooms = checkNumber(raw['rooms'], `${path}.rooms`, problems, { integer: true, min: 1 }) ?? 1;
  if (publishers === undefined || rate === undefined) return [];
  return [{ model: 'broadcast', publishers, ratePerSecPerPublisher: rate, rooms }];
}

export function caseSuffix(_m: BroadcastModel): string {
  return '';
}
