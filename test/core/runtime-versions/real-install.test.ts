/**
 * The one test that talks to the npm registry: opt-in, because it downloads 90–190 MB per runtime the first time.
 *
 *   BENCH_TEST_REAL_INSTALL=1 node --test dist/test/core/runtime-versions/real-install.test.js
 *
 * It installs the pinned node-ws and node-uws Nodes, bun@1.3.14 and deno@2.8 with the real npm into
 * BENCH_CACHE_DIR (default: a temporary folder, removed afterwards; point it at ~/.cache/bench to reuse
 * downloads), starts each runtime's real server from dist/servers on port 0, and checks its ready line and, from
 * /proc, that the process is the resolved binary. Without the variable every test here is skipped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { projectRoot, serversDir } from '../../../core/paths.js';
import { exePath, mappedFiles } from '../../../core/procfs.js';
import { cacheRootFrom } from '../../../core/runtime-versions/cache.js';
import { checkServerProcess } from '../../../core/runtime-versions/check.js';
import { currentPlatformFacts } from '../../../core/runtime-versions/host-facts.js';
import { execRunner, npmClient } from '../../../core/runtime-versions/npm.js';
import { parseRuntimeRequest } from '../../../core/runtime-versions/request.js';
import { resolveRuntime, type ResolvedRuntime } from '../../../core/runtime-versions/resolve.js';
import { tempDir } from './fakes.js';

const enabled = process.env['BENCH_TEST_REAL_INSTALL'] === '1';
const ownCache = enabled && !process.env['BENCH_CACHE_DIR'] ? tempDir('real-cache') : undefined;
after(() => {
  if (ownCache) rmSync(ownCache, { recursive: true, force: true });
});

const SCRIPT: Record<string, string[]> = {
  'node-ws': [path.join(serversDir, 'node-ws.js')],
  'node-uws': [path.join(serversDir, 'node-uws.js')],
  bun: [path.join(serversDir, 'bun.js')],
  deno: ['run', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', path.join(serversDir, 'deno.js')],
};

/** Starts the server on the resolved binary, returns its ready line after checking the process from /proc. */
async function startAndCheck(r: ResolvedRuntime): Promise<{ runtimeVersion: string; libraryVersion: string }> {
  const child = spawn(r.binaryPath, SCRIPT[r.id]!, { env: { ...process.env, ...r.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) resolve(buf.slice(0, nl));
      });
      child.once('exit', (code) => reject(new Error(`${r.key} exited (${code}) before ready: ${stderr}`)));
      setTimeout(() => reject(new Error(`${r.key}: no ready line in 20 s: ${stderr}`)), 20_000).unref();
    });
    assert.deepEqual(checkServerProcess(child.pid!, r, { exePath, mappedFiles }), { ok: true });
    return JSON.parse(line) as { runtimeVersion: string; libraryVersion: string };
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
}

describe('real installs from the npm registry (BENCH_TEST_REAL_INSTALL=1)', () => {
  const deps = () => ({
    npm: npmClient(),
    runner: execRunner,
    facts: currentPlatformFacts(),
    cacheRoot: ownCache ?? cacheRootFrom(process.env, os.homedir()),
    projectRoot,
    systemNodePath: process.execPath,
    install: true,
  });

  for (const text of ['node-ws', 'node-uws', 'bun@1.3.14', 'deno@2.8']) {
    const skip = enabled ? false : 'set BENCH_TEST_REAL_INSTALL=1 to run (downloads runtimes from the npm registry)';
    test(`${text}: installed, verified, and its server runs on exactly that binary`, { skip, timeout: 600_000 }, async () => {
      const r = await resolveRuntime(parseRuntimeRequest(text), deps());
      const ready = await startAndCheck(r);
      assert.equal(ready.runtimeVersion, r.version);
      if (r.id === 'node-uws') assert.match(ready.libraryVersion, new RegExp(r.library.version.replace(/\./g, '\\.')));
    });
  }
});
