import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertParity, describeDifferences, diffManifests } from '../../core/parity.js';
import { CONTRACT_SETTINGS } from '../../servers/settings.js';

describe('diffManifests', () => {
  test('equal manifests have no differences', () => {
    assert.deepEqual(diffManifests({ a: { ...CONTRACT_SETTINGS }, b: { ...CONTRACT_SETTINGS } }), []);
  });

  test('names every differing setting with each server value', () => {
    const diffs = diffManifests({
      bun: { ...CONTRACT_SETTINGS },
      'node-uws': { ...CONTRACT_SETTINGS, backpressureLimitBytes: 4096, perMessageDeflate: true },
    });
    assert.deepEqual(
      diffs.map((d) => d.setting),
      ['backpressureLimitBytes', 'perMessageDeflate'],
    );
    assert.deepEqual(describeDifferences(diffs), [
      'backpressureLimitBytes: bun=1048576, node-uws=4096',
      'perMessageDeflate: bun=false, node-uws=true',
    ]);
  });

  test('a setting one server does not report is a difference', () => {
    const { idleTimeoutSec: _, ...partial } = CONTRACT_SETTINGS;
    const diffs = diffManifests({ a: CONTRACT_SETTINGS, b: partial });
    assert.deepEqual(describeDifferences(diffs), ['idleTimeoutSec: a=0, b=(not reported)']);
  });
});

describe('assertParity', () => {
  test('passes when every server matches the contract', () => {
    assert.doesNotThrow(() => assertParity({ a: { ...CONTRACT_SETTINGS }, b: { ...CONTRACT_SETTINGS } }));
  });

  test('refuses with E_PARITY_MISMATCH naming the difference, even when all servers agree on a wrong value', () => {
    const wrong = { ...CONTRACT_SETTINGS, maxPayloadBytes: 100 };
    assert.throws(
      () => assertParity({ a: wrong, b: wrong }),
      (e: { code?: string; details?: string[] }) =>
        e.code === 'E_PARITY_MISMATCH' && (e.details ?? []).some((d) => d.startsWith('maxPayloadBytes: contract=16777216, a=100, b=100')),
    );
  });
});
