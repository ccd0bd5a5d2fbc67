/**
 * Runtime ids with versions (`bun@1.3.14`, `node-ws@24`, `deno@2.8`, `node-ws@system`), and their resolution
 * against a registry listing: pure functions, no I/O. The registry is asked elsewhere (npm.ts) and its answer
 * passed in, so every rule here is tested without a network.
 */
import { BenchError } from '../../base/errors.js';
import { BARE_RUNTIME_IDS, isBareRuntimeId, type BareRuntimeId } from '../runtimes.js';
import {
  NODE_ABI_BY_MAJOR,
  UWS_BUILDS,
  uwsBuildProblem,
  type BinaryPackage,
  type PlatformFacts,
  type UwsBuild,
} from './catalog.js';

/** What the part after `@` asks for. */
export type VersionSpec =
  /** No `@`: the project's pinned default (catalog.ts PINNED_DEFAULTS). */
  | { kind: 'default' }
  /** `@system`: the Node that runs bench (node-ws and node-uws only), reported as such. */
  | { kind: 'system' }
  /** `@1.3.14`, `@1.4.0-canary.20260823.1`: that version, which must exist. */
  | { kind: 'exact'; version: string }
  /** `@24`, `@2.8`: the newest stable version of that line on the registry. */
  | { kind: 'line'; major: number; minor?: number };

export interface RuntimeRequest {
  /** As the user wrote it, e.g. 'node-ws@24'. */
  text: string;
  id: BareRuntimeId;
  spec: VersionSpec;
}

const EXACT = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
const LINE = /^(\d+)(?:\.(\d+))?$/;
const FORMS = '<id>, <id>@<major>, <id>@<major>.<minor>, <id>@<x.y.z>, or node-ws@system / node-uws@system';

/**
 * Parses one `--runtime` item.
 * @throws BenchError E_UNKNOWN_RUNTIME for an id not in the registry (hint: the valid ids);
 *   E_INVALID_RUNTIME_VERSION for a malformed version part or `@system` on bun/deno (hint: the accepted forms).
 */
export function parseRuntimeRequest(text: string): RuntimeRequest {
  const at = text.indexOf('@');
  const id = at < 0 ? text : text.slice(0, at);
  if (!isBareRuntimeId(id)) {
    throw new BenchError('E_UNKNOWN_RUNTIME', `unknown runtime "${id}" in "${text}"`, {
      hint: `valid runtimes: ${BARE_RUNTIME_IDS.join(', ')} (or "all"), each optionally with @<version>`,
    });
  }
  if (at < 0) return { text, id, spec: { kind: 'default' } };
  // `v24` is how Node prints its versions; accept it rather than make people unlearn it.
  const raw = text.slice(at + 1).replace(/^v(?=\d)/, '');
  if (raw === 'system') {
    if (id !== 'node-ws' && id !== 'node-uws') {
      throw new BenchError('E_INVALID_RUNTIME_VERSION', `"${text}": @system means the Node that runs bench, so only node-ws and node-uws take it`, {
        hint: `give ${id} a version (${id}@<x.y.z> or a line such as ${id}@1) or no version for the pinned default`,
      });
    }
    return { text, id, spec: { kind: 'system' } };
  }
  if (EXACT.test(raw)) return { text, id, spec: { kind: 'exact', version: raw } };
  const line = LINE.exec(raw);
  if (line) {
    const major = Number(line[1]);
    return { text, id, spec: line[2] === undefined ? { kind: 'line', major } : { kind: 'line', major, minor: Number(line[2]) } };
  }
  throw new BenchError('E_INVALID_RUNTIME_VERSION', `"${text}": "${text.slice(at + 1)}" is not a version`, { hint: `accepted forms: ${FORMS}` });
}

/** Expands `all` (every runtime at its pinned default) and comma lists; keeps order, drops repeated texts. */
export function parseRuntimeRequests(items: readonly string[]): RuntimeRequest[] {
  const out: RuntimeRequest[] = [];
  for (const item of items.flatMap((s) => s.split(',')).filter((s) => s !== '')) {
    const reqs = item === 'all' ? BARE_RUNTIME_IDS.map((id) => parseRuntimeRequest(id)) : [parseRuntimeRequest(item)];
    for (const r of reqs) if (!out.some((o) => o.text === r.text)) out.push(r);
  }
  return out;
}

