import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Affinity, ConfigMap, Container, Pod, PodAffinityTerm, ResourceRequirements, Service } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { stringify } from 'yaml';
import { BenchError } from '../base/errors.js';
import { RUNTIME_IDS, RUNTIMES, type RuntimeId } from '../core/runtimes.js';
import { expandCases, type Scenario } from '../core/scenario.js';
import { modelOf } from '../loadgen/models/index.js';
import { MAX_SEGMENTS } from '../loadgen/segment.js';
import { resolveUpstreamConfig, upstreamArgs } from '../upstream/config.js';

/**
 * The Kubernetes objects of one benchmark (issue 16), built as typed objects (the API's own TypeScript
 * interfaces from `kubernetes-types`), never as text: a misspelt or misplaced field is a compile error, and
 * `toYaml` only serialises. Pure: no I/O, no clock (the start time is an input).
 *
 * What is rendered, in apply order (k8s/README.md explains each choice):
 * 1. ConfigMap `<name>-scenario`: the scenario file, mounted read-only at /etc/bench/scenario.json in the load pods.
 * 2. Service `<name>-server`: headless (no cluster IP), so the load reaches the server pod's own address
 *    without kube-proxy's DNAT and its conntrack entry per connection.
 * 3. Pod `<name>-server`: `bench serve` with integer CPUs and requests = limits on every container (the
 *    Guaranteed QoS class the static CPU manager needs to give it whole cores), a sampler sidecar that reads
 *    the server's /proc through the shared process namespace, and for voice scenarios the simulated
 *    upstream in a container of its own.
 * 4. Job `<name>-load`: Indexed, completions = parallelism = N, each pod running
 *    `bench load --segment $(JOB_COMPLETION_INDEX)/N --start-at <epoch ms>` against the Service, never on the
 *    server's node, and writing its result to its log between markers (k8s/collect.ts).
 */

/** Every object this module renders. */
export type Manifest = ConfigMap | Service | Pod | Job;

export interface RenderOptions {
  /** A validated scenario, with the quick preset already applied if wanted (its `quick` is not carried over). */
  scenario: Scenario;
  /** The case to run when the scenario has several (e.g. "echo-rate@10000/s"); optional with one case. */
  caseName?: string;
  runtime: RuntimeId;
  /** Load segments N: pods of the Job, 1 to min(connections, MAX_SEGMENTS). */
  segments: number;
  /** The bench image (k8s/Dockerfile), e.g. "registry.example.com/bench:0.1.0"; a digest pins it best. */
  image: string;
  /** When every segment starts its warmup, epoch milliseconds: leave time to pull the image and connect. */
  startAtMs: number;
  /** Kubernetes namespace of every object (default "bench"); it must exist. */
  namespace?: string;
  /** Base name of the objects, a DNS label of at most 40 characters (default `bench-<scenario>-<runtime>`, shortened). */
  name?: string;
  /** Seed of the generated traffic (default 1); each segment derives its own (loadgen/segment.ts). */
  seed?: number;
  /** The server container: whole CPUs (default 1), memory (default "2Gi"), port (default 9001). */
  server?: { cpus?: number; memory?: string; port?: number };
  /** Each load pod: whole CPUs (default 2), memory (default "2Gi"); it runs one load-generator worker per CPU. */
  load?: { cpus?: number; memory?: string };
  /** The sampler's period, ms (default 250, as `bench run` samples). */
  sampleIntervalMs?: number;
  /**
   * Keep load pods off each other's nodes: "preferred" (default; the scheduler tries), "required" (needs N
   * nodes besides the server's) or "none". They never share the server's node, whatever this says.
   */
  spreadSegments?: 'preferred' | 'required' | 'none';
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** Fixed paths and ports inside the pods. */
export const PATHS = {
  scenarioDir: '/etc/bench',
  scenarioFile: '/etc/bench/scenario.json',
  runDir: '/run/bench',
  readyFile: '/run/bench/server-ready.json',
  /** The image's working directory, where dist/ lives (k8s/Dockerfile). */
  app: '/app',
} as const;
export const UPSTREAM_PORT = 9100;
/** The `node` user of the official Node images: both server and sampler run as it, so the sampler may read the server's /proc/<pid>/fd. */
export const RUN_AS_UID = 1000;

/** Labels every object carries; `component` tells server, load and scenario apart. */
export function labelsOf(name: string, component: 'server' | 'load' | 'scenario', o: Pick<RenderOptions, 'runtime' | 'scenario'>): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'bench',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
    'bench.dev/runtime': o.runtime,
    // A label value has at most 63 characters and ends alphanumeric; a scenario name may be longer.
    'bench.dev/scenario': o.scenario.name.slice(0, 63).replace(/-+$/, ''),
  };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[1-9][0-9]*(Ki|Mi|Gi|Ti)$/;
