import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { ConfigMap, Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import { isBenchError } from '../../base/errors.js';
import { projectRoot } from '../../core/paths.js';
import { applyQuick, resolveScenario, validateScenario, type Scenario } from '../../core/scenario.js';
import { PATHS, WAIT_FOR_SERVER_SCRIPT, renderManifests, toYaml, type RenderOptions } from '../../k8s/render.js';
import { validateManifests } from '../../k8s/validate.js';
import { typecheckManifests } from './typecheck.js';

const START_AT_MS = Date.UTC(2026, 0, 1, 12, 0, 0);
const scenario = (name: string): Scenario => resolveScenario(name, projectRoot);

function options(over: Partial<RenderOptions> = {}): RenderOptions {
  return { scenario: scenario('chat'), runtime: 'bun', segments: 4, image: 'registry.example.com/bench:0.1.0', startAtMs: START_AT_MS, namespace: 'bench', ...over };
}

/** Renders, serialises to YAML and reads the documents back: the tests look at what kubectl would get. */
function readBack(o: RenderOptions): unknown[] {
  const docs = parseAllDocuments(toYaml(renderManifests(o)));
  for (const d of docs) assert.deepEqual(d.errors, []);
  return docs.map((d) => d.toJS() as unknown);
}

function find<T>(objects: unknown[], kind: string, component?: string): T {
  const o = objects.find(
    (x) => (x as { kind: string }).kind === kind && (component === undefined || (x as Pod).metadata?.labels?.['app.kubernetes.io/component'] === component),
  );
  assert.ok(o, `a ${kind}`);
  return o as T;
}

const container = (containers: Container[] | undefined, name: string): Container => {
  const c = containers?.find((x) => x.name === name);
  assert.ok(c, `container ${name}`);
  return c;
};

/** The value after `flag` in a command line. */
const arg = (cmd: string[] | undefined, flag: string): string | undefined => {
  const i = cmd?.indexOf(flag) ?? -1;
  return i >= 0 ? cmd![i + 1] : undefined;
};

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => isBenchError(e) && e.code === 'E_USAGE' && pattern.test(e.message));
}

