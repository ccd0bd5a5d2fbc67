import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execText } from './process.js';
import { BenchError } from '../base/errors.js';
import { quote } from '../base/validate.js';
import { binDir, projectRoot, serversDir } from './paths.js';
import type { Availability, RuntimeStatus } from '../schema/result.js';
import type { ServerProtocol } from '../loadgen/types.js';
export type { Availability, RuntimeStatus, ServerProtocol };


/** The bare runtimes: a runtime plus the WebSocket library it serves with; what `all` means. */
export const BARE_RUNTIME_IDS = ['bun', 'node-ws', 'node-uws', 'deno'] as const;
export type BareRuntimeId = (typeof BARE_RUNTIME_IDS)[number];

/**
 * The stacks: Socket.IO 4.8 on a runtime's WebSockets (servers/CONTRACT.md, "Stacks"), on the same contract
 * as the bare runtimes so that what the framework costs can be read beside them; what `stacks` means.
 */
export const STACK_IDS = ['node-socketio', 'node-socketio-uws', 'bun-socketio'] as const;
export type StackId = (typeof STACK_IDS)[number];

/** Every registry id, bare runtimes first: what `--runtime` accepts. */
export const RUNTIME_IDS = [...BARE_RUNTIME_IDS, ...STACK_IDS] as const;
export type RuntimeId = (typeof RUNTIME_IDS)[number];

/**
 * Names for several ids at once in `--runtime`: `all` stays the four bare runtimes (the default run, whose
 * time would more than double with the stacks in it), `stacks` the three stacks; `all stacks` is all seven.
 */
export const RUNTIME_GROUPS: Readonly<Record<'all' | 'stacks', readonly RuntimeId[]>> = {
  all: BARE_RUNTIME_IDS,
  stacks: STACK_IDS,
};


/** What `/proc/<pid>/exe` of a server of this runtime must resolve to (its basename). */
export type RuntimeName = 'bun' | 'node' | 'deno';


/** Facts about the machine the CLI passes in, so that core code never reads `process` itself. */
export interface HostInfo {
  /** The Node binary that runs Node servers (the one on PATH that runs bench). */
  nodePath: string;
  /** process.versions.modules of that Node. */
  nodeAbi: string;
  platform: string;
  arch: string;
  /** The environment bench was started with; children inherit it (plus what the caller adds). */
  env: Readonly<Record<string, string | undefined>>;
}

export interface LaunchCommand {
  command: string;
  args: string[];
}

export interface RuntimeSpec {
  id: RuntimeId;
  /** Human label, e.g. "Node + ws". */
  label: string;
  runtime: RuntimeName;
  library: string;
  /** Compiled server entry point. */
  serverScript: string;
  /** Whether its process must have uWebSockets.js's native addon loaded (checked from /proc/<pid>/maps; false: must not). */
  uws: boolean;
  /** What the load generator must speak to it; a `socket.io` server's ready line must carry a `stack` manifest, a `websocket` one's must not. */
  protocol: ServerProtocol;
  /**
   * A stack's bare counterpart: the bare server on the same runtime and WebSocket library, so that the two
   * differ by the framework only (report/stacks.ts reads "what Socket.IO costs" from the pair); null for a bare runtime.
   */
  bare: BareRuntimeId | null;
  /** How to start the server; the child's pid is the runtime's own (no wrapper). */
  command(nodePath: string): LaunchCommand;
  /** Whether this runtime can run here; never throws. */
  probe(host: HostInfo): Promise<Availability>;
}

/** Node ABIs (process.versions.modules) for which uws-pack 20.0.8 ships a binary. */
export const UWS_SUPPORTED_ABIS: Record<string, string> = { '108': '18', '115': '20', '120': '21', '127': '22' };

function packageVersion(name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version;
  } catch {
    return undefined;
  }
}

