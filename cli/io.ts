import type { HostInfo } from '../core/runtimes.js';

/** The signals that ask bench to stop, write its report and exit (128 + the signal's number). */
export type BenchSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** A writable text stream as the CLI sees it; tests pass string buffers. */
export interface TextOut {
  write(s: string): void;
  /** True when a person is watching (progress lines and colour only then). */
  isTTY?: boolean;
}

/**
 * Everything the CLI takes from the outside world. Only `cli/main.ts` builds one
 * from `process`; tests build their own, so commands run in-process with buffers.
 */
export interface Io {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: TextOut;
  stderr: TextOut;
  cwd: string;
  host: HostInfo;
  /** Subscribe to SIGINT, SIGTERM and SIGHUP; returns an unsubscribe function. */
  onSignal(handler: (signal: BenchSignal) => void): () => void;
  /**
   * Synchronous last words, run when bench exits before the command has finished (the interrupt's 2 s deadline or a
   * second signal): no asynchronous work runs after them. Returns an unsubscribe function.
   */
  onForcedExit(handler: () => void): () => void;
}

/** An Io whose output is collected in strings, for tests. */
export function bufferIo(argv: string[], host: HostInfo, env: Record<string, string | undefined> = {}) {
  const out = { stdout: '', stderr: '' };
  const handlers = new Set<(s: BenchSignal) => void>();
  const lastWords = new Set<() => void>();
  const io: Io = {
    argv,
    env,
    cwd: process.cwd(),
    host,
    stdout: { write: (s) => void (out.stdout += s) },
    stderr: { write: (s) => void (out.stderr += s) },
    onSignal(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    onForcedExit(h) {
      lastWords.add(h);
      return () => lastWords.delete(h);
    },
  };
  return { io, out, signal: (s: BenchSignal) => handlers.forEach((h) => h(s)), forceExit: () => lastWords.forEach((h) => h()) };
}
