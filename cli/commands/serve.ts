import { startServer } from '../../core/launcher.js';
import { ExitCode } from '../../base/errors.js';
import { parseRuntimeId } from '../../core/runtimes.js';
import type { Io } from '../io.js';
import { preflightServe } from '../checks.js';

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };

/** One server in the foreground: ready line on stdout, its stderr on ours, signals forwarded, its exit code ours. */
export async function serveCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const runtime = parseRuntimeId(String(opts['runtime']));
  preflightServe(opts);
  const server = await startServer({
    runtime,
    port: opts['port'] as number,
    host: String(opts['host']),
    ...(opts['cpus'] ? { cpus: String(opts['cpus']) } : {}),
    hostInfo: io.host,
  });
  io.stdout.write(JSON.stringify(server.ready) + '\n');
  server.process.child.stderr?.on('data', (chunk: string | Buffer) => io.stderr.write(String(chunk)));
  const unsubscribe = io.onSignal(() => void server.stop());
  try {
    const r = await server.exited;
    if (r.signal) return 128 + (SIGNAL_NUMBERS[r.signal] ?? 0);
    return r.code ?? ExitCode.runFailed;
  } finally {
    unsubscribe();
  }
}
