/**
 * The runtimes of one `bench run`, from labels to verified binaries (issue 17): each label
 * (`bun@1.3.14`, `node-ws`, `node-ws@24`, `node-socketio`, `bun#2`) becomes a request for the binary its server
 * runs on, resolved (and installed into the cache) before anything starts; the label is recorded exactly
 * (`node-ws@24` → `node-ws@24.22.3`); the launcher starts the server with that binary, the cell checks from
 * /proc that it runs it, and the environment block records it per label.
 *
 * A stack (`node-socketio`, `node-socketio-uws`, `bun-socketio`) runs on its bare counterpart's binary, resolved
 * the same way: plain `node-socketio` runs on the Node plain `node-ws` runs on, so that a stack and its bare
 * counterpart still differ by the framework only (report/stacks.ts).
 */
import { BenchError } from '../../base/errors.js';
import { quote } from '../../base/validate.js';
import type { RuntimeResolution, RuntimeStatus } from '../../schema/result.js';
import { RUNTIMES, isStackId, parseRuntimeId, registryIdOf, type BareRuntimeId, type RuntimeId } from '../runtimes.js';
import { PINNED_DEFAULTS, RUNTIME_OF, UWS_BUILDS, type PlatformFacts } from './catalog.js';
import { chooseUwsBuild, majorOf, parseRuntimeRequest, requestedNodeMajor, uwsRefusal, type RuntimeRequest } from './request.js';
import { resolveRuntime, type ResolveDeps, type ResolvedRuntime } from './resolve.js';

/**
 * What plain Node ids (`node-ws`, `node-uws` and the Node stacks) run on: the pinned defaults (catalog.ts
 * PINNED_DEFAULTS, installed into the cache on first use), or the Node on PATH, as before issue 17 — for a
 * machine without npm access, and for the test suite, which must never download.
 */
export type DefaultNode = 'pinned' | 'system';

/** The environment variable that chooses DefaultNode: unset or `pinned`, or `system`. */
export const DEFAULT_NODE_ENV = 'BENCH_DEFAULT_NODE';

/**
 * DefaultNode from the CLI's environment.
 * @throws BenchError E_USAGE for a value other than '', `pinned` or `system`
 */
export function defaultNodeFrom(env: Readonly<Record<string, string | undefined>>): DefaultNode {
  const v = env[DEFAULT_NODE_ENV];
  if (v === undefined || v === '' || v === 'pinned') return 'pinned';
  if (v === 'system') return 'system';
  throw new BenchError('E_USAGE', `${DEFAULT_NODE_ENV}=${quote(v)}: must be "pinned" or "system"`, {
    hint: `unset it for the pinned Node versions, or set ${DEFAULT_NODE_ENV}=system to run plain node ids on the Node on PATH`,
  });
}

/** One run label and the request for the binary its server runs on. */
export interface LabelRequest {
  /** As parsed (core/runtimes.ts parseRuntimeLabels): `node-ws@24`, `bun#2`. */
  label: string;
  registryId: RuntimeId;
  /** The bare runtime whose binary it runs on (a stack's bare counterpart). */
  bare: BareRuntimeId;
  /** The request for that binary; its text is the label without its copy suffix (`node-socketio@22`). */
  request: RuntimeRequest;
  /** True when the label names no version: it keeps its plain name (`bun`, `node-ws#2`). */
  plain: boolean;
  /** The A/A copy suffix, `#2` or `#name`, or ''. */
  copy: string;
}

/**
 * Parses a run label into its request: pure, no I/O, so that a malformed version is refused before anything else.
 * @throws BenchError E_UNKNOWN_RUNTIME, E_INVALID_RUNTIME_VERSION (request.ts parseRuntimeRequest)
 */
export function labelRequest(label: string, defaultNode: DefaultNode): LabelRequest {
  const registryId = parseRuntimeId(registryIdOf(label));
  const hash = label.indexOf('#');
  const head = hash < 0 ? label : label.slice(0, hash);
  const copy = hash < 0 ? '' : label.slice(hash);
  const version = head.slice(registryId.length);
  const bare: BareRuntimeId = isStackId(registryId) ? RUNTIMES[registryId].bare! : (registryId as BareRuntimeId);
  let request: RuntimeRequest;
  try {
    request = { ...parseRuntimeRequest(`${bare}${version}`), text: head };
  } catch (e) {
    // A stack's version is its bare runtime's: say it with the label the user wrote.
    if (!(e instanceof BenchError) || bare === registryId) throw e;
    throw new BenchError(e.code, e.message.split(`${bare}${version}`).join(head), e.hint === undefined ? {} : { hint: e.hint });
  }
  const plain = version === '';
  if (plain && defaultNode === 'system' && RUNTIME_OF[bare] === 'node') request = { ...request, spec: { kind: 'system' } };
  return { label, registryId, bare, request, plain, copy };
}

