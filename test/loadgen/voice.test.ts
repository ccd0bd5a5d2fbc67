import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentHost } from '../../core/host.js';
import { startServer, startUpstream, type RegistryServerHandle, type UpstreamHandle } from '../../core/launcher.js';
import { probeRuntimes } from '../../core/runtimes.js';
import { decodeHistogram, summarizeHistogram } from '../../loadgen/histogram.js';
import { voice, VOICE_DEFAULTS } from '../../loadgen/models/voice.js';

const validate = voice.validate;
import { runLoad } from '../../loadgen/run.js';
import type { LoadPlan, VoiceModel } from '../../loadgen/types.js';
import { emptyReplyFields, parseReply, sessionIdOf, turnIdOf, VoiceDriver, type VoicePart } from '../../loadgen/voice.js';
import { audioBase64, formatDelta, formatDone } from '../../upstream/events.js';

const model = (over: Partial<VoiceModel['upstream']> = {}, framesPerTurn = 3): VoiceModel => ({
  model: 'voice',
  frameIntervalMs: 20,
  framesPerTurn,
  upstream: { latency: 'fixed:30', chunks: 3, chunkIntervalMs: 10, chunkAudioBytes: 48, seed: 7, ...over },
});

const AUDIO = audioBase64(48, 7);

/** One reply chunk as the upstream writes it, for connection `conn`'s turn `turn`. */
function delta(
  conn: number, turn: number, seq: number, sentAtUs: number,
  o: { latencyMs?: number; audio?: string; session?: string; requestedAtUs?: number } = {},
): Buffer {
  const text = formatDelta(
    { session: o.session ?? sessionIdOf(conn), turn: turnIdOf(conn, turn), seq, latencyMs: o.latencyMs ?? 30, requestedAtUs: o.requestedAtUs ?? 1_000_000, sentAtUs },
    o.audio ?? AUDIO,
  );
  return Buffer.from(text);
}

function done(conn: number, turn: number, sentAtUs = 9_000_000): Buffer {
  return Buffer.from(
    formatDone({
      session: sessionIdOf(conn),
      turn: turnIdOf(conn, turn),
      chunks: 3,
      latencyMs: 30,
      requestedAtUs: 1_000_000,
      sentAtUs,
      eventsReceived: 4,
      bytesReceived: 400,
      digest: null,
    }),
  );
}

/** A driver for connections 5 and 6 with the window [1 s, 100 s) in epoch µs, and conn 5's turn 1 triggered at 2 s. */
function driverWithTurn(framesPerTurn = 3, sentUs = 2_000_000): VoiceDriver {
  const d = new VoiceDriver(model({}, framesPerTurn), 5, 2);
  d.setWindow(1_000_000, 100_000_000);
  for (let i = 1; i <= framesPerTurn; i++) d.afterAudio(5, i, 2_000_000, () => sentUs);
  return d;
}

const feed = (d: VoiceDriver, conn: number, buf: Buffer, arrivalUs: number) => {
  // Inside a larger read buffer, as the transport hands messages over.
  const padded = Buffer.concat([Buffer.from('xx'), buf, Buffer.from('yy')]);
  d.onReply(conn, padded, 2, 2 + buf.length, arrivalUs);
};

const hist = (encoded: string) => summarizeHistogram(decodeHistogram(encoded));

describe('reply parser', () => {
  test('reads every field of a delta and locates its audio', () => {
    const buf = delta(12, 34, 2, 1_717_000_000_412_345, { latencyMs: 412 });
    const f = emptyReplyFields();
    assert.equal(parseReply(buf, 0, buf.length, f), true);
    assert.deepEqual(
      { ...f, audio: buf.subarray(f.audioStart, f.audioEnd).toString() },
      {
        done: false,
        sessionConnId: 12,
        turnConnId: 12,
        turn: 34,
        seq: 2,
        latencyMs: 412,
        requestedAtUs: 1_000_000,
        sentAtUs: 1_717_000_000_412_345,
        audioStart: f.audioStart,
        audioEnd: f.audioEnd,
        audio: AUDIO,
      },
    );
  });

  test('reads a response.done (chunk count in seq)', () => {
    const buf = done(3, 9, 5_000_000);
    const f = emptyReplyFields();
    assert.equal(parseReply(buf, 0, buf.length, f), true);
    assert.equal(f.done, true);
    assert.equal(f.turn, 9);
    assert.equal(f.seq, 3);
    assert.equal(f.sentAtUs, 5_000_000);
  });

  test('refuses other events, other session forms, short turn ids and truncated messages', () => {
    const f = emptyReplyFields();
    const refuses = (text: string) => assert.equal(parseReply(Buffer.from(text), 0, Buffer.byteLength(text), f), false, text);
    refuses('{"c":"0000000001","s":"0000000001","t":"0000000000000001","p":""}');
    refuses(delta(1, 1, 0, 5).toString().replace('"s1"', '"alice"'));
    refuses(delta(1, 1, 0, 5).toString().replace(turnIdOf(1, 1), 't1'));
    const whole = delta(1, 1, 0, 5).toString();
    refuses(whole.slice(0, whole.length - 1));
    refuses(whole.slice(0, 60));
  });
});

