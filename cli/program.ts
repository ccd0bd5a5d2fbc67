import { Command, CommanderError, Option } from 'commander';
import { BenchError, clip, ExitCode, formatError, isBenchError } from '../base/errors.js';
import { quote } from '../base/validate.js';
import type { Io } from './io.js';
import type { CommandDef } from './options.js';
import { commandKey, COMMANDS, GROUPS } from './options.js';

/** What a command's action returns: the process exit code. */
export type Action = (opts: Record<string, unknown>, args: string[], io: Io) => Promise<number>;

/** Adds a table-defined command to commander; help and parsing come from the same OptionDef list. */
export function defineCommand(parent: Command, def: CommandDef, action: Action, io: Io, setExit: (code: number) => void) {
  const cmd = parent.command(def.name).description(def.summary);
  for (const a of def.args ?? []) cmd.argument(a.syntax, a.description);
  for (const o of def.options) {
    const opt = new Option(o.flags, o.description);
    if (o.defaultValue !== undefined) opt.default(o.defaultValue);
    if (o.required) opt.makeOptionMandatory();
    const long = /--[\w-]+/.exec(o.flags)?.[0] ?? o.flags;
    if (o.choices) {
      // Commander's own check echoes the whole value ("argument '<50 MB>' is invalid"); ours quotes 80 characters.
      const choices = o.choices;
      opt.choices(choices).argParser((value: string) => {
        if (!choices.includes(value)) throw new BenchError('E_USAGE', `${long}: must be one of ${choices.join(', ')}, got ${quote(value)}`, { hint: `pick one of ${choices.join(', ')}` });
        return value;
      });
    }
    if (o.parse) {
      const parse = o.parse;
      opt.argParser((value: string, previous: unknown) => {
        try {
          return parse(value, previous);
        } catch (e) {
          // Parsers throw BenchError naming the flag; anything else becomes one, never commander's echo of the raw value.
          // Every refusal says where to read the flag's values and range.
          if (isBenchError(e)) {
            if (e.hint !== undefined) throw e;
            throw new BenchError(e.code, e.message, { hint: `\`bench ${commandKey(def)} --help\` gives ${long}'s values and range`, details: e.details });
          }
          const message = (e as Error).message;
          throw new BenchError('E_USAGE', clip(message.startsWith(long) ? message : `${long}: ${message}`, 400), { hint: `see bench ${commandKey(def)} --help` });
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

/**
 * Commander's own messages on stderr (unknown option, missing argument, too many arguments) quote what was
 * typed in full; each line is cut to 300 characters so that no argument floods stderr.
 */
function boundedErr(s: string): string {
  return s
    .split('\n')
    .map((l) => clip(l, 300))
    .join('\n');
}

/**
 * Commander's usage errors in bench's own form (base/errors.ts formatError): the stable code E_USAGE in place of a
 * bare "error:", so a script can tell a usage error from any other by its code, and a hint naming the help to read.
 */
function usageError(s: string): string {
  return boundedErr(s.replace(/^error: /, 'error[E_USAGE]: '));
}

/** Where a command's output goes: stdout, stderr bounded, and its usage errors in bench's form. */
function outputOf(io: Io) {
  return {
    writeOut: (s: string) => io.stdout.write(s),
    writeErr: (s: string) => io.stderr.write(boundedErr(s)),
    outputError: (s: string, write: (t: string) => void) => write(usageError(s)),
  };
}

export function createProgram(io: Io, actions: Record<string, Action>, version: string, setExit: (code: number) => void) {
  const program = new Command('bench')
    .description(
      'Compare JavaScript runtimes as WebSocket servers: equivalent servers on Bun, Node+ws, Node+uWebSockets.js and Deno,\n' +
        'driven by a load generator that says when it, not the server, was the limit.',
    )
    .version(version, '-V, --version')
    .showHelpAfterError('hint: `bench --help` lists the commands')
    .exitOverride()
    .configureOutput(outputOf(io));
  const output = outputOf(io);
  // Subcommands (`bench k8s render`) hang off a parent command made once per group.
  const groups = new Map<string, Command>();
  for (const def of COMMANDS) {
    const action = actions[commandKey(def)];
    if (!action) continue;
    let parent: Command = program;
    if (def.group) {
      parent =
        groups.get(def.group) ??
        program
          .command(def.group)
          .description(GROUPS[def.group] ?? def.group)
          .showHelpAfterError(`hint: \`bench ${def.group} --help\` lists its commands`)
          .exitOverride()
          .configureOutput(output);
      groups.set(def.group, parent);
    }
    const cmd = defineCommand(parent, def, action, io, setExit);
    cmd
      .showHelpAfterError(`hint: \`bench ${def.group ? `${def.group} ` : ''}${def.name} --help\` shows its usage`)
      .exitOverride()
      .configureOutput(output);
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
      io.stderr.write('error[E_USAGE]: no command given\nhint: pick one of the commands above; `bench run` is the main job\n');
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
