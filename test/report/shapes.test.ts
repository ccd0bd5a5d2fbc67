import { textRows } from '../../report/units.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CellResult, RunResult, VoiceMetrics } from '../../schema/result.js';
import { summarizeCells } from '../../core/summarize.js';
import { createLatencyHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import { markdownFormat } from '../../report/markdown.js';
import { gapText, gapView, shapeViews } from '../../report/shapes.js';
import { tableFormat } from '../../report/table.js';
import { OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const VOICE_CASE = 'voice-agent';

function hist(us: number) {
  const h = createLatencyHistogram();
  for (let i = 0; i < 100; i++) recordUs(h, us);
  return summarizeHistogram(h);
}

/** The fixture's echo-rate cells plus one voice cell per runtime: first chunk `ttfcUs`, relay cost `cpuUs` per message. */
function withVoice(profile: Record<string, { ttfcUs: number; cpuUs: number }>): RunResult {
  const r = structuredClone(loadFixture());
  const template = r.cells.find((c) => c.case === OPEN_CASE && c.status === 'completed')!;
  for (const [runtime, p] of Object.entries(profile)) {
    const voice: VoiceMetrics = {
      firstChunkUs: hist(p.ttfcUs),
      relayOverheadUs: hist(p.ttfcUs - 500_000),
      jitterUs: hist(300),
      turnsTriggered: 80,
      turnsCompleted: 80,
      audioEventsSent: 4000,
      controlEventsSent: 80,
      repliesExpected: 880,
      repliesReceived: 880,
      repliesCorrupted: 0,
      relayedMsgs: 4960,
      serverCpuUsPerRelayedMsg: p.cpuUs,
      bytesPerSession: 20_000,
      upstream: { pid: 9, cpus: '1', cpuUtilPct: 12, eventsReceived: 4080, chunksSent: 800, chunksDropped: 0 },
    };
    const cell: CellResult = {
      ...structuredClone(template),
      id: `${VOICE_CASE}/${runtime}/1`,
      scenario: VOICE_CASE,
      case: VOICE_CASE,
      runtime,
      repetition: 1,
      server: { ...template.server!, relay: { upstreamUrl: 'ws://127.0.0.1:1/', upstreamClient: runtime === 'bun' ? 'bun' : 'ws', upstreamClientVersion: '1', connectTimeoutMs: 5000 } },
      metrics: { ...template.metrics!, latencyUs: hist(p.ttfcUs), serverCpuUsPerMsg: p.cpuUs, voice },
    };
    r.cells.push(cell);
  }
  r.summary = summarizeCells(r.cells, r.settings.referenceRuntime);
  return r;
}

describe('the two-gap table', () => {
  const ref = loadFixture().settings.referenceRuntime;
  const profile = { bun: { ttfcUs: 520_000, cpuUs: 20 }, 'node-ws': { ttfcUs: 530_000, cpuUs: 60 }, 'node-uws': { ttfcUs: 515_000, cpuUs: 25 }, deno: { ttfcUs: 540_000, cpuUs: 45 } };
  const result = withVoice(profile);

  test('puts the synthetic CPU-per-message ratio beside the voice first-chunk and relay-cost ratios, per runtime', () => {
    const v = gapView(result, result.summary)!;
    assert.ok(v, 'a run with echo-rate and voice has a gap table');
    const header = v.columns.map((c) => c.header.join(' '));
    assert.ok(header.some((h) => h.includes(OPEN_CASE) && h.includes('CPU µs/msg')));
    assert.ok(header.some((h) => h.includes('first chunk p50')));
    const refRow = textRows(v.rows).find((r) => r[0]!.startsWith(ref))!;
    assert.ok(refRow.every((cell, i) => i === 0 || cell.includes('(ref)')), refRow.join(' | '));
    const refTtfc = profile[ref as keyof typeof profile].ttfcUs;
    const bun = textRows(v.rows).find((r) => r[0] === 'bun')!;
    const ttfcCol = v.columns.findIndex((c) => c.id === `ttfc:${VOICE_CASE}`);
    // Ratios come from the histograms' medians, which hdr rounds to ~0.1%.
    const expected = 520_000 / refTtfc;
    const shown = Number(/\(([\d.]+)×\)/.exec(bun[ttfcCol]!)![1]);
    assert.ok(Math.abs(shown - expected) < 0.01, `${bun[ttfcCol]} vs ${expected}`);
    assert.ok(v.footnotes.some((f) => f.startsWith('synthetic gap')));
  });

  test('is absent without a synthetic case or without a voice case', () => {
    const noVoice = loadFixture();
    assert.equal(gapView(noVoice, noVoice.summary), undefined);
    const onlyVoice = withVoice(profile);
    onlyVoice.cells = onlyVoice.cells.filter((c) => c.case === VOICE_CASE);
    onlyVoice.summary = summarizeCells(onlyVoice.cells, onlyVoice.settings.referenceRuntime);
    assert.equal(gapView(onlyVoice, onlyVoice.summary), undefined);
  });

  test('gapText quotes slowest over fastest: as × from 1.5 on, as % below', () => {
    assert.equal(gapText([10, 25, 9]), '2.8×');
    assert.equal(gapText([520, 540, 515]), '4.9%');
    assert.equal(gapText([7]), undefined);
    assert.equal(gapText([]), undefined);
  });

  test('the terminal and Markdown reports show the gap and the relay tables', () => {
    const text = tableFormat.render(result);
    assert.match(text, /Two gaps: synthetic vs real shape/);
    assert.match(text, /voice-agent — relay/);
    assert.match(text, /synthetic gap, slowest over fastest runtime in CPU per echoed message: 3\.2× \(echo-rate@50000\/s\)/);
    const md = markdownFormat.render(result);
    assert.match(md, /## Two gaps: synthetic vs real shape/);
  });
});

describe('the relay table', () => {
  test('shows turns, losses, the upstream client of each runtime and the upstream\'s CPU', () => {
    const r = withVoice({ bun: { ttfcUs: 520_000, cpuUs: 20 }, 'node-ws': { ttfcUs: 530_000, cpuUs: 60 } });
    const relay = shapeViews(r, r.summary).find((v) => v.name === `${VOICE_CASE} — relay`)!;
    const col = (id: string) => relay.columns.findIndex((c) => c.id === id);
    const bun = textRows(relay.rows).find((row) => row[0] === 'bun')!;
    assert.equal(bun[col('turns')], '80/80');
    assert.equal(bun[col('replies')], '0/0');
    assert.match(bun[col('client')]!, /^bun /);
    assert.match(textRows(relay.rows).find((row) => row[0] === 'node-ws')![col('client')]!, /^ws /);
    assert.equal(bun[col('upCpu')], '12%');
  });
});

describe('the backpressure table', () => {
  test('names what the server did with slow consumers and the memory it grew', () => {
    const r = structuredClone(loadFixture());
    const cell = r.cells.find((c) => c.case === OPEN_CASE && c.status === 'completed')!;
    const h = hist(100);
    cell.metrics!.slowConsumers = {
      count: 4, readBytesPerSec: 65536, expected: 1000, received: 400, missing: 600, closedByServer: 0, closeCodes: {}, latency: h,
      outcome: 'drops', rssGrowthBytes: 3 * 1024 * 1024, rssPeakGrowthBytes: 4 * 1024 * 1024,
    };
    const view = shapeViews(r, r.summary).find((v) => v.name.endsWith('backpressure'))!;
    const row = textRows(view.rows).find((x) => x[0] === cell.runtime)!;
    assert.ok(row.includes('drops'));
    assert.ok(row.includes('40%'));
    assert.ok(row.some((x) => x.startsWith('+3')), row.join(' | '));
    assert.match(view.subtitle, /4 slow subscribers reading 64/);
  });
});

describe('CSV columns of the real shapes', () => {
  test('voice columns appear only in runs with a voice case', async () => {
    const { csvFormat } = await import('../../report/csv.js');
    const header = (r: RunResult) => csvFormat.render(r).split('\r\n')[0]!.split(',');
    assert.ok(!header(loadFixture()).includes('firstChunkP50Us'));
    const r = withVoice({ bun: { ttfcUs: 520_000, cpuUs: 20 } });
    const cols = header(r);
    assert.ok(cols.includes('firstChunkP50Us') && cols.includes('upstreamClient'));
    const row = csvFormat.render(r).split('\r\n').find((l) => l.startsWith(`${VOICE_CASE},`))!.split(',');
    assert.equal(row[cols.indexOf('upstreamClient')], 'bun');
  });
});

describe('the fan-out table', () => {
  test('shows delivery and last-member latency, memory with its ratio to the reference, and churn', () => {
    const r = structuredClone(loadFixture());
    const ref = r.settings.referenceRuntime;
    const cells = r.cells.filter((c) => c.case === OPEN_CASE && c.status === 'completed');
    for (const c of cells) {
      c.metrics!.lastRecipientUs = hist(c.runtime === ref ? 2000 : 1000);
      c.metrics!.rssPeakBytes = c.runtime === ref ? 100 * 1024 * 1024 : 70 * 1024 * 1024;
      c.metrics!.churn = { leaves: 5, rejoins: 4, failedRejoins: 0 };
    }
    const view = shapeViews(r, r.summary).find((v) => v.name === `${OPEN_CASE} — fan-out`)!;
    const col = (id: string) => view.columns.findIndex((c) => c.id === id);
    const other = textRows(view.rows).find((row) => row[0] !== ref)!;
    assert.equal(textRows(view.rows).find((row) => row[0] === ref)![col('last99ratio')], 'ref');
    assert.equal(other[col('last99ratio')], '0.50×');
    assert.equal(other[col('rssRatio')], '0.70×');
    assert.match(other[col('churn')]!, /^\d+\/\d+$/);
  });
});
