// The connection ceiling through load segments (issue 16; a measurement for a quiet machine, not a test): N
// segments, each in a network namespace of its own with its own address, each running the rendered Indexed
// Job's command line, open and hold their share of more idle connections than the server's open-file limit
// allows, so the server, not a load generator, is what stops them; then it says what it found: how many
// connections the server held against its limit, and how far below its own limits (open files, ports) each
// segment stayed. As root (network namespaces); nothing leaves the machine.
//
//   node dist/scripts/segments-ceiling.js [--segments 4] [--per-segment 6000] [--runtime node-ws]
//        [--hold 5] [--server-fd-limit N] [--lead-ms MS] [--out DIR]
//
// --server-fd-limit lowers the server's open-file limit (prlimit; it cannot be raised past the hard limit) for a
// small, quick run: --per-segment 300 --server-fd-limit 1000. --out keeps the merged result (bench report reads it).
// Exit 0 when the server's limit was reached with every segment below half of its own limits, 1 otherwise.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import type { Job } from 'kubernetes-types/batch/v1.js';
import { mergeSegmentResults } from '../core/merge.js';
import { canCreateNamespaces, createHosts, type HostNetwork } from '../core/netns.js';
import { projectRoot } from '../core/paths.js';
import type { ManagedProcess } from '../core/process.js';
import { parseRuntimeId } from '../core/runtimes.js';
import { validateScenario } from '../core/scenario.js';
import type { SegmentResult } from '../core/segment-result.js';
import { parseResultBlocks } from '../k8s/collect.js';
import { PATHS, renderManifests } from '../k8s/render.js';
import { writeRunReports } from '../report/writer.js';

const { values } = parseArgs({
  options: {
    segments: { type: 'string', default: '4' },
    'per-segment': { type: 'string', default: '6000' },
    runtime: { type: 'string', default: 'node-ws' },
    hold: { type: 'string', default: '5' },
    'server-fd-limit': { type: 'string' },
    'lead-ms': { type: 'string' },
    out: { type: 'string' },
  },
});
const whole = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`--${name}: a whole number from ${min} to ${max}, got ${v}\n`);
    process.exit(2);
  }
  return n;
};
const segments = whole('segments', values.segments, 1, 64);
const perSegment = whole('per-segment', values['per-segment'], 1, 60_000);
const holdSec = whole('hold', values.hold, 1, 600);
const fdLimit = values['server-fd-limit'] === undefined ? undefined : whole('server-fd-limit', values['server-fd-limit'], 64, 1_048_576);
const runtime = parseRuntimeId(values.runtime!);
const CLI = path.join(projectRoot, 'dist', 'cli', 'main.js');
const n = (x: number) => x.toLocaleString('en-US');

const can = await canCreateNamespaces();
if (!can.ok) {
  process.stderr.write(`segments-ceiling: network namespaces cannot be made here: ${can.reason}\n`);
  process.exit(1);
}

function firstLine(p: ManagedProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${p.label}: no ready line within ${ms} ms: ${p.stderrTail()}`)), ms);
    p.child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    void p.exited.then((r) => reject(new Error(`${p.label} exited (${r.code ?? r.signal}): ${p.stderrTail()}`)));
  });
}

function outputOf(p: ManagedProcess, ms: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  p.child.stdout!.setEncoding('utf8');
  p.child.stdout!.on('data', (s: string) => (stdout += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${p.label} did not end within ${ms} ms: ${p.stderrTail()}`)), ms);
    void p.exited.then((r) => {
      clearTimeout(timer);
      resolve({ code: r.code, stdout, stderr: p.stderrTail() });
    });
  });
}