/** What a label's server is started with and checked against: a subset of ResolvedRuntime. */
export type ServerBinary = Pick<ResolvedRuntime, 'id' | 'key' | 'version' | 'binaryPath' | 'env' | 'library'>;

/** One runtime of a run, resolved. */
export interface RunRuntime {
  /** The label as asked (`node-ws@24`). */
  asked: string;
  /** The label as recorded: exact (`node-ws@24.22.3`), `@system`, or plain (`bun`), unique in the run. */
  label: string;
  registryId: RuntimeId;
  resolved: ResolvedRuntime;
}

/** The recorded label of a resolved request, before uniqueness: plain stays plain, a version becomes exact. */
export function exactLabel(lr: LabelRequest, r: Pick<ResolvedRuntime, 'version' | 'source'>): string {
  if (lr.plain) return `${lr.registryId}${lr.copy}`;
  return `${lr.registryId}@${r.source === 'system' ? 'system' : r.version}${lr.copy}`;
}

const uwsOfProject = UWS_BUILDS.find((b) => b.projectAlias !== undefined);

/** A stack's refusal names the stack, not its bare counterpart (`node-uws@22` → `node-socketio-uws@22`). */
function namedForLabel(lr: LabelRequest, e: BenchError): BenchError {
  if (lr.bare === lr.registryId || e.hint === undefined) return e;
  return new BenchError(e.code, e.message, { hint: e.hint.split(`${lr.bare}@`).join(`${lr.registryId}@`), details: e.details });
}

/**
 * The refusals that need neither the registry nor an install, so that they come before any other work: a
 * node-uws (or node-socketio-uws) whose Node line has no uWebSockets.js build that loads on this host, and a
 * node-socketio-uws whose Node needs a build other than the project's (the stack imports that one).
 * @throws BenchError E_RUNTIME_UNSUPPORTED with the reason and, as hint, the nearest version that works
 */
export function assertLoadable(lr: LabelRequest, facts: PlatformFacts): void {
  if (lr.bare !== 'node-uws') return;
  const spec = lr.request.spec;
  const major = spec.kind === 'default' ? majorOf(PINNED_DEFAULTS['node-uws']) : requestedNodeMajor(spec);
  if (major === undefined) return; // @system: its ABI is known once its binary has answered (resolveRuntime)
  const choice = chooseUwsBuild({ major }, facts);
  if (!choice.ok) throw namedForLabel(lr, uwsRefusal(lr.request, choice));
  if (lr.registryId === 'node-socketio-uws' && choice.build !== uwsOfProject) {
    throw new BenchError('E_RUNTIME_UNSUPPORTED', `${lr.request.text}: the stack loads the project's uWebSockets.js (${uwsOfProject?.package}@${uwsOfProject?.version}), which has no addon for Node ${major} (ABI ${choice.abi})`, {
      hint: `give it a Node line ${uwsOfProject?.package} covers (node-socketio-uws@22); node-uws${lr.request.text.slice(lr.registryId.length)} runs with ${choice.build.package}@${choice.build.version}`,
    });
  }
}

/**
 * Resolves every label of a run, in order, installing what is missing (`deps.install`), and gives each its
 * recorded label (`node-ws@24` and `node-ws@24.22.3` in one run become `node-ws@24.22.3` and
 * `node-ws@24.22.3#2`: the same binary twice, an A/A pair). A request met twice is resolved once.
 * With `skip`, a label that cannot be resolved is passed to it and left out instead of failing the run (the
 * groups `all` and `stacks` mean their usable runtimes).
 * @throws BenchError from resolveRuntime (E_RUNTIME_UNSUPPORTED with the nearest working version, E_UNKNOWN_RUNTIME_VERSION,
 *   E_REGISTRY_UNAVAILABLE, E_RUNTIME_INSTALL_FAILED, E_RUNTIME_VERIFY_FAILED); E_RUNTIME_UNSUPPORTED for a
 *   node-socketio-uws whose Node needs a uWebSockets.js build other than the project's (the stack imports that one)
 */
