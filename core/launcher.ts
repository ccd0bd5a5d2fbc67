import net from 'node:net';
import { BenchError } from '../base/errors.js';
import type { ParityManifest, ReadyLine, RelayInfo } from '../servers/settings.js';
import { SHUTDOWN_GRACE_MS } from '../servers/settings.js';
import { resolveUpstreamConfig, upstreamArgs, type UpstreamConfig, type UpstreamReadyLine } from '../upstream/config.js';
import { currentHost } from './host.js';
import { upstreamScript } from './paths.js';
import { liveProcesses, spawnManaged, stopAll, waitForLine, type ManagedProcess, type StopResult } from './process.js';
import { exePath, listeningPid, runtimeOfExe } from './procfs.js';
import { RUNTIMES, type HostInfo, type RuntimeId } from './runtimes.js';
import { parseStackManifest } from './stack-parity.js';

/**
 * What bench starts and measures: registry servers, a user's server command and
 * the simulated upstream, each through the one process lifecycle of
 * core/process.ts (own process group, tracked, stopped with its group, cleaned
 * up by the watchdog even when bench is killed). This file decides what to
 * start and when it is ready; process.ts how.
 */

export type { StopResult };

export interface StartServerOptions {
  runtime: RuntimeId;
  /** 0 (default) = an ephemeral port, read back from the ready line. */
  port?: number;
  host?: string;
  /** CPU list for taskset, e.g. "0" or "0-1"; affinity is inherited by every thread the runtime starts. */
  cpus?: string;
  /** How long to wait for the ready line (default 15 s: Deno compiles on an empty cache). */
  readyTimeoutMs?: number;
  /** The host's facts and environment (default: this process's). */
  hostInfo?: HostInfo;
  /** Environment variables added to the host's for the server (e.g. UPSTREAM_URL). */
  env?: Record<string, string>;
  /**
   * The runtime executable to start instead of the registry's (the Node on PATH, the project's bun and deno),
   * with the environment it needs (BENCH_UWS_MODULE): a version resolved by core/runtime-versions.
   */
  binary?: { path: string; env?: Record<string, string> };
}

export interface ServerHandle {
  /** Registry id, or the label of a user's server started with `startCommand`. */
  runtimeId: RuntimeId | string;
  /** The pid that is measured: the runtime's own, or for a command the process that listens on its port. */
  pid: number;
  /** Why `pid` may not be the server's own (a command whose listening process was not found), else undefined. */
  pidNote?: string;
  host: string;
  port: number;
  /** The server's ready line; null for a user's server that printed none (its settings are then unknown). */
  ready: ReadyLine | null;
  process: ManagedProcess;
  /** The last lines the server wrote to stderr (for error reports). */
  stderrTail(): string;
  /** Resolves when the server (its group leader) has exited, however that happened. */
  exited: Promise<StopResult>;
  /** SIGTERM to its process group, then SIGKILL after `graceMs` (default: the contract's 2 s). */
  stop(graceMs?: number): Promise<StopResult>;
}

/** A registry server: it always prints its ready line. */
export interface RegistryServerHandle extends ServerHandle {
  ready: ReadyLine;
}

const servers = new Set<ServerHandle>();
const upstreams = new Set<UpstreamHandle>();

function track<H extends { exited: Promise<StopResult> }>(handle: H, set: Set<H>): H {
  set.add(handle);
  void handle.exited.then(() => set.delete(handle));
  return handle;
}

/** Handles of servers that have not exited yet. */
export function liveServers(): ServerHandle[] {
  return [...servers];
}

/** Handles of simulated upstreams that have not exited yet. */
export function liveUpstreams(): UpstreamHandle[] {
  return [...upstreams];
}

/** Stops every process bench started (servers, commands, upstreams); used on signals and at exit. */
export async function stopAllServers(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  await stopAll(graceMs);
  // Handles whose process already exited still settle their bookkeeping.
  await Promise.all([...servers, ...upstreams].map((h) => h.exited));
}

/** Every process bench started that has not exited (servers, commands, upstreams). */
export function liveChildren(): number {
  return liveProcesses().length;
}

