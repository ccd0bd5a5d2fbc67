import { readFileSync } from 'node:fs';
import { BenchError } from '../base/errors.js';
import { isObject } from '../base/validate.js';
import type { ProcSample } from '../schema/result.js';
import type { ReadyLine } from '../servers/settings.js';
import { parseReadyLine } from './launcher.js';
import type { PhaseSamples } from './metrics.js';
import { startSampler } from './sampler.js';

/**
 * The server's side of a run whose load came from segments on other machines (issue 16; `bench sample`, the
 * k8s server pod's sampler sidecar): the server's process read from /proc as `bench run` reads it (core/sampler.ts),
 * every interval and exactly at the phase edges the segments agreed on (the start, the window's start and end),
 * then after the drain. `bench merge --server-sample` and `bench k8s collect` put it beside the merged load, so the
 * merged result has the server's CPU per message and memory like any other.
 */
export const SERVER_SAMPLE_VERSION = 1;
export const SERVER_SAMPLE_KIND = 'bench-server-sample';

export interface ServerSample {
  schemaVersion: typeof SERVER_SAMPLE_VERSION;
  kind: typeof SERVER_SAMPLE_KIND;
  /** The server's ready line, as it wrote it to the ready file. */
  ready: ReadyLine;
  /** The agreed start, epoch ms, and the window after it. */
  startAtMs: number;
  warmupMs: number;
  durationMs: number;
  /** baseline: when sampling began (before the segments connected); connected: at the start; the window's edges; end: after the drain. */
  phases: PhaseSamples;
}

export interface SampleServerOptions {
  /** Where the server's launcher writes its ready line (`bench serve --ready-file`). */
  readyFile: string;
  startAtMs: number;
  warmupMs: number;
  durationMs: number;
  intervalMs: number;
  /** After the window: time for the segments to drain before the last reading, ms (default 2000). */
  drainMs?: number;
  wallClockMs?: () => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Waits for the ready file (until the agreed start at the latest), then samples the server's process through the
 * run: every `intervalMs`, and exactly at the start, the window's start and end, and after the drain.
 * @throws BenchError E_SERVER_NOT_READY when no ready line is there by the start; E_SERVER_EXITED when the
 *   process is gone at a phase edge
 */
export async function sampleServer(o: SampleServerOptions): Promise<ServerSample> {
  const now = o.wallClockMs ?? (() => Date.now());
  let ready: ReadyLine | undefined;
  // Bounded: the ready file is read every 100 ms until the agreed start.
  while (ready === undefined) {
    try {
      ready = parseReadyLine(readFileSync(o.readyFile, 'utf8').split('\n')[0] ?? '');
    } catch (e) {
      if (e instanceof BenchError) throw e;
    }
    if (ready !== undefined) break;
    if (now() >= o.startAtMs) {
      throw new BenchError('E_SERVER_NOT_READY', `no server ready line in ${o.readyFile} by the agreed start ${new Date(o.startAtMs).toISOString()}`, {
        hint: 'the server writes it with `bench serve --ready-file`; does the server container run, and share the volume?',
      });
    }
    await sleep(100);
  }
  const pid = ready.pid;
  const sampler = startSampler(pid, o.intervalMs);
  const at = async (ms: number, what: string): Promise<ProcSample> => {
    await sleep(ms - now());
    const s = sampler.sampleNow();
    if (!s) {
      sampler.stop();
      throw new BenchError('E_SERVER_EXITED', `the server (pid ${pid}) was gone ${what}`, { hint: "its container's log says why" });
    }
    return s;
  };
  const baseline = sampler.samples[0];
  if (!baseline) throw new BenchError('E_SERVER_EXITED', `the server (pid ${pid}) cannot be read from /proc`, { hint: 'the sampler must see the server\'s processes: shareProcessNamespace in the pod, the same uid' });
  const windowAt = o.startAtMs + o.warmupMs;
  const connected = await at(o.startAtMs, 'at the start');
  const measureStart = await at(windowAt, "at the window's start");
  const measureEnd = await at(windowAt + o.durationMs, "at the window's end");
  const end = await at(windowAt + o.durationMs + (o.drainMs ?? 2000), 'after the drain');
  const all = sampler.stop();
  return {
    schemaVersion: SERVER_SAMPLE_VERSION,
    kind: SERVER_SAMPLE_KIND,
    ready,
    startAtMs: o.startAtMs,
    warmupMs: o.warmupMs,
    durationMs: o.durationMs,
    phases: { baseline, connected, measureStart, measureEnd, end, all },
  };
}

const SAMPLE_FIELDS = ['tMs', 'cpuUserUs', 'cpuSystemUs', 'rssBytes', 'peakRssBytes', 'threads', 'fds', 'kernelTcpMemBytes'] as const;

/**
 * Checks a parsed server sample (the readings the figures are computed from, and the ready line).
 * @throws BenchError E_INVALID_RESULT listing every problem with its field path
 */
export function parseServerSample(raw: unknown, name: string): ServerSample {
  const problems: string[] = [];
  if (!isObject(raw)) problems.push('(top level): must be an object');
  else {
    if (raw['kind'] !== SERVER_SAMPLE_KIND) problems.push(`kind: must be "${SERVER_SAMPLE_KIND}", got ${JSON.stringify(raw['kind'])}`);
    if (raw['schemaVersion'] !== SERVER_SAMPLE_VERSION) problems.push(`schemaVersion: must be ${SERVER_SAMPLE_VERSION}, got ${JSON.stringify(raw['schemaVersion'])}`);
    try {
      if (!parseReadyLine(JSON.stringify(raw['ready']))) problems.push('ready: must be a server ready line');
    } catch (e) {
      problems.push(`ready: ${(e as Error).message}`);
    }
    for (const k of ['startAtMs', 'warmupMs', 'durationMs']) if (typeof raw[k] !== 'number') problems.push(`${k}: must be a number`);
    const ph = raw['phases'];
    if (!isObject(ph)) problems.push('phases: must be an object');
    else {
      const sample = (v: unknown, at: string) => {
        if (!isObject(v)) return void problems.push(`${at}: must be a /proc sample`);
        for (const f of SAMPLE_FIELDS) if (typeof v[f] !== 'number') problems.push(`${at}.${f}: must be a number`);
      };
      for (const k of ['baseline', 'connected', 'measureStart', 'measureEnd', 'end']) sample(ph[k], `phases.${k}`);
      if (!Array.isArray(ph['all']) || ph['all'].length === 0) problems.push('phases.all: must be a non-empty list of samples');
      else ph['all'].forEach((s, i) => sample(s, `phases.all[${i}]`));
    }
  }
  if (problems.length > 0) {
    throw new BenchError('E_INVALID_RESULT', `${name} is not a bench server sample`, { details: problems, hint: 'server samples come from `bench sample` (the k8s server pod\'s sampler sidecar)' });
  }
  const checked: unknown = raw;
  return checked as ServerSample;
}
