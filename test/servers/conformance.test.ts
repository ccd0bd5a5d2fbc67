/**
 * The one conformance suite every server must pass (servers/CONTRACT.md): the
 * same tests, parameterised over the runtime registry, each runtime against a
 * server it starts through core/launcher on an ephemeral port of 127.0.0.1.
 * Clients are not code under test: the `ws` client, `node:http`, and raw TCP
 * sockets for frames a conforming client refuses to send. Where a library
 * cannot be configured to meet the contract, the suite asserts the behaviour
 * documented in CONTRACT.md via edge-behaviour.ts, so nothing is skipped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type RegistryServerHandle } from '../../core/launcher.js';
import { currentHost } from '../../core/host.js';
import { binDir, projectRoot, serversDir } from '../../core/paths.js';
import { exePath, hasUwsLoaded, isAlive, runtimeOfExe } from '../../core/procfs.js';
import { BARE_RUNTIME_IDS, RUNTIMES, type BareRuntimeId } from '../../core/runtimes.js';
import { CONTRACT_SETTINGS, DEFAULT_ROOM, MAX_PAYLOAD_BYTES, SHUTDOWN_GRACE_MS, type ParityManifest } from '../../servers/settings.js';
import { Client, binaryOfLength, httpGet, utf8OfLength } from './clients.js';
import { edgeBehaviourFor, type EdgeOutcome } from './edge-behaviour.js';
import { libraryVersionOf, type ServerBinary } from '../../core/runtime-versions/labels.js';
import type { Availability } from '../../schema/result.js';
import { OPCODE, RawSocket, closePayload } from './raw-socket.js';

const MiB = 1024 * 1024;
const TEST = { timeout: 30_000 };
const ECHO_SIZES_BYTES = [0, 1, 125, 126, 65535, 65536, MiB];

/** Ready-line settings per server, compared across servers at the end. */
const manifests = new Map<string, ParityManifest>();
const usableRuntimes: string[] = [];

/**
 * What the suite runs: every bare runtime as the project installs it (the Node that runs the suite, the
 * project's bun and deno), or, when BENCH_CONFORMANCE_RUNTIMES names a file (written by `npm run test:versions`),
 * the runtime versions resolved in it, each server started with its version's binary.
 */
interface Target {
  label: string;
  id: BareRuntimeId;
  availability: Availability;
  binary?: ServerBinary;
}

async function targets(): Promise<Target[]> {
  const file = process.env['BENCH_CONFORMANCE_RUNTIMES'];
  if (!file) return Promise.all(BARE_RUNTIME_IDS.map(async (id) => ({ label: id, id, availability: await RUNTIMES[id].probe(currentHost()) })));
  const runs = JSON.parse(readFileSync(file, 'utf8')) as { label: string; binary: ServerBinary }[];
  return runs.map(({ label, binary }) => ({
    label,
    id: binary.id,
    binary,
    availability: { usable: true, runtimeVersion: binary.version, libraryVersion: libraryVersionOf(binary) },
  }));
}

/** The binary `/proc/<pid>/exe` must resolve to, per runtime. */
function expectedExe(id: BareRuntimeId, binary?: ServerBinary): string {
  if (binary) return binary.binaryPath;
  switch (RUNTIMES[id].runtime) {
    case 'node':
      return realpathSync(currentHost().nodePath);
    case 'bun':
      return realpathSync(path.join(binDir, 'bun'));
    case 'deno':
      return realpathSync(path.join(binDir, 'deno'));
  }
}

function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes sure every client is subscribed on the server before a test publishes:
 * the first client publishes "sync:<n>" until every client has seen one.
 * Publish order is per publisher, so a client that has seen a sync message
 * receives everything published after it. Sync messages stay in the queues;
 * tests filter them out.
 */
async function syncRoom(clients: Client[]): Promise<void> {
  const isSync = (m: { data: Buffer }) => m.data.toString('utf8').startsWith('sync:');
  const publisher = clients[0]!;
  for (let round = 0; round < 50; round++) {
    const tag = `sync:${round}`;
    await publisher.send(tag, false);
    await publisher.until(() => publisher.messages.some((m) => m.data.toString('utf8') === tag), 5000, () => `no ${tag} echo`);
    if (clients.every((c) => c.messages.some(isSync))) return;
    await sleep(10);
  }
  throw new Error(`${clients.filter((c) => !c.messages.some(isSync)).length} client(s) never received a sync message`);
}

