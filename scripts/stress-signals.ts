// Signals at random moments, checked from outside (a stress script, not a test: it takes minutes and is
// meant for a quiet machine). It runs `bench run` N times and, at a seeded random moment of each, sends it
// a seeded random signal among SIGINT, SIGTERM, SIGHUP and SIGKILL, then checks:
//   - the exit: 128 + the signal's number (130, 143, 129), or killed for SIGKILL;
//   - the time from the signal to bench's exit (the promise is 2 s for SIGINT, SIGTERM and SIGHUP);
//   - that no process of the run is left: every descendant ever seen while it ran (servers, the simulated
//     upstream, load-generator workers, the watchdog), found by walking /proc's parent links every 50 ms,
//     each identified by pid and start time so a reused pid is not mistaken for it;
//   - that no socket those processes listened on is still listening;
//   - that result.json is valid JSON with status "interrupted" ("running" or "interrupted" after SIGKILL,
//     which no process can answer; "completed" when the run ended before the signal).
// It prints one row per run and a summary line, and exits 1 when any run was not clean.
//
//   node dist/scripts/stress-signals.js [--runs 20] [--seed 1] [--signals SIGINT,SIGTERM,SIGHUP,SIGKILL]
//        [--min-delay-ms 1000] [--max-delay-ms 6000] [--to pid|group] [--keep]
//        [-- <bench run arguments>]   (default: --runtime node-ws bun --scenario echo --repeat 2 --duration 1 --warmup 0.2)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { projectRoot } from '../core/paths.js';
import { mulberry32 } from '../stats/random.js';

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as const;
type Sig = keyof typeof SIGNALS;
/** bench's promise for a signal it can handle: written its report and gone within this. */
const EXIT_PROMISE_MS = 2000;
/** How long the processes of a run may take to go after bench exited (the watchdog's grace after SIGKILL is 1 s). */
const CLEANUP_WAIT_MS = 5000;
const POLL_MS = 50;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    signals: { type: 'string', default: 'SIGINT,SIGTERM,SIGHUP,SIGKILL' },
    'min-delay-ms': { type: 'string', default: '1000' },
    'max-delay-ms': { type: 'string', default: '6000' },
    to: { type: 'string', default: 'pid' },
    keep: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const signals = values.signals!.split(',').map((s) => s.trim()) as Sig[];
for (const s of signals) if (!(s in SIGNALS)) throw new Error(`--signals: unknown signal ${s} (one of ${Object.keys(SIGNALS).join(', ')})`);
const minDelay = Number(values['min-delay-ms']);
const maxDelay = Number(values['max-delay-ms']);
const benchArgs = positionals.length > 0 ? positionals : ['--runtime', 'node-ws', 'bun', '--scenario', 'echo', '--repeat', '2', '--duration', '1', '--warmup', '0.2'];
const rng = mulberry32(Number(values.seed));
const root = mkdtempSync(path.join(os.tmpdir(), 'bench-stress-signals-'));