describe('renderManifests: a broadcast over 4 segments, read back from the YAML', () => {
  const objects = readBack(options());

  test('four objects in apply order: the scenario, the Service, the server Pod, the load Job', () => {
    assert.deepEqual(
      objects.map((o) => `${(o as Pod).kind}/${(o as Pod).metadata!.name}`),
      ['ConfigMap/bench-chat-bun-scenario', 'Service/bench-chat-bun-server', 'Pod/bench-chat-bun-server', 'Job/bench-chat-bun-load'],
    );
    for (const o of objects) assert.equal((o as Pod).metadata!.namespace, 'bench');
    const yaml = toYaml(renderManifests(options()));
    assert.equal(yaml.split(/^---$/m).length, 4, 'four documents');
    assert.doesNotMatch(yaml, /[&*]a\d/, 'no YAML anchors or aliases');
  });

  test('the Job is Indexed with completions = parallelism = 4 and no retries', () => {
    const job = find<Job>(objects, 'Job');
    assert.equal(job.spec!.completionMode, 'Indexed');
    assert.equal(job.spec!.completions, 4);
    assert.equal(job.spec!.parallelism, 4);
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.spec!.template.spec!.restartPolicy, 'Never');
  });

  test('each load pod runs its segment: $(JOB_COMPLETION_INDEX)/4, the agreed start, the Service as target', () => {
    const job = find<Job>(objects, 'Job');
    const load = container(job.spec!.template.spec!.containers, 'load');
    const cmd = load.command!;
    assert.deepEqual(cmd.slice(0, 3), ['node', 'dist/cli/main.js', 'load']);
    assert.equal(arg(cmd, '--segment'), '$(JOB_COMPLETION_INDEX)/4');
    assert.equal(arg(cmd, '--start-at'), String(START_AT_MS));
    assert.equal(arg(cmd, '--target'), 'ws://bench-chat-bun-server.bench.svc:9001');
    assert.equal(arg(cmd, '--scenario'), PATHS.scenarioFile);
    assert.equal(arg(cmd, '--workers'), '2');
    assert.equal(arg(cmd, '--case'), undefined, 'chat has one case');
    assert.ok(cmd.every((a) => typeof a === 'string'), 'every argument is a string in the YAML');
  });

  test('load pods never share the server node, and prefer nodes of their own', () => {
    const anti = find<Job>(objects, 'Job').spec!.template.spec!.affinity!.podAntiAffinity!;
    assert.deepEqual(anti.requiredDuringSchedulingIgnoredDuringExecution, [
      {
        labelSelector: { matchLabels: { 'app.kubernetes.io/instance': 'bench-chat-bun', 'app.kubernetes.io/component': 'server' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
    const preferred = anti.preferredDuringSchedulingIgnoredDuringExecution!;
    assert.equal(preferred.length, 1);
    assert.equal(preferred[0]!.podAffinityTerm.labelSelector!.matchLabels!['app.kubernetes.io/component'], 'load');
    assert.equal(preferred[0]!.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
    // The term's selector matches the pods it means.
    const serverLabels = find<Pod>(objects, 'Pod').metadata!.labels!;
    for (const [k, v] of Object.entries(anti.requiredDuringSchedulingIgnoredDuringExecution![0]!.labelSelector!.matchLabels!)) assert.equal(serverLabels[k], v);
    // And the server keeps off the load pods' nodes in turn.
    const serverAnti = find<Pod>(objects, 'Pod').spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
    assert.equal(serverAnti[0]!.labelSelector!.matchLabels!['app.kubernetes.io/component'], 'load');
  });

  test('the scenario comes from the ConfigMap, mounted read-only where --scenario points, and is a valid scenario file', () => {
    const cm = find<ConfigMap>(objects, 'ConfigMap');
    const spec = find<Job>(objects, 'Job').spec!.template.spec!;
    const volume = spec.volumes!.find((v) => v.configMap?.name === cm.metadata!.name);
    assert.ok(volume, 'a volume from the ConfigMap');
    const mount = container(spec.containers, 'load').volumeMounts!.find((m) => m.name === volume.name)!;
    assert.equal(mount.readOnly, true);
    assert.equal(`${mount.mountPath}/${volume.configMap!.items![0]!.path}`, PATHS.scenarioFile);
    const file = JSON.parse(cm.data!['scenario.json']!) as unknown;
    const { scenario: back, problems } = validateScenario(file, 'configmap');
    assert.deepEqual(problems, []);
    const { quick: _quick, ...chat } = scenario('chat');
    assert.deepEqual({ ...back!, source: '' }, { ...chat, default: false, source: '' }, 'the same scenario, without its (already applied) quick preset');
  });

  test('resources: requests = limits everywhere (Guaranteed), whole CPUs for the server and the load', () => {
    const pod = find<Pod>(objects, 'Pod');
    const job = find<Job>(objects, 'Job');
    const all = [...pod.spec!.containers, ...job.spec!.template.spec!.containers, ...job.spec!.template.spec!.initContainers!];
    for (const c of all) {
      assert.deepEqual(c.resources!.requests, c.resources!.limits, `${c.name}: requests = limits`);
      assert.ok(c.resources!.limits!['cpu'] && c.resources!.limits!['memory'], `${c.name}: cpu and memory`);
    }
    assert.equal(container(pod.spec!.containers, 'server').resources!.limits!['cpu'], '1');
    assert.equal(container(job.spec!.template.spec!.containers, 'load').resources!.limits!['cpu'], '2');
  });

  test('every pod meets the "restricted" Pod Security Standard: non-root, RuntimeDefault seccomp, no escalation, no capabilities', () => {
    const specs = [find<Pod>(objects, 'Pod').spec!, find<Job>(objects, 'Job').spec!.template.spec!];
    for (const spec of specs) {
      assert.equal(spec.securityContext!.runAsNonRoot, true);
      assert.equal(spec.securityContext!.runAsUser, 1000);
      assert.deepEqual(spec.securityContext!.seccompProfile, { type: 'RuntimeDefault' });
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } }, c.name);
      }
    }
    // The only sysctl is one of the "safe" set every kubelet allows.
    assert.deepEqual(specs[1]!.securityContext!.sysctls, [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }]);
  });

  test('the server: bench serve on the Service port, a sampler sharing its process namespace and its ready file', () => {
    const pod = find<Pod>(objects, 'Pod');
    const svc = find<Service>(objects, 'Service');
    assert.equal(pod.spec!.shareProcessNamespace, true);
    assert.equal(pod.spec!.restartPolicy, 'Never');
    const server = container(pod.spec!.containers, 'server');
    const sampler = container(pod.spec!.containers, 'sampler');
    assert.deepEqual(server.command!.slice(0, 5), ['node', 'dist/cli/main.js', 'serve', '--runtime', 'bun']);
    assert.equal(arg(server.command, '--host'), '0.0.0.0');
    assert.equal(arg(sampler.command, '--ready-file'), arg(server.command, '--ready-file'));
    assert.equal(arg(sampler.command, '--start-at'), String(START_AT_MS));
    assert.equal(arg(sampler.command, '--warmup'), '2s');
    assert.equal(arg(sampler.command, '--duration'), '8s');
    assert.equal(server.ports![0]!.containerPort, 9001);
    assert.equal(svc.spec!.clusterIP, 'None', 'headless: no kube-proxy DNAT on the measured path');
    assert.equal(svc.spec!.ports![0]!.port, 9001);
    for (const [k, v] of Object.entries(svc.spec!.selector!)) assert.equal(pod.metadata!.labels![k], v, `the Service selects the server pod (${k})`);
    assert.equal(pod.spec!.containers.some((c) => c.name === 'upstream'), false, 'no upstream for a broadcast');
  });

  test('valid against the Kubernetes schema (kubernetes-models) and the API types (kubernetes-types, excess properties included)', async () => {
    const r = await validateManifests(objects);
    assert.ok(r.available, r.available ? '' : r.reason);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(typecheckManifests(objects), []);
  });
});

