/**
 * The simulated upstream's configuration: every option with its flag,
 * environment variable, default and help text defined once, in OPTIONS. The
 * process parses flags and environment with it; the launcher validates an
 * object with it and turns it back into flags. Pure (no process access).
 */
import { DEFAULT_LATENCY, checkLatency, formatLatency, parseLatency, type LatencySpec } from './latency.js';

export interface UpstreamConfig {
  /** Address to listen on; the upstream takes local traffic only by default. */
  host: string;
  /** 0 = ephemeral, read back from the ready line. */
  port: number;
  /** Think time from a turn's trigger to its first reply chunk. */
  latency: LatencySpec;
  /** Seed of every session's random source (uint32); with the session id it fixes that session's latencies. */
  seed: number;
  /** Reply chunks (`response.audio.delta`) per turn, before the `response.done`. */
  chunks: number;
  /** Gap between consecutive reply chunks, ms; 0 sends the whole burst in one go. */
  chunkIntervalMs: number;
  /** Decoded audio bytes per reply chunk (960 = 20 ms of PCM16 at 24 kHz; base64 makes it 1,280 characters). */
  chunkAudioBytes: number;
  /** Also end a turn after this many non-control messages since the last turn; 0 = only on `response.create`. */
  turnEveryEvents: number;
  /** Keep a running FNV-1a digest of each session's received messages and report it in `response.done` (tests; costs CPU). */
  verify: boolean;
}

export const UPSTREAM_DEFAULTS: UpstreamConfig = {
  host: '127.0.0.1',
  port: 0,
  latency: DEFAULT_LATENCY,
  seed: 1,
  chunks: 10,
  chunkIntervalMs: 20,
  chunkAudioBytes: 960,
  turnEveryEvents: 0,
  verify: false,
};

/** The ready line the upstream prints to stdout once it listens (the servers' ready line, with its config). */
export interface UpstreamReadyLine {
  event: 'ready';
  role: 'upstream';
  runtime: 'node';
  runtimeVersion: string;
  library: 'ws';
  libraryVersion: string;
  pid: number;
  host: string;
  port: number;
  config: UpstreamConfig;
}

/** What GET /stats on the upstream returns: counters since start, and the process's own CPU and RSS. */
export interface UpstreamStats {
  sessionsOpen: number;
  sessionsTotal: number;
  /** Close codes the upstream received from relays, e.g. { "1000": 12 }. */
  closeCodes: Record<string, number>;
  eventsReceived: number;
  bytesReceived: number;
  turns: number;
  chunksSent: number;
  /** Chunks not sent because the session already buffered more than 1 MiB (the servers' rule). */
  chunksDropped: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
}

type Parsed<T> = { value: T } | { problem: string };

const parsedOr = <T>(problem: string | undefined, value: T): Parsed<T> => (problem === undefined ? { value } : { problem });

interface Option<K extends keyof UpstreamConfig> {
  key: K;
  flag: string;
  env: string;
  /** For --help: the value's form. */
  arg: string;
  help: string;
  fromText(text: string): Parsed<UpstreamConfig[K]>;
  /** The problem with a value given as an object field, or undefined. */
  check(value: unknown): string | undefined;
  toText(value: UpstreamConfig[K]): string;
}

function integer(min: number, max: number) {
  const check = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`;
  return {
    check,
    fromText: (text: string) => (/^\d+$/.test(text.trim()) ? parsedOr(check(Number(text)), Number(text)) : { problem: check(text)! }),
    toText: (value: number) => String(value),
  };
}

const text = {
  check: (value: unknown) => (typeof value === 'string' && value !== '' ? undefined : `must be a non-empty string`),
  fromText: (s: string) => parsedOr(s === '' ? 'must be a non-empty string' : undefined, s),
  toText: (s: string) => s,
};

const boolean = {
  check: (value: unknown) => (typeof value === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(value)}`),
  fromText: (s: string): Parsed<boolean> =>
    ['1', 'true', 'yes'].includes(s)
      ? { value: true }
      : ['0', 'false', 'no'].includes(s)
        ? { value: false }
        : { problem: `must be true or false, got ${JSON.stringify(s)}` },
  toText: (b: boolean) => String(b),
};

/**
 * One option, its key's type erased behind closures that keep it: the list below holds options of every
 * key, and each reads and writes only its own field.
 */
export interface AnyOption {
  key: keyof UpstreamConfig;
  flag: string;
  env: string;
  arg: string;
  help: string;
  /** Parses `text` into `config`; the problem, or undefined. */
  applyText(config: UpstreamConfig, text: string): string | undefined;
  /** Checks `value` (an object field) and stores it in `config`; the problem, or undefined. */
  applyValue(config: UpstreamConfig, value: unknown): string | undefined;
  /** The option's value in `config`, as text (for flags and help). */
  textOf(config: UpstreamConfig): string;
}

function option<K extends keyof UpstreamConfig>(o: Option<K>): AnyOption {
  return {
    key: o.key,
    flag: o.flag,
    env: o.env,
    arg: o.arg,
    help: o.help,
    applyText(config, text) {
      const parsed = o.fromText(text);
      if ('problem' in parsed) return parsed.problem;
      config[o.key] = parsed.value;
      return undefined;
    },
    applyValue(config, value) {
      const problem = o.check(value);
      // check() accepted it: it is of this option's type.
      if (problem === undefined) config[o.key] = value as UpstreamConfig[K];
      return problem;
    },
    textOf: (config) => o.toText(config[o.key]),
  };
}

