// Installs runtime versions into bench's cache ahead of a run (CI, or before going offline), with npm:
//
//   npm run runtimes:install                         # every runtime's pinned default (what plain ids mean)
//   npm run runtimes:install -- node-ws@22 bun@1.3.14 deno@2.8
//   npm run runtimes:install -- --list               # what is cached, and where
//
// The cache is $BENCH_CACHE_DIR, else $XDG_CACHE_HOME/bench, else ~/.cache/bench. Versions the project's
// node_modules already holds (bun and deno's defaults, uws-pack) are used from there and not copied.
// Exit codes as bench's: 0 done, 2 a bad or unsupported request, 3 an install or verification failed.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, ExitCode, formatError } from '../base/errors.js';
import { projectRoot } from '../core/paths.js';
import { cacheRootFrom, folderBytes, listCache, removeStaleTemp } from '../core/runtime-versions/cache.js';
import { currentPlatformFacts } from '../core/runtime-versions/host-facts.js';
import { execRunner, npmClient } from '../core/runtime-versions/npm.js';
import { defaultNodeFrom, labelRequest } from '../core/runtime-versions/labels.js';
import { parseRuntimeLabels } from '../core/runtimes.js';
import { resolveRuntime } from '../core/runtime-versions/resolve.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { list: { type: 'boolean', default: false } } });
const cacheRoot = cacheRootFrom(process.env, os.homedir());

if (values.list) {
  const entries = listCache(cacheRoot);
  if (entries.length === 0) process.stdout.write(`nothing cached in ${cacheRoot}\n`);
  for (const e of entries) {
    const size = e.problem === undefined ? `${(folderBytes(e.dir) / 1e6).toFixed(0)} MB` : '-';
    process.stdout.write(`${path.relative(cacheRoot, e.dir).padEnd(48)} ${size.padStart(7)}  ${e.problem ?? `${e.manifest!.package} ${e.manifest!.integrity ?? ''}`}\n`);
  }
  process.exit(ExitCode.ok);
}

let code: number = ExitCode.ok;
try {
  await removeStaleTemp(cacheRoot, Date.now());
  // Labels as bench run takes them (stacks install their bare runtime's binary); BENCH_DEFAULT_NODE as bench reads it.
  const defaultNode = defaultNodeFrom(process.env);
  const requests = parseRuntimeLabels(positionals.length > 0 ? positionals : ['all']).map((l) => labelRequest(l, defaultNode).request);
  const deps = {
    npm: npmClient(),
    runner: execRunner,
    facts: currentPlatformFacts(),
    cacheRoot,
    projectRoot,
    systemNodePath: process.execPath,
    install: true,
    log: (line: string) => process.stderr.write(line + '\n'),
  };
  for (const req of requests) {
    try {
      const r = await resolveRuntime(req, deps);
      const lib = r.library.package ? `${r.library.name} ${r.library.version} (${r.library.package}, ${r.library.source})` : `${r.library.name} ${r.library.version}`;
      process.stdout.write(`${r.request.padEnd(16)} ${r.key.padEnd(22)} ${r.source.padEnd(8)} ${r.binaryPath}\n${''.padEnd(16)} library: ${lib}\n`);
      for (const note of r.notes) process.stderr.write(`note: ${note}\n`);
    } catch (e) {
      if (!(e instanceof BenchError)) throw e;
      process.stderr.write(formatError(e));
      code = Math.max(code, e.exitCode);
    }
  }
} catch (e) {
  if (!(e instanceof BenchError)) throw e;
  process.stderr.write(formatError(e));
  code = e.exitCode;
}
process.exit(code);
