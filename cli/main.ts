#!/usr/bin/env node
// The only file that touches `process`: it builds the Io, runs the CLI, and
// makes sure no server outlives bench however it ends.
import { currentHost } from '../core/host.js';
import { stopAllServers } from '../core/launcher.js';
import { runCli } from './index.js';
import type { Io } from './io.js';

const handlers = new Set<(s: 'SIGINT' | 'SIGTERM') => void>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (handlers.size === 0) {
      void stopAllServers().finally(() => process.exit(130));
      return;
    }
    for (const h of handlers) h(sig);
  });
}

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
};

runCli(io)
  .then(async (code) => {
    await stopAllServers();
    process.exitCode = code;
  })
  .catch(async (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    await stopAllServers();
    process.exitCode = 3;
  });
