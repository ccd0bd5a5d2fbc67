import { checkNumber, checkObject, checkString, isObject, type Problems } from '../../base/validate.js';
import type { VoiceMetrics, Warning } from '../../schema/result.js';
import { UPSTREAM_DEFAULTS, resolveUpstreamConfig, type UpstreamConfig } from '../../upstream/config.js';
import { formatLatency, MAX_LATENCY_MS, parseLatency, type LatencySpec } from '../../upstream/latency.js';
import { decodeHistogram, encodeHistogram, mergeHistograms, summarizeHistogram } from '../histogram.js';
import { epochClockUs } from '../schedule.js';
import { WsSession, type Conn, type ModelResult } from '../session.js';
import type { VoiceModel, VoiceResult } from '../types.js';
import { sessionIdOf, VoiceDriver, type VoicePart } from '../voice.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, rateMissedWarning, SUSTAINED_SHARE } from './common.js';
import type { LoadModelDef } from './model.js';

/**
 * Voice agent: every connection is a session on /relay that streams one audio event (the scenario's
 * `message`) every `frameIntervalMs` on the open-loop schedule and asks for a reply after every
 * `framesPerTurn` of them; the simulated upstream behind the relay answers with timed chunks, and the driver
 * (loadgen/voice.ts) measures the time to the first chunk, the relay's share of it and the jitter.
 */
class VoiceSession extends WsSession {
  readonly m = this.plan.load as VoiceModel;
  readonly voice = new VoiceDriver(this.m, this.init.firstConnId, this.init.connections);

  override pathFor(c: Conn, url: URL): string {
    // One relay session per connection; the server hands the session id on to the upstream, which writes it into every reply.
    return `${url.pathname === '/' ? '/relay' : url.pathname}?session=${sessionIdOf(c.id)}`;
  }

  override sendOn(c: Conn, tUs: number): void {
    super.sendOn(c, tUs);
    // Every framesPerTurn-th audio event of a session ends a turn: its response.create leaves at the same intended time.
    const turn = this.voice.afterAudio(c.id, c.seq, tUs, epochClockUs);
    if (turn > 0) {
      const v = this.voice;
      this.transport.send(c.t!, v.controlCodec, v.controlTemplate, c.id, turn, tUs);
      const b = this.bucket(tUs);
      b.sentMsgs++;
      b.sentBytes += v.controlTemplate.length;
    }
  }

  begin(): void {
    this.voice.setWindow(this.measureStartUs, this.measureEndUs);
    const open = this.conns.filter((c) => c.open);
    // Round-robin over the open sessions at this rate gives each one audio event per frameIntervalMs, staggered evenly.
    this.runSchedule(open, (open.length * 1000) / this.m.frameIntervalMs, 'constant');
  }

  onMessage(c: Conn, buf: Buffer, start: number, end: number): void {
    // Reply events from the upstream, not our messages coming back: the driver reads and times them.
    const nowUs = this.readAtUs;
    this.recvSinceProgress++;
    this.lastRecvAtUs = nowUs;
    this.voice.onReply(c.id, buf, start, end, nowUs);
    const b = this.bucket(nowUs);
    b.receivedMsgs++;
    b.receivedBytes += end - start;
  }

  drained(): boolean {
    // Every triggered turn is owed a response.done (even when chunks were dropped); a closed session owes nothing more.
    const v = this.voice;
    return this.conns.every((c) => !c.open || v.pendingTurns(c.id) === 0);
  }

  modelResult(): ModelResult {
    const v = this.voice.result();
    const ol = this.windowSchedule();
    return {
      voice: v,
      // The voice model's latency is the time to the first reply chunk; its deliveries are reply events.
      latencyEncoded: v.firstChunkEncoded,
      delivery: {
        sent: v.audioEventsSent + v.controlEventsSent,
        expected: v.repliesExpected,
        received: v.repliesReceived,
        lost: Math.max(0, v.repliesExpected - v.repliesReceived),
        duplicated: v.duplicated,
        corrupted: v.repliesCorrupted,
        outOfOrder: v.outOfOrder,
        misdelivered: 0,
      },
      // The audio events are an open-loop schedule: what it could not send on time is reported like the open model's.
      ...(ol && this.sender ? { openLoop: { targetPerSec: this.sender.schedule.ratePerSec, ...ol } } : {}),
    };
  }
}

