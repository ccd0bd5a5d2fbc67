import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { BenchError } from '../../../base/errors.js';
import { PINNED_DEFAULTS } from '../../../core/runtime-versions/catalog.js';
import {
  defaultNodeFrom,
  labelRequest,
  resolveRunRuntimes,
  runtimeEntries,
  serverBinaries,
  type DefaultNode,
  type RunRuntime,
} from '../../../core/runtime-versions/labels.js';
import type { RuntimeStatus } from '../../../schema/result.js';
import { cleanupWorlds, world } from './fakes.js';
import { codeOf, errorOf } from '../../helpers/bench-error.js';

after(cleanupWorlds);



const resolveAll = (labels: string[], w: ReturnType<typeof world>, defaultNode: DefaultNode = 'pinned', skip?: (l: string, e: BenchError) => void) =>
  resolveRunRuntimes(labels.map((l) => labelRequest(l, defaultNode)), w, skip);

describe('labelRequest', () => {
  test('a plain id asks for the pinned default; a version for that version; a copy keeps its suffix apart', () => {
    assert.deepEqual(labelRequest('bun', 'pinned'), { label: 'bun', registryId: 'bun', bare: 'bun', request: { text: 'bun', id: 'bun', spec: { kind: 'default' } }, plain: true, copy: '' });
    const v = labelRequest('node-ws@24#2', 'pinned');
    assert.deepEqual([v.request.text, v.request.spec, v.plain, v.copy], ['node-ws@24', { kind: 'line', major: 24 }, false, '#2']);
    assert.deepEqual(labelRequest('bun@1.3.14', 'pinned').request.spec, { kind: 'exact', version: '1.3.14' });
  });

  test('a stack asks for its bare runtime\'s binary', () => {
    const r = labelRequest('node-socketio-uws@22', 'pinned');
    assert.deepEqual([r.registryId, r.bare, r.request.id, r.request.text], ['node-socketio-uws', 'node-uws', 'node-uws', 'node-socketio-uws@22']);
    assert.equal(labelRequest('bun-socketio', 'pinned').request.id, 'bun');
  });

  test('BENCH_DEFAULT_NODE=system makes plain Node ids (and Node stacks) the Node on PATH; bun, deno and versions are unchanged', () => {
    for (const id of ['node-ws', 'node-uws', 'node-socketio']) assert.equal(labelRequest(id, 'system').request.spec.kind, 'system', id);
    assert.equal(labelRequest('bun', 'system').request.spec.kind, 'default');
    assert.equal(labelRequest('node-ws@22', 'system').request.spec.kind, 'line');
  });

  test('malformed versions and unknown ids are refused with their codes, naming the label as written', () => {
    assert.equal(codeOf(() => labelRequest('bun@1.x', 'pinned')), 'E_INVALID_RUNTIME_VERSION');
    assert.equal(codeOf(() => labelRequest('deno@system', 'pinned')), 'E_INVALID_RUNTIME_VERSION');
    assert.equal(codeOf(() => labelRequest('nodejs@20', 'pinned')), 'E_UNKNOWN_RUNTIME');
    assert.throws(() => labelRequest('bun-socketio@system', 'pinned'), (e: unknown) => e instanceof BenchError && /"bun-socketio@system"/.test(e.message));
  });

  test('defaultNodeFrom reads BENCH_DEFAULT_NODE', () => {
    assert.equal(defaultNodeFrom({}), 'pinned');
    assert.equal(defaultNodeFrom({ BENCH_DEFAULT_NODE: 'system' }), 'system');
    assert.equal(codeOf(() => defaultNodeFrom({ BENCH_DEFAULT_NODE: 'path' })), 'E_USAGE');
  });
});

