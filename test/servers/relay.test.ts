/**
 * Conformance of the /relay route (servers/CONTRACT.md), parameterised over the
 * runtime registry like conformance.test.ts: every server relays to the real
 * simulated upstream (upstream/model.ts, started with startUpstream and short
 * latencies), and the tests rebuild every reply byte for byte from its fields.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createRequire } from 'node:module';
import { startServer, startUpstream, type RegistryServerHandle, type UpstreamHandle } from '../../core/launcher.js';
import { currentHost } from '../../core/host.js';
import { BARE_RUNTIME_IDS, RUNTIMES, type BareRuntimeId } from '../../core/runtimes.js';
import { CONTRACT_SETTINGS, RELAY_CONNECT_TIMEOUT_MS, type RelayInfo } from '../../servers/settings.js';
import type { UpstreamConfig, UpstreamStats } from '../../upstream/config.js';
import { DIGEST_START, audioBase64, digestMessage, formatDelta, formatDigest, formatDone } from '../../upstream/events.js';
import { Client, httpGet } from './clients.js';

const TEST = { timeout: 30_000 };
const wsVersion = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;

/** Short turns so the suite stays quick: 20–60 ms think time, 5 chunks 2 ms apart. */
const UPSTREAM: Partial<UpstreamConfig> = {
  latency: { kind: 'uniform', minMs: 20, maxMs: 60 },
  seed: 7,
  chunks: 5,
  chunkIntervalMs: 2,
  chunkAudioBytes: 960,
  verify: true,
};
const REPLY_AUDIO = audioBase64(UPSTREAM.chunkAudioBytes!, UPSTREAM.seed!);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let upstream: UpstreamHandle;

before(async () => {
  upstream = await startUpstream({ config: UPSTREAM });
});

after(async () => {
  if (upstream !== undefined) await upstream.stop();
});

async function upstreamStats(): Promise<UpstreamStats> {
  const { status, body } = await httpGet(`http://${upstream.host}:${upstream.port}/stats`);
  assert.equal(status, 200);
  return JSON.parse(body) as UpstreamStats;
}

