/**
 * From a runtime request (`node-uws@22`) to the binaries a server runs on: the version resolved exactly, found
 * in the project's node_modules or the cache, or installed into the cache with npm, and verified.
 *
 * Order of the checks, cheapest and most final first: the platform has a package at all; a node-uws request
 * whose Node line has no loadable uWebSockets.js build is refused before the registry is asked; exact versions
 * already on disk need no registry; lines ask the registry, and fall back to what is on disk when it cannot
 * answer (said in `notes`).
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchError } from '../../base/errors.js';
import type { BareRuntimeId } from '../runtimes.js';
import { findEntry, installEntry, listCache, type InstallPlan } from './cache.js';
import {
  NODE_ABI_BY_MAJOR,
  PINNED_DEFAULTS,
  PINNED_INTEGRITY,
  RUNTIME_OF,
  parseVersionOutput,
  runtimePackage,
  type BinaryPackage,
  type PlatformFacts,
  type RuntimeName,
  type UwsBuild,
} from './catalog.js';
import type { BinaryRunner, NpmClient } from './npm.js';
import {
  chooseUwsBuild,
  majorOf,
  newestMatching,
  requestedNodeMajor,
  resolveInListing,
  uwsRefusal,
  type RuntimeRequest,
} from './request.js';

/** Everything resolution needs from outside, passed in (the CLI builds it; tests pass fakes). */
export interface ResolveDeps {
  npm: NpmClient;
  runner: BinaryRunner;
  facts: PlatformFacts;
  /** The cache root (cache.ts cacheRootFrom). */
  cacheRoot: string;
  /** The project folder whose node_modules holds the package.json-pinned bun, deno and uws-pack. */
  projectRoot: string;
  /** The Node that runs bench: what `@system` means (HostInfo.nodePath). */
  systemNodePath: string;
  /** Whether a missing version may be installed (bench run, serve); list and doctor pass false and only report. */
  install: boolean;
  /** Progress lines for a human (an install takes seconds); the CLI writes them to stderr. */
  log?: (line: string) => void;
  /** Clock for the cache's installedAt. */
  now?: () => Date;
}

/** Where a binary or library came from. */
export type Source = 'project' | 'cache' | 'system';

/** The WebSocket library a resolved runtime serves with. */
export interface ResolvedLibrary {
  /** 'ws', 'uWebSockets.js', or the runtime's built-in ('bun', 'deno'). */
  name: string;
  /** Its version: ws's and the built-ins' as installed; for uWebSockets.js the npm package's. */
  version: string;
  /** npm package and folder, for uWebSockets.js builds. */
  package?: string;
  dir?: string;
  source?: Source;
  integrity?: string | null;
  /** What upstream state a uWebSockets.js build carries (catalog.ts UwsBuild.upstream). */
  upstream?: string;
}

/** A runtime request resolved to exact, verified binaries: what the launcher and the result need. */
export interface ResolvedRuntime {
  id: BareRuntimeId;
  /** The request as written ('node-ws@24', 'bun'). */
  request: string;
  /** Identity for tables and results: `<id>@<exact version>`, or `<id>@system` for the Node that runs bench. */
  key: string;
  runtime: RuntimeName;
  /** Exact version, read from the binary's --version. */
  version: string;
  source: Source;
  /** Absolute real path of the executable: spawn it, and expect it in /proc/<pid>/exe. */
  binaryPath: string;
  /** Node's ABI (process.versions.modules), for Node runtimes. */
  abi?: string;
  /** The npm package the binary came from and its tarball integrity (system: none). */
  package?: string;
  integrity?: string | null;
  library: ResolvedLibrary;
  /** Environment the server needs on top of the launcher's (BENCH_UWS_MODULE for node-uws). */
  env: Record<string, string>;
  /** Things a reader of the result should know (resolved from the cache because the registry was unreachable). */
  notes: string[];
}

/** A version that is neither in the project nor in the cache, when installing is not allowed (doctor, list). */
export class MissingRuntimeError extends BenchError {
  /** npm packages (`name@x.y.z`) an install would fetch, and the cache folders they would go to. */
  readonly needs: { spec: string; dir: string }[];
  constructor(req: RuntimeRequest, needs: { spec: string; dir: string }[]) {
    super('E_RUNTIME_UNAVAILABLE', `${req.text} is not installed: needs ${needs.map((n) => n.spec).join(' and ')}`, {
      hint: `bench installs it into the cache on first use (${needs.map((n) => n.dir).join(', ')}); or run \`npm run runtimes:install -- ${req.text}\``,
    });
    this.needs = needs;
  }
}

function packageJsonVersion(dir: string): { name?: string; version?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
  } catch {
    return undefined;
  }
}