const MAX_NAME = 40;

function usage(message: string, hint?: string): BenchError {
  return new BenchError('E_USAGE', message, hint ? { hint } : {});
}

/** `bench-<scenario>-<runtime>`, cut to MAX_NAME characters without a trailing dash. */
export function defaultName(scenario: string, runtime: string): string {
  return `bench-${scenario}-${runtime}`.slice(0, MAX_NAME).replace(/-+$/, '');
}

function wholeCpus(v: number | undefined, fallback: number, what: string): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw usage(`${what}: must be a whole number of CPUs from 1 to 256, got ${n}`, 'the static CPU manager pins only containers with whole CPUs (requests = limits)');
  }
  return n;
}

function memory(v: string | undefined, fallback: string, what: string): string {
  const q = v ?? fallback;
  if (!QUANTITY.test(q)) throw usage(`${what}: must be a memory quantity such as 512Mi or 2Gi, got "${q}"`);
  return q;
}

/**
 * What the "restricted" Pod Security Standard asks of every container, so the objects run in namespaces that
 * enforce it: no privilege escalation, no capabilities. The sampler needs none: it reads /proc of a process of
 * its own uid (RUN_AS_UID), which the kernel allows without CAP_SYS_PTRACE.
 */
const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

/** Requests = limits, so the pod is in the Guaranteed QoS class (every container must be, init containers too). */
function guaranteed(cpu: string, mem: string): ResourceRequirements {
  return { requests: { cpu, memory: mem }, limits: { cpu, memory: mem } };
}

/** The scenario as a scenario file (what core/scenario.ts validates), without `source` and the already-applied `quick`. */
export function scenarioFileOf(s: Scenario): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    route: s.route,
    connections: s.connections,
    warmupSec: s.warmupSec,
    durationSec: s.durationSec,
    load: s.load,
    ...(s.message ? { message: s.message } : {}),
  };
}

