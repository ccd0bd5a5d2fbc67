/** Ranges of global connection ids, shared by load segments (segment.ts) and the load models that split themselves. */

/** A range of global connection ids: [first, first + count). */
export interface IdRange {
  first: number;
  count: number;
}

/** The part of `a` inside `b` (count 0, first at the clamp, when they do not meet). */
export function intersect(a: IdRange, b: IdRange): IdRange {
  const first = Math.max(a.first, b.first);
  const end = Math.min(a.first + a.count, b.first + b.count);
  return { first: Math.min(first, Math.max(end, first)), count: Math.max(0, end - first) };
}
