// One process lifecycle for everything bench starts and measures: servers, a
// user's server command, the simulated upstream (core/launcher.ts decides what
// to start; this file decides how). With loadgen/pool.ts (load-generator
// workers) it is one of the only two places that spawn processes.
//
// - Every managed process leads its own process group (setsid), pinned with
//   taskset when given CPUs (taskset execs, so the pid stays the runtime's).
//   Stopping signals the whole group, so a command that forked is stopped too.
// - A watchdog process (core/watchdog.ts) is told every group; when bench ends
//   in any way — SIGKILL included — it stops the groups still registered.
// - Every process is tracked until it has exited, so stopAll() reaches it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../base/errors.js';

/** How a managed process ended. */
export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when it ignored SIGTERM for the grace period and was killed. */
  forced: boolean;
  /** From stop() (or from the spawn, when it ended by itself) to the exit, ms. */
  durationMs: number;
}

export interface SpawnSpec {
  /** What it is, for messages: "bun server", "the simulated upstream", "the server command". */
  label: string;
  command: string;
  args: string[];
  /** The child's whole environment (core never reads process.env: the caller passes the host's). */
  env: Record<string, string | undefined>;
  /** taskset CPU list; absent: not pinned. */
  cpus?: string;
  cwd?: string;
}

export interface ManagedProcess {
  readonly label: string;
  /** The group leader's pid (= the process group id). */
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last STDERR_TAIL_BYTES the process wrote to stderr. */
  stderrTail(): string;
  /** Resolves when the leader has exited, however that happened. */
  readonly exited: Promise<StopResult>;
  /** SIGTERM to the group, SIGKILL after `graceMs`; then any member still left is killed. Idempotent. */
  stop(graceMs?: number): Promise<StopResult>;
}

/** Default grace between SIGTERM and SIGKILL (the server contract's SHUTDOWN_GRACE_MS). */
export const DEFAULT_GRACE_MS = 2000;
const STDERR_TAIL_BYTES = 8 * 1024;

const live = new Set<ManagedProcess>();
const watchdogScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'watchdog.js');
let watchdog: ChildProcess | undefined;

function tell(line: string): void {
  if (watchdog === undefined) {
    // Spawned by the Node running bench, in a group of its own so a terminal's Ctrl-C does not reach it.
    watchdog = spawn(process.execPath, [watchdogScript], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.on('error', () => {});
    watchdog.stdin!.on('error', () => {});
    // Neither the watchdog nor its pipe may keep bench alive.
    watchdog.unref();
    const pipe = watchdog.stdin;
    if (pipe !== null && 'unref' in pipe && typeof pipe.unref === 'function') pipe.unref();
  }
  watchdog.stdin!.write(`${line}\n`);
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // the group is gone
  }
}

/**
 * Starts a process as the leader of a new process group, stdout and stderr piped (stdout is the
 * caller's to read, e.g. for a ready line; it must keep draining it), tracked until it exits.
 * @throws BenchError E_SERVER_EXITED when the command cannot be started at all (ENOENT, EACCES)
 */
