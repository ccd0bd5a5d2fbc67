/**
 * Every flag of every command, with its default and help text, defined once:
 * the parser and `--help` are both built from these tables (and a test checks it),
 * so documentation and behaviour cannot disagree.
 */

import { BenchError } from '../base/errors.js';
import { quote } from '../base/validate.js';
import { parseThresholdOverride, type ThresholdOverride } from '../core/compare-metrics.js';
import { RUNTIME_IDS } from '../core/runtimes.js';
import { MAX_CONNECTIONS, MAX_DURATION_SEC, MAX_WARMUP_SEC, MIN_DURATION_SEC } from '../core/scenario.js';
import { MAX_PAYLOAD_BYTES } from '../loadgen/payload.js';
import { MAX_SEGMENTS, parseSegment, parseStartAt } from '../loadgen/segment.js';
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
  /** A subcommand's parent (`bench k8s render`: group "k8s", name "render"). */
  group?: string;
  name: string;
  summary: string;
  /** Positional arguments, e.g. "<what>". */
  args?: { syntax: string; description: string }[];
  /** Examples shown at the end of the command's --help. */
  examples: string[];
  options: OptionDef[];
}

// ---- bounds -------------------------------------------------------------------
// Every number a flag takes has a ceiling, chosen so that an absurd value is refused before anything starts
// instead of misbehaving later (a run of 10^9 repetitions filled 2.9 GB before it measured anything).

/** Repetitions per runtime × case: the statistics gain little past a few dozen; 1,000 is hours of cells. */
export const MAX_REPEAT = 1000;
/** Load-generator processes: the auto split of 1,000,000 connections needs 53; more only contend for CPUs. */
export const MAX_WORKERS = 64;
/** Seeds feed 32-bit generators (stats/random.ts): a larger one would be silently folded. */
export const MAX_SEED = 2 ** 32 - 1;
/** Linux's PID_MAX_LIMIT (2^22): no process id is larger. */
export const MAX_PID = 4_194_304;
/** The highest CPU number a list may name (Linux's largest NR_CPUS is 8192). */
export const MAX_CPU_ID = 8191;
/** Closed loop: messages in flight per connection, as the closed model's `depth` (loadgen/models/closed.ts). */
export const MAX_DEPTH = 4096;
/** Open loop: aggregate rate, as the open model's `ratesPerSec` (loadgen/models/open.ts). */
export const MAX_RATE_PER_SEC = 10_000_000;
/** Labels name folders and table rows. */
export const MAX_LABEL_CHARS = 64;
/** Paths (PATH_MAX), URLs and commands. */
export const MAX_PATH_CHARS = 4096;

/** A bad flag value: exit 2 with E_USAGE, the flag first, the value quoted (at most 80 characters). */
function bad(flag: string, message: string, hint?: string): BenchError {
  return new BenchError('E_USAGE', `${flag}: ${message}`, hint ? { hint } : {});
}

/**
 * A whole number written in decimal digits only, within [min, max]. `Number()` alone would take "1e9",
 * "0x10", " 5 " and "" (as 0), so a typo could become a billion repetitions.
 */
