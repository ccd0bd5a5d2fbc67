// A p99 needs its samples: the capacity judge leaves a percentile bound unjudged on fewer than
// MIN_SAMPLES_FOR_P99 (that p99 is the sample maximum), and a plateau is held long enough, up to a cap, for each
// bound to reach them. Pure functions, table-tested; no server, no timing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { judgeCapacityPlateau, type CapacityJudgeContext, type CapacityObservation } from '../../core/capacity.js';
import {
  defaultSlo,
  MAX_PLATEAU_SEC,
  MIN_SAMPLES_FOR_P99,
  plateauDurationSec,
  samplesPerSecAt,
} from '../../loadgen/models/capacity.js';
import type { BroadcastModel, CapacityModel, VoiceModel } from '../../loadgen/types.js';
import { describeCapacityVerdict } from '../../report/capacity.js';
import type { CapacityVerdict, RunResult } from '../../schema/result.js';
import { capacityViews } from '../../report/capacity.js';
import { capacityCell, capacityPlateau, voiceCapacity } from '../helpers/capacity-cells.js';
import { loadFixture } from '../helpers/make-fixture.js';

const voiceWorkload: VoiceModel = { model: 'voice', frameIntervalMs: 20, framesPerTurn: 50, upstream: { latency: 'uniform:200:800', chunks: 10, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 } };
const voiceSlo = defaultSlo(voiceWorkload);
const ctx: CapacityJudgeContext = { slo: voiceSlo, serverCpuCount: 2 };

/** A voice plateau within every bound, each p99 on `n` samples (one per turn: 20 sessions × 3 s is 60). */
function obs(n: number, o: Partial<CapacityObservation> = {}): CapacityObservation {
  return {
    serverAlive: true,
    serverExit: null,
    stderrTail: '',
    latencyP99Us: 1_300,
    firstChunkP99Us: 810_000,
    lastMemberP99Us: null,
    latencySamples: n,
    firstChunkSamples: n,
    lastMemberSamples: 0,
    expected: 10_000,
    lost: 0,
    faulty: 0,
    connections: 20,
    failedConnects: 0,
    closedByServer: 0,
    serverCpuPct: 20,
    rssBytes: 80e6,
    loadgen: { saturated: false, reasons: [] },
    sendsMissing: false,
    loadgenMaxLagUs: 0,
    upstreamBusy: false,
    ...o,
  };
}

const few = (n: number, ...bounds: ('latency' | 'firstChunk' | 'lastMember')[]) => bounds.map((bound) => ({ bound, samples: n, minSamples: MIN_SAMPLES_FOR_P99 }));
const latencyBreach: CapacityVerdict = { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] };

