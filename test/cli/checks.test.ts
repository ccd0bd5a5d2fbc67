import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  caseNeed,
  checkConnections,
  checkCpuList,
  checkListenHost,
  checkPinning,
  checkWsUrl,
  cpuListText,
  isLocalAddress,
  modelNeeds,
  prepareOutDir,
  preflightLoad,
  preflightRun,
  preflightServe,
  throwFindings,
  type ConnectionNeed,
  type MachineFacts,
} from '../../cli/checks.js';
import { BenchError } from '../../base/errors.js';
import { builtinScenarios, expandCases, applyQuick } from '../../core/scenario.js';

/** A 2-CPU machine like the one bench is developed on: limit 20,000 (hard too), ports 32768–60999. */
const facts: MachineFacts = {
  allowedCpus: [0, 1],
  openFileLimit: 20_000,
  openFileHardLimit: 20_000,
  ephemeralPortRange: [32768, 60999],
  localAddresses: ['127.0.0.1', '::1', '192.0.2.2', 'fe80::1'],
  pidExists: (pid) => pid === 4242,
};

const need = (n: number, extra: Partial<ConnectionNeed> = {}): ConnectionNeed => ({
  field: '--connections',
  connections: n,
  workers: 1,
  sourceAddresses: 1,
  serverFdsPerConnection: 1,
  stopsAtLimits: false,
  ...extra,
});

const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-checks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('cpuListText', () => {
  for (const [cpus, want] of [[[0], '0'], [[0, 1, 2, 5], '0-2,5'], [[3, 1, 2, 2], '1-3'], [[], '']] as [number[], string][]) {
    test(`${JSON.stringify(cpus)} → "${want}"`, () => assert.equal(cpuListText(cpus), want));
  }
});

describe('checkCpuList', () => {
  test('CPUs within Cpus_allowed_list pass', () => {
    assert.deepEqual(checkCpuList('--server-cpus', '0', facts), []);
    assert.deepEqual(checkCpuList('--server-cpus', '0-1', facts), []);
    assert.deepEqual(checkCpuList('--server-cpus', undefined, facts), []);
  });

  test('a CPU that is not allowed names the flag and lists the allowed ones', () => {
    const [f] = checkCpuList('--loadgen-cpus', '5', facts);
    assert.equal(f?.field, '--loadgen-cpus');
    assert.match(f!.message, /CPU 5 is not one this process may run on \(allowed here: 0-1\)/);
    assert.match(f!.fix!, /within 0-1/);
    assert.match(checkCpuList('--cpus', '1-3', facts)[0]!.message, /CPUs 2-3 are not ones/);
  });

  test('unknown allowed CPUs (no /proc) check nothing', () => {
    assert.deepEqual(checkCpuList('--cpus', '99', { allowedCpus: [] }), []);
  });
});

describe('checkPinning', () => {
  const ours = { allowShared: false, serverIsOurs: true };
  test('separate CPUs pass', () => assert.deepEqual(checkPinning({ server: '0', loadgen: '1' }, ours, facts), []));
  test('shared CPUs are refused naming both flags and the fix', () => {
    const [f] = checkPinning({ server: '0', loadgen: '0' }, ours, facts);
    assert.equal(f?.field, '--server-cpus/--loadgen-cpus');
    assert.match(f!.message, /would share CPU 0/);
    assert.match(f!.fix!, /--allow-shared-cpus/);
  });
  test('a side left unpinned floats over every CPU, so it shares', () => {
    assert.equal(checkPinning({ server: '0-1', loadgen: null }, ours, facts).length, 1);
    assert.equal(checkPinning({ server: null, loadgen: '1' }, ours, facts).length, 1);
  });
  test('--allow-shared-cpus accepts, a --target server is not ours, one CPU cannot be split', () => {
    assert.deepEqual(checkPinning({ server: '0', loadgen: '0' }, { allowShared: true, serverIsOurs: true }, facts), []);
    assert.deepEqual(checkPinning({ server: '0', loadgen: '0' }, { allowShared: false, serverIsOurs: false }, facts), []);
    assert.deepEqual(checkPinning({ server: null, loadgen: null }, ours, { allowedCpus: [0] }), []);
    assert.deepEqual(checkPinning({ server: null, loadgen: null }, ours, facts), []);
  });
});