function parseWhole(flag: string, value: string, min: number, max: number): number {
  const range = max >= Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `≥ ${min} and ≤ ${max}`;
  if (!/^\d+$/.test(value)) throw bad(flag, `must be a whole number ${range} (decimal digits only), got ${quote(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(flag, `must be a whole number ${range}, got ${quote(value)}`);
  return n;
}

export function parsePort(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) > 65535) throw bad(flag, `must be an integer from 0 to 65535 (0 = ephemeral), got ${quote(value)}`);
    return Number(value);
  };
}

/** A taskset CPU list ("0", "0-1", "0,2"): ranges ascending, CPU numbers at most MAX_CPU_ID. Whether these CPUs exist here is checked later (cli/checks.ts). */
export function parseCpuList(flag: string) {
  return (value: string): string => {
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(value)) throw bad(flag, `must be a CPU list such as "0", "0-1" or "0,2", got ${quote(value)}`);
    for (const part of value.split(',')) {
      const [a, b] = part.split('-').map(Number) as [number, number | undefined];
      if (a > MAX_CPU_ID || (b ?? a) > MAX_CPU_ID) throw bad(flag, `CPU numbers go up to ${MAX_CPU_ID}, got ${quote(value)}`);
      if (b !== undefined && b < a) throw bad(flag, `a range must go up (${b}-${a}, not ${a}-${b}), got ${quote(value)}`);
    }
    return value;
  };
}

/** Bounds of a duration flag, in seconds. */
export interface DurationBounds {
  minSec: number;
  maxSec: number;
  /** Why the minimum, for the message. */
  why?: string;
}

/** The measured window: the scenario rule (core/scenario.ts), so a flag cannot run a cell that measures nothing. */
export const DURATION_BOUNDS: DurationBounds = { minSec: MIN_DURATION_SEC, maxSec: MAX_DURATION_SEC, why: 'a shorter window measures nothing' };
/** Warmup: none at all is allowed; an hour at most, as in a scenario. */
export const WARMUP_BOUNDS: DurationBounds = { minSec: 0, maxSec: MAX_WARMUP_SEC };
/** A run's time budget: at least 10 s (one round of cells), a day at most. */
export const BUDGET_BOUNDS: DurationBounds = { minSec: 10, maxSec: MAX_DURATION_SEC, why: 'a shorter budget cannot pay for one round of cells' };

/** "5", "5s", "500ms", "2m", "1h" → seconds, within the bounds (default: the measured window's). */
export function parseDuration(flag: string, bounds: DurationBounds = DURATION_BOUNDS) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
    if (!m) throw bad(flag, `must be a duration such as 5, 5s, 500ms, 2m or 1h, got ${quote(value)}`);
    const n = Number(m[1]);
    const sec = m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : m[2] === 'h' ? n * 3600 : n;
    if (sec < bounds.minSec) throw bad(flag, `must be at least ${bounds.minSec} s${bounds.why ? ` (${bounds.why})` : ''}, got ${quote(value)}`);
    if (sec > bounds.maxSec) throw bad(flag, `must be at most ${bounds.maxSec} s (${bounds.maxSec / 3600} h), got ${quote(value)}`);
    return sec;
  };
}

/** A whole number ≥ min (and ≤ max, when given), digits only. */
export function parseIntAtLeast(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => parseWhole(flag, value, min, max);
}

/**
 * A text flag: not empty (nor only spaces), at most `maxChars`, and without control characters (a NUL
 * cannot be passed to a process; a newline breaks every table and folder name); `allowNewlines` for commands.
 */
export function parseText(flag: string, maxChars: number, opts: { allowNewlines?: boolean } = {}) {
  return (value: string): string => {
    if (value.trim() === '') throw bad(flag, 'must not be empty');
    if (value.length > maxChars) throw bad(flag, `must be at most ${maxChars} characters, got ${value.length.toLocaleString('en-US')}: ${quote(value)}`);
    const control = opts.allowNewlines ? /[\u0000-\u0008\u000b-\u001f\u007f]/ : /[\u0000-\u001f\u007f]/;
    if (control.test(value)) throw bad(flag, `must not contain control characters, got ${quote(value)}`);
    return value;
  };
}

/**
 * Variadic flags (`--runtime bun deno` or `--runtime bun,deno`) collect into a list. An empty value is
 * refused: `--scenario ""` used to fall back silently to the default set, `--runtime ""` to "no runtime".
 */
export function collectList(flag: string) {
  return (value: string, previous: unknown): string[] => {
    const prev = Array.isArray(previous) ? (previous as string[]) : [];
    const items = value.split(',').map((v) => v.trim()).filter(Boolean);
    if (items.length === 0) throw bad(flag, `needs a value, got ${quote(value)}`);
    for (const item of items) if (item.length > MAX_PATH_CHARS) throw bad(flag, `a value may be at most ${MAX_PATH_CHARS} characters, got ${quote(item)}`);
    return [...prev, ...items];
  };
}

export const RUN: CommandDef = {
  name: 'run',
  summary: 'The main job: runtimes × scenarios on fresh, pinned servers in interleaved rounds (a time budget, or fixed repetitions), ending in a decision per workload',
  examples: [
    'bench run                                     # all usable runtimes, default workloads, a 3-minute budget: ends in a ranking',
    'bench run --runtime bun node-ws --budget 10m  # more time for the pairs still undecided',
    'bench run --runtime bun,bun                   # A/A check: the same runtime twice (bun, bun#2) must never come out different',
    'bench run --runtime bun node-ws --scenario echo-rate --repeat 5',
    'bench run --runtime node-socketio bun-socketio node-ws bun --scenario dashboard --repeat 5   # Socket.IO beside bare',
    'bench run --runtime bun@1.3.14 bun@1.4.5 node-ws@22 node-ws@24 --scenario echo-rate   # versions: installed into ~/.cache/bench with npm on first use',
    'bench run --scenario ./my-scenario.json --full --out results/nightly',
    'bench run --json | jq .summary                # machine-readable result on stdout, table on stderr',
    'bench run --server-cmd "node my-server.js" --server-label mine --scenario echo-rate',
    'bench run --target ws://127.0.0.1:9001 --target-pid 4242 --scenario echo',
    'bench run --scenario voice-agent-capacity dashboard-capacity --repeat 3 --for 100000   # capacity per core at the SLO, servers for 100k',
  ],
  options: [
    { flags: '--runtime <id...>', description: `runtimes to compare: ${RUNTIME_IDS.join(', ')}; or the groups all (the four bare runtimes) and stacks (the three Socket.IO stacks); default: all usable bare ones; the same id twice (bun,bun) is an A/A check; each may name a version, <id>@<x.y.z>, @<major> or @<major.minor> (the newest on the npm registry, recorded exactly), or node-ws@system (the Node on PATH); a plain id runs the pinned default version`, parse: collectList('--runtime') },
    { flags: '--scenario <name-or-path...>', description: 'built-in scenario names (bench list scenarios) or JSON files; default: the default set', parse: collectList('--scenario') },
    {
      flags: '--budget <duration>',
      description:
        'time budget, 10s to 24h (e.g. 90s, 10m, 1h; default 3m when --repeat is not given): rounds of fresh-process repetitions, each case stopping as soon as every runtime pair in it is settled (different or equivalent) by a sequential test',
      parse: parseDuration('--budget', BUDGET_BOUNDS),
    },
    { flags: '--repeat <n>', description: 'fixed repetitions per runtime × case instead of a budget, each on a fresh server process', parse: parseIntAtLeast('--repeat', 1, MAX_REPEAT) },
    { flags: '--quick', description: "apply each scenario's quick preset (short, small); on by default when no --scenario is given" },
    { flags: '--full', description: 'turn the quick preset off for the default run' },
    { flags: '--warmup <duration>', description: "warmup per cell, excluded from every figure (overrides the scenario's)", parse: parseDuration('--warmup', WARMUP_BOUNDS) },
    { flags: '--duration <duration>', description: "measured time per cell (overrides the scenario's)", parse: parseDuration('--duration') },
    { flags: '--seed <n>', description: 'seed of the interleaved runtime order and of generated traffic', defaultValue: 1, parse: parseIntAtLeast('--seed', 0, MAX_SEED) },
    { flags: '--server-cpus <list>', description: 'CPUs for the server (taskset list); default: the first allowed CPU', parse: parseCpuList('--server-cpus') },
    { flags: '--loadgen-cpus <list>', description: 'CPUs for the load generator; default: the other allowed CPUs', parse: parseCpuList('--loadgen-cpus') },
    {
      flags: '--allow-shared-cpus',
      description: 'let the server and the load generator share CPUs (overlapping --server-cpus and --loadgen-cpus); the comparison is then unfair: each side takes CPU from the other',
    },
    { flags: '--workers <n>', description: 'load-generator processes; default: one per load-generator CPU', parse: parseIntAtLeast('--workers', 1, MAX_WORKERS) },
    { flags: '--client <impl>', description: 'load-generator client: raw (our RFC 6455 client, speaking Engine.IO/Socket.IO to the stacks), or a library as a cross-check: ws (bare runtimes) or socketio (socket.io-client, stacks)', defaultValue: 'raw', choices: ['raw', 'ws', 'socketio'] },
    { flags: '--reference <id>', description: 'runtime the ratios are computed against', defaultValue: 'node-ws', parse: parseText('--reference', MAX_LABEL_CHARS) },
    { flags: '--out <dir>', description: 'folder for the result folder (<UTC time>-<label>/ with JSON, Markdown, CSV and an HTML page with charts)', defaultValue: 'results', parse: parseText('--out', MAX_PATH_CHARS) },
    { flags: '--label <text>', description: 'label in the result folder name and the report', parse: parseText('--label', MAX_LABEL_CHARS) },
    { flags: '--target <url>', description: 'measure a server that is already running (ws://host:port; the scenario routes are appended) instead of the registry runtimes', parse: parseText('--target', MAX_PATH_CHARS) },
    { flags: '--target-pid <pid>', description: "with --target: the server's pid, so its CPU and memory can be sampled from /proc", parse: parseIntAtLeast('--target-pid', 1, MAX_PID) },
    { flags: '--server-cmd <command>', description: 'measure your own server: bench starts it (pinned) with PORT set, waits until it listens, stops it after each cell', parse: parseText('--server-cmd', MAX_PATH_CHARS, { allowNewlines: true }) },
    { flags: '--server-label <name>', description: 'name of the --target or --server-cmd server in reports', defaultValue: 'custom', parse: parseText('--server-label', MAX_LABEL_CHARS) },
    { flags: '--format <name>', description: `also print the report in this format on stdout: ${either(FORMAT_NAMES)}`, choices: FORMAT_NAMES },
    { flags: '--json', description: 'print the result JSON on stdout (same as --format json)' },
    { flags: '--baseline <result>', description: 'after the run, compare with this result (file or folder, as bench compare BASE) and print the comparison on stderr', parse: parseText('--baseline', MAX_PATH_CHARS) },
    { flags: '--verbose', description: 'also print the per-cell tables on the terminal (they are always in the result folder)' },
    { flags: '--for <n>', description: "capacity scenarios: project the servers (and cores) needed for this many sessions, members, connections or msg/s (a projection, labelled so); default: the scenario's projectFor", parse: parseIntAtLeast('--for', 1, 1e12) },
  ],
};

export const REPORT: CommandDef = {
  name: 'report',
  summary: 'Render a stored result (result.json or its folder) in another format',
  args: [{ syntax: '<result>', description: 'result.json, or the folder that holds it' }],
  examples: ['bench report results/2026-11-24T10-00-00Z-run --format markdown > report.md', 'bench report results/2026-11-24T10-00-00Z-run --format html > report.html'],
  options: [{ flags: '--format <name>', description: either(FORMAT_NAMES), defaultValue: 'table', choices: FORMAT_NAMES }],
};

export const LOAD: CommandDef = {
  name: 'load',
  summary:
    "Drive a WebSocket server with bench's load generator: from flags (--url), or one scenario case (--scenario, --target), whole or as segment I of N of a load spread over machines; summary on stderr",
  examples: [
    'bench load --url ws://127.0.0.1:9001/echo --connections 100 --depth 16 --duration 10s',
    'bench load --url ws://127.0.0.1:9001/echo --rate 20000 --json',
    'bench load --url ws://127.0.0.1:9001/broadcast --publishers 5 --rate 50 --connections 500',
    'bench load --scenario chat --target ws://10.0.0.5:9001 --json',
    'bench load --scenario chat --target ws://10.0.0.5:9001 --segment 2/8 --start-at 2026-01-01T12:00:00Z --out seg2.json',
  ],
  options: [
    { flags: '--url <url>', description: 'ws://host:port/path of the server (a load from the flags below)', parse: parseText('--url', MAX_PATH_CHARS) },
    { flags: '--connections <n>', description: 'WebSocket connections', defaultValue: 10, parse: parseIntAtLeast('--connections', 1, MAX_CONNECTIONS) },
    { flags: '--depth <n>', description: 'closed loop: messages in flight per connection', defaultValue: 1, parse: parseIntAtLeast('--depth', 1, MAX_DEPTH) },
    { flags: '--rate <n>', description: 'open loop: aggregate messages/s (broadcast: per publisher); omit for a closed loop', parse: parseIntAtLeast('--rate', 1, MAX_RATE_PER_SEC) },
    { flags: '--arrivals <kind>', description: 'open-loop arrivals', defaultValue: 'constant', choices: ['constant', 'poisson'] },
    { flags: '--publishers <n>', description: 'broadcast: connections that publish (all receive)', parse: parseIntAtLeast('--publishers', 1, MAX_CONNECTIONS) },
    { flags: '--idle', description: 'open the connections and hold them; send nothing' },
    { flags: '--size <bytes>', description: 'message size in bytes', defaultValue: 128, parse: parseIntAtLeast('--size', 16, MAX_PAYLOAD_BYTES) },
    { flags: '--text', description: 'send text (JSON) messages instead of binary' },
    { flags: '--warmup <duration>', description: 'warmup, excluded from the figures', defaultValue: 1, parse: parseDuration('--warmup', WARMUP_BOUNDS) },
    { flags: '--duration <duration>', description: 'measured time', defaultValue: 5, parse: parseDuration('--duration') },
    { flags: '--workers <n>', description: 'load-generator processes', defaultValue: 1, parse: parseIntAtLeast('--workers', 1, MAX_WORKERS) },
    { flags: '--cpus <list>', description: 'pin the load generator to these CPUs', parse: parseCpuList('--cpus') },
    { flags: '--client <impl>', description: 'raw (our client) or ws (cross-check)', defaultValue: 'raw', choices: ['raw', 'ws'] },
    { flags: '--json', description: 'print the full result as JSON on stdout' },
    { flags: '--scenario <name-or-path>', description: 'instead of --url and the load flags: a scenario (built-in name or JSON file), whose case this runs against --target', parse: parseText('--scenario', MAX_PATH_CHARS) },
    { flags: '--case <name>', description: 'with --scenario: the case to run when the scenario has several (e.g. echo-rate@10000/s)', parse: parseText('--case', MAX_PATH_CHARS) },
    { flags: '--quick', description: "with --scenario: apply the scenario's quick preset" },
    { flags: '--target <url>', description: 'with --scenario: the server, ws://host:port (the scenario gives the route)', parse: parseText('--target', MAX_PATH_CHARS) },
    {
      flags: '--segment <I/N>',
      description: `with --scenario: run segment I of N (0-based, as an Indexed Job's JOB_COMPLETION_INDEX; N at most ${MAX_SEGMENTS}): its share of the connections, publishers and rates, its own ids and seed; prints its segment result between markers on stdout, for bench merge`,
      parse: (v: string) => parseSegment(v, '--segment'),
    },
    { flags: '--start-at <time>', description: 'with --segment: when every segment starts its warmup, epoch milliseconds or an ISO 8601 time with a zone', parse: (v: string) => parseStartAt(v, '--start-at') },
    { flags: '--seed <n>', description: 'seed of the generated traffic (each segment derives its own)', defaultValue: 1, parse: parseIntAtLeast('--seed', 0, MAX_SEED) },
    { flags: '--server-label <name>', description: 'with --scenario: the name of the server in the merged result (its runtime)', defaultValue: 'custom', parse: parseText('--server-label', MAX_LABEL_CHARS) },
    { flags: '--out <file>', description: 'also write the result JSON to this file (a segment: its segment result)', parse: parseText('--out', MAX_PATH_CHARS) },
  ],
};

