/**
 * The contract server on Bun: `Bun.serve` with `server.upgrade`, topics via
 * `ws.subscribe` and `server.publish`. See servers/CONTRACT.md.
 *
 * Bun applies every contract setting natively (its WebSockets are built on
 * uWebSockets); `backpressureLimit` is the same drop-when-over-the-limit check.
 */
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  IDLE_TIMEOUT_SEC,
  MAX_PAYLOAD_BYTES,
  type ParityManifest,
} from './settings.js';
import {
  CLOSE_GOING_AWAY,
  HEALTH_BODY,
  HTTP_NOT_FOUND,
  HTTP_OK,
  HTTP_UPGRADE_REQUIRED,
  NOT_FOUND_BODY,
  SHUTDOWN_FALLBACK_MS,
  UPGRADE_REQUIRED_BODY,
  describeError,
  formatReadyLine,
  listenAddressFromEnv,
  roomFromQuery,
  routeOf,
  type ListenAddress,
} from './common.js';

const bun: BunGlobal =
  globalThis.Bun ??
  (() => {
    throw new Error('dist/servers/bun.js must be run by Bun');
  })();

let address: ListenAddress;
try {
  address = listenAddressFromEnv(process.env['PORT'], process.env['HOST']);
} catch (error) {
  process.stderr.write(`bun: ${describeError(error)}\n`);
  process.exit(1);
}

/** `room` is set for /broadcast connections and absent for /echo ones. */
interface SocketData {
  room?: string;
}

const sockets = new Set<BunServerWebSocket<SocketData>>();
let shuttingDown = false;

const websocket = {
  maxPayloadLength: MAX_PAYLOAD_BYTES,
  backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
  closeOnBackpressureLimit: false,
  idleTimeout: IDLE_TIMEOUT_SEC,
  perMessageDeflate: false,
  sendPings: false,
  // Only affects ws.publish(); server.publish() below includes the sender regardless.
  publishToSelf: true,
  open(ws) {
    sockets.add(ws);
    if (ws.data.room !== undefined) ws.subscribe(ws.data.room);
  },
  message(ws, message) {
    // send() and publish() apply backpressureLimit per recipient and drop above it.
    if (ws.data.room === undefined) ws.send(message);
    else server.publish(ws.data.room, message);
  },
  close(ws) {
    sockets.delete(ws);
    if (shuttingDown && sockets.size === 0) process.exit(0);
  },
} satisfies BunWebSocketHandler<SocketData>;

let server: BunServer;
try {
  server = bun.serve<SocketData>({
    hostname: address.host,
    port: address.port,
    fetch(request, server) {
      const url = new URL(request.url);
      switch (routeOf(url.pathname)) {
        case 'health':
          return new Response(HEALTH_BODY, { status: HTTP_OK });
        case 'echo':
          if (server.upgrade<SocketData>(request, { data: {} })) return undefined;
          return upgradeRequired();
        case 'broadcast':
          if (server.upgrade<SocketData>(request, { data: { room: roomFromQuery(url.search) } })) return undefined;
          return upgradeRequired();
        case 'unknown':
          return new Response(NOT_FOUND_BODY, { status: HTTP_NOT_FOUND });
      }
    },
    websocket,
  });
} catch (error) {
  process.stderr.write(`bun: cannot listen on ${address.host}:${address.port}: ${describeError(error)}\n`);
  process.exit(1);
}

function upgradeRequired(): Response {
  return new Response(UPGRADE_REQUIRED_BODY, { status: HTTP_UPGRADE_REQUIRED, headers: { upgrade: 'websocket' } });
}

// Bun.serve exposes no getter for its WebSocket settings: report the object it was given.
const settings: ParityManifest = {
  maxPayloadBytes: websocket.maxPayloadLength,
  perMessageDeflate: websocket.perMessageDeflate,
  idleTimeoutSec: websocket.idleTimeout,
  backpressureLimitBytes: websocket.backpressureLimit,
  backpressurePolicy: BACKPRESSURE_POLICY, // closeOnBackpressureLimit: false
  publishToSelf: true, // server.publish includes the sender
  autoPing: websocket.sendPings,
};

process.stdout.write(
  formatReadyLine({
    runtime: 'bun',
    runtimeVersion: bun.version,
    library: 'bun',
    libraryVersion: bun.version,
    pid: process.pid,
    host: server.hostname,
    port: server.port,
    settings,
  }) + '\n',
);

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`bun: ${sockets.size} connection(s) still open after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  void server.stop();
  for (const ws of sockets) ws.close(CLOSE_GOING_AWAY);
  if (sockets.size === 0) process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
