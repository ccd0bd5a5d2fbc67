/**
 * servers/socketio-common.ts's parts that need no running server (the rest is
 * test/servers/stacks.test.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heartbeatFromEnv, readStackSettings, resolvedPackage } from '../../servers/socketio-common.js';
import { STACK_SETTINGS } from '../../servers/settings.js';

describe('heartbeatFromEnv', () => {
  it("is Socket.IO's default heartbeat unless overridden", () => {
    assert.deepEqual(heartbeatFromEnv(undefined, undefined), { pingInterval: 25_000, pingTimeout: 20_000 });
    assert.deepEqual(heartbeatFromEnv('', ''), { pingInterval: 25_000, pingTimeout: 20_000 });
    assert.deepEqual(heartbeatFromEnv('200', '400'), { pingInterval: 200, pingTimeout: 400 });
  });

  for (const bad of ['0', '-1', '1.5', 'abc', '2147483648', ' 100']) {
    it(`refuses ${JSON.stringify(bad)} with a message naming the variable`, () => {
      assert.throws(() => heartbeatFromEnv(bad, undefined), /^Error: SOCKETIO_PING_INTERVAL_MS must be a whole number of ms from 1 to 2147483647/);
      assert.throws(() => heartbeatFromEnv(undefined, bad), /^Error: SOCKETIO_PING_TIMEOUT_MS must be/);
    });
  }
});

describe('readStackSettings', () => {
  it("reads engine.io's options back, with the path's trailing slash and recovery off when unset", () => {
    const engineOpts = { path: '/socket.io', transports: ['websocket'], pingInterval: 25_000, pingTimeout: 20_000, maxHttpBufferSize: 16 * 1024 * 1024, perMessageDeflate: false };
    assert.deepEqual(readStackSettings(engineOpts, {}), STACK_SETTINGS);
  });

  it('reports what the engine does not hold as NaN / empty, and recovery and deflate when set', () => {
    const settings = readStackSettings({ path: '/socket.io/', perMessageDeflate: { threshold: 1024 } }, { connectionStateRecovery: { maxDisconnectionDuration: 1 } }, ['websocket']);
    assert.deepEqual(settings.transports, ['websocket']);
    assert.ok(Number.isNaN(settings.pingIntervalMs) && Number.isNaN(settings.maxHttpBufferSizeBytes));
    assert.deepEqual([settings.perMessageDeflate, settings.connectionStateRecovery], [true, true]);
    assert.deepEqual(readStackSettings({}, {}).transports, []);
  });
});

describe('resolvedPackage', () => {
  it("finds a package's version where its package.json is not exported, and through an alias", () => {
    const socketIo = resolvedPackage('socket.io');
    assert.equal(socketIo.name, 'socket.io');
    assert.match(resolvedPackage('engine.io', socketIo.entry).version, /^6\.6\./);
    assert.equal(resolvedPackage('socket.io-parser').name, 'socket.io-parser', 'skips build/esm/package.json, which has no version');
    assert.throws(() => resolvedPackage('no-such-package-here'), /Cannot find module/);
  });
});