export const DOCTOR: CommandDef = {
  name: 'doctor',
  summary: 'Check this machine for benchmarking: runtimes, uWebSockets.js binary, open-file limit, ports, CPUs and the pinning plan',
  examples: ['bench doctor', 'bench doctor --connections 50000', 'bench doctor --runtime node-uws@24 bun@1.3   # what these versions need, or why they cannot run here'],
  options: [
    { flags: '--connections <n>', description: 'connections you plan to open (checked against the open-file limit and ports)', defaultValue: 2000, parse: parseIntAtLeast('--connections', 1, MAX_CONNECTIONS) },
    { flags: '--runtime <id@version...>', description: 'runtime versions to check (whether installed, what installing them needs, or why they cannot run here); default: the pinned default of each bare runtime', parse: collectList('--runtime') },
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
    'bench serve --runtime node-ws@22          # a version, installed into the cache with npm on first use',
  ],
  options: [
    { flags: '--runtime <id>', description: `runtime to serve with: ${either(RUNTIME_IDS)}, optionally @<version> (as in bench run)`, required: true, parse: parseText('--runtime', MAX_LABEL_CHARS) },
    { flags: '--port <n>', description: 'port to listen on; 0 picks a free one', defaultValue: 0, parse: parsePort('--port') },
    { flags: '--host <addr>', description: 'address to listen on: an IP address of this machine (127.0.0.1, ::1, 0.0.0.0 for all, or one `ip addr` lists) or localhost', defaultValue: '127.0.0.1', parse: parseText('--host', 255) },
    { flags: '--cpus <list>', description: 'pin the server (every thread) to these CPUs with taskset', parse: parseCpuList('--cpus') },
    { flags: '--ready-file <path>', description: 'also write the ready line to this file (bench sample reads the pid from it)', parse: parseText('--ready-file', MAX_PATH_CHARS) },
  ],
};

