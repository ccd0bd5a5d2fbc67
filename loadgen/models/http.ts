import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import type { HttpModel } from '../types.js';

export const description = 'http: autocannon against GET /health with keep-alive connections';

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): HttpModel[] {
  checkObject(raw, path, problems, ['model', 'pipelining']);
  const pipelining = checkNumber(raw['pipelining'], `${path}.pipelining`, problems, { integer: true, min: 1, max: 1024 }) ?? 1;
  return [{ model: 'http', pipelining }];
}

export function caseSuffix(_m: HttpModel): string {
  return '';
}
