/**
 * What every command checks against this machine and the tool before anything starts: CPU lists exist here
 * and do not overlap (unless --allow-shared-cpus says so), an address to listen on is this machine's, the
 * connections fit the open-file limits and the ephemeral ports, a result folder can be created. `run`,
 * `calibrate`, `load` and `serve` share these rules, so one input gets one answer whichever command reads it.
 *
 * The rules are pure functions over `MachineFacts` (core/environment.ts reads them; tests pass fakes) that
 * return findings; the `preflight*` functions gather them and throw one BenchError (exit 2) that lists each
 * finding with the field it is about and the fix. Flag syntax and plain ranges are the parsers' job
 * (cli/options.ts); what depends on the machine or on several values together is here.
 */
import { access, constants, mkdir } from 'node:fs/promises';
import net from 'node:net';
import { expandCpuList } from '../base/cpus.js';
import { BenchError, type ErrorCode } from '../base/errors.js';
import { quote } from '../base/validate.js';
import { FD_MARGIN } from '../core/doctor.js';
import { readMachineFacts, type MachineFacts } from '../core/environment.js';
import type { KernelFacts } from '../core/kernel-limits.js';
import type { KernelLimit } from '../schema/result.js';
import type { RunPlan } from '../core/run.js';
import type { ScenarioCase } from '../core/scenario.js';
import { modelOf } from '../loadgen/models/index.js';
import { DEFAULT_MAX_CONNECTIONS_PER_WORKER, splitConnections } from '../loadgen/pool.js';
import type { LoadModel, LoadPlan } from '../loadgen/types.js';
import { MAX_WORKERS } from './options.js';

export type { MachineFacts };

/** One thing wrong with the input: the field it is about (a flag, or a scenario's field path), what, and the fix. */
export interface Finding {
  /** `--loadgen-cpus`, or `scenario "echo": connections`. */
  field: string;
  message: string;
  fix?: string;
  /** E_INVALID_SCENARIO when the scenario must change, else E_USAGE. */
  code?: ErrorCode;
}

/** "0-1,4" from CPU numbers, for messages (ascending runs folded). */
export function cpuListText(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}

// ---- CPUs --------------------------------------------------------------------

/**
 * A CPU list given by `flag` names only CPUs this process may run on (Cpus_allowed_list). taskset refuses
 * others, and the refusal used to surface as exit 3 from inside a cell, or an EPIPE crash with the server orphaned.
 */
export function checkCpuList(flag: string, list: string | undefined, facts: Pick<MachineFacts, 'allowedCpus'>): Finding[] {
  if (list === undefined || facts.allowedCpus.length === 0) return [];
  const allowed = new Set(facts.allowedCpus);
  const missing = [...new Set(expandCpuList(list))].filter((c) => !allowed.has(c));
  if (missing.length === 0) return [];
  return [
    {
      field: flag,
      message: `CPU${missing.length === 1 ? '' : 's'} ${cpuListText(missing)} ${missing.length === 1 ? 'is' : 'are'} not one${missing.length === 1 ? '' : 's'} this process may run on (allowed here: ${cpuListText(facts.allowedCpus)})`,
      fix: `give a list within ${cpuListText(facts.allowedCpus)} (\`bench doctor\` shows the pinning plan)`,
    },
  ];
}

/**
 * The server's and the load generator's CPUs do not overlap, unless `allowShared` (--allow-shared-cpus).
 * Sharing makes the comparison unfair: each side takes CPU from the other, so a figure mixes both. A side
 * left unpinned (null) floats over every allowed CPU, so it shares with a pinned other side. With a single
 * allowed CPU nothing can be separated; the plan is then unpinned and this check has nothing to refuse.
 */
