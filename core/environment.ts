import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { execText } from './process.js';
import { expandCpuList } from '../base/cpus.js';
import { projectRoot } from './paths.js';
import { probeRuntimes, type HostInfo, type RuntimeStatus } from './runtimes.js';
import type { Environment } from '../schema/result.js';
export type { Environment };



function readOr<T>(file: string, parse: (s: string) => T, fallback: T): T {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch {
    return fallback;
  }
}

export function openFileLimit(): number | null {
  return readOr('/proc/self/limits', (s) => {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(s);
    return m?.[1] && m[1] !== 'unlimited' ? Number(m[1]) : null;
  }, null);
}

/** The hard open-file limit (the most a process may raise its soft limit to without privilege); null = unlimited or unknown. */
export function openFileHardLimit(): number | null {
  return readOr('/proc/self/limits', (s) => {
    const m = /^Max open files\s+\S+\s+(\d+|unlimited)/m.exec(s);
    return m?.[1] && m[1] !== 'unlimited' ? Number(m[1]) : null;
  }, null);
}

/**
 * What the checks before a command starts (cli/checks.ts) need to know about this machine: the CPUs this
 * process may use, its open-file limits (servers and workers inherit them), the ephemeral port range, the
 * machine's own addresses, and whether a pid exists. Cheap: a few /proc reads, no process started.
 */
export interface MachineFacts {
  /** Cpus_allowed_list of this process, expanded; empty when unknown. */
  allowedCpus: number[];
  /** Soft RLIMIT_NOFILE; null = unlimited or unknown. */
  openFileLimit: number | null;
  /** Hard RLIMIT_NOFILE; null = unlimited or unknown. */
  openFileHardLimit: number | null;
  /** net.ipv4.ip_local_port_range; null = unknown. */
  ephemeralPortRange: [number, number] | null;
  /** Every address of this machine's interfaces (os.networkInterfaces). */
  localAddresses: string[];
  /** Whether a process with this pid exists now. */
  pidExists(pid: number): boolean;
}

/** This machine's facts, read now. */
export function readMachineFacts(): MachineFacts {
  const allowed = allowedCpus();
  return {
    allowedCpus: allowed ? expandCpuList(allowed) : [],
    openFileLimit: openFileLimit(),
    openFileHardLimit: openFileHardLimit(),
    ephemeralPortRange: ephemeralPortRange(),
    localAddresses: Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)),
    pidExists: (pid) => existsSync(`/proc/${pid}`),
  };
}

export function ephemeralPortRange(): [number, number] | null {
  return readOr('/proc/sys/net/ipv4/ip_local_port_range', (s) => {
    const [a, b] = s.trim().split(/\s+/).map(Number);
    return a && b ? ([a, b] as [number, number]) : null;
  }, null);
}

export function allowedCpus(): string {
  return readOr('/proc/self/status', (s) => /Cpus_allowed_list:\s*(\S+)/.exec(s)?.[1] ?? '', '');
}

async function git(args: string[]): Promise<string | null> {
  const r = await execText('git', args, { cwd: projectRoot, timeoutMs: 5000 });
  return r ? r.stdout.trim() : null;
}

export async function captureEnvironment(host: HostInfo, toolVersion: string): Promise<Environment> {
  const [runtimes, rev, status] = await Promise.all([
    probeRuntimes(host),
    git(['rev-parse', 'HEAD']),
    git(['status', '--porcelain', '--untracked-files=no']),
  ]);
  return {
    // The probe's node-ws is the Node on PATH, host.nodePath: the one running bench and its load generator.
    ...readHostFacts(host, runtimes.find((r) => r.id === 'node-ws')?.runtimeVersion ?? 'unknown'),
    runtimes,
    toolVersion,
    gitRevision: rev,
    gitDirty: status === null ? null : status.length > 0,
  };
}

/**
 * This host's facts as an environment block records them (CPU, kernel, memory, limits, ports, governor), with
 * `nodeVersion` the Node that runs bench and its load generator (for a segment, the segment's own:
 * kernel-limits.ts). Reads /proc, /sys and os.
 */
export function readHostFacts(host: { platform: string; arch: string }, nodeVersion: string): Omit<Environment, 'runtimes' | 'toolVersion' | 'gitRevision' | 'gitDirty'> {
  return {
    hostname: os.hostname(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    logicalCpus: os.cpus().length,
    allowedCpus: allowedCpus(),
    kernel: `${os.type()} ${os.release()}`,
    platform: host.platform,
    arch: host.arch,
    memoryBytes: os.totalmem(),
    openFileLimit: openFileLimit(),
    ephemeralPortRange: ephemeralPortRange(),
    cpuGovernor: readOr('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor', (s) => s.trim(), null),
    nodeVersion,
  };
}
