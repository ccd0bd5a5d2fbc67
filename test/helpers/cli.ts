// The bench CLI run in-process, as a user would type `bench ARGV`: stdout and stderr buffered, the exit code
// returned. One helper for every test that drives the CLI (a refusal battery with its own guard keeps its own).
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import { currentHost } from '../../core/host.js';

const host = currentHost();

export interface BenchOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bench ...argv` in-process. `cwd`: where relative paths resolve (default this process's); `env`: the
 * environment bench sees (default empty, as the CLI's own tests expect unless they say otherwise).
 */
export async function runBench(argv: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<BenchOutcome> {
  const b = bufferIo(argv, host, opts.env ?? {});
  if (opts.cwd) b.io.cwd = opts.cwd;
  const code = await runCli(b.io);
  return { code, ...b.out };
}
