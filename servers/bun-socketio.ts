/**
 * The Socket.IO stack on Bun: `socket.io` bound to `@socket.io/bun-engine`,
 * served by `Bun.serve` (its WebSockets, as bare bun). See
 * servers/CONTRACT.md, "Stacks"; socketio-common.ts mounts the contract.
 *
 * The engine's handler is used expanded (its README's second form), so that
 * /health can be routed beside it and Bun's WebSocket settings can be given
 * as bare bun gives them: bun-engine only sets maxPayloadLength, and Bun's
 * defaults (a 120 s idle timeout with automatic pings, a 16 MiB backpressure
 * limit) would differ from the contract. The backpressure rule is Bun's own
 * `backpressureLimit` drop: bun-engine sends synchronously and ignores send()'s
 * "dropped" result. bun-engine has no `transports` option (it always offers
 * HTTP long-polling), so fetch() refuses any transport but `websocket` itself,
 * with engine.io's answer. /relay's upstream leg uses Bun's global WebSocket.
 */
import { Server as Engine } from '@socket.io/bun-engine';
import { Server } from 'socket.io';
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  IDLE_TIMEOUT_SEC,
  MAX_PAYLOAD_BYTES,
  RELAY_CONNECT_TIMEOUT_MS,
  STACK_SETTINGS,
  type ParityManifest,
} from './settings.js';
import {
  HEALTH_BODY,
  HEALTH_PATH,
  HTTP_NOT_FOUND,
  HTTP_OK,
  NOT_FOUND_BODY,
  SHUTDOWN_FALLBACK_MS,
  describeError,
  formatStackReadyLine,
  listenAddressFromEnv,
  relayInfo,
  upstreamUrlFromEnv,
  type ListenAddress,
} from './common.js';
import { heartbeatFromEnv, ioOptions, mountContract, readStackSettings, resolvedPackage, trackSessions, type Heartbeat, type UpstreamSocket } from './socketio-common.js';

const NAME = 'bun-socketio';

const bun: BunGlobal =
  globalThis.Bun ??
  (() => {
    throw new Error('dist/servers/bun-socketio.js must be run by Bun');
  })();

const socketIo = resolvedPackage('socket.io');
const bunEngine = resolvedPackage('@socket.io/bun-engine');

let address: ListenAddress;
let upstreamUrl: string | null;
let heartbeat: Heartbeat;
try {
  address = listenAddressFromEnv(process.env['PORT'], process.env['HOST']);
  upstreamUrl = upstreamUrlFromEnv(process.env['UPSTREAM_URL']);
  heartbeat = heartbeatFromEnv(process.env['SOCKETIO_PING_INTERVAL_MS'], process.env['SOCKETIO_PING_TIMEOUT_MS']);
} catch (error) {
  process.stderr.write(`${NAME}: ${describeError(error)}\n`);
  process.exit(1);
}

/** The transports this stack accepts; bun-engine itself would also take `polling`. */
const TRANSPORTS = ['websocket'];

const options = ioOptions(heartbeat);
const engine = new Engine({
  path: options.path,
  pingInterval: options.pingInterval,
  pingTimeout: options.pingTimeout,
  maxHttpBufferSize: options.maxHttpBufferSize,
});
// The Socket.IO options that are not the engine's (serveClient, connectTimeout, ...) as on the Node stacks.
const io = new Server(options);
io.bind(engine);
mountContract(io, {
  upstreamUrl,
  connectUpstream: (url) => new WebSocket(url) as UpstreamSocket,
  // No mayDeliver: Bun drops above backpressureLimit itself.
});

let shuttingDown = false;
const sessions = trackSessions(io, () => exitIfDrained());

/** bun-engine's WebSocket callbacks with bare bun's settings (servers/bun.ts); the ready line reports this object. */
const websocket = {
  maxPayloadLength: MAX_PAYLOAD_BYTES,
  backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
  closeOnBackpressureLimit: false,
  idleTimeout: IDLE_TIMEOUT_SEC,
  perMessageDeflate: false,
  sendPings: false,
  open: (ws) => engine.onWebSocketOpen(ws),
  message: (ws, message) => engine.onWebSocketMessage(ws, message),
  close: (ws, code, reason) => engine.onWebSocketClose(ws, code, reason),
} satisfies BunWebSocketHandler<unknown>;

/** engine.io's answer to an unknown transport (Server.errors.UNKNOWN_TRANSPORT). */
function unknownTransport(): Response {
  return new Response(JSON.stringify({ code: 0, message: 'Transport unknown' }), {
    status: 400,
    headers: { 'content-type': 'application/json' },
  });
}

let server: BunServer;
try {
  server = bun.serve<unknown>({
    hostname: address.host,
    port: address.port,
    fetch(request, server) {
      const url = new URL(request.url);
      if (url.pathname === HEALTH_PATH) return new Response(HEALTH_BODY, { status: HTTP_OK });
      if (url.pathname !== STACK_SETTINGS.path || shuttingDown) return new Response(NOT_FOUND_BODY, { status: HTTP_NOT_FOUND });
      if (!TRANSPORTS.includes(url.searchParams.get('transport') ?? '')) return unknownTransport();
      return engine.handleRequest(request, server);
    },
    websocket,
  });
} catch (error) {
  process.stderr.write(`${NAME}: cannot listen on ${address.host}:${address.port}: ${describeError(error)}\n`);
  process.exit(1);
}

// Bun.serve exposes no getter for its WebSocket settings: report the object it was given.
const settings: ParityManifest = {
  maxPayloadBytes: websocket.maxPayloadLength,
  perMessageDeflate: websocket.perMessageDeflate,
  idleTimeoutSec: websocket.idleTimeout,
  backpressureLimitBytes: websocket.backpressureLimit,
  backpressurePolicy: BACKPRESSURE_POLICY, // closeOnBackpressureLimit: false
  publishToSelf: true, // nsp.to(room).emit includes the sender
  autoPing: websocket.sendPings,
};

process.stdout.write(
  formatStackReadyLine({
    runtime: 'bun',
    runtimeVersion: bun.version,
    library: 'socket.io',
    libraryVersion: socketIo.version,
    pid: process.pid,
    host: server.hostname,
    port: server.port,
    settings,
    relay: relayInfo(upstreamUrl, 'bun', bun.version, RELAY_CONNECT_TIMEOUT_MS),
    stack: {
      framework: 'socket.io',
      frameworkVersion: socketIo.version,
      engine: '@socket.io/bun-engine',
      engineVersion: bunEngine.version,
      websocketLibrary: 'bun',
      websocketLibraryVersion: bun.version,
      backpressure: 'library',
      settings: readStackSettings(engine.opts, io._opts, TRANSPORTS),
    },
  }) + '\n',
);

function exitIfDrained(): void {
  if (shuttingDown && sessions.open === 0) process.exit(0);
}

/** As node-socketio: stop listening, `io.close()`, exit once the last Engine.IO session is gone. */
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`${NAME}: ${sessions.open} session(s) still closing after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  void server.stop();
  void io.close();
  exitIfDrained();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
