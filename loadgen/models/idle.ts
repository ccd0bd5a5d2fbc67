import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import type { IdleModel } from '../types.js';

/**
 * Idle: open the connections and hold them without traffic, to measure memory per connection. With `steps`
 * above 1 the connections open in equal steps, RSS settles at each, and bytes per connection is the slope of a
 * least-squares fit over the plateaus (the ceiling machinery without heartbeats or SLO: core/ceiling.ts).
 */
export const description = 'idle: hold the connections without traffic (optionally in steps); measures server memory per connection';

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): IdleModel[] {
  checkObject(raw, path, problems, ['model', 'steps']);
  const steps = checkNumber(raw['steps'], `${path}.steps`, problems, { integer: true, min: 1, max: 100 });
  return [steps !== undefined && steps > 1 ? { model: 'idle', steps } : { model: 'idle' }];
}

export function caseSuffix(_m: IdleModel): string {
  return '';
}