/** Fails with E_PORT_IN_USE when a fixed port is taken, before a server gets a confusing error. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(
          new BenchError('E_PORT_IN_USE', `port ${port} on ${host} is in use`, {
            hint: `stop what listens there (\`ss -ltnp 'sport = :${port}'\`), choose another --port, or use --port 0 for an ephemeral one`,
          }),
        );
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'EINVAL' || e.code === 'ENOTFOUND') {
        reject(new BenchError('E_USAGE', `--host: ${host.slice(0, 80)} is not an address of this machine (${e.code})`, { hint: 'use 127.0.0.1 or an address `ip addr` lists' }));
      } else reject(new BenchError('E_USAGE', `cannot listen on ${host.slice(0, 80)}:${port}: ${e.message}`, { hint: 'use 127.0.0.1 and port 0' }));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

// ---- ready lines -------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRelay(v: unknown): RelayInfo | undefined {
  if (!isRecord(v)) return undefined;
  const { upstreamUrl, upstreamClient, upstreamClientVersion, connectTimeoutMs } = v;
  if ((upstreamUrl !== null && typeof upstreamUrl !== 'string') || typeof upstreamClientVersion !== 'string' || typeof connectTimeoutMs !== 'number') return undefined;
  if (upstreamClient !== 'ws' && upstreamClient !== 'bun' && upstreamClient !== 'deno') return undefined;
  return { upstreamUrl, upstreamClient, upstreamClientVersion, connectTimeoutMs };
}

/**
 * A server's ready line (servers/CONTRACT.md), checked field by field: undefined for a line that is not
 * one (any other output), the typed line for a valid one.
 * @throws BenchError E_SERVER_BAD_READY_LINE for a `"event":"ready"` line with missing or mistyped fields, naming them
 */
export function parseReadyLine(line: string): ReadyLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || v['event'] !== 'ready') return undefined;
  const bad: string[] = [];
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : (bad.push(`${k} (a string)`), ''));
  const int = (k: string, min: number, max: number) => {
    const x = v[k];
    if (typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max) return x;
    bad.push(`${k} (an integer ${min}–${max})`);
    return 0;
  };
  const runtime = str('runtime');
  const runtimeVersion = str('runtimeVersion');
  const library = str('library');
  const libraryVersion = str('libraryVersion');
  const pid = int('pid', 1, 2 ** 31);
  const host = str('host');
  const port = int('port', 1, 65535);
  const s = v['settings'];
  let settings: ParityManifest | undefined;
  if (!isRecord(s)) bad.push('settings (an object)');
  else {
    const num = (k: keyof ParityManifest) => (typeof s[k] === 'number' ? (s[k] as number) : (bad.push(`settings.${k} (a number)`), 0));
    const bool = (k: keyof ParityManifest) => (typeof s[k] === 'boolean' ? (s[k] as boolean) : (bad.push(`settings.${k} (true or false)`), false));
    const candidate: ParityManifest = {
      maxPayloadBytes: num('maxPayloadBytes'),
      perMessageDeflate: bool('perMessageDeflate'),
      idleTimeoutSec: num('idleTimeoutSec'),
      backpressureLimitBytes: num('backpressureLimitBytes'),
      backpressurePolicy: 'drop',
      publishToSelf: bool('publishToSelf'),
      autoPing: bool('autoPing'),
    };
    if (s['backpressurePolicy'] !== 'drop') bad.push('settings.backpressurePolicy ("drop")');
    settings = candidate;
  }
  const relay = v['relay'] === undefined ? undefined : parseRelay(v['relay']);
  if (v['relay'] !== undefined && relay === undefined) bad.push('relay (upstreamUrl, upstreamClient ws|bun|deno, upstreamClientVersion, connectTimeoutMs)');
  // A Socket.IO stack's own manifest (servers/CONTRACT.md, "Stacks"), checked field by field like the rest.
  const parsedStack = v['stack'] === undefined ? undefined : parseStackManifest(v['stack']);
  if (parsedStack && 'problems' in parsedStack) bad.push(...parsedStack.problems);
  const stack = parsedStack && 'stack' in parsedStack ? parsedStack.stack : undefined;
  if (bad.length > 0 || settings === undefined) {
    throw new BenchError('E_SERVER_BAD_READY_LINE', `the server's ready line lacks or mistypes: ${bad.join(', ')}`, {
      details: [`line: ${line.slice(0, 300)}`],
      hint: 'the ready line is specified in servers/CONTRACT.md',
    });
  }
  return { event: 'ready', runtime, runtimeVersion, library, libraryVersion, pid, host, port, settings, ...(relay ? { relay } : {}), ...(stack ? { stack } : {}) };
}

