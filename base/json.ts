/**
 * Reading JSON that a user wrote (scenario, thresholds, calibration and result files) so that no file,
 * however odd, reaches a stack trace: a leading byte order mark is accepted, nesting is bounded, and a
 * syntax error is quoted briefly.
 */

/**
 * How deep objects and lists may nest in a user's JSON file. The deepest real field is a message template
 * (a handful of levels); 64 leaves room for any honest template. V8's JSON.parse reads 200,000 levels, but
 * everything that walks the value afterwards (JSON.stringify, the template renderer, structuredClone to a
 * worker) recurses and dies with "Maximum call stack size exceeded", so the bound is checked right after parsing.
 */
export const MAX_JSON_DEPTH = 64;

/** A user's JSON file larger than this is refused before it is read (the largest real one is a few KiB). */
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;

/** U+FEFF, which some editors (Notepad, Excel's "UTF-8" export) write at the start of a UTF-8 file. */
const BOM = '\uFEFF';

export type JsonParse = { ok: true; value: unknown; hadBom: boolean } | { ok: false; problem: string };

/**
 * Where a value nests deeper than `max` levels (a scalar is depth 0, `[]` depth 1): the top-level key or
 * index under which it happens ("(top level)" for a list or object nested at the root itself), or undefined
 * when it stays within. Iterative (an explicit stack), so a 200,000-deep value cannot overflow the call stack.
 */
export function tooDeepAt(value: unknown, max = MAX_JSON_DEPTH): string | undefined {
  const stack: { v: unknown; depth: number; top: string }[] = [{ v: value, depth: 0, top: '(top level)' }];
  while (stack.length > 0) {
    const { v, depth, top } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return top;
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : Object.entries(v);
    for (const [k, x] of entries) stack.push({ v: x, depth: depth + 1, top: depth === 0 ? k : top });
  }
  return undefined;
}

/**
 * Parses a user's JSON text. A UTF-8 byte order mark at the start is accepted and dropped: RFC 8259 §8.1
 * lets a parser ignore it, and refusing it would refuse files that look right in every editor. A syntax
 * error is returned as one short line (V8's own message, cut to 200 characters); a value nested deeper
 * than `maxDepth` is refused with the top-level field under which it happens.
 */
export function parseJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonParse {
  const hadBom = text.startsWith(BOM);
  const body = hadBom ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, problem: `not valid JSON: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}` };
  }
  const deep = tooDeepAt(value, maxDepth);
  if (deep !== undefined) {
    return { ok: false, problem: `${deep}: nested more than ${maxDepth} levels deep (lists or objects inside each other); at most ${maxDepth} are read` };
  }
  return { ok: true, value, hadBom };
}
