import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ProcReading } from '../schema/result.js';
export type { ProcReading };

/**
 * Reads a process from the outside through /proc, so that what is measured or
 * checked does not depend on what the process says about itself.
 */

/** Whether a pid exists (and is not a zombie we already reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers kill(0); it has no live process behind it.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The resolved path of the process's executable, e.g. /usr/bin/node. */
export function exePath(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** Paths of shared objects mapped into the process (for example a native addon). */
export function mappedFiles(pid: number): string[] {
  try {
    const out = new Set<string>();
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const i = line.indexOf('/');
      if (i >= 0) out.add(line.slice(i));
    }
    return [...out];
  } catch {
    return [];
  }
}

/** The runtime an executable is, judged by its file name (bun ships as bun.exe in the npm package). */
export function runtimeOfExe(exe: string): 'node' | 'bun' | 'deno' | undefined {
  const base = path.basename(exe).replace(/\.exe$/, '');
  if (base === 'node' || base.startsWith('node')) return 'node';
  if (base === 'bun') return 'bun';
  if (base === 'deno') return 'deno';
  return undefined;
}

/** Whether the process has uWebSockets.js's native addon loaded. */
export function hasUwsLoaded(pid: number): boolean {
  return mappedFiles(pid).some((f) => /uws_[a-z0-9]+_[a-z0-9]+_\d+\.node$/.test(f));
}

/** CPU affinity list of every thread (Cpus_allowed_list), keyed by thread id. */
export function threadAffinities(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      if (m?.[1]) out.set(Number(tid), m[1]);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** Clock ticks per second for /proc/<pid>/stat times; USER_HZ is 100 on every Linux architecture we run on. */
export const USER_HZ = 100;


/** Σ over the process's live threads of their run time (the first field of /proc/<pid>/task/<tid>/schedstat), ns. */
export function taskRunTimeNs(pid: number): number | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  let total = 0;
  for (const tid of tids) {
    try {
      const first = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
      total += Number(first.slice(0, first.indexOf(' ')));
    } catch {
      // the thread ended between readdir and read: its time is lost here, which cpuUsBetween detects
    }
  }
  return Number.isFinite(total) ? total : undefined;
}

/** Reads CPU time (all threads, including exited ones), RSS, peak RSS, threads and open fds; undefined once the process is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state = field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      fds = -1;
    }
    const precise = taskRunTimeNs(pid);
    return {
      cpuUserUs: (utime * 1e6) / USER_HZ,
      cpuSystemUs: (stime * 1e6) / USER_HZ,
      ...(precise !== undefined ? { cpuPreciseUs: precise / 1000 } : {}),
      rssBytes: kb('VmRSS'),
      peakRssBytes: kb('VmHWM'),
      threads,
      fds,
    };
  } catch {
    return undefined;
  }
}

/** Kernel TCP socket figures for the whole machine, from /proc/net/sockstat (RSS does not include socket buffers). */
export interface SockStat {
  tcpInUse: number;
  tcpTimeWait: number;
  tcpAlloc: number;
  /** Pages of kernel memory used by TCP sockets, in bytes. */
  tcpMemBytes: number;
}

export function readSockStat(pageBytes = 4096): SockStat | undefined {
  try {
    const text = readFileSync('/proc/net/sockstat', 'utf8');
    const line = /^TCP: (.*)$/m.exec(text)?.[1] ?? '';
    const get = (k: string) => Number(new RegExp(`\\b${k} (\\d+)`).exec(line)?.[1] ?? 0);
    return { tcpInUse: get('inuse'), tcpTimeWait: get('tw'), tcpAlloc: get('alloc'), tcpMemBytes: get('mem') * pageBytes };
  } catch {
    return undefined;
  }
}

/** RSS and cumulative CPU time from /proc/<pid>/stat alone: one small read, cheap enough for 10 samples a second at 20k fds (readProc lists every fd). */
export interface RssCpuReading {
  rssBytes: number;
  cpuUs: number;
}

export function readRssCpu(pid: number, pageBytes = 4096): RssCpuReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (f[0] === 'Z') return undefined;
    // Fields from state (3): utime 14, stime 15, rss 24 (pages).
    return { cpuUs: ((Number(f[11]) + Number(f[12])) * 1e6) / USER_HZ, rssBytes: Number(f[21]) * pageBytes };
  } catch {
    return undefined;
  }
}

/** The soft open-file limit of a process (RLIMIT_NOFILE, /proc/<pid>/limits); null when unlimited or unreadable. */
export function processOpenFileLimit(pid: number): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m?.[1] && m[1] !== 'unlimited' ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Bytes of kernel slab objects in use on the whole machine (Σ active objects × object size, /proc/slabinfo):
 * where the kernel keeps sockets themselves (TCP ~2.4 KiB, inode, file, epoll entry), which neither RSS nor
 * sockstat's buffer pages include. /proc/slabinfo is readable by root only: undefined otherwise.
 */
export function readSlabObjectBytes(): number | undefined {
  try {
    let total = 0;
    for (const line of readFileSync('/proc/slabinfo', 'utf8').split('\n')) {
      if (line.startsWith('#') || line.startsWith('slabinfo')) continue;
      const f = line.split(/\s+/);
      const active = Number(f[1]);
      const size = Number(f[3]);
      if (Number.isFinite(active) && Number.isFinite(size)) total += active * size;
    }
    return total > 0 ? total : undefined;
  } catch {
    return undefined;
  }
}

/** Inodes of sockets listening on `port` (TCP over IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number): Set<string> {
  const out = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is the 10th field.
      if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') out.add(f[9]!);
    }
  }
  return out;
}

/** Pids whose process group is `pgid` (a process and everything it started in its group). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state, ppid, pgrp.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push(Number(name));
    } catch {
      // it ended meanwhile
    }
  }
  return out;
}

/**
 * The process of group `pgid` that owns a socket listening on `port`: the server behind a wrapper
 * (a shell script, npx, a process manager that stays in the group). Undefined when none is found.
 */
export function listeningPid(port: number, pgid: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const pid of groupMembers(pgid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return pid;
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined;
}