function tailLines(s: string, n = 12): string[] {
  if (!s) return ['(nothing was written to stderr)'];
  return s.split('\n').slice(-n).map((l) => `stderr: ${l.slice(0, 300)}`);
}

const PORT_IN_USE_RE = /EADDRINUSE|address already in use|AddrInUse|os error 98|is port \d+ in use|port is in use|is the port in use/i;

// ---- registry servers --------------------------------------------------------

/**
 * Starts a registry server and waits for its ready line.
 * @throws BenchError E_PORT_IN_USE, E_SERVER_EXITED, E_SERVER_NOT_READY, E_SERVER_BAD_READY_LINE
 */
export async function startServer(opts: StartServerOptions): Promise<RegistryServerHandle> {
  const spec = RUNTIMES[opts.runtime];
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  const hostInfo = opts.hostInfo ?? currentHost();
  await assertPortFree(host, port);
  const { command, args } = spec.command(hostInfo.nodePath);
  const proc = spawnManaged({
    label: `the ${spec.id} server`,
    // Every registry command runs its runtime's executable directly, so a resolved version replaces just that.
    command: opts.binary?.path ?? command,
    args,
    env: { ...hostInfo.env, ...opts.binary?.env, ...opts.env, PORT: String(port), HOST: host },
    ...(opts.cpus ? { cpus: opts.cpus } : {}),
  });
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  const ready = await waitForLine(proc, parseReadyLine, {
    timeoutMs,
    onTimeout: (tail) =>
      new BenchError('E_SERVER_NOT_READY', `${spec.id} server printed no ready line within ${timeoutMs} ms`, {
        details: tailLines(tail),
        hint: `run \`bench serve --runtime ${spec.id}\` to see it start, or \`bench doctor\``,
      }),
    onExit: (r, tail) =>
      PORT_IN_USE_RE.test(tail)
        ? new BenchError('E_PORT_IN_USE', `port ${port} on ${host} is in use (${spec.id} server could not listen)`, {
            details: tailLines(tail),
            hint: 'choose another --port, or use --port 0 for an ephemeral one',
          })
        : new BenchError('E_SERVER_EXITED', `${spec.id} server exited before it was ready (${r.signal ? `signal ${r.signal}` : `code ${r.code}`})`, {
            details: tailLines(tail),
            hint: 'run `bench doctor` to check this runtime',
          }),
  });
  const handle: RegistryServerHandle = {
      runtimeId: spec.id,
      pid: proc.pid,
      host,
      port: ready.port,
      ready,
      process: proc,
      stderrTail: proc.stderrTail,
      exited: proc.exited,
      stop: (graceMs = SHUTDOWN_GRACE_MS) => proc.stop(graceMs),
  };
  track(handle, servers);
  return handle;
}

// ---- a user's server command -------------------------------------------------

export interface StartCommandOptions {
  /** Shell command of the user's server; it gets PORT and HOST in its environment. */
  command: string;
  /** Label for reports (in place of a runtime id). */
  label: string;
  host?: string;
  cpus?: string;
  readyTimeoutMs?: number;
  hostInfo?: HostInfo;
  /** Extra environment for the command (e.g. UPSTREAM_URL for a voice scenario). */
  env?: Record<string, string>;
}

/**
 * After the port accepts, how long a ready line may still be on its way: the line and the listening socket
 * race (the line goes through a pipe), and a server whose line states its settings must never be measured
 * as one that stated none.
 */
export const READY_LINE_GRACE_MS = 1000;
let readyLineGraceMs = READY_LINE_GRACE_MS;

/**
 * A hook for tests: sets the ready-line grace of startCommand (READY_LINE_GRACE_MS unless set) and returns
 * the one it replaces. For test servers known to print no ready line (test/helpers/limited-server.ts), whose
 * every start would otherwise wait the whole grace for a line that never comes.
 */
export function setReadyLineGraceMs(ms: number): number {
  const previous = readyLineGraceMs;
  readyLineGraceMs = ms;
  return previous;
}

