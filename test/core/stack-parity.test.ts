import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchError } from '../../base/errors.js';
import { parseReadyLine } from '../../core/launcher.js';
import { assertStackParity, parseStackManifest, stackSettingsDifferences, verifyStack } from '../../core/stack-parity.js';
import type { ParityState } from '../../schema/result.js';
import { CONTRACT_SETTINGS, STACK_SETTINGS, type StackManifest } from '../../servers/settings.js';

/** The `stack` of node-socketio's ready line, as printed (servers/CONTRACT.md, "Stacks"). */
const NODE_SOCKETIO: StackManifest = {
  framework: 'socket.io',
  frameworkVersion: '4.8.4',
  engine: 'engine.io',
  engineVersion: '6.6.13',
  websocketLibrary: 'ws',
  websocketLibraryVersion: '8.23.0',
  backpressure: 'by-hand',
  settings: STACK_SETTINGS,
};

describe('parseStackManifest', () => {
  test('accepts a stack manifest as a server prints it', () => {
    assert.deepEqual(parseStackManifest(JSON.parse(JSON.stringify(NODE_SOCKETIO))), { stack: NODE_SOCKETIO });
  });

  const table: [string, unknown, string[]][] = [
    ['not an object', 'socket.io', ['stack (an object)']],
    ['another framework', { ...NODE_SOCKETIO, framework: 'ws' }, ['stack.framework ("socket.io")']],
    ['an unknown engine', { ...NODE_SOCKETIO, engine: 'eiows' }, ['stack.engine (one of engine.io, @socket.io/bun-engine)']],
    ['a missing version', { ...NODE_SOCKETIO, engineVersion: undefined }, ['stack.engineVersion (a string)']],
    ['a backpressure mode it does not know', { ...NODE_SOCKETIO, backpressure: 'none' }, ['stack.backpressure (one of library, by-hand)']],
    // A server that could not read a number back prints NaN, which JSON makes null.
    ['a setting read back as NaN', { ...NODE_SOCKETIO, settings: { ...STACK_SETTINGS, pingIntervalMs: null } }, ['stack.settings.pingIntervalMs (a number)']],
    ['transports that are not strings', { ...NODE_SOCKETIO, settings: { ...STACK_SETTINGS, transports: [1] } }, ['stack.settings.transports (an array of strings)']],
    ['no settings', { ...NODE_SOCKETIO, settings: undefined }, ['stack.settings (an object)']],
  ];
  for (const [what, value, problems] of table) {
    test(`names the field for ${what}`, () => {
      assert.deepEqual(parseStackManifest(value), { problems });
    });
  }
});

describe('stack parity', () => {
  test('bare servers (no stack) never differ; equal stacks do not either', () => {
    assert.deepEqual(stackSettingsDifferences({ bun: undefined, 'node-ws': undefined }), []);
    assert.deepEqual(stackSettingsDifferences({ bun: undefined, 'node-socketio': STACK_SETTINGS, 'bun-socketio': { ...STACK_SETTINGS } }), []);
    assert.doesNotThrow(() => assertStackParity({ bun: undefined, 'bun-socketio': STACK_SETTINGS }));
  });

  test('refuses stacks whose Engine.IO settings differ from each other or from STACK_SETTINGS, naming each', () => {
    const watched = { ...STACK_SETTINGS, pingIntervalMs: 200, pingTimeoutMs: 400 };
    assert.deepEqual(
      stackSettingsDifferences({ 'node-socketio': STACK_SETTINGS, 'bun-socketio': watched, bun: undefined }).map((d) => d.setting),
      ['pingIntervalMs', 'pingTimeoutMs'],
    );
    assert.throws(
      () => assertStackParity({ 'node-socketio-uws': watched }),
      (e: unknown) =>
        e instanceof BenchError &&
        e.code === 'E_PARITY_MISMATCH' &&
        (e.details ?? []).includes('stack.settings.pingIntervalMs: contract=25000, node-socketio-uws=200'),
    );
  });
});

describe('a ready line with a stack', () => {
  const line = (stack: unknown) =>
    JSON.stringify({
      event: 'ready', runtime: 'node', runtimeVersion: '20.20.2', library: 'socket.io', libraryVersion: '4.8.4',
      pid: 1234, host: '127.0.0.1', port: 40123, settings: CONTRACT_SETTINGS, stack,
    });

  test('keeps the stack manifest, checked', () => {
    assert.deepEqual(parseReadyLine(line(NODE_SOCKETIO))?.stack, NODE_SOCKETIO);
    assert.equal(parseReadyLine(line(undefined))?.stack, undefined);
  });

  test('refuses a stack manifest with a bad field, naming it', () => {
    assert.throws(
      () => parseReadyLine(line({ ...NODE_SOCKETIO, settings: { ...STACK_SETTINGS, pingTimeoutMs: null } })),
      (e: unknown) => e instanceof BenchError && e.code === 'E_SERVER_BAD_READY_LINE' && e.message.includes('stack.settings.pingTimeoutMs (a number)'),
    );
  });
});

describe('verifyStack (a cell\'s check of a stack)', () => {
  const fresh = (): ParityState => ({ manifests: {}, differences: [] });
  const code = (f: () => void) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return e instanceof BenchError ? e.code : String(e);
    }
  };

  const table: [string, 'websocket' | 'socket.io' | undefined, StackManifest | undefined, string][] = [
    ['a registry stack with its manifest', 'socket.io', NODE_SOCKETIO, 'ok'],
    ['a registry stack without one', 'socket.io', undefined, 'E_RUNTIME_MISMATCH'],
    ['a bare runtime with one', 'websocket', NODE_SOCKETIO, 'E_RUNTIME_MISMATCH'],
    ['a bare runtime without one', 'websocket', undefined, 'ok'],
    ['a --server-cmd server with one (not checked against a registry entry)', undefined, NODE_SOCKETIO, 'ok'],
    ['a stack whose heartbeat differs from STACK_SETTINGS', 'socket.io', { ...NODE_SOCKETIO, settings: { ...STACK_SETTINGS, pingIntervalMs: 150 } }, 'E_PARITY_MISMATCH'],
  ];
  for (const [what, expected, stack, outcome] of table) {
    test(`${what}: ${outcome}`, () => assert.equal(code(() => verifyStack('node-socketio', expected, stack, fresh())), outcome));
  }

  test('records each stack\'s settings, leaves bare servers out, and refuses a stack unlike the ones before it', () => {
    const parity = fresh();
    verifyStack('node-socketio', 'socket.io', NODE_SOCKETIO, parity);
    verifyStack('bun', 'websocket', undefined, parity);
    // The same stack again (its next repetition) is compared with the others, not with itself.
    verifyStack('node-socketio', 'socket.io', NODE_SOCKETIO, parity);
    assert.deepEqual(parity.stacks, { 'node-socketio': STACK_SETTINGS });
    const watched = { ...NODE_SOCKETIO, settings: { ...STACK_SETTINGS, pingTimeoutMs: 800 } };
    assert.throws(() => verifyStack('bun-socketio', 'socket.io', watched, parity), (e: unknown) => e instanceof BenchError && e.code === 'E_PARITY_MISMATCH');
    assert.deepEqual(parity.differences, ['stack.settings.pingTimeoutMs: contract=20000, node-socketio=20000, bun-socketio=800']);
  });
});