describe('a p99 is judged only on enough samples', () => {
  test('the minimum is where the nearest-rank p99 stops being the maximum', () => {
    // ⌈0.99·n⌉ = n below 100 (the maximum), n − 1 at 100.
    assert.equal(MIN_SAMPLES_FOR_P99, 100);
    assert.equal(Math.ceil(0.99 * 99 - 1e-9), 99);
    assert.equal(Math.ceil(0.99 * 100 - 1e-9), 99);
  });

  const cases: [string, CapacityObservation, CapacityVerdict][] = [
    ['a 72 ms relay share on 60 samples (one stall) is not a breach: not judged, said as data', obs(60, { latencyP99Us: 72_000 }), { ok: true, tooFewSamples: few(60, 'latency', 'firstChunk') }],
    ['the same on 200 samples is a breach', obs(200, { latencyP99Us: 72_000 }), latencyBreach],
    ['at exactly the minimum it is judged', obs(100, { latencyP99Us: 72_000 }), latencyBreach],
    ['one short of it, not', obs(99, { latencyP99Us: 72_000 }), { ok: true, tooFewSamples: few(99, 'latency', 'firstChunk') }],
    ['within the bounds on 60 samples: met, and still said to be unjudged', obs(60), { ok: true, tooFewSamples: few(60, 'latency', 'firstChunk') }],
    [
      'each bound counts its own samples: a first chunk on 60 is not judged while the relay share on 200 is',
      obs(200, { firstChunkP99Us: 1_500_000, firstChunkSamples: 60 }),
      { ok: true, tooFewSamples: few(60, 'firstChunk') },
    ],
    [
      'a judged bound still breaks beside an unjudged one',
      obs(200, { latencyP99Us: 72_000, firstChunkP99Us: 1_500_000, firstChunkSamples: 60 }),
      { ...latencyBreach, tooFewSamples: few(60, 'firstChunk') },
    ],
    ['loss is judged whatever the latency samples', obs(60, { latencyP99Us: 72_000, lost: 50 }), { ok: false, cause: 'loss', limitClass: 'runtime', loss: ['messages'], tooFewSamples: few(60, 'latency', 'firstChunk') }],
    ['a crash says nothing of samples', obs(60, { serverAlive: false, serverExit: 'code 1' }), { ok: false, cause: 'crash', limitClass: 'runtime', serverExit: 'code 1' }],
    ['no p99 at all (nothing measured) is not listed', obs(0, { latencyP99Us: null, firstChunkP99Us: null }), { ok: true }],
    [
      'an unjudged latency is no reason to blame a late generator either',
      obs(60, { latencyP99Us: 72_000, loadgen: { saturated: true, reasons: [{ kind: 'schedule', worker: 0, sent: 1000, late: 50, dropped: 0 }] } }),
      { ok: true, tooFewSamples: few(60, 'latency', 'firstChunk') },
    ],
  ];
  for (const [name, o, want] of cases) test(name, () => assert.deepEqual(judgeCapacityPlateau(o, ctx), want));

  test('a bound the SLO turns off is neither judged nor listed', () => {
    const v = judgeCapacityPlateau(obs(60, { firstChunkP99Us: 1_500_000 }), { ...ctx, slo: { ...voiceSlo, firstChunkP99Ms: null } });
    assert.deepEqual(v, { ok: true, tooFewSamples: few(60, 'latency') });
  });
});

// ---- how long a plateau is held ----------------------------------------------------------------------------------

const voice: CapacityModel = { model: 'capacity', workload: voiceWorkload, dimension: 'sessions', levels: [20, 40, 80, 160, 320], bisectSteps: 1, slo: voiceSlo, projectFor: null };
const dashboardWorkload: BroadcastModel = { model: 'broadcast', rooms: 20, publishers: 60, ratePerSecPerPublisher: 2, churn: { leavesPerSec: 20, rejoinAfterMs: 500 } };
const dashboard: CapacityModel = { model: 'capacity', workload: dashboardWorkload, dimension: 'members', levels: [250, 500, 1000, 2000, 4000], bisectSteps: 1, slo: defaultSlo(dashboardWorkload), projectFor: null };
const chatWorkload: BroadcastModel = { model: 'broadcast', rooms: 4, publishers: 200, ratePerSecPerPublisher: 0.2, arrivals: 'poisson', burst: { probability: 0.25, messages: 4, gapMs: 300 } };
const chat: CapacityModel = { model: 'capacity', workload: chatWorkload, dimension: 'members', levels: [100, 200], bisectSteps: 1, slo: defaultSlo(chatWorkload), projectFor: null };
const echoRate: CapacityModel = {
  model: 'capacity',
  workload: { model: 'open', ratePerSec: 10_000, arrivals: 'constant' },
  dimension: 'rate',
  levels: [10_000, 20_000],
  bisectSteps: 1,
  slo: defaultSlo({ model: 'open', ratePerSec: 1, arrivals: 'constant' }),
  projectFor: null,
};