async function versionOf(command: string, args: string[], pattern: RegExp): Promise<string | undefined> {
  const r = await execText(command, args, { timeoutMs: 15_000 });
  return r ? pattern.exec(r.stdout)?.[1] : undefined;
}

async function nodeVersion(nodePath: string): Promise<string | undefined> {
  return versionOf(nodePath, ['--version'], /v?(\d+\.\d+\.\d+)/);
}

const reinstall = 'run `npm ci` in the project folder (the bun and deno npm packages carry their binaries)';

/** Bun with its built-in WebSockets: the binary of the bun npm package. */
async function probeBun(): Promise<Availability> {
  const bin = path.join(binDir, 'bun');
  if (!existsSync(bin)) return { usable: false, reason: `no bun binary at ${bin}`, fix: reinstall };
  const v = await versionOf(bin, ['--version'], /(\d+\.\d+\.\d+\S*)/);
  if (!v) return { usable: false, reason: `${bin} --version failed`, fix: reinstall };
  return { usable: true, runtimeVersion: v, libraryVersion: v };
}

/** Node + ws: the Node on PATH and the ws package. */
async function probeNodeWs({ nodePath }: HostInfo): Promise<Availability> {
  const v = await nodeVersion(nodePath);
  const ws = packageVersion('ws');
  if (!v) return { usable: false, reason: `${nodePath} --version failed`, fix: 'install Node 18–22 on PATH' };
  if (!ws) return { usable: false, runtimeVersion: v, reason: 'the ws package is not installed', fix: reinstall };
  return { usable: true, runtimeVersion: v, libraryVersion: ws };
}

/** Node + uWebSockets.js: the Node ABI must have a uws-pack binary on this platform. */
async function probeNodeUws({ nodePath, nodeAbi, platform, arch }: HostInfo): Promise<Availability> {
  const v = await nodeVersion(nodePath);
  const pack = packageVersion('uWebSockets.js');
  if (!pack) return { usable: false, runtimeVersion: v, reason: 'uWebSockets.js (uws-pack) is not installed', fix: reinstall };
  if (!(nodeAbi in UWS_SUPPORTED_ABIS)) {
    return {
      usable: false,
      runtimeVersion: v,
      libraryVersion: pack,
      reason: `uWebSockets.js v20 (uws-pack ${pack}) has no binary for Node ${v ?? '?'} (ABI ${nodeAbi}); it ships binaries for Node 18, 20, 21 and 22 only`,
      fix: 'run bench with Node 18–22 on PATH (for example `nvm use 22`)',
    };
  }
  const binary = path.join(
    projectRoot,
    'node_modules',
    'uWebSockets.js',
    'dist',
    'bin',
    `uws_${platform}_${arch}_${nodeAbi}.node`,
  );
  if (!existsSync(binary)) {
    return {
      usable: false,
      runtimeVersion: v,
      libraryVersion: pack,
      reason: `uws-pack ${pack} has no binary for ${platform}-${arch}`,
      fix: 'use a platform uws-pack supports (linux/darwin x64/arm64, win32 x64)',
    };
  }
  return { usable: true, runtimeVersion: v, libraryVersion: `${pack} (uws-pack)` };
}


/**
 * A stack runs where its bare counterpart runs and its packages are installed; its library version reads
 * `4.8.4 (engine.io 6.6.13 on ws 8.23.0)`: Socket.IO, its engine, and the WebSocket library underneath.
 */
function probeStack(bare: (host: HostInfo) => Promise<Availability>, engine: 'engine.io' | '@socket.io/bun-engine', websockets: 'ws' | 'uWebSockets.js' | 'Bun') {
  return async (host: HostInfo): Promise<Availability> => {
    const base = await bare(host);
    if (!base.usable) return base;
    const sio = packageVersion('socket.io');
    const eng = packageVersion(engine);
    if (!sio || !eng) {
      return { usable: false, runtimeVersion: base.runtimeVersion, reason: `the ${!sio ? 'socket.io' : engine} package is not installed`, fix: reinstall };
    }
    return { usable: true, runtimeVersion: base.runtimeVersion, libraryVersion: `${sio} (${engine} ${eng} on ${websockets} ${base.libraryVersion ?? '?'})` };
  };
}

