import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execText } from './process.js';
import { BenchError } from '../base/errors.js';
import { quote } from '../base/validate.js';
import { binDir, projectRoot, serversDir } from './paths.js';
import type { Availability, RuntimeStatus } from '../schema/result.js';
export type { Availability, RuntimeStatus };


/** Registry ids: a runtime plus the WebSocket library it serves with. */
export const RUNTIME_IDS = ['bun', 'node-ws', 'node-uws', 'deno'] as const;
export type RuntimeId = (typeof RUNTIME_IDS)[number];

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

export const RUNTIMES: Record<RuntimeId, RuntimeSpec> = {
  bun: {
    id: 'bun',
    label: 'Bun.serve',
    runtime: 'bun',
    library: 'bun',
    serverScript: path.join(serversDir, 'bun.js'),
    uws: false,
    command: () => ({ command: path.join(binDir, 'bun'), args: [path.join(serversDir, 'bun.js')] }),
    async probe() {
      const bin = path.join(binDir, 'bun');
      if (!existsSync(bin)) return { usable: false, reason: `no bun binary at ${bin}`, fix: reinstall };
      const v = await versionOf(bin, ['--version'], /(\d+\.\d+\.\d+\S*)/);
      if (!v) return { usable: false, reason: `${bin} --version failed`, fix: reinstall };
      return { usable: true, runtimeVersion: v, libraryVersion: v };
    },
  },
  'node-ws': {
    id: 'node-ws',
    label: 'Node + ws',
    runtime: 'node',
    library: 'ws',
    serverScript: path.join(serversDir, 'node-ws.js'),
    uws: false,
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-ws.js')] }),
    async probe({ nodePath }) {
      const v = await nodeVersion(nodePath);
      const ws = packageVersion('ws');
      if (!v) return { usable: false, reason: `${nodePath} --version failed`, fix: 'install Node 18–22 on PATH' };
      if (!ws) return { usable: false, runtimeVersion: v, reason: 'the ws package is not installed', fix: reinstall };
      return { usable: true, runtimeVersion: v, libraryVersion: ws };
    },
  },
  'node-uws': {
    id: 'node-uws',
    label: 'Node + uWebSockets.js',
    runtime: 'node',
    library: 'uWebSockets.js',
    serverScript: path.join(serversDir, 'node-uws.js'),
    uws: true,
    command: (nodePath) => ({ command: nodePath, args: [path.join(serversDir, 'node-uws.js')] }),
    async probe({ nodePath, nodeAbi, platform, arch }) {
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
    },
  },
  deno: {
    id: 'deno',
    label: 'Deno.serve',
    runtime: 'deno',
    library: 'deno',
    serverScript: path.join(serversDir, 'deno.js'),
    uws: false,
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
};

export function isRuntimeId(s: string): s is RuntimeId {
  return (RUNTIME_IDS as readonly string[]).includes(s);
}

/** Resolve a user-given id, or fail with the list of valid ones. */
export function parseRuntimeId(s: string): RuntimeId {
  if (isRuntimeId(s)) return s;
  throw new BenchError('E_UNKNOWN_RUNTIME', `unknown runtime ${quote(s)}`, {
    hint: `valid runtimes: ${RUNTIME_IDS.join(', ')} (or "all")`,
  });
}

/** Expand `all` and check every id; order is kept, duplicates removed. */
export function parseRuntimeList(items: readonly string[]): RuntimeId[] {
  const out: RuntimeId[] = [];
  for (const item of items.flatMap((s) => s.split(','))) {
    const ids = item === 'all' ? [...RUNTIME_IDS] : [parseRuntimeId(item)];
    for (const id of ids) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/**
 * The registry id behind a runtime label: `bun`, or a copy entered again for an A/A check, `bun#2` (the same
 * server under a second label, compared as if it were another runtime: the check that the method calls no
 * difference where there is none).
 */
export function registryIdOf(label: string): string {
  const hash = label.indexOf('#');
  return hash < 0 ? label : label.slice(0, hash);
}

/**
 * Labels for `--runtime` items with A/A copies kept: `all` expands to every id once; an id named again becomes
 * `id#2`, `id#3`…, and `id#name` is a copy under that name. Unknown ids are refused (E_UNKNOWN_RUNTIME).
 */
export function parseRuntimeLabels(items: readonly string[]): string[] {
  const out: string[] = [];
  for (const item of items.flatMap((s) => s.split(',')).filter((s) => s.length > 0)) {
    if (item === 'all') {
      for (const id of RUNTIME_IDS) if (!out.includes(id)) out.push(id);
      continue;
    }
    const id = parseRuntimeId(registryIdOf(item));
    let label = item.includes('#') ? item : id;
    for (let n = 2; out.includes(label); n++) label = `${id}#${n}`;
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
