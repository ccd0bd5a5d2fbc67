import Table from 'cli-table3';
import { BenchError, ExitCode } from '../../core/errors.js';
import { probeRuntimes } from '../../core/runtimes.js';
import type { Io } from '../io.js';

const WHATS = ['runtimes'] as const;

export async function listCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const what = args[0];
  if (what !== 'runtimes') {
    throw new BenchError('E_USAGE', `cannot list "${what}"`, { hint: `bench list ${WHATS.join('|')}` });
  }
  const statuses = await probeRuntimes(io.host);
  if (opts['json']) {
    io.stdout.write(JSON.stringify(statuses, null, 2) + '\n');
    return ExitCode.ok;
  }
  const table = new Table({ head: ['runtime', 'server', 'usable', 'runtime version', 'library version', 'note'], style: { head: [], border: [] } });
  for (const s of statuses) {
    table.push([
      s.id,
      s.label,
      s.usable ? 'yes' : 'no',
      s.runtimeVersion ?? '-',
      s.libraryVersion ?? '-',
      s.usable ? '' : `${s.reason}\nfix: ${s.fix}`,
    ]);
  }
  io.stdout.write(table.toString() + '\n');
  return ExitCode.ok;
}