export function spawnManaged(spec: SpawnSpec): ManagedProcess {
  const [cmd, argv] = spec.cpus ? ['taskset', ['-c', spec.cpus, spec.command, ...spec.args]] : [spec.command, spec.args];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.env)) if (v !== undefined) env[k] = v;
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(spec.cwd ? { cwd: spec.cwd } : {}) });
  if (child.pid === undefined) {
    throw new BenchError('E_SERVER_EXITED', `could not start ${spec.label}: ${cmd} did not start`, { hint: 'check that the command exists and is executable' });
  }
  const pid = child.pid;
  tell(`+${pid}`);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_TAIL_BYTES);
  });
  const spawnedAt = Date.now();
  let stopStartedAt = 0;
  let forced = false;
  const exited = new Promise<StopResult>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, forced, durationMs: Date.now() - (stopStartedAt || spawnedAt) }));
    child.once('error', () => resolve({ code: null, signal: null, forced, durationMs: Date.now() - spawnedAt }));
  });
  let stopping: Promise<StopResult> | undefined;
  const handle: ManagedProcess = {
    label: spec.label,
    pid,
    child,
    stderrTail: () => stderr.trimEnd(),
    exited,
    stop(graceMs = DEFAULT_GRACE_MS) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          stopStartedAt = Date.now();
          signalGroup(pid, 'SIGTERM');
          const timer = setTimeout(() => {
            forced = true;
            signalGroup(pid, 'SIGKILL');
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        // Whatever the leader left in its group (a forked server, a wrapper's child) goes with it.
        if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
        return exited;
      })();
      return stopping;
    },
  };
  live.add(handle);
  void exited.then(async () => {
    // A leader that ended by itself may leave members behind: they are part of what it started.
    if (stopping === undefined && groupAlive(pid)) signalGroup(pid, 'SIGKILL');
    live.delete(handle);
    if (!groupAlive(pid)) tell(`-${pid}`);
  });
  return handle;
}

/** Every managed process that has not exited yet. */
export function liveProcesses(): ManagedProcess[] {
  return [...live];
}

/** Stops every managed process at once (SIGTERM to each group, SIGKILL after `graceMs`). */
export async function stopAll(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(graceMs)));
}

/**
 * Reads a managed process's stdout line by line until `parse` accepts a line (returns a value), and
 * resolves with it. Lines `parse` returns undefined for are skipped; a line it throws for rejects.
 * Rejects with `onEnd(...)` when the process exits first, or E_SERVER_NOT_READY after `timeoutMs`; on
 * any rejection the process is stopped. stdout keeps draining afterwards (a full pipe would block it).
 */
export function waitForLine<T>(
  proc: ManagedProcess,
  parse: (line: string) => T | undefined,
  opts: { timeoutMs: number; onExit: (r: StopResult, stderrTail: string) => BenchError; onTimeout: (stderrTail: string) => BenchError },
): Promise<T> {
  const out = proc.child.stdout!;
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    let done = false;
    const finish = (err: BenchError | undefined, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      out.off('data', onData);
      out.resume();
      if (err) {
        void proc.stop(0);
        reject(err);
      } else resolve(value as T);
    };
    const timer = setTimeout(() => finish(opts.onTimeout(proc.stderrTail())), opts.timeoutMs);
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        try {
          const v = parse(line);
          if (v !== undefined) return finish(undefined, v);
        } catch (e) {
          return finish(e instanceof BenchError ? e : new BenchError('E_SERVER_BAD_READY_LINE', (e as Error).message));
        }
      }
    };
    out.on('data', onData);
    // Let the last stderr bytes arrive before reporting them.
    void proc.exited.then((r) => setTimeout(() => finish(opts.onExit(r, proc.stderrTail())), 20));
  });
}

/**
 * Runs a short command to its end and returns what it printed (version probes, git). Not for
 * processes that are measured or that must be stopped: those are spawnManaged's.
 * @returns undefined when it could not run, failed, or timed out
 */
export function execText(command: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<{ stdout: string; stderr: string } | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: opts.timeoutMs ?? 15_000, ...(opts.cwd ? { cwd: opts.cwd } : {}) }, (err, stdout, stderr) => {
      resolve(err ? undefined : { stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Runs a command that prints a lot (`kubectl logs` of every load pod) to its end and returns its exit code and
 * output, or the error that kept it from running (ENOENT). Not for processes that are measured or must be
 * stopped: those are spawnManaged's.
 */
export function execCapture(
  command: string,
  args: string[],
  opts: { timeoutMs?: number; maxBufferBytes?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: opts.maxBufferBytes ?? 512 * 2 ** 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
      resolve({ code, stdout: String(stdout ?? ''), stderr: String(stderr ?? ''), ...(e && typeof e.code !== 'number' ? { error: e.message } : {}) });
    });
  });
}
