import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { steppedSearch, type PlateauOutcome } from '../../core/search.js';

/** A plateau that holds up to `limit` (inclusive) and is bisectable when it fails. */
const upTo = (limit: number, bisectable = true) => async (t: number): Promise<PlateauOutcome & { t: number }> => ({ ok: t <= limit, bisectable, t });

describe('steppedSearch', () => {
  test('stops at the first plateau that breaks the SLO', async () => {
    const r = await steppedSearch({ targets: [100, 200, 300, 400], bisectSteps: 0, plateau: upTo(250) });
    assert.deepEqual(r.plateaus.map((p) => p.target), [100, 200, 300]);
    assert.equal(r.lastGood?.target, 200);
    assert.equal(r.firstBad?.target, 300);
    assert.equal(r.refined, undefined);
    assert.equal(r.exhausted, false);
  });

  test('bisects between the last good and the first bad level', async () => {
    const r = await steppedSearch({ targets: [100, 200, 300, 400], bisectSteps: 3, plateau: upTo(262) });
    assert.deepEqual(r.plateaus.filter((p) => p.bisection).map((p) => p.target), [250, 275, 263]);
    assert.equal(r.refined, 250);
  });

  test('no bisection past a plateau that is not bisectable (memory kept, a crash)', async () => {
    const r = await steppedSearch({ targets: [100, 200], bisectSteps: 5, plateau: upTo(150, false) });
    assert.equal(r.plateaus.length, 2);
    assert.equal(r.refined, undefined);
  });

  test('the bisection stops at adjacent integers, and a real-valued search at its resolution', async () => {
    const r = await steppedSearch({ targets: [10, 12], bisectSteps: 10, plateau: upTo(10) });
    assert.deepEqual(r.plateaus.filter((p) => p.bisection).map((p) => p.target), [11]);
    const f = await steppedSearch({ targets: [1000, 2000], bisectSteps: 20, integer: false, resolution: 100, plateau: upTo(1500) });
    const last = f.plateaus.at(-1)!.target;
    assert.ok(f.refined! <= 1500 && f.refined! > 1400, `refined ${f.refined}, last ${last}`);
  });

  test('every target within the SLO exhausts the plan; canContinue ends it early', async () => {
    assert.equal((await steppedSearch({ targets: [1, 2, 3], bisectSteps: 2, plateau: upTo(10) })).exhausted, true);
    let runs = 0;
    const r = await steppedSearch({ targets: [1, 2, 3], bisectSteps: 0, canContinue: () => runs < 2, plateau: async (t) => (runs++, { ok: true, bisectable: true, t }) });
    assert.equal(r.plateaus.length, 2);
    assert.equal(r.exhausted, false);
  });

  test('a first plateau that fails leaves no last good one and nothing to bisect', async () => {
    const r = await steppedSearch({ targets: [100, 200], bisectSteps: 4, plateau: upTo(50) });
    assert.equal(r.lastGood, undefined);
    assert.equal(r.firstBad?.target, 100);
    assert.equal(r.plateaus.length, 1);
  });
});
