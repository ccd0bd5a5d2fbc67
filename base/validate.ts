/**
 * Small helpers for strict validation of user data (scenario files, result
 * files): unknown keys are rejected, every problem is collected rather than the
 * first thrown, and each message starts with its field path.
 */

export type Problems = string[];

/** How much of a bad value a message quotes: enough to recognise it, never the whole of a huge one. */
export const QUOTE_MAX_CHARS = 80;

/**
 * A value as an error message quotes it: JSON, cut to its first `max` characters (with "…" and the full
 * length for a longer string), so that a 50 MB invalid field cannot turn into 50 MB of stderr. Never
 * throws: a value JSON cannot write (nested too deep, a cycle, a bigint) is named by its kind.
 */
export function quote(v: unknown, max = QUOTE_MAX_CHARS): string {
  if (typeof v === 'string') {
    if (v.length <= max) return JSON.stringify(v);
    return `${JSON.stringify(v.slice(0, max)).slice(0, -1)}…" (${v.length.toLocaleString('en-US')} characters)`;
  }
  // JSON would write NaN and Infinity (1e999 parses to it) as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  if (s === undefined) return Array.isArray(v) ? 'a list' : v === null ? 'null' : `a value of type ${typeof v}`;
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** Checks that `v` is an object with only `allowed` keys (and all `required` ones); returns it or undefined. */
export function checkObject(
  v: unknown,
  path: string,
  problems: Problems,
  allowed: readonly string[],
  required: readonly string[] = [],
): Record<string, unknown> | undefined {
  if (!isObject(v)) {
    problems.push(`${path || '(top level)'}: must be an object`);
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) problems.push(`${join(path, k.length > QUOTE_MAX_CHARS ? `${k.slice(0, QUOTE_MAX_CHARS)}…` : k)}: unknown key (allowed: ${allowed.join(', ')})`);
  }
  for (const k of required) {
    if (v[k] === undefined) problems.push(`${join(path, k)}: is required`);
  }
  return v;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A finite number within the rule, or undefined (with a problem) — undefined input is left to `required`. */
export function checkNumber(v: unknown, path: string, problems: Problems, rule: NumberRule = {}): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push(`${path}: must be a number, got ${quote(v)}`);
    return undefined;
  }
  if (rule.integer && !Number.isInteger(v)) problems.push(`${path}: must be a whole number, got ${v}`);
  else if (rule.min !== undefined && v < rule.min) problems.push(`${path}: must be at least ${rule.min}, got ${v}`);
  else if (rule.max !== undefined && v > rule.max) problems.push(`${path}: must be at most ${rule.max}, got ${v}`);
  else return v;
  return undefined;
}

export function checkString(v: unknown, path: string, problems: Problems, choices?: readonly string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) {
    problems.push(`${path}: must be a non-empty string, got ${quote(v)}`);
    return undefined;
  }
  if (choices && !choices.includes(v)) {
    problems.push(`${path}: must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${quote(v)}`);
    return undefined;
  }
  return v;
}
