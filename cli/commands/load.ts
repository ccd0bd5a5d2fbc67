import { BenchError, ExitCode } from '../../base/errors.js';
import { quote } from '../../base/validate.js';
import { runLoad } from '../../loadgen/run.js';
import { modelOf } from '../../loadgen/models/index.js';
import type { LoadModel, LoadPlan } from '../../loadgen/types.js';
import { renderLoadSummary } from '../../report/load-summary.js';
import { expandCpuList } from '../../base/cpus.js';
import type { Io } from '../io.js';
import { preflightLoad } from '../checks.js';

/** The load model the flags describe: --idle, --publishers (broadcast), --rate (open) or a closed loop. */
export function modelFromFlags(opts: Record<string, unknown>): LoadModel {
  const rate = opts['rate'] as number | undefined;
  if (opts['idle']) return { model: 'idle' };
  if (opts['publishers'] !== undefined) {
    if (rate === undefined) throw new BenchError('E_USAGE', '--publishers needs --rate (messages per second per publisher)');
    return { model: 'broadcast', publishers: opts['publishers'] as number, ratePerSecPerPublisher: rate, rooms: 1 };
  }
  if (rate !== undefined) return { model: 'open', ratePerSec: rate, arrivals: opts['arrivals'] as 'constant' | 'poisson' };
  return { model: 'closed', depth: opts['depth'] as number };
}

export async function loadCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const url = String(opts['url']);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BenchError('E_USAGE', `--url: not a URL: ${quote(url)}`, { hint: 'for example ws://127.0.0.1:9001/echo' });
  }
  if (parsed.protocol !== 'ws:') throw new BenchError('E_USAGE', `--url: must start with ws:// (got ${parsed.protocol}//)`, { hint: 'wss:// is not supported; for HTTP use autocannon' });
  const load = modelFromFlags(opts);
  const problems = modelOf(load).checkConnections?.(load, opts['connections'] as number, '--connections') ?? [];
  if (problems.length > 0) throw new BenchError('E_USAGE', problems.join('; ').replace(/^load\.publishers/, '--publishers'), { hint: 'see `bench load --help`' });
  const cpus = opts['cpus'] as string | undefined;
  const plan: LoadPlan = {
    url,
    connections: opts['connections'] as number,
    load,
    message: { kind: opts['text'] ? 'text' : 'binary', size: { type: 'fixed', bytes: opts['size'] as number } },
    warmupMs: (opts['warmup'] as number) * 1000,
    durationMs: (opts['duration'] as number) * 1000,
    drainTimeoutMs: 2000,
    connect: { maxInFlight: 256, timeoutMs: 10_000 },
    workers: opts['workers'] as number,
    ...(cpus ? { cpus } : {}),
    client: opts['client'] as 'raw' | 'ws',
    seed: 1,
  };
  if (cpus && expandCpuList(cpus).length === 0) throw new BenchError('E_USAGE', `--cpus: no CPU in "${cpus}"`);
  preflightLoad(opts, plan);
  const abort = new AbortController();
  const unsubscribe = io.onSignal(() => abort.abort());
  try {
    const result = await runLoad(plan, {
      nodePath: io.host.nodePath,
      signal: abort.signal,
      ...(io.stderr.isTTY
        ? { onProgress: (p) => io.stderr.write(`\r\x1b[2K${p.phase} · ${p.connectionsOpen} open · ${Math.round(p.recvPerSec).toLocaleString('en-US')} msg/s`) }
        : {}),
    });
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[2K');
    io.stderr.write(renderLoadSummary(plan, result));
    if (opts['json']) io.stdout.write(JSON.stringify({ plan, result }, null, 2) + '\n');
    const d = result.delivery;
    const closed = Object.values(result.closes.codes).reduce((a, b) => a + b, 0);
    return d.lost + d.corrupted + d.duplicated + d.outOfOrder + d.misdelivered + closed + result.connectionsFailed > 0 ? ExitCode.runFailed : ExitCode.ok;
  } finally {
    unsubscribe();
  }
}