export function checkPinning(
  pins: { server: string | null; loadgen: string | null },
  opts: { allowShared: boolean; serverIsOurs: boolean },
  facts: Pick<MachineFacts, 'allowedCpus'>,
): Finding[] {
  if (opts.allowShared || !opts.serverIsOurs || facts.allowedCpus.length < 2) return [];
  if (pins.server === null && pins.loadgen === null) return [];
  const all = facts.allowedCpus;
  const server = pins.server === null ? all : expandCpuList(pins.server);
  const loadgen = pins.loadgen === null ? all : expandCpuList(pins.loadgen);
  const shared = server.filter((c) => loadgen.includes(c));
  if (shared.length === 0) return [];
  const side = (list: string | null) => (list === null ? 'unpinned (any CPU)' : list);
  return [
    {
      field: '--server-cpus/--loadgen-cpus',
      message: `the server (CPUs ${side(pins.server)}) and the load generator (CPUs ${side(pins.loadgen)}) would share CPU${shared.length === 1 ? '' : 's'} ${cpuListText(shared)}: each would take CPU from the other, so the comparison is unfair`,
      fix: `give them separate CPUs within ${cpuListText(all)}, or add --allow-shared-cpus to accept the unfair comparison`,
    },
  ];
}

// ---- addresses -----------------------------------------------------------------

/** Whether `host` names this machine: a wildcard, loopback (127.0.0.0/8 and ::1 route to lo on Linux), or an interface's address. */
export function isLocalAddress(host: string, facts: Pick<MachineFacts, 'localAddresses'>): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '0.0.0.0' || h === '::') return true;
  if (net.isIPv4(h)) return h.startsWith('127.') || facts.localAddresses.includes(h);
  if (net.isIPv6(h)) return h === '::1' || facts.localAddresses.some((a) => a.toLowerCase() === h.toLowerCase().replace(/%.*$/, ''));
  return false;
}

/** An address to listen on is an IP address of this machine (or localhost); a server told otherwise died with EADDRNOTAVAIL or ENOTFOUND, exit 3. */
export function checkListenHost(flag: string, host: string, facts: Pick<MachineFacts, 'localAddresses'>): Finding[] {
  if (isLocalAddress(host, facts)) return [];
  const h = host.replace(/^\[(.*)\]$/, '$1');
  const what = net.isIP(h) ? 'is not an address of this machine' : 'is not an IP address';
  const mine = facts.localAddresses.filter((a) => !a.startsWith('fe80')).slice(0, 6);
  return [{ field: flag, message: `${quote(host)} ${what}`, fix: `use 127.0.0.1 (the default), 0.0.0.0 for every interface, or one of this machine's addresses: ${mine.join(', ')}` }];
}

/** A ws:// URL bench connects to has a host and a port bench can connect to (1–65535; "ws://h:0" parsed but connected nowhere). */
export function checkWsUrl(flag: string, url: string): Finding[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [{ field: flag, message: `not a URL: ${quote(url)}`, fix: 'for example ws://127.0.0.1:9001' }];
  }
  if (u.protocol !== 'ws:') return [{ field: flag, message: `must start with ws://, got ${quote(url)}`, fix: 'wss:// is not supported: measure the server behind its TLS terminator' }];
  if (u.hostname === '') return [{ field: flag, message: `has no host: ${quote(url)}` }];
  if (u.port === '0') return [{ field: flag, message: `port 0 cannot be connected to: ${quote(url)}`, fix: 'give the port the server listens on' }];
  return [];
}

// ---- connections -----------------------------------------------------------------

/** What a load needs from the machine, for checkConnections. */
export interface ConnectionNeed {
  /** What names the count in messages: `--connections`, or `scenario "echo": connections`. */
  field: string;
  connections: number;
  /** Load-generator worker processes asked for (more are started when connections exceed one worker's cap). */
  workers: number;
  /** Source addresses the connections are spread over (1: the kernel picks the address; the ceiling binds 4). */
  sourceAddresses: number;
  /** Open files the server holds per connection: 1, 2 for a relay (the client's and its upstream's), 0 when bench does not start the server. */
  serverFdsPerConnection: number;
  /** The model stops at the server's open-file limit and the load generator's ports by design (the ceiling search): neither is refused. */
  stopsAtLimits: boolean;
  /** E_INVALID_SCENARIO when the count is a scenario's, else E_USAGE. */
  code?: ErrorCode;
}

