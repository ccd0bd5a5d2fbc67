// The one pool of load-generator worker processes, for every kind of load: a
// whole run (loadgen/run.ts) and a stepped session (the ceiling, driven one
// plateau at a time). With core/process.ts it is one of the only two places
// that spawn processes. It spawns and pins the workers, sends them messages,
// waits for their replies with a deadline that is always cleared, keeps the
// tail of their stderr, turns a worker's death or fatal report into one
// E_LOADGEN_FAILED, and stops them all however the load ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expandCpuList } from '../base/cpus.js';
import { BenchError } from '../base/errors.js';
import type { FromWorker, ToWorker } from './ipc.js';

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');

/** Sockets one worker may hold: below the 20,000 open-file limit with margin for the runtime's own fds. */
export const DEFAULT_MAX_CONNECTIONS_PER_WORKER = 19_000;

/** How many connections each worker gets: as even as possible, none above the per-worker cap. */
export function splitConnections(connections: number, workers: number, maxPerWorker: number): number[] {
  const n = Math.max(workers, Math.ceil(connections / maxPerWorker), 1);
  const base = Math.floor(connections / n);
  const extra = connections % n;
  return Array.from({ length: n }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The CPU list of worker `i` of `n`: one CPU each when the list has enough, else all share the whole list. */
export function workerCpus(list: string | undefined, i: number, n: number): string | null {
  if (!list) return null;
  const cpus = expandCpuList(list);
  return cpus.length >= n ? String(cpus[i]) : list;
}

export interface PoolOptions {
  nodePath: string;
  /** Worker processes to start. */
  count: number;
  /** The load generator's CPU list (taskset); see workerCpus. */
  cpus?: string;
  /** Extra Node flags for the workers (e.g. --expose-gc, or --cpu-prof to profile the hot path). */
  execArgv?: string[];
  signal?: AbortSignal;
  /** Every message that is not a reply being waited for (progress, for example). */
  onMessage?: (worker: number, m: FromWorker) => void;
  /** What the load is, for messages: "the load", "the ceiling search". */
  what?: string;
}

export interface PoolWorker {
  readonly index: number;
  readonly cpus: string | null;
  readonly pid: number;
}

export interface WorkerPool {
  readonly workers: readonly PoolWorker[];
  send(worker: number, m: ToWorker): void;
  /**
   * Sends `make(i)` to every worker (none where it returns undefined) and resolves with every worker's
   * next message of `type`, in worker order.
   * @throws BenchError E_LOADGEN_FAILED when a worker dies, reports a fatal error or misses `timeoutMs`;
   *   E_INTERRUPTED when the signal aborts
   */
  request<T extends FromWorker['type']>(type: T, make: (worker: number) => ToWorker | undefined, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>[]>;
  /** Rejects as soon as the pool fails (a worker died, a fatal report, the signal); never resolves. */
  readonly failed: Promise<never>;
  /** Asks every worker to stop, SIGKILL after `graceMs`; resolves when all have exited. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

interface Handle extends PoolWorker {
  child: ChildProcess;
  stderr: string;
  waiting: Map<string, (m: FromWorker) => void>;
}

/** Starts `count` workers, pinned and connected over IPC. */
export function openPool(opts: PoolOptions): WorkerPool {
  const what = opts.what ?? 'the load';
  let closing = false;
  let failure: BenchError | undefined;
  let rejectFailed: (e: BenchError) => void = () => {};
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject));
  failed.catch(() => {});
  const fail = (e: BenchError) => {
    if (failure || closing) return;
    failure = e;
    rejectFailed(e);
  };
  const handles: Handle[] = [];
  for (let i = 0; i < opts.count; i++) {
    const cpus = workerCpus(opts.cpus, i, opts.count);
    const args = [...(opts.execArgv ?? []), workerScript];
    const [cmd, argv] = cpus ? ['taskset', ['-c', cpus, opts.nodePath, ...args]] : [opts.nodePath, args];
    // stdout ignored: a worker has nothing to say there, and bench's stdout may be a JSON result.
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const h: Handle = { index: i, cpus, pid: child.pid ?? 0, child, stderr: '', waiting: new Map() };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (h.stderr = (h.stderr + s).slice(-4000)));
    child.on('message', (m: FromWorker) => {
      if (m.type === 'fatal') return fail(new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} failed: ${m.message}`));
      const resolve = h.waiting.get(m.type);
      if (resolve) {
        h.waiting.delete(m.type);
        resolve(m);
      } else opts.onMessage?.(i, m);
    });
    child.on('error', (e) => fail(new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} could not start: ${e.message}`)));
    child.on('exit', (code, signal) => {
      fail(
        new BenchError('E_LOADGEN_FAILED', `load-generator worker ${i} exited early (${signal ?? `code ${code}`})`, {
          details: h.stderr.trim().split('\n').slice(-8),
        }),
      );
    });
    handles.push(h);
  }
  const onAbort = () => fail(new BenchError('E_INTERRUPTED', `${what} was interrupted`));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  const send = (i: number, m: ToWorker) => {
    const h = handles[i];
    if (h?.child.connected) h.child.send(m);
  };

  return {
    workers: handles,
    send,
    failed,
    async request(type, make, timeoutMs) {
      if (failure) throw failure;
      let timer: NodeJS.Timeout | undefined;
      const replies = Promise.all(
        handles.map(
          (h) =>
            new Promise<FromWorker>((resolve) => {
              h.waiting.set(type, resolve);
            }),
        ),
      );
      for (const h of handles) {
        const m = make(h.index);
        if (m) send(h.index, m);
      }
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BenchError('E_LOADGEN_FAILED', `load-generator workers did not report "${type}" within ${Math.round(timeoutMs)} ms`)), timeoutMs);
      });
      try {
        return (await Promise.race([replies, failed, deadline])) as Extract<FromWorker, { type: typeof type }>[];
      } finally {
        clearTimeout(timer);
        for (const h of handles) h.waiting.delete(type);
      }
    },
    async close(graceMs = 2000) {
      closing = true;
      opts.signal?.removeEventListener('abort', onAbort);
      await Promise.all(
        handles.map(async (h) => {
          if (h.child.exitCode !== null || h.child.signalCode !== null) return;
          const exited = new Promise((r) => h.child.once('exit', r));
          send(h.index, { type: 'stop' });
          const t = setTimeout(() => h.child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        }),
      );
    },
  };
}