const openFiles = (pid: number): number | null => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
};
const fileLimitOf = (pid: number): number | null => {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
};
const shellWord = (a: string) => (a.includes('$(JOB_COMPLETION_INDEX)') ? `"${a.replace('$(JOB_COMPLETION_INDEX)', '$JOB_COMPLETION_INDEX')}"` : `'${a.replace(/'/g, `'\\''`)}'`);

let net: HostNetwork | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-segments-ceiling-'));
let exitCode = 1;
try {
  const raw = {
    name: 'segments-ceiling',
    description: `Idle connections from ${segments} load segments, ${n(perSegment)} each, held ${holdSec} s: more than the server's open-file limit allows.`,
    route: '/echo',
    connections: segments * perSegment,
    warmupSec: 1,
    durationSec: holdSec,
    load: { model: 'idle' },
  };
  const { scenario, problems } = validateScenario(raw, 'segments-ceiling');
  if (!scenario) throw new Error(problems.join('; '));
  const scenarioFile = path.join(dir, 'scenario.json');
  writeFileSync(scenarioFile, JSON.stringify(raw));

  net = await createHosts(1 + segments, { prefix: 'benchceil' });
  const [serverHost, ...loadHosts] = net.hosts as [HostNetwork['hosts'][0], ...HostNetwork['hosts']];
  const env = { ...process.env, NO_COLOR: '1' };
  const serveArgs = [CLI, 'serve', '--runtime', runtime, '--host', serverHost.address, '--port', '9001'];
  const serve =
    fdLimit === undefined
      ? serverHost.exec(process.execPath, serveArgs, { env, label: 'bench serve', cwd: projectRoot })
      : serverHost.exec('prlimit', [`--nofile=${fdLimit}:${fdLimit}`, '--', process.execPath, ...serveArgs], { env, label: 'bench serve', cwd: projectRoot });
  const ready = JSON.parse(await firstLine(serve, 30_000)) as { pid: number; port: number };
  serve.child.stdout!.resume();
  const serverLimit = fileLimitOf(ready.pid);
  const target = `ws://${serverHost.address}:${ready.port}`;
  process.stderr.write(`server: ${runtime} pid ${ready.pid} at ${target}, open-file limit ${serverLimit === null ? 'unknown' : n(serverLimit)}\n`);

  // Time to start N CLIs and open their connections (most of them refused at the server's limit, at once).
  const leadMs = values['lead-ms'] !== undefined ? whole('lead-ms', values['lead-ms'], 1000, 600_000) : 5000 + perSegment;
  const startAtMs = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  const job = renderManifests({ scenario, runtime, segments, image: 'bench:local', startAtMs, load: { cpus: 1 } }).find((o) => o.kind === 'Job') as Job;
  const cmd = job.spec!.template.spec!.containers.find((c) => c.name === 'load')!.command!;
  const argv = cmd.map((a) => (a === PATHS.scenarioFile ? scenarioFile : a.startsWith('ws://') ? target : a === 'node' ? process.execPath : a));
  const line = `exec ${argv.map(shellWord).join(' ')}`;
  const runs = loadHosts.map((h, i) => outputOf(h.exec('sh', ['-c', line], { env: { ...env, JOB_COMPLETION_INDEX: String(i) }, label: `segment ${i}`, cwd: projectRoot }), leadMs + (holdSec + 60) * 1000));

  // The server's open files in the middle of the held window.
  const midMs = startAtMs + 1000 + (holdSec * 1000) / 2 - Date.now();
  const serverFds = await new Promise<number | null>((resolve) => setTimeout(() => resolve(openFiles(ready.pid)), Math.max(0, midMs)));
  const outs = await Promise.all(runs);
  const results: SegmentResult[] = [];
  outs.forEach((o, i) => {
    const block = parseResultBlocks(o.stdout).find((b) => b.kind === 'segment-result');
    if (o.code !== 0 || !block) throw new Error(`segment ${i} failed (exit ${o.code}): ${o.stderr.split('\n').slice(-6).join('\n')}`);
    results.push(block.payload as SegmentResult);
  });
  const merged = mergeSegmentResults(
    results.map((raw, i) => ({ name: `segment ${i}/${segments}`, raw })),
    { toolVersion: 'script', commandLine: ['node', 'dist/scripts/segments-ceiling.js', ...process.argv.slice(2)] },
  );
  if (values.out) {
    await writeRunReports(path.resolve(values.out), merged);
    process.stderr.write(`merged result: ${path.resolve(values.out, 'result.json')}\n`);
  }

  const table = new Table({
    head: ['segment', 'address', 'asked', 'opened', 'failed', 'errors', 'open files: needs / has', 'ports: needs / has'],
    colAligns: ['right', 'left', 'right', 'right', 'right', 'left', 'right', 'right'],
    style: { head: [], border: [], compact: true },
  });
  let worstShare = 0;
  results.forEach((r, i) => {
    const lim = (name: string) => r.kernel.find((k) => k.name === name);
    const fds = lim('RLIMIT_NOFILE');
    const ports = lim('net.ipv4.ip_local_port_range');
    for (const l of [fds, ports]) if (l?.available) worstShare = Math.max(worstShare, l.needed / l.available);
    table.push([
      `${i}/${segments}`,
      loadHosts[i]!.address,
      n(r.share.connections.count),
      n(r.load.connectionsOpened),
      n(r.load.connectionsFailed),
      Object.entries(r.load.errors).map(([k, v]) => `${k} ${n(v)}`).join(', ') || '–',
      `${n(fds?.needed ?? 0)} / ${fds?.available === null || fds === undefined ? '?' : n(fds.available)}`,
      `${n(ports?.needed ?? 0)} / ${ports?.available === null || ports === undefined ? '?' : n(ports.available)}`,
    ]);
  });
  process.stdout.write(table.toString() + '\n');
  const opened = results.reduce((a, r) => a + r.load.connectionsOpened, 0);
  const asked = segments * perSegment;
  process.stdout.write(`total: ${n(opened)} of ${n(asked)} connections opened and held, ${n(asked - opened)} refused\n`);
  process.stdout.write(`server: ${serverFds === null ? 'its open files could not be read' : `${n(serverFds)} open files in the held window`}, open-file limit ${serverLimit === null ? 'unknown' : n(serverLimit)}\n`);
  // The server keeps a few files of its own (its listening socket, stdio, the runtime's own): within 64 of the limit is "at it".
  const reached = serverLimit !== null && serverFds !== null && serverFds >= serverLimit - 64;
  const below = worstShare <= 0.5;
  process.stdout.write(
    reached
      ? `found: the server stopped at its own open-file limit (${n(serverFds!)} of ${n(serverLimit!)} files, ${n(opened)} connections) while every segment used at most ${(worstShare * 100).toFixed(0)}% of its own open-file limit and ports: the ceiling measured is the server's.\n`
      : `found: the server's open-file limit was not reached (${serverFds === null ? '?' : n(serverFds)} of ${serverLimit === null ? '?' : n(serverLimit)} files): ask for more connections (--per-segment), or lower it (--server-fd-limit).\n`,
  );
  if (!below) process.stdout.write(`note: a segment used ${(worstShare * 100).toFixed(0)}% of one of its own limits: add segments so each stays far below them.\n`);
  exitCode = reached && below ? 0 : 1;
} catch (e) {
  process.stderr.write(`segments-ceiling: ${(e as Error).message}\n`);
  exitCode = 1;
} finally {
  await net?.destroy(1000);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(exitCode);
