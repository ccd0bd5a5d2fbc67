// How short can a cell be? (a benchmark, not a test: minutes, for a quiet machine). For each default workload
// (the quick presets of `bench run`), runs R fresh-process repetitions of one runtime at several warmup/window
// lengths, interleaved, and prints per workload and length the spread of the case's primary figure between
// repetitions (MAD / median, and the range), and the cell's overhead beyond warmup + window (launch, checks,
// connect, drain, stop). The shortest length whose spread stays within 1.5x the longest's (or within 2 points)
// is what a budgeted run can use: a 3-minute budget then buys more repetitions, which is what settles pairs.
//
//   node dist/scripts/window-study.js [--runtime node-ws] [--reps 4] [--lengths 0.25/0.5,0.5/1,1/2,1/3] [--seed 1]
//        [--scenario echo,echo-rate,...]   (lengths are warmup/window in seconds)
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { captureEnvironment } from '../core/environment.js';
import { currentHost } from '../core/host.js';
import { startServer, startUpstream, stopAllServers } from '../core/launcher.js';
import { primaryFigureOf } from '../core/decide.js';
import { runBenchmark, type RunPlan } from '../core/run.js';
import { parseRuntimeId } from '../core/runtimes.js';
import { applyQuick, builtinScenarios, expandCases, type ScenarioCase } from '../core/scenario.js';
import { summarizeCells } from '../core/summarize.js';
import { modelOf } from '../loadgen/models/index.js';
import { runLoad } from '../loadgen/run.js';
import { formatBytes, formatPct, sig3 } from '../report/units.js';
import type { CellResult } from '../schema/result.js';
import { madPct, median, seededShuffle } from '../stats/index.js';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'node-ws' },
    reps: { type: 'string', default: '4' },
    lengths: { type: 'string', default: '0.25/0.5,0.5/1,1/2,1/3' },
    scenario: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const runtime = parseRuntimeId(values.runtime!);
const reps = Number(values.reps);
const lengths = values.lengths!.split(',').map((l) => l.split('/').map(Number) as [number, number]);
const wanted = values.scenario?.split(',');
const seed = Number(values.seed);
const host = currentHost();
const environment = await captureEnvironment(host, 'window-study');

const scenarios = builtinScenarios()
  .filter((s) => (wanted ? wanted.includes(s.name) : s.default))
  .map(applyQuick);
const cases: ScenarioCase[] = scenarios.flatMap(expandCases).filter((c) => modelOf(c.model).primary !== 'none');

interface Sample {
  value: number;
  metric: string;
  overheadMs: number;
}
const samples = new Map<string, Sample[]>();
const key = (c: string, l: [number, number]) => `${c}\u0000${l.join('/')}`;

// Interleaved: every round runs every (case, length) once, in a seeded order, so drift favours no length.
for (let round = 1; round <= reps; round++) {
  const order = seededShuffle(
    cases.flatMap((c) => lengths.map((l) => [c, l] as const)),
    seed * 100 + round,
  );
  for (const [c, [warmupSec, durationSec]] of order) {
    const cs: ScenarioCase = { ...c, scenario: { ...c.scenario, warmupSec, durationSec } };
    const plan: RunPlan = {
      runtimes: [runtime],
      cases: [cs],
      repeat: 1,
      seed: seed + round,
      quick: true,
      serverCpus: '0',
      loadgenCpus: '1',
      ...(modelOf(c.model).upstream ? { upstreamCpus: '1' } : {}),
      referenceRuntime: runtime,
      client: 'raw',
      workers: 1,
      label: 'window-study',
      commandLine: ['window-study'],
    };
    const r = await runBenchmark(plan, { host, environment, toolVersion: 'window-study', startServer, startUpstream, runLoad });
    const cell = r.cells[0]!;
    if (cell.status !== 'completed') {
      process.stderr.write(`${cell.id} ${warmupSec}/${durationSec}: ${cell.status} ${cell.error?.message ?? ''}\n`);
      continue;
    }
    const primary = primaryFigureOf(modelOf(c.model).primary, [cell]);
    const row = summarizeCells([cell], runtime)[0];
    const agg = primary && row ? row[primary.metric] : undefined;
    if (!primary || !agg) continue;
    const list = samples.get(key(c.name, [warmupSec, durationSec])) ?? [];
    list.push({ value: agg.median, metric: primary.metric, overheadMs: (cell.durationMs ?? 0) - (warmupSec + durationSec) * 1000 });
    samples.set(key(c.name, [warmupSec, durationSec]), list);
    process.stderr.write(`round ${round}: ${c.name} ${warmupSec}/${durationSec} s: ${primary.metric} ${sig3(agg.median)} (cell ${((cell.durationMs ?? 0) / 1000).toFixed(1)} s)\n`);
  }
}
await stopAllServers();

const table = new Table({ head: ['workload', 'warmup/window', 'primary figure', 'median', 'spread (MAD)', 'range', 'cell overhead', 'verdict'], style: { head: [], border: [] } });
for (const c of cases) {
  const rows = lengths.map((l) => ({ l, s: samples.get(key(c.name, l)) ?? [] })).filter((x) => x.s.length >= 2);
  const spreadOf = (s: Sample[]) => madPct(s.map((x) => x.value) as [number, ...number[]]) ?? 0;
  const longest = rows[rows.length - 1];
  const ref = longest ? spreadOf(longest.s) : 0;
  for (const { l, s } of rows) {
    const v = s.map((x) => x.value) as [number, ...number[]];
    const spread = spreadOf(s);
    const ok = spread <= Math.max(1.5 * ref, ref + 2);
    const fmt = s[0]!.metric === 'bytesPerConnection' ? formatBytes : sig3;
    table.push([
      c.name,
      `${l[0]}/${l[1]} s`,
      s[0]!.metric,
      fmt(median(v)),
      formatPct(spread),
      `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}`,
      `${(median(s.map((x) => x.overheadMs) as [number, ...number[]]) / 1000).toFixed(2)} s`,
      ok ? 'holds' : 'spread grows',
    ]);
  }
}
process.stdout.write(`${runtime}, ${reps} repetitions per length, interleaved; ${environment.cpuModel}, ${environment.kernel}\n${table.toString()}\n`);