function dataMessages(client: Client): { text: string; isBinary: boolean }[] {
  return client.messages
    .map((m) => ({ text: m.data.toString('utf8'), isBinary: m.isBinary }))
    .filter((m) => !m.text.startsWith('sync:'));
}

async function closeAll(clients: Client[]): Promise<void> {
  for (const c of clients) c.close();
  await within(Promise.all(clients.map((c) => c.closed)), 5000, 'clients closing').catch(() => {
    for (const c of clients) c.terminate();
  });
}

/** Asserts what a raw socket sees after a protocol violation. */
async function assertEdge(raw: RawSocket, expected: EdgeOutcome, violation: string): Promise<void> {
  switch (expected.kind) {
    case 'close': {
      const seen = await raw.closed();
      assert.equal(seen.closeFrame, true, `${violation}: expected a close frame`);
      assert.equal(seen.code, expected.code, `${violation}: close code`);
      return;
    }
    case 'drop': {
      const seen = await raw.closed();
      assert.equal(seen.closeFrame, false, `${violation}: documented as ending TCP without a close frame, got code ${seen.code}`);
      return;
    }
    case 'accept': {
      const frame = await raw.nextMessage();
      assert.equal(frame.opcode, OPCODE.text, `${violation}: documented as accepted, so echoed as text`);
      assert.equal(frame.payload.toString('utf8'), 'hello');
      raw.destroy();
      return;
    }
    case 'stall':
      assert.equal(await raw.silentFor(1000), true, `${violation}: documented as neither answered nor closed`);
      raw.destroy();
      return;
  }
}

