// The result schema moves its version when a stored field changes: a fingerprint of schema/result.ts's
// declarations (comments and white space left out, so documentation can change freely) is recorded per version.
// When this test fails, bump RESULT_SCHEMA_VERSION and record the new fingerprint below.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../../core/paths.js';
import { RESULT_SCHEMA_VERSION } from '../../schema/result.js';

const FINGERPRINTS: Record<number, string> = {
  2: '6ea70f8c2698211c',
  // 3: the Socket.IO stacks (client 'socketio', ServerInfo.stack, ParityState.stacks), the budgeted decision (decisions, budget), held sends;
  // capacity at an SLO (CellMetrics.capacity, SummaryRow.capacityPerCore, RunSettings.capacityFor, the capacity-slo primary figure);
  // runtime versions (RuntimeStatus.resolved); results merged from load segments (RunResult.segments, the clock-offset
  // warning, server-unobserved's reason 'remote', issue 16); capacity plateaus lengthened for their samples and bounds
  // left unjudged on too few (CapacityPlateau.durationSec, CapacityVerdict.tooFewSamples); the level of a
  // decision's intervals (CaseDecision.intervalLevel): optional fields a version-3 reader ignores, so the version stays.
  3: '93c19669af3616f6',
};

/** The declarations of a TypeScript file without comments and with white space collapsed. */
export function declarations(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the result schema', () => {
  test('changes only together with its version', () => {
    const source = readFileSync(path.join(projectRoot, 'schema', 'result.ts'), 'utf8');
    const fingerprint = createHash('sha256').update(declarations(source)).digest('hex').slice(0, 16);
    assert.equal(
      fingerprint,
      FINGERPRINTS[RESULT_SCHEMA_VERSION],
      `schema/result.ts changed: bump RESULT_SCHEMA_VERSION (now ${RESULT_SCHEMA_VERSION}) and record ${fingerprint} for the new version in test/schema/result.test.ts`,
    );
  });

  test('comments and layout do not count, declarations do', () => {
    assert.equal(declarations('/** a */\nexport interface A {\n  x: number; // why\n}'), declarations('export interface A { x: number; }'));
    assert.notEqual(declarations('export interface A { x: number; }'), declarations('export interface A { x: string; }'));
  });
});