/** A required anti-affinity term: not on a node that runs a pod of `component` of this benchmark. */
function notBeside(name: string, component: 'server' | 'load'): PodAffinityTerm {
  return {
    labelSelector: { matchLabels: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': component } },
    topologyKey: 'kubernetes.io/hostname',
  };
}

/**
 * Waits until the server accepts TCP connections (host, port, give-up time in epoch ms), so that load pods
 * that start before the server is ready do not count refused connections. Run as an init container with the
 * bench image's Node; exits 1 when the give-up time passes.
 */
export const WAIT_FOR_SERVER_SCRIPT = [
  "const net = require('net');",
  'const [host, port, deadline] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];',
  'const attempt = () => {',
  '  const s = net.connect({ host, port }, () => { s.destroy(); process.exit(0); });',
  "  s.on('error', () => { s.destroy(); if (Date.now() > deadline) { console.error('server ' + host + ':' + port + ' not reachable'); process.exit(1); } setTimeout(attempt, 500); });",
  '};',
  'attempt();',
].join('\n');

/**
 * Renders the objects of one benchmark (see the module comment), in apply order.
 * @throws BenchError E_USAGE naming the option: an unknown runtime or a Socket.IO stack, a scenario with several cases and no
 *   `caseName` (or an unknown one), segments outside 1..min(connections, MAX_SEGMENTS), fractional CPUs, a bad
 *   memory quantity, name or namespace, an empty image, a start time that is not epoch milliseconds
 */
export function renderManifests(o: RenderOptions): Manifest[] {
  if (!(RUNTIME_IDS as readonly string[]).includes(o.runtime)) throw usage(`runtime: unknown "${o.runtime}" (one of ${RUNTIME_IDS.join(', ')})`);
  if (RUNTIMES[o.runtime].protocol !== 'websocket') {
    throw usage(`runtime: ${o.runtime} is a Socket.IO stack, and the load pods' \`bench load\` speaks bare WebSocket only`, 'run the stacks with `bench run` on one machine');
  }
  const scenario = o.scenario;
  const cases = expandCases(scenario);
  let chosen = cases[0]!;
  if (o.caseName !== undefined) {
    const c = cases.find((x) => x.name === o.caseName);
    if (!c) throw usage(`case: "${o.caseName}" is not a case of ${scenario.name} (${cases.map((x) => x.name).join(', ')})`);
    chosen = c;
  } else if (cases.length > 1) {
    throw usage(`case: ${scenario.name} has ${cases.length} cases; name one (${cases.map((x) => x.name).join(', ')})`, 'one Job runs one case');
  }
  const model = chosen.model;
  const def = modelOf(model);
  if (!def.segmentable(model)) {
    throw usage(
      `scenario: ${scenario.name} uses the ${model.model} model (${def.describe(model)}), which runs plateau by plateau (or through autocannon), not as independent segments`,
      'render closed, open, broadcast, voice or one-step idle scenarios',
    );
  }
  const n = o.segments;
  const maxSegments = Math.min(scenario.connections, MAX_SEGMENTS);
  if (!Number.isInteger(n) || n < 1 || n > maxSegments) {
    throw usage(`segments: must be a whole number from 1 to ${maxSegments} (the scenario's ${scenario.connections} connections, at most ${MAX_SEGMENTS}), got ${n}`);
  }
  if (!o.image || /\s/.test(o.image)) throw usage(`image: must be an image reference without spaces, got "${o.image}"`);
  if (!Number.isInteger(o.startAtMs) || o.startAtMs < 1e12) throw usage(`startAtMs: must be epoch milliseconds, got ${o.startAtMs}`);
  const namespace = o.namespace ?? 'bench';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw usage(`namespace: must be a DNS label (lower-case letters, digits, dashes; ≤ 63), got "${namespace}"`);
  const name = o.name ?? defaultName(scenario.name, o.runtime);
  if (!DNS_LABEL.test(name) || name.length > MAX_NAME) {
    throw usage(`name: must be a DNS label of at most ${MAX_NAME} characters (its objects add -server, -load, -scenario), got "${name}"`);
  }
  const seed = o.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw usage(`seed: must be a whole number from 0 to 2^32 − 1, got ${seed}`);
  const serverCpus = wholeCpus(o.server?.cpus, 1, 'server.cpus');
  const serverMemory = memory(o.server?.memory, '2Gi', 'server.memory');
  const port = o.server?.port ?? 9001;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || port === UPSTREAM_PORT) throw usage(`server.port: must be 1–65535 and not ${UPSTREAM_PORT} (the upstream's), got ${port}`);
  const loadCpus = wholeCpus(o.load?.cpus, 2, 'load.cpus');
  const loadMemory = memory(o.load?.memory, '2Gi', 'load.memory');
  const intervalMs = o.sampleIntervalMs ?? 250;
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 60_000) throw usage(`sampleIntervalMs: must be 10 to 60000, got ${intervalMs}`);
  const spread = o.spreadSegments ?? 'preferred';
  const pullPolicy = o.imagePullPolicy ?? 'IfNotPresent';

  const meta = (suffix: string, component: 'server' | 'load' | 'scenario'): ObjectMeta => ({
    name: `${name}-${suffix}`,
    namespace,
    labels: labelsOf(name, component, o),
    annotations: { 'bench.dev/start-at': new Date(o.startAtMs).toISOString(), 'bench.dev/segments': String(n) },
  });
  const bench = (...args: string[]) => ['node', 'dist/cli/main.js', ...args];
  const serverHost = `${name}-server.${namespace}.svc`;
  const cpu = (k: number) => String(k);

  const configMap: ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('scenario', 'scenario'),
    data: { 'scenario.json': JSON.stringify(scenarioFileOf(scenario), null, 2) + '\n' },
  };

  const service: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('server', 'server'),
    spec: {
      clusterIP: 'None',
      selector: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'server' },
      ports: [{ name: 'ws', port, targetPort: 'ws', protocol: 'TCP' }],
      // Resolvable before the readiness probe passes: the load pods' init container waits for the port itself.
      publishNotReadyAddresses: true,
    },
  };

  const runVolume = { name: 'run', mountPath: PATHS.runDir };
  const serverContainers: Container[] = [
    {
      name: 'server',
      image: o.image,
      imagePullPolicy: pullPolicy,
      securityContext: RESTRICTED,
      workingDir: PATHS.app,
      // --ready-file: the ready line (with the runtime's pid) for the sampler; a flag the CLI must add (k8s/README.md).
      command: bench('serve', '--runtime', o.runtime, '--host', '0.0.0.0', '--port', String(port), '--ready-file', PATHS.readyFile),
      ...(def.upstream ? { env: [{ name: 'UPSTREAM_URL', value: `ws://127.0.0.1:${UPSTREAM_PORT}/` }] } : {}),
      ports: [{ name: 'ws', containerPort: port, protocol: 'TCP' }],
      readinessProbe: { tcpSocket: { port: 'ws' }, periodSeconds: 2 },
      resources: guaranteed(cpu(serverCpus), serverMemory),
      volumeMounts: [runVolume],
    },
    {
      // The sampler reads the server's /proc from outside (CPU time, RSS, threads, fds), as `bench run` does,
      // at the window's edges and every interval; its own CPU is its own container's, not the server's.
      name: 'sampler',
      image: o.image,
      imagePullPolicy: pullPolicy,
      securityContext: RESTRICTED,
      workingDir: PATHS.app,
      command: bench(
        'sample',
        '--ready-file',
        PATHS.readyFile,
        '--start-at',
        String(o.startAtMs),
        '--warmup',
        `${scenario.warmupSec}s`,
        '--duration',
        `${scenario.durationSec}s`,
        '--interval',
        `${intervalMs}ms`,
      ),
      resources: guaranteed('200m', '256Mi'),
      volumeMounts: [{ ...runVolume, readOnly: true }],
    },
  ];
  const upstreamConfig = def.upstream?.(model);
  if (upstreamConfig) {
    const { config, problems } = resolveUpstreamConfig({ ...upstreamConfig, host: '127.0.0.1', port: UPSTREAM_PORT });
    if (problems.length > 0) throw usage(`scenario: the simulated upstream refuses its settings: ${problems.join('; ')}`);
    serverContainers.push({
      // The simulated model service: not measured, so on a whole CPU of its own beside the server's.
      name: 'upstream',
      image: o.image,
      imagePullPolicy: pullPolicy,
      securityContext: RESTRICTED,
      workingDir: PATHS.app,
      command: ['node', 'dist/upstream/model.js', ...upstreamArgs(config)],
      resources: guaranteed('1', '512Mi'),
    });
  }

  const serverPod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('server', 'server'),
    spec: {
      // A crashed server must end the run visibly, not be restarted (or rescheduled, as a Deployment would) mid-measurement.
      restartPolicy: 'Never',
      // The sampler sees the server's processes (and their /proc) only in a shared PID namespace.
      shareProcessNamespace: true,
      securityContext: { runAsUser: RUN_AS_UID, runAsGroup: RUN_AS_UID, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      terminationGracePeriodSeconds: 10,
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [notBeside(name, 'load')] } },
      containers: serverContainers,
      volumes: [{ name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }],
    },
  };

  const loadAffinity: Affinity = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [notBeside(name, 'server'), ...(spread === 'required' ? [notBeside(name, 'load')] : [])],
      ...(spread === 'preferred' ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: notBeside(name, 'load') }] } : {}),
    },
  };
  const giveUpAtMs = o.startAtMs; // connecting after the start would miss the warmup
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('load', 'load'),
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: n,
      // A retried segment would start after --start-at and measure a different window: a failure fails the run.
      backoffLimit: 0,
      template: {
        metadata: { labels: labelsOf(name, 'load', o) },
        spec: {
          restartPolicy: 'Never',
          securityContext: {
            runAsUser: RUN_AS_UID,
            runAsGroup: RUN_AS_UID,
            runAsNonRoot: true,
            seccompProfile: { type: 'RuntimeDefault' },
            // A "safe" (namespaced) sysctl every kubelet allows: 64k ephemeral ports per source address instead of 28k.
            sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }],
          },
          affinity: loadAffinity,
          initContainers: [
            {
              name: 'wait-for-server',
              image: o.image,
              imagePullPolicy: pullPolicy,
              securityContext: RESTRICTED,
              command: ['node', '-e', WAIT_FOR_SERVER_SCRIPT, serverHost, String(port), String(giveUpAtMs)],
              resources: guaranteed('100m', '128Mi'),
            },
          ],
          containers: [
            {
              name: 'load',
              image: o.image,
              imagePullPolicy: pullPolicy,
              securityContext: RESTRICTED,
              workingDir: PATHS.app,
              // Kubernetes expands $(JOB_COMPLETION_INDEX): the Job controller puts it in every container's env of an Indexed Job.
              command: bench(
                'load',
                '--scenario',
                PATHS.scenarioFile,
                ...(cases.length > 1 ? ['--case', chosen.name] : []),
                '--target',
                `ws://${serverHost}:${port}`,
                '--segment',
                `$(JOB_COMPLETION_INDEX)/${n}`,
                '--start-at',
                String(o.startAtMs),
                '--seed',
                String(seed),
                '--workers',
                String(loadCpus),
                // The merged result names the server by its runtime.
                '--server-label',
                o.runtime,
              ),
              resources: guaranteed(cpu(loadCpus), loadMemory),
              volumeMounts: [{ name: 'scenario', mountPath: PATHS.scenarioDir, readOnly: true }],
            },
          ],
          volumes: [{ name: 'scenario', configMap: { name: `${name}-scenario`, items: [{ key: 'scenario.json', path: 'scenario.json' }] } }],
          terminationGracePeriodSeconds: 10,
        },
      },
    },
  };
  return [configMap, service, serverPod, job];
}

/**
 * Multi-document YAML, one `---`-separated document per object, in order (what `kubectl apply -f` reads). No
 * anchors or aliases where objects share a part (the containers' security context): every field reads in place.
 */
export function toYaml(objects: readonly Manifest[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
