import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../../schema/result.js';
import { isObject } from '../../base/validate.js';
import { getFormat } from '../../report/format.js';
import type { Io } from '../io.js';

/** Reads and checks a stored result (a result.json or the folder holding one); exit 2 naming the problem. */
export function readResult(file: string, cwd: string): RunResult {
  let p = path.resolve(cwd, file);
  if (existsSync(p) && statSync(p).isDirectory()) p = path.join(p, 'result.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new BenchError('E_INVALID_RESULT', `cannot read result ${p}: ${(e as Error).message}`, {
      hint: 'give a result.json written by `bench run`, or the folder that holds it',
    });
  }
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

export async function reportCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const format = getFormat(String(opts['format']));
  io.stdout.write(format.render(readResult(args[0]!, io.cwd)));
  return ExitCode.ok;
}
