import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Environment } from '../schema/result.js';
import { ephemeralPortRange, openFileHardLimit, openFileLimit, readHostFacts } from './environment.js';

/**
 * What a load segment reads about its own machine before it starts (issue 16): the kernel limits its
 * connections run into, and the facts of its host that a merged result records. A few /proc reads, nothing
 * started; the rules that judge them are cli/checks.ts's (`segmentKernelLimits`).
 */

/** The kernel limits a load segment's connections meet. Null: unreadable here (or unlimited). */
export interface KernelFacts {
  /** Soft and hard RLIMIT_NOFILE of this process (its workers inherit them). */
  openFileLimit: number | null;
  openFileHardLimit: number | null;
  /** net.ipv4.ip_local_port_range of this network namespace. */
  ephemeralPortRange: [number, number] | null;
  /**
   * net.netfilter.nf_conntrack_max and the entries in use (nf_conntrack_count, this namespace's): present only
   * where the conntrack module is loaded. When the table is full the kernel drops new connections' packets
   * ("nf_conntrack: table full, dropping packet"), which a client sees as connect timeouts.
   */
  conntrackMax: number | null;
  conntrackCount: number | null;
}

function readNumber(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

/** This process's kernel facts, read now. */
export function readKernelFacts(): KernelFacts {
  return {
    openFileLimit: openFileLimit(),
    openFileHardLimit: openFileHardLimit(),
    ephemeralPortRange: ephemeralPortRange(),
    conntrackMax: readNumber('/proc/sys/net/netfilter/nf_conntrack_max'),
    conntrackCount: readNumber('/proc/sys/net/netfilter/nf_conntrack_count'),
  };
}

/** A load host's facts for a merged result: the Environment without the runtimes (the server runs elsewhere) and the build. */
export type LoadHostFacts = Omit<Environment, 'runtimes' | 'toolVersion' | 'gitRevision' | 'gitDirty'>;

/**
 * The facts of this load host, cheaply: captureEnvironment (core/environment.ts) also probes every runtime,
 * which takes seconds and starts processes a segment has no use for.
 */
export function readLoadHostFacts(host: { platform: string; arch: string }): LoadHostFacts {
  return readHostFacts(host, process.versions.node);
}