/** Every option, once: flag, environment variable, help, parsing and checking. */
export const OPTIONS: readonly AnyOption[] = [
  option({ key: 'host', flag: '--host', env: 'HOST', arg: 'ADDR', help: 'address to listen on', ...text }),
  option({ key: 'port', flag: '--port', env: 'PORT', arg: 'N', help: 'port to listen on; 0 = ephemeral', ...integer(0, 65535) }),
  option({
    key: 'latency',
    flag: '--latency',
    env: 'UPSTREAM_LATENCY',
    arg: 'DIST',
    help: 'think time per turn, ms: fixed:MS, uniform:MIN:MAX or lognormal:MEDIAN:SIGMA',
    fromText: (s: string) => {
      const spec = parseLatency(s);
      return typeof spec === 'string' ? { problem: spec } : { value: spec };
    },
    check: checkLatency,
    toText: formatLatency,
  }),
  option({ key: 'seed', flag: '--seed', env: 'UPSTREAM_SEED', arg: 'N', help: 'seed of the latency draws (uint32)', ...integer(0, 0xffffffff) }),
  option({ key: 'chunks', flag: '--chunks', env: 'UPSTREAM_CHUNKS', arg: 'N', help: 'reply chunks per turn', ...integer(1, 10_000) }),
  option({
    key: 'chunkIntervalMs',
    flag: '--chunk-interval-ms',
    env: 'UPSTREAM_CHUNK_INTERVAL_MS',
    arg: 'MS',
    help: 'gap between reply chunks; 0 = the whole burst at once',
    ...integer(0, 60_000),
  }),
  option({
    key: 'chunkAudioBytes',
    flag: '--chunk-audio-bytes',
    env: 'UPSTREAM_CHUNK_AUDIO_BYTES',
    arg: 'BYTES',
    help: 'decoded audio bytes per reply chunk (sent as base64)',
    ...integer(0, 1024 * 1024),
  }),
  option({
    key: 'turnEveryEvents',
    flag: '--turn-every-events',
    env: 'UPSTREAM_TURN_EVERY_EVENTS',
    arg: 'N',
    help: 'also end a turn after N non-control messages; 0 = only on response.create',
    ...integer(0, 1_000_000),
  }),
  option({
    key: 'verify',
    flag: '--verify',
    env: 'UPSTREAM_VERIFY',
    arg: '',
    help: 'digest every received message and report it in response.done (for tests)',
    ...boolean,
  }),
];
const options: readonly AnyOption[] = OPTIONS;

export interface ParsedArgs {
  config: UpstreamConfig;
  /** One line per problem, each naming its flag or variable; empty when the config is valid. */
  problems: string[];
  help: boolean;
}

/**
 * Reads flags (`--name value`, `--name=value`, `--verify` alone) over
 * environment variables over defaults, collecting every problem.
 */
export function parseUpstreamArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedArgs {
  const config: UpstreamConfig = { ...UPSTREAM_DEFAULTS };
  const problems: string[] = [];
  const apply = (o: AnyOption, raw: string, source: string) => {
    const problem = o.applyText(config, raw);
    if (problem !== undefined) problems.push(`${source}: ${problem}`);
  };
  for (const o of options) {
    const raw = env[o.env];
    if (raw !== undefined && raw !== '') apply(o, raw, o.env);
  }
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const o = options.find((x) => x.flag === name);
    if (o === undefined) {
      problems.push(`${name}: unknown option (see --help)`);
      continue;
    }
    if (eq >= 0) apply(o, arg.slice(eq + 1), o.flag);
    else if (o.key === 'verify') apply(o, 'true', o.flag);
    else if (i + 1 < argv.length) apply(o, argv[++i]!, o.flag);
    else problems.push(`${o.flag}: needs a value`);
  }
  return { config, problems, help };
}

/** Checks a config given as an object (unknown keys rejected), filling defaults; problems carry `upstream.<key>` paths. */
export function resolveUpstreamConfig(input: Readonly<Record<string, unknown>>): { config: UpstreamConfig; problems: string[] } {
  const problems: string[] = [];
  const config: UpstreamConfig = { ...UPSTREAM_DEFAULTS };
  for (const key of Object.keys(input)) {
    const o = options.find((x) => x.key === key);
    if (o === undefined) {
      problems.push(`upstream.${key}: unknown key (valid: ${options.map((x) => x.key).join(', ')})`);
      continue;
    }
    const value = input[key];
    if (value === undefined) continue;
    const problem = o.applyValue(config, value);
    if (problem !== undefined) problems.push(`upstream.${key}: ${problem}`);
  }
  return { config, problems };
}

/** The flags that make the upstream process run with exactly `config`. */
export function upstreamArgs(config: UpstreamConfig): string[] {
  return options.map((o) => `${o.flag}=${o.textOf(config)}`);
}

/** --help text, built from OPTIONS. */
export function upstreamHelp(): string {
  const rows = options.map((o) => {
    const left = `  ${o.flag}${o.arg ? ' ' + o.arg : ''}`;
    const def = o.textOf(UPSTREAM_DEFAULTS);
    return `${left.padEnd(30)}${o.help} (env ${o.env}, default ${def})`;
  });
  return ['Usage: node dist/upstream/model.js [options]', '', 'A simulated realtime model service for the relay route (upstream/README.md).', '', ...rows, ''].join('\n');
}