describe('turn bookkeeping', () => {
  test('the control event is a response.create whose turn id names the connection and the turn', () => {
    const d = new VoiceDriver(model(), 0, 1);
    const msg = Buffer.from(d.controlTemplate);
    d.controlCodec.writeHeader(msg, 0, msg.length, 12, 34, 1_717_000_000_000_000);
    assert.deepEqual(JSON.parse(msg.toString()), { type: 'response.create', turn_id: turnIdOf(12, 34) });
    assert.equal(turnIdOf(12, 34), '00000000120000000034');
  });

  test('every framesPerTurn-th audio event triggers the next turn; only window sends are counted', () => {
    const d = new VoiceDriver(model({}, 4), 0, 1);
    d.setWindow(1_000, 2_000);
    const turns = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => d.afterAudio(0, n, n <= 4 ? 500 : 1_500));
    assert.deepEqual(turns, [0, 0, 0, 1, 0, 0, 0, 2, 0]);
    // Turn 1 was triggered in warmup: sent but not counted; turn 2 inside the window.
    assert.equal(d.audioEventsSent, 5);
    assert.equal(d.controlEventsSent, 1);
    assert.equal(d.turnsTriggered, 1);
    assert.equal(d.repliesExpected, 4);
    assert.equal(d.pendingTurns(0), 2);
  });

  test('first chunk from the trigger, relay overhead as relay in + relay out, jitter from arrival gaps against send gaps', () => {
    const d = driverWithTurn();
    // Values under 2,048 µs, which the histogram holds exactly. Trigger at 2.000000 s, at the upstream 100 µs later
    // (relay in), think time 1 ms; chunks sent 1 ms apart arrive 300, 500 and 300 µs after they left: relay out of
    // the first is 300 µs, gaps of 1,200 and 800 µs against 1,000 µs.
    feed(d, 5, delta(5, 1, 0, 2_001_200, { latencyMs: 1, requestedAtUs: 2_000_100 }), 2_001_500);
    feed(d, 5, delta(5, 1, 1, 2_002_200, { latencyMs: 1 }), 2_002_700);
    feed(d, 5, delta(5, 1, 2, 2_003_200, { latencyMs: 1 }), 2_003_500);
    assert.equal(d.pendingTurns(5), 1);
    feed(d, 5, done(5, 1), 2_003_600);
    assert.equal(d.pendingTurns(5), 0);
    const r: VoicePart = d.result();
    const first = hist(r.firstChunkEncoded);
    assert.deepEqual([first.count, first.minUs, first.maxUs], [1, 1_500, 1_500]);
    const overhead = hist(r.relayOverheadEncoded);
    // Not first chunk − think time (500 µs here): the upstream's timer error would land in that.
    assert.deepEqual([overhead.count, overhead.minUs, overhead.maxUs], [1, 400, 400]);
    const jitter = hist(r.jitterEncoded);
    assert.deepEqual([jitter.count, jitter.minUs, jitter.maxUs], [2, 200, 200]);
    assert.deepEqual(
      [r.turnsTriggered, r.turnsCompleted, r.repliesExpected, r.repliesReceived, r.repliesCorrupted, r.duplicated, r.outOfOrder],
      [1, 1, 4, 4, 0, 0, 0],
    );
  });

  test('the relay overhead counts from when the trigger left, the first chunk from when it was due', () => {
    // Due at 2.000000 s, written 60 µs late (a generator on timers): the user waited from 2.000000 s, the relay
    // only from 2.000060 s, so the generator's lateness is not charged to the server.
    const d = driverWithTurn(3, 2_000_060);
    feed(d, 5, delta(5, 1, 0, 2_001_200, { latencyMs: 1, requestedAtUs: 2_000_160 }), 2_001_500);
    const r = d.result();
    assert.equal(hist(r.firstChunkEncoded).minUs, 1_500);
    assert.equal(hist(r.relayOverheadEncoded).minUs, 400);
  });

  test('cross-talk, foreign turns, unknown turns, damaged events and wrong audio are corrupted; a duplicate is not received twice', () => {
    const d = driverWithTurn();
    feed(d, 5, delta(6, 1, 0, 2_040_000), 2_045_000); // conn 6's reply on conn 5's socket
    feed(d, 5, delta(5, 1, 0, 2_040_000, { session: 's6' }), 2_045_000); // right turn, wrong session
    feed(d, 5, delta(5, 9, 0, 2_040_000), 2_045_000); // a turn conn 5 never triggered
    feed(d, 5, delta(5, 1, 3, 2_040_000), 2_045_000); // seq beyond the turn's chunks
    feed(d, 5, Buffer.from('{"type":"response.audio.delta","session":"s5"'), 2_045_000);
    assert.equal(d.repliesCorrupted, 5);
    assert.equal(d.repliesReceived, 0);
    const flipped = AUDIO.slice(0, 10) + (AUDIO[10] === 'A' ? 'B' : 'A') + AUDIO.slice(11);
    feed(d, 5, delta(5, 1, 0, 2_040_000, { audio: flipped }), 2_045_000);
    feed(d, 5, delta(5, 1, 1, 2_050_000, { audio: AUDIO.slice(1) }), 2_055_000);
    assert.equal(d.repliesCorrupted, 7);
    assert.equal(d.repliesReceived, 2, 'a reply with damaged audio still arrived');
    feed(d, 5, delta(5, 1, 1, 2_050_000), 2_056_000);
    assert.equal(d.duplicated, 1);
    assert.equal(d.repliesReceived, 2);
    // Corruption before the window (warmup) is not reported.
    const early = driverWithTurn();
    feed(early, 5, delta(6, 1, 0, 2_040_000), 500_000);
    assert.equal(early.repliesCorrupted, 0);
  });

  test('chunks arriving after a later chunk of their turn are out of order; first chunk is the first to arrive', () => {
    const d = driverWithTurn();
    feed(d, 5, delta(5, 1, 2, 2_001_800), 2_001_900);
    feed(d, 5, delta(5, 1, 0, 2_001_000), 2_002_000);
    feed(d, 5, delta(5, 1, 1, 2_001_400), 2_002_100);
    const r = d.result();
    assert.equal(r.outOfOrder, 2);
    assert.equal(hist(r.firstChunkEncoded).maxUs, 1_900);
  });

  test('turns triggered outside the window are timed into scratch and not counted; a fully answered turn is released and later copies are duplicates', () => {
    const d = new VoiceDriver(model({}, 1), 0, 1);
    d.setWindow(10_000_000, 20_000_000);
    assert.equal(d.afterAudio(0, 1, 9_000_000), 1);
    for (let seq = 0; seq < 3; seq++) feed(d, 0, delta(0, 1, seq, 9_040_000 + seq * 10_000), 10_050_000 + seq * 10_000);
    feed(d, 0, done(0, 1), 10_080_000);
    const r = d.result();
    assert.deepEqual([r.turnsTriggered, r.repliesExpected, r.repliesReceived, r.turnsCompleted], [0, 0, 0, 0]);
    assert.equal(hist(r.firstChunkEncoded).count, 0);
    assert.equal(d.pendingTurns(0), 0);
    feed(d, 0, delta(0, 1, 0, 9_040_000), 10_090_000);
    assert.equal(d.duplicated, 1);
    assert.equal(d.repliesCorrupted, 0);
  });
});

