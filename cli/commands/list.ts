import Table from 'cli-table3';
import { BenchError, ExitCode } from '../../base/errors.js';
import { probeRuntimes } from '../../core/runtimes.js';
import { builtinScenarios, expandCases } from '../../core/scenario.js';
import { MODELS } from '../../loadgen/models/index.js';
import type { Io } from '../io.js';

const WHATS = ['runtimes', 'scenarios'] as const;

export async function listCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const what = args[0];
  if (what === 'runtimes') return listRuntimes(opts, io);
  if (what === 'scenarios') return listScenarios(opts, io);
  throw new BenchError('E_USAGE', `cannot list "${what}"`, { hint: `bench list ${WHATS.join('|')}` });
}

async function listRuntimes(opts: Record<string, unknown>, io: Io): Promise<number> {
  const statuses = await probeRuntimes(io.host);
  if (opts['json']) {
    io.stdout.write(JSON.stringify(statuses, null, 2) + '\n');
    return ExitCode.ok;
  }
  const table = new Table({ head: ['runtime', 'server', 'usable', 'runtime version', 'library version', 'note'], style: { head: [], border: [] } });
  for (const s of statuses) {
    table.push([s.id, s.label, s.usable ? 'yes' : 'no', s.runtimeVersion ?? '-', s.libraryVersion ?? '-', s.usable ? '' : `${s.reason}\nfix: ${s.fix}`]);
  }
  io.stdout.write(table.toString() + '\n');
  return ExitCode.ok;
}

function listScenarios(opts: Record<string, unknown>, io: Io): number {
  const all = builtinScenarios();
  if (opts['json']) {
    io.stdout.write(JSON.stringify(all, null, 2) + '\n');
    return ExitCode.ok;
  }
  const lines: string[] = [];
  for (const s of all) {
    const model = String(s.load['model']) as keyof typeof MODELS;
    lines.push(`${s.name}${s.default ? '  (default)' : ''}`);
    lines.push(`  ${s.connections} connections · ${s.route} · ${MODELS[model].description}`);
    lines.push(`  cases: ${expandCases(s).map((c) => c.name).join(', ')} · warmup ${s.warmupSec} s, measured ${s.durationSec} s`);
    lines.push(...wrap(s.description, 100).map((l) => `  ${l}`));
    lines.push(`  file: ${s.source}`, '');
  }
  io.stdout.write(lines.join('\n'));
  return ExitCode.ok;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