export const RUNTIMES: Record<RuntimeId, RuntimeSpec> = {
  bun: {
    id: 'bun',
    label: 'Bun.serve',
    runtime: 'bun',
    library: 'bun',
    serverScript: path.join(serversDir, 'bun.js'),
    uws: false,
    protocol: 'websocket',
    bare: null,
    command: () => ({ command: path.join(binDir, 'bun'), args: [path.join(serversDir, 'bun.js')] }),
    probe: probeBun,
  },
  'node-ws': {
    id: 'node-ws',
    label: 'Node + ws',
    runtime: 'node',
    library: 'ws',
    serverScript: path.join(serversDir, 'node-ws.js'),
    uws: false,
    protocol: 'websocket',
    bare: null,
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-ws.js')] }),
    probe: probeNodeWs,
  },
  'node-uws': {
    id: 'node-uws',
    label: 'Node + uWebSockets.js',
    runtime: 'node',
    library: 'uWebSockets.js',
    serverScript: path.join(serversDir, 'node-uws.js'),
    uws: true,
    protocol: 'websocket',
    bare: null,
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-uws.js')] }),
    probe: probeNodeUws,
  },
  deno: {
    id: 'deno',
    label: 'Deno.serve',
    runtime: 'deno',
    library: 'deno',
    serverScript: path.join(serversDir, 'deno.js'),
    uws: false,
    protocol: 'websocket',
    bare: null,
    command: () => ({
      command: path.join(binDir, 'deno'),
      // --no-prompt: a missing permission fails instead of waiting on a TTY prompt.
      args: ['run', '--no-prompt', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', path.join(serversDir, 'deno.js')],
    }),
    async probe() {
      const bin = path.join(binDir, 'deno');
      if (!existsSync(bin)) return { usable: false, reason: `no deno binary at ${bin}`, fix: reinstall };
      const v = await versionOf(bin, ['--version'], /deno (\d+\.\d+\.\d+\S*)/);
      if (!v) return { usable: false, reason: `${bin} --version failed`, fix: reinstall };
      return { usable: true, runtimeVersion: v, libraryVersion: v };
    },
  },
  'node-socketio': {
    id: 'node-socketio',
    label: 'Node + Socket.IO (engine.io on ws)',
    runtime: 'node',
    library: 'socket.io',
    serverScript: path.join(serversDir, 'node-socketio.js'),
    uws: false,
    protocol: 'socket.io',
    bare: 'node-ws',
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-socketio.js')] }),
    probe: probeStack(probeNodeWs, 'engine.io', 'ws'),
  },
  'node-socketio-uws': {
    id: 'node-socketio-uws',
    label: 'Node + Socket.IO (engine.io on uWebSockets.js)',
    runtime: 'node',
    library: 'socket.io',
    serverScript: path.join(serversDir, 'node-socketio-uws.js'),
    uws: true,
    protocol: 'socket.io',
    bare: 'node-uws',
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-socketio-uws.js')] }),
    probe: probeStack(probeNodeUws, 'engine.io', 'uWebSockets.js'),
  },
  'bun-socketio': {
    id: 'bun-socketio',
    label: 'Bun + Socket.IO (@socket.io/bun-engine)',
    runtime: 'bun',
    library: 'socket.io',
    serverScript: path.join(serversDir, 'bun-socketio.js'),
    uws: false,
    protocol: 'socket.io',
    bare: 'bun',
    command: () => ({ command: path.join(binDir, 'bun'), args: [path.join(serversDir, 'bun-socketio.js')] }),
    probe: probeStack(probeBun, '@socket.io/bun-engine', 'Bun'),
  },
};

export function isRuntimeId(s: string): s is RuntimeId {
  return (RUNTIME_IDS as readonly string[]).includes(s);
}

/** Whether a registry id is one of the four bare runtimes. */
export function isBareRuntimeId(s: string): s is BareRuntimeId {
  return (BARE_RUNTIME_IDS as readonly string[]).includes(s);
}

/** Whether a registry id is a stack (Socket.IO on a runtime) rather than a bare runtime. */
export function isStackId(s: string): s is StackId {
  return (STACK_IDS as readonly string[]).includes(s);
}

/**
 * What the load generator speaks to a server of the run: its registry entry's protocol; `websocket` for a
 * label that is not a registry id (a --target or --server-cmd server).
 */
export function protocolOf(label: string): ServerProtocol {
  const id = registryIdOf(label);
  return isRuntimeId(id) ? RUNTIMES[id].protocol : 'websocket';
}

/** Resolve a user-given id, or fail with the list of valid ones. */
export function parseRuntimeId(s: string): RuntimeId {
  if (isRuntimeId(s)) return s;
  throw new BenchError('E_UNKNOWN_RUNTIME', `unknown runtime ${quote(s)}`, {
    hint: `valid runtimes: ${RUNTIME_IDS.join(', ')} (or "all" for the bare four, "stacks" for the Socket.IO three)`,
  });
}

/** Expand the groups (`all`, `stacks`) and check every id; order is kept, duplicates removed. */
export function parseRuntimeList(items: readonly string[]): RuntimeId[] {
  const out: RuntimeId[] = [];
  for (const item of items.flatMap((s) => s.split(','))) {
    const ids = item === 'all' || item === 'stacks' ? [...RUNTIME_GROUPS[item]] : [parseRuntimeId(item)];
    for (const id of ids) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/**
 * The registry id behind a runtime label `<id>[@<version>][#<copy>]`: `bun`, a version of it, `bun@1.3.14`
 * (issue 17: core/runtime-versions resolves it), or a copy entered again for an A/A check, `bun#2` (the same
 * server under a second label, compared as if it were another runtime: the check that the method calls no
 * difference where there is none). Whatever follows the first `@` or `#` is not the id.
 */
export function registryIdOf(label: string): string {
  const end = label.search(/[@#]/);
  return end < 0 ? label : label.slice(0, end);
}

/**
 * Labels for `--runtime` items with A/A copies kept: a group (`all`, `stacks`) expands to its ids once; an item
 * named again becomes `item#2`, `item#3`…, and `item#name` is a copy under that name. An item may name a version,
 * `bun@1.3.14`, `node-ws@24`, `node-ws@system`: kept as written here (its syntax is checked and it is resolved to
 * an exact version by core/runtime-versions before the run). Unknown ids are refused (E_UNKNOWN_RUNTIME).
 */
export function parseRuntimeLabels(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of items.flatMap((s) => s.split(',')).filter((s) => s.length > 0)) {
    if (item === 'all' || item === 'stacks') {
      for (const id of RUNTIME_GROUPS[item]) if (!out.includes(id)) out.push(id);
      continue;
    }
    parseRuntimeId(registryIdOf(item));
    const hash = item.indexOf('#');
    const base = hash < 0 ? item : item.slice(0, hash);
    let label = item;
    for (let n = 2; out.includes(label); n++) label = `${base}#${n}`;
    out.push(label);
  }
  return out;
}


/** A runtime's status as probed here: the stored RuntimeStatus, its id one of the registry's. */
export interface RuntimeProbe extends RuntimeStatus {
  id: RuntimeId;
}

/** Probe every runtime (in parallel; each probe is a `--version` call). */
export async function probeRuntimes(host: HostInfo): Promise<RuntimeProbe[]> {
  return Promise.all(RUNTIME_IDS.map(async (id) => ({ id, label: RUNTIMES[id].label, ...(await RUNTIMES[id].probe(host)) })),
  );
}
