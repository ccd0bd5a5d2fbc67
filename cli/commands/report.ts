import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../../schema/result.js';
import { isObject } from '../../base/validate.js';
import { MAX_JSON_FILE_BYTES, parseJsonText } from '../../base/json.js';
import { getFormat } from '../../report/format.js';
import type { Io } from '../io.js';

/** Reads and checks a stored result (a result.json or the folder holding one); exit 2 naming the problem. */
export function readResult(file: string, cwd: string): RunResult {
  let p = path.resolve(cwd, file);
  if (existsSync(p) && statSync(p).isDirectory()) p = path.join(p, 'result.json');
  let raw: unknown;
  const hint = 'give a result.json written by `bench run`, or the folder that holds it';
  let text: string;
  try {
    // Results carry encoded histograms and are larger than other JSON a user hands over: 4× the bound.
    if (statSync(p).size > 4 * MAX_JSON_FILE_BYTES) throw new Error(`larger than ${(4 * MAX_JSON_FILE_BYTES) / 2 ** 20} MiB`);
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new BenchError('E_INVALID_RESULT', `cannot read result ${p}: ${(e as Error).message}`, { hint });
  }
  const parsed = parseJsonText(text);
  if (parsed.ok) raw = parsed.value;
  else throw new BenchError('E_INVALID_RESULT', `cannot read result ${p}: ${parsed.problem}`, { hint });
  const problems: string[] = [];
  if (!isObject(raw)) problems.push('(top level): must be an object');
  else {
    if (raw['schemaVersion'] !== RESULT_SCHEMA_VERSION) problems.push(`schemaVersion: must be ${RESULT_SCHEMA_VERSION}, got ${JSON.stringify(raw['schemaVersion'])}`);
    if (!Array.isArray(raw['cells'])) problems.push('cells: must be a list');
    if (!isObject(raw['environment'])) problems.push('environment: must be an object');
    if (!isObject(raw['settings'])) problems.push('settings: must be an object');
  }
  if (problems.length) {
    throw new BenchError('E_INVALID_RESULT', `${p} is not a bench result`, { details: problems, hint: 'results come from `bench run` (results/<time>-<label>/result.json)' });
  }
  return raw as RunResult;
}

/**
 * A note for stderr when a result is partial: its run is still going, or was killed before it could mark
 * itself (status "running", e.g. after SIGKILL or a power cut), or was interrupted. Undefined for a finished run.
 */
export function partialResultNote(result: RunResult, name: string): string | undefined {
  const done = result.cells.length;
  if (result.status === 'running') {
    return `warning: ${name} is partial: its run never finished (status "running": still going, or killed before it could write its end); ${done} cell${done === 1 ? '' : 's'} recorded, the rest missing\n`;
  }
  if (result.status === 'interrupted') return `note: ${name} is partial: its run was interrupted; ${done} cell${done === 1 ? '' : 's'} recorded\n`;
  return undefined;
}

export async function reportCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const format = getFormat(String(opts['format']));
  const result = readResult(args[0]!, io.cwd);
  const note = partialResultNote(result, args[0]!);
  if (note) io.stderr.write(note);
  io.stdout.write(format.render(result));
  return ExitCode.ok;
}
