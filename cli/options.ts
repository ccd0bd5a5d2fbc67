/**
 * Every flag of every command, with its default and help text, defined once:
 * the parser and `--help` are both built from these tables (and a test checks it),
 * so documentation and behaviour cannot disagree.
 */

import { parseThresholdOverride, type ThresholdOverride } from '../core/compare-metrics.js';
import { RUNTIME_IDS } from '../core/runtimes.js';
import { FORMAT_NAMES } from '../report/format.js';
import { CHOICE_FORMAT_NAMES, COMPARISON_FORMAT_NAMES } from '../report/compare/format.js';

/** "a, b, c or d" from a registry's names, so help lists what the code knows. */
const either = (names: readonly string[], last = 'or') => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)}`);

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

/** "5", "5s", "500ms", "2m" → seconds. */
export function parseDuration(flag: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
    if (!m) throw new TypeError(`${flag}: must be a duration such as 5, 5s, 500ms or 2m, got "${value}"`);
    const n = Number(m[1]);
    return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n;
  };
}

export function parseIntAtLeast(flag: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new TypeError(`${flag}: must be a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Variadic flags (`--runtime bun deno` or `--runtime bun,deno`) collect into a list. */
export function collectList(value: string, previous: unknown): string[] {
  const prev = Array.isArray(previous) ? (previous as string[]) : [];
  return [...prev, ...value.split(',').filter(Boolean)];
}

export const RUN: CommandDef = {
  name: 'run',
  summary: 'Compare runtimes: every runtime × scenario × repetition on a fresh, pinned server, ending in a comparison table',
  examples: [
    'bench run                                     # all usable runtimes, default scenarios, quick preset (~2 min)',
    'bench run --runtime bun node-ws --scenario echo-rate --repeat 5',
    'bench run --runtime node-socketio bun-socketio node-ws bun --scenario dashboard --repeat 5   # Socket.IO beside bare',
    'bench run --scenario ./my-scenario.json --full --out results/nightly',
    'bench run --json | jq .summary                # machine-readable result on stdout, table on stderr',
    'bench run --server-cmd "node my-server.js" --server-label mine --scenario echo-rate',
    'bench run --target ws://127.0.0.1:9001 --target-pid 4242 --scenario echo',
  ],
  options: [
    { flags: '--runtime <id...>', description: `runtimes to compare: ${RUNTIME_IDS.join(', ')}; or the groups all (the four bare runtimes) and stacks (the three Socket.IO stacks); default: all usable bare ones`, parse: collectList },
    { flags: '--scenario <name-or-path...>', description: 'built-in scenario names (bench list scenarios) or JSON files; default: the default set', parse: collectList },
    { flags: '--repeat <n>', description: 'repetitions per runtime × case, each on a fresh server process', defaultValue: 3, parse: parseIntAtLeast('--repeat', 1) },
    { flags: '--quick', description: "apply each scenario's quick preset (short, small); on by default when no --scenario is given" },
    { flags: '--full', description: 'turn the quick preset off for the default run' },
    { flags: '--warmup <duration>', description: "warmup per cell, excluded from every figure (overrides the scenario's)", parse: parseDuration('--warmup') },
    { flags: '--duration <duration>', description: "measured time per cell (overrides the scenario's)", parse: parseDuration('--duration') },
    { flags: '--seed <n>', description: 'seed of the interleaved runtime order and of generated traffic', defaultValue: 1, parse: parseIntAtLeast('--seed', 0) },
    { flags: '--server-cpus <list>', description: 'CPUs for the server (taskset list); default: the first allowed CPU', parse: parseCpuList('--server-cpus') },
    { flags: '--loadgen-cpus <list>', description: 'CPUs for the load generator; default: the other allowed CPUs', parse: parseCpuList('--loadgen-cpus') },
    { flags: '--workers <n>', description: 'load-generator processes; default: one per load-generator CPU', parse: parseIntAtLeast('--workers', 1) },
    { flags: '--client <impl>', description: 'load-generator client: raw (our RFC 6455 client, speaking Engine.IO/Socket.IO to the stacks), or a library as a cross-check: ws (bare runtimes) or socketio (socket.io-client, stacks)', defaultValue: 'raw', choices: ['raw', 'ws', 'socketio'] },
    { flags: '--reference <id>', description: 'runtime the ratios are computed against', defaultValue: 'node-ws' },
    { flags: '--out <dir>', description: 'folder for the result folder (<UTC time>-<label>/ with JSON, Markdown, CSV)', defaultValue: 'results' },
    { flags: '--label <text>', description: 'label in the result folder name and the report' },
    { flags: '--target <url>', description: 'measure a server that is already running (ws://host:port; the scenario routes are appended) instead of the registry runtimes' },
    { flags: '--target-pid <pid>', description: "with --target: the server's pid, so its CPU and memory can be sampled from /proc", parse: parseIntAtLeast('--target-pid', 1) },
    { flags: '--server-cmd <command>', description: 'measure your own server: bench starts it (pinned) with PORT set, waits until it listens, stops it after each cell' },
    { flags: '--server-label <name>', description: 'name of the --target or --server-cmd server in reports', defaultValue: 'custom' },
    { flags: '--format <name>', description: `also print the report in this format on stdout: ${either(FORMAT_NAMES)}`, choices: FORMAT_NAMES },
    { flags: '--json', description: 'print the result JSON on stdout (same as --format json)' },
    { flags: '--baseline <result>', description: 'after the run, compare with this result (file or folder, as bench compare BASE) and print the comparison on stderr' },
  ],
};

