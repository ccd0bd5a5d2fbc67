import { checkNumber, checkObject, checkString, type Problems } from '../../base/validate.js';
import type { OpenModel } from '../types.js';

/**
 * Open loop at fixed aggregate rates: latency is measured from the intended send
 * time, and sends that could not leave on time are counted (late, dropped).
 * In a scenario file `ratesPerSec` lists one or more rates; each becomes a case.
 */
export const description = 'open loop: fixed aggregate rates (ratesPerSec), latency from the intended send time, late and dropped sends counted';

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): OpenModel[] {
  checkObject(raw, path, problems, ['model', 'ratesPerSec', 'arrivals'], ['ratesPerSec']);
  const arrivals = (checkString(raw['arrivals'], `${path}.arrivals`, problems, ['constant', 'poisson']) ?? 'constant') as
    | 'constant'
    | 'poisson';
  const rates = raw['ratesPerSec'];
  if (rates === undefined) return [];
  if (!Array.isArray(rates) || rates.length === 0) {
    problems.push(`${path}.ratesPerSec: must be a non-empty list of messages per second, e.g. [10000, 50000]`);
    return [];
  }
  const out: OpenModel[] = [];
  rates.forEach((r, i) => {
    const rate = checkNumber(r, `${path}.ratesPerSec[${i}]`, problems, { min: 1, max: 10_000_000 });
    if (rate !== undefined) out.push({ model: 'open', ratePerSec: rate, arrivals });
  });
  return out;
}

export function caseSuffix(m: OpenModel): string {
  return `@${m.ratePerSec}/s`;
}