/** The spec as written after `@` ('' for the default). */
export function formatSpec(spec: VersionSpec): string {
  switch (spec.kind) {
    case 'default':
      return '';
    case 'system':
      return 'system';
    case 'exact':
      return spec.version;
    case 'line':
      return spec.minor === undefined ? String(spec.major) : `${spec.major}.${spec.minor}`;
  }
}

interface Parsed {
  nums: [number, number, number];
  pre: string | undefined;
}

function parseVersion(v: string): Parsed | undefined {
  const m = EXACT.exec(v);
  return m ? { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4]?.slice(1) } : undefined;
}

/** Whether `v` is a release (x.y.z without a pre-release tag): lines resolve to releases only, never to canaries. */
export function isStable(v: string): boolean {
  const p = parseVersion(v);
  return p !== undefined && p.pre === undefined;
}

/**
 * Orders versions by SemVer 2.0.0 precedence (§11): numerically by x.y.z, a pre-release before its release,
 * pre-release identifiers compared numerically when both are numbers. Unparseable versions sort first.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : 0;
  for (let i = 0; i < 3; i++) if (pa.nums[i] !== pb.nums[i]) return Math.sign(pa.nums[i]! - pb.nums[i]!);
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  const xa = pa.pre.split('.');
  const xb = pb.pre.split('.');
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const [ia, ib] = [xa[i]!, xb[i]!];
    if (ia === ib) continue;
    const [na, nb] = [/^\d+$/.test(ia), /^\d+$/.test(ib)];
    if (na && nb) return Math.sign(Number(ia) - Number(ib));
    if (na !== nb) return na ? -1 : 1;
    return ia < ib ? -1 : 1;
  }
  return Math.sign(xa.length - xb.length);
}

/** The major of an exact version ('24.22.3' → 24). */
export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}

function lineOf(version: string, granularity: 'major' | 'minor'): string {
  const [major, minor] = version.split('.');
  return granularity === 'major' ? major! : `${major}.${minor}`;
}

/** The newest `count` release lines of a listing with each line's newest release, newest line first. */
export function newestLines(listing: readonly string[], granularity: 'major' | 'minor', count = 5): { line: string; newest: string }[] {
  const byLine = new Map<string, string>();
  for (const v of listing.filter(isStable).sort(compareVersions)) byLine.set(lineOf(v, granularity), v);
  return [...byLine.entries()]
    .map(([line, newest]) => ({ line, newest }))
    .sort((a, b) => compareVersions(b.newest, a.newest))
    .slice(0, count);
}

function linesHint(listing: readonly string[], granularity: 'major' | 'minor'): string {
  const lines = newestLines(listing, granularity);
  return lines.length === 0 ? 'the registry lists no releases' : `newest lines: ${lines.map((l) => `${l.line} (${l.newest})`).join(', ')}`;
}

/**
 * The exact version `spec` asks for, from the versions the registry lists for `pkg` (its platform package:
 * the thing that will be installed, whose listing can lag the wrapper's).
 * @throws BenchError E_UNKNOWN_RUNTIME_VERSION naming the missing version or line, hint: the newest in that line
 *   or the newest lines.
 */
export function resolveInListing(req: RuntimeRequest, pkg: BinaryPackage, listing: readonly string[]): string {
  const { spec } = req;
  if (spec.kind === 'exact') {
    if (listing.includes(spec.version)) return spec.version;
    const line = lineOf(spec.version, pkg.line);
    const sameLine = listing.filter((v) => isStable(v) && lineOf(v, pkg.line) === line).sort(compareVersions);
    throw new BenchError('E_UNKNOWN_RUNTIME_VERSION', `${req.text}: ${pkg.runtime} ${spec.version} is not on the npm registry (${pkg.name})`, {
      hint: sameLine.length > 0 ? `newest in ${line}: ${sameLine.at(-1)}; ${linesHint(listing, pkg.line)}` : linesHint(listing, pkg.line),
    });
  }
  if (spec.kind === 'line') {
    const matching = listing
      .filter(isStable)
      .filter((v) => majorOf(v) === spec.major && (spec.minor === undefined || Number(v.split('.')[1]) === spec.minor))
      .sort(compareVersions);
    const newest = matching.at(-1);
    if (newest !== undefined) return newest;
    throw new BenchError('E_UNKNOWN_RUNTIME_VERSION', `${req.text}: no ${pkg.runtime} ${formatSpec(spec)} line on the npm registry (${pkg.name})`, {
      hint: linesHint(listing, pkg.line),
    });
  }
  throw new Error(`resolveInListing: a ${spec.kind} spec is not resolved against the registry`);
}