describe('samples a plateau gains per second', () => {
  const cases: [string, CapacityModel, number, number, ReturnType<typeof samplesPerSecAt>][] = [
    ['voice: one relay share and one first chunk per turn, a turn a second per session', voice, 20, 50, { latency: 20, firstChunk: 20, lastMember: null }],
    // 250 members: 5 rooms of 50 with 3 publishers each, 2 msg/s: 30 publishes, each to 50 members.
    ['broadcast: deliveries, and one last member per publish', dashboard, 250, 1000, { latency: 1500, firstChunk: null, lastMember: 30 }],
    // 100 members: 2 rooms, 100 publishers at 0.2 arrivals/s, a quarter of them bursts of 4: 1.75 messages each.
    ['broadcast with bursts: each burst message counts', chat, 100, 200, { latency: 35 * 50, firstChunk: null, lastMember: 35 }],
    ['open loop: the echoes (its rate)', echoRate, 10_000, 100, { latency: 10_000, firstChunk: null, lastMember: null }],
  ];
  for (const [name, m, level, ref, want] of cases) test(name, () => assert.deepEqual(samplesPerSecAt(m, level, ref), want));
});

describe('a plateau is held long enough for its samples, up to a cap', () => {
  const cases: [string, CapacityModel, number, number, number, number][] = [
    // 125 turns (the minimum and a quarter) at 20 a second: 6.25 s, not the quick preset's 3 s (60 turns).
    ['20 voice sessions: lengthened from 3 s to 6.3 s', voice, 20, 50, 3, 6.3],
    ['40 voice sessions: 3.2 s', voice, 40, 50, 3, 3.2],
    ["80 voice sessions: the scenario's 3 s already suffice", voice, 80, 50, 3, 3],
    ['2 voice sessions would need 62.5 s: capped', voice, 2, 50, 3, MAX_PLATEAU_SEC],
    ['never shortened, even past the cap', voice, 2, 50, 40, 40],
    // The sparsest bound decides: the last member (30 a second), not the deliveries (1,500).
    ['250 dashboard members: 4.2 s for the last member', dashboard, 250, 1000, 2, 4.2],
    ['1,000 dashboard members: 2 s suffice', dashboard, 1000, 1000, 2, 2],
    ['without a last-member bound the deliveries decide', { ...dashboard, slo: { ...dashboard.slo, lastMemberP99Ms: null } }, 250, 1000, 2, 2],
    ['an echo rate of 10,000 msg/s: as written', echoRate, 10_000, 100, 2, 2],
  ];
  for (const [name, m, level, ref, base, want] of cases) test(name, () => assert.equal(plateauDurationSec(m, level, ref, base), want));

  test('the expected count at the held duration is the minimum and a quarter wherever the cap allows', () => {
    for (const level of [1, 3, 7, 20, 33, 40, 100]) {
      const sec = plateauDurationSec(voice, level, 50, 3);
      const expected = samplesPerSecAt(voice, level, 50).latency! * sec;
      assert.ok(expected >= 1.25 * MIN_SAMPLES_FOR_P99 || sec === MAX_PLATEAU_SEC, `${level} sessions: ${sec} s, ${expected} turns expected`);
    }
    // 20 sessions each turn at least ⌊6.3⌋ = 6 times in the window, whatever their phases: 120 turns.
    assert.ok(20 * Math.floor(plateauDurationSec(voice, 20, 50, 3)) >= MIN_SAMPLES_FOR_P99);
  });
});

describe('unjudged bounds in words', () => {
  const p = capacityPlateau(20, { verdict: { ok: true, tooFewSamples: few(60, 'latency', 'firstChunk') } });
  const c = voiceCapacity({ good: [40], capacity: 40 });

  test('a plateau verdict names the bound and its count', () => {
    assert.equal(
      describeCapacityVerdict(p, c),
      "met the SLO; the relay's share of the first chunk p99 from 60 samples (fewer than 100): not judged; first reply chunk p99 from 60 samples (fewer than 100): not judged",
    );
  });

  test('the capacity section says which plateaus held without a bound', () => {
    const withFew = { ...c, plateaus: [p, ...c.plateaus] };
    const base = loadFixture();
    const result: RunResult = { ...base, cells: [...base.cells, capacityCell('bun', 1, withFew)] };
    const notes = capacityViews(result)[0]!.footnotes.join('\n');
    assert.match(notes, /^bun: 1 plateau with a bound not judged for too few samples, even held for up to 30 s: at 20 sessions, the relay's share of the first chunk p99 from 60 samples \(fewer than 100\): not judged/m);
  });
});