/** Polls the upstream's counters until `done` holds (at most 5 s). */
async function untilStats(done: (s: UpstreamStats) => boolean, what: string): Promise<UpstreamStats> {
  let stats = await upstreamStats();
  for (let i = 0; i < 100 && !done(stats); i++) {
    await sleep(50);
    stats = await upstreamStats();
  }
  assert.ok(done(stats), `${what}; upstream stats: ${JSON.stringify(stats)}`);
  return stats;
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** One client audio event: about 1.3 KB of JSON, distinct per session and sequence number. */
function audioEvent(session: string, seq: number): Buffer {
  const audio = Buffer.alloc(960, (seq * 7 + session.length) & 0xff);
  audio.write(`${session}:${seq}`);
  return Buffer.from(JSON.stringify({ type: 'input_audio_buffer.append', session, seq, audio: audio.toString('base64') }));
}

async function closeAll(clients: Client[]): Promise<void> {
  for (const c of clients) c.close();
  await Promise.race([Promise.all(clients.map((c) => c.closed)), sleep(5000)]);
  for (const c of clients) c.terminate();
}

function expectedClient(id: BareRuntimeId): { upstreamClient: RelayInfo['upstreamClient']; version: (libraryVersion: string | undefined) => string | undefined } {
  switch (RUNTIMES[id].runtime) {
    case 'bun':
      return { upstreamClient: 'bun', version: (v) => v };
    case 'deno':
      return { upstreamClient: 'deno', version: (v) => v };
    case 'node':
      return { upstreamClient: 'ws', version: () => wsVersion };
  }
}

const relayInfos = new Map<BareRuntimeId, RelayInfo>();

for (const id of BARE_RUNTIME_IDS) {
  const spec = RUNTIMES[id];
  const availability = await spec.probe(currentHost());
  const skip = availability.usable ? false : `${id} cannot run here: ${availability.reason ?? 'unknown'}`;

  describe(`${id} server /relay`, { skip }, () => {
    let server: RegistryServerHandle;
    let wsBase: string;

    before(async () => {
      server = await startServer({ runtime: id, env: { UPSTREAM_URL: upstream.url } });
      wsBase = `ws://${server.host}:${server.port}`;
    });

    after(async () => {
      if (server !== undefined) await server.stop();
    });

    it('reports its upstream, its upstream client and the contract settings in the ready line', TEST, () => {
      const expected = expectedClient(id);
      assert.deepEqual(server.ready.relay, {
        upstreamUrl: upstream.url,
        upstreamClient: expected.upstreamClient,
        upstreamClientVersion: expected.version(availability.libraryVersion),
        connectTimeoutMs: RELAY_CONNECT_TIMEOUT_MS,
      });
      assert.deepEqual(server.ready.settings, CONTRACT_SETTINGS);
      relayInfos.set(id, server.ready.relay!);
    });

    it('answers 426 to a plain GET', TEST, async () => {
      assert.equal((await httpGet(`http://${server.host}:${server.port}/relay?session=x`)).status, 426);
    });

    it('relays 8 concurrent sessions: every client message reaches the upstream unchanged and in order, every reply reaches its own client in order and byte-exact', TEST, async () => {
      const sessionCount = 8;
      const audioEvents = 25;
      const sessions = Array.from({ length: sessionCount }, (_, k) => `${id}-s${k}`);
      const clients = await Promise.all(sessions.map((s) => Client.open(`${wsBase}/relay?session=${encodeURIComponent(s)}`)));
      try {
        // What each client sends: audio as text, two binary messages (opcode must survive), then the turn's trigger.
        const sent = sessions.map((session) => {
          const messages: { data: Buffer; isBinary: boolean }[] = [];
          for (let seq = 0; seq < audioEvents; seq++) messages.push({ data: audioEvent(session, seq), isBinary: false });
          messages.push({ data: Buffer.from([0, 1, 2, 255]), isBinary: true }, { data: Buffer.from(session), isBinary: true });
          messages.push({ data: Buffer.from(JSON.stringify({ type: 'response.create', turn_id: `turn-${session}` })), isBinary: false });
          return messages;
        });
        // Sent at once: the first messages usually arrive while the upstream leg is still connecting.
        await Promise.all(clients.map((c, k) => Promise.all(sent[k]!.map((m) => c.send(m.data, m.isBinary)))));

        const chunks = UPSTREAM.chunks!;
        await Promise.all(clients.map((c, k) => c.until(() => c.messages.length >= chunks + 1, 10_000, () => `session ${k}: ${c.messages.length} of ${chunks + 1}`)));
        await sleep(50); // anything beyond the expected count would be cross-talk or a duplicate

        for (const [k, client] of clients.entries()) {
          const session = sessions[k]!;
          const turn = `turn-${session}`;
          assert.equal(client.messages.length, chunks + 1, `${session}: message count`);
          for (const [seq, message] of client.messages.slice(0, chunks).entries()) {
            assert.equal(message.isBinary, false, `${session} chunk ${seq}: opcode`);
            const fields = JSON.parse(message.data.toString('utf8')) as Record<string, unknown>;
            assert.deepEqual([fields['type'], fields['session'], fields['turn'], fields['seq']], ['response.audio.delta', session, turn, seq]);
            const latencyMs = fields['latencyMs'] as number;
            assert.ok(latencyMs >= 20 && latencyMs <= 60, `latency ${latencyMs} ms outside 20–60`);
            const rebuilt = formatDelta(
              { session, turn, seq, latencyMs, requestedAtUs: fields['requestedAtUs'] as number, sentAtUs: fields['sentAtUs'] as number },
              REPLY_AUDIO,
            );
            assert.ok(message.data.equals(Buffer.from(rebuilt)), `${session} chunk ${seq}: bytes differ from what the upstream sent`);
          }
          const done = client.messages[chunks]!;
          const fields = JSON.parse(done.data.toString('utf8')) as Record<string, number | string>;
          let digest = DIGEST_START;
          for (const m of sent[k]!) digest = digestMessage(digest, m.data, m.isBinary);
          const expected = formatDone({
            session,
            turn,
            chunks,
            latencyMs: fields['latencyMs'] as number,
            requestedAtUs: fields['requestedAtUs'] as number,
            sentAtUs: fields['sentAtUs'] as number,
            eventsReceived: sent[k]!.length,
            bytesReceived: sent[k]!.reduce((sum, m) => sum + m.data.length, 0),
            digest: formatDigest(digest),
          });
          assert.equal(done.data.toString('utf8'), expected, `${session}: response.done (the upstream saw other messages than were sent)`);
        }
      } finally {
        await closeAll(clients);
      }
    });

    it('closes the upstream leg with 1000 when the client closes, whatever its code, or drops', TEST, async () => {
      const before = await untilStats((s) => s.sessionsOpen === 0, 'sessions of earlier tests still open');
      const clients = await Promise.all([0, 1, 2].map((k) => Client.open(`${wsBase}/relay?session=close-${id}-${k}`)));
      await untilStats((s) => s.sessionsOpen === 3, 'three upstream legs open');
      clients[0]!.close(1000);
      clients[1]!.close(4000);
      clients[2]!.terminate(); // no close frame: the server sees 1006
      await untilStats(
        (s) => s.sessionsOpen === 0 && (s.closeCodes['1000'] ?? 0) === (before.closeCodes['1000'] ?? 0) + 3,
        'every upstream leg closed with 1000',
      );
    });

    it('closes the client with 1000 when the upstream closes with 1000, and with 1011 for any other code', TEST, async () => {
      const normal = await Client.open(`${wsBase}/relay?session=upclose-${id}-a`);
      const other = await Client.open(`${wsBase}/relay?session=upclose-${id}-b`);
      await normal.send(JSON.stringify({ type: 'upstream.close', code: 1000 }), false);
      await other.send(JSON.stringify({ type: 'upstream.close', code: 4001 }), false);
      const closes = await Promise.race([Promise.all([normal.closed, other.closed]), sleep(5000).then(() => undefined)]);
      assert.ok(closes !== undefined, 'clients not closed within 5 s');
      assert.deepEqual(
        closes.map((c) => c.code),
        [1000, 1011],
      );
    });

    it('drops replies while the client buffers more than the limit, and keeps both legs open', TEST, async () => {
      // 1024 replies of 64 KiB (64 MiB) exceed what the kernel buffers here (32 MiB receive + 4 MiB send) plus 1 MiB.
      const chunks = 1024;
      const bulk = await startUpstream({ config: { latency: { kind: 'fixed', ms: 0 }, chunks, chunkIntervalMs: 1, chunkAudioBytes: 48 * 1024 } });
      const relay = await startServer({ runtime: id, env: { UPSTREAM_URL: bulk.url } });
      try {
        const client = await Client.open(`ws://${relay.host}:${relay.port}/relay?session=slow`);
        client.ws.pause();
        await client.send(JSON.stringify({ type: 'response.create' }), false);
        const bulkStats = async () => JSON.parse((await httpGet(`http://${bulk.host}:${bulk.port}/stats`)).body) as UpstreamStats;
        let sent = await bulkStats();
        for (let i = 0; i < 200 && sent.chunksSent + sent.chunksDropped < chunks; i++) {
          await sleep(50);
          sent = await bulkStats();
        }
        assert.equal(sent.chunksSent + sent.chunksDropped, chunks, 'the upstream finished its burst');
        client.ws.resume();
        let seen = -1;
        while (client.messages.length !== seen) {
          seen = client.messages.length;
          await sleep(300);
        }
        const deltas = client.messages.map((m) => JSON.parse(m.data.toString('utf8')) as { type: string; seq?: number });
        const seqs = deltas.filter((d) => d.type === 'response.audio.delta').map((d) => d.seq!);
        assert.ok(seqs.length > 0, 'some replies before the drops');
        assert.ok(client.messages.length < sent.chunksSent, `the relay dropped nothing: ${client.messages.length} of ${sent.chunksSent} forwarded`);
        assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'replies are an in-order subsequence');
        // Both legs are still open: the upstream can still end the session normally.
        await client.send(JSON.stringify({ type: 'upstream.close', code: 1000 }), false);
        const closed = await Promise.race([client.closed, sleep(5000).then(() => undefined)]);
        assert.equal(closed?.code, 1000);
      } finally {
        await Promise.all([relay.stop(), bulk.stop()]);
      }
    });

    it('answers a /relay upgrade with 503 when started without UPSTREAM_URL, and still serves the other routes', TEST, async () => {
      const unset = await startServer({ runtime: id, env: { UPSTREAM_URL: '' } });
      try {
        assert.equal(unset.ready.relay?.upstreamUrl, null);
        await assert.rejects(Client.open(`ws://${unset.host}:${unset.port}/relay?session=x`), /HTTP 503/);
        const echo = await Client.open(`ws://${unset.host}:${unset.port}/echo`);
        await echo.send('still echoing', false);
        assert.equal((await echo.next()).data.toString('utf8'), 'still echoing');
        await closeAll([echo]);
      } finally {
        await unset.stop();
      }
    });

    it('accepts the client, then closes it with 1011 when the upstream is unreachable', TEST, async () => {
      const unreachableUrl = `ws://127.0.0.1:${await closedPort()}/`;
      const unreachable = await startServer({ runtime: id, env: { UPSTREAM_URL: unreachableUrl } });
      try {
        assert.equal(unreachable.ready.relay?.upstreamUrl, unreachableUrl);
        const client = await Client.open(`ws://${unreachable.host}:${unreachable.port}/relay?session=x`);
        const closed = await Promise.race([client.closed, sleep(5000).then(() => undefined)]);
        assert.equal(closed?.code, 1011);
      } finally {
        await unreachable.stop();
      }
    });
  });
}

describe('all servers /relay', () => {
  it('report the same relay settings apart from the upstream client', TEST, () => {
    const rest = [...relayInfos.values()].map(({ upstreamUrl, connectTimeoutMs }) => ({ upstreamUrl, connectTimeoutMs }));
    assert.ok(rest.length > 0, 'no server reported relay settings');
    for (const r of rest) assert.deepEqual(r, rest[0]);
  });
});