for (const { label, id, availability, binary } of await targets()) {
  const spec = RUNTIMES[id];
  const skip = availability.usable ? false : `${id} cannot run here: ${availability.reason ?? 'unknown'} (${availability.fix ?? ''})`;
  const edges = edgeBehaviourFor(id, binary?.version);
  const start = () => startServer({ runtime: id, ...(binary ? { binary: { path: binary.binaryPath, env: binary.env } } : {}) });
  if (availability.usable) usableRuntimes.push(label);

  describe(`${label} server`, { skip }, () => {
    let server: RegistryServerHandle;
    let wsBase: string;
    let httpBase: string;
    const stdoutAfterReady: Buffer[] = [];

    before(async () => {
      server = await start();
      manifests.set(label, server.ready.settings);
      wsBase = `ws://${server.host}:${server.port}`;
      httpBase = `http://${server.host}:${server.port}`;
      server.process.child.stdout!.on('data', (chunk: Buffer) => stdoutAfterReady.push(chunk));
    });

    after(async () => {
      if (server !== undefined) await server.stop();
    });

    /** The server still answers HTTP and echoes on a new connection. */
    async function assertStillServing(): Promise<void> {
      assert.deepEqual(await httpGet(`${httpBase}/health`), { status: 200, body: 'ok' });
      const client = await Client.open(`${wsBase}/echo`);
      try {
        await client.send('still here', false);
        assert.equal((await client.next()).data.toString('utf8'), 'still here');
      } finally {
        await closeAll([client]);
      }
    }

    describe('ready line', () => {
      it('reports the runtime, library, pid and port of the running server', TEST, () => {
        const ready = server.ready;
        assert.equal(ready.event, 'ready');
        assert.equal(ready.runtime, spec.runtime);
        assert.equal(ready.library, spec.library);
        assert.equal(ready.runtimeVersion, availability.runtimeVersion);
        assert.equal(ready.libraryVersion, availability.libraryVersion);
        assert.equal(ready.pid, server.pid);
        assert.equal(ready.host, '127.0.0.1');
        assert.ok(Number.isInteger(ready.port) && ready.port > 0, `port ${ready.port}`);
      });

      it('reports exactly the contract settings', TEST, () => {
        assert.deepEqual(server.ready.settings, CONTRACT_SETTINGS);
      });
    });

    describe('process', () => {
      it(`is really ${spec.runtime}, judged from /proc`, TEST, () => {
        const exe = exePath(server.pid);
        assert.equal(exe, expectedExe(id, binary));
        assert.equal(runtimeOfExe(exe!), spec.runtime);
      });

      it(id === 'node-uws' ? 'has the uWebSockets.js addon loaded' : 'has no uWebSockets.js addon loaded', TEST, () => {
        assert.equal(hasUwsLoaded(server.pid), id === 'node-uws');
      });
    });

    describe('HTTP', () => {
      it('answers 200 "ok" on /health', TEST, async () => {
        assert.deepEqual(await httpGet(`${httpBase}/health`), { status: 200, body: 'ok' });
      });

      it('answers 404 on an unknown path', TEST, async () => {
        assert.equal((await httpGet(`${httpBase}/no-such-path`)).status, 404);
      });

      it('answers 426 on a plain GET to a WebSocket path', TEST, async () => {
        assert.equal((await httpGet(`${httpBase}/echo`)).status, 426);
        assert.equal((await httpGet(`${httpBase}/broadcast?room=x`)).status, 426);
      });

      it('refuses a WebSocket upgrade on an unknown path with 404', TEST, async () => {
        await assert.rejects(RawSocket.connect(server.host, server.port, '/no-such-path'), /handshake refused: HTTP\/1\.1 404\b/);
      });
    });

    describe('/echo', () => {
      it('returns text and binary messages byte-exact with their opcode, 0 B to 1 MiB', TEST, async () => {
        const client = await Client.open(`${wsBase}/echo`);
        try {
          for (const sizeBytes of ECHO_SIZES_BYTES) {
            for (const isBinary of [false, true]) {
              const payload = isBinary ? binaryOfLength(sizeBytes) : utf8OfLength(sizeBytes);
              await client.send(payload, isBinary);
              const echoed = await client.next();
              const what = `${isBinary ? 'binary' : 'text'} ${sizeBytes} B`;
              assert.equal(echoed.isBinary, isBinary, `${what}: opcode`);
              assert.ok(echoed.data.equals(payload), `${what}: bytes differ`);
            }
          }
        } finally {
          await closeAll([client]);
        }
      });

      it('accepts a message of exactly the maximum payload', TEST, async () => {
        const client = await Client.open(`${wsBase}/echo`);
        try {
          const payload = Buffer.alloc(MAX_PAYLOAD_BYTES, 0x5a);
          await client.send(payload, true);
          assert.ok((await client.next(15_000)).data.equals(payload));
        } finally {
          await closeAll([client]);
        }
      });

      it('reassembles a fragmented message, with a UTF-8 character split across fragments', TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        try {
          raw.send(OPCODE.text, Buffer.from('caf\xc3', 'latin1'), { fin: false });
          raw.send(OPCODE.continuation, Buffer.from('\xa9 au ', 'latin1'), { fin: false });
          raw.send(OPCODE.continuation, 'lait');
          const text = await raw.nextMessage();
          assert.equal(text.opcode, OPCODE.text);
          assert.equal(text.payload.toString('utf8'), 'café au lait');

          raw.send(OPCODE.binary, Buffer.from([1, 2]), { fin: false });
          raw.send(OPCODE.continuation, Buffer.from([3]));
          const binary = await raw.nextMessage();
          assert.equal(binary.opcode, OPCODE.binary);
          assert.deepEqual([...binary.payload], [1, 2, 3]);
        } finally {
          raw.destroy();
        }
      });

      it('answers a ping interleaved between fragments and still reassembles the message', TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        try {
          raw.send(OPCODE.text, 'before ', { fin: false });
          raw.send(OPCODE.ping, 'between');
          raw.send(OPCODE.continuation, 'after');
          const frames = [await raw.nextMessage(), await raw.nextMessage()];
          const pong = frames.find((f) => f.opcode === OPCODE.pong);
          const text = frames.find((f) => f.opcode === OPCODE.text);
          assert.equal(pong?.payload.toString('utf8'), 'between');
          assert.equal(text?.payload.toString('utf8'), 'before after');
        } finally {
          raw.destroy();
        }
      });

      it('answers a ping with a pong carrying the same payload', TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        try {
          const payload = binaryOfLength(125); // the largest control-frame payload
          raw.send(OPCODE.ping, payload);
          const pong = await raw.nextFrame();
          assert.equal(pong.opcode, OPCODE.pong);
          assert.ok(pong.payload.equals(payload));
        } finally {
          raw.destroy();
        }
      });

      it("echoes the client's close code in its close frame", TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        raw.send(OPCODE.close, closePayload(4000, 'bye'));
        const seen = await raw.closed();
        assert.equal(seen.closeFrame, true);
        assert.equal(seen.code, 4000);
      });

      it('drops echoes while the client buffers more than the limit, and keeps the connection', TEST, async () => {
        const client = await Client.open(`${wsBase}/echo`);
        try {
          // 64 MiB exceeds anything the kernel can buffer here (32 MiB receive + 4 MiB send) plus the 1 MiB limit.
          const count = 1024;
          const sizeBytes = 64 * 1024;
          client.ws.pause();
          let lastSent: Promise<void> = Promise.resolve();
          for (let seq = 0; seq < count; seq++) {
            const message = Buffer.alloc(sizeBytes, seq & 0xff);
            message.writeUInt32BE(seq, 0);
            lastSent = client.send(message, true);
          }
          await lastSent;
          client.ws.resume();
          // Drain until quiet, so the server's buffer is empty before the marker.
          let seen = -1;
          while (client.messages.length !== seen) {
            seen = client.messages.length;
            await sleep(300);
          }
          const marker = Buffer.from('marker');
          await client.send(marker, true);
          await client.until(() => client.messages.at(-1)?.data.equals(marker) === true, 5000, () => 'no marker echo');

          const echoes = client.messages.slice(0, -1);
          const seqs = echoes.map((m) => m.data.readUInt32BE(0));
          assert.ok(echoes.length < count, `expected drops, got all ${count} echoes`);
          assert.ok(echoes.length > 0, 'expected some echoes before the drops');
          assert.ok(
            echoes.every((m) => m.data.length === sizeBytes),
            'every echo that was sent is whole',
          );
          assert.ok(
            seqs.every((s, i) => i === 0 || s > seqs[i - 1]!),
            'echoes are an in-order subsequence',
          );
          assert.equal(client.ws.readyState, client.ws.OPEN);
        } finally {
          await closeAll([client]);
        }
      });
    });

    describe('protocol violations', () => {
      const describeOutcome = (o: EdgeOutcome) => (o.kind === 'close' ? `closes with ${o.code}` : `${o.kind}s (documented difference)`);

      it(`oversize message (max + 1 byte): ${describeOutcome(edges.oversize)}, then serves the next client`, TEST, async () => {
        const client = await Client.open(`${wsBase}/echo`);
        // Not awaited: the server may close before the whole message is written.
        client.ws.send(Buffer.alloc(MAX_PAYLOAD_BYTES + 1), { binary: true }, () => {});
        const { code } = await within(client.closed, 15_000, 'close after an oversize message');
        switch (edges.oversize.kind) {
          case 'close':
            assert.equal(code, edges.oversize.code);
            break;
          case 'drop':
            assert.equal(code, 1006, 'documented as no close frame, which the ws client reports as 1006');
            break;
          default:
            assert.fail(`no oversize assertion for ${edges.oversize.kind}`);
        }
        await assertStillServing();
      });

      it(`invalid UTF-8 in a text frame: ${describeOutcome(edges.invalidUtf8)}, then serves the next client`, TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        raw.send(OPCODE.text, Buffer.from([0xc3, 0x28]));
        await assertEdge(raw, edges.invalidUtf8, 'invalid UTF-8');
        await assertStillServing();
      });

      it(`unmasked client frame: ${describeOutcome(edges.unmasked)}, then serves the next client`, TEST, async () => {
        const raw = await RawSocket.connect(server.host, server.port, '/echo');
        raw.send(OPCODE.text, 'hello', { masked: false });
        await assertEdge(raw, edges.unmasked, 'unmasked frame');
        await assertStillServing();
      });

      it('refuses permessage-deflate when a client offers it', TEST, async () => {
        const client = await Client.open(`${wsBase}/echo`, { perMessageDeflate: true });
        try {
          assert.equal(client.ws.extensions, '');
        } finally {
          await closeAll([client]);
        }
      });
    });

    describe('/broadcast', () => {
      it('delivers every message once to all 50 clients of a room, the sender included, in publish order', TEST, async () => {
        const clientCount = 50;
        const perClient = 20;
        const room = `all-${id}`;
        const clients = await Promise.all(
          Array.from({ length: clientCount }, () => Client.open(`${wsBase}/broadcast?room=${room}`)),
        );
        try {
          await syncRoom(clients);
          await Promise.all(
            clients.map((c, i) => Promise.all(Array.from({ length: perClient }, (_, seq) => c.send(`m:${i}:${seq}`, false)))),
          );
          const total = clientCount * perClient;
          await Promise.all(
            clients.map((c, i) =>
              c.until(() => dataMessages(c).length >= total, 10_000, () => `client ${i}: ${dataMessages(c).length} of ${total}`),
            ),
          );
          await sleep(50); // anything beyond the expected count would be a duplicate
          for (const [i, c] of clients.entries()) {
            const messages = dataMessages(c);
            assert.equal(messages.length, total, `client ${i} message count`);
            const seqsBySender = new Map<number, number[]>();
            for (const m of messages) {
              assert.equal(m.isBinary, false);
              const [, sender, seq] = m.text.split(':').map(Number) as [number, number, number];
              seqsBySender.set(sender, [...(seqsBySender.get(sender) ?? []), seq]);
            }
            for (let sender = 0; sender < clientCount; sender++) {
              assert.deepEqual(seqsBySender.get(sender), Array.from({ length: perClient }, (_, seq) => seq), `client ${i} from ${sender}`);
            }
          }
        } finally {
          await closeAll(clients);
        }
      });

      it('keeps rooms apart and preserves the opcode', TEST, async () => {
        const [a1, a2, b1, b2] = await Promise.all(
          ['a', 'a', 'b', 'b'].map((r) => Client.open(`${wsBase}/broadcast?room=rooms-${r}-${id}`)),
        ) as [Client, Client, Client, Client];
        try {
          await syncRoom([a1, a2]);
          await syncRoom([b1, b2]);
          await a1.send('from a', false);
          await b1.send(Buffer.from('from b'), true);
          await a2.send('end a', false);
          await b2.send(Buffer.from('end b'), true);
          const has = (c: Client, text: string) => () => dataMessages(c).some((m) => m.text === text);
          await Promise.all([
            a1.until(has(a1, 'end a'), 5000, () => 'a1 waiting'),
            a2.until(has(a2, 'end a'), 5000, () => 'a2 waiting'),
            b1.until(has(b1, 'end b'), 5000, () => 'b1 waiting'),
            b2.until(has(b2, 'end b'), 5000, () => 'b2 waiting'),
          ]);
          for (const c of [a1, a2]) {
            assert.deepEqual(dataMessages(c).sort((x, y) => x.text.localeCompare(y.text)), [
              { text: 'end a', isBinary: false },
              { text: 'from a', isBinary: false },
            ]);
          }
          for (const c of [b1, b2]) {
            assert.deepEqual(dataMessages(c).sort((x, y) => x.text.localeCompare(y.text)), [
              { text: 'end b', isBinary: true },
              { text: 'from b', isBinary: true },
            ]);
          }
        } finally {
          await closeAll([a1, a2, b1, b2]);
        }
      });

      it(`puts a connection without ?room= in the "${DEFAULT_ROOM}" room`, TEST, async () => {
        const plain = await Client.open(`${wsBase}/broadcast`);
        const named = await Client.open(`${wsBase}/broadcast?room=${DEFAULT_ROOM}`);
        try {
          await syncRoom([plain, named]);
          await plain.send('to the default room', false);
          for (const c of [plain, named]) {
            await c.until(() => dataMessages(c).some((m) => m.text === 'to the default room'), 5000, () => 'waiting');
          }
        } finally {
          await closeAll([plain, named]);
        }
      });
    });

    describe('shutdown', () => {
      it('on SIGINT: closes clients with 1001 and exits 0', TEST, async () => {
        const fresh = await start();
        try {
          const client = await Client.open(`ws://${fresh.host}:${fresh.port}/echo`);
          fresh.process.child.kill('SIGINT');
          const result = await within(fresh.exited, SHUTDOWN_GRACE_MS, 'exit after SIGINT');
          assert.deepEqual([result.code, result.signal], [0, null]);
          assert.equal((await within(client.closed, 1000, 'client close')).code, 1001);
        } finally {
          await fresh.stop();
        }
      });

      it(`on SIGTERM with clients connected: closes them with 1001, exits 0 within ${SHUTDOWN_GRACE_MS} ms, leaves no process`, TEST, async () => {
        const clients = await Promise.all([
          Client.open(`${wsBase}/echo`),
          Client.open(`${wsBase}/broadcast`),
          Client.open(`${wsBase}/broadcast?room=shutdown`),
        ]);
        const result = await server.stop();
        assert.equal(result.forced, false, 'the server needed SIGKILL');
        assert.deepEqual([result.code, result.signal], [0, null]);
        assert.ok(result.durationMs < SHUTDOWN_GRACE_MS, `took ${result.durationMs} ms`);
        const closes = await within(Promise.all(clients.map((c) => c.closed)), 1000, 'client closes');
        assert.deepEqual(
          closes.map((c) => c.code),
          [1001, 1001, 1001],
        );
        assert.equal(isAlive(server.pid), false);
        assert.throws(() => process.kill(server.pid, 0), { code: 'ESRCH' });
      });

      it('wrote nothing to stdout after the ready line', TEST, async () => {
        const stdout = server.process.child.stdout!;
        if (!stdout.readableEnded) await new Promise((resolve) => stdout.once('close', resolve));
        assert.equal(Buffer.concat(stdoutAfterReady).toString('utf8'), '');
      });
    });
  });
}

