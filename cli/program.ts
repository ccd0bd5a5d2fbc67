import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BenchError, ExitCode, formatError, isBenchError } from '../base/errors.js';
import type { Io } from './io.js';
import type { CommandDef } from './options.js';
import { COMMANDS } from './options.js';

/** What a command's action returns: the process exit code. */
export type Action = (opts: Record<string, unknown>, args: string[], io: Io) => Promise<number>;

/** Adds a table-defined command to commander; help and parsing come from the same OptionDef list. */
export function defineCommand(parent: Command, def: CommandDef, action: Action, io: Io, setExit: (code: number) => void) {
  const cmd = parent.command(def.name).description(def.summary);
  for (const a of def.args ?? []) cmd.argument(a.syntax, a.description);
  for (const o of def.options) {
    const opt = new Option(o.flags, o.description);
    if (o.defaultValue !== undefined) opt.default(o.defaultValue);
    if (o.choices) opt.choices(o.choices);
    if (o.required) opt.makeOptionMandatory();
    if (o.parse) {
      const parse = o.parse;
      opt.argParser((value: string, previous: unknown) => {
        try {
          return parse(value, previous);
        } catch (e) {
          throw new InvalidArgumentError((e as Error).message);
        }
      });
    }
    cmd.addOption(opt);
  }
  if (def.examples.length) cmd.addHelpText('after', '\nExamples:\n' + def.examples.map((e) => `  $ ${e}`).join('\n'));
  cmd.action(async (...params: unknown[]) => {
    // commander passes positional args, then the options object, then the command.
    const command = params[params.length - 1] as Command;
    const args = command.args;
    setExit(await action(command.opts(), args, io));
  });
  return cmd;
}

export function createProgram(io: Io, actions: Record<string, Action>, version: string, setExit: (code: number) => void) {
  const program = new Command('bench')
    .description(
      'Compare JavaScript runtimes as WebSocket servers: equivalent servers on Bun, Node+ws, Node+uWebSockets.js and Deno,\n' +
        'driven by a load generator that says when it, not the server, was the limit.',
    )
    .version(version, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const def of COMMANDS) {
    const action = actions[def.name];
    if (!action) continue;
    const cmd = defineCommand(program, def, action, io, setExit);
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  }
  return program;
}

/** Runs the CLI and maps every outcome to an exit code; expected errors print without a stack. */
export async function runProgram(io: Io, actions: Record<string, Action>, version: string): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = createProgram(io, actions, version, (c) => (exitCode = c));
  try {
    if (io.argv.length === 0) {
      program.outputHelp();
      return ExitCode.badInput;
    }
    await program.parseAsync(io.argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every usage error is "bad input".
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    }
    if (isBenchError(e)) {
      io.stderr.write(formatError(e));
      return e.exitCode;
    }
    io.stderr.write(`bench: unexpected error (a bug; please report it):\n${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.runFailed;
  }
}

export { BenchError };