/** Worker processes a load starts: as runLoad splits (loadgen/pool.ts), never fewer than asked. */
export function workersStarted(connections: number, workers: number): number {
  return splitConnections(connections, workers, DEFAULT_MAX_CONNECTIONS_PER_WORKER).length;
}

/**
 * Whether the machine can hold `need.connections`, checked before anything starts:
 * - worker processes started (auto split at DEFAULT_MAX_CONNECTIONS_PER_WORKER) at most MAX_WORKERS;
 * - each worker's share plus FD_MARGIN within the open-file limit the workers inherit;
 * - connections to one server address per source address within the ephemeral port range (each needs its
 *   own local port to the same destination), unless the model stops there by design;
 * - the server's connections (× files per connection) plus FD_MARGIN within the open-file limit the server
 *   inherits, unless the model stops there by design (the ceiling: "not reached: stopped by the open-file
 *   limit" is its finding). A model that needs every connection open would instead measure a server that
 *   refuses or drops connections past the limit.
 * Limits that are unknown (null) are not checked.
 */
export function checkConnections(need: ConnectionNeed, facts: Pick<MachineFacts, 'openFileLimit' | 'openFileHardLimit' | 'ephemeralPortRange'>): Finding[] {
  const out: Finding[] = [];
  const code = need.code ?? 'E_USAGE';
  const n = need.connections.toLocaleString('en-US');
  const started = workersStarted(need.connections, need.workers);
  const limit = facts.openFileLimit;
  const hard = facts.openFileHardLimit;
  const raise = (files: number) =>
    hard === null || files <= hard
      ? `raise the open-file limit before starting bench (\`ulimit -n ${files}\`${hard === null ? '' : `; the hard limit here is ${hard.toLocaleString('en-US')}`})`
      : `raise the hard open-file limit to ${files.toLocaleString('en-US')} (as root: \`prlimit\` or /etc/security/limits.conf; it is ${hard.toLocaleString('en-US')} here)`;
  if (started > MAX_WORKERS) {
    out.push({ field: need.field, code, message: `${n} connections need ${started} load-generator processes, more than ${MAX_WORKERS}`, fix: `lower it to at most ${(MAX_WORKERS * DEFAULT_MAX_CONNECTIONS_PER_WORKER).toLocaleString('en-US')}` });
    return out;
  }
  if (limit !== null) {
    const perWorker = Math.ceil(need.connections / started);
    if (perWorker + FD_MARGIN > limit) {
      const enough = Math.ceil(need.connections / Math.max(1, limit - FD_MARGIN));
      out.push({
        field: need.field,
        code,
        message: `each of the ${started} load-generator process${started === 1 ? '' : 'es'} would hold ${perWorker.toLocaleString('en-US')} connections, above the open-file limit ${limit.toLocaleString('en-US')} (less ${FD_MARGIN} for its own files)`,
        fix: enough <= MAX_WORKERS ? `use --workers ${enough}, or ${raise(perWorker + FD_MARGIN)}` : raise(perWorker + FD_MARGIN),
      });
    }
  }
  const range = facts.ephemeralPortRange;
  if (range !== null && !need.stopsAtLimits) {
    const ports = range[1] - range[0] + 1;
    const perSource = Math.ceil(need.connections / Math.max(1, need.sourceAddresses));
    if (perSource > ports) {
      out.push({
        field: need.field,
        code,
        message: `${n} connections to one server address need ${perSource.toLocaleString('en-US')} local ports${need.sourceAddresses > 1 ? ` per source address (${need.sourceAddresses} addresses)` : ''}, but the ephemeral port range ${range[0]}–${range[1]} has ${ports.toLocaleString('en-US')}`,
        fix: `lower it to at most ${(ports * need.sourceAddresses).toLocaleString('en-US')}, or widen the range (as root: \`sysctl -w net.ipv4.ip_local_port_range="1024 65535"\`)`,
      });
    }
  }
  if (limit !== null && need.serverFdsPerConnection > 0 && !need.stopsAtLimits) {
    const files = need.connections * need.serverFdsPerConnection + FD_MARGIN;
    if (files > limit) {
      const most = Math.floor((limit - FD_MARGIN) / need.serverFdsPerConnection);
      out.push({
        field: need.field,
        code,
        message:
          `${n} connections need ${files.toLocaleString('en-US')} open files in the server${need.serverFdsPerConnection > 1 ? ` (${need.serverFdsPerConnection} per connection with its upstream)` : ''}, ` +
          `above its open-file limit ${limit.toLocaleString('en-US')}: it would refuse or drop those past it`,
        fix: `lower it to at most ${Math.max(0, most).toLocaleString('en-US')}, ${raise(files)}, or use the ceiling model, which stops at the limit by design`,
      });
    }
  }
  return out;
}