/** npm's integrity of a package in the project's node_modules, from the hidden lock file npm ci writes there. */
function projectIntegrity(projectRoot: string, dir: string): string | null {
  try {
    const lock = JSON.parse(readFileSync(path.join(projectRoot, 'node_modules', '.package-lock.json'), 'utf8')) as {
      packages?: Record<string, { integrity?: string }>;
    };
    return lock.packages?.[path.relative(projectRoot, dir).split(path.sep).join('/')]?.integrity ?? null;
  } catch {
    return null;
  }
}

async function binaryVersion(runner: BinaryRunner, runtime: RuntimeName, binary: string): Promise<string | undefined> {
  try {
    return parseVersionOutput(runtime, await runner.run(binary, ['--version']));
  } catch {
    return undefined;
  }
}

async function nodeAbi(runner: BinaryRunner, binary: string): Promise<string | undefined> {
  try {
    return (await runner.run(binary, ['-p', 'process.versions.modules'])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks that `binary` is `runtime` `version` (and for Node, that its ABI is the table's for that major).
 * @throws BenchError E_RUNTIME_VERIFY_FAILED naming what it reported instead.
 */
export async function verifyBinary(runner: BinaryRunner, runtime: RuntimeName, version: string, binary: string): Promise<{ abi?: string }> {
  const reported = await binaryVersion(runner, runtime, binary);
  if (reported !== version) {
    throw new BenchError('E_RUNTIME_VERIFY_FAILED', `${binary} reports ${reported === undefined ? 'no readable version' : `version ${reported}`}, expected ${runtime} ${version}`, {
      hint: 'nothing was added to the cache; a damaged cache entry can be removed and is reinstalled on next use',
    });
  }
  if (runtime !== 'node') return {};
  const abi = await nodeAbi(runner, binary);
  const expected = NODE_ABI_BY_MAJOR[majorOf(version)];
  if (abi === undefined || (expected !== undefined && abi !== expected)) {
    throw new BenchError('E_RUNTIME_VERIFY_FAILED', `${binary} (Node ${version}) reports ABI ${abi ?? '?'}, bench's table says ${expected}`, {
      hint: 'correct NODE_ABI_BY_MAJOR in core/runtime-versions/catalog.ts',
    });
  }
  return { abi };
}

/** Versions of `pkg` on disk: the project's copy and the cache's finished entries. */
function localVersions(pkg: BinaryPackage, deps: ResolveDeps): string[] {
  const out = listCache(deps.cacheRoot)
    .filter((e) => e.kind === 'runtime' && e.manifest?.package === pkg.name && e.problem === undefined)
    .map((e) => e.manifest!.version);
  const nm = path.join(deps.projectRoot, 'node_modules');
  for (const [name, binary] of [[pkg.name, pkg.binary], ...(pkg.projectAlternative ? [[pkg.projectAlternative.package, pkg.projectAlternative.binary]] : [])] as const) {
    const v = packageJsonVersion(path.join(nm, name))?.version;
    if (v !== undefined && existsSync(path.join(nm, name, binary))) out.push(v);
  }
  return out;
}

function runtimePlan(pkg: BinaryPackage, version: string): InstallPlan {
  const expectedIntegrity = PINNED_INTEGRITY[`${pkg.name}@${version}`];
  return {
    kind: 'runtime',
    name: pkg.cacheName,
    version,
    package: pkg.name,
    inner: pkg.binary,
    ...(expectedIntegrity === undefined ? {} : { expectedIntegrity }),
  };
}

function libraryPlan(build: UwsBuild): InstallPlan {
  const expectedIntegrity = PINNED_INTEGRITY[`${build.package}@${build.version}`];
  return { kind: 'library', name: build.package, version: build.version, package: build.package, inner: 'package.json', ...(expectedIntegrity === undefined ? {} : { expectedIntegrity }) };
}

/** A place in the project's node_modules that may hold what a plan installs: `dir` must be package `package` at the plan's version. */
interface ProjectCandidate {
  dir: string;
  package: string;
  inner: string;
}

/** Finds `plan` in the project or the cache, or installs it into the cache; returns the absolute path of plan.inner. */
async function obtain(
  req: RuntimeRequest,
  plan: InstallPlan,
  project: ProjectCandidate[],
  verify: (file: string) => Promise<{ abi?: string }>,
  deps: ResolveDeps,
  pending: { spec: string; dir: string }[],
): Promise<{ file: string; source: Source; integrity: string | null; package: string } | undefined> {
  for (const c of project) {
    const pj = packageJsonVersion(c.dir);
    const file = path.join(c.dir, c.inner);
    if (pj?.name === c.package && pj.version === plan.version && existsSync(file)) {
      return { file, source: 'project', integrity: projectIntegrity(deps.projectRoot, c.dir), package: c.package };
    }
  }
  const cached = findEntry(deps.cacheRoot, plan);
  if (cached) return { file: path.join(cached.dir, cached.manifest!.path), source: 'cache', integrity: cached.manifest!.integrity, package: plan.package };
  const dir = path.join(deps.cacheRoot, plan.kind === 'runtime' ? 'runtimes' : 'libraries', `${plan.name.replace('/', '+')}@${plan.version}`);
  if (!deps.install) {
    pending.push({ spec: `${plan.package}@${plan.version}`, dir });
    return undefined;
  }
  deps.log?.(`${req.text}: installing ${plan.package}@${plan.version} into ${dir} (npm)…`);
  const entry = await installEntry(deps.cacheRoot, plan, { npm: deps.npm, verify, now: deps.now ?? (() => new Date()) });
  deps.log?.(`${req.text}: installed ${plan.package}@${plan.version}`);
  return { file: path.join(entry.dir, entry.manifest!.path), source: 'cache', integrity: entry.manifest!.integrity, package: plan.package };
}

/** The exact version a non-system request means, asking the registry only when the disk cannot answer. */
async function exactVersion(req: RuntimeRequest, pkg: BinaryPackage, deps: ResolveDeps, notes: string[]): Promise<string> {
  const { spec } = req;
  if (spec.kind === 'default') return PINNED_DEFAULTS[req.id];
  if (spec.kind === 'exact' && localVersions(pkg, deps).includes(spec.version)) return spec.version;
  let listing: string[];
  try {
    listing = await deps.npm.versions(pkg.name);
  } catch (e) {
    const local = newestMatching(spec, localVersions(pkg, deps));
    if (local === undefined || spec.kind !== 'line') throw e;
    notes.push(`${req.text} resolved to ${local} from what is installed: the npm registry did not answer, so a newer ${pkg.runtime} in that line may exist`);
    return local;
  }
  return resolveInListing(req, pkg, listing);
}

/** uWebSockets.js for a node-uws server: the build for `abi`, located or installed, with its ESM entry. */
async function resolveUws(
  req: RuntimeRequest,
  node: { major: number; abi: string },
  deps: ResolveDeps,
  pending: { spec: string; dir: string }[],
): Promise<{ library: ResolvedLibrary; env: Record<string, string> } | undefined> {
  const choice = chooseUwsBuild(node, deps.facts);
  if (!choice.ok) throw uwsRefusal(req, choice);
  const { build } = choice;
  const projectDirs = [build.projectAlias, build.package]
    .filter((n): n is string => n !== undefined)
    .map((n) => ({ dir: path.join(deps.projectRoot, 'node_modules', n), package: build.package, inner: 'package.json' }));
  const addon = `uws_${deps.facts.platform}_${deps.facts.arch}_${node.abi}.node`;
  const verify = async (file: string) => {
    if (!existsSync(path.join(path.dirname(file), build.addonDir, addon))) {
      throw new BenchError('E_RUNTIME_VERIFY_FAILED', `${build.package}@${build.version} has no ${addon}`, { hint: 'correct UWS_BUILDS in core/runtime-versions/catalog.ts' });
    }
    return {};
  };
  const got = await obtain(req, libraryPlan(build), projectDirs, verify, deps, pending);
  if (!got) return undefined;
  const dir = realpathSync(path.dirname(got.file));
  await verify(path.join(dir, 'package.json'));
  return {
    library: { name: 'uWebSockets.js', version: build.version, package: build.package, dir, source: got.source, integrity: got.integrity, upstream: build.upstream },
    env: { BENCH_UWS_MODULE: pathToFileURL(path.join(dir, build.entry)).href },
  };
}

function projectLibraryVersion(projectRoot: string, name: string): string {
  return packageJsonVersion(path.join(projectRoot, 'node_modules', name))?.version ?? 'unknown';
}

/**
 * Resolves one request to verified binaries, installing what is missing when `deps.install` allows.
 * @throws BenchError E_RUNTIME_UNSUPPORTED (no package for this platform; no uWebSockets.js build for that Node
 *   here, hint: the nearest that works), E_UNKNOWN_RUNTIME_VERSION, E_REGISTRY_UNAVAILABLE,
 *   E_RUNTIME_INSTALL_FAILED, E_RUNTIME_VERIFY_FAILED; MissingRuntimeError (E_RUNTIME_UNAVAILABLE) when
 *   something must be installed and `deps.install` is false.
 */
export async function resolveRuntime(req: RuntimeRequest, deps: ResolveDeps): Promise<ResolvedRuntime> {
  const runtime = RUNTIME_OF[req.id];
  const notes: string[] = [];
  const pending: { spec: string; dir: string }[] = [];

  let version: string;
  let binaryPath: string;
  let source: Source;
  let abi: string | undefined;
  let pkgName: string | undefined;
  let integrity: string | null | undefined;

  if (req.spec.kind === 'system') {
    binaryPath = realpathSync(deps.systemNodePath);
    const v = await binaryVersion(deps.runner, 'node', binaryPath);
    const a = await nodeAbi(deps.runner, binaryPath);
    if (v === undefined || a === undefined) {
      throw new BenchError('E_RUNTIME_VERIFY_FAILED', `${req.text}: ${binaryPath} did not report its version and ABI`, { hint: 'check the Node on PATH: `node --version`' });
    }
    [version, abi, source] = [v, a, 'system'];
    if (req.id === 'node-uws') {
      const early = chooseUwsBuild({ major: majorOf(version), abi }, deps.facts);
      if (!early.ok) throw uwsRefusal(req, early);
    }
  } else {
    const lookup = runtimePackage(runtime, deps.facts);
    if (!lookup.ok) throw new BenchError('E_RUNTIME_UNSUPPORTED', `${req.text}: ${lookup.reason}`, { hint: `run ${req.id} with no version (the project's own) or on linux-x64` });
    const pkg = lookup.value;
    // Refuse before the registry or an install: the Node line alone decides whether uWebSockets.js can load.
    const major = req.id === 'node-uws' ? (requestedNodeMajor(req.spec) ?? majorOf(PINNED_DEFAULTS[req.id])) : undefined;
    if (major !== undefined) {
      const early = chooseUwsBuild({ major }, deps.facts);
      if (!early.ok) throw uwsRefusal(req, early);
    }
    version = await exactVersion(req, pkg, deps, notes);
    const nm = path.join(deps.projectRoot, 'node_modules');
    const projectDir: ProjectCandidate[] = [{ dir: path.join(nm, pkg.name), package: pkg.name, inner: pkg.binary }];
    const alt = pkg.projectAlternative;
    if (alt) projectDir.push({ dir: path.join(nm, alt.package), package: alt.package, inner: alt.binary });
    let learnt: { abi?: string } | undefined;
    const got = await obtain(req, runtimePlan(pkg, version), projectDir, async (file) => (learnt = await verifyBinary(deps.runner, runtime, version, file)), deps, pending);
    if (!got) {
      if (req.id === 'node-uws') await resolveUws(req, { major: majorOf(version), abi: NODE_ABI_BY_MAJOR[majorOf(version)] ?? '?' }, deps, pending).catch(() => undefined);
      throw new MissingRuntimeError(req, pending);
    }
    binaryPath = realpathSync(got.file);
    // A fresh install was verified before it was published; project and cached binaries are checked at each use (one --version).
    learnt ??= await verifyBinary(deps.runner, runtime, version, binaryPath);
    [source, abi, pkgName, integrity] = [got.source, learnt.abi, got.package, got.integrity];
  }

  let library: ResolvedLibrary;
  let env: Record<string, string> = {};
  if (req.id === 'node-uws') {
    const uws = await resolveUws(req, { major: majorOf(version), abi: abi! }, deps, pending);
    if (!uws) throw new MissingRuntimeError(req, pending);
    ({ library, env } = uws);
  } else if (req.id === 'node-ws') {
    library = { name: 'ws', version: projectLibraryVersion(deps.projectRoot, 'ws'), source: 'project' };
  } else {
    library = { name: runtime, version };
  }

  return {
    id: req.id,
    request: req.text,
    key: source === 'system' ? `${req.id}@system` : `${req.id}@${version}`,
    runtime,
    version,
    source,
    binaryPath,
    ...(abi === undefined ? {} : { abi }),
    ...(pkgName === undefined ? {} : { package: pkgName }),
    ...(integrity === undefined ? {} : { integrity }),
    library,
    env,
    notes,
  };
}

/** What `bench list runtimes` and `bench doctor` say about one request, without installing anything. */
export type RuntimeState =
  | { request: string; state: 'ready'; resolved: ResolvedRuntime }
  | { request: string; state: 'missing'; error: MissingRuntimeError }
  | { request: string; state: 'refused' | 'error'; error: BenchError };

/** Resolves without installing and never throws a BenchError: a missing version is reported with what it needs. */
export async function inspectRuntime(req: RuntimeRequest, deps: Omit<ResolveDeps, 'install'>): Promise<RuntimeState> {
  try {
    return { request: req.text, state: 'ready', resolved: await resolveRuntime(req, { ...deps, install: false }) };
  } catch (e) {
    if (e instanceof MissingRuntimeError) return { request: req.text, state: 'missing', error: e };
    if (e instanceof BenchError) {
      const refused = e.code === 'E_RUNTIME_UNSUPPORTED' || e.code === 'E_UNKNOWN_RUNTIME_VERSION' || e.code === 'E_INVALID_RUNTIME_VERSION';
      return { request: req.text, state: refused ? 'refused' : 'error', error: e };
    }
    throw e;
  }
}
