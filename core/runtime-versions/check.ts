/**
 * Checks from outside, after a server started, that it runs on the resolved binaries: `/proc/<pid>/exe` is the
 * binary bench resolved (not merely "a node"), and a node-uws server has the resolved build's addon mapped.
 * Pure over two readers, so that tests pass fixed answers; core/procfs.ts provides the real ones.
 */
import path from 'node:path';
import type { ResolvedRuntime } from './resolve.js';

export interface ProcessReaders {
  /** readlink of /proc/<pid>/exe (procfs.ts exePath). */
  exePath(pid: number): string | undefined;
  /** Files mapped into the process (procfs.ts mappedFiles). */
  mappedFiles(pid: number): string[];
}

export type ProcessCheck = { ok: true } | { ok: false; problem: string };

const UWS_ADDON = /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/;

/**
 * Whether process `pid` is `resolved`'s binary (and, for node-uws, has its uWebSockets.js addon loaded from the
 * resolved package folder). The kernel appends " (deleted)" to the exe link when the file was removed or replaced
 * after exec: that is a mismatch too, since what ran is no longer what the cache holds.
 */
export function checkServerProcess(pid: number, resolved: Pick<ResolvedRuntime, 'id' | 'key' | 'binaryPath' | 'library'>, read: ProcessReaders): ProcessCheck {
  const exe = read.exePath(pid);
  if (exe === undefined) return { ok: false, problem: `cannot read /proc/${pid}/exe (the process is gone, or not ours)` };
  if (exe !== resolved.binaryPath) {
    return { ok: false, problem: `${resolved.key} server (pid ${pid}) runs ${exe}, not the resolved ${resolved.binaryPath}` };
  }
  if (resolved.id === 'node-uws') {
    const addons = read.mappedFiles(pid).filter((f) => UWS_ADDON.test(f));
    const dir = resolved.library.dir;
    if (addons.length === 0) return { ok: false, problem: `${resolved.key} server (pid ${pid}) has no uWebSockets.js addon loaded` };
    if (dir !== undefined && !addons.some((f) => f.startsWith(dir + path.sep))) {
      return { ok: false, problem: `${resolved.key} server (pid ${pid}) loaded ${addons.join(', ')}, not an addon of ${resolved.library.package}@${resolved.library.version} in ${dir}` };
    }
  }
  return { ok: true };
}