/** A load model's needs besides the count: its source addresses, and whether it stops at the limits by design. */
export function modelNeeds(m: LoadModel): Pick<ConnectionNeed, 'sourceAddresses' | 'stopsAtLimits' | 'serverFdsPerConnection'> {
  const def = modelOf(m);
  const search = def.runsAs(m) === 'search' ? def.search?.(m) : undefined;
  return {
    sourceAddresses: search?.model.sourceAddresses ?? 1,
    stopsAtLimits: search !== undefined && !search.memoryOnly,
    serverFdsPerConnection: def.upstream?.(m) !== undefined ? 2 : 1,
  };
}

/** The connection needs of one case of a run: its scenario's count, named by the scenario's field. */
export function caseNeed(c: ScenarioCase, workers: number, serverIsOurs: boolean): ConnectionNeed {
  const needs = modelNeeds(c.model);
  // A capacity search opens its top level's connections, which may be above the scenario's (its reference).
  const peak = modelOf(c.model).peakConnections?.(c.model, c.scenario.connections) ?? c.scenario.connections;
  return {
    field: `scenario "${c.scenario.name}": ${peak !== c.scenario.connections ? 'load.levels' : 'connections'}`,
    connections: peak,
    workers,
    ...needs,
    serverFdsPerConnection: serverIsOurs ? needs.serverFdsPerConnection : 0,
    code: 'E_INVALID_SCENARIO',
  };
}

// ---- a load segment's kernel limits ------------------------------------------------

/**
 * The kernel limits one load segment (`bench load --segment`) meets, checked and reported before it starts:
 * - RLIMIT_NOFILE: each worker's connections plus FD_MARGIN (refused above it, as checkConnections does);
 * - the ephemeral port range: the segment's connections all go from its one address to one server address,
 *   each on its own local port (refused above the range);
 * - the conntrack table, where the module is loaded: one entry per connection while it is tracked; above the
 *   free entries the kernel drops new connections' packets, so the segment starts but warns (the table is the
 *   node's, shared with everything else on it, and only its administrator can grow it).
 * Pure: `facts` comes from core/kernel-limits.ts readKernelFacts (tests pass fakes). `findings` are the refusals.
 */
export function segmentKernelLimits(need: { field: string; connections: number; workers: number }, facts: KernelFacts): { limits: KernelLimit[]; findings: Finding[] } {
  const findings = checkConnections({ field: need.field, connections: need.connections, workers: need.workers, sourceAddresses: 1, serverFdsPerConnection: 0, stopsAtLimits: false }, facts);
  const started = workersStarted(need.connections, need.workers);
  const perWorker = Math.ceil(need.connections / Math.max(1, started)) + FD_MARGIN;
  const fds: KernelLimit = { name: 'RLIMIT_NOFILE', needed: perWorker, available: facts.openFileLimit, status: facts.openFileLimit === null ? 'unknown' : perWorker > facts.openFileLimit ? 'refused' : 'ok' };
  if (fds.status === 'refused') fds.fix = `ulimit -n ${perWorker} before starting bench (the hard limit is ${facts.openFileHardLimit ?? 'unlimited'}), or more --workers`;
  const range = facts.ephemeralPortRange;
  const ports = range === null ? null : range[1] - range[0] + 1;
  const portLimit: KernelLimit = { name: 'net.ipv4.ip_local_port_range', needed: need.connections, available: ports, status: ports === null ? 'unknown' : need.connections > ports ? 'refused' : 'ok' };
  if (portLimit.status === 'refused') portLimit.fix = 'sysctl -w net.ipv4.ip_local_port_range="1024 65535" (a safe, per-namespace sysctl: a pod sets it in securityContext.sysctls), or more segments';
  const free = facts.conntrackMax === null ? null : Math.max(0, facts.conntrackMax - (facts.conntrackCount ?? 0));
  const conntrack: KernelLimit = { name: 'net.netfilter.nf_conntrack_max', needed: need.connections, available: free, status: free === null ? 'unknown' : need.connections > free ? 'warn' : 'ok' };
  if (conntrack.status === 'warn') {
    conntrack.fix = `as root on the node: sysctl -w net.netfilter.nf_conntrack_max=${(facts.conntrackMax ?? 0) + need.connections - (free ?? 0)} at least (past a full table new connections' packets are dropped)`;
  }
  return { limits: [fds, portLimit, conntrack], findings };
}

