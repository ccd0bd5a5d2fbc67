/**
 * Every flag of every command, with its default and help text, defined once:
 * the parser and `--help` are both built from these tables (and a test checks it),
 * so documentation and behaviour cannot disagree.
 */

export interface OptionDef {
  /** Commander flag syntax, e.g. "--port <n>". */
  flags: string;
  description: string;
  /** Shown in --help and applied when the flag is absent. */
  defaultValue?: string | number | boolean | string[];
  /** Allowed values, checked by the parser and listed in --help. */
  choices?: readonly string[];
  /** The command refuses to run without it. */
  required?: boolean;
  /** Parses and validates one value; throws a TypeError naming the flag. */
  parse?: (value: string, previous: unknown) => unknown;
}

export interface CommandDef {
  name: string;
  summary: string;
  /** Positional arguments, e.g. "<what>". */
  args?: { syntax: string; description: string }[];
  /** Examples shown at the end of the command's --help. */
  examples: string[];
  options: OptionDef[];
}

export function parsePort(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new TypeError(`${flag}: must be an integer from 0 to 65535 (0 = ephemeral), got "${value}"`);
    }
    return n;
  };
}

export function parseCpuList(flag: string) {
  return (value: string): string => {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) {
      throw new TypeError(`${flag}: must be a CPU list such as "0", "0-1" or "0,2", got "${value}"`);
    }
    return value;
  };
}

export const SERVE: CommandDef = {
  name: 'serve',
  summary: 'Start one benchmark server in the foreground and print its ready line (JSON) on stdout',
  examples: [
    'bench serve --runtime bun                 # ephemeral port, read it from the ready line',
    'bench serve --runtime node-uws --port 9001',
    'bench serve --runtime deno --cpus 0       # pinned to CPU 0',
  ],
  options: [
    { flags: '--runtime <id>', description: 'runtime to serve with: bun, node-ws, node-uws or deno', required: true },
    { flags: '--port <n>', description: 'port to listen on; 0 picks a free one', defaultValue: 0, parse: parsePort('--port') },
    { flags: '--host <addr>', description: 'address to listen on', defaultValue: '127.0.0.1' },
    { flags: '--cpus <list>', description: 'pin the server (every thread) to these CPUs with taskset', parse: parseCpuList('--cpus') },
  ],
};

export const LIST: CommandDef = {
  name: 'list',
  summary: 'List runtimes (whether each is usable here, its version, and the fix when not)',
  args: [{ syntax: '<what>', description: 'what to list: runtimes' }],
  examples: ['bench list runtimes', 'bench list runtimes --json | jq .'],
  options: [{ flags: '--json', description: 'print machine-readable JSON on stdout', defaultValue: false }],
};

export const COMMANDS: CommandDef[] = [SERVE, LIST];