describe('all servers', () => {
  it('report identical settings, equal to the contract', TEST, () => {
    assert.deepEqual([...manifests.keys()].sort(), [...usableRuntimes].sort(), 'every usable server started and reported');
    const [first, ...rest] = [...manifests.entries()];
    assert.ok(first !== undefined, 'no server reported settings');
    for (const [id, settings] of rest) assert.deepEqual(settings, first[1], `${id} differs from ${first[0]}`);
    assert.deepEqual(first[1], CONTRACT_SETTINGS);
  });
});

describe('node-uws without a uWebSockets.js binary for this Node', () => {
  let fixtureDir: string | undefined;
  after(() => {
    if (fixtureDir !== undefined) rmSync(fixtureDir, { recursive: true, force: true });
  });

  it('exits non-zero with one line on stderr naming the Node version and the supported range', TEST, async () => {
    // The real uws-pack loader with its binaries left out: exactly what an unsupported Node ABI meets.
    fixtureDir = mkdtempSync(path.join(os.tmpdir(), 'bench-uws-missing-'));
    const uwsSource = path.join(projectRoot, 'node_modules', 'uWebSockets.js');
    const uwsCopy = path.join(fixtureDir, 'node_modules', 'uWebSockets.js');
    mkdirSync(path.join(uwsCopy, 'dist'), { recursive: true });
    cpSync(path.join(uwsSource, 'package.json'), path.join(uwsCopy, 'package.json'));
    for (const file of ['index.mjs', 'uws.mjs']) cpSync(path.join(uwsSource, 'dist', file), path.join(uwsCopy, 'dist', file));
    // ws is installed as usual: node-uws.js imports its client for /relay's upstream leg.
    symlinkSync(path.join(projectRoot, 'node_modules', 'ws'), path.join(fixtureDir, 'node_modules', 'ws'));
    cpSync(serversDir, path.join(fixtureDir, 'dist', 'servers'), { recursive: true });
    writeFileSync(path.join(fixtureDir, 'package.json'), '{"type":"module"}\n');

    const child = spawn(currentHost().nodePath, [path.join(fixtureDir, 'dist', 'servers', 'node-uws.js')], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await within(
      new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c))),
      10_000,
      'node-uws exit',
    );
    assert.notEqual(code, 0);
    assert.equal(stdout, '');
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
    assert.match(lines[0]!, new RegExp(`Node ${process.version.replace(/\./g, '\\.')}\\b`));
    assert.match(lines[0]!, /Node 18-22/);
  });
});
