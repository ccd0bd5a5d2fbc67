// Message shapes: what kind of message is sent and how its size varies.
//
// A shape is plain data (`MessageShape` in types.ts) so scenarios can load it
// from JSON; `validateShape` is the strict check of that data (unknown keys
// rejected, every problem reported with its field path). At run time sizes
// never cost an allocation per message: `prebuildTemplates` builds a small
// pool of payload templates up front, and the sender cycles through it.
// Every kind is built through its codec (codec.ts), so a json template's
// pool follows its size distribution exactly as a binary payload's does.

import { codecFor, type PayloadCodec } from './codec.js';
import { MAX_PAYLOAD_BYTES, payloadMinBytes } from './payload.js';
import { mulberry32 } from '../stats/random.js';
import { quote } from '../base/validate.js';
import { layoutTemplate, templateFields } from './template.js';
import type { MessageKind, MessageShape, SizeSpec } from './types.js';

export type { MessageKind, MessageShape, SizeSpec };

/** Size distributions and the keys each one allows (the first key is always `type`). */
const SIZE_KEYS: Record<SizeSpec['type'], { allowed: readonly string[]; required: readonly string[] }> = {
  fixed: { allowed: ['type', 'bytes'], required: ['bytes'] },
  uniform: { allowed: ['type', 'minBytes', 'maxBytes'], required: ['minBytes', 'maxBytes'] },
  lognormal: { allowed: ['type', 'medianBytes', 'sigma', 'minBytes', 'maxBytes'], required: ['medianBytes', 'sigma'] },
  weighted: { allowed: ['type', 'choices'], required: ['choices'] },
};
const SIZE_TYPES = Object.keys(SIZE_KEYS) as SizeSpec['type'][];
const KINDS: readonly MessageShape['kind'][] = ['binary', 'text', 'json'];

/** The smallest size a shape's messages can have, and how to name it in a problem. */
interface SizeFloor {
  bytes: number;
  /** e.g. "for binary", or ", the template's size with an empty {{pad}}," */
  why: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(
  obj: Record<string, unknown>, path: string, problems: string[],
  allowed: readonly string[], required: readonly string[],
): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) problems.push(`${path}.${k}: unknown key (allowed: ${allowed.join(', ')})`);
  }
  for (const k of required) {
    if (obj[k] === undefined) problems.push(`${path}.${k}: is required`);
  }
}

// A payload size: whole number of bytes within [the shape's floor, MAX_PAYLOAD_BYTES].
function checkBytes(v: unknown, path: string, floor: SizeFloor | undefined, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push(`${path}: must be a number of bytes, got ${quote(v)}`);
  } else if (!Number.isInteger(v)) {
    problems.push(`${path}: must be a whole number of bytes, got ${v}`);
  } else if (floor !== undefined && v < floor.bytes) {
    problems.push(`${path}: must be at least ${floor.bytes} ${floor.why}, got ${v}`);
  } else if (floor === undefined && v < 1) {
    problems.push(`${path}: must be at least 1, got ${v}`);
  } else if (v > MAX_PAYLOAD_BYTES) {
    problems.push(`${path}: must be at most ${MAX_PAYLOAD_BYTES}, got ${v}`);
  } else {
    return v;
  }
  return undefined;
}

function checkPositive(v: unknown, path: string, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push(`${path}: must be a number, got ${quote(v)}`);
  } else if (v <= 0) {
    problems.push(`${path}: must be greater than 0, got ${v}`);
  } else {
    return v;
  }
  return undefined;
}

/**
 * Checks that `value` is a valid `MessageShape` and returns every problem,
 * each prefixed with its field path under `path` (e.g.
 * `message.size.minBytes: must be at least 16 for binary, got 8`). Unknown
 * keys are rejected. Sizes are whole bytes from the kind's minimum (16
 * binary, 65 text, a json template's size with an empty `{{pad}}`) to
 * `MAX_PAYLOAD_BYTES`; ranges must be ordered; a lognormal's `sigma` must be
 * > 0 and its median within its bounds; weighted `choices` must be non-empty
 * with weights > 0. A json shape has a `template` (template.ts checks its
 * placeholders) and a `size` exactly when the template has a `{{pad}}`.
 *
 * @param path field path of the shape in its file, e.g. "message"
 * @returns [] when valid
 */
