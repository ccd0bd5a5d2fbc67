// What resolving runtime versions needs from the outside world, built once from the Io for the commands that
// resolve (run, list, doctor, serve): npm and the binaries themselves, this host's platform facts, the cache
// root (BENCH_CACHE_DIR, XDG_CACHE_HOME, ~/.cache/bench) and what plain Node ids mean (BENCH_DEFAULT_NODE).
import os from 'node:os';
import { projectRoot } from '../core/paths.js';
import { cacheRootFrom } from '../core/runtime-versions/cache.js';
import { currentPlatformFacts } from '../core/runtime-versions/host-facts.js';
import { defaultNodeFrom, type DefaultNode } from '../core/runtime-versions/labels.js';
import { execRunner, npmClient } from '../core/runtime-versions/npm.js';
import type { ResolveDeps } from '../core/runtime-versions/resolve.js';
import type { Io } from './io.js';

/** The environment bench was started with: the host's, with the Io's own on top (tests pass theirs there). */
export function envOf(io: Io): Readonly<Record<string, string | undefined>> {
  return { ...io.host.env, ...io.env };
}

/**
 * Resolution deps for a command: `install` says whether a missing version may be installed with npm (run,
 * serve) or only reported (list, doctor). Progress lines go to stderr.
 * @throws BenchError E_USAGE for a bad BENCH_DEFAULT_NODE
 */
export function runtimeDeps(io: Io, install: boolean): ResolveDeps & { defaultNode: DefaultNode } {
  const env = envOf(io);
  return {
    npm: npmClient(),
    runner: execRunner,
    facts: currentPlatformFacts(),
    cacheRoot: cacheRootFrom(env, os.homedir()),
    projectRoot,
    systemNodePath: io.host.nodePath,
    install,
    log: (line) => io.stderr.write(`${line}\n`),
    defaultNode: defaultNodeFrom(env),
  };
}
