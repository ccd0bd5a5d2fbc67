/**
 * The simulated upstream: its latency sampler and config as pure functions
 * (table-driven, seeded), and the real process started with startUpstream
 * (ready line, one timing-tolerant latency check, reply format, stats,
 * shutdown).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { liveUpstreams, startUpstream, stopAllServers, type UpstreamHandle } from '../../core/launcher.js';
import { BenchError } from '../../base/errors.js';
import { upstreamScript } from '../../core/paths.js';
import { isAlive, threadAffinities } from '../../core/procfs.js';
import {
  OPTIONS,
  UPSTREAM_DEFAULTS,
  parseUpstreamArgs,
  resolveUpstreamConfig,
  upstreamArgs,
  upstreamHelp,
  type UpstreamStats,
} from '../../upstream/config.js';
import { DIGEST_START, audioBase64, controlEventOf, digestMessage, formatDelta, formatDone } from '../../upstream/events.js';
import { mulberry32 } from '../../stats/random.js';
import {
  DEFAULT_LATENCY,
  MAX_LATENCY_MS,
  checkLatency,
  formatLatency,
  latencySampler,
  parseLatency,
  scheduledDelayMs,
  sessionSeed,
  type LatencySpec,
} from '../../upstream/latency.js';
import { httpGet } from '../servers/clients.js';

const TEST = { timeout: 20_000 };

function draws(spec: LatencySpec, count: number, seed = 1, session = 's'): number[] {
  const next = latencySampler(spec, mulberry32(sessionSeed(seed, session)));
  return Array.from({ length: count }, next);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('latency sampler', () => {
  it('draws the fixed value every time', () => {
    assert.deepEqual(new Set(draws({ kind: 'fixed', ms: 300 }, 50)), new Set([300]));
  });

  it('keeps 200 uniform 200–800 ms draws in range with a mean near 500 ms', () => {
    const xs = draws(DEFAULT_LATENCY, 200);
    assert.ok(xs.every((x) => x >= 200 && x < 800), 'a draw outside 200–800');
    // σ of the mean of 200 uniform draws over 600 ms is 600/√12/√200 ≈ 12 ms; ±40 ms is over 3σ.
    assert.ok(Math.abs(mean(xs) - 500) < 40, `mean ${mean(xs)}`);
    // Spread over the whole range, not stuck in a corner.
    assert.ok(Math.min(...xs) < 230 && Math.max(...xs) > 770, `range ${Math.min(...xs)}–${Math.max(...xs)}`);
  });

  it('gives log-normal draws the configured median and σ of ln', () => {
    const xs = draws({ kind: 'lognormal', medianMs: 400, sigma: 0.5 }, 2000);
    assert.ok(xs.every((x) => x > 0));
    assert.ok(Math.abs(median(xs) / 400 - 1) < 0.08, `median ${median(xs)}`);
    const logs = xs.map(Math.log);
    const sd = Math.sqrt(mean(logs.map((l) => (l - mean(logs)) ** 2)));
    assert.ok(Math.abs(sd - 0.5) < 0.05, `σ of ln ${sd}`);
  });

  it('repeats a sequence for the same seed and session, and differs across sessions and seeds', () => {
    assert.deepEqual(draws(DEFAULT_LATENCY, 20, 7, 'a'), draws(DEFAULT_LATENCY, 20, 7, 'a'));
    assert.notDeepEqual(draws(DEFAULT_LATENCY, 20, 7, 'a'), draws(DEFAULT_LATENCY, 20, 7, 'b'));
    assert.notDeepEqual(draws(DEFAULT_LATENCY, 20, 7, 'a'), draws(DEFAULT_LATENCY, 20, 8, 'a'));
  });

  it('mulberry32 stays in [0, 1)', () => {
    const random = mulberry32(0);
    for (let i = 0; i < 10_000; i++) {
      const u = random();
      assert.ok(u >= 0 && u < 1);
    }
  });

  it('schedules whole milliseconds, capped at the maximum', () => {
    assert.deepEqual([0.4, 0.5, 212.49, 799.9, MAX_LATENCY_MS + 5].map(scheduledDelayMs), [0, 1, 212, 800, MAX_LATENCY_MS]);
  });
});

describe('latency spec', () => {
  const valid: [string, LatencySpec][] = [
    ['fixed:300', { kind: 'fixed', ms: 300 }],
    ['uniform:200:800', { kind: 'uniform', minMs: 200, maxMs: 800 }],
    ['uniform:5:5', { kind: 'uniform', minMs: 5, maxMs: 5 }],
    ['lognormal:400:0.5', { kind: 'lognormal', medianMs: 400, sigma: 0.5 }],
  ];
  for (const [text, spec] of valid) {
    it(`parses ${text} and formats it back`, () => {
      assert.deepEqual(parseLatency(text), spec);
      assert.equal(formatLatency(spec), text);
      assert.equal(checkLatency(spec), undefined);
    });
  }

  const invalid: [string, RegExp][] = [
    ['', /expected fixed:MS/],
    ['normal:1:2', /expected fixed:MS/],
    ['fixed', /expected fixed:MS/],
    ['fixed:-1', /non-negative numbers/],
    ['uniform:800:200', /maxMs must be at least minMs/],
    ['uniform:0:70000', /maxMs must be at most 60000/],
    ['lognormal:0:1', /medianMs must be above 0/],
    ['lognormal:400:4', /sigma must be at most 3/],
  ];
  for (const [text, problem] of invalid) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const parsed = parseLatency(text);
      assert.equal(typeof parsed, 'string');
      assert.match(parsed as string, problem);
    });
  }

  it('refuses objects with unknown keys or a wrong kind', () => {
    assert.match(checkLatency({ kind: 'fixed', ms: 1, extra: 2 })!, /unknown key\(s\) extra/);
    assert.match(checkLatency({ kind: 'gamma' })!, /kind must be/);
    assert.match(checkLatency('fixed:1')!, /must be an object/);
  });
});

describe('upstream config', () => {
  it('takes flags over environment over defaults', () => {
    const { config, problems } = parseUpstreamArgs(['--chunks', '3', '--latency=fixed:10'], {
      UPSTREAM_CHUNKS: '7',
      UPSTREAM_SEED: '42',
      UPSTREAM_VERIFY: 'true',
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(config, { ...UPSTREAM_DEFAULTS, chunks: 3, latency: { kind: 'fixed', ms: 10 }, seed: 42, verify: true });
  });

  it('collects every problem, each named by its flag or variable', () => {
    const { problems } = parseUpstreamArgs(['--chunks', '0', '--nope', '--seed'], { UPSTREAM_LATENCY: 'x', PORT: '70000' });
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['PORT', 'UPSTREAM_LATENCY', '--chunks', '--nope', '--seed'],
    );
  });

  it('checks an object config, rejecting unknown keys with field paths', () => {
    const { problems } = resolveUpstreamConfig({ chunks: 2.5, latency: { kind: 'fixed' }, colour: 'red' });
    assert.deepEqual(problems, [
      'upstream.chunks: must be an integer from 1 to 10000, got 2.5',
      'upstream.latency: ms must be a non-negative number',
      'upstream.colour: unknown key (valid: host, port, latency, seed, chunks, chunkIntervalMs, chunkAudioBytes, turnEveryEvents, verify)',
    ]);
  });

  it('turns a config into flags that parse back to it', () => {
    const config = { ...UPSTREAM_DEFAULTS, latency: { kind: 'lognormal', medianMs: 300, sigma: 0.25 } as LatencySpec, verify: true, port: 1234 };
    assert.deepEqual(parseUpstreamArgs(upstreamArgs(config), {}), { config, problems: [], help: false });
  });

  it('lists every option in --help, with its variable and default', () => {
    const help = upstreamHelp();
    for (const o of OPTIONS) assert.ok(help.includes(o.flag) && help.includes(`env ${o.env}`), o.flag);
    assert.ok(help.includes('default uniform:200:800'));
  });
});

describe('upstream events', () => {
  it('recognises control events and leaves audio unparsed', () => {
    assert.deepEqual(controlEventOf(Buffer.from('{"type":"response.create"}')), { type: 'response.create', turnId: undefined });
    assert.deepEqual(controlEventOf(Buffer.from('{"type": "response.create", "turn_id": "t9"}')), { type: 'response.create', turnId: 't9' });
    assert.deepEqual(controlEventOf(Buffer.from('{"type":"upstream.close","code":4001}')), { type: 'upstream.close', code: 4001 });
    assert.deepEqual(controlEventOf(Buffer.from('{"type":"upstream.close","code":1006}')), { type: 'upstream.close', code: 1000 });
    assert.equal(controlEventOf(Buffer.from(`{"type":"input_audio_buffer.append","audio":"${audioBase64(960, 3)}"}`)), undefined);
    assert.equal(controlEventOf(Buffer.from('{"note":"response.create"}')), undefined);
    assert.equal(controlEventOf(Buffer.from('"response.create" but not JSON')), undefined);
  });

  it('formats replies as JSON carrying their fields', () => {
    const fields = { session: 'a"b', turn: 't1', seq: 2, latencyMs: 250, requestedAtUs: 1, sentAtUs: 2 };
    assert.deepEqual(JSON.parse(formatDelta(fields, 'QUJD')), { type: 'response.audio.delta', ...fields, delta: 'QUJD' });
    const done = { session: 's', turn: 't', chunks: 3, latencyMs: 1, requestedAtUs: 1, sentAtUs: 2, eventsReceived: 4, bytesReceived: 5, digest: null };
    assert.deepEqual(JSON.parse(formatDone(done)), { type: 'response.done', ...done });
    assert.equal(Buffer.from(audioBase64(960, 1), 'base64').length, 960);
  });

  it('digests opcodes and message boundaries, not only bytes', () => {
    const ab = digestMessage(DIGEST_START, Buffer.from('ab'), false);
    assert.notEqual(ab, digestMessage(DIGEST_START, Buffer.from('ab'), true));
    assert.notEqual(ab, digestMessage(digestMessage(DIGEST_START, Buffer.from('a'), false), Buffer.from('b'), false));
  });
});

/** A direct client of the upstream (no relay), collecting parsed replies. */
async function session(upstream: UpstreamHandle, id: string): Promise<{ ws: WebSocket; replies: Record<string, unknown>[]; arrivalsMs: number[] }> {
  const ws = new WebSocket(`${upstream.url}?session=${id}`, { perMessageDeflate: false });
  const replies: Record<string, unknown>[] = [];
  const arrivalsMs: number[] = [];
  ws.on('message', (data: Buffer) => {
    arrivalsMs.push(performance.now());
    replies.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  });
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, replies, arrivalsMs };
}