export function validateShape(value: unknown, path: string): string[] {
  const problems: string[] = [];
  if (!isRecord(value)) {
    problems.push(`${path}: must be an object with "kind" and "size" (or "kind": "json" and "template")`);
    return problems;
  }
  if (value['kind'] === 'json') {
    validateJsonShape(value, path, problems);
    return problems;
  }
  checkKeys(value, path, problems, ['kind', 'size'], ['kind', 'size']);

  let floor: SizeFloor | undefined;
  if (value['kind'] !== undefined) {
    if (KINDS.includes(value['kind'] as MessageKind)) {
      const kind = value['kind'] as MessageKind;
      floor = { bytes: payloadMinBytes(kind), why: `for ${kind}` };
    } else problems.push(`${path}.kind: must be one of ${KINDS.map((k) => `"${k}"`).join(', ')}, got ${quote(value['kind'])}`);
  }
  checkSize(value['size'], `${path}.size`, floor, problems);
  return problems;
}

function validateJsonShape(value: Record<string, unknown>, path: string, problems: string[]): void {
  checkKeys(value, path, problems, ['kind', 'template', 'size'], ['kind', 'template']);
  if (value['template'] === undefined) return;
  const layout = layoutTemplate(value['template'], `${path}.template`, problems);
  const size = value['size'];
  if (!layout) {
    // Without the template's own size, only the size's form can be checked.
    checkSize(size, `${path}.size`, undefined, problems);
    return;
  }
  if (layout.hasPad && size === undefined) {
    problems.push(`${path}.size: is required when the template has a {{pad}} (the pad fills each message to a size drawn from it)`);
  } else if (!layout.hasPad && size !== undefined) {
    problems.push(`${path}.size: needs a {{pad}} in the template to fill messages to it; without one every message is the template's ${layout.minBytes} bytes`);
  } else {
    checkSize(size, `${path}.size`, { bytes: layout.minBytes, why: "(the template's size with an empty {{pad}})" }, problems);
  }
}

/** Checks a `SizeSpec` at `sp`; nothing when it is absent (the caller decides whether it is required). */
function checkSize(size: unknown, sp: string, floor: SizeFloor | undefined, problems: string[]): void {
  if (size === undefined) return;
  if (!isRecord(size)) {
    problems.push(`${sp}: must be an object with a "type" (one of ${SIZE_TYPES.join(', ')})`);
    return;
  }
  const type = size['type'];
  if (!SIZE_TYPES.includes(type as SizeSpec['type'])) {
    problems.push(`${sp}.type: must be one of ${SIZE_TYPES.map((t) => `"${t}"`).join(', ')}, got ${JSON.stringify(type)}`);
    return;
  }
  const rule = SIZE_KEYS[type as SizeSpec['type']];
  checkKeys(size, sp, problems, rule.allowed, rule.required);

  switch (type as SizeSpec['type']) {
    case 'fixed':
      checkBytes(size['bytes'], `${sp}.bytes`, floor, problems);
      break;
    case 'uniform': {
      const min = checkBytes(size['minBytes'], `${sp}.minBytes`, floor, problems);
      const max = checkBytes(size['maxBytes'], `${sp}.maxBytes`, floor, problems);
      if (min !== undefined && max !== undefined && max < min) {
        problems.push(`${sp}.maxBytes: must be at least minBytes (${min}), got ${max}`);
      }
      break;
    }
    case 'lognormal': {
      const median = checkBytes(size['medianBytes'], `${sp}.medianBytes`, floor, problems);
      checkPositive(size['sigma'], `${sp}.sigma`, problems);
      const min = checkBytes(size['minBytes'], `${sp}.minBytes`, floor, problems);
      const max = checkBytes(size['maxBytes'], `${sp}.maxBytes`, floor, problems);
      if (min !== undefined && max !== undefined && max < min) {
        problems.push(`${sp}.maxBytes: must be at least minBytes (${min}), got ${max}`);
      }
      if (median !== undefined && min !== undefined && median < min) {
        problems.push(`${sp}.medianBytes: must be at least minBytes (${min}), got ${median}`);
      }
      if (median !== undefined && max !== undefined && median > max) {
        problems.push(`${sp}.medianBytes: must be at most maxBytes (${max}), got ${median}`);
      }
      break;
    }
    case 'weighted': {
      const choices = size['choices'];
      if (choices === undefined) break;
      if (!Array.isArray(choices) || choices.length === 0) {
        problems.push(`${sp}.choices: must be a non-empty list of { "bytes": ..., "weight": ... }`);
        break;
      }
      choices.forEach((c: unknown, i) => {
        const cp = `${sp}.choices[${i}]`;
        if (!isRecord(c)) {
          problems.push(`${cp}: must be an object with "bytes" and "weight"`);
          return;
        }
        checkKeys(c, cp, problems, ['bytes', 'weight'], ['bytes', 'weight']);
        checkBytes(c['bytes'], `${cp}.bytes`, floor, problems);
        checkPositive(c['weight'], `${cp}.weight`, problems);
      });
      break;
    }
  }
}