export async function resolveRunRuntimes(
  requests: readonly LabelRequest[],
  deps: ResolveDeps,
  skip?: (label: string, e: BenchError) => void,
): Promise<RunRuntime[]> {
  const memo = new Map<string, ResolvedRuntime>();
  const out: RunRuntime[] = [];
  for (const lr of requests) {
    const key = `${lr.bare} ${JSON.stringify(lr.request.spec)}`;
    let resolved = memo.get(key);
    try {
      assertLoadable(lr, deps.facts);
      if (resolved === undefined) {
        resolved = await resolveRuntime(lr.request, deps);
        memo.set(key, resolved);
      }
      if (lr.registryId === 'node-socketio-uws' && resolved.library.package !== uwsOfProject?.package) {
        // @system on a Node whose ABI only another build covers: known only now.
        throw new BenchError('E_RUNTIME_UNSUPPORTED', `${lr.request.text}: the stack loads the project's uWebSockets.js (${uwsOfProject?.package}@${uwsOfProject?.version}), which has no addon for Node ${resolved.version} (ABI ${resolved.abi ?? '?'})`, {
          hint: `give it a Node line ${uwsOfProject?.package} covers (node-socketio-uws@22)`,
        });
      }
    } catch (e) {
      if (!(e instanceof BenchError)) throw e;
      const err = namedForLabel(lr, e);
      if (!skip) throw err;
      skip(lr.label, err);
      continue;
    }
    const base = exactLabel(lr, resolved);
    const stem = base.includes('#') ? base.slice(0, base.indexOf('#')) : base;
    let label = base;
    for (let n = 2; out.some((o) => o.label === label); n++) label = `${stem}#${n}`;
    out.push({ asked: lr.label, label, registryId: lr.registryId, resolved });
  }
  return out;
}

/** Per recorded label, what its servers are started with (core/run.ts RunPlan.binaries). */
export function serverBinaries(runs: readonly RunRuntime[]): Record<string, ServerBinary> {
  return Object.fromEntries(
    runs.map((r) => [r.label, { id: r.resolved.id, key: r.resolved.key, version: r.resolved.version, binaryPath: r.resolved.binaryPath, env: r.resolved.env, library: r.resolved.library }]),
  );
}

/** A library version as the probes print it: `8.23.0`, `20.0.8 (uws-pack)`. */
export function libraryVersionOf(r: Pick<ResolvedRuntime, 'library'>): string {
  const lib = r.library;
  return lib.package !== undefined && lib.package !== lib.name ? `${lib.version} (${lib.package})` : lib.version;
}

/** The stored record of how a label was resolved (schema/result.ts RuntimeResolution). */
export function resolutionOf(run: RunRuntime): RuntimeResolution {
  const r = run.resolved;
  return {
    request: run.asked,
    runtime: r.runtime,
    source: r.source,
    binaryPath: r.binaryPath,
    ...(r.package === undefined ? {} : { package: r.package }),
    ...(r.integrity === undefined ? {} : { integrity: r.integrity }),
    ...(r.abi === undefined ? {} : { abi: r.abi }),
    ...(r.library.package === undefined ? {} : { libraryPackage: r.library.package }),
    ...(r.library.upstream === undefined ? {} : { libraryUpstream: r.library.upstream }),
    ...(r.notes.length === 0 ? {} : { notes: [...r.notes] }),
  };
}

/**
 * The environment block's runtimes: one entry per run label (report/view.ts and core/compare.ts read them by
 * label) with its exact versions and how it was resolved, and nothing else: a probed runtime the run did not use
 * would show the probe's version (the Node on PATH for node-ws, while plain node-ws runs Node 24) as if it had. A stack's library version is its probe's (the project's Socket.IO packages) with the WebSocket
 * library under it taken from its resolved bare runtime.
 */
export function runtimeEntries(runs: readonly RunRuntime[], probed: readonly RuntimeStatus[]): RuntimeStatus[] {
  const entries: RuntimeStatus[] = runs.map((run) => {
    const r = run.resolved;
    let libraryVersion = libraryVersionOf(r);
    if (isStackId(run.registryId)) {
      const stack = probed.find((p) => p.id === run.registryId)?.libraryVersion;
      const bare = probed.find((p) => p.id === r.id)?.libraryVersion;
      libraryVersion = stack === undefined ? libraryVersion : bare !== undefined && stack.endsWith(` ${bare})`) ? `${stack.slice(0, -bare.length - 1)}${libraryVersion})` : stack;
    }
    return { id: run.label, label: RUNTIMES[run.registryId].label, usable: true, runtimeVersion: r.version, libraryVersion, resolved: resolutionOf(run) };
  });
  return entries;
}