/** Merges the workers' voice parts: histograms decoded and added (exact), counters summed. */
export function mergeVoiceParts(parts: readonly VoicePart[]): VoiceResult {
  const merged = (pick: (p: VoicePart) => string) => mergeHistograms(parts.map((p) => decodeHistogram(pick(p))));
  const firstChunk = merged((p) => p.firstChunkEncoded);
  const relayOverhead = merged((p) => p.relayOverheadEncoded);
  const jitter = merged((p) => p.jitterEncoded);
  const sum = (pick: (p: VoicePart) => number) => parts.reduce((a, p) => a + pick(p), 0);
  return {
    firstChunk: summarizeHistogram(firstChunk),
    firstChunkEncoded: encodeHistogram(firstChunk),
    relayOverhead: summarizeHistogram(relayOverhead),
    relayOverheadEncoded: encodeHistogram(relayOverhead),
    jitter: summarizeHistogram(jitter),
    jitterEncoded: encodeHistogram(jitter),
    audioEventsSent: sum((p) => p.audioEventsSent),
    controlEventsSent: sum((p) => p.controlEventsSent),
    turnsTriggered: sum((p) => p.turnsTriggered),
    turnsCompleted: sum((p) => p.turnsCompleted),
    repliesExpected: sum((p) => p.repliesExpected),
    repliesReceived: sum((p) => p.repliesReceived),
    repliesCorrupted: sum((p) => p.repliesCorrupted),
  };
}

/** The upstream's settings for a voice model (the scenario gives the latency as text, e.g. `uniform:200:800`). */
export function upstreamConfigOf(m: VoiceModel): Partial<UpstreamConfig> {
  const latency = parseLatency(m.upstream.latency);
  // The scenario validator already refused a bad latency; this only keeps the types honest.
  if (typeof latency === 'string') throw new Error(`load.upstream.latency: ${latency}`);
  return { latency, chunks: m.upstream.chunks, chunkIntervalMs: m.upstream.chunkIntervalMs, chunkAudioBytes: m.upstream.chunkAudioBytes, seed: m.upstream.seed };
}

/** The longest think time a latency distribution gives in practice (a log-normal's 99.99th percentile). */
export function maxThinkMs(spec: LatencySpec): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.ms;
    case 'uniform':
      return spec.maxMs;
    case 'lognormal':
      return Math.min(MAX_LATENCY_MS, spec.medianMs * Math.exp(3.72 * spec.sigma));
  }
}

/** Above this share of one core the simulated upstream may be delaying replies itself. */
export const UPSTREAM_BUSY_PCT = 80;

/** Defaults of every optional field; the upstream's are its own (upstream/config.ts), latency in its text form. */
export const VOICE_DEFAULTS: Omit<VoiceModel, 'model'> = {
  // One 20 ms audio frame per event, as realtime voice APIs stream it.
  frameIntervalMs: 20,
  // 50 frames of 20 ms: a turn per second of speech.
  framesPerTurn: 50,
  upstream: {
    latency: formatLatency(UPSTREAM_DEFAULTS.latency),
    chunks: UPSTREAM_DEFAULTS.chunks,
    chunkIntervalMs: UPSTREAM_DEFAULTS.chunkIntervalMs,
    chunkAudioBytes: UPSTREAM_DEFAULTS.chunkAudioBytes,
    seed: UPSTREAM_DEFAULTS.seed,
  },
};

