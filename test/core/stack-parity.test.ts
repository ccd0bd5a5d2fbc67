import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchError } from '../../base/errors.js';
import { assertStackParity, parseStackManifest, stackSettingsDifferences } from '../../core/stack-parity.js';
import { STACK_SETTINGS, type StackManifest } from '../../servers/settings.js';

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