/** How often bench sample reads the server: 10 ms to a minute. */
export const SAMPLE_INTERVAL_BOUNDS: DurationBounds = { minSec: 0.01, maxSec: 60 };

export const SAMPLE: CommandDef = {
  name: 'sample',
  summary: "Sample a server's CPU and memory from /proc through a run whose load comes from segments elsewhere: every interval and exactly at the agreed phase edges; prints a server-sample block for bench merge",
  examples: [
    'bench sample --ready-file /run/bench/server-ready.json --start-at 2026-01-01T12:00:00Z --warmup 2s --duration 8s > server.log',
    'bench merge seg0.json seg1.json --server-sample server.json --out results/chat-2seg',
  ],
  options: [
    { flags: '--ready-file <path>', description: "the server's ready line (bench serve --ready-file), read for its pid; waited for until the start", required: true, parse: parseText('--ready-file', MAX_PATH_CHARS) },
    { flags: '--start-at <time>', description: "the segments' agreed start (epoch ms or ISO 8601 with a zone)", required: true, parse: (v: string) => parseStartAt(v, '--start-at') },
    { flags: '--warmup <duration>', description: "the scenario's warmup", defaultValue: 0, parse: parseDuration('--warmup', WARMUP_BOUNDS) },
    { flags: '--duration <duration>', description: "the scenario's measured window", required: true, parse: parseDuration('--duration') },
    { flags: '--interval <duration>', description: 'time between readings', defaultValue: '250ms', parse: parseDuration('--interval', SAMPLE_INTERVAL_BOUNDS) },
    { flags: '--drain <duration>', description: 'after the window: when to take the last reading', defaultValue: '2s', parse: parseDuration('--drain', WARMUP_BOUNDS) },
    { flags: '--out <file>', description: 'also write the sample JSON to this file', parse: parseText('--out', MAX_PATH_CHARS) },
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
  const items = value.split(',').filter((v) => v.trim() !== '');
  if (items.length === 0) throw bad('--threshold', `needs metric=pct, got ${quote(value)}`);
  return [...prev, ...items.map((v) => parseThresholdOverride(v))];
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
    'bench compare base/ head/ --format html > comparison.html',
    'bench compare base/ head/ --threshold p99=15 echo-rate:msgs=3 --fail-on-regression',
    'bench compare base/ head/ --thresholds thresholds.json --noise results/<time>-calibrate-node-ws/',
  ],
  options: [
    { flags: '--format <name>', description: `${either(COMPARISON_FORMAT_NAMES)} (table: terminal; markdown: a pull-request comment; html: one page with the distributions drawn)`, defaultValue: 'table', choices: COMPARISON_FORMAT_NAMES },
    { flags: '--fail-on-regression', description: 'exit 10 when any row is a regression' },
    { flags: '--force', description: 'compare results whose environment, settings or scenarios differ; the differences are printed in the header' },
    { flags: '--threshold <metric=pct...>', description: 'minimum effect per metric (msgs, p50, p99, p999, cpu, rss, conn-bytes, relay, relay-p99, capacity), optionally per scenario: scenario:metric=pct', parse: collectThresholds },
    { flags: '--thresholds <file>', description: 'JSON file of minimum effects: { "metrics": { "p99": 15 }, "scenarios": { "echo-rate": { "msgs": 3 } } }', parse: parseText('--thresholds', MAX_PATH_CHARS) },
    { flags: '--noise <calibration>', description: 'calibration.json (or its folder) from bench calibrate: warn where a threshold is below twice the noise floor', parse: parseText('--noise', MAX_PATH_CHARS) },
  ],
};