/** A free port on `host`, chosen by the kernel (it may be taken again before the server binds: a small race). */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0 }, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts a user's own server (`--server-cmd`) with `sh -c "exec CMD"` in its own process group, PORT set
 * to a free port. It is ready when it prints a bench ready line, or when its port accepts connections and
 * no ready line followed within READY_LINE_GRACE_MS. The measured pid is the process of its group that
 * listens on the port (the server behind a wrapper script), and the runtime a ready line claims is
 * checked against that process's executable.
 * @throws BenchError E_SERVER_EXITED (also for a command that exits at once, e.g. one that forks the
 *   server into the background), E_SERVER_NOT_READY, E_SERVER_BAD_READY_LINE, E_RUNTIME_MISMATCH
 */
export async function startCommand(opts: StartCommandOptions): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const hostInfo = opts.hostInfo ?? currentHost();
  const port = await freePort(host);
  const proc = spawnManaged({
    label: 'the server command',
    command: 'sh',
    args: ['-c', `exec ${opts.command}`],
    env: { ...hostInfo.env, ...opts.env, PORT: String(port), HOST: host },
    ...(opts.cpus ? { cpus: opts.cpus } : {}),
  });
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  let ready: ReadyLine | undefined;
  let badLine: BenchError | undefined;
  let buf = '';
  proc.child.stdout!.on('data', (b: Buffer) => {
    if (ready || badLine) return;
    buf += b.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      try {
        ready ??= parseReadyLine(line);
      } catch (e) {
        badLine = e as BenchError;
      }
    }
  });
  const fail = async (e: BenchError) => {
    await proc.stop(0);
    return e;
  };
  const deadline = Date.now() + timeoutMs;
  let acceptedAt: number | undefined;
  for (;;) {
    if (badLine) throw await fail(badLine);
    if (ready) break;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      const how = proc.child.signalCode ?? `code ${proc.child.exitCode}`;
      throw await fail(
        new BenchError('E_SERVER_EXITED', `the server command exited before it was ready (${how})`, {
          details: tailLines(proc.stderrTail()),
          hint: `run it yourself with PORT=${port} to see why: ${opts.command.slice(0, 80)}; a command that starts the server in the background (with &) must run it in the foreground instead`,
        }),
      );
    }
    if (acceptedAt === undefined && (await portAccepts(host, port))) acceptedAt = Date.now();
    if (acceptedAt !== undefined && Date.now() - acceptedAt >= readyLineGraceMs) break;
    if (Date.now() > deadline) {
      throw await fail(
        new BenchError('E_SERVER_NOT_READY', `the server command did not listen on ${host}:${port} (PORT) within ${timeoutMs} ms`, {
          details: tailLines(proc.stderrTail()),
          hint: 'the server must listen on the port given in the PORT environment variable, or print a bench ready line (servers/CONTRACT.md)',
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.child.stdout!.resume();
  const boundPort = ready?.port ?? port;
  const listener = listeningPid(boundPort, proc.pid);
  const pid = listener ?? proc.pid;
  if (ready) {
    const actual = runtimeOfExe(exePath(pid) ?? '');
    if (actual !== undefined && actual !== ready.runtime) {
      throw await fail(
        new BenchError('E_RUNTIME_MISMATCH', `the server command's ready line says runtime "${ready.runtime.slice(0, 40)}" but its process (pid ${pid}) runs ${exePath(pid) ?? 'an unknown executable'} (${actual})`, {
          hint: 'a ready line must name the runtime that actually runs the server (servers/CONTRACT.md); bench checks it from /proc',
        }),
      );
    }
  }
  return track(
    {
      runtimeId: opts.label,
      pid,
      ...(listener === undefined ? { pidNote: `no process of the command's group was seen listening on port ${boundPort}: the measured pid ${pid} is the command's own` } : {}),
      host,
      port: boundPort,
      ready: ready ?? null,
      process: proc,
      stderrTail: proc.stderrTail,
      exited: proc.exited,
      stop: (graceMs = SHUTDOWN_GRACE_MS) => proc.stop(graceMs),
    },
    servers,
  );
}

// ---- the simulated upstream --------------------------------------------------

export interface StartUpstreamOptions {
  /** The upstream's settings (upstream/config.ts); unknown keys and bad values are refused with E_USAGE. Defaults fill the rest. */
  config?: Readonly<Record<string, unknown>> & Partial<UpstreamConfig>;
  /** CPU list for taskset, so that the upstream gets its own core where there is one. */
  cpus?: string;
  /** How long to wait for the ready line (default 10 s). */
  readyTimeoutMs?: number;
  hostInfo?: HostInfo;
}

export interface UpstreamHandle {
  pid: number;
  host: string;
  port: number;
  /** What a server's UPSTREAM_URL should be: `ws://host:port/`. */
  url: string;
  /** The ready line, with the upstream's effective config. */
  ready: UpstreamReadyLine;
  process: ManagedProcess;
  stderrTail(): string;
  exited: Promise<StopResult>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2 s). */
  stop(graceMs?: number): Promise<StopResult>;
}

function parseUpstreamReady(line: string): UpstreamReadyLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new BenchError('E_SERVER_BAD_READY_LINE', `the simulated upstream's first line is not JSON: ${line.slice(0, 200)}`);
  }
  const { config, problems } = resolveUpstreamConfig(isRecord(v) && isRecord(v['config']) ? v['config'] : {});
  if (
    !isRecord(v) ||
    v['event'] !== 'ready' ||
    v['role'] !== 'upstream' ||
    typeof v['port'] !== 'number' ||
    typeof v['pid'] !== 'number' ||
    typeof v['host'] !== 'string' ||
    typeof v['runtimeVersion'] !== 'string' ||
    typeof v['libraryVersion'] !== 'string' ||
    !isRecord(v['config']) ||
    problems.length > 0
  ) {
    throw new BenchError('E_SERVER_BAD_READY_LINE', `the simulated upstream's first line is not its ready line: ${line.slice(0, 200)}`, { details: problems });
  }
  return {
    event: 'ready',
    role: 'upstream',
    runtime: 'node',
    runtimeVersion: v['runtimeVersion'],
    library: 'ws',
    libraryVersion: v['libraryVersion'],
    pid: v['pid'],
    host: v['host'],
    port: v['port'],
    config,
  };
}

