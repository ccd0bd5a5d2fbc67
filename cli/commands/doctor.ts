import Table from 'cli-table3';
import { diagnose } from '../../core/doctor.js';
import { captureEnvironment } from '../../core/environment.js';
import { ExitCode } from '../../base/errors.js';
import type { Io } from '../io.js';
import { toolVersion } from '../version.js';
import { pinningPlan } from './run.js';

export async function doctorCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const env = await captureEnvironment(io.host, toolVersion());
  // The ordinary plan, and where a voice scenario's simulated upstream would go.
  const pins = { ...pinningPlan(env.allowedCpus), upstream: pinningPlan(env.allowedCpus, undefined, undefined, true).upstream };
  const checks = await diagnose(env, opts['connections'] as number, pins);
  if (opts['json']) {
    io.stdout.write(JSON.stringify({ environment: env, checks }, null, 2) + '\n');
  } else {
    io.stdout.write(`${env.cpuModel} · ${env.logicalCpus} CPUs · ${(env.memoryBytes / 2 ** 30).toFixed(1)} GiB · ${env.kernel} · Node ${env.nodeVersion}\n`);
    const t = new Table({ head: ['check', 'status', 'detail'], style: { head: [], border: [] }, colWidths: [20, 8, 90], wordWrap: true });
    for (const c of checks) t.push([c.name, c.status, c.fix ? `${c.detail}\nfix: ${c.fix}` : c.detail]);
    io.stdout.write(t.toString() + '\n');
  }
  return checks.some((c) => c.status === 'fail') ? ExitCode.runFailed : ExitCode.ok;
}
