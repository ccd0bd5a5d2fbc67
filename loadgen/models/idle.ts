import { checkObject, type Problems } from '../../core/validate.js';
import type { IdleModel } from '../types.js';

/** Idle: open the connections and hold them without traffic, to measure memory per connection. */
export const description = 'idle: hold the connections without traffic; measures server memory per connection';

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): IdleModel[] {
  checkObject(raw, path, problems, ['model']);
  return [{ model: 'idle' }];
}

export function caseSuffix(_m: IdleModel): string {
  return '';
}
