/**
 * The host facts runtime resolution needs (catalog.ts PlatformFacts), read from the current process and
 * /proc/cpuinfo. Like core/host.ts this is a place the CLI calls and passes the result down; it belongs beside
 * currentHost() there once the registry refactor settles.
 */
import { readFileSync } from 'node:fs';
import type { PlatformFacts } from './catalog.js';

/** The `flags` line of /proc/cpuinfo has `avx2` on CPUs that have it (every logical CPU lists the same flags). */
export function cpuinfoHasAvx2(cpuinfo: string): boolean {
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? '';
  return flags.split(/\s+/).includes('avx2');
}

/** The glibc version from a diagnostic report's header (`glibcVersionRuntime`, absent on musl and non-Linux). */
export function glibcFromReport(report: unknown): string | null {
  const v = (report as { header?: { glibcVersionRuntime?: unknown } } | null)?.header?.glibcVersionRuntime;
  return typeof v === 'string' && /^\d+\.\d+/.test(v) ? v : null;
}

export function currentPlatformFacts(): PlatformFacts {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: Bun's x64 build choice then assumes AVX2, as its own installer does on macOS
    cpuinfo = 'flags : avx2';
  }
  return {
    platform: process.platform,
    arch: process.arch,
    glibcVersion: process.platform === 'linux' ? glibcFromReport(process.report?.getReport()) : null,
    avx2: cpuinfoHasAvx2(cpuinfo),
  };
}