export const CHOOSE: CommandDef = {
  name: 'choose',
  summary: 'The decision of one result (or several pooled): per case the runtimes ranked with ratios to the best, intervals, verdicts and costs, as bench run decided',
  args: [{ syntax: '<result>', description: 'result.json, its folder, or a folder of result folders (merged)' }],
  examples: ['bench choose results/2026-11-24T10-00-00Z-all', 'bench choose results/nightly --format markdown > choice.md', 'bench choose results/nightly --format html > choice.html'],
  options: [
    { flags: '--format <name>', description: either(CHOICE_FORMAT_NAMES), defaultValue: 'table', choices: CHOICE_FORMAT_NAMES },
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
    { flags: '--runtime <id>', description: 'the runtime to run against itself', defaultValue: 'node-ws', parse: parseText('--runtime', MAX_LABEL_CHARS) },
    { flags: '--repeat <n>', description: 'repetitions per group: the runtime runs 2 × n times, odd ones are group A, even ones group B', defaultValue: 5, parse: parseIntAtLeast('--repeat', 2, MAX_REPEAT / 2) },
    ...['--scenario', '--quick', '--full', '--warmup', '--duration', '--seed', '--server-cpus', '--loadgen-cpus', '--allow-shared-cpus', '--workers', '--client', '--out'].map(runOption),
    { flags: '--json', description: 'print the calibration JSON on stdout' },
  ],
};

