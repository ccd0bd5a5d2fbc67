import type { HostInfo } from './runtimes.js';

/**
 * The one place core code reads facts about the current Node process; the CLI
 * calls it and passes the result down, and tests pass their own.
 */
export function currentHost(): HostInfo {
  return {
    nodePath: process.execPath,
    nodeAbi: process.versions.modules,
    platform: process.platform,
    arch: process.arch,
    env: { ...process.env },
  };
}
