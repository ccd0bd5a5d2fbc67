import type { ParityManifest } from '../servers/settings.js';
import { CONTRACT_SETTINGS } from '../servers/settings.js';
import { BenchError } from '../base/errors.js';

/** One setting on which two servers disagree. */
export interface ParityDifference {
  setting: string;
  /** Value per server label, e.g. { bun: 1048576, 'node-ws': null }. */
  values: Record<string, unknown>;
}

/**
 * Names every setting whose value is not the same on all servers, including
 * settings some servers do not report at all (shown as `undefined`). Equal
 * manifests are the precondition of any comparison.
 */
export function diffManifests(manifests: Record<string, Partial<ParityManifest> | Record<string, unknown>>): ParityDifference[] {
  const labels = Object.keys(manifests);
  const keys = new Set<string>();
  for (const m of Object.values(manifests)) for (const k of Object.keys(m)) keys.add(k);
  const out: ParityDifference[] = [];
  for (const key of [...keys].sort()) {
    const values: Record<string, unknown> = {};
    for (const l of labels) values[l] = (manifests[l] as Record<string, unknown>)[key];
    const first = JSON.stringify(values[labels[0]!]);
    if (labels.some((l) => JSON.stringify(values[l]) !== first)) out.push({ setting: key, values });
  }
  return out;
}

/** "maxPayloadBytes: bun=16777216, node-ws=104857600" — one line per difference. */
export function describeDifferences(diffs: ParityDifference[]): string[] {
  return diffs.map(
    (d) =>
      `${d.setting}: ` +
      Object.entries(d.values)
        .map(([l, v]) => `${l}=${v === undefined ? '(not reported)' : JSON.stringify(v)}`)
        .join(', '),
  );
}

/** Refuses (E_PARITY_MISMATCH) when the servers' effective settings differ from each other or from the contract. */
export function assertParity(manifests: Record<string, Partial<ParityManifest>>): void {
  const diffs = diffManifests({ contract: CONTRACT_SETTINGS, ...manifests });
  if (diffs.length === 0) return;
  throw new BenchError('E_PARITY_MISMATCH', 'the servers do not run with the same settings, so their figures are not comparable', {
    details: describeDifferences(diffs),
    hint: 'make every server apply servers/settings.ts (see servers/CONTRACT.md); differing settings are a refusal, not a footnote',
  });
}
