import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { sampleServer } from '../../core/server-sample.js';
import { formatResultBlock } from '../../k8s/collect.js';
import type { Io } from '../io.js';

/**
 * `bench sample`: the server's readings through a run whose load comes from segments elsewhere
 * (core/server-sample.ts), printed as a `server-sample` block on stdout (k8s/collect.ts reads it from the
 * sampler's log) and with --out written to a file for `bench merge --server-sample`.
 */
export async function sampleCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const sample = await sampleServer({
    readyFile: path.resolve(io.cwd, String(opts['readyFile'])),
    startAtMs: opts['startAt'] as number,
    warmupMs: (opts['warmup'] as number) * 1000,
    durationMs: (opts['duration'] as number) * 1000,
    intervalMs: (opts['interval'] as number) * 1000,
    drainMs: (opts['drain'] as number) * 1000,
  });
  io.stdout.write(formatResultBlock('server-sample', 'server', sample));
  if (typeof opts['out'] === 'string') {
    const file = path.resolve(io.cwd, opts['out']);
    try {
      await writeFile(file, JSON.stringify(sample) + '\n');
    } catch (e) {
      throw new BenchError('E_USAGE', `--out: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  io.stderr.write(`sampled the server (pid ${sample.ready.pid}) ${sample.phases.all.length} times through the run\n`);
  return ExitCode.ok;
}
