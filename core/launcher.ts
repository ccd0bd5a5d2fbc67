import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { ReadyLine } from '../servers/settings.js';
import { SHUTDOWN_GRACE_MS } from '../servers/settings.js';
import { resolveUpstreamConfig, upstreamArgs, type UpstreamConfig, type UpstreamReadyLine } from '../upstream/config.js';
import { BenchError } from '../base/errors.js';
import { currentHost } from './host.js';
import { upstreamScript } from './paths.js';
import { isAlive } from './procfs.js';
import { RUNTIMES, type HostInfo, type RuntimeId } from './runtimes.js';

/**
 * One of the two places that spawn processes (the other launches load-generator
 * workers). Every server started here is tracked until it has exited, so that
 * `stopAllServers()` can leave nothing behind when bench is interrupted.
 */

export interface StartServerOptions {
  runtime: RuntimeId;
  /** 0 (default) = an ephemeral port, read back from the ready line. */
  port?: number;
  host?: string;
  /** CPU list for taskset, e.g. "0" or "0-1"; affinity is inherited by every thread the runtime starts. */
  cpus?: string;
  /** How long to wait for the ready line (default 15 s: Deno compiles on an empty cache). */
  readyTimeoutMs?: number;
  hostInfo?: HostInfo;
  /** Extra environment for the server. */
  env?: Record<string, string>;
}

export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the server ignored SIGTERM for the grace period and was killed. */
  forced: boolean;
  durationMs: number;
}

export interface ServerHandle {
  /** Registry id, or the label of a user's server started with `startCommand`. */
  runtimeId: RuntimeId | string;
  /** False for a user's server that printed no ready line: its settings are unknown. */
  reportsSettings: boolean;
  pid: number;
  host: string;
  port: number;
  ready: ReadyLine;
  process: ChildProcess;
  /** The last lines the server wrote to stderr (for error reports). */
  stderrTail(): string;
  /** Resolves when the process has exited, however that happened. */
  exited: Promise<StopResult>;
  /** SIGTERM, then SIGKILL after `graceMs` (default: the contract's 2 s). */
  stop(graceMs?: number): Promise<StopResult>;
}

const live = new Set<ServerHandle>();
const STDERR_TAIL_BYTES = 8 * 1024;

/** Handles of servers that have not exited yet. */
export function liveServers(): ServerHandle[] {
  return [...live];
}

/** Stop every server (and simulated upstream) this process started; used on SIGINT/SIGTERM and at exit. */
export async function stopAllServers(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
  await Promise.all([...live, ...liveUpstreamSet].map((h) => h.stop(graceMs)));
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
      } else reject(e);
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function parseReadyLine(line: string): ReadyLine | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || (v as { event?: unknown }).event !== 'ready') return undefined;
  const r = v as Partial<ReadyLine>;
  if (typeof r.port !== 'number' || typeof r.pid !== 'number' || typeof r.settings !== 'object') {
    throw new BenchError('E_SERVER_BAD_READY_LINE', `the server's ready line lacks port, pid or settings: ${line}`);
  }
  return r as ReadyLine;
}

