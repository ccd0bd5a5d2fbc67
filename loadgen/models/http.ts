import { checkNumber, checkObject, type Problems } from '../../base/validate.js';
import { createHttpRunner } from '../http.js';
import type { HttpModel } from '../types.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './common.js';
import type { LoadModelDef } from './model.js';

/** Plain HTTP: autocannon against GET /health with keep-alive connections (loadgen/http.ts runs it in a worker). */
export const http: LoadModelDef<HttpModel> = {
  name: 'http',
  description: 'http: autocannon against GET /health with keep-alive connections',
  routes: ['/health'],
  message: 'none',
  validate(raw: Record<string, unknown>, path: string, problems: Problems): HttpModel[] {
    checkObject(raw, path, problems, ['model', 'pipelining']);
    const pipelining = checkNumber(raw['pipelining'], `${path}.pipelining`, problems, { integer: true, min: 1, max: 1024 }) ?? 1;
    return [{ model: 'http', pipelining }];
  },
  caseSuffix: () => '',
  primary: 'capacity',
  runsAs: () => 'load',
  segmentable: () => false,
  drainTimeoutMs: () => DEFAULT_DRAIN_TIMEOUT_MS,
  // autocannon drives all its connections from one process; requests go to http://, not ws://.
  plan: (_m, base) => ({ ...base, url: base.url.replace(/^ws:/, 'http:'), workers: 1, connect: { maxInFlight: 64, timeoutMs: 10_000 } }),
  createRunner: (m, init, post) => createHttpRunner(m, init, post),
  metrics: (_m, load, ctx) => ({
    metrics: { http: { requestsPerSec: ctx.msgsPerSec, non2xx: load.errors['handshake-rejected'] ?? 0 } },
    warnings: [],
  }),
  describe: (m) => `HTTP GET /health, pipelining ${m.pipelining}`,
};
