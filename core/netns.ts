import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BenchError } from '../base/errors.js';
import { DEFAULT_GRACE_MS, execCapture, spawnManaged, type ManagedProcess } from './process.js';

/**
 * Several "hosts" on one machine, for the multi-host simulation of issue 16: each host is a Linux network
 * namespace with its own address, its own loopback, its own ephemeral ports and its own per-namespace
 * sysctls; all hosts hang off one bridge that lives in a namespace of its own, so nothing of the simulation
 * appears in the root namespace (no interface, no address, no route) and no packet can leave the machine.
 *
 *     ns <p>-sw:  br0 ── h0 ─┐ ── h1 ─┐ ── …        (bridge and the switch-side veth ends)
 *                           │       │
 *     ns <p>-h0:  lo, eth0 10.77.0.1/24   ns <p>-h1:  lo, eth0 10.77.0.2/24   …
 *
 * Every veth pair is created inside the switch namespace with its peer put straight into the host's
 * namespace (`ip -n SW link add hK type veth peer name eth0 netns HK`), so interface names only have to be
 * unique per namespace and deleting the namespaces deletes every interface.
 *
 * Names carry a run-unique prefix `<prefix>-<pid>-<random>`: `<pid>` is the process that made them, so a
 * later run can tell a crashed run's namespaces (creator gone) from a concurrent run's (creator alive) and
 * remove only the former (`removeStaleNamespaces`, called by createHosts).
 *
 * Processes start through core/process.ts only: what runs inside a host (`exec`) is a managed process
 * (spawnManaged: the leader of its own process group, registered with the watchdog, so it is stopped with its
 * group however bench ends, even by SIGKILL), and the short `ip` commands run to their end (execCapture). The
 * one exception is the synchronous `ip netns del` of the exit handler: at process exit nothing asynchronous
 * runs. It needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2; `canCreateNamespaces` says whether it
 * can work here and why not.
 */

/** A simulated host: one network namespace with one address on the shared bridge. */
export interface NetHost {
  /** 0-based, in creation order. */
  index: number;
  /** The network namespace's name (`ip netns list`). */
  name: string;
  /** Its IPv4 address on the bridge, e.g. "10.77.0.1". */
  address: string;
  /**
   * The argv that runs `cmd args` inside this host: `ip netns exec <name> cmd args…`. For code that spawns
   * through its own launcher (the server launcher, the load generator) instead of `exec`.
   */
  command(cmd: string, args?: readonly string[]): { file: string; args: string[] };
  /**
   * Starts `cmd args` inside this host (`ip netns exec`, which execs the command: the pid is the command's) as a
   * managed process (core/process.ts spawnManaged: its own process group, stdout and stderr piped, the
   * watchdog told); stopped by `destroy` if still running. `env` is the child's whole environment.
   */
  exec(cmd: string, args: readonly string[], options: { env: Record<string, string | undefined>; label?: string; cwd?: string }): ManagedProcess;
  /** Runs a short command inside this host to its end: exit code, stdout and stderr (utf8). */
  run(cmd: string, args?: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export interface HostNetwork {
  /** `<prefix>-<pid>-<random>`: the start of every namespace name of this network. */
  runId: string;
  hosts: NetHost[];
  /** The bridge's namespace. */
  switchName: string;
  /** e.g. "10.77.0.0/24". */
  subnet: string;
  /**
   * Kills every process still running inside the hosts (those `exec` started, SIGTERM then SIGKILL after
   * `graceMs`, then whatever else `ip netns pids` lists there) and deletes the namespaces, which deletes their
   * interfaces. Idempotent; safe to call after a partial creation.
   */
  destroy(graceMs?: number): Promise<void>;
}

export interface CreateHostsOptions {
  /** Project prefix of the namespace names, letters/digits only (default "bench"). */
  prefix?: string;
  /** A /24 for the hosts, as "a.b.c.0/24" (default "10.77.0.0/24"); host k gets a.b.c.(k+1). */
  subnet?: string;
  /**
   * Per-namespace sysctls set in every host before its interface comes up (keys as in `sysctl`, e.g.
   * "net.ipv4.ip_local_port_range"). Merged over HOST_SYSCTLS; a value of null leaves the kernel's default.
   */
  sysctls?: Record<string, string | null>;
}

/**
 * What every host gets, and why. These sysctls are per network namespace, so each host has its own.
 * - ip_local_port_range 1024–65535: one client address reaches one server port through at most this many
 *   ephemeral ports; the kernel default (32768–60999) allows 28,232 connections per (source, destination).
 * - somaxconn 65535: a server's accept queue is min(backlog, somaxconn); a burst of connects from several
 *   hosts must not overflow a 4,096 default.
 * - IPv6 off: the hosts speak IPv4 only, and this keeps duplicate-address detection and router
 *   solicitations off the bridge.
 */
export const HOST_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_local_port_range': '1024 65535',
  'net.core.somaxconn': '65535',
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};

/** Most hosts on one /24: .1 to .254, the bridge has no address. */
export const MAX_HOSTS = 254;

const IP = 'ip';

interface IpResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function runFile(file: string, args: readonly string[]): Promise<IpResult> {
  const r = await execCapture(file, [...args], { timeoutMs: 15_000 });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.error ?? r.stderr };
}