/** The limits in lines for stderr, one per limit: name, needed, available, status and the fix. */
export function formatKernelLimits(limits: readonly KernelLimit[]): string {
  return limits
    .map((l) => {
      const avail = l.available === null ? 'unreadable here' : l.available.toLocaleString('en-US');
      return `  ${l.status.padEnd(8)} ${l.name}: needs ${l.needed.toLocaleString('en-US')}, has ${avail}${l.fix ? `\n           fix: ${l.fix}` : ''}`;
    })
    .join('\n') + '\n';
}

// ---- the result folder -----------------------------------------------------------

/** Explanations of the errno codes a result folder fails with. */
const DIR_ERRORS: Record<string, string> = {
  ENOTDIR: 'a file is in the way: a part of the path is not a folder',
  EACCES: 'no permission to write there',
  EPERM: 'no permission to write there',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  ENAMETOOLONG: 'the path is too long',
  EEXIST: 'a file of that name is in the way',
};

/**
 * Creates the result folder before anything starts and checks it is writable, so that a bad --out fails
 * at once (exit 2) rather than as an "unexpected error" after the first cell was measured.
 */
export async function prepareOutDir(dir: string, flag = '--out'): Promise<Finding[]> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return [];
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return [{ field: flag, message: `cannot create the result folder ${quote(dir, 200)}: ${code}${DIR_ERRORS[code] ? ` (${DIR_ERRORS[code]})` : ''}`, fix: 'give --out a folder you can write to' }];
  }
}

// ---- preflight ---------------------------------------------------------------------

/**
 * Throws one BenchError for the findings (exit 2): one finding as the message with its fix as the hint;
 * several listed, each with its fix. The code is E_INVALID_SCENARIO when every finding is a scenario's.
 */
export function throwFindings(findings: Finding[]): void {
  if (findings.length === 0) return;
  const code: ErrorCode = findings.every((f) => f.code === 'E_INVALID_SCENARIO') ? 'E_INVALID_SCENARIO' : 'E_USAGE';
  if (findings.length === 1) {
    const f = findings[0]!;
    throw new BenchError(code, `${f.field}: ${f.message}`, f.fix ? { hint: f.fix } : {});
  }
  throw new BenchError(code, `${findings.length} problems with the input, found before anything started`, {
    details: findings.flatMap((f) => [`${f.field}: ${f.message}`, ...(f.fix ? [`  fix: ${f.fix}`] : [])]),
  });
}

/** The flags of `bench run` and `bench calibrate` the preflight reads (commander's option names). */
export interface RunFlags {
  quick?: unknown;
  full?: unknown;
  target?: unknown;
  targetPid?: unknown;
  serverCpus?: unknown;
  loadgenCpus?: unknown;
  allowSharedCpus?: unknown;
}

/**
 * Every check of `bench run` and `bench calibrate` on the plan they are about to run, then the result
 * folder is created. Call it last before anything starts; nothing has been spawned when it throws.
 * @throws BenchError E_USAGE or E_INVALID_SCENARIO (exit 2) listing every finding with its fix
 */