/**
 * Starts the simulated model service (upstream/model.ts) under the Node that runs bench, pinned with
 * taskset when `cpus` is given, and waits for its ready line. Tracked like a server.
 * @throws BenchError E_USAGE for an invalid config, E_SERVER_EXITED, E_SERVER_NOT_READY, E_SERVER_BAD_READY_LINE
 */
export async function startUpstream(opts: StartUpstreamOptions = {}): Promise<UpstreamHandle> {
  const { config, problems } = resolveUpstreamConfig(opts.config ?? {});
  if (problems.length > 0) {
    throw new BenchError('E_USAGE', 'invalid configuration for the simulated upstream', {
      details: problems,
      hint: 'see upstream/README.md for each setting and its range',
    });
  }
  const hostInfo = opts.hostInfo ?? currentHost();
  await assertPortFree(config.host, config.port);
  const proc = spawnManaged({
    label: 'the simulated upstream',
    command: hostInfo.nodePath,
    args: [upstreamScript, ...upstreamArgs(config)],
    env: hostInfo.env,
    ...(opts.cpus ? { cpus: opts.cpus } : {}),
  });
  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const ready = await waitForLine(proc, parseUpstreamReady, {
    timeoutMs,
    onTimeout: (tail) => new BenchError('E_SERVER_NOT_READY', `the simulated upstream printed no ready line within ${timeoutMs} ms`, { details: tailLines(tail) }),
    onExit: (r, tail) =>
      new BenchError('E_SERVER_EXITED', `the simulated upstream exited before it was ready (${r.signal ? `signal ${r.signal}` : `code ${r.code}`})`, {
        details: tailLines(tail),
      }),
  });
  return track(
    {
      pid: proc.pid,
      host: config.host,
      port: ready.port,
      url: `ws://${config.host.includes(':') ? `[${config.host}]` : config.host}:${ready.port}/`,
      ready,
      process: proc,
      stderrTail: proc.stderrTail,
      exited: proc.exited,
      stop: (graceMs = SHUTDOWN_GRACE_MS) => proc.stop(graceMs),
    },
    upstreams,
  );
}
