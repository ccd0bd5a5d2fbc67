import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answerLines, answersOf } from '../../report/answer.js';
import type { CaseDecision, RankedRuntime } from '../../schema/result.js';

function ranked(runtime: string, standing: RankedRuntime['standing']): RankedRuntime {
  return { runtime, n: 5, median: 1, values: [1], ratioToBest: 1, low: null, high: null, standing, costs: {} };
}

function decision(name: string, ranking: RankedRuntime[]): CaseDecision {
  return {
    case: name,
    scenario: name,
    primary: { metric: 'serverCpuUsPerMsg', why: 'sustained-cost' },
    better: 'lower',
    minEffectPct: 5,
    ranking,
    pairs: [],
    settled: ranking.every((r) => r.standing !== 'undecided'),
  };
}

describe('the answer per workload', () => {
  test('the best alone when it is settled against every other; with those equivalent to it; leading when some pair is open', () => {
    const d = [
      decision('echo-rate', [ranked('bun', 'best'), ranked('node-ws', 'behind'), ranked('deno', 'behind')]),
      decision('idle', [ranked('node-uws', 'best'), ranked('bun', 'equivalent'), ranked('deno', 'behind')]),
      decision('broadcast', [ranked('bun', 'best'), ranked('node-uws', 'undecided'), ranked('deno', 'behind')]),
      decision('voice', []),
    ];
    assert.deepEqual(answerLines(d), [
      'echo-rate: bun',
      'idle: node-uws or bun (equivalent within ±5%)',
      'broadcast: bun leads, not yet settled against node-uws (more repetitions would tell: a longer --budget or --repeat)',
      'voice: nothing ranked',
    ]);
    assert.deepEqual(answersOf(d)[2], { case: 'broadcast', pick: ['bun'], openAgainst: ['node-uws'], minEffectPct: 5 });
  });
});
