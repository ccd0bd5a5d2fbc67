import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../core/paths.js';
import { listCommand } from './commands/list.js';
import { serveCommand } from './commands/serve.js';
import type { Io } from './io.js';
import { runProgram, type Action } from './program.js';

export const ACTIONS: Record<string, Action> = {
  serve: serveCommand,
  list: listCommand,
};

export function toolVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The whole CLI as a function of its Io: returns the exit code and never calls process.exit. */
export function runCli(io: Io): Promise<number> {
  return runProgram(io, ACTIONS, toolVersion());
}