export async function preflightRun(opts: RunFlags, plan: Pick<RunPlan, 'cases' | 'workers' | 'serverCpus' | 'loadgenCpus' | 'external'>, outDir: string, facts: MachineFacts = readMachineFacts()): Promise<void> {
  const findings: Finding[] = [];
  if (opts.quick === true && opts.full === true) findings.push({ field: '--quick/--full', message: 'exclude each other', fix: 'give one of them' });
  if (opts.targetPid !== undefined && opts.target === undefined) {
    findings.push({ field: '--target-pid', message: 'needs --target (the pid of the server --target measures)', fix: 'add --target ws://host:port, or drop --target-pid' });
  } else if (typeof opts.targetPid === 'number' && !facts.pidExists(opts.targetPid)) {
    findings.push({ field: '--target-pid', message: `no process ${opts.targetPid} is running here`, fix: "give the pid of the server's process (`ss -ltnp` shows which process listens on its port)" });
  }
  if (typeof opts.target === 'string') findings.push(...checkWsUrl('--target', opts.target));
  findings.push(...checkCpuList('--server-cpus', opts.serverCpus as string | undefined, facts));
  findings.push(...checkCpuList('--loadgen-cpus', opts.loadgenCpus as string | undefined, facts));
  const serverIsOurs = plan.external?.kind !== 'target';
  if (findings.length === 0) {
    findings.push(...checkPinning({ server: plan.serverCpus, loadgen: plan.loadgenCpus }, { allowShared: opts.allowSharedCpus === true, serverIsOurs }, facts));
  }
  // One finding per scenario is enough: its other cases share the count.
  const seen = new Set<string>();
  for (const c of plan.cases) {
    const need = caseNeed(c, plan.workers, serverIsOurs);
    const key = `${need.field}\u0000${JSON.stringify(modelNeeds(c.model))}`;
    if (seen.has(key)) continue;
    seen.add(key);
    findings.push(...checkConnections(need, facts));
  }
  throwFindings(findings);
  throwFindings(await prepareOutDir(outDir));
}

/**
 * Every check of `bench load` on the plan it is about to run (the server is the user's: only the load
 * generator's limits are checked). Nothing has been spawned when it throws.
 * @throws BenchError E_USAGE (exit 2) listing every finding with its fix
 */
export function preflightLoad(
  opts: { idle?: unknown; rate?: unknown; publishers?: unknown },
  plan: Pick<LoadPlan, 'url' | 'connections' | 'workers' | 'cpus' | 'load'>,
  facts: MachineFacts = readMachineFacts(),
): void {
  const findings: Finding[] = [...checkWsUrl('--url', plan.url)];
  if (opts.idle === true && (opts.rate !== undefined || opts.publishers !== undefined)) {
    findings.push({ field: '--idle', message: `sends nothing, so it excludes ${opts.rate !== undefined ? '--rate' : '--publishers'}`, fix: 'drop --idle to send, or the sending flags to hold idle connections' });
  }
  // The broadcast model's own bound (loadgen/models/broadcast.ts): --rate is per publisher there.
  if (plan.load.model === 'broadcast' && plan.load.ratePerSecPerPublisher > 1_000_000) {
    findings.push({ field: '--rate', message: `with --publishers it is per publisher and may be at most 1000000, got ${plan.load.ratePerSecPerPublisher}`, fix: 'lower --rate, or spread the load over more --publishers' });
  }
  findings.push(...checkCpuList('--cpus', plan.cpus, facts));
  findings.push(...checkConnections({ field: '--connections', connections: plan.connections, workers: plan.workers, ...modelNeeds(plan.load), serverFdsPerConnection: 0 }, facts));
  throwFindings(findings);
}

/**
 * Every check of `bench serve` before its server starts: the address is this machine's, the CPUs allowed.
 * @throws BenchError E_USAGE (exit 2) listing every finding with its fix
 */
export function preflightServe(opts: { host?: unknown; cpus?: unknown }, facts: MachineFacts = readMachineFacts()): void {
  throwFindings([...checkListenHost('--host', String(opts.host ?? '127.0.0.1'), facts), ...checkCpuList('--cpus', opts.cpus as string | undefined, facts)]);
}
