import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import { formatSegmentResult } from '../../k8s/collect.js';
import { validateManifests } from '../../k8s/validate.js';
import type { RunResult } from '../../schema/result.js';
import { fakeSegmentResults } from '../helpers/segment-results.js';
import { runBench } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-k8s-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (argv: string[]) => runBench(argv, { cwd: dir });

const START = '2026-01-01T12:00:00Z';
const START_MS = String(Date.parse(START));
const arg = (cmd: string[], flag: string) => cmd[cmd.indexOf(flag) + 1];

describe('bench k8s render', () => {
  test('writes the manifests; the Job read back runs segment $(JOB_COMPLETION_INDEX)/3 of an Indexed Job, off the server node', async () => {
    const r = await cli(['k8s', 'render', '--scenario', 'chat', '--runtime', 'bun', '--segments', '3', '--image', 'registry.example.com/bench:0.1.0', '--start-at', START]);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout);
    for (const d of docs) assert.deepEqual(d.errors, []);
    const objects = docs.map((d) => d.toJS() as { kind: string });
    assert.deepEqual(objects.map((o) => o.kind), ['ConfigMap', 'Service', 'Pod', 'Job']);
    assert.deepEqual(await validateManifests(objects), { available: true, problems: [] });
    const job = objects.find((o) => o.kind === 'Job') as Job;
    const spec = job.spec!;
    assert.equal(spec.completionMode, 'Indexed');
    assert.equal(spec.completions, 3);
    assert.equal(spec.parallelism, 3);
    const load = spec.template.spec!.containers.find((c) => c.name === 'load')!;
    const cmd = load.command!;
    assert.deepEqual(cmd.slice(0, 3), ['node', 'dist/cli/main.js', 'load']);
    assert.equal(arg(cmd, '--segment'), '$(JOB_COMPLETION_INDEX)/3');
    assert.equal(arg(cmd, '--start-at'), START_MS);
    assert.equal(arg(cmd, '--server-label'), 'bun');
    assert.equal(arg(cmd, '--target'), 'ws://bench-chat-bun-server.bench.svc:9001');
    assert.equal(load.image, 'registry.example.com/bench:0.1.0');
    // Never on the server's node: a required anti-affinity term on the hostname against the server's labels.
    const anti = spec.template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution!;
    const server = objects.find((o) => o.kind === 'Pod') as Pod;
    assert.ok(
      anti.some(
        (t) =>
          t.topologyKey === 'kubernetes.io/hostname' &&
          Object.entries(t.labelSelector!.matchLabels!).every(([k, v]) => server.metadata!.labels![k] === v),
      ),
    );
    assert.match(r.stderr, /start their warmup at 2026-01-01T12:00:00\.000Z/);
    assert.match(r.stderr, /bench k8s collect --namespace bench --name bench-chat-bun --segments 3/);
  });

  test('without --start-at the segments start 3 minutes from now, on a whole second', async () => {
    const before = Date.now();
    const r = await cli(['k8s', 'render', '--scenario', 'echo', '--runtime', 'node-ws', '--segments', '2']);
    assert.equal(r.code, 0, r.stderr);
    const job = parseAllDocuments(r.stdout).map((d) => d.toJS() as Job).find((o) => o.kind === 'Job')!;
    const at = Number(arg(job.spec!.template.spec!.containers[0]!.command!, '--start-at'));
    assert.equal(at % 1000, 0);
    assert.ok(at >= before + 179_000 && at <= Date.now() + 181_000, `start ${at - before} ms ahead`);
  });

  for (const [what, argv, pattern] of [
    ['--segments 0', ['--scenario', 'chat', '--runtime', 'bun', '--segments', '0'], /--segments: must be a whole number/],
    ['more segments than connections', ['--scenario', 'chat', '--runtime', 'bun', '--segments', '201'], /segments: must be a whole number from 1 to 200/],
    ['an unknown runtime', ['--scenario', 'chat', '--runtime', 'nodejs', '--segments', '2'], /E_UNKNOWN_RUNTIME/],
    ['a Socket.IO stack', ['--scenario', 'chat', '--runtime', 'bun-socketio', '--segments', '2'], /Socket\.IO stack/],
    ['a stepped search', ['--scenario', 'ceiling', '--runtime', 'bun', '--segments', '2'], /not as independent segments/],
    ['--start-at in seconds', ['--scenario', 'chat', '--runtime', 'bun', '--segments', '2', '--start-at', '1767268800'], /--start-at: 1767268800 is before 2001/],
    ['a bad --namespace', ['--scenario', 'chat', '--runtime', 'bun', '--segments', '2', '--namespace', 'Bench'], /--namespace: must be a DNS label/],
    ['a bad --load-memory', ['--scenario', 'chat', '--runtime', 'bun', '--segments', '2', '--load-memory', '2GB'], /--load-memory: must be a memory quantity/],
  ] as const) {
    test(`refuses ${what} with exit 2, naming the field`, async () => {
      const r = await cli(['k8s', 'render', ...argv]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, '');
    });
  }
});

describe('bench k8s collect', () => {
  test("reads the segment results from the pods' interleaved, prefixed logs and merges them", async () => {
    const segs = fakeSegmentResults({ connections: 12, publishers: 6, rooms: 2, segments: 3, sentPerPublisher: 5 });
    // What `kubectl logs --prefix` prints: every line behind its pod, pods' lines interleaved.
    const logs = segs.map((s, i) => `progress\n${formatSegmentResult(s.segment, s)}bye\n`.split('\n').filter(Boolean).map((l) => `[pod/bench-load-${i}-x/load] ${l}`));
    const lines: string[] = [];
    for (let k = 0; k < Math.max(...logs.map((l) => l.length)); k++) for (const l of logs) if (l[k]) lines.push(l[k]!);
    writeFileSync(path.join(dir, 'load.log'), lines.join('\n') + '\n');
    const r = await cli(['k8s', 'collect', '--log', 'load.log', '--segments', '3', '--out', 'collected']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(readFileSync(path.join(dir, 'collected', 'result.json'), 'utf8')) as RunResult;
    assert.equal(result.segments!.count, 3);
    assert.equal(result.cells[0]!.metrics!.delivery.expected, 180);
  });

  test('a log without every segment exits 2 naming the missing one; no --name without --log is bad input', async () => {
    const segs = fakeSegmentResults({ connections: 12, publishers: 6, rooms: 2, segments: 3, sentPerPublisher: 5 });
    writeFileSync(path.join(dir, 'partial.log'), formatSegmentResult(segs[0]!.segment, segs[0]));
    const r = await cli(['k8s', 'collect', '--log', 'partial.log', '--segments', '3', '--out', 'p']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no result for segments 1\/3, 2\/3/);
    const n = await cli(['k8s', 'collect', '--segments', '3', '--out', 'p']);
    assert.equal(n.code, 2);
    assert.match(n.stderr, /--name: required without --log/);
  });

  test('a kubectl that cannot run is named, with exit 2', async () => {
    const r = await cli(['k8s', 'collect', '--name', 'bench-chat-bun', '--segments', '2', '--out', 'k', '--kubectl', path.join(dir, 'no-such-kubectl')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no-such-kubectl/);
  });
});
