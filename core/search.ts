// The one stepped search: raise a load dimension (connections, sessions, an
// offered rate) plateau by plateau, judge each plateau against an SLO, stop at
// the first that breaks it, and optionally bisect between the last good and
// the first bad plateau. The connection ceiling and the capacity search both
// run on it; what a plateau is (open connections and beat, or run a load at a
// level) and how it is judged are theirs. No I/O of its own: the plateau is
// injected, so the search is tested with plain functions.

/** What a plateau came to, as the search needs it. */
export interface PlateauOutcome {
  /** Met the SLO. */
  ok: boolean;
  /**
   * For a bad plateau: whether the load below it can be searched by bisection (latency, errors and CPU depend
   * on the load held now; memory a runtime kept does not come back, and a crashed server cannot be asked).
   */
  bisectable: boolean;
}

export interface SearchPlateau<P extends PlateauOutcome> {
  /** The level the plateau was run at (connections, sessions, msg/s). */
  target: number;
  /** True for a plateau of the bisection. */
  bisection: boolean;
  outcome: P;
}

export interface SearchOutcome<P extends PlateauOutcome> {
  /** Every plateau, in the order run. */
  plateaus: SearchPlateau<P>[];
  /** The last stepped plateau that met the SLO, and the first that did not. */
  lastGood: SearchPlateau<P> | undefined;
  firstBad: SearchPlateau<P> | undefined;
  /** The highest level the bisection found within the SLO, when it found one above `lastGood`. */
  refined: number | undefined;
  /** True when every target was run and met the SLO. */
  exhausted: boolean;
}

export interface SearchSpec<P extends PlateauOutcome> {
  /** The levels to step through, increasing. */
  targets: readonly number[];
  /** Bisection steps between the last good and the first bad plateau (0: none). */
  bisectSteps: number;
  /** Runs one plateau at `target`. */
  plateau(target: number, bisection: boolean): Promise<P>;
  /** False stops the search before its next plateau (the server is gone, the run was interrupted). */
  canContinue?(): boolean;
  /** Levels are whole numbers (connections, sessions): bisection stops when good and bad are adjacent. */
  integer?: boolean;
  /** Bisection stops when bad − good ≤ this (default 1 for integers, 0 otherwise). */
  resolution?: number;
}

/**
 * Steps through `targets` until a plateau breaks the SLO (or the targets end, or `canContinue` says stop),
 * then bisects `bisectSteps` times between the last good level and the first bad one when that plateau is
 * bisectable: each midpoint that holds moves the good bound up, each that fails moves the bad bound down.
 * Plateaus run one at a time, in order.
 */
export async function steppedSearch<P extends PlateauOutcome>(spec: SearchSpec<P>): Promise<SearchOutcome<P>> {
  const plateaus: SearchPlateau<P>[] = [];
  const go = spec.canContinue ?? (() => true);
  let lastGood: SearchPlateau<P> | undefined;
  let firstBad: SearchPlateau<P> | undefined;
  for (const target of spec.targets) {
    if (!go()) break;
    const p: SearchPlateau<P> = { target, bisection: false, outcome: await spec.plateau(target, false) };
    plateaus.push(p);
    if (!p.outcome.ok) {
      firstBad = p;
      break;
    }
    lastGood = p;
  }
  let refined: number | undefined;
  const integer = spec.integer ?? true;
  const resolution = spec.resolution ?? (integer ? 1 : 0);
  if (firstBad && lastGood && firstBad.outcome.bisectable && spec.bisectSteps > 0) {
    let lo = lastGood.target;
    let hi = firstBad.target;
    for (let i = 0; i < spec.bisectSteps && hi - lo > resolution && go(); i++) {
      const mid = integer ? Math.round((lo + hi) / 2) : (lo + hi) / 2;
      if (mid <= lo || mid >= hi) break;
      const p: SearchPlateau<P> = { target: mid, bisection: true, outcome: await spec.plateau(mid, true) };
      plateaus.push(p);
      if (p.outcome.ok) lo = mid;
      else hi = mid;
    }
    if (lo > lastGood.target) refined = lo;
  }
  const exhausted = firstBad === undefined && plateaus.filter((p) => !p.bisection).length === spec.targets.length;
  return { plateaus, lastGood, firstBad, refined, exhausted };
}