export const MERGE: CommandDef = {
  name: 'merge',
  summary: 'Merge the results of load segments (bench load --segment) into one result, as one load generator with all their workers would have measured it',
  args: [{ syntax: '<segment-results...>', description: 'segment result files (bench load --segment … --out FILE), every segment of one run once' }],
  examples: ['bench merge seg0.json seg1.json seg2.json --out results/chat-3seg', 'bench report results/chat-3seg --format markdown'],
  options: [
    { flags: '--out <dir>', description: 'the result folder (result.json with Markdown, CSV and HTML beside it, as bench run writes)', required: true, parse: parseText('--out', MAX_PATH_CHARS) },
    { flags: '--server-sample <file>', description: "the server's readings (bench sample --out): its CPU per message and memory in the merged result", parse: parseText('--server-sample', MAX_PATH_CHARS) },
    { flags: '--label <text>', description: 'label of the merged result (default: <case>-<server>-<N>seg)', parse: parseText('--label', MAX_LABEL_CHARS) },
    { flags: '--json', description: 'print the merged result JSON on stdout' },
  ],
};

/** Resource quantities as Kubernetes writes them: 512Mi, 2Gi. */
function parseQuantity(flag: string) {
  return (value: string): string => {
    if (!/^[1-9][0-9]*(Ki|Mi|Gi|Ti)$/.test(value)) throw bad(flag, `must be a memory quantity such as 512Mi or 2Gi, got ${quote(value)}`);
    return value;
  };
}