describe('voice model validation', () => {
  const run = (raw: Record<string, unknown>) => {
    const problems: string[] = [];
    const models = validate({ model: 'voice', ...raw }, 'load', problems);
    return { models, problems };
  };

  test('defaults: 20 ms frames, 50 per turn, the upstream defaults with latency in its text form', () => {
    const { models, problems } = run({});
    assert.deepEqual(problems, []);
    assert.deepEqual(models, [{ model: 'voice', ...VOICE_DEFAULTS }]);
    assert.deepEqual(VOICE_DEFAULTS.upstream, { latency: 'uniform:200:800', chunks: 10, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 });
  });

  test('accepts given values and fills the rest', () => {
    const { models, problems } = run({ frameIntervalMs: 10, framesPerTurn: 25, upstream: { latency: 'fixed:30', chunks: 5 } });
    assert.deepEqual(problems, []);
    assert.deepEqual(models[0]?.upstream, { latency: 'fixed:30', chunks: 5, chunkIntervalMs: 20, chunkAudioBytes: 960, seed: 1 });
    assert.equal(models[0]?.framesPerTurn, 25);
  });

  test('every problem names its field path; unknown keys are refused', () => {
    const { models, problems } = run({
      frameIntervalMs: 0,
      framesPerTurn: 2.5,
      extra: 1,
      upstream: { latency: 'gaussian:3', chunks: 0, chunkIntervalMs: -1, chunkAudioBytes: 'x', seed: 1.5, host: '0.0.0.0' },
    });
    assert.deepEqual(models, []);
    const expect = [
      /^load\.extra: unknown key/,
      /^load\.frameIntervalMs: must be at least 1/,
      /^load\.framesPerTurn: must be a whole number/,
      /^load\.upstream\.host: unknown key \(allowed: latency, chunks, chunkIntervalMs, chunkAudioBytes, seed\)/,
      /^load\.upstream\.latency: expected fixed:MS, uniform:MIN_MS:MAX_MS or lognormal:MEDIAN_MS:SIGMA/,
      /^load\.upstream\.chunks: must be an integer from 1/,
      /^load\.upstream\.chunkIntervalMs: must be an integer from 0/,
      /^load\.upstream\.chunkAudioBytes: must be an integer/,
      /^load\.upstream\.seed: must be an integer/,
    ];
    assert.equal(problems.length, expect.length, problems.join('\n'));
    for (const re of expect) assert.ok(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`);
  });

  test('a latency out of range names the field too', () => {
    assert.match(run({ upstream: { latency: 'uniform:800:200' } }).problems[0]!, /^load\.upstream\.latency: maxMs must be at least minMs/);
    assert.match(run({ frameIntervalMs: 1001 }).problems[0]!, /^load\.frameIntervalMs: must be at most 1000/);
    assert.match(run({ upstream: 3 }).problems[0]!, /^load\.upstream: must be an object/);
  });
});

describe('voice load end to end through a relay', async () => {
  const host = currentHost();
  const usable = new Set((await probeRuntimes(host)).filter((r) => r.usable).map((r) => r.id));
  // Think time fixed at 30 ms, so the time to the first chunk cannot be shorter.
  const upstreamSettings = { latency: 'fixed:30', chunks: 5, chunkIntervalMs: 10, chunkAudioBytes: 960, seed: 1 };
  let upstream: UpstreamHandle | undefined;
  before(async () => {
    upstream = await startUpstream({
      config: { latency: { kind: 'fixed', ms: 30 }, chunks: 5, chunkIntervalMs: 10, chunkAudioBytes: 960, seed: 1 },
    });
  });
  after(async () => {
    await upstream?.stop();
  });

  for (const runtime of ['node-ws', 'bun'] as const) {
    describe(runtime, { skip: usable.has(runtime) ? false : `${runtime} is not usable here` }, () => {
      let server: RegistryServerHandle | undefined;
      before(async () => {
        server = await startServer({ runtime, port: 0, host: '127.0.0.1', env: { UPSTREAM_URL: upstream!.url } });
      });
      after(async () => {
        await server?.stop();
      });

      test('every reply of every turn triggered in the window arrives intact, no sooner than the think time', async () => {
        const plan: LoadPlan = {
          url: `ws://127.0.0.1:${server!.port}/relay`,
          connections: 4,
          load: { model: 'voice', frameIntervalMs: 20, framesPerTurn: 10, upstream: upstreamSettings },
          message: { kind: 'json', template: { type: 'input_audio_buffer.append', event_id: '{{id}}', audio: '{{base64:640}}' } },
          warmupMs: 500,
          durationMs: 2000,
          // As core/run.ts sizes it: think time + the burst + 2 s.
          drainTimeoutMs: 30 + 5 * 10 + 2000,
          connect: { maxInFlight: 4, timeoutMs: 5000 },
          // Two workers, so their voice parts are merged.
          workers: 2,
          client: 'raw',
          seed: 1,
        };
        const r = await runLoad(plan, { nodePath: host.nodePath });
        const v = r.voice;
        assert.ok(v, 'a voice result');
        assert.equal(r.connectionsOpened, 4);
        assert.ok(v.turnsTriggered > 0);
        assert.equal(v.turnsCompleted, v.turnsTriggered);
        assert.equal(v.controlEventsSent, v.turnsTriggered);
        assert.equal(v.repliesExpected, v.turnsTriggered * 6);
        assert.equal(v.repliesReceived, v.repliesExpected);
        assert.equal(v.repliesCorrupted, 0);
        assert.ok(v.firstChunk.p50Us >= 30_000, `first chunk p50 ${v.firstChunk.p50Us} µs`);
        assert.equal(v.firstChunk.count, v.turnsTriggered);
        assert.equal(v.relayOverhead.count, v.turnsTriggered);
        assert.equal(v.jitter.count, v.turnsTriggered * 4);
        assert.deepEqual(r.latency, v.firstChunk);
        assert.deepEqual(r.delivery, {
          sent: v.audioEventsSent + v.controlEventsSent,
          expected: v.repliesExpected,
          received: v.repliesExpected,
          lost: 0,
          duplicated: 0,
          corrupted: 0,
          outOfOrder: 0,
          misdelivered: 0,
        });
        assert.deepEqual(r.errors, {});
      });
    });
  }
});
