/**
 * The simulated upstream: a WebSocket server standing in for a realtime AI
 * model service behind a relay (upstream/README.md). Run by Node as
 * `node dist/upstream/model.js [options]`; bench starts it with
 * `startUpstream` in core/launcher.ts.
 *
 * Per connection (one per relayed client session) it counts what it receives
 * and, when a turn ends, waits a latency drawn from the configured
 * distribution, then streams a burst of reply chunks and a `response.done`.
 * It is not what is measured, so it stays cheap: audio events are counted, not
 * parsed; the reply audio is encoded once; a chunk is one string concatenation.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { WebSocketServer, WebSocket } from 'ws';
import { parseUpstreamArgs, upstreamHelp, type UpstreamReadyLine, type UpstreamStats } from './config.js';
import {
  DIGEST_START,
  audioBase64,
  controlEventOf,
  digestMessage,
  epochUs,
  formatDelta,
  formatDigest,
  formatDone,
} from './events.js';
import { mulberry32 } from '../stats/random.js';
import { latencySampler, scheduledDelayMs, sessionSeed } from './latency.js';

/** Same limits as the servers' contract (servers/settings.ts), restated so this process imports nothing from servers/. */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
const BACKPRESSURE_LIMIT_BYTES = 1024 * 1024;
/** Exit by then on SIGTERM even if a relay never answers our close frame (bench waits 2 s). */
const SHUTDOWN_FALLBACK_MS = 1500;
const CLOSE_GOING_AWAY = 1001;

const require = createRequire(import.meta.url);
const wsVersion = (require('ws/package.json') as { version: string }).version;

const parsed = parseUpstreamArgs(process.argv.slice(2), process.env);
if (parsed.help) {
  process.stdout.write(upstreamHelp());
  process.exit(0);
}
if (parsed.problems.length > 0) {
  for (const problem of parsed.problems) process.stderr.write(`upstream: ${problem}\n`);
  process.exit(2);
}
const config = parsed.config;
const audio = audioBase64(config.chunkAudioBytes, config.seed);

const stats: UpstreamStats = {
  sessionsOpen: 0,
  sessionsTotal: 0,
  closeCodes: {},
  eventsReceived: 0,
  bytesReceived: 0,
  turns: 0,
  chunksSent: 0,
  chunksDropped: 0,
  cpuUserUs: 0,
  cpuSystemUs: 0,
  rssBytes: 0,
};

const sessions = new Set<Session>();
let shuttingDown = false;

/** One relayed client session: its counters, its latency draws and its pending reply timers. */
class Session {
  private eventsReceived = 0;
  private bytesReceived = 0;
  private eventsSinceTurn = 0;
  private turnCount = 0;
  private digest = DIGEST_START;
  private readonly nextLatencyMs: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly ws: WebSocket,
    private readonly id: string,
  ) {
    this.nextLatencyMs = latencySampler(config.latency, mulberry32(sessionSeed(config.seed, id)));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('error', () => {}); // followed by 'close'
    ws.on('close', (code: number) => this.onClose(code));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.eventsReceived++;
    this.bytesReceived += data.length;
    stats.eventsReceived++;
    stats.bytesReceived += data.length;
    if (config.verify) this.digest = digestMessage(this.digest, data, isBinary);
    const control = isBinary ? undefined : controlEventOf(data);
    if (control === undefined) {
      if (config.turnEveryEvents > 0 && ++this.eventsSinceTurn >= config.turnEveryEvents) this.startTurn(undefined);
    } else if (control.type === 'response.create') {
      this.startTurn(control.turnId);
    } else {
      this.ws.close(control.code);
    }
  }

  /** Turns are independent: one that starts while another is still streaming interleaves with it (chunks name their turn). */
  private startTurn(turnId: string | undefined): void {
    this.eventsSinceTurn = 0;
    this.turnCount++;
    stats.turns++;
    const turn = turnId ?? `t${this.turnCount}`;
    const requestedAtUs = epochUs();
    const latencyMs = scheduledDelayMs(this.nextLatencyMs());
    const done = {
      eventsReceived: this.eventsReceived,
      bytesReceived: this.bytesReceived,
      digest: config.verify ? formatDigest(this.digest) : null,
    };
    const sendFrom = (first: number): void => {
      for (let seq = first; this.ws.readyState === WebSocket.OPEN; seq++) {
        this.sendChecked(formatDelta({ session: this.id, turn, seq, latencyMs, requestedAtUs, sentAtUs: epochUs() }, audio));
        if (seq + 1 === config.chunks) {
          this.sendChecked(
            formatDone({ session: this.id, turn, chunks: config.chunks, latencyMs, requestedAtUs, sentAtUs: epochUs(), ...done }),
            false,
          );
          return;
        }
        if (config.chunkIntervalMs > 0) {
          this.after(config.chunkIntervalMs, () => sendFrom(seq + 1));
          return;
        }
      }
    };
    this.after(latencyMs, () => sendFrom(0));
  }

  /** The servers' backpressure rule: send only while at most 1 MiB is buffered, else drop. */
  private sendChecked(text: string, isChunk = true): void {
    if (this.ws.bufferedAmount > BACKPRESSURE_LIMIT_BYTES) {
      if (isChunk) stats.chunksDropped++;
      return;
    }
    this.ws.send(text);
    if (isChunk) stats.chunksSent++;
  }

  private after(delayMs: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, delayMs);
    this.timers.add(timer);
  }

  private onClose(code: number): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    sessions.delete(this);
    stats.sessionsOpen--;
    stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1;
    if (shuttingDown && sessions.size === 0) process.exit(0);
  }

  close(code: number): void {
    this.ws.close(code);
  }
}

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES, clientTracking: false });

const server = http.createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  } else if (path === '/stats') {
    const cpu = process.cpuUsage();
    const body: UpstreamStats = { ...stats, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, rssBytes: process.memoryUsage.rss() };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
});

// Any path takes an upgrade: the session id is the `session` query parameter (empty when absent).
server.on('upgrade', (req, socket, head) => {
  if (shuttingDown) {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('session') ?? '';
  wss.handleUpgrade(req, socket, head, (ws) => {
    stats.sessionsOpen++;
    stats.sessionsTotal++;
    sessions.add(new Session(ws, id));
  });
});

server.on('error', (error) => {
  process.stderr.write(`upstream: ${error.message}\n`);
  process.exit(1);
});

server.listen(config.port, config.host, () => {
  const bound = server.address() as AddressInfo;
  const ready: UpstreamReadyLine = {
    event: 'ready',
    role: 'upstream',
    runtime: 'node',
    runtimeVersion: process.versions.node,
    library: 'ws',
    libraryVersion: wsVersion,
    pid: process.pid,
    host: bound.address,
    port: bound.port,
    config: { ...config, port: bound.port },
  };
  process.stdout.write(JSON.stringify(ready) + '\n');
});

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`upstream: ${sessions.size} session(s) still closing after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  server.close();
  server.closeIdleConnections();
  for (const session of sessions) session.close(CLOSE_GOING_AWAY);
  if (sessions.size === 0) process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
