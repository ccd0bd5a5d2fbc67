/**
 * The simulated model's think time: a latency distribution, a seeded random
 * source per session, and the sampler that draws from one with the other.
 * Pure functions (no clock, no I/O), so tests check them draw by draw.
 */

/** A latency distribution in milliseconds. */
export type LatencySpec =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** exp(N(ln medianMs, sigma²)): median `medianMs`, right-skewed; sigma is the σ of the underlying normal. */
  | { kind: 'lognormal'; medianMs: number; sigma: number };

/** The "model latency 200–800 ms". */
export const DEFAULT_LATENCY: LatencySpec = { kind: 'uniform', minMs: 200, maxMs: 800 };

/** No draw is allowed to wait longer than this (a typo such as 2000000 would otherwise hang a run). */
export const MAX_LATENCY_MS = 60_000;

/** Largest σ accepted for log-normal: at 3 the 99.9th percentile is already e^9.3 ≈ 10,000× the median. */
export const MAX_LOGNORMAL_SIGMA = 3;


/**
 * The seed of one session's random source: FNV-1a (32-bit) of the session id,
 * mixed with the run's seed. Each session draws from its own sequence, so its
 * latencies do not depend on how other sessions' turns interleave with it.
 */
export function sessionSeed(seed: number, session: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < session.length; i++) {
    hash ^= session.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A function that returns one latency in ms (a float) per call. Log-normal
 * draws use the Box–Muller transform (one normal per two uniforms; the second
 * normal is discarded to keep the sequence simple to reproduce).
 */
export function latencySampler(spec: LatencySpec, random: () => number): () => number {
  switch (spec.kind) {
    case 'fixed':
      return () => spec.ms;
    case 'uniform': {
      const spanMs = spec.maxMs - spec.minMs;
      return () => spec.minMs + spanMs * random();
    }
    case 'lognormal':
      return () => {
        const u1 = 1 - random(); // (0, 1]: log(0) is never taken
        const u2 = random();
        const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
        return spec.medianMs * Math.exp(spec.sigma * z);
      };
  }
}

/** The text form used by flags and environment: `fixed:MS`, `uniform:MIN:MAX`, `lognormal:MEDIAN:SIGMA`. */
export function formatLatency(spec: LatencySpec): string {
  switch (spec.kind) {
    case 'fixed':
      return `fixed:${spec.ms}`;
    case 'uniform':
      return `uniform:${spec.minMs}:${spec.maxMs}`;
    case 'lognormal':
      return `lognormal:${spec.medianMs}:${spec.sigma}`;
  }
}

const LATENCY_FORMS = 'fixed:MS, uniform:MIN_MS:MAX_MS or lognormal:MEDIAN_MS:SIGMA';

/** Parses the text form; returns the problem as a string when it is not valid. */
export function parseLatency(text: string): LatencySpec | string {
  const [kind, ...rest] = text.trim().split(':');
  const numbers = rest.map((s) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN));
  if (numbers.some((n) => Number.isNaN(n))) return `expected ${LATENCY_FORMS} with non-negative numbers, got ${JSON.stringify(text)}`;
  let spec: LatencySpec | undefined;
  if (kind === 'fixed' && numbers.length === 1) spec = { kind, ms: numbers[0]! };
  else if (kind === 'uniform' && numbers.length === 2) spec = { kind, minMs: numbers[0]!, maxMs: numbers[1]! };
  else if (kind === 'lognormal' && numbers.length === 2) spec = { kind, medianMs: numbers[0]!, sigma: numbers[1]! };
  if (spec === undefined) return `expected ${LATENCY_FORMS}, got ${JSON.stringify(text)}`;
  return checkLatency(spec) ?? spec;
}

/** The problem with a spec given as an object (from a scenario or the launcher), or undefined. */
export function checkLatency(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `must be an object with kind fixed, uniform or lognormal`;
  const spec = value as Record<string, unknown>;
  const finite = (key: string) => typeof spec[key] === 'number' && Number.isFinite(spec[key]) && (spec[key] as number) >= 0;
  const keysOf = (...keys: string[]) => {
    const extra = Object.keys(spec).filter((k) => k !== 'kind' && !keys.includes(k));
    if (extra.length > 0) return `unknown key(s) ${extra.join(', ')} for kind ${String(spec['kind'])}`;
    const bad = keys.find((k) => !finite(k));
    return bad === undefined ? undefined : `${bad} must be a non-negative number`;
  };
  switch (spec['kind']) {
    case 'fixed':
      return keysOf('ms') ?? ((spec['ms'] as number) > MAX_LATENCY_MS ? `ms must be at most ${MAX_LATENCY_MS}` : undefined);
    case 'uniform': {
      const problem = keysOf('minMs', 'maxMs');
      if (problem !== undefined) return problem;
      if ((spec['maxMs'] as number) < (spec['minMs'] as number)) return 'maxMs must be at least minMs';
      return (spec['maxMs'] as number) > MAX_LATENCY_MS ? `maxMs must be at most ${MAX_LATENCY_MS}` : undefined;
    }
    case 'lognormal': {
      const problem = keysOf('medianMs', 'sigma');
      if (problem !== undefined) return problem;
      if ((spec['medianMs'] as number) <= 0) return 'medianMs must be above 0';
      if ((spec['medianMs'] as number) > MAX_LATENCY_MS) return `medianMs must be at most ${MAX_LATENCY_MS}`;
      return (spec['sigma'] as number) > MAX_LOGNORMAL_SIGMA ? `sigma must be at most ${MAX_LOGNORMAL_SIGMA}` : undefined;
    }
    default:
      return `kind must be fixed, uniform or lognormal, got ${JSON.stringify(spec['kind'])}`;
  }
}

/**
 * The delay the upstream actually waits for one draw: rounded to whole ms
 * (timers have ms resolution) and capped at MAX_LATENCY_MS (only log-normal
 * tails can exceed it).
 */
export function scheduledDelayMs(drawMs: number): number {
  return Math.min(MAX_LATENCY_MS, Math.round(drawMs));
}