/**
 * Whether every message of the shape carries the sender's connection id, its
 * sequence number and its intended send time, which delivery accounting and
 * latency need: always for binary and text, for json when the template has
 * `{{conn}}`, `{{seq}}` and `{{sentAtUs}}`.
 */
export function shapeHasHeader(shape: MessageShape): boolean {
  if (shape.kind !== 'json') return true;
  const f = templateFields(shape.template);
  return f.has('conn') && f.has('seq') && f.has('sentAtUs');
}

function assertValid(shape: MessageShape, what: string): void {
  const problems = validateShape(shape, 'shape');
  if (problems.length > 0) throw new RangeError(`${what}: invalid shape: ${problems.join('; ')}`);
}

/** Lower and upper size bounds of a size spec, in bytes, for clamping; `floor` is the shape's smallest message. */
function boundsOf(s: SizeSpec, floor: number): { minBytes: number; maxBytes: number } {
  if (s.type === 'lognormal') return { minBytes: s.minBytes ?? floor, maxBytes: s.maxBytes ?? MAX_PAYLOAD_BYTES };
  return { minBytes: floor, maxBytes: MAX_PAYLOAD_BYTES };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Inverse of the standard normal CDF, Φ⁻¹(p) for p in (0, 1): Acklam's
 * rational approximation (relative error < 1.2e-9), which is far below the
 * one-byte rounding of the sizes it feeds.
 */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  const at = (xs: number[], i: number): number => xs[i]!;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((at(c, 0) * q + at(c, 1)) * q + at(c, 2)) * q + at(c, 3)) * q + at(c, 4)) * q + at(c, 5)) /
      ((((at(d, 0) * q + at(d, 1)) * q + at(d, 2)) * q + at(d, 3)) * q + 1);
  }
  if (p > 1 - pLow) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (((((at(a, 0) * r + at(a, 1)) * r + at(a, 2)) * r + at(a, 3)) * r + at(a, 4)) * r + at(a, 5)) * q /
    (((((at(b, 0) * r + at(b, 1)) * r + at(b, 2)) * r + at(b, 3)) * r + at(b, 4)) * r + 1);
}

/**
 * The size, in bytes, at cumulative probability p in (0, 1) of a shape's
 * distribution (its quantile function). Both the random sampler and the
 * stratified template pool go through it, so they agree by construction.
 */
function sizeAtProbability(s: SizeSpec, floor: number, p: number, cumulativeWeights: readonly number[]): number {
  switch (s.type) {
    case 'fixed':
      return s.bytes;
    case 'uniform':
      return s.minBytes + Math.min(s.maxBytes - s.minBytes, Math.floor(p * (s.maxBytes - s.minBytes + 1)));
    case 'lognormal': {
      const { minBytes, maxBytes } = boundsOf(s, floor);
      return clamp(Math.round(s.medianBytes * Math.exp(s.sigma * normalQuantile(p))), minBytes, maxBytes);
    }
    case 'weighted': {
      const total = cumulativeWeights[cumulativeWeights.length - 1]!;
      const target = p * total;
      for (let i = 0; i < cumulativeWeights.length; i++) {
        if (target < cumulativeWeights[i]!) return s.choices[i]!.bytes;
      }
      return s.choices[s.choices.length - 1]!.bytes;
    }
  }
}

function cumulativeWeightsOf(s: SizeSpec): number[] {
  if (s.type !== 'weighted') return [];
  let sum = 0;
  return s.choices.map((c) => (sum += c.weight));
}

/** A shape's size distribution and smallest message; a json template without a pad has one size, its own. */
function sizingOf(shape: MessageShape): { size: SizeSpec; floorBytes: number } {
  if (shape.kind !== 'json') return { size: shape.size, floorBytes: payloadMinBytes(shape.kind) };
  const layout = layoutTemplate(shape.template, 'template', [])!;
  return { size: shape.size ?? { type: 'fixed', bytes: layout.minBytes }, floorBytes: layout.minBytes };
}