export const REPORT: CommandDef = {
  name: 'report',
  summary: 'Render a stored result (result.json or its folder) in another format',
  args: [{ syntax: '<result>', description: 'result.json, or the folder that holds it' }],
  examples: ['bench report results/2026-11-24T10-00-00Z-run --format markdown > report.md'],
  options: [{ flags: '--format <name>', description: either(FORMAT_NAMES), defaultValue: 'table', choices: FORMAT_NAMES }],
};

export const LOAD: CommandDef = {
  name: 'load',
  summary: "Drive a WebSocket server of your own with bench's load generator; summary on stderr, --json on stdout",
  examples: [
    'bench load --url ws://127.0.0.1:9001/echo --connections 100 --depth 16 --duration 10s',
    'bench load --url ws://127.0.0.1:9001/echo --rate 20000 --json',
    'bench load --url ws://127.0.0.1:9001/broadcast --publishers 5 --rate 50 --connections 500',
  ],
  options: [
    { flags: '--url <url>', description: 'ws://host:port/path of the server', required: true },
    { flags: '--connections <n>', description: 'WebSocket connections', defaultValue: 10, parse: parseIntAtLeast('--connections', 1) },
    { flags: '--depth <n>', description: 'closed loop: messages in flight per connection', defaultValue: 1, parse: parseIntAtLeast('--depth', 1) },
    { flags: '--rate <n>', description: 'open loop: aggregate messages/s (broadcast: per publisher); omit for a closed loop', parse: parseIntAtLeast('--rate', 1) },
    { flags: '--arrivals <kind>', description: 'open-loop arrivals', defaultValue: 'constant', choices: ['constant', 'poisson'] },
    { flags: '--publishers <n>', description: 'broadcast: connections that publish (all receive)', parse: parseIntAtLeast('--publishers', 1) },
    { flags: '--idle', description: 'open the connections and hold them; send nothing' },
    { flags: '--size <bytes>', description: 'message size in bytes', defaultValue: 128, parse: parseIntAtLeast('--size', 16) },
    { flags: '--text', description: 'send text (JSON) messages instead of binary' },
    { flags: '--warmup <duration>', description: 'warmup, excluded from the figures', defaultValue: 1, parse: parseDuration('--warmup') },
    { flags: '--duration <duration>', description: 'measured time', defaultValue: 5, parse: parseDuration('--duration') },
    { flags: '--workers <n>', description: 'load-generator processes', defaultValue: 1, parse: parseIntAtLeast('--workers', 1) },
    { flags: '--cpus <list>', description: 'pin the load generator to these CPUs', parse: parseCpuList('--cpus') },
    { flags: '--client <impl>', description: 'raw (our client) or ws (cross-check)', defaultValue: 'raw', choices: ['raw', 'ws'] },
    { flags: '--json', description: 'print the full result as JSON on stdout' },
  ],
};

export const DOCTOR: CommandDef = {
  name: 'doctor',
  summary: 'Check this machine for benchmarking: runtimes, uWebSockets.js binary, open-file limit, ports, CPUs and the pinning plan',
  examples: ['bench doctor', 'bench doctor --connections 50000'],
  options: [
    { flags: '--connections <n>', description: 'connections you plan to open (checked against the open-file limit and ports)', defaultValue: 2000, parse: parseIntAtLeast('--connections', 1) },
    { flags: '--json', description: 'print the findings as JSON on stdout' },
  ],
};

export const SERVE: CommandDef = {
  name: 'serve',
  summary: 'Start one benchmark server in the foreground and print its ready line (JSON) on stdout',
  examples: [
    'bench serve --runtime bun                 # ephemeral port, read it from the ready line',
    'bench serve --runtime node-uws --port 9001',
    'bench serve --runtime deno --cpus 0       # pinned to CPU 0',
  ],
  options: [
    { flags: '--runtime <id>', description: `runtime to serve with: ${either(RUNTIME_IDS)}`, required: true },
    { flags: '--port <n>', description: 'port to listen on; 0 picks a free one', defaultValue: 0, parse: parsePort('--port') },
    { flags: '--host <addr>', description: 'address to listen on', defaultValue: '127.0.0.1' },
    { flags: '--cpus <list>', description: 'pin the server (every thread) to these CPUs with taskset', parse: parseCpuList('--cpus') },
  ],
};

