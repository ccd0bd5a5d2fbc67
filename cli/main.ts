#!/usr/bin/env node
// The only file that touches `process`: it builds the Io, runs the CLI, and
// makes sure no server outlives bench however it ends. One signal path:
// SIGINT, SIGTERM and SIGHUP (a closed terminal) all ask the running command
// to stop its load, stop every child and write its report marked interrupted;
// bench then exits with 128 + the signal's number. A second signal, or a
// command that has not finished 2 s after the first, exits at once (children
// are killed; the watchdog of core/process.ts covers even SIGKILL of bench).
import { currentHost } from '../core/host.js';
import { stopAll } from '../core/process.js';
import { stopAllServers } from '../core/launcher.js';
import type { Io, BenchSignal } from './io.js';

const SIGNAL_NUMBERS: Record<BenchSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** Grace for children on the interrupt path: the whole exit must fit in 2 s. */
const INTERRUPT_GRACE_MS = 500;
const INTERRUPT_DEADLINE_MS = 1800;

const handlers = new Set<(s: BenchSignal) => void>();
const lastWords = new Set<() => void>();
let received: BenchSignal | undefined;

function exitNow(sig: BenchSignal): void {
  // The command's synchronous last words (an interrupted run's result.json) before anything else: after them the
  // process only kills its children and exits.
  for (const h of lastWords) {
    try {
      h();
    } catch (e) {
      process.stderr.write(`bench: ${(e as Error).message}\n`);
    }
  }
  lastWords.clear();
  void stopAll(0).finally(() => process.exit(128 + SIGNAL_NUMBERS[sig]));
}

for (const sig of Object.keys(SIGNAL_NUMBERS) as BenchSignal[]) {
  process.on(sig, () => {
    if (received !== undefined) return exitNow(sig);
    received = sig;
    setTimeout(() => exitNow(sig), INTERRUPT_DEADLINE_MS).unref();
    if (handlers.size === 0) {
      void stopAllServers(INTERRUPT_GRACE_MS).finally(() => process.exit(128 + SIGNAL_NUMBERS[sig]));
      return;
    }
    for (const h of handlers) h(sig);
  });
}
// A closed pipe on stdout (`bench run --json | head`) is not a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exitCode ??= 0;
});

const io: Io = {
  argv: process.argv.slice(2),
  env: process.env,
  stdout: { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY === true },
  stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY === true },
  cwd: process.cwd(),
  host: currentHost(),
  onSignal(h) {
    handlers.add(h);
    return () => handlers.delete(h);
  },
  onForcedExit(h) {
    lastWords.add(h);
    return () => lastWords.delete(h);
  },
};

/**
 * Exits once stdout and stderr have flushed: a pipe takes what fits at once and queues the rest, which an
 * immediate exit would cut (a `--json` result piped to jq lost everything past 64 KiB). Exiting explicitly
 * means nothing left behind (a timer, a socket) can keep bench running after its work.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// The commands (and the report formats' libraries) load after the signal handlers are in place: loading them
// takes 0.6 s, seconds on a busy machine, and a signal in that time would otherwise kill bench unannounced.
const { runCli } = await import('./index.js');

runCli(io)
  .then(async (code) => {
    await stopAllServers(received ? INTERRUPT_GRACE_MS : undefined);
    exitAfterFlush(received ? 128 + SIGNAL_NUMBERS[received] : code);
  })
  .catch(async (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    await stopAllServers(INTERRUPT_GRACE_MS);
    exitAfterFlush(3);
  });
