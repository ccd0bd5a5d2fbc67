// Self-benchmark of the load generator (a benchmark, not a test): can one
// load-generator core outrun one server core? Starts the fastest server on CPU 0
// and the load generator on CPU 1, and prints for 128-byte echo at several
// pipelining depths: msgs/s, both sides' CPU, CPU µs per message on each side,
// and headroom = server µs/msg ÷ load-generator µs/msg (≥ 1: the generator is
// cheaper per message than the server). Then the open-loop measurement floor:
// p99.9 at 10k msg/s against the same server.
//
//   npm run bench:loadgen [-- --runtime bun --duration 5 --client raw --profile /tmp/prof]
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { currentHost } from '../core/host.js';
import { startServer } from '../core/launcher.js';
import { cpuUsBetween, startSampler, type ProcSample } from '../core/sampler.js';
import { parseRuntimeId } from '../core/runtimes.js';
import { runLoad } from '../loadgen/run.js';
import type { LoadModel, LoadResult } from '../loadgen/types.js';
import { formatRate, formatUs } from '../report/units.js';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'bun' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    client: { type: 'string', default: 'raw' },
    depths: { type: 'string', default: "1,16,64" },
    /** Write a CPU profile of each load-generator worker into this folder. */
    profile: { type: 'string' },
  },
});
const runtime = parseRuntimeId(values.runtime!);
const durationMs = Number(values.duration) * 1000;
const connections = Number(values.connections);
const client = values.client === 'ws' ? 'ws' : 'raw';
const host = currentHost();

async function measure(load: LoadModel) {
  const server = await startServer({ runtime, cpus: '0', hostInfo: host });
  const sampler = startSampler(server.pid, 250);
  const marks: Partial<Record<string, ProcSample>> = {};
  try {
    const r: LoadResult = await runLoad(
      {
        url: `ws://127.0.0.1:${server.port}/echo`,
        connections,
        load,
        message: { kind: 'binary', size: { type: 'fixed', bytes: 128 } },
        warmupMs: 1000,
        durationMs,
        drainTimeoutMs: 2000,
        connect: { maxInFlight: 64, timeoutMs: 10_000 },
        workers: 1,
        cpus: '1',
        client,
        seed: 1,
      },
      {
        nodePath: host.nodePath,
        ...(values.profile ? { workerExecArgv: ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] } : {}),
        onPhase: (p) => {
          const s = sampler.sampleNow();
          if (s) marks[p] = s;
        },
      },
    );
    const received = r.timeline.reduce((a, b) => a + b.receivedMsgs, 0);
    const serverCpuUs = cpuUsBetween(marks['measure-start']!, marks['measure-end']!);
    const lgCpuUs = r.workers.reduce((a, w) => a + w.cpuUs, 0);
    return { r, received, serverCpuUs, lgCpuUs, windowUs: r.measuredMs * 1000 };
  } finally {
    sampler.stop();
    await server.stop();
  }
}

process.stderr.write(`self-benchmark: ${runtime} server on CPU 0, ${client} load generator on CPU 1, ${connections} connections, 128 B binary echo, ${durationMs / 1000} s per point\n`);
const t = new Table({
  head: ['depth', 'msgs/s', 'server CPU', 'loadgen CPU', 'server µs/msg', 'loadgen µs/msg', 'headroom', 'p50', 'p99', 'delivery errors'],
  style: { head: [], border: [] },
});
for (const depth of values.depths!.split(',').filter(Boolean).map(Number)) {
  const m = await measure({ model: 'closed', depth });
  const serverPerMsg = m.serverCpuUs / m.received;
  const lgPerMsg = m.lgCpuUs / m.received;
  const d = m.r.delivery;
  t.push([
    depth,
    formatRate((m.received * 1e6) / m.windowUs),
    `${((100 * m.serverCpuUs) / m.windowUs).toFixed(0)}%`,
    `${((100 * m.lgCpuUs) / m.windowUs).toFixed(0)}%`,
    serverPerMsg.toFixed(3),
    lgPerMsg.toFixed(3),
    (serverPerMsg / lgPerMsg).toFixed(2),
    formatUs(m.r.latency.p50Us),
    formatUs(m.r.latency.p99Us),
    d.lost + d.duplicated + d.corrupted + d.outOfOrder,
  ]);
}
if (t.length > 0) process.stdout.write(t.toString() + '\n');

const rate = 10_000;
const o = await measure({ model: 'open', ratePerSec: rate, arrivals: 'constant' });
const ol = o.r.openLoop!;
process.stdout.write(
  `open-loop floor at ${rate} msg/s: p50 ${formatUs(o.r.latency.p50Us)} · p99 ${formatUs(o.r.latency.p99Us)} · p99.9 ${formatUs(o.r.latency.p999Us)} · max ${formatUs(o.r.latency.maxUs)}` +
    ` · ${ol.late} of ${ol.sent} sends late (>1 ms), ${ol.dropped} dropped · server CPU ${((100 * o.serverCpuUs) / o.windowUs).toFixed(0)}%` +
    ` (${(o.serverCpuUs / o.received).toFixed(2)} µs/msg)\n`,
);