async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !done(); ) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function stats(upstream: UpstreamHandle): Promise<UpstreamStats> {
  return JSON.parse((await httpGet(`http://${upstream.host}:${upstream.port}/stats`)).body) as UpstreamStats;
}

describe('upstream process', () => {
  after(() => stopAllServers());

  it('reports its pid, port and effective config in its ready line', TEST, async () => {
    const upstream = await startUpstream({ config: { latency: { kind: 'fixed', ms: 5 }, chunks: 2 } });
    try {
      assert.equal(upstream.ready.pid, upstream.pid);
      assert.equal(upstream.ready.role, 'upstream');
      assert.deepEqual(upstream.ready.config, { ...UPSTREAM_DEFAULTS, latency: { kind: 'fixed', ms: 5 }, chunks: 2, port: upstream.port });
      assert.equal(upstream.url, `ws://127.0.0.1:${upstream.port}/`);
      assert.deepEqual(await httpGet(`http://127.0.0.1:${upstream.port}/health`), { status: 200, body: 'ok' });
    } finally {
      await upstream.stop();
    }
  });

  it('waits the fixed latency before the first chunk, then sends the burst and response.done', TEST, async () => {
    const latencyMs = 150;
    const upstream = await startUpstream({ config: { latency: { kind: 'fixed', ms: latencyMs }, chunks: 3, chunkIntervalMs: 5 } });
    try {
      const s = await session(upstream, 'timing');
      const sentAt = performance.now();
      s.ws.send(JSON.stringify({ type: 'response.create', turn_id: 'x' }));
      await until(() => s.replies.length === 4, 5000, 'four replies');
      const firstMs = s.arrivalsMs[0]! - sentAt;
      // Timers never fire early; the upper bound only has to survive a loaded machine.
      assert.ok(firstMs >= latencyMs - 1 && firstMs < latencyMs + 500, `first chunk after ${firstMs.toFixed(1)} ms`);
      assert.deepEqual(
        s.replies.map((r) => [r['type'], r['turn'], r['seq'] ?? r['chunks'], r['latencyMs']]),
        [
          ['response.audio.delta', 'x', 0, latencyMs],
          ['response.audio.delta', 'x', 1, latencyMs],
          ['response.audio.delta', 'x', 2, latencyMs],
          ['response.done', 'x', 3, latencyMs],
        ],
      );
      const first = s.replies[0]!;
      assert.ok((first['sentAtUs'] as number) - (first['requestedAtUs'] as number) >= latencyMs * 1000 - 1000);
      s.ws.close();
    } finally {
      await upstream.stop();
    }
  });

  it("draws each session's latencies from its own seeded sequence, as the sampler does", TEST, async () => {
    const latency: LatencySpec = { kind: 'uniform', minMs: 10, maxMs: 60 };
    const upstream = await startUpstream({ config: { latency, seed: 11, chunks: 1, chunkIntervalMs: 0, turnEveryEvents: 2 } });
    try {
      const s = await session(upstream, 'seq');
      // Turns every second message: 5 turns, each after the previous one is done.
      for (let turn = 1; turn <= 5; turn++) {
        s.ws.send('audio');
        s.ws.send(Buffer.from([1]));
        await until(() => s.replies.filter((r) => r['type'] === 'response.done').length === turn, 5000, `turn ${turn}`);
      }
      const scheduled = s.replies.filter((r) => r['type'] === 'response.done').map((r) => r['latencyMs']);
      assert.deepEqual(scheduled, draws(latency, 5, 11, 'seq').map(scheduledDelayMs));
      assert.deepEqual(
        s.replies.filter((r) => r['type'] === 'response.done').map((r) => r['turn']),
        ['t1', 't2', 't3', 't4', 't5'],
      );
      const counted = await stats(upstream);
      assert.equal(counted.sessionsOpen, 1);
      assert.equal(counted.eventsReceived, 10);
      assert.equal(counted.turns, 5);
      assert.equal(counted.chunksSent, 5);
      assert.ok(counted.cpuUserUs > 0 && counted.rssBytes > 0);
      s.ws.close();
    } finally {
      await upstream.stop();
    }
  });

  it('on SIGTERM closes its sessions with 1001 and exits 0 within 2 s', TEST, async () => {
    const upstream = await startUpstream({ cpus: '0' });
    const affinities = [...threadAffinities(upstream.pid).values()];
    assert.ok(affinities.length > 0 && affinities.every((cpus) => cpus === '0'), `affinities ${affinities.join(' ')}`);
    const s = await session(upstream, 'bye');
    const closed = new Promise<number>((resolve) => s.ws.once('close', resolve));
    const result = await upstream.stop();
    assert.deepEqual([result.code, result.signal, result.forced], [0, null, false]);
    assert.ok(result.durationMs < 2000, `took ${result.durationMs} ms`);
    assert.equal(await closed, 1001);
    assert.equal(isAlive(upstream.pid), false);
    assert.equal(liveUpstreams().length, 0);
  });

  it('refuses an invalid config with E_USAGE and field paths, before starting anything', TEST, async () => {
    await assert.rejects(
      startUpstream({ config: { chunks: 0, latency: { kind: 'uniform', minMs: 9, maxMs: 1 } } }),
      (e: unknown) =>
        e instanceof BenchError &&
        e.code === 'E_USAGE' &&
        e.details.join('\n') === 'upstream.chunks: must be an integer from 1 to 10000, got 0\nupstream.latency: maxMs must be at least minMs',
    );
    assert.equal(liveUpstreams().length, 0);
  });

  it('run by hand with bad flags, exits 2 with one line per problem', TEST, async () => {
    const child = spawn(process.execPath, [upstreamScript, '--chunks', 'many', '--latency', 'fixed:x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    assert.equal(code, 2);
    assert.deepEqual(stderr.trimEnd().split('\n').map((l) => l.split(':').slice(0, 2).join(':')), ['upstream: --chunks', 'upstream: --latency']);
  });
});