/** The newest stable version in `candidates` that `spec` accepts (for answering from the cache when the registry is unreachable). */
export function newestMatching(spec: VersionSpec, candidates: readonly string[]): string | undefined {
  if (spec.kind === 'exact') return candidates.includes(spec.version) ? spec.version : undefined;
  if (spec.kind !== 'line') return undefined;
  return candidates
    .filter(isStable)
    .filter((v) => majorOf(v) === spec.major && (spec.minor === undefined || Number(v.split('.')[1]) === spec.minor))
    .sort(compareVersions)
    .at(-1);
}

/** The Node major a request pins down before the registry is asked (exact and line specs), if any. */
export function requestedNodeMajor(spec: VersionSpec): number | undefined {
  if (spec.kind === 'exact') return majorOf(spec.version);
  if (spec.kind === 'line') return spec.major;
  return undefined;
}

export type UwsChoice =
  | { ok: true; build: UwsBuild; abi: string }
  | {
      ok: false;
      /** Why no build fits, one clause per candidate build. */
      reason: string;
      /** The nearest Node major with a build that loads here (ties go to the older line), or null when none does. */
      nearest: number | null;
    };

/**
 * Which uWebSockets.js build serves a Node of `nodeMajor` (or of a known `abi`, for `@system`) on this host:
 * the first of `builds` that has the ABI, the platform and a new enough glibc. When none does, says why for each
 * build and names the nearest Node major for which one does, so the refusal can tell the user what works.
 */
export function chooseUwsBuild(
  node: { major: number; abi?: string },
  facts: PlatformFacts,
  builds: readonly UwsBuild[] = UWS_BUILDS,
): UwsChoice {
  const abi = node.abi ?? NODE_ABI_BY_MAJOR[node.major];
  if (abi !== undefined) {
    const problems: string[] = [];
    for (const build of builds) {
      const problem = uwsBuildProblem(build, abi, facts);
      if (problem === undefined) return { ok: true, build, abi };
      problems.push(problem);
    }
    return { ok: false, reason: `no uWebSockets.js build loads on Node ${node.major} (ABI ${abi}) here: ${problems.join('; ')}`, nearest: nearestUwsMajor(node.major, facts, builds) };
  }
  return { ok: false, reason: `the Node ${node.major} ABI is not known to bench (catalog.ts NODE_ABI_BY_MAJOR), so no uWebSockets.js addon can be chosen for it`, nearest: nearestUwsMajor(node.major, facts, builds) };
}

function nearestUwsMajor(major: number, facts: PlatformFacts, builds: readonly UwsBuild[]): number | null {
  const working = Object.entries(NODE_ABI_BY_MAJOR)
    .filter(([, abi]) => builds.some((b) => uwsBuildProblem(b, abi, facts) === undefined))
    .map(([m]) => Number(m));
  working.sort((a, b) => Math.abs(a - major) - Math.abs(b - major) || a - b);
  return working[0] ?? null;
}

/**
 * The refusal for a node-uws request whose Node has no loadable uWebSockets.js build.
 * @returns BenchError E_RUNTIME_UNSUPPORTED with the reason and, as hint, the nearest request that works.
 */
export function uwsRefusal(req: RuntimeRequest, choice: Extract<UwsChoice, { ok: false }>): BenchError {
  return new BenchError('E_RUNTIME_UNSUPPORTED', `${req.text}: ${choice.reason}`, {
    hint:
      choice.nearest === null
        ? 'no Node line has a uWebSockets.js build that loads on this host; compare node-ws instead'
        : `the nearest that works here is node-uws@${choice.nearest}; node-ws runs on any Node version`,
  });
}