export async function startServer(opts: StartServerOptions): Promise<ServerHandle> {
  const spec = RUNTIMES[opts.runtime];
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  const hostInfo = opts.hostInfo ?? currentHost();
  await assertPortFree(host, port);

  const { command, args } = spec.command(hostInfo.nodePath);
  // taskset execs the runtime, so the child pid stays the runtime's own.
  const [cmd, argv] = opts.cpus ? ['taskset', ['-c', opts.cpus, command, ...args]] : [command, args];
  const child = spawn(cmd, argv, {
    env: { ...process.env, ...opts.env, PORT: String(port), HOST: host },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_TAIL_BYTES);
  });
  const stderrTail = () => stderr.trimEnd();

  const spawnedAtMs = Date.now();
  let stopStartedMs = 0;
  let forced = false;
  const exited = new Promise<StopResult>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve({ code, signal, forced, durationMs: stopStartedMs ? Date.now() - stopStartedMs : Date.now() - spawnedAtMs }),
    );
  });

  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const timeoutMs = opts.readyTimeoutMs ?? 15_000;
    let buf = '';
    const fail = (e: BenchError) => {
      cleanup();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(e);
    };
    const timer = setTimeout(
      () =>
        fail(
          new BenchError('E_SERVER_NOT_READY', `${spec.id} server printed no ready line within ${timeoutMs} ms`, {
            details: tailLines(stderrTail()),
            hint: 'run `bench serve --runtime ' + spec.id + '` to see it start, or `bench doctor`',
          }),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        try {
          const r = line ? parseReadyLine(line) : undefined;
          if (r) {
            cleanup();
            resolve(r);
            return;
          }
        } catch (e) {
          fail(e as BenchError);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      // Let the last stderr bytes arrive before reporting them.
      setImmediate(() => {
        const tail = stderrTail();
        const inUse = /EADDRINUSE|address already in use|AddrInUse|os error 98|is port \d+ in use|port is in use|is the port in use/i.test(tail);
        fail(
          inUse
            ? new BenchError('E_PORT_IN_USE', `port ${port} on ${host} is in use (${spec.id} server could not listen)`, {
                details: tailLines(tail),
                hint: 'choose another --port, or use --port 0 for an ephemeral one',
              })
            : new BenchError(
                'E_SERVER_EXITED',
                `${spec.id} server exited before it was ready (${signal ? `signal ${signal}` : `code ${code}`})`,
                { details: tailLines(tail), hint: 'run `bench doctor` to check this runtime' },
              ),
        );
      });
    };
    const onError = (e: Error) =>
      fail(new BenchError('E_SERVER_EXITED', `could not start ${spec.id} server: ${e.message}`, { hint: 'run `bench doctor`' }));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  // Past the ready line stdout is not ours to read; keep draining it so the server never blocks on a full pipe.
  child.stdout!.resume();

  return track({
    runtimeId: spec.id,
    reportsSettings: true,
    pid: child.pid!,
    host,
    port: ready.port,
    ready,
    process: child,
    stderrTail,
    exited,
    stop: stopper(child, exited, {
      started: () => (stopStartedMs = Date.now()),
      killed: () => (forced = true),
    }),
  }, live);
}

/** SIGTERM, then SIGKILL after the grace period; the same promise however often it is called. */
function stopper(child: ChildProcess, exited: Promise<StopResult>, mark: { started(): void; killed(): void }) {
  let stopping: Promise<StopResult> | undefined;
  return (graceMs = SHUTDOWN_GRACE_MS) => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      mark.started();
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        mark.killed();
        child.kill('SIGKILL');
      }, graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    })();
    return stopping;
  };
}

/** Keeps a server in a live set until it has exited, so stopAllServers() can reach it. */
function track<H extends { exited: Promise<StopResult> }>(handle: H, set: Set<H>): H {
  set.add(handle);
  void handle.exited.then(() => set.delete(handle));
  return handle;
}

function tailLines(s: string, n = 12): string[] {
  if (!s) return ['(the server wrote nothing to stderr)'];
  return s.split('\n').slice(-n).map((l) => `stderr: ${l}`);
}