describe('listen addresses and URLs', () => {
  for (const h of ['127.0.0.1', '127.0.0.2', 'localhost', '0.0.0.0', '::', '::1', '[::1]', '192.0.2.2']) {
    test(`${h} is this machine`, () => assert.ok(isLocalAddress(h, facts)));
  }
  for (const h of ['999.1.1.1', '10.9.9.9', 'example.com', '', '::2', '1.2.3']) {
    test(`${JSON.stringify(h)} is refused naming --host`, () => {
      const [f] = checkListenHost('--host', h, facts);
      assert.equal(f?.field, '--host');
      assert.match(f!.fix!, /127\.0\.0\.1/);
    });
  }
  test('ws URLs', () => {
    assert.deepEqual(checkWsUrl('--url', 'ws://127.0.0.1:9001/echo'), []);
    assert.match(checkWsUrl('--url', 'ws://127.0.0.1:0/echo')[0]!.message, /port 0/);
    assert.match(checkWsUrl('--url', 'http://127.0.0.1:1/')[0]!.message, /ws:\/\//);
    assert.match(checkWsUrl('--url', 'nope')[0]!.message, /not a URL/);
  });
});

describe('checkConnections', () => {
  test('what this machine holds passes', () => {
    assert.deepEqual(checkConnections(need(19_000), facts), []);
    assert.deepEqual(checkConnections(need(28_232, { serverFdsPerConnection: 0 }), facts), []);
  });

  test('a server that would run out of files is refused with the most it can hold and the fix', () => {
    const [f] = checkConnections(need(1_000_000, { sourceAddresses: 4_000 }), facts);
    assert.match(f!.message, /1,000,000 connections need 1,000,100 open files in the server, above its open-file limit 20,000/);
    assert.match(f!.fix!, /at most 19,900/);
    assert.match(f!.fix!, /hard open-file limit to 1,000,100/);
    assert.match(f!.fix!, /ceiling model/);
  });

  test('a relay holds two files per session', () => {
    assert.equal(checkConnections(need(9_950, { serverFdsPerConnection: 2 }), facts).length, 0);
    const [f] = checkConnections(need(10_000, { serverFdsPerConnection: 2 }), facts);
    assert.match(f!.message, /20,100 open files .*2 per connection/);
  });

  test('a soft limit below the hard one says ulimit -n', () => {
    const [f] = checkConnections(need(5_000), { ...facts, openFileLimit: 1024, openFileHardLimit: 1_048_576 });
    assert.match(f!.fix!, /ulimit -n 5100/);
  });

  test('the ceiling stops at the limits by design: neither the server limit nor the ports refuse it', () => {
    assert.deepEqual(checkConnections(need(1_000_000, { stopsAtLimits: true, sourceAddresses: 4 }), facts), []);
  });

  test('ports: per source address', () => {
    const [f] = checkConnections(need(30_000, { serverFdsPerConnection: 0 }), facts);
    assert.match(f!.message, /30,000 local ports, but the ephemeral port range 32768–60999 has 28,232/);
    assert.match(f!.fix!, /ip_local_port_range/);
    assert.deepEqual(checkConnections(need(30_000, { serverFdsPerConnection: 0, sourceAddresses: 4 }), facts), []);
  });

  test('load-generator processes: each share within the limit, --workers named as the fix', () => {
    const low = { ...facts, openFileLimit: 1024, openFileHardLimit: 1024 };
    const [f] = checkConnections(need(3_000, { serverFdsPerConnection: 0 }), low);
    assert.match(f!.message, /each of the 1 load-generator process would hold 3,000 connections, above the open-file limit 1,024/);
    assert.match(f!.fix!, /--workers 4/);
    assert.deepEqual(checkConnections(need(3_000, { serverFdsPerConnection: 0, workers: 4 }), low), []);
  });

  test('unknown limits check nothing', () => {
    assert.deepEqual(checkConnections(need(1_000_000), { openFileLimit: null, openFileHardLimit: null, ephemeralPortRange: null }), []);
  });

  test('every built-in scenario, full and quick, fits this machine', () => {
    for (const s of builtinScenarios()) {
      for (const c of [...expandCases(s), ...expandCases(applyQuick(s))]) {
        assert.deepEqual(checkConnections(caseNeed(c, 1, true), facts), [], c.name);
      }
    }
  });

  test('model needs: the ceiling stops at limits and binds 4 addresses; a relay holds 2 files; a one-step idle binds none', () => {
    assert.deepEqual(modelNeeds({ model: 'closed', depth: 1 }), { sourceAddresses: 1, stopsAtLimits: false, serverFdsPerConnection: 1 });
    assert.deepEqual(modelNeeds({ model: 'idle' }), { sourceAddresses: 1, stopsAtLimits: false, serverFdsPerConnection: 1 });
    assert.equal(modelNeeds({ model: 'idle', steps: 4 }).stopsAtLimits, false);
    assert.equal(modelNeeds({ model: 'idle', steps: 4 }).sourceAddresses, 4);
    const ceiling = expandCases(builtinScenarios().find((s) => s.name === 'ceiling')!)[0]!;
    assert.equal(modelNeeds(ceiling.model).stopsAtLimits, true);
    const voice = expandCases(builtinScenarios().find((s) => s.name === 'voice-agent')!)[0]!;
    assert.equal(modelNeeds(voice.model).serverFdsPerConnection, 2);
  });
});

describe('the result folder', () => {
  test('is created before anything starts', async () => {
    const dir = path.join(tmp, 'a', 'b');
    assert.deepEqual(await prepareOutDir(dir), []);
    assert.ok(existsSync(dir));
  });

  test('a file in the way names --out and says why', async () => {
    const file = path.join(tmp, 'file');
    writeFileSync(file, '');
    const [f] = await prepareOutDir(path.join(file, 'x'));
    assert.equal(f?.field, '--out');
    assert.match(f!.message, /ENOTDIR \(a file is in the way/);
    const [g] = await prepareOutDir('/dev/null/x');
    assert.match(g!.message, /ENOTDIR/);
  });
});

describe('preflight', () => {
  const echo = expandCases(builtinScenarios().find((s) => s.name === 'echo')!);
  const plan = { cases: echo, workers: 1, serverCpus: '0', loadgenCpus: '1' };

  test('one finding is the message, its fix the hint; several are listed with theirs', () => {
    assert.throws(() => throwFindings([{ field: '--x', message: 'bad', fix: 'do y' }]), (e: BenchError) => e.code === 'E_USAGE' && e.message === '--x: bad' && e.hint === 'do y');
    assert.throws(
      () => throwFindings([{ field: '--x', message: 'bad' }, { field: 's', message: 'worse', fix: 'z', code: 'E_INVALID_SCENARIO' }]),
      (e: BenchError) => e.code === 'E_USAGE' && e.details.join('|') === '--x: bad|s: worse|  fix: z',
    );
    assert.throws(() => throwFindings([{ field: 's', message: 'm', code: 'E_INVALID_SCENARIO' }]), (e: BenchError) => e.code === 'E_INVALID_SCENARIO');
    assert.doesNotThrow(() => throwFindings([]));
  });

  test('run: a good plan creates its folder; bad flags are refused before it', async () => {
    const out = path.join(tmp, 'run-ok');
    await preflightRun({}, plan, out, facts);
    assert.ok(existsSync(out));
    const refused = path.join(tmp, 'run-refused');
    await assert.rejects(preflightRun({ targetPid: 5 }, plan, refused, facts), /--target-pid: needs --target/);
    await assert.rejects(preflightRun({ target: 'ws://127.0.0.1:1', targetPid: 5 }, plan, refused, facts), /--target-pid: no process 5/);
    await assert.rejects(preflightRun({ quick: true, full: true }, plan, refused, facts), /--quick\/--full: exclude each other/);
    await assert.rejects(preflightRun({ serverCpus: '7' }, plan, refused, facts), /--server-cpus: CPU 7/);
    await assert.rejects(preflightRun({}, { ...plan, loadgenCpus: '0' }, refused, facts), /would share CPU 0/);
    await preflightRun({ allowSharedCpus: true }, { ...plan, loadgenCpus: '0' }, path.join(tmp, 'shared-ok'), facts);
    assert.ok(!existsSync(refused), 'nothing is created for a refused run');
  });

  test('load and serve', () => {
    const load = { url: 'ws://127.0.0.1:9/echo', connections: 10, workers: 1, load: { model: 'closed' as const, depth: 1 } };
    assert.doesNotThrow(() => preflightLoad({}, load, facts));
    assert.throws(() => preflightLoad({ idle: true, rate: 5 }, { ...load, load: { model: 'idle' } }, facts), /--idle: sends nothing, so it excludes --rate/);
    assert.throws(() => preflightLoad({}, { ...load, cpus: '4' }, facts), /--cpus: CPU 4/);
    assert.throws(() => preflightLoad({}, { ...load, connections: 40_000 }, facts), /--connections: 40,000 connections/);
    assert.throws(
      () => preflightLoad({}, { ...load, load: { model: 'broadcast', publishers: 1, ratePerSecPerPublisher: 2_000_000, rooms: 1 } }, facts),
      /--rate: with --publishers it is per publisher and may be at most 1000000/,
    );
    assert.doesNotThrow(() => preflightServe({ host: '127.0.0.1', cpus: '1' }, facts));
    assert.throws(() => preflightServe({ host: '999.1.1.1' }, facts), /--host: "999\.1\.1\.1" is not an IP address/);
  });
});