export const LIST: CommandDef = {
  name: 'list',
  summary: 'List runtimes (whether each is usable here, its version, the fix when not) or scenarios (with descriptions)',
  args: [{ syntax: '<what>', description: 'runtimes or scenarios' }],
  examples: ['bench list runtimes', 'bench list scenarios', 'bench list runtimes --json | jq .'],
  options: [{ flags: '--json', description: 'print machine-readable JSON on stdout', defaultValue: false }],
};

/** `--threshold` values: `[scenario:]metric=pct`, parsed and validated as they come, collected into a list. */
export function collectThresholds(value: string, previous: unknown): ThresholdOverride[] {
  const prev = Array.isArray(previous) ? (previous as ThresholdOverride[]) : [];
  return [...prev, ...value.split(',').filter(Boolean).map((v) => parseThresholdOverride(v))];
}

export const COMPARE: CommandDef = {
  name: 'compare',
  summary: 'Compare two results: per case × runtime × metric, medians, Δ%, a 95% CI, a Holm-corrected Mann–Whitney p-value and a verdict',
  args: [
    { syntax: '<base>', description: 'the baseline: result.json, its folder, or a folder of result folders (merged)' },
    { syntax: '<head>', description: 'the candidate, in the same forms' },
  ],
  examples: [
    'bench compare results/main results/my-branch',
    'bench compare base/ head/ --format markdown > comment.md',
    'bench compare base/ head/ --threshold p99=15 echo-rate:msgs=3 --fail-on-regression',
    'bench compare base/ head/ --thresholds thresholds.json --noise results/<time>-calibrate-node-ws/',
  ],
  options: [
    { flags: '--format <name>', description: `${either(COMPARISON_FORMAT_NAMES)} (table: terminal; markdown: a pull-request comment)`, defaultValue: 'table', choices: COMPARISON_FORMAT_NAMES },
    { flags: '--fail-on-regression', description: 'exit 10 when any row is a regression' },
    { flags: '--force', description: 'compare results whose environment, settings or scenarios differ; the differences are printed in the header' },
    { flags: '--threshold <metric=pct...>', description: 'minimum effect per metric (msgs, p50, p99, p999, cpu, rss, conn-bytes, relay, relay-p99), optionally per scenario: scenario:metric=pct', parse: collectThresholds },
    { flags: '--thresholds <file>', description: 'JSON file of minimum effects: { "metrics": { "p99": 15 }, "scenarios": { "echo-rate": { "msgs": 3 } } }' },
    { flags: '--noise <calibration>', description: 'calibration.json (or its folder) from bench calibrate: warn where a threshold is below twice the noise floor' },
  ],
};

export const CHOOSE: CommandDef = {
  name: 'choose',
  summary: 'The runtime-choice table of one result: per case the runtimes ranked with ratios to the best, confidence intervals, ties and costs',
  args: [{ syntax: '<result>', description: 'result.json, its folder, or a folder of result folders (merged)' }],
  examples: ['bench choose results/2026-11-24T10-00-00Z-all', 'bench choose results/nightly --format markdown > choice.md'],
  options: [
    { flags: '--format <name>', description: either(CHOICE_FORMAT_NAMES), defaultValue: 'table', choices: CHOICE_FORMAT_NAMES },
    { flags: '--seed <n>', description: 'seed of the bootstrap confidence intervals', defaultValue: 1, parse: parseIntAtLeast('--seed', 0) },
  ],
};

const runOption = (long: string): OptionDef => RUN.options.find((o) => o.flags.split(' ')[0] === long)!;

export const CALIBRATE: CommandDef = {
  name: 'calibrate',
  summary: 'Measure the A/A noise floor: one runtime against itself, 2 × N interleaved repetitions split odd/even, noise per metric',
  examples: [
    'bench calibrate                                   # node-ws, default scenarios (quick), 5 + 5 repetitions',
    'bench calibrate --runtime bun --scenario echo-rate --repeat 10',
    'bench compare base/ head/ --noise results/<time>-calibrate-bun/',
  ],
  options: [
    { flags: '--runtime <id>', description: 'the runtime to run against itself', defaultValue: 'node-ws' },
    { flags: '--repeat <n>', description: 'repetitions per group: the runtime runs 2 × n times, odd ones are group A, even ones group B', defaultValue: 5, parse: parseIntAtLeast('--repeat', 2) },
    ...['--scenario', '--quick', '--full', '--warmup', '--duration', '--seed', '--server-cpus', '--loadgen-cpus', '--workers', '--client', '--out'].map(runOption),
    { flags: '--json', description: 'print the calibration JSON on stdout' },
  ],
};

export const COMMANDS: CommandDef[] = [RUN, LIST, DOCTOR, LOAD, SERVE, REPORT, COMPARE, CHOOSE, CALIBRATE];