/** A DNS label (names and namespaces of Kubernetes objects). */
function parseDnsLabel(flag: string, max: number) {
  return (value: string): string => {
    if (value.length > max || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value)) throw bad(flag, `must be a DNS label (lower-case letters, digits and dashes, at most ${max} characters), got ${quote(value)}`);
    return value;
  };
}

export const K8S_RENDER: CommandDef = {
  group: 'k8s',
  name: 'render',
  summary: 'Write the Kubernetes manifests of one benchmark on stdout: the server Pod and headless Service, the scenario ConfigMap, the load as an Indexed Job of N segments',
  examples: [
    'bench k8s render --scenario chat --runtime bun --segments 8 --image registry.example.com/bench:0.1.0 > bench.yaml',
    'bench k8s render --scenario echo-rate --case echo-rate@10000/s --runtime node-ws --segments 4 --start-at 2026-01-01T12:00:00Z',
  ],
  options: [
    { flags: '--scenario <name-or-path>', description: 'the scenario (built-in name or JSON file)', required: true, parse: parseText('--scenario', MAX_PATH_CHARS) },
    { flags: '--case <name>', description: 'the case, when the scenario has several', parse: parseText('--case', MAX_PATH_CHARS) },
    { flags: '--quick', description: "apply the scenario's quick preset" },
    { flags: '--runtime <id>', description: `the server: ${either(RUNTIME_IDS)} (bare WebSocket runtimes only)`, required: true, parse: parseText('--runtime', MAX_LABEL_CHARS) },
    { flags: '--segments <n>', description: `load segments: pods of the Indexed Job, 1 to min(connections, ${MAX_SEGMENTS})`, required: true, parse: parseIntAtLeast('--segments', 1, MAX_SEGMENTS) },
    { flags: '--image <ref>', description: 'the bench image every pod runs (built from k8s/Dockerfile, pushed to a registry the nodes pull from)', defaultValue: 'bench:latest', parse: parseText('--image', MAX_PATH_CHARS) },
    { flags: '--start-at <time>', description: 'when every segment starts its warmup (epoch ms or ISO 8601 with a zone); default: 3 minutes from now, time to pull the image and connect', parse: (v: string) => parseStartAt(v, '--start-at') },
    { flags: '--namespace <name>', description: 'Kubernetes namespace of every object (it must exist)', defaultValue: 'bench', parse: parseDnsLabel('--namespace', 63) },
    { flags: '--name <name>', description: 'base name of the objects (default bench-<scenario>-<runtime>)', parse: parseDnsLabel('--name', 40) },
    { flags: '--seed <n>', description: 'seed of the generated traffic (each segment derives its own)', defaultValue: 1, parse: parseIntAtLeast('--seed', 0, MAX_SEED) },
    { flags: '--server-cpus <n>', description: "the server container's whole CPUs (requests = limits, for the static CPU manager)", defaultValue: 1, parse: parseIntAtLeast('--server-cpus', 1, 256) },
    { flags: '--server-memory <quantity>', description: "the server container's memory", defaultValue: '2Gi', parse: parseQuantity('--server-memory') },
    { flags: '--load-cpus <n>', description: "each load pod's whole CPUs (one load-generator worker per CPU)", defaultValue: 2, parse: parseIntAtLeast('--load-cpus', 1, 256) },
    { flags: '--load-memory <quantity>', description: "each load pod's memory", defaultValue: '2Gi', parse: parseQuantity('--load-memory') },
    { flags: '--spread <how>', description: 'keep load pods off each other\'s nodes: preferred, required (needs N nodes besides the server\'s) or none; never on the server\'s node', defaultValue: 'preferred', choices: ['preferred', 'required', 'none'] },
    { flags: '--pull-policy <policy>', description: 'imagePullPolicy of every container', defaultValue: 'IfNotPresent', choices: ['Always', 'IfNotPresent', 'Never'] },
  ],
};

