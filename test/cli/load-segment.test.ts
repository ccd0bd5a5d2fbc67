import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { formatKernelLimits, segmentKernelLimits } from '../../cli/checks.js';
import type { KernelFacts } from '../../core/kernel-limits.js';
import { runBench } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-load-seg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (argv: string[]) => runBench(argv, { cwd: dir });

// Nothing listens on port 9 here; every refusal below comes before a connection is tried.
const TARGET = ['--target', 'ws://127.0.0.1:9'];
const FUTURE = String(Date.now() + 3_600_000);

describe('bench load --segment: bad input is refused before anything starts, naming the field', () => {
  for (const [what, argv, code, pattern] of [
    ['an index out of range', ['--scenario', 'echo', ...TARGET, '--segment', '3/3', '--start-at', FUTURE], 2, /E_INVALID_SEGMENT.*--segment: segment index 3 is out of range/],
    ['an unexpanded JOB_COMPLETION_INDEX', ['--scenario', 'echo', ...TARGET, '--segment', '$(JOB_COMPLETION_INDEX)/3', '--start-at', FUTURE], 2, /--segment: .* holds a variable that was not expanded/],
    ['1-based segments', ['--scenario', 'echo', ...TARGET, '--segment', '1/1', '--start-at', FUTURE], 2, /--segment: segment index 1 is out of range for 1 segment/],
    ['more segments than connections', ['--scenario', 'echo', ...TARGET, '--segment', '0/100', '--start-at', FUTURE], 2, /E_INVALID_SEGMENT.*100 segments for 64 connections/],
    ['--segment without --scenario', ['--url', 'ws://127.0.0.1:9/echo', '--segment', '0/2'], 2, /--segment: needs --scenario/],
    ['--segment without --start-at', ['--scenario', 'echo', ...TARGET, '--segment', '0/2'], 2, /--segment: needs --start-at/],
    ['--start-at without --segment', ['--scenario', 'echo', ...TARGET, '--start-at', FUTURE], 2, /--start-at: is the agreed start of segments/],
    ['--start-at in seconds', ['--scenario', 'echo', ...TARGET, '--segment', '0/2', '--start-at', '1767268800'], 2, /--start-at: 1767268800 is before 2001/],
    ['--start-at without a zone', ['--scenario', 'echo', ...TARGET, '--segment', '0/2', '--start-at', '2026-01-01T12:00:00'], 2, /--start-at: must be epoch milliseconds or an ISO 8601 time with a zone/],
    ['--scenario without --target', ['--scenario', 'echo', '--segment', '0/2', '--start-at', FUTURE], 2, /--target: required with --scenario/],
    ['--scenario with a --url load flag', ['--scenario', 'echo', ...TARGET, '--rate', '100'], 2, /--rate: shapes a --url load/],
    ['a model that is a stepped search', ['--scenario', 'ceiling', ...TARGET, '--segment', '0/2', '--start-at', FUTURE], 2, /ceiling model .* bench load cannot run/],
    ['a case the scenario lacks', ['--scenario', 'echo-rate', ...TARGET, '--case', 'nope'], 2, /--case: "nope" is not a case of echo-rate/],
    ['a start already past', ['--scenario', 'echo', ...TARGET, '--segment', '0/2', '--start-at', '2020-01-01T00:00:00Z'], 3, /E_SEGMENT_LATE.*segment 0\/2: its window began at 2020-01-01T00:00:02/],
    ['a start more than a day ahead', ['--scenario', 'echo', ...TARGET, '--segment', '0/2', '--start-at', String(Date.now() + 2 * 86_400_000)], 3, /E_SEGMENT_LATE.*more than a day ahead/],
  ] as const) {
    test(`${what}: exit ${code}`, async () => {
      const r = await cli(['load', ...argv]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr.replace(/\n/g, ' '), pattern);
      assert.equal(r.stdout, '');
    });
  }

  test('the kernel limits are reported before the segment starts, even when it then refuses', async () => {
    const r = await cli(['load', '--scenario', 'echo', ...TARGET, '--segment', '0/2', '--start-at', '2020-01-01T00:00:00Z']);
    assert.match(r.stderr, /segment 0\/2: connections 0–31 of 64, seed \d+; kernel limits:/);
    assert.match(r.stderr, /RLIMIT_NOFILE: needs 132/);
    assert.match(r.stderr, /net\.ipv4\.ip_local_port_range: needs 32/);
    assert.match(r.stderr, /net\.netfilter\.nf_conntrack_max: needs 32/);
  });
});

