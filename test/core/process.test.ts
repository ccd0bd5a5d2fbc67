import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { currentHost } from '../../core/host.js';
import { liveServers, startCommand, stopAllServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';
import { liveProcesses, spawnManaged } from '../../core/process.js';
import { exePath, groupMembers, isAlive, runtimeOfExe } from '../../core/procfs.js';

const host = currentHost();
after(() => stopAllServers(0));

/** Waits until `check` holds, polling; false after `ms` (a generous bound: cleanup is what is awaited, not timed). */
async function eventually(check: () => boolean, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-process-'));
/** A tiny echo-less WebSocket-free server: listens on PORT, optionally prints a ready line after `delayMs`. */
function serverScript(name: string, readyAfterMs: number | null): string {
  const file = path.join(dir, name);
  writeFileSync(
    file,
    `const net = require('node:net');
const srv = net.createServer((s) => s.on('error', () => {})).listen(Number(process.env.PORT), '127.0.0.1', () => {
  ${
    readyAfterMs === null
      ? ''
      : `setTimeout(() => console.log(JSON.stringify({ event: 'ready', runtime: 'node', runtimeVersion: process.versions.node, library: 'net', libraryVersion: '0', pid: process.pid, host: '127.0.0.1', port: srv.address().port,
    settings: { maxPayloadBytes: 16777216, perMessageDeflate: false, idleTimeoutSec: 0, backpressureLimitBytes: 65536, backpressurePolicy: 'drop', publishToSelf: true, autoPing: false } })), ${readyAfterMs});`
  }
});
process.on('SIGTERM', () => process.exit(0));
`,
  );
  return file;
}

describe('the process lifecycle', () => {
  test('stopping a process stops its whole group, a forked child included', async () => {
    const p = spawnManaged({ label: 'a forking shell', command: 'sh', args: ['-c', 'sleep 30 & sleep 30'], env: host.env });
    assert.ok(await eventually(() => groupMembers(p.pid).length >= 2), 'the shell and its background sleep run');
    const r = await p.stop(500);
    assert.ok(await eventually(() => groupMembers(p.pid).length === 0), 'nothing of the group is left');
    assert.equal(r.forced, false);
    assert.equal(liveProcesses().includes(p), false);
  });

  test('when bench is killed with SIGKILL, the watchdog stops what it started', async () => {
    // A stand-in for bench: starts a forking command through the lifecycle, prints its group, then waits to be killed.
    const script = path.join(dir, 'fake-bench.mjs');
    writeFileSync(
      script,
      `import { spawnManaged } from ${JSON.stringify(path.join(projectRoot, 'dist/core/process.js'))};
const p = spawnManaged({ label: 'x', command: 'sh', args: ['-c', 'sleep 60 & sleep 60'], env: process.env });
console.log(p.pid);
setInterval(() => {}, 1000);
`,
    );
    const fake = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pgid = await new Promise<number>((resolve) => fake.stdout.once('data', (b: Buffer) => resolve(Number(String(b).trim()))));
    assert.ok(await eventually(() => groupMembers(pgid).length >= 2));
    fake.kill('SIGKILL');
    assert.ok(await eventually(() => groupMembers(pgid).length === 0), `group ${pgid} still has ${groupMembers(pgid).join(', ')}`);
  });
});

describe('a user server command', () => {
  test('behind a wrapper that stays, the measured pid is the process that listens', async () => {
    const file = serverScript('plain.cjs', null);
    // No exec: sh stays the group leader and node is its child.
    const s = await startCommand({ command: `sh -c "${process.execPath} ${file}; true"`, label: 'wrapped', hostInfo: host });
    try {
      assert.notEqual(s.pid, s.process.pid, 'not the wrapper');
      assert.equal(runtimeOfExe(exePath(s.pid) ?? ''), 'node');
      assert.equal(s.ready, null);
      assert.equal(s.pidNote, undefined);
    } finally {
      await s.stop(500);
    }
    assert.ok(await eventually(() => !isAlive(s.pid)));
  });

  test('a ready line that comes after the port accepts is not missed', async () => {
    const file = serverScript('late.cjs', 300);
    const s = await startCommand({ command: `${process.execPath} ${file}`, label: 'late', hostInfo: host });
    try {
      assert.ok(s.ready, 'the ready line was read');
      assert.equal(s.ready.settings.backpressureLimitBytes, 65536);
    } finally {
      await s.stop(500);
    }
  });

  test('a command that forks its server into the background fails at once and leaves nothing', async () => {
    const file = serverScript('bg.cjs', null);
    await assert.rejects(
      startCommand({ command: `sh -c "${process.execPath} ${file} &"`, label: 'bg', hostInfo: host }),
      (e) => isBenchError(e) && e.code === 'E_SERVER_EXITED' && /background/.test(e.hint ?? ''),
    );
    assert.ok(await eventually(() => liveServers().length === 0 && liveProcesses().length === 0));
  });
});
