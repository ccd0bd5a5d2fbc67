import Table from 'cli-table3';
import { BenchError, ExitCode } from '../../base/errors.js';
import path from 'node:path';
import { BARE_RUNTIME_IDS, RUNTIMES, isStackId, probeRuntimes, type BareRuntimeId, type RuntimeId } from '../../core/runtimes.js';
import { folderBytes, listCache } from '../../core/runtime-versions/cache.js';
import { RUNTIME_OF, runtimePackage } from '../../core/runtime-versions/catalog.js';
import { labelRequest } from '../../core/runtime-versions/labels.js';
import { inspectRuntime, type RuntimeState } from '../../core/runtime-versions/resolve.js';
import { runtimeDeps } from '../runtime-deps.js';
import { builtinScenarios, expandCases } from '../../core/scenario.js';
import { MODELS } from '../../loadgen/models/index.js';
import type { Io } from '../io.js';

const WHATS = ['runtimes', 'scenarios'] as const;

export async function listCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const what = args[0];
  if (what === 'runtimes') return listRuntimes(opts, io);
  if (what === 'scenarios') return listScenarios(opts, io);
  throw new BenchError('E_USAGE', `cannot list "${what}"`, { hint: `bench list ${WHATS.join('|')}` });
}

async function listRuntimes(opts: Record<string, unknown>, io: Io): Promise<number> {
  const statuses = await probeRuntimes(io.host);
  // What plain ids run (the pinned defaults) and what the cache holds: looked at, never installed.
  const deps = runtimeDeps(io, false);
  const defaults = await Promise.all(BARE_RUNTIME_IDS.map((id) => inspectRuntime(labelRequest(id, deps.defaultNode).request, deps)));
  const cached = listCache(deps.cacheRoot);
  if (opts['json']) {
    // One entry per registry runtime, as before; a bare runtime's also says what its plain id runs and which of its versions are cached.
    const rows = statuses.map((s) => {
      const at = (BARE_RUNTIME_IDS as readonly string[]).indexOf(s.id);
      if (at < 0) return s;
      const id = BARE_RUNTIME_IDS[at]!;
      const pkg = runtimePackage(RUNTIME_OF[id], deps.facts);
      const mine = cached.filter((e) => (e.kind === 'runtime' ? pkg.ok && e.manifest?.name === pkg.value.cacheName : id === 'node-uws'));
      return { ...s, default: stateJson(defaults[at]!), cached: mine.map((e) => ({ dir: e.dir, ...(e.manifest ? { manifest: e.manifest } : {}), ...(e.problem ? { problem: e.problem } : {}) })) };
    });
    io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return ExitCode.ok;
  }
  const table = new Table({ head: ['runtime', 'server', 'usable', 'runtime version', 'library version', 'note'], style: { head: [], border: [] } });
  // A Node runtime probed here is the Node on PATH: named as what runs it (node-ws@system), so its version is not
  // read as what plain node-ws runs (the table below says that).
  const onNode = (id: string): boolean => {
    const bare = isStackId(id) ? RUNTIMES[id].bare : (id as RuntimeId);
    return bare !== null && (BARE_RUNTIME_IDS as readonly string[]).includes(bare) && RUNTIME_OF[bare as BareRuntimeId] === 'node';
  };
  for (const s of statuses) {
    table.push([onNode(s.id) ? `${s.id}@system` : s.id, s.label, s.usable ? 'yes' : 'no', s.runtimeVersion ?? '-', s.libraryVersion ?? '-', s.usable ? '' : `${s.reason}\nfix: ${s.fix}`]);
  }
  io.stdout.write('Probed here (the Node runtimes on the Node on PATH, as <id>@system runs them; bun and deno: the project\'s):\n');
  io.stdout.write(table.toString() + '\n');
  const versions = new Table({ head: ['plain id', 'runs', 'state', 'binary, or what it needs'], style: { head: [], border: [] } });
  for (const d of defaults) {
    if (d.state === 'ready') versions.push([d.request, d.resolved.key, `ready (${d.resolved.source})`, d.resolved.binaryPath]);
    else if (d.state === 'missing') versions.push([d.request, '', 'not installed', `${d.error.needs.map((n) => `${n.spec} into ${n.dir}`).join('\n')}\ninstalled with npm on first use, or: npm run runtimes:install -- ${d.request}`]);
    else versions.push([d.request, '', d.state, `${d.error.code}: ${d.error.message}${d.error.hint ? `\nfix: ${d.error.hint}` : ''}`]);
  }
  const how = deps.defaultNode === 'system' ? ' (BENCH_DEFAULT_NODE=system: plain Node ids run the Node on PATH)' : '';
  io.stdout.write(`\nWhat plain ids run${how}; <id>@<version> runs another version (bench run --help):\n${versions.toString()}\n`);
  if (cached.length === 0) {
    io.stdout.write(`\nNothing cached in ${deps.cacheRoot} (BENCH_CACHE_DIR moves it).\n`);
    return ExitCode.ok;
  }
  const cache = new Table({ head: ['cached', 'package', 'size', 'installed'], style: { head: [], border: [] } });
  for (const e of cached) {
    const name = path.relative(deps.cacheRoot, e.dir);
    if (e.problem !== undefined || !e.manifest) cache.push([name, e.manifest?.package ?? '-', '-', `unusable: ${e.problem ?? 'no manifest'}`]);
    else cache.push([name, e.manifest.package, `${Math.round(folderBytes(e.dir) / 1e6)} MB`, e.manifest.installedAt.slice(0, 16).replace('T', ' ')]);
  }
  io.stdout.write(`\nCached in ${deps.cacheRoot}:\n${cache.toString()}\n`);
  return ExitCode.ok;
}

/** A RuntimeState as JSON: the resolved runtime, or the error with what a missing one needs. */
function stateJson(s: RuntimeState): Record<string, unknown> {
  if (s.state === 'ready') return { request: s.request, state: s.state, resolved: s.resolved };
  const error = { code: s.error.code, message: s.error.message, ...(s.error.hint ? { hint: s.error.hint } : {}) };
  return { request: s.request, state: s.state, error, ...(s.state === 'missing' ? { needs: s.error.needs } : {}) };
}

function listScenarios(opts: Record<string, unknown>, io: Io): number {
  const all = builtinScenarios();
  if (opts['json']) {
    io.stdout.write(JSON.stringify(all, null, 2) + '\n');
    return ExitCode.ok;
  }
  const lines: string[] = [];
  for (const s of all) {
    const model = String(s.load['model']) as keyof typeof MODELS;
    lines.push(`${s.name}${s.default ? '  (default)' : ''}`);
    lines.push(`  ${s.connections} connections · ${s.route} · ${MODELS[model].description}`);
    lines.push(`  cases: ${expandCases(s).map((c) => c.name).join(', ')} · warmup ${s.warmupSec} s, measured ${s.durationSec} s`);
    lines.push(...wrap(s.description, 100).map((l) => `  ${l}`));
    lines.push(`  file: ${s.source}`, '');
  }
  io.stdout.write(lines.join('\n'));
  return ExitCode.ok;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
