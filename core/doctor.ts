import { execText } from './process.js';
import type { Environment } from './environment.js';


export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to change, when not ok. */
  fix?: string;
}

/** Sockets a process may hold besides its own files: the open-file limit minus this margin. */
export const FD_MARGIN = 100;

/**
 * Checks a machine for benchmarking `plannedConnections` connections. Pure
 * over the environment, except for `taskset`, which it looks for.
 */
export async function diagnose(
  env: Environment,
  plannedConnections: number,
  pins: { server: string | null; loadgen: string | null; upstream?: string | null },
): Promise<Check[]> {
  const checks: Check[] = [];
  for (const r of env.runtimes) {
    checks.push(
      r.usable
        ? { name: `runtime ${r.id}`, status: 'ok', detail: `${r.label}: runtime ${r.runtimeVersion}, library ${r.libraryVersion}` }
        : { name: `runtime ${r.id}`, status: 'fail', detail: r.reason ?? 'not usable', fix: r.fix ?? 'run npm install' },
    );
  }
  const limit = env.openFileLimit;
  if (limit === null) checks.push({ name: 'open-file limit', status: 'ok', detail: 'unlimited' });
  else {
    const perProcess = limit - FD_MARGIN;
    if (plannedConnections <= perProcess) {
      checks.push({ name: 'open-file limit', status: 'ok', detail: `${limit} per process: enough for the ${plannedConnections} connections planned (--connections) in one server and one load-generator process` });
    } else {
      checks.push({
        name: 'open-file limit',
        status: 'warn',
        detail:
          `${limit} per process: one server can hold at most about ${perProcess} sockets, so ${plannedConnections} connections ` +
          `will stop at that limit (the report says "not reached: stopped by the open-file limit ${limit}"); ` +
          `the load generator needs ${Math.ceil(plannedConnections / perProcess)} worker processes`,
        fix: `raise it with \`ulimit -n ${plannedConnections + 1000}\` (hard limit permitting) before starting bench`,
      });
    }
  }
  const range = env.ephemeralPortRange;
  if (range) {
    const ports = range[1] - range[0] + 1;
    checks.push(
      plannedConnections <= ports
        ? { name: 'ephemeral ports', status: 'ok', detail: `${range[0]}–${range[1]} (${ports} ports per source/destination address pair)` }
        : {
            name: 'ephemeral ports',
            status: 'warn',
            detail: `${ports} ports per address pair, fewer than ${plannedConnections} connections`,
            fix: 'spread connections over source addresses in 127.0.0.0/8, or widen net.ipv4.ip_local_port_range',
          },
    );
  }
  const taskset = (await execText('taskset', ['-V'], { timeoutMs: 5000 })) !== undefined;
  checks.push(
    taskset
      ? { name: 'taskset', status: 'ok', detail: 'present: servers and load generator can be pinned' }
      : { name: 'taskset', status: 'warn', detail: 'not found: nothing can be pinned', fix: 'install util-linux (apt-get install util-linux)' },
  );
  checks.push(
    pins.server && pins.loadgen
      ? { name: 'CPUs and pinning', status: 'ok', detail: `${env.logicalCpus} CPUs (allowed ${env.allowedCpus}); server on ${pins.server}, load generator on ${pins.loadgen}` }
      : {
          name: 'CPUs and pinning',
          status: 'warn',
          detail: `${env.logicalCpus} CPU(s): server and load generator must share a CPU, so every figure mixes both`,
          fix: 'use a machine with at least 2 CPUs',
        },
  );
  if (pins.upstream !== undefined && pins.server && pins.loadgen) {
    checks.push(
      pins.upstream !== pins.loadgen
        ? { name: 'voice upstream', status: 'ok', detail: `the simulated upstream of voice scenarios gets CPU ${pins.upstream} to itself` }
        : {
            name: 'voice upstream',
            status: 'warn',
            detail: `the simulated upstream of voice scenarios shares the load generator's CPUs (${pins.loadgen}); its CPU is reported per cell and the load generator sleeps on timers instead of spinning`,
            fix: 'a machine with 3 or more CPUs gives it one of its own',
          },
    );
  }
  if (env.cpuGovernor && env.cpuGovernor !== 'performance') {
    checks.push({ name: 'CPU governor', status: 'warn', detail: `${env.cpuGovernor}: clock speed varies with load`, fix: 'cpupower frequency-set -g performance' });
  }
  return checks;
}