/**
 * A seeded random source of message sizes in bytes following the shape:
 * fixed; uniform over whole bytes in [minBytes, maxBytes]; lognormal with
 * the given median and sigma (of ln size), rounded and clamped to
 * [minBytes ?? kind minimum, maxBytes ?? MAX_PAYLOAD_BYTES] (clamping puts
 * the clipped mass on the bounds rather than resampling, so the cost per draw
 * is fixed); weighted picks `bytes` with probability weight / Σweights.
 * Deterministic for a seed. For setup and tests: the hot path uses
 * `prebuildTemplates` instead.
 *
 * @param seed any integer (default 1)
 * @throws RangeError if the shape is invalid (see `validateShape`)
 */
export function createSizeSampler(shape: MessageShape, seed = 1): () => number {
  assertValid(shape, 'createSizeSampler');
  const { size, floorBytes } = sizingOf(shape);
  const random = mulberry32(seed);
  const cumulative = cumulativeWeightsOf(size);
  // Inverse-CDF sampling; p = (u + 2^-33) keeps p strictly inside (0, 1).
  return () => sizeAtProbability(size, floorBytes, random() + 2 ** -33, cumulative);
}

/** Default number of slots in a template pool (see `prebuildTemplates`). */
export const DEFAULT_TEMPLATE_SLOTS = 256;

/** A pool of pre-built payload templates the sender cycles through. */
export interface TemplatePool {
  readonly kind: MessageShape['kind'];
  /**
   * Slot i's template; slots of equal size share one Buffer. Use slot
   * `n % templates.length` for the n-th message. Templates are shared: copy
   * one into a frame (or patch a private copy), never patch it while another
   * send may still hold it.
   */
  readonly templates: readonly Buffer[];
  /** Slot i's size in bytes (= templates[i].length). */
  readonly sizesBytes: readonly number[];
  /** Number of distinct sizes, i.e. of distinct Buffers. */
  readonly distinctSizes: number;
  /** Memory held by the distinct templates, in bytes: Σ of distinct sizes. */
  readonly totalBytes: number;
}

/**
 * Pre-builds the payload templates for a shape so that the hot path picks a
 * template instead of allocating: `slots` sizes are taken at the shape's
 * quantiles (i + 0.5) / slots, i = 0..slots-1 (stratified, so even a small
 * pool matches the distribution's percentiles and weights closely, unlike
 * `slots` random draws), then shuffled with the seed so consecutive messages
 * do not grow monotonically. One template is built per distinct size.
 *
 * Memory: `totalBytes` ≤ min(slots, distinct sizes) × largest size; a
 * fixed shape holds one template whatever `slots` is. Sizes repeat with
 * period `slots`, which a server cannot exploit (it sees bytes, not sizes).
 *
 * @param slots pool length, integer ≥ 1 (default `DEFAULT_TEMPLATE_SLOTS`)
 * @param seed shuffle seed (default 1)
 * @param codec the shape's codec when the caller already has one (default `codecFor(shape)`)
 * @throws RangeError on an invalid shape or slot count
 */
export function prebuildTemplates(
  shape: MessageShape, slots = DEFAULT_TEMPLATE_SLOTS, seed = 1, codec?: PayloadCodec,
): TemplatePool {
  assertValid(shape, 'prebuildTemplates');
  const builder = codec ?? codecFor(shape);
  if (!Number.isInteger(slots) || slots < 1) {
    throw new RangeError(`prebuildTemplates: slots must be an integer ≥ 1, got ${slots}`);
  }
  const { size: spec, floorBytes } = sizingOf(shape);
  const cumulative = cumulativeWeightsOf(spec);
  const sizes: number[] = [];
  for (let i = 0; i < slots; i++) sizes.push(sizeAtProbability(spec, floorBytes, (i + 0.5) / slots, cumulative));
  const random = mulberry32(seed);
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = sizes[i]!;
    sizes[i] = sizes[j]!;
    sizes[j] = t;
  }
  const bySize = new Map<number, Buffer>();
  let totalBytes = 0;
  const templates = sizes.map((size) => {
    let t = bySize.get(size);
    if (!t) {
      t = builder.build(size);
      bySize.set(size, t);
      totalBytes += size;
    }
    return t;
  });
  return { kind: shape.kind, templates, sizesBytes: sizes, distinctSizes: bySize.size, totalBytes };
}
