import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { liveServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';
import { isAlive } from '../../core/procfs.js';
import type { RunResult } from '../../schema/result.js';
import { BARE_RUNTIME_IDS, RUNTIME_IDS } from '../../core/runtimes.js';
import { runBench } from '../helpers/cli.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));

const cli = (argv: string[]) => runBench(argv);

/** Every descendant pid of `pid`, from /proc (ppid links). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parentOf.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parentOf) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

/** Waits until `check` holds, polling; the bound is generous: what is awaited is cleanup, not a speed. */
async function eventually(check: () => boolean, ms = 8000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('bench run, end to end', () => {
  test('a quick run over every runtime writes a complete result with throughput and no delivery errors', async () => {
    const out = tmp();
    // Half a second of window: what is checked is completeness and zero errors, and every cell carries thousands of messages in it.
    const r = await cli(['run', '--scenario', 'echo', 'broadcast', '--quick', '--repeat', '1', '--warmup', '0.25', '--duration', '0.5', '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as RunResult;
    assert.equal(result.schemaVersion, 3);
    assert.equal(result.status, 'completed');
    assert.deepEqual([...result.settings.runtimes].sort(), [...BARE_RUNTIME_IDS].sort());
    assert.equal(result.cells.length, BARE_RUNTIME_IDS.length * 2);
    assert.ok(result.environment.cpuModel && result.environment.kernel && result.environment.openFileLimit);
    assert.equal(Object.keys(result.parity.manifests).length, BARE_RUNTIME_IDS.length);
    assert.deepEqual(result.parity.differences, []);
    for (const c of result.cells) {
      assert.equal(c.status, 'completed', `${c.id}: ${c.error?.message}`);
      const m = c.metrics!;
      assert.ok(m.msgsPerSec > 0, `${c.id} has throughput`);
      const d = m.delivery;
      assert.deepEqual([d.lost, d.duplicated, d.corrupted, d.outOfOrder], [0, 0, 0, 0], `${c.id}: ${JSON.stringify(d)}`);
      assert.ok(c.raw?.latencyEncoded.startsWith('bench-hdr1:'));
      assert.ok(m.serverCpuUsPerMsg !== null && m.serverCpuUsPerMsg > 0);
      assert.ok(c.server && c.server.cpus === '0', 'the server was pinned');
    }
    const dir = readdirSync(out)[0]!;
    for (const f of ['result.json', 'report.md', 'results.csv', 'report.html']) assert.ok(existsSync(path.join(out, dir, f)), f);
    // The terminal ends in the decision; the per-cell tables are in the folder (and on the terminal with --verbose).
    assert.match(r.stderr, /Decision: 0 of 12 runtime pairs settled .* 1 fixed repetition/);
    assert.match(r.stderr, /undecided: too few repetitions/);
    assert.doesNotMatch(r.stderr, /Parity/);
    // stderr is not a terminal here (as in CI or under `| tee`): a plain line per finished cell, no rewriting.
    const cellLines = r.stderr.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l));
    assert.equal(cellLines.length, result.cells.length, r.stderr);
    assert.match(cellLines[0]!, new RegExp(`^\\[1/${result.cells.length}\\] (echo|broadcast)\\S* · \\S+ · rep 1 · done in \\d+\\.\\d s · (≥ )?[\\d,]+ msg/s`));
    assert.doesNotMatch(r.stderr, /[\r\x1b]/);
    assert.equal(liveServers().length, 0);
  });

  /** Starts `bench run` as a child process, as a user would; resolves when one of its cells is measuring. */
  async function startRun(waitForCompletedCell: boolean) {
    const out = tmp();
    const child = spawn(process.execPath, [path.join(projectRoot, 'dist/cli/main.js'), 'run', '--runtime', 'node-ws', 'bun', '--scenario', 'echo', '--repeat', '3', '--warmup', '0.5', '--duration', '2', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (code) => r({ code, at: Date.now() })));
    const deadline = Date.now() + 60_000;
    let file = '';
    while (Date.now() < deadline) {
      const dirs = existsSync(out) ? readdirSync(out) : [];
      file = dirs[0] ? path.join(out, dirs[0], 'result.json') : '';
      const cells = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResult).cells : [];
      const finished = cells.some((c) => c.status === 'completed' || c.status === 'errored');
      const ready = (!waitForCompletedCell || finished) && cells.some((c) => c.status === 'running') && descendants(child.pid!).length >= 3;
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Into the middle of a cell: its server and load generator are running.
    await new Promise((r) => setTimeout(r, 800));
    return { child, exited, file: () => file, stderr: () => stderr };
  }

  for (const [sig, code] of [['SIGINT', 130], ['SIGHUP', 129], ['SIGTERM', 143]] as const) {
    test(`${sig} during a run stops it with exit ${code}, keeps a valid partial report, and leaves no process behind`, async () => {
      const run = await startRun(sig === 'SIGINT');
      const family = descendants(run.child.pid!);
      assert.ok(family.length > 0, 'a server or load generator was running');
      const signalledAt = Date.now();
      run.child.kill(sig);
      const { code: exitCode, at } = await run.exited;
      assert.equal(exitCode, code, run.stderr());
      // Generous: what this guards against is a run that lingers for tens of seconds after its report.
      assert.ok(at - signalledAt < 10_000, `exited ${at - signalledAt} ms after ${sig}`);
      const result = JSON.parse(readFileSync(run.file(), 'utf8')) as RunResult;
      assert.equal(result.status, 'interrupted');
      // What was measured before the signal is kept.
      if (sig === 'SIGINT') assert.ok(result.cells.some((c) => c.status === 'completed' || c.status === 'errored'));
      assert.ok(result.cells.some((c) => c.status === 'skipped'));
      for (const pid of family) assert.ok(await eventually(() => !isAlive(pid)), `process ${pid} outlived bench`);
    });
  }

  test('SIGKILL of bench leaves no server or load generator behind', async () => {
    const run = await startRun(false);
    const family = descendants(run.child.pid!);
    assert.ok(family.length > 0);
    run.child.kill('SIGKILL');
    await run.exited;
    for (const pid of family) assert.ok(await eventually(() => !isAlive(pid)), `process ${pid} outlived bench`);
  });
});

describe('bench run: bad input exits 2 naming the field', () => {
  test('a bad flag value', async () => {
    const r = await cli(['run', '--repeat', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--repeat: must be a whole number ≥ 1/);
  });

  test('an invalid scenario file lists every problem with its field path', async () => {
    const file = path.join(tmp(), 's.json');
    writeFileSync(file, JSON.stringify({ name: 'x', description: 'd', route: '/echo', connections: 0, durationSec: 1, load: { model: 'closed', depth: 0 }, message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } } }));
    const r = await cli(['run', '--scenario', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_INVALID_SCENARIO\]/);
    assert.match(r.stderr, /scenario "x": connections: must be at least 1, got 0/);
    assert.match(r.stderr, /scenario "x": load\.depth: must be at least 1, got 0/);
  });

  test('an unknown scenario name lists the built-ins', async () => {
    const r = await cli(['run', '--scenario', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /built-in scenarios: .*echo-rate/);
  });

  test('an unknown runtime', async () => {
    const r = await cli(['run', '--runtime', 'node-express']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_UNKNOWN_RUNTIME/);
  });

  test('binary messages for a Socket.IO stack, before anything starts', async () => {
    const out = tmp();
    const r = await cli(['run', '--runtime', 'node-socketio', 'bun', '--scenario', 'echo-rate', '--out', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_USAGE\]/);
    assert.match(r.stderr, /scenario "echo-rate": message\.kind: "binary" cannot go to a Socket\.IO stack \(node-socketio\)/);
    assert.doesNotMatch(r.stderr, /results:/, 'refused before the run was announced');
    assert.equal(readdirSync(out).length, 0);
  });
});

describe('bench report', () => {
  const fixture = path.join(projectRoot, 'test', 'fixtures', 'run-result.json');
  for (const format of ['table', 'json', 'markdown', 'csv', 'html']) {
    test(`re-renders a stored result as ${format}`, async () => {
      const r = await cli(['report', fixture, '--format', format]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.length > 200);
    });
  }

  test('a file that is not a result exits 2 naming the field', async () => {
    const file = path.join(tmp(), 'r.json');
    writeFileSync(file, JSON.stringify({ schemaVersion: 99, cells: {} }));
    const r = await cli(['report', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_INVALID_RESULT/);
    assert.match(r.stderr, /schemaVersion: must be 3, got 99/);
    assert.match(r.stderr, /cells: must be a list/);
  });

  test('an unknown format lists the valid ones', async () => {
    const r = await cli(['report', fixture, '--format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /table, json, markdown, csv/);
  });
});

describe('bench list scenarios and doctor', () => {
  test('list scenarios shows each built-in with its description', async () => {
    const r = await cli(['list', 'scenarios']);
    assert.equal(r.code, 0);
    for (const name of ['echo', 'echo-rate', 'broadcast', 'http', 'idle']) assert.match(r.stdout, new RegExp(`^${name}\\b`, 'm'));
  });

  test('doctor checks runtimes, the open-file limit against planned connections, and the pinning plan', async () => {
    const r = await cli(['doctor', '--connections', '50000', '--json']);
    assert.equal(r.code, 0);
    const { checks } = JSON.parse(r.stdout) as { checks: { name: string; status: string; fix?: string }[] };
    assert.ok(checks.some((c) => c.name === 'open-file limit' && c.status === 'warn' && c.fix));
    assert.ok(checks.some((c) => c.name === 'CPUs and pinning'));
    assert.equal(checks.filter((c) => c.name.startsWith('runtime ')).length, RUNTIME_IDS.length, 'every registry runtime, the stacks included');
  });
});
