import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { exePath, isAlive, readProc, readSockStat, runtimeOfExe, threadAffinities } from '../../core/procfs.js';
import { cpuUsBetween, startSampler } from '../../core/sampler.js';

describe('procfs', () => {
  test('reads this process: CPU time grows with work, RSS and peak RSS are plausible, fds counted', () => {
    const a = readProc(process.pid)!;
    const until = performance.now() + 60;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const b = readProc(process.pid)!;
    assert.ok(cpuUsBetween(a, b) >= 10_000, `expected ≥ 10 ms of CPU, got ${cpuUsBetween(a, b)} µs (x=${x})`);
    assert.ok(b.rssBytes > 10 * 1024 * 1024 && b.peakRssBytes >= b.rssBytes);
    assert.ok(b.threads >= 1 && b.fds >= 3);
  });

  test('a process that is gone reads as undefined and not alive', async () => {
    const child = spawn('true');
    await once(child, 'exit');
    assert.equal(readProc(child.pid!), undefined);
    assert.equal(isAlive(child.pid!), false);
  });

  test('names the runtime of an executable, including bun.exe from npm', () => {
    assert.equal(runtimeOfExe('/usr/local/bin/node'), 'node');
    assert.equal(runtimeOfExe('/x/node_modules/bun/bin/bun.exe'), 'bun');
    assert.equal(runtimeOfExe('/x/node_modules/@deno/linux-x64-glibc/deno'), 'deno');
    assert.equal(runtimeOfExe('/bin/sh'), undefined);
    assert.equal(runtimeOfExe(exePath(process.pid)!), 'node');
  });

  test('taskset confines every thread of a child, as read from /proc', async () => {
    const child = spawn('taskset', ['-c', '0', process.execPath, '-e', 'setTimeout(() => {}, 3000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const aff = threadAffinities(child.pid!);
      assert.ok(aff.size >= 2, 'node runs several threads');
      for (const [, cpus] of aff) assert.equal(cpus, '0');
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  test('sockstat reports TCP figures', () => {
    const s = readSockStat();
    assert.ok(s && s.tcpInUse >= 0 && s.tcpMemBytes >= 0);
  });
});

describe('sampler', () => {
  test('samples at the interval until stopped', async () => {
    const s = startSampler(process.pid, 20);
    await new Promise((r) => setTimeout(r, 130));
    const samples = s.stop();
    const n = samples.length;
    assert.ok(n >= 3, `got ${n} samples`);
    assert.ok(samples.every((x, i) => i === 0 || x.tMs >= samples[i - 1]!.tMs));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.samples.length, n, 'no samples after stop');
  });
});

describe('cpuUsBetween', () => {
  const r = (ticksUs: number, preciseUs: number | undefined, threads = 4) => ({ cpuUserUs: ticksUs, cpuSystemUs: 0, rssBytes: 0, peakRssBytes: 0, threads, fds: 0, ...(preciseUs !== undefined ? { cpuPreciseUs: preciseUs } : {}) });
  test('uses the nanosecond sum of the threads where it agrees with the ticks', () => {
    assert.equal(cpuUsBetween(r(100_000, 101_234), r(350_000, 352_987)), 251_753);
  });
  test('falls back to the ticks when a thread ended in between (the precise sum dropped) or none is readable', () => {
    assert.equal(cpuUsBetween(r(100_000, 500_000), r(350_000, 300_000)), 250_000);
    assert.equal(cpuUsBetween(r(100_000, undefined), r(350_000, 352_987)), 250_000);
    // More missing than a tick per thread can explain: a thread's time left with it.
    assert.equal(cpuUsBetween(r(0, 0), r(900_000, 500_000)), 900_000);
  });
});
