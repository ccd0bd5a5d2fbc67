import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { quote } from '../../base/validate.js';
import { mergeSegmentResults } from '../../core/merge.js';
import { execCapture } from '../../core/process.js';
import { parseRuntimeId } from '../../core/runtimes.js';
import { applyQuick, resolveScenario } from '../../core/scenario.js';
import { collectCommand, parseResultBlocks, segmentResultsFrom } from '../../k8s/collect.js';
import { defaultName, renderManifests, toYaml } from '../../k8s/render.js';
import type { Io } from '../io.js';
import { toolVersion } from '../version.js';
import { writeMerged } from './merge.js';

/** Without --start-at: this long from now, time for the pods to be scheduled, pull the image and connect. */
export const DEFAULT_START_DELAY_MS = 3 * 60 * 1000;

/**
 * `bench k8s render`: the manifests of one benchmark (k8s/render.ts) as YAML on stdout; on stderr, when the
 * segments start and the commands that apply, wait for and collect the run.
 */
export async function k8sRenderCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const runtime = parseRuntimeId(String(opts['runtime']));
  let scenario = resolveScenario(String(opts['scenario']), io.cwd);
  if (opts['quick']) scenario = applyQuick(scenario);
  // Whole seconds: the start is written into every pod's command line and read by people.
  const startAtMs = (opts['startAt'] as number | undefined) ?? Math.ceil((Date.now() + DEFAULT_START_DELAY_MS) / 1000) * 1000;
  const name = (opts['name'] as string | undefined) ?? defaultName(scenario.name, runtime);
  const namespace = String(opts['namespace']);
  const segments = opts['segments'] as number;
  const objects = renderManifests({
    scenario,
    ...(typeof opts['case'] === 'string' ? { caseName: opts['case'] } : {}),
    runtime,
    segments,
    image: String(opts['image']),
    startAtMs,
    namespace,
    name,
    seed: opts['seed'] as number,
    server: { cpus: opts['serverCpus'] as number, memory: String(opts['serverMemory']) },
    load: { cpus: opts['loadCpus'] as number, memory: String(opts['loadMemory']) },
    spreadSegments: opts['spread'] as 'preferred' | 'required' | 'none',
    imagePullPolicy: opts['pullPolicy'] as 'Always' | 'IfNotPresent' | 'Never',
  });
  io.stdout.write(toYaml(objects));
  io.stderr.write(
    [
      `${segments} load segment${segments === 1 ? '' : 's'} start their warmup at ${new Date(startAtMs).toISOString()}; then:`,
      `  kubectl apply -f <this file>`,
      `  kubectl -n ${namespace} wait --for=condition=complete job/${name}-load --timeout=30m`,
      `  bench k8s collect --namespace ${namespace} --name ${name} --segments ${segments} --out results/${name}`,
      '',
    ].join('\n'),
  );
  return ExitCode.ok;
}

/**
 * `bench k8s collect`: the load pods' logs (kubectl logs, or --log FILE), the N segment results in them
 * (k8s/collect.ts), and the server pod's sampler log with the server's readings (or --server-log FILE), merged
 * and written as `bench merge` does.
 */
export async function k8sCollectCommand(opts: Record<string, unknown>, _args: string[], io: Io): Promise<number> {
  const segments = opts['segments'] as number;
  const readLog = (flag: string, file: string): string => {
    const p = path.resolve(io.cwd, file);
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      throw new BenchError('E_USAGE', `${flag}: cannot read ${quote(p, 200)}: ${(e as Error).message}`);
    }
  };
  let log: string;
  let serverLog: string | undefined;
  if (typeof opts['log'] === 'string') {
    log = readLog('--log', opts['log']);
    if (typeof opts['serverLog'] === 'string') serverLog = readLog('--server-log', opts['serverLog']);
  } else {
    if (typeof opts['name'] !== 'string') throw new BenchError('E_USAGE', '--name: required without --log (the base name the objects were rendered with)', { hint: 'bench k8s collect --name bench-chat-bun --segments 8 --out DIR' });
    const kubectl = String(opts['kubectl']);
    const logsOf = async (component: 'load' | 'server'): Promise<string> => {
      const [, ...argv] = collectCommand({ namespace: String(opts['namespace']), name: opts['name'] as string, segments, component });
      const r = await execCapture(kubectl, argv);
      if (r.error !== undefined) {
        throw new BenchError('E_USAGE', `--kubectl: cannot run ${quote(kubectl, 200)}: ${r.error}`, { hint: 'install kubectl, or give its path with --kubectl; or save the logs and pass them with --log' });
      }
      if (r.code !== 0) {
        const whose = component === 'load' ? "the load pods'" : "the server pod's sampler";
        throw new BenchError('E_INVALID_RESULT', `could not read ${whose} logs: \`${kubectl} ${argv.join(' ')}\` exited ${r.code}: ${r.stderr.trim().slice(0, 400)}`, {
          hint: 'is kubectl configured for the cluster (kubectl config current-context), and did the Job run? `kubectl -n NAMESPACE get pods` shows the pods',
        });
      }
      return r.stdout;
    };
    log = await logsOf('load');
    serverLog = await logsOf('server');
  }
  const payloads = segmentResultsFrom(log, segments);
  const sample = serverLog === undefined ? undefined : parseResultBlocks(serverLog).find((b) => b.kind === 'server-sample');
  if (serverLog !== undefined && !sample) io.stderr.write("note: no server-sample block in the sampler's log: the merged result has no server CPU or memory\n");
  const result = mergeSegmentResults(payloads.map((raw, i) => ({ name: `segment ${i}/${segments}`, raw })), {
    toolVersion: toolVersion(),
    commandLine: ['bench', ...io.argv],
    ...(typeof opts['label'] === 'string' ? { label: opts['label'] } : {}),
    ...(sample ? { server: { name: `the sampler's log (${sample.source || 'server'})`, raw: sample.payload } } : {}),
  });
  return writeMerged(result, String(opts['out']), opts, io);
}
