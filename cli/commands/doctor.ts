import Table from 'cli-table3';
import { diagnose, type Check } from '../../core/doctor.js';
import { labelRequest, type DefaultNode } from '../../core/runtime-versions/labels.js';
import { inspectRuntime } from '../../core/runtime-versions/resolve.js';
import { runtimeCheck } from '../../core/runtime-versions/status.js';
import { BARE_RUNTIME_IDS, isRuntimeId, RUNTIMES } from '../../core/runtimes.js';
import { runtimeDeps } from '../runtime-deps.js';
import { captureEnvironment } from '../../core/environment.js';
import { ExitCode } from '../../base/errors.js';
import type { Io } from '../io.js';
import { toolVersion } from '../version.js';
import { pinningPlan } from './run.js';

/**
 * A probe's line for a Node runtime speaks for the Node on PATH, which plain Node ids no longer run (they run
 * the pinned versions, see the `version` lines): said so, and a failure there is a warning, since plain ids
 * do not need it.
 */
function onPathNode(c: Check, defaultNode: DefaultNode): Check {
  const id = c.name.startsWith('runtime ') ? c.name.slice('runtime '.length) : undefined;
  if (id === undefined || !isRuntimeId(id) || RUNTIMES[id].runtime !== 'node' || defaultNode === 'system') return c;
  return { ...c, status: c.status === 'fail' ? 'warn' : c.status, detail: `on the Node on PATH (${id}@system): ${c.detail}` };
}

export async function doctorCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const env = await captureEnvironment(io.host, toolVersion());
  // The ordinary plan, and where a voice scenario's simulated upstream would go.
  const pins = { ...pinningPlan(env.allowedCpus), upstream: pinningPlan(env.allowedCpus, undefined, undefined, true).upstream };
  const deps = runtimeDeps(io, false);
  const probed = (await diagnose(env, opts['connections'] as number, pins)).map((c) => onPathNode(c, deps.defaultNode));
  // The versions plain ids run (or those asked for): ready, what a missing one needs, or why it cannot run here.
  const asked = (opts['runtime'] as string[] | undefined) ?? [...BARE_RUNTIME_IDS];
  const requests = asked.map((a) => labelRequest(a, deps.defaultNode));
  const versions = await Promise.all(requests.map(async (r) => ({ ...runtimeCheck(await inspectRuntime(r.request, deps)), name: `version ${r.label}` })));
  const checks = [...probed.slice(0, env.runtimes.length), ...versions, ...probed.slice(env.runtimes.length)];
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