export const voice: LoadModelDef<VoiceModel> = {
  name: 'voice',
  description: 'voice agent: audio events every frameIntervalMs per session through /relay, a turn every framesPerTurn events, replies timed',
  routes: ['/relay'],
  message: 'any',
  validate,
  caseSuffix: () => '',
  primary: 'fixed-rate',
  primaryLatency: 'relayOverheadP99Us',
  runsAs: () => 'load',
  segmentable: () => true,
  // One session per connection, each streaming an audio event per frame interval.
  segment: (m, ctx) => ({ sendRatePerSec: (ctx.connections.count * 1000) / m.frameIntervalMs }),
  upstream: upstreamConfigOf,
  /** A turn triggered at the window's last moment is owed its whole reply (think time and burst). */
  drainTimeoutMs(m) {
    const spec = parseLatency(m.upstream.latency);
    const think = typeof spec === 'string' ? MAX_LATENCY_MS : maxThinkMs(spec);
    return Math.ceil(think + m.upstream.chunks * m.upstream.chunkIntervalMs + DEFAULT_DRAIN_TIMEOUT_MS);
  },
  createRunner: (_m, init, post) => new VoiceSession(init, post),
  mergeParts(results, out) {
    const parts = results.flatMap((r) => (r.voice ? [r.voice] : []));
    if (parts.length === 0) return;
    out.voice = mergeVoiceParts(parts);
    // The voice model's latency is the time to the first reply chunk.
    out.latency = out.voice.firstChunk;
    out.latencyEncoded = out.voice.firstChunkEncoded;
  },
  metrics(_m, load, ctx) {
    const warnings: Warning[] = [];
    // A relay's replies are not its sends: only the audio schedule tells a missed rate.
    const missed = rateMissedWarning(load, ctx.receivedMsgs, ctx.windowMs, { echoes: false });
    if (missed) warnings.push(missed);
    const v = load.voice;
    if (!v) return { metrics: {}, warnings };
    // A relay's work is both directions: per relayed message, not per message the client received.
    const relayedMsgs = ctx.receivedMsgs + ctx.sentMsgs;
    // The precise CPU: ticks of 10 ms are a 30% error on a quiet relay's 30 ms over a 1 s window.
    const perRelayed = relayedMsgs > 0 ? ctx.serverCpuUs / relayedMsgs : null;
    const voiceMetrics: VoiceMetrics = {
      firstChunkUs: v.firstChunk,
      relayOverheadUs: v.relayOverhead,
      jitterUs: v.jitter,
      turnsTriggered: v.turnsTriggered,
      turnsCompleted: v.turnsCompleted,
      audioEventsSent: v.audioEventsSent,
      controlEventsSent: v.controlEventsSent,
      repliesExpected: v.repliesExpected,
      repliesReceived: v.repliesReceived,
      repliesCorrupted: v.repliesCorrupted,
      relayedMsgs,
      serverCpuUsPerRelayedMsg: perRelayed,
      // Only a slope over several session counts (a capacity search) says what a session costs; one count cannot.
      bytesPerSession: null,
      ...(ctx.upstream ? { upstream: ctx.upstream } : {}),
    };
    const up = ctx.upstream;
    if (up && (up.cpuUtilPct > UPSTREAM_BUSY_PCT || up.chunksDropped > 0)) {
      warnings.push({ code: 'upstream-bound', cpuPct: up.cpuUtilPct, chunksDropped: up.chunksDropped });
    }
    // Carried: (nearly) every triggered turn answered in full, no audio send skipped.
    // Turns and replies are counted after the drain, with no window edge: 1% short is short.
    const sustained = v.turnsCompleted >= SUSTAINED_SHARE * v.turnsTriggered && v.repliesReceived >= SUSTAINED_SHARE * v.repliesExpected && (load.openLoop?.dropped ?? 0) === 0;
    return { metrics: { voice: voiceMetrics, serverCpuUsPerMsg: perRelayed, sustained }, warnings };
  },
  describe: (m) => `voice agent: an audio event every ${m.frameIntervalMs} ms per session, a turn every ${m.framesPerTurn} events, think time ${m.upstream.latency} ms`,
};

type UpstreamSettings = VoiceModel['upstream'];


const UPSTREAM_KEYS = ['latency', 'chunks', 'chunkIntervalMs', 'chunkAudioBytes', 'seed'] as const;

function validate(raw: Record<string, unknown>, path: string, problems: Problems): VoiceModel[] {
  const before = problems.length;
  checkObject(raw, path, problems, ['model', 'frameIntervalMs', 'framesPerTurn', 'upstream']);
  const d = VOICE_DEFAULTS;
  const frameIntervalMs = checkNumber(raw['frameIntervalMs'], `${path}.frameIntervalMs`, problems, { min: 1, max: 1000 }) ?? d.frameIntervalMs;
  const framesPerTurn = checkNumber(raw['framesPerTurn'], `${path}.framesPerTurn`, problems, { integer: true, min: 1, max: 100_000 }) ?? d.framesPerTurn;
  const upstream = validateUpstream(raw['upstream'], `${path}.upstream`, problems);
  if (problems.length > before) return [];
  return [{ model: 'voice', frameIntervalMs, framesPerTurn, upstream }];
}

/**
 * The upstream's settings. Ranges are the upstream's own checks (resolveUpstreamConfig), so a scenario cannot
 * ask for what the process would refuse; its problems are re-homed under this field's path.
 */
function validateUpstream(raw: unknown, path: string, problems: Problems): UpstreamSettings {
  const out = { ...VOICE_DEFAULTS.upstream };
  if (raw === undefined) return out;
  const o = checkObject(raw, path, problems, UPSTREAM_KEYS);
  if (!isObject(o)) return out;
  const latency = checkString(o['latency'], `${path}.latency`, problems);
  if (latency !== undefined) {
    const spec = parseLatency(latency);
    if (typeof spec === 'string') problems.push(`${path}.latency: ${spec}`);
    else out.latency = formatLatency(spec);
  }
  const numeric: Record<string, unknown> = {};
  for (const key of UPSTREAM_KEYS) if (key !== 'latency' && o[key] !== undefined) numeric[key] = o[key];
  const resolved = resolveUpstreamConfig(numeric);
  for (const p of resolved.problems) problems.push(p.replace(/^upstream\./, `${path}.`));
  if (resolved.problems.length === 0) {
    out.chunks = resolved.config.chunks;
    out.chunkIntervalMs = resolved.config.chunkIntervalMs;
    out.chunkAudioBytes = resolved.config.chunkAudioBytes;
    out.seed = resolved.config.seed;
  }
  return out;
}