/** A process as /proc shows it: its parent and its start time (clock ticks since boot), which tell a reused pid apart. */
function procTable(): Map<number, { ppid: number; start: string; cmd: string }> {
  const out = new Map<number, { ppid: number; start: string; cmd: string }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue; // a zombie is gone: only its exit status is left
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      } catch {
        // gone meanwhile
      }
      out.set(Number(d), { ppid: Number(rest[1]), start: rest[19]!, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Ports in LISTEN state and the socket inode of each (/proc/net/tcp and tcp6). */
function listeningPorts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A') continue;
      out.set(cols[9]!, parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return out;
}

function socketInodes(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.push(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone meanwhile
  }
  return out;
}

interface Seen {
  pid: number;
  start: string;
  cmd: string;
}

/** Every process descending from `root` now, added to `seen` (keyed by pid and start time). */
function collect(rootPid: number, seen: Map<string, Seen>, ports: Set<number>): void {
  const table = procTable();
  const children = new Map<number, number[]>();
  for (const [pid, p] of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
  const listening = listeningPorts();
  const stack = [...(children.get(rootPid) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const p = table.get(pid)!;
    seen.set(`${pid}:${p.start}`, { pid, start: p.start, cmd: p.cmd });
    for (const inode of socketInodes(pid)) {
      const port = listening.get(inode);
      if (port !== undefined) ports.add(port);
    }
    stack.push(...(children.get(pid) ?? []));
  }
}

function stillThere(seen: Map<string, Seen>): Seen[] {
  const table = procTable();
  return [...seen.values()].filter((s) => table.get(s.pid)?.start === s.start);
}

interface Outcome {
  run: number;
  signal: Sig;
  atMs: number;
  /** The run ended before the signal was due: nothing to check but its result. */
  finishedFirst: boolean;
  exit: string;
  exitOk: boolean;
  signalToExitMs: number | null;
  cleanupMs: number | null;
  /** Processes of the run seen while it ran (servers, workers, the watchdog…), and the ports they listened on. */
  seen: number;
  ports: number;
  left: Seen[];
  listening: number[];
  status: string;
  statusOk: boolean;
  clean: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function once(i: number): Promise<Outcome> {
  const signal = signals[Math.floor(rng() * signals.length)]!;
  const atMs = Math.round(minDelay + rng() * (maxDelay - minDelay));
  const out = path.join(root, `run-${i}`);
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist/cli/main.js'), 'run', ...benchArgs, '--out', out], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: values.to === 'group',
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => void (stderr = (stderr + b.toString()).slice(-4000)));
  const pid = child.pid!;
  let exitedAt = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, sig) => {
      exitedAt = performance.now();
      resolve({ code, signal: sig });
    }),
  );
  const seen = new Map<string, Seen>();
  const ports = new Set<number>();
  let running = true;
  const poller = (async () => {
    while (running) {
      collect(pid, seen, ports);
      await sleep(POLL_MS);
    }
  })();
  let finishedFirst = (await Promise.race([exited.then(() => 'exited' as const), sleep(atMs).then(() => 'due' as const)])) === 'exited';
  // The last look before the signal: after SIGKILL the parent links are gone.
  collect(pid, seen, ports);
  const sentAt = performance.now();
  if (!finishedFirst) {
    try {
      process.kill(values.to === 'group' ? -pid : pid, signal);
    } catch {
      finishedFirst = true;
    }
  }
  const how = await exited;
  running = false;
  await poller;
  // Everything the run started must go, SIGKILL included (the watchdog stops the groups bench registered).
  let left = stillThere(seen);
  const cleanupStart = performance.now();
  while (left.length > 0 && performance.now() - cleanupStart < CLEANUP_WAIT_MS) {
    await sleep(POLL_MS);
    left = stillThere(seen);
  }
  const cleanupMs = left.length === 0 ? Math.max(0, performance.now() - exitedAt) : null;
  const listeningNow = new Set(listeningPorts().values());
  const listening = [...ports].filter((p) => listeningNow.has(p));

  let status = 'no result';
  if (existsSync(out)) {
    for (const d of readdirSync(out)) {
      const f = path.join(out, d, 'result.json');
      if (!existsSync(f)) continue;
      try {
        status = String((JSON.parse(readFileSync(f, 'utf8')) as { status?: unknown }).status);
      } catch (e) {
        status = `invalid JSON (${(e as Error).message.slice(0, 40)})`;
      }
    }
  }
  const expectedExit = finishedFirst ? null : signal === 'SIGKILL' ? 'SIGKILL' : String(128 + SIGNALS[signal]);
  const exit = how.signal ?? String(how.code);
  const exitOk = finishedFirst ? how.code === 0 || how.code === 3 : exit === expectedExit;
  const statusOk = finishedFirst
    ? status === 'completed' || status === 'failed'
    : signal === 'SIGKILL'
      ? status === 'running' || status === 'interrupted' || status === 'no result'
      : // No result at all: the signal came before the run had begun (while bench probed the runtimes).
        status === 'interrupted' || status === 'no result';
  const outcome: Outcome = {
    run: i + 1,
    signal,
    atMs,
    finishedFirst,
    exit,
    exitOk,
    signalToExitMs: finishedFirst ? null : exitedAt - sentAt,
    cleanupMs,
    seen: seen.size,
    ports: ports.size,
    left,
    listening,
    status,
    statusOk,
    clean: exitOk && left.length === 0 && listening.length === 0 && statusOk,
  };
  if (!outcome.clean && stderr) process.stderr.write(`run ${i + 1} stderr (tail):\n${stderr.slice(-1500)}\n`);
  return outcome;
}

const outcomes: Outcome[] = [];
process.stderr.write(`stress-signals: ${runs} runs of bench run ${benchArgs.join(' ')}; signals ${signals.join(', ')} at ${minDelay}–${maxDelay} ms (seed ${values.seed}); results under ${root}\n`);
for (let i = 0; i < runs; i++) {
  const o = await once(i);
  outcomes.push(o);
  process.stderr.write(
    `  ${o.run}/${runs} ${o.signal} at ${o.atMs} ms: exit ${o.exit}${o.signalToExitMs !== null ? ` after ${(o.signalToExitMs / 1000).toFixed(2)} s` : ' (finished first)'}, ${o.left.length} left, ${o.listening.length} listening, result ${o.status}${o.clean ? '' : '  NOT CLEAN'}\n`,
  );
}

const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
const table = new Table({
  head: ['#', 'signal', 'at', 'exit', 'signal→exit', 'processes (ports) seen', 'all gone after', 'left', 'listening', 'result', 'clean'],
  colAligns: ['right', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  style: { head: [], border: [], compact: true },
});
for (const o of outcomes) {
  table.push([
    o.run,
    o.signal,
    `${o.atMs} ms`,
    `${o.exit}${o.exitOk ? '' : ' ✗'}`,
    o.finishedFirst ? 'finished first' : secs(o.signalToExitMs),
    `${o.seen} (${o.ports})`,
    secs(o.cleanupMs),
    o.left.length === 0 ? '0' : o.left.map((l) => `${l.pid} ${l.cmd.slice(0, 40)}`).join('\n'),
    o.listening.length === 0 ? '0' : o.listening.join(', '),
    `${o.status}${o.statusOk ? '' : ' ✗'}`,
    o.clean ? 'yes' : 'NO',
  ]);
}
process.stdout.write(`${table.toString()}\n`);

const clean = outcomes.filter((o) => o.clean).length;
const handled = outcomes.filter((o) => !o.finishedFirst && o.signal !== 'SIGKILL' && o.signalToExitMs !== null);
const inTime = handled.filter((o) => o.signalToExitMs! <= EXIT_PROMISE_MS).length;
const maxExit = Math.max(0, ...handled.map((o) => o.signalToExitMs!));
const killed = outcomes.filter((o) => !o.finishedFirst && o.signal === 'SIGKILL');
const maxCleanup = Math.max(0, ...killed.map((o) => o.cleanupMs ?? Infinity));
const first = outcomes.filter((o) => o.finishedFirst).length;
process.stdout.write(
  `${clean}/${outcomes.length} clean, exit within ${EXIT_PROMISE_MS / 1000} s in ${inTime}/${handled.length} (SIGINT, SIGTERM, SIGHUP), max ${(maxExit / 1000).toFixed(2)} s` +
    `${killed.length > 0 ? `; after SIGKILL all gone within ${Number.isFinite(maxCleanup) ? (maxCleanup / 1000).toFixed(2) : '∞'} s in ${killed.length} run${killed.length === 1 ? '' : 's'}` : ''}` +
    `${first > 0 ? `; ${first} finished before their signal` : ''}\n`,
);
if (!values.keep) rmSync(root, { recursive: true, force: true });
process.exit(clean === outcomes.length && inTime === handled.length ? 0 : 1);