describe('structural validation catches broken objects', () => {
  const broken = (edit: (job: Job) => void): unknown[] => {
    const objects = readBack(options());
    edit(find<Job>(objects, 'Job'));
    return objects;
  };

  test('the schema: a wrong enum, a string count, a missing container name, a bad quantity', async () => {
    const cases: [string, (j: Job) => void, RegExp][] = [
      ['enum', (j) => ((j.spec as { completionMode: string }).completionMode = 'indexed'), /Job\/bench-chat-bun-load: \/spec\/completionMode must be equal to one of the allowed values/],
      ['type', (j) => ((j.spec as unknown as { completions: string }).completions = '4'), /\/spec\/completions must be integer/],
      ['required', (j) => delete (j.spec!.template.spec!.containers[0] as Partial<Container>).name, /\/spec\/template\/spec\/containers\/0 must have required property name/],
      ['quantity', (j) => (j.spec!.template.spec!.containers[0]!.resources!.limits!['cpu'] = 'two'), /\/resources\/limits\/cpu must match format "quantity"/],
    ];
    for (const [what, edit, pattern] of cases) {
      const r = await validateManifests(broken(edit));
      assert.ok(r.available);
      assert.ok(r.problems.some((p) => pattern.test(p)), `${what}: ${r.problems.join(' | ')}`);
    }
  });

  test('the types: an unknown (misspelt) field the schema lets through, and a number where a string belongs', async () => {
    const misspelt = broken((j) => ((j.spec as unknown as Record<string, unknown>)['completionmode'] = 'Indexed'));
    const schema = await validateManifests(misspelt);
    assert.ok(schema.available);
    assert.deepEqual(schema.problems, [], 'the OpenAPI schema leaves objects open');
    const typed = typecheckManifests(misspelt);
    assert.equal(typed.length, 1);
    assert.match(typed[0]!, /^Job\/bench-chat-bun-load: .*'"completionmode"' does not exist in type 'JobSpec'/);
    const numeric = typecheckManifests(broken((j) => ((j.spec!.template.spec!.containers[0]!.command as unknown[])[0] = 1)));
    assert.match(numeric.join('\n'), /Type 'number' is not assignable to type 'string'/);
  });
});

