// The ceiling's connect path, measured (a benchmark, not a test): how long the
// load generator takes to open N connections to each server and hold them,
// from one source address and spread over several, at several handshake
// in-flight bounds. Server pinned to CPU 0, one load-generator worker on CPU 1,
// the ceiling session's own code (loadgen/ceiling-run.ts); connections are
// torn down with resets, so no TIME_WAIT is left for the next measurement.
//
//   node dist/scripts/bench-connect.js [--runtime bun,node-ws,node-uws,deno] [--connections 19000]
//                                      [--sources 1,4] [--in-flight 64,256] [--repeat 1]
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { currentHost } from '../core/host.js';
import { startServer, stopAllServers } from '../core/launcher.js';
import { readSockStat } from '../core/procfs.js';
import { parseRuntimeId, probeRuntimes, RUNTIME_IDS } from '../core/runtimes.js';
import { openCeilingSession } from '../loadgen/ceiling-run.js';
import { CEILING_DEFAULTS } from '../loadgen/models/ceiling.js';
import { formatCount, formatRate, formatUs } from '../report/units.js';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: RUNTIME_IDS.join(',') },
    connections: { type: 'string', default: '19000' },
    sources: { type: 'string', default: '1,4' },
    'in-flight': { type: 'string', default: '64,256' },
    repeat: { type: 'string', default: '1' },
  },
});
const host = currentHost();
const list = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const statuses = await probeRuntimes(host);
const runtimes = list(values.runtime!).map(parseRuntimeId).filter((id) => statuses.find((s) => s.id === id)?.usable);
const connections = Number(values.connections);

const table = new Table({
  head: ['runtime', 'sources', 'in flight', 'open', 'failed', 'connect', 'conn/s', 'handshake p50', 'p99', 'held 1 s', 'TIME_WAIT before'],
  colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  style: { head: [], border: [], compact: true },
});
try {
  for (let rep = 0; rep < Number(values.repeat); rep++) {
    for (const runtime of runtimes) {
      for (const sources of list(values.sources!).map(Number)) {
        for (const inFlight of list(values['in-flight']!).map(Number)) {
          const tw = readSockStat()?.tcpTimeWait ?? 0;
          const server = await startServer({ runtime, cpus: '0', hostInfo: host });
          const session = await openCeilingSession(
            {
              url: `ws://127.0.0.1:${server.port}/echo`,
              connections,
              load: { model: 'ceiling', steps: 1, ...CEILING_DEFAULTS, heartbeat: { kind: 'echo', intervalMs: 1000, bytes: 16 }, sourceAddresses: sources },
              message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
              warmupMs: 0,
              durationMs: 1000,
              drainTimeoutMs: 1000,
              connect: { maxInFlight: inFlight, timeoutMs: 10_000 },
              workers: 1,
              cpus: '1',
              client: 'raw',
              seed: 1,
            },
            { nodePath: host.nodePath },
          );
          try {
            const st = await session.step(connections);
            // Held: one echo heartbeat on every connection over the next second, all answered.
            const b = await session.beat(0, 1000);
            table.push([
              runtime,
              sources,
              inFlight,
              formatCount(st.open),
              formatCount(st.failed),
              `${(st.connectMs / 1000).toFixed(2)} s`,
              formatRate((st.opened * 1000) / st.connectMs),
              formatUs(st.connect.p50Us),
              formatUs(st.connect.p99Us),
              `${formatCount(b.open)} (${formatCount(b.received)}/${formatCount(b.sent)} beats)`,
              formatCount(tw),
            ]);
            process.stderr.write(`${runtime} sources=${sources} in-flight=${inFlight}: ${(st.connectMs / 1000).toFixed(2)} s\n`);
          } finally {
            await session.close();
            await server.stop();
          }
        }
      }
    }
  }
} finally {
  await stopAllServers();
}
process.stdout.write(`${connections} connections, server on CPU 0, one load-generator worker on CPU 1\n${table.toString()}\n`);
