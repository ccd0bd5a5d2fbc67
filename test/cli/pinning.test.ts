import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pinningPlan } from '../../cli/commands/run.js';
import { diagnose } from '../../core/doctor.js';
import type { Environment } from '../../core/environment.js';

describe('pinningPlan', () => {
  test('server on the first CPU, load generator on the rest, nothing pinned on one CPU', () => {
    assert.deepEqual(pinningPlan('0-3'), { server: '0', loadgen: '1,2,3', upstream: '1,2,3' });
    assert.deepEqual(pinningPlan('0'), { server: null, loadgen: null, upstream: null });
  });

  test('a voice run gives the simulated upstream the last CPU when there are three or more, else the load generator\'s', () => {
    assert.deepEqual(pinningPlan('0-3', undefined, undefined, true), { server: '0', loadgen: '1,2', upstream: '3' });
    assert.deepEqual(pinningPlan('0-2', undefined, undefined, true), { server: '0', loadgen: '1', upstream: '2' });
    assert.deepEqual(pinningPlan('0-1', undefined, undefined, true), { server: '0', loadgen: '1', upstream: '1' });
  });

  test('explicit CPUs win, and the upstream goes with the load generator', () => {
    assert.deepEqual(pinningPlan('0-3', '2', '3', true), { server: '2', loadgen: '3', upstream: '3' });
  });

  test('one side given: the other gets the allowed CPUs it leaves (the server one of them), none left: unpinned', () => {
    assert.deepEqual(pinningPlan('0-1', '1'), { server: '1', loadgen: '0', upstream: '0' });
    assert.deepEqual(pinningPlan('0-3', '0'), { server: '0', loadgen: '1,2,3', upstream: '1,2,3' });
    assert.deepEqual(pinningPlan('0-3', undefined, '0,1'), { server: '2', loadgen: '0,1', upstream: '0,1' });
    assert.deepEqual(pinningPlan('0-1', '0-1'), { server: '0-1', loadgen: null, upstream: null });
    assert.deepEqual(pinningPlan('0-1', undefined, '0-1'), { server: null, loadgen: '0-1', upstream: '0-1' });
  });
});

describe('doctor on the voice upstream', () => {
  const env = { runtimes: [], logicalCpus: 2, allowedCpus: '0-1', openFileLimit: 20_000, ephemeralPortRange: [32768, 60999], cpuGovernor: null } as unknown as Environment;

  test('warns when the upstream must share the load generator\'s CPU, and is content when it has its own', async () => {
    const shared = (await diagnose(env, 100, { server: '0', loadgen: '1', upstream: '1' })).find((c) => c.name === 'voice upstream');
    assert.equal(shared?.status, 'warn');
    assert.match(shared!.fix!, /3 or more CPUs/);
    const own = (await diagnose(env, 100, { server: '0', loadgen: '1,2', upstream: '3' })).find((c) => c.name === 'voice upstream');
    assert.equal(own?.status, 'ok');
  });
});
