import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { relayDifferences } from '../../core/voice.js';
import { modelOf, type AnyModel } from '../../loadgen/models/index.js';
import { DEFAULT_DRAIN_TIMEOUT_MS } from '../../loadgen/models/common.js';
import { SLOW_CONSUMER_DRAIN_TIMEOUT_MS } from '../../loadgen/models/broadcast.js';
import { maxThinkMs, upstreamConfigOf } from '../../loadgen/models/voice.js';

const drainTimeoutMsFor = (m: AnyModel) => modelOf(m).drainTimeoutMs(m);
import type { VoiceModel } from '../../loadgen/types.js';
import { RELAY_CONNECT_TIMEOUT_MS } from '../../servers/settings.js';

const voice = (latency: string): VoiceModel => ({
  model: 'voice',
  frameIntervalMs: 20,
  framesPerTurn: 50,
  upstream: { latency, chunks: 10, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 },
});

describe('voice cells in bench run', () => {
  test('the drain covers the longest think time and the whole burst', () => {
    assert.equal(drainTimeoutMsFor(voice('uniform:200:800')), 800 + 200 + DEFAULT_DRAIN_TIMEOUT_MS);
    assert.equal(drainTimeoutMsFor(voice('fixed:50')), 50 + 200 + DEFAULT_DRAIN_TIMEOUT_MS);
    // A log-normal has no maximum: its 99.99th percentile stands in for one.
    assert.ok(drainTimeoutMsFor(voice('lognormal:300:0.5')) > 300 * Math.exp(0.5 * 3.7));
    assert.equal(drainTimeoutMsFor({ model: 'closed', depth: 1 }), DEFAULT_DRAIN_TIMEOUT_MS);
    assert.equal(
      drainTimeoutMsFor({ model: 'broadcast', publishers: 1, ratePerSecPerPublisher: 1, rooms: 1, slowConsumers: { count: 1, readBytesPerSec: 1 } }),
      SLOW_CONSUMER_DRAIN_TIMEOUT_MS,
    );
  });

  test('maxThinkMs of each distribution', () => {
    assert.equal(maxThinkMs({ kind: 'fixed', ms: 7 }), 7);
    assert.equal(maxThinkMs({ kind: 'uniform', minMs: 1, maxMs: 9 }), 9);
    assert.equal(maxThinkMs({ kind: 'lognormal', medianMs: 1000, sigma: 3 }), 60_000);
  });

  test('the scenario\'s latency text becomes the upstream\'s latency spec', () => {
    const c = upstreamConfigOf(voice('uniform:200:800'));
    assert.deepEqual(c.latency, { kind: 'uniform', minMs: 200, maxMs: 800 });
    assert.equal(c.chunks, 10);
  });

  test('relayDifferences names a missing relay, a wrong upstream and a different connect timeout', () => {
    const ok = { upstreamUrl: 'ws://127.0.0.1:4000/', upstreamClient: 'ws' as const, upstreamClientVersion: '8', connectTimeoutMs: RELAY_CONNECT_TIMEOUT_MS };
    assert.deepEqual(relayDifferences('bun', ok, 'ws://127.0.0.1:4000'), []);
    assert.match(relayDifferences('bun', undefined, 'ws://127.0.0.1:4000/')[0]!, /reported no relay route/);
    assert.match(relayDifferences('bun', { ...ok, upstreamUrl: 'ws://127.0.0.1:4001/' }, 'ws://127.0.0.1:4000/')[0]!, /relays to ws:\/\/127.0.0.1:4001\//);
    assert.match(relayDifferences('bun', { ...ok, upstreamUrl: null }, 'ws://127.0.0.1:4000/')[0]!, /no upstream/);
    assert.match(relayDifferences('bun', { ...ok, connectTimeoutMs: 10 }, 'ws://127.0.0.1:4000/')[0]!, /waits 10 ms/);
  });
});