/** Runs `ip args…`; throws E_NETNS with the command and its stderr when it fails. */
async function ip(args: readonly string[]): Promise<string> {
  const r = await runFile(IP, args);
  if (r.code !== 0) {
    throw new BenchError('E_NETNS', `\`ip ${args.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim() || 'no message'}`, {
      hint: 'network namespaces need root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and iproute2; see canCreateNamespaces()',
    });
  }
  return r.stdout;
}

/** Names of every network namespace (`ip netns list`, which prints "name" or "name (id: N)" per line). */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

function isAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

const PREFIX_RE = /^[a-z][a-z0-9]{0,15}$/;

function checkPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) {
    throw new BenchError('E_NETNS', `namespace prefix must be 1–16 lower-case letters and digits, starting with a letter, got "${prefix}"`);
  }
}

/** `<prefix>-<pid>-<random>-(sw|h<k>)` → the creating pid, or undefined when the name is not of this prefix. */
export function creatorPidOf(name: string, prefix: string): number | undefined {
  const m = new RegExp(`^${prefix}-(\\d+)-[0-9a-z]+-(sw|h\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Kills every process inside a namespace (as listed by `ip netns pids`), by pid. */
async function killInside(name: string, signal: NodeJS.Signals): Promise<number[]> {
  const r = await runFile(IP, ['netns', 'pids', name]);
  const pids = r.code === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
  return pids;
}

async function deleteNamespace(name: string): Promise<void> {
  await killInside(name, 'SIGKILL');
  const r = await runFile(IP, ['netns', 'del', name]);
  // Already gone is fine: destroy is idempotent.
  if (r.code !== 0 && !/No such file|not found|Cannot remove namespace file/.test(r.stderr)) {
    throw new BenchError('E_NETNS', `could not delete network namespace ${name}: ${r.stderr.trim()}`);
  }
}

/**
 * Deletes the namespaces of this prefix whose creating process is gone (a crashed or killed run), with any
 * process still inside them. Namespaces of live runs are left alone. Returns the names removed.
 */
export async function removeStaleNamespaces(prefix = 'bench'): Promise<string[]> {
  checkPrefix(prefix);
  const removed: string[] = [];
  for (const name of await listNamespaces()) {
    const pid = creatorPidOf(name, prefix);
    if (pid === undefined || isAlive(pid)) continue;
    await deleteNamespace(name);
    removed.push(name);
  }
  return removed;
}

/**
 * Whether network namespaces can be made here: root, iproute2's `ip`, and a probe that really creates a
 * namespace with a veth pair and deletes it (root in a container without CAP_SYS_ADMIN fails only there).
 * Never throws; the reason is meant for a test's skip message.
 */
export async function canCreateNamespaces(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces are Linux only (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, reason: `network namespaces need root (running as uid ${process.getuid()})` };
  }
  const v = await runFile(IP, ['-V']);
  if (v.code !== 0) return { ok: false, reason: "iproute2's `ip` is not on PATH (Debian: apt-get install iproute2)" };
  const probe = `benchprobe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const a = `${probe}-sw`;
  const b = `${probe}-h0`;
  try {
    for (const args of [
      ['netns', 'add', a],
      ['netns', 'add', b],
      ['-n', a, 'link', 'add', 'h0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b],
      ['-n', a, 'link', 'add', 'br0', 'type', 'bridge'],
    ]) {
      const r = await runFile(IP, args);
      if (r.code !== 0) return { ok: false, reason: `\`ip ${args.join(' ')}\` failed: ${r.stderr.trim()}` };
    }
    return { ok: true };
  } finally {
    await runFile(IP, ['netns', 'del', b]);
    await runFile(IP, ['netns', 'del', a]);
  }
}

function parseSubnet(subnet: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/.exec(subnet);
  if (!m || [m[1], m[2], m[3]].some((x) => Number(x) > 255)) {
    throw new BenchError('E_NETNS', `subnet must be a /24 written a.b.c.0/24, got "${subnet}"`);
  }
  return `${m[1]}.${m[2]}.${m[3]}`;
}

/** Writes a sysctl inside a namespace through /proc/sys (net.* there is the namespace's own). */
async function setSysctl(ns: string, key: string, value: string): Promise<void> {
  const path = `/proc/sys/${key.replace(/\./g, '/')}`;
  const r = await runFile(IP, ['netns', 'exec', ns, 'sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', value, path]);
  if (r.code !== 0) throw new BenchError('E_NETNS', `could not set ${key}=${value} in ${ns}: ${r.stderr.trim()}`);
}

/**
 * Creates `n` hosts on one bridge (see the module comment for the layout), after removing stale namespaces
 * of the same prefix. On any failure everything made so far is removed before the error is thrown.
 *
 * @param n hosts, 1 to MAX_HOSTS
 * @throws BenchError E_NETNS when a namespace, link, address or sysctl cannot be made
 */
export async function createHosts(n: number, options: CreateHostsOptions = {}): Promise<HostNetwork> {
  const prefix = options.prefix ?? 'bench';
  checkPrefix(prefix);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new BenchError('E_NETNS', `hosts: must be 1 to ${MAX_HOSTS}, got ${n}`);
  const subnet = options.subnet ?? '10.77.0.0/24';
  const net3 = parseSubnet(subnet);
  const sysctls: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...HOST_SYSCTLS, ...(options.sysctls ?? {}) })) if (v !== null) sysctls[k] = v;

  await removeStaleNamespaces(prefix);
  const runId = `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const switchName = `${runId}-sw`;
  const made: string[] = [];
  const children = new Set<ManagedProcess>();
  let destroyed: Promise<void> | undefined;

  const destroy = (graceMs = DEFAULT_GRACE_MS): Promise<void> => {
    destroyed ??= (async () => {
      process.removeListener('exit', onExit);
      // Each group: SIGTERM, SIGKILL after the grace, then whatever it left behind.
      await Promise.all([...children].map((c) => c.stop(graceMs)));
      // Hosts first (their processes, then the namespace), the switch last.
      for (const name of [...made].reverse()) await deleteNamespace(name);
    })();
    return destroyed;
  };
  // A run that exits without destroy (an uncaught error) still removes its namespaces; a crash is left to
  // the next run's removeStaleNamespaces.
  const onExit = () => {
    for (const c of children) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // Its group is gone.
      }
    }
    for (const name of [...made].reverse()) {
      try {
        execFileSync(IP, ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // Best effort at exit.
      }
    }
  };
  process.once('exit', onExit);

  const hosts: NetHost[] = [];
  try {
    await ip(['netns', 'add', switchName]);
    made.push(switchName);
    await ip(['-n', switchName, 'link', 'set', 'lo', 'up']);
    await ip(['-n', switchName, 'link', 'add', 'br0', 'type', 'bridge']);
    await ip(['-n', switchName, 'link', 'set', 'br0', 'up']);
    for (let k = 0; k < n; k++) {
      const name = `${runId}-h${k}`;
      const address = `${net3}.${k + 1}`;
      await ip(['netns', 'add', name]);
      made.push(name);
      for (const [key, value] of Object.entries(sysctls)) await setSysctl(name, key, value);
      await ip(['-n', switchName, 'link', 'add', `h${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name]);
      await ip(['-n', switchName, 'link', 'set', `h${k}`, 'master', 'br0']);
      await ip(['-n', switchName, 'link', 'set', `h${k}`, 'up']);
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
      await ip(['-n', name, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await ip(['-n', name, 'link', 'set', 'eth0', 'up']);
      const command = (cmd: string, args: readonly string[] = []) => ({ file: IP, args: ['netns', 'exec', name, cmd, ...args] });
      hosts.push({
        index: k,
        name,
        address,
        command,
        exec(cmd, args, opts) {
          if (destroyed) throw new BenchError('E_NETNS', `host ${name} was destroyed`);
          const c = command(cmd, args);
          const child = spawnManaged({ label: opts.label ?? `${cmd} in ${name}`, command: c.file, args: c.args, env: opts.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
          children.add(child);
          void child.exited.then(() => children.delete(child));
          return child;
        },
        run(cmd, args = []) {
          const c = command(cmd, args);
          return runFile(c.file, c.args).then((r) => ({ code: r.code, stdout: r.stdout, stderr: r.stderr }));
        },
      });
    }
  } catch (e) {
    await destroy();
    throw e;
  }
  return { runId, hosts, switchName, subnet, destroy };
}