export const K8S_COLLECT: CommandDef = {
  group: 'k8s',
  name: 'collect',
  summary: "Read the segment results from the load pods' logs and the server's readings from its sampler's (kubectl logs), and merge them into one result, as bench merge does",
  examples: [
    'bench k8s collect --name bench-chat-bun --segments 8 --out results/chat-bun-8x',
    'kubectl -n bench logs -l app.kubernetes.io/component=load --prefix --tail=-1 > load.log && bench k8s collect --log load.log --segments 8 --out results/chat-bun-8x',
  ],
  options: [
    { flags: '--name <name>', description: 'base name of the objects, as rendered (bench-<scenario>-<runtime>)', parse: parseDnsLabel('--name', 40) },
    { flags: '--namespace <name>', description: 'Kubernetes namespace of the run', defaultValue: 'bench', parse: parseDnsLabel('--namespace', 63) },
    { flags: '--segments <n>', description: 'load segments of the run (N of the Job)', required: true, parse: parseIntAtLeast('--segments', 1, MAX_SEGMENTS) },
    { flags: '--out <dir>', description: 'the merged result folder', required: true, parse: parseText('--out', MAX_PATH_CHARS) },
    { flags: '--log <file>', description: 'read the pods\' logs from this file (kubectl logs --prefix output) instead of running kubectl', parse: parseText('--log', MAX_PATH_CHARS) },
    { flags: '--server-log <file>', description: "with --log: the sampler's log (its server-sample block) from this file", parse: parseText('--server-log', MAX_PATH_CHARS) },
    { flags: '--kubectl <path>', description: 'the kubectl to run', defaultValue: 'kubectl', parse: parseText('--kubectl', MAX_PATH_CHARS) },
    { flags: '--label <text>', description: 'label of the merged result', parse: parseText('--label', MAX_LABEL_CHARS) },
  ],
};

export const COMMANDS: CommandDef[] = [RUN, LIST, DOCTOR, LOAD, SERVE, REPORT, COMPARE, CHOOSE, CALIBRATE, MERGE, SAMPLE, K8S_RENDER, K8S_COLLECT];

/** What each group of subcommands is for (`bench k8s --help`). */
export const GROUPS: Record<string, string> = {
  k8s: 'Run a benchmark on Kubernetes with its load spread over N segments: render the manifests, collect and merge the results',
};

/** The key of a command in the actions table: "load", or "k8s render" for a subcommand. */
export function commandKey(def: Pick<CommandDef, 'group' | 'name'>): string {
  return def.group ? `${def.group} ${def.name}` : def.name;
}