describe('resolveRunRuntimes', () => {
  test('a line is recorded exactly; the same version asked twice is an A/A pair, installed once', async () => {
    const w = world();
    const runs = await resolveAll(['node-ws@24', 'node-ws@24.22.3', 'bun@1.4.5'], w);
    assert.deepEqual(runs.map((r) => [r.asked, r.label]), [
      ['node-ws@24', 'node-ws@24.22.3'],
      ['node-ws@24.22.3', 'node-ws@24.22.3#2'],
      ['bun@1.4.5', 'bun@1.4.5'],
    ]);
    assert.equal(w.npm.calls.filter((c) => c.op === 'install').length, 1);
    const binaries = serverBinaries(runs);
    assert.equal(binaries['node-ws@24.22.3']!.binaryPath, binaries['node-ws@24.22.3#2']!.binaryPath);
    assert.equal(binaries['bun@1.4.5']!.binaryPath, realpathSync(path.join(w.projectRoot, 'node_modules/bun/bin/bun.exe')), 'the installed default, from the project');
  });

  test('plain ids keep their names and run the pinned defaults; a stack runs on its bare runtime\'s binary', async () => {
    const w = world();
    const runs = await resolveAll(['node-ws', 'node-socketio', 'bun'], w);
    assert.deepEqual(runs.map((r) => r.label), ['node-ws', 'node-socketio', 'bun']);
    assert.equal(runs[0]!.resolved.version, PINNED_DEFAULTS['node-ws']);
    assert.equal(runs[1]!.resolved.binaryPath, runs[0]!.resolved.binaryPath, 'node-socketio on the Node plain node-ws runs on');
  });

  test('BENCH_DEFAULT_NODE=system: plain node-ws is the Node on PATH under its plain name; node-ws@system is named so', async () => {
    const w = world();
    const runs = await resolveAll(['node-ws', 'node-ws@system'], w, 'system');
    assert.deepEqual(runs.map((r) => [r.label, r.resolved.source, r.resolved.version]), [
      ['node-ws', 'system', '20.20.2'],
      ['node-ws@system', 'system', '20.20.2'],
    ]);
    assert.deepEqual(w.npm.calls, []);
  });

  test('a node-uws whose Node has no loadable uWebSockets.js build is refused before npm is asked, naming the nearest that works', async () => {
    const w = world();
    const e = await errorOf(resolveAll(['bun', 'node-uws@24'], w));
    assert.equal(e.code, 'E_RUNTIME_UNSUPPORTED');
    assert.match(e.message, /node-uws@24: .*glibc ≥ 2\.38, this host has 2\.36/);
    assert.match(e.hint!, /nearest that works here is node-uws@22/);
    const stack = await errorOf(resolveAll(['node-socketio-uws@24'], w));
    assert.equal(stack.code, 'E_RUNTIME_UNSUPPORTED');
    assert.match(stack.hint!, /node-socketio-uws@22/, 'the stack is named, not its bare runtime');
    assert.deepEqual(w.npm.calls, []);
  });

  test('in a group, a runtime that cannot be resolved is skipped with its reason', async () => {
    const w = world();
    const skipped: string[] = [];
    const runs = await resolveAll(['bun', 'node-uws@24', 'deno'], w, 'pinned', (label, e) => skipped.push(`${label} ${e.code}`));
    assert.deepEqual(runs.map((r) => r.label), ['bun', 'deno']);
    assert.deepEqual(skipped, ['node-uws@24 E_RUNTIME_UNSUPPORTED']);
  });
});

describe('runtimeEntries', () => {
  const probed: RuntimeStatus[] = [
    { id: 'bun', label: 'Bun.serve', usable: true, runtimeVersion: '1.4.5', libraryVersion: '1.4.5' },
    { id: 'node-ws', label: 'Node + ws', usable: true, runtimeVersion: '20.20.2', libraryVersion: '8.23.0' },
    { id: 'node-uws', label: 'Node + uWebSockets.js', usable: true, runtimeVersion: '20.20.2', libraryVersion: '20.0.8 (uws-pack)' },
    { id: 'node-socketio-uws', label: 'Node + Socket.IO (engine.io on uWebSockets.js)', usable: true, runtimeVersion: '20.20.2', libraryVersion: '4.8.4 (engine.io 6.6.13 on uWebSockets.js 20.0.8 (uws-pack))' },
  ];

  test("one entry per run label with its exact versions and binary, and none for what the run did not use (a probe's PATH Node would read as node-ws's)", async () => {
    const w = world();
    const runs: RunRuntime[] = await resolveAll(['node-ws', 'node-uws@22', 'node-socketio-uws'], w);
    const entries = runtimeEntries(runs, probed);
    assert.deepEqual(entries.map((e) => e.id), ['node-ws', 'node-uws@22.23.5', 'node-socketio-uws']);
    const ws = entries.find((e) => e.id === 'node-ws')!;
    assert.deepEqual([ws.runtimeVersion, ws.libraryVersion, ws.resolved?.source, ws.resolved?.request], [PINNED_DEFAULTS['node-ws'], '8.23.0', 'cache', 'node-ws']);
    assert.equal(ws.resolved?.binaryPath, runs[0]!.resolved.binaryPath);
    const uws = entries.find((e) => e.id === 'node-uws@22.23.5')!;
    assert.deepEqual([uws.runtimeVersion, uws.libraryVersion, uws.resolved?.libraryPackage, uws.resolved?.abi], ['22.23.5', '20.0.8 (uws-pack)', 'uws-pack', '127']);
    const stack = entries.find((e) => e.id === 'node-socketio-uws')!;
    assert.deepEqual([stack.runtimeVersion, stack.libraryVersion], [PINNED_DEFAULTS['node-uws'], '4.8.4 (engine.io 6.6.13 on uWebSockets.js 20.0.8 (uws-pack))']);
  });
});