describe('renderManifests: options and other models', () => {
  test('a voice scenario gets the simulated upstream beside the server, on a CPU of its own', () => {
    const objects = readBack(options({ scenario: applyQuick(scenario('voice-agent')), runtime: 'node-ws', segments: 2 }));
    const pod = find<Pod>(objects, 'Pod');
    const upstream = container(pod.spec!.containers, 'upstream');
    assert.deepEqual(upstream.command!.slice(0, 2), ['node', 'dist/upstream/model.js']);
    assert.ok(upstream.command!.includes('--port=9100') && upstream.command!.includes('--host=127.0.0.1'), upstream.command!.join(' '));
    assert.ok(upstream.command!.includes('--latency=uniform:200:800'), upstream.command!.join(' '));
    assert.deepEqual(container(pod.spec!.containers, 'server').env, [{ name: 'UPSTREAM_URL', value: 'ws://127.0.0.1:9100/' }]);
    assert.equal(upstream.resources!.limits!['cpu'], '1');
  });

  test('a scenario with several cases needs one named, which the load pods get as --case', () => {
    usage(() => renderManifests(options({ scenario: scenario('echo-rate') })), /echo-rate has 2 cases/);
    usage(() => renderManifests(options({ scenario: scenario('echo-rate'), caseName: 'echo-rate@1/s' })), /not a case of echo-rate/);
    const job = find<Job>(readBack(options({ scenario: scenario('echo-rate'), caseName: 'echo-rate@50000/s' })), 'Job');
    assert.equal(arg(container(job.spec!.template.spec!.containers, 'load').command, '--case'), 'echo-rate@50000/s');
  });

  test('spreadSegments: required keeps load pods apart for sure, none only off the server node', () => {
    const anti = (spread: RenderOptions['spreadSegments']) => find<Job>(readBack(options({ spreadSegments: spread })), 'Job').spec!.template.spec!.affinity!.podAntiAffinity!;
    const required = anti('required');
    assert.deepEqual(required.requiredDuringSchedulingIgnoredDuringExecution!.map((t) => t.labelSelector!.matchLabels!['app.kubernetes.io/component']), ['server', 'load']);
    assert.equal(required.preferredDuringSchedulingIgnoredDuringExecution, undefined);
    const none = anti('none');
    assert.equal(none.requiredDuringSchedulingIgnoredDuringExecution!.length, 1);
    assert.equal(none.preferredDuringSchedulingIgnoredDuringExecution, undefined);
  });

  test('refuses what cannot run, naming the option', () => {
    usage(() => renderManifests(options({ segments: 0 })), /^segments: must be a whole number from 1 to 200/);
    usage(() => renderManifests(options({ segments: 201 })), /^segments: /);
    usage(() => renderManifests(options({ server: { cpus: 1.5 } })), /^server\.cpus: must be a whole number of CPUs/);
    usage(() => renderManifests(options({ load: { memory: '2GB' } })), /^load\.memory: /);
    usage(() => renderManifests(options({ name: 'Bench' })), /^name: /);
    usage(() => renderManifests(options({ namespace: 'a_b' })), /^namespace: /);
    usage(() => renderManifests(options({ image: '' })), /^image: /);
    usage(() => renderManifests(options({ startAtMs: 1_767_268_800 })), /^startAtMs: /);
    usage(() => renderManifests(options({ scenario: scenario('ceiling') })), /ceiling model/);
    usage(() => renderManifests(options({ scenario: scenario('idle') })), /idle model \(idle, opened in 4 steps\)/);
    usage(() => renderManifests(options({ runtime: 'node' as RenderOptions['runtime'] })), /^runtime: unknown "node"/);
    usage(() => renderManifests(options({ runtime: 'bun-socketio' })), /^runtime: bun-socketio is a Socket\.IO stack/);
  });

  test('every built-in scenario that runs as segments renders valid objects', async () => {
    for (const name of ['echo', 'broadcast', 'chat', 'dashboard', 'slow-consumer', 'voice-agent']) {
      const objects = readBack(options({ scenario: scenario(name), segments: 2, runtime: 'deno' }));
      const r = await validateManifests(objects);
      assert.ok(r.available);
      assert.deepEqual(r.problems, [], name);
    }
  });
});

describe('the wait-for-server init container script', () => {
  const run = (port: number, deadlineMs: number) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', WAIT_FOR_SERVER_SCRIPT, '127.0.0.1', String(port), String(deadlineMs)], { stdio: 'ignore' });
      child.once('exit', (code) => resolve(code));
    });

  test('exits 0 once the port accepts, 1 when the give-up time has passed', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    assert.equal(await run(port, Date.now() + 60_000), 0);
    await new Promise((r) => server.close(r));
    assert.equal(await run(port, Date.now() - 1), 1);
  });
});
