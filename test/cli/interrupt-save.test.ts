// An interrupted run whose end cannot be saved in time (bench must exit 2 s after the signal, and a server start
// or a slow report can take longer on a busy machine) still leaves a result.json marked interrupted, never
// "running": the CLI's last words write the newest state synchronously (cli/main.ts runs them before exiting).
import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ExitCode } from '../../base/errors.js';
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import { currentHost } from '../../core/host.js';
import { liveServers } from '../../core/launcher.js';
import { asInterrupted } from '../../core/run.js';
import type { RunResult } from '../../schema/result.js';
import { syntheticResult } from '../helpers/synthetic.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-interrupt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('asInterrupted', () => {
  test('a running result becomes interrupted, its running cell skipped; finished cells and the input stay as they were', () => {
    const r = syntheticResult();
    r.status = 'running';
    r.cells[0]!.status = 'running';
    const before = JSON.stringify(r);
    const out = asInterrupted(r, new Date('2026-01-01T00:00:00Z'));
    assert.equal(out.status, 'interrupted');
    assert.equal(out.finishedAt, '2026-01-01T00:00:00.000Z');
    assert.equal(out.cells[0]!.status, 'skipped');
    assert.equal(out.cells[0]!.error?.code, 'E_INTERRUPTED');
    assert.deepEqual(out.cells.slice(1).map((c) => c.status), r.cells.slice(1).map((c) => c.status));
    assert.equal(JSON.stringify(r), before, 'pure');
  });

  test('a result that already ended is left as it ended', () => {
    const r = syntheticResult();
    assert.equal(r.status, 'completed');
    assert.deepEqual(asInterrupted(r, new Date()), r);
  });
});

/** Polls (every 20 ms, at most `ms`) until `ok` holds. */
async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('bench run interrupted past its deadline', () => {
  test('the forced exit writes result.json marked interrupted at once, and the run still ends interrupted', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'run');
    const b = bufferIo(['run', '--runtime', 'node-ws', '--scenario', 'echo', '--repeat', '1', '--warmup', '1', '--duration', '10', '--out', out], currentHost(), { ...process.env });
    const running = runCli(b.io);
    // --out is the parent: the run writes into a folder of its own, named by its start and runtimes.
    const runDir = () => (existsSync(out) ? readdirSync(out).map((d) => path.join(out, d))[0] : undefined);
    const file = () => path.join(runDir() ?? out, 'result.json');
    const read = () => JSON.parse(readFileSync(file(), 'utf8')) as RunResult;
    // Inside the cell: its start is on disk, status running.
    await until(() => existsSync(file()) && read().cells.some((c) => c.status === 'running'), 30_000);
    assert.equal(read().status, 'running');
    b.signal('SIGINT');
    b.forceExit();
    // Synchronously: no turn of the event loop between the forced exit and this read.
    const now = read();
    assert.equal(now.status, 'interrupted');
    assert.ok(now.cells.every((c) => c.status !== 'running'));
    assert.equal(await running, ExitCode.interrupted);
    assert.equal(read().status, 'interrupted', 'the run\'s own last save agrees');
    assert.equal(liveServers().length, 0);
  });
});
