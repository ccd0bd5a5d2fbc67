// A real regression planted in a server, not in a timing threshold: the same test server twice, the second doing
// twice the work per message (a fixed amount of native hashing, so a busy machine cannot shrink it). `bench run` on
// each side, then `bench compare --fail-on-regression` with the defaults: the primary figure (server CPU per
// message at a rate both carried) must be called a regression and the command exit 10.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import type { Comparison } from '../../core/compare.js';
import { currentHost } from '../../core/host.js';
import { liveServers, stopAllServers } from '../../core/launcher.js';
import { projectRoot } from '../../core/paths.js';

const host = currentHost();
after(() => stopAllServers());

async function cli(argv: string[]) {
  const b = bufferIo(argv, host);
  const code = await runCli(b.io);
  return { code, ...b.out };
}

describe('a regression planted in the server', () => {
  test('twice the CPU per message is a regression on the primary figure: compare exits 10 and names it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-planted-'));
    // A low fixed rate every side carries on a busy machine: 200 msg/s, each hashing 512 KiB (base) or 1 MiB (head), well above the echo's own cost.
    const scenario = path.join(dir, 'planted.json');
    writeFileSync(
      scenario,
      JSON.stringify({
        name: 'planted',
        description: 'open loop at a low rate against a server of known cost per message',
        route: '/echo',
        connections: 8,
        warmupSec: 0.3,
        durationSec: 0.6,
        load: { model: 'open', ratesPerSec: [200], arrivals: 'constant' },
        message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
      }),
    );
    const server = (kib: number) => `node ${path.join(projectRoot, 'dist/test/helpers/limited-server.js')} cost ${kib}`;
    // One repetition per run, base and head alternating (ABBA, as the CI workflow does): CPU time per instruction
    // rises when the other vCPU of a core is busy, so sides run one after the other on a busy machine drift apart
    // or together (seen: all of base, then all of head, during the full suite: "2 unchanged").
    const rep = async (label: string, k: number, i: number) => {
      const r = await cli(['run', '--server-cmd', server(k), '--server-label', 'planted', '--scenario', scenario, '--repeat', '1', '--seed', '3', '--out', path.join(dir, label, String(i))]);
      assert.equal(r.code, 0, r.stderr);
    };
    for (const [i, order] of (['AB', 'BA', 'AB', 'BA', 'AB'] as const).entries()) {
      for (const side of order) await (side === 'A' ? rep('base', 512, i) : rep('head', 1024, i));
    }
    const base = path.join(dir, 'base');
    const head = path.join(dir, 'head');
    const c = await cli(['compare', base, head, '--fail-on-regression', '--format', 'json']);
    assert.equal(c.code, 10, c.stderr);
    const comparison = JSON.parse(c.stdout) as Comparison;
    const cpu = comparison.rows.find((r) => r.metric === 'serverCpuUsPerMsg')!;
    assert.equal(cpu.primary, true);
    assert.equal(cpu.verdict, 'regression');
    // More than the echo's own noise: the hashing doubles, the process's other work per message (timers, GC, the
    // echo) does not, so the whole rises by 1.3-2x (seen 1.3x on a fresh clone).
    assert.ok(cpu.head.median > 1.15 * cpu.base.median, `${cpu.base.median} → ${cpu.head.median} µs/msg`);
    // The latency a gating row may regress too (twice the work per message delays each reply): one or more.
    assert.match(c.stderr, /[1-9]\d* regressions?/);
    assert.equal(liveServers().length, 0);
  });
});