describe('segmentKernelLimits: what a segment checks and reports, with the fix', () => {
  const facts = (over: Partial<KernelFacts> = {}): KernelFacts => ({
    openFileLimit: 20_000,
    openFileHardLimit: 20_000,
    ephemeralPortRange: [32768, 60999],
    conntrackMax: 262_144,
    conntrackCount: 100,
    ...over,
  });
  const need = (connections: number, workers = 1) => ({ field: '--segment 0/4: its connections', connections, workers });

  test('within every limit: all ok, nothing refused', () => {
    const { limits, findings } = segmentKernelLimits(need(5000), facts());
    assert.deepEqual(findings, []);
    assert.deepEqual(limits.map((l) => [l.name, l.needed, l.available, l.status]), [
      ['RLIMIT_NOFILE', 5100, 20_000, 'ok'],
      ['net.ipv4.ip_local_port_range', 5000, 28_232, 'ok'],
      ['net.netfilter.nf_conntrack_max', 5000, 262_044, 'ok'],
    ]);
  });

  test('past the open-file limit or the port range: refused, with the fix named', () => {
    const { limits, findings } = segmentKernelLimits(need(30_000, 1), facts());
    // 30,000 connections need two workers (19,000 each at most): 15,000 + 100 files each fits 20,000.
    assert.equal(limits[0]!.status, 'ok');
    assert.equal(limits[1]!.status, 'refused');
    assert.match(limits[1]!.fix!, /ip_local_port_range="1024 65535"/);
    assert.equal(findings.length, 1);
    assert.match(findings[0]!.field, /--segment 0\/4/);
    const fds = segmentKernelLimits(need(10_000), facts({ openFileLimit: 4096 }));
    assert.equal(fds.limits[0]!.status, 'refused');
    assert.match(fds.limits[0]!.fix!, /ulimit -n 10100/);
    assert.ok(fds.findings.some((f) => /open-file limit 4,096/.test(f.message)));
  });

  test('a conntrack table too small warns (the node is shared: the segment still runs); unreadable limits are unknown', () => {
    const small = segmentKernelLimits(need(5000), facts({ conntrackMax: 4096, conntrackCount: 96 }));
    assert.equal(small.limits[2]!.status, 'warn');
    assert.match(small.limits[2]!.fix!, /nf_conntrack_max=5096/);
    assert.deepEqual(small.findings, []);
    const none = segmentKernelLimits(need(10), facts({ conntrackMax: null, conntrackCount: null, openFileLimit: null, ephemeralPortRange: null }));
    assert.deepEqual(none.limits.map((l) => l.status), ['unknown', 'unknown', 'unknown']);
    assert.match(formatKernelLimits(none.limits), /unreadable here/);
  });
});

test('a scenario file run whole with --scenario names its cases', async () => {
  writeFileSync(path.join(dir, 'two.json'), JSON.stringify({ name: 'two', description: 'two rates', route: '/echo', connections: 2, warmupSec: 0, durationSec: 1, load: { model: 'open', ratesPerSec: [10, 20] }, message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } } }));
  const r = await cli(['load', '--scenario', './two.json', ...TARGET]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--case: two has 2 cases; name one/);
  assert.match(r.stderr, /two@10\/s, two@20\/s/);
});
