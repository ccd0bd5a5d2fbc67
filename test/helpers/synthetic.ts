// Synthetic BASE / HEAD results for comparison tests: one closed-loop echo
// case (and optionally more) per runtime, each metric drawn per repetition
// from a seeded distribution around a chosen median, so that planted changes
// and A/A noise are exact and reproducible.

import type { CellMetrics, CellResult, RunResult } from '../../schema/result.js';
import { summarizeCells } from '../../core/summarize.js';
import { mulberry32, type Rng } from '../../stats/index.js';
import { cell, latencySummary, warning } from './cells.js';
import { loadFixture } from './make-fixture.js';

/** The medians every synthetic cell is drawn around. */
export const BASE_FIGURES = {
  msgsPerSec: 100_000,
  latencyP50Us: 200,
  latencyP99Us: 1_000,
  latencyP999Us: 2_000,
  serverCpuUsPerMsg: 10,
  rssPeakBytes: 50_000_000,
  bytesPerConnection: 40_000,
} as const;

export type Figures = { -readonly [K in keyof typeof BASE_FIGURES]: number };

/** Standard normal deviate (Box–Muller). */
export function gaussian(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export interface SyntheticOptions {
  label?: string;
  runtimes?: string[];
  cases?: string[];
  repeat?: number;
  seed?: number;
  /** Relative noise (σ as a fraction, e.g. 0.02) of every figure per repetition. Default 0.02. */
  noise?: number;
  /** Multipliers of the base figures, per runtime (e.g. { bun: { msgsPerSec: 0.9 } } for a 10% loss). */
  factors?: Record<string, Partial<Figures>>;
  /** Exact values per runtime and metric, one per repetition (no noise), overriding the drawn ones. */
  exact?: Record<string, Partial<Record<keyof Figures, number[]>>>;
  /** Cells (case/runtime/repetition ids) that were load-generator-bound. */
  loadgenBound?: string[];
  revision?: string;
}

function cellMetrics(f: Figures, lowerBound: boolean): Partial<CellMetrics> {
  return {
    msgsPerSec: f.msgsPerSec,
    sentMsgsPerSec: f.msgsPerSec,
    throughputIsLowerBound: lowerBound,
    latencyUs: latencySummary({ p50Us: f.latencyP50Us, p99Us: f.latencyP99Us, p999Us: f.latencyP999Us, maxUs: f.latencyP999Us * 2 }),
    serverCpuUsPerMsg: f.serverCpuUsPerMsg,
    rssPeakBytes: f.rssPeakBytes,
    // Not drawn (a new draw would move every later seeded value): 90% of the peak, so it varies like it.
    rssEndBytes: f.rssPeakBytes * 0.9,
    bytesPerConnection: f.bytesPerConnection,
    // A bound repetition: the generator's CPU was the limit (every latency and the throughput are the client's).
    ...(lowerBound ? { loadgen: { workers: [], saturation: { saturated: true, reasons: [{ kind: 'cpu' as const, cpus: '1', workers: [0], pct: 99 }] } } } : {}),
  };
}

/** A completed RunResult with the fixture's environment and settings trimmed to these runtimes and cases. */
export function syntheticResult(o: SyntheticOptions = {}): RunResult {
  const runtimes = o.runtimes ?? ['bun', 'node-ws'];
  const cases = o.cases ?? ['echo'];
  const repeat = o.repeat ?? 10;
  const rng = mulberry32(o.seed ?? 1);
  const noise = o.noise ?? 0.02;
  const cells: CellResult[] = [];
  for (let rep = 1; rep <= repeat; rep++) {
    for (const c of cases) {
      for (const rt of runtimes) {
        const f = {} as Figures;
        for (const k of Object.keys(BASE_FIGURES) as (keyof Figures)[]) {
          const exact = o.exact?.[rt]?.[k];
          f[k] = exact ? exact[rep - 1]! : BASE_FIGURES[k] * (o.factors?.[rt]?.[k] ?? 1) * (1 + noise * gaussian(rng));
        }
        const id = `${c}/${rt}/${rep}`;
        const bound = o.loadgenBound?.includes(id) ?? false;
        const x = cell({ case: c, runtime: rt, repetition: rep, metrics: cellMetrics(f, bound), ...(bound ? { warnings: [warning('loadgen-bound')] } : {}) });
        cells.push({ ...x, order: cells.length });
      }
    }
  }
  const fixture = loadFixture();
  // A case named `x@N/s` is an open loop at N msg/s, as `bench run` names it; any other a closed loop.
  const scenarios = [...new Map(cases.map((name) => [name.split('@')[0]!, name])).entries()].map(([scenario, name]) => ({
    name: scenario,
    route: '/echo',
    connections: 32,
    warmupSec: 1,
    durationSec: 3,
    load: /@\d+\/s$/.test(name) ? { model: 'open', ratesPerSec: [Number(/@(\d+)\/s$/.exec(name)![1])], arrivals: 'constant' } : { model: 'closed', depth: 16 },
    message: { kind: 'binary', size: { type: 'fixed', bytes: 128 } },
  }));
  return {
    ...fixture,
    label: o.label ?? 'synthetic',
    tool: { ...fixture.tool, gitRevision: o.revision ?? fixture.tool.gitRevision },
    status: 'completed',
    settings: { ...fixture.settings, runtimes, scenarios, repeat, referenceRuntime: runtimes[0]! },
    parity: { manifests: Object.fromEntries(runtimes.filter((r) => fixture.parity.manifests[r]).map((r) => [r, fixture.parity.manifests[r]!])), differences: [] },
    cells,
    summary: summarizeCells(cells, runtimes[0]!),
  };
}