export interface StartCommandOptions {
  /** Shell command of the user's server; it gets PORT and HOST in its environment. */
  command: string;
  /** Label for reports (in place of a runtime id). */
  label: string;
  host?: string;
  cpus?: string;
  readyTimeoutMs?: number;
  /** Extra environment for the command (e.g. UPSTREAM_URL for a voice scenario). */
  env?: Record<string, string>;
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
 * Starts a user's own server (`--server-cmd`): `sh -c "exec CMD"` so that the
 * pid is the server's, with PORT set to a free port. It is ready when it prints
 * a bench ready line (then its settings are checked like ours) or when the port
 * accepts connections.
 */
export async function startCommand(opts: StartCommandOptions): Promise<ServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = await freePort(host);
  const argv = ['-c', `exec ${opts.command}`];
  const [cmd, args] = opts.cpus ? ['taskset', ['-c', opts.cpus, 'sh', ...argv]] : ['sh', argv];
  const child = spawn(cmd, args, { env: { ...process.env, ...opts.env, PORT: String(port), HOST: host }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_TAIL_BYTES)));
  let readyLine: ReadyLine | undefined;
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    if (readyLine) return;
    out += b.toString('utf8');
    for (const line of out.split('\n')) {
      try {
        const r = parseReadyLine(line.trim());
        if (r) readyLine = r;
      } catch {
        // not a ready line: a user's server may print anything
      }
    }
  });
  const spawnedAt = Date.now();
  let forced = false;
  let stopStartedMs = 0;
  const exited = new Promise<StopResult>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, forced, durationMs: Date.now() - (stopStartedMs || spawnedAt) })),
  );
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new BenchError('E_SERVER_EXITED', `the server command exited before it was ready (${child.signalCode ?? `code ${child.exitCode}`})`, {
        details: tailLines(stderr.trimEnd()),
        hint: `run it yourself with PORT=${port} to see why: ${opts.command}`,
      });
    }
    if (readyLine || (await portAccepts(host, port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new BenchError('E_SERVER_NOT_READY', `the server command did not listen on ${host}:${port} (PORT) within ${opts.readyTimeoutMs ?? 15_000} ms`, {
        details: tailLines(stderr.trimEnd()),
        hint: 'the server must listen on the port given in the PORT environment variable, or print a bench ready line (servers/CONTRACT.md)',
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stdout!.resume();
  const ready: ReadyLine = readyLine ?? {
    event: 'ready',
    runtime: 'unknown',
    runtimeVersion: 'unknown',
    library: 'unknown',
    libraryVersion: 'unknown',
    pid: child.pid!,
    host,
    port,
    settings: undefined as unknown as ReadyLine['settings'],
  };
  return track({
    runtimeId: opts.label,
    reportsSettings: readyLine !== undefined,
    pid: child.pid!,
    host,
    port: ready.port,
    ready,
    process: child,
    stderrTail: () => stderr.trimEnd(),
    exited,
    stop: stopper(child, exited, {
      started: () => (stopStartedMs = Date.now()),
      killed: () => (forced = true),
    }),
  }, live);
}

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
  process: ChildProcess;
  stderrTail(): string;
  exited: Promise<StopResult>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 2 s). */
  stop(graceMs?: number): Promise<StopResult>;
}

const liveUpstreamSet = new Set<UpstreamHandle>();

/** Handles of simulated upstreams that have not exited yet. */
export function liveUpstreams(): UpstreamHandle[] {
  return [...liveUpstreamSet];
}

/**
 * Starts the simulated model service (upstream/model.ts) under the Node that
 * runs bench, pinned with taskset when `cpus` is given, and waits for its
 * ready line. Tracked like a server: stopAllServers() stops it too.
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
  const argv = [upstreamScript, ...upstreamArgs(config)];
  const [cmd, args] = opts.cpus ? ['taskset', ['-c', opts.cpus, hostInfo.nodePath, ...argv]] : [hostInfo.nodePath, argv];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr = (stderr + s).slice(-STDERR_TAIL_BYTES)));
  const stderrTail = () => stderr.trimEnd();
  const spawnedAtMs = Date.now();
  let stopStartedMs = 0;
  let forced = false;
  const exited = new Promise<StopResult>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, forced, durationMs: Date.now() - (stopStartedMs || spawnedAtMs) })),
  );
  const handle: UpstreamHandle = {
    pid: child.pid ?? 0,
    host: config.host,
    port: 0,
    url: '',
    ready: undefined as unknown as UpstreamReadyLine,
    process: child,
    stderrTail,
    exited,
    stop: stopper(child, exited, {
      started: () => (stopStartedMs = Date.now()),
      killed: () => (forced = true),
    }),
  };
  // Tracked from the spawn, so an interrupt while it starts still stops it.
  track(handle, liveUpstreamSet);

  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  const ready = await new Promise<UpstreamReadyLine | BenchError>((resolve) => {
    let buf = '';
    const timer = setTimeout(
      () => resolve(new BenchError('E_SERVER_NOT_READY', `the simulated upstream printed no ready line within ${timeoutMs} ms`, { details: tailLines(stderrTail()) })),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      try {
        const line = JSON.parse(buf.slice(0, nl)) as UpstreamReadyLine;
        if (line.event === 'ready' && line.role === 'upstream' && typeof line.port === 'number') resolve(line);
        else resolve(new BenchError('E_SERVER_BAD_READY_LINE', `the simulated upstream's first line is not its ready line: ${buf.slice(0, nl)}`));
      } catch {
        resolve(new BenchError('E_SERVER_BAD_READY_LINE', `the simulated upstream's first line is not JSON: ${buf.slice(0, nl)}`));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the last stderr bytes arrive before reporting them.
      setImmediate(() =>
        resolve(
          new BenchError('E_SERVER_EXITED', `the simulated upstream exited before it was ready (${signal ? `signal ${signal}` : `code ${code}`})`, {
            details: tailLines(stderrTail()),
          }),
        ),
      );
    });
    child.once('error', (e) => resolve(new BenchError('E_SERVER_EXITED', `could not start the simulated upstream: ${e.message}`)));
  });
  if (ready instanceof BenchError) {
    await handle.stop(0);
    throw ready;
  }
  child.stdout!.resume();
  handle.ready = ready;
  handle.port = ready.port;
  handle.url = `ws://${config.host.includes(':') ? `[${config.host}]` : config.host}:${ready.port}/`;
  return handle;
}
