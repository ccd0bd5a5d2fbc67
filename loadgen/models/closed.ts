import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import type { ClosedModel } from '../types.js';

/** Closed loop: every connection keeps `depth` messages in flight. Measures capacity; its latency is Little's law, not the server's. */
export const description = 'closed loop: each connection keeps `depth` messages in flight (capacity; latency here is connections ÷ throughput)';

export const defaults: ClosedModel = { model: 'closed', depth: 1 };

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): ClosedModel[] {
  checkObject(raw, path, problems, ['model', 'depth']);
  const depth = checkNumber(raw['depth'], `${path}.depth`, problems, { integer: true, min: 1, max: 4096 });
  return [{ model: 'closed', depth: depth ?? defaults.depth }];
}

export function caseSuffix(_m: ClosedModel): string {
  return '';
}
