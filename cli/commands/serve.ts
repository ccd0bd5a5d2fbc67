import path from 'node:path';
import { assertPortFree, startServer } from '../../core/launcher.js';
import { writeAtomic } from '../../report/writer.js';
import { BenchError, ExitCode } from '../../base/errors.js';
import { labelRequest, resolveRunRuntimes, serverBinaries } from '../../core/runtime-versions/labels.js';
import { verifyRuntime } from '../../core/run.js';
import { runtimeDeps } from '../runtime-deps.js';
import type { Io } from '../io.js';
import { preflightServe } from '../checks.js';

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9 };

/** One server in the foreground: ready line on stdout, its stderr on ours, signals forwarded, its exit code ours. */
export async function serveCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const deps = runtimeDeps(io, true);
  const asked = labelRequest(String(opts['runtime']), deps.defaultNode);
  const runtime = asked.registryId;
  preflightServe(opts);
  // A taken port fails before a version is installed, not after.
  await assertPortFree(String(opts['host']), opts['port'] as number);
  // The binary of that version (the pinned default for a plain id), installed into the cache when missing.
  const [resolved] = await resolveRunRuntimes([asked], deps);
  const binary = serverBinaries([resolved!])[resolved!.label]!;
  const server = await startServer({
    runtime,
    binary: { path: binary.binaryPath, env: binary.env },
    port: opts['port'] as number,
    host: String(opts['host']),
    ...(opts['cpus'] ? { cpus: String(opts['cpus']) } : {}),
    hostInfo: io.host,
  });
  try {
    verifyRuntime(runtime, server.pid, binary);
  } catch (e) {
    await server.stop();
    throw e;
  }
  io.stdout.write(JSON.stringify(server.ready) + '\n');
  // Atomically: a reader polling the file (bench sample) never sees half a line.
  if (typeof opts['readyFile'] === 'string') {
    const file = path.resolve(io.cwd, opts['readyFile']);
    try {
      await writeAtomic(file, JSON.stringify(server.ready) + '\n');
    } catch (e) {
      await server.stop();
      throw new BenchError('E_USAGE', `--ready-file: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'give a file in a folder that exists and is writable' });
    }
  }
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
