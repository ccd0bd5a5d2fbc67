/**
 * The contract server on Bun: `Bun.serve` with `server.upgrade`, topics via
 * `ws.subscribe` and `server.publish`. See servers/CONTRACT.md.
 *
 * Bun applies every contract setting natively (its WebSockets are built on
 * uWebSockets); `backpressureLimit` is the same drop-when-over-the-limit check.
 * /relay's upstream leg uses Bun's global WebSocket client.
 */
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  IDLE_TIMEOUT_SEC,
  MAX_PAYLOAD_BYTES,
  RELAY_CONNECT_TIMEOUT_MS,
  type ParityManifest,
} from './settings.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  HEALTH_BODY,
  HTTP_NOT_FOUND,
  HTTP_OK,
  HTTP_SERVICE_UNAVAILABLE,
  HTTP_UPGRADE_REQUIRED,
  NOT_FOUND_BODY,
  SERVICE_UNAVAILABLE_BODY,
  SHUTDOWN_FALLBACK_MS,
  UPGRADE_REQUIRED_BODY,
  describeError,
  formatReadyLine,
  listenAddressFromEnv,
  mayBufferMore,
  queuedSize,
  relayCloseCodeFor,
  relayInfo,
  roomFromQuery,
  routeOf,
  sessionFromQuery,
  upstreamUrlFor,
  upstreamUrlFromEnv,
  type ListenAddress,
} from './common.js';

const bun: BunGlobal =
  globalThis.Bun ??
  (() => {
    throw new Error('dist/servers/bun.js must be run by Bun');
  })();

let address: ListenAddress;
let upstreamUrl: string | null;
try {
  address = listenAddressFromEnv(process.env['PORT'], process.env['HOST']);
  upstreamUrl = upstreamUrlFromEnv(process.env['UPSTREAM_URL']);
} catch (error) {
  process.stderr.write(`bun: ${describeError(error)}\n`);
  process.exit(1);
}

/** One /relay session's upstream leg, and the client messages that arrived while it was connecting. */
interface RelayLeg {
  upstream: WebSocket;
  /** undefined once the leg is open. */
  pending: (string | Uint8Array)[] | undefined;
  pendingBytes: number;
  clientOpen: boolean;
}

/** `room` is set for /broadcast connections, `session` (and from `open`, `relay`) for /relay ones; /echo has neither. */
interface SocketData {
  room?: string;
  session?: string;
  relay?: RelayLeg;
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
    if (ws.data.session !== undefined) ws.data.relay = openUpstream(ws, ws.data.session);
  },
  message(ws, message) {
    // send() and publish() apply backpressureLimit per recipient and drop above it.
    const relay = ws.data.relay;
    if (relay !== undefined) {
      if (relay.pending === undefined) sendUpstream(relay.upstream, message);
      else if (mayBufferMore(relay.pendingBytes)) {
        relay.pending.push(message);
        relay.pendingBytes += queuedSize(message);
      }
    } else if (ws.data.room === undefined) ws.send(message);
    else server.publish(ws.data.room, message);
  },
  close(ws) {
    sockets.delete(ws);
    const relay = ws.data.relay;
    if (relay !== undefined) {
      relay.clientOpen = false;
      relay.upstream.close(CLOSE_NORMAL); // still connecting: the attempt is abandoned
    }
    if (shuttingDown && sockets.size === 0) process.exit(0);
  },
} satisfies BunWebSocketHandler<SocketData>;

/** The contract's rule on the upstream leg, by hand: the client WebSocket has no backpressure limit. */
function sendUpstream(upstream: WebSocket, data: string | Uint8Array): void {
  if (upstream.readyState === WebSocket.OPEN && mayBufferMore(upstream.bufferedAmount)) upstream.send(data);
}

/**
 * /relay, once the client is open: opens this session's upstream leg; client
 * messages wait in `pending` until it is open (the contract's 1 MiB rule
 * applies to the queue). See servers/CONTRACT.md.
 */
function openUpstream(ws: BunServerWebSocket<SocketData>, session: string): RelayLeg {
  const upstream = new WebSocket(upstreamUrlFor(upstreamUrl!, session));
  const leg: RelayLeg = { upstream, pending: [], pendingBytes: 0, clientOpen: true };
  const timer = setTimeout(() => upstream.close(), RELAY_CONNECT_TIMEOUT_MS);
  upstream.onopen = () => {
    clearTimeout(timer);
    const queued = leg.pending ?? [];
    leg.pending = undefined;
    for (const data of queued) sendUpstream(upstream, data);
  };
  // Binary arrives as a Buffer (Bun's default binaryType "nodebuffer"), text as a string; both are sent on as they are.
  upstream.onmessage = (event: MessageEvent) => {
    if (leg.clientOpen) ws.send(event.data as string | Uint8Array);
  };
  upstream.onclose = (event: { code: number }) => {
    clearTimeout(timer);
    if (leg.clientOpen) ws.close(relayCloseCodeFor(event.code));
  };
  upstream.onerror = () => {}; // followed by a close event
  return leg;
}

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
        case 'relay':
          if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return upgradeRequired();
          if (upstreamUrl === null) return new Response(SERVICE_UNAVAILABLE_BODY, { status: HTTP_SERVICE_UNAVAILABLE });
          if (server.upgrade<SocketData>(request, { data: { session: sessionFromQuery(url.search) } })) return undefined;
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
    relay: relayInfo(upstreamUrl, 'bun', bun.version, RELAY_CONNECT_TIMEOUT_MS),
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
