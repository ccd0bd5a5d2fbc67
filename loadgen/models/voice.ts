import { checkNumber, checkObject, checkString, isObject, type Problems } from '../../base/validate.js';
import { UPSTREAM_DEFAULTS, resolveUpstreamConfig } from '../../upstream/config.js';
import { formatLatency, parseLatency } from '../../upstream/latency.js';
import type { VoiceModel } from '../types.js';

/**
 * Voice agent: every connection is a session on /relay that streams one audio
 * event per `frameIntervalMs` (open loop) and asks for a reply after every
 * `framesPerTurn` of them; the simulated upstream behind the relay answers
 * with timed chunks, and the load generator measures the time to the first
 * chunk, the relay's share of it and the jitter between chunks (loadgen/voice.ts).
 */
export const description =
  'voice agent: audio events every frameIntervalMs per session through /relay, a turn every framesPerTurn events, replies timed';

type UpstreamSettings = VoiceModel['upstream'];

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

const UPSTREAM_KEYS = ['latency', 'chunks', 'chunkIntervalMs', 'chunkAudioBytes', 'seed'] as const;

export function validate(raw: Record<string, unknown>, path: string, problems: Problems): VoiceModel[] {
  const before = problems.length;
  checkObject(raw, path, problems, ['model', 'frameIntervalMs', 'framesPerTurn', 'upstream']);
  const d = VOICE_DEFAULTS;
  const frameIntervalMs = checkNumber(raw['frameIntervalMs'], `${path}.frameIntervalMs`, problems, { min: 1, max: 1000 }) ?? d.frameIntervalMs;
  const framesPerTurn = checkNumber(raw['framesPerTurn'], `${path}.framesPerTurn`, problems, { integer: true, min: 1 }) ?? d.framesPerTurn;
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

export function caseSuffix(_m: VoiceModel): string {
  return '';
}
