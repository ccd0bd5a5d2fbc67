/**
 * The contract server on Deno: `Deno.serve` plus `Deno.upgradeWebSocket`.
 * See servers/CONTRACT.md.
 *
 * Deno's WebSocket has no rooms, no max-payload option and no backpressure
 * limit, so this file keeps the rooms, closes with 1009 above the contract's
 * max payload, and applies the backpressure rule with `bufferedAmount`.
 * /relay's upstream leg uses Deno's global WebSocket client.
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
  CLOSE_MESSAGE_TOO_BIG,
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

const deno: DenoGlobal =
  globalThis.Deno ??
  (() => {
    throw new Error('dist/servers/deno.js must be run by Deno');
  })();

let address: ListenAddress;
let upstreamUrl: string | null;
try {
  address = listenAddressFromEnv(deno.env.get('PORT'), deno.env.get('HOST'));
  upstreamUrl = upstreamUrlFromEnv(deno.env.get('UPSTREAM_URL'));
} catch (error) {
  console.error(`deno: ${describeError(error)}`);
  deno.exit(1);
}

const upgradeOptions = { idleTimeout: IDLE_TIMEOUT_SEC };

const sockets = new Set<WebSocket>();
const rooms = new Map<string, Set<WebSocket>>();
let shuttingDown = false;

/** UTF-8 length of a string, computed only when it could exceed the limit (at most 3 bytes per UTF-16 unit). */
function exceedsMaxPayload(data: string | ArrayBuffer): boolean {
  if (typeof data !== 'string') return data.byteLength > MAX_PAYLOAD_BYTES;
  if (data.length * 3 <= MAX_PAYLOAD_BYTES) return false;
  return new TextEncoder().encode(data).byteLength > MAX_PAYLOAD_BYTES;
}

/** Sends unless the recipient already buffers more than the limit (the contract's drop policy). */
function sendChecked(socket: WebSocket, data: string | ArrayBuffer): void {
  if (socket.readyState === WebSocket.OPEN && mayBufferMore(socket.bufferedAmount)) socket.send(data);
}

function accept(socket: WebSocket, room: string | undefined): void {
  socket.binaryType = 'arraybuffer';
  let members: Set<WebSocket> | undefined;
  socket.onopen = () => {
    sockets.add(socket);
    if (room === undefined) return;
    members = rooms.get(room);
    if (members === undefined) {
      members = new Set();
      rooms.set(room, members);
    }
    members.add(socket);
  };
  socket.onmessage = (event: MessageEvent) => {
    const data = event.data as string | ArrayBuffer;
    // Deno has no max-payload setting (its own cap is far higher), so the contract's limit is enforced here.
    if (exceedsMaxPayload(data)) {
      socket.close(CLOSE_MESSAGE_TOO_BIG, 'message too big');
      return;
    }
    if (members === undefined) sendChecked(socket, data);
    else for (const member of members) sendChecked(member, data);
  };
  socket.onclose = () => {
    sockets.delete(socket);
    if (room !== undefined && members !== undefined) {
      members.delete(socket);
      if (members.size === 0 && rooms.get(room) === members) rooms.delete(room);
    }
    if (shuttingDown && sockets.size === 0) deno.exit(0);
  };
  // Errors are followed by a close event; the close frame already tells the client why.
  socket.onerror = () => {};
}

/**
 * /relay, once the client is open: opens this session's upstream leg, queues
 * client messages until it is open (the contract's 1 MiB rule applies to the
 * queue), then forwards both ways. See servers/CONTRACT.md.
 */
function acceptRelay(socket: WebSocket, session: string): void {
  socket.binaryType = 'arraybuffer';
  let upstream: WebSocket | undefined;
  let pending: (string | ArrayBuffer)[] | undefined = [];
  let pendingBytes = 0;
  socket.onopen = () => {
    sockets.add(socket);
    const leg = new WebSocket(upstreamUrlFor(upstreamUrl!, session));
    upstream = leg;
    leg.binaryType = 'arraybuffer';
    const timer = setTimeout(() => leg.close(), RELAY_CONNECT_TIMEOUT_MS);
    leg.onopen = () => {
      clearTimeout(timer);
      const queued = pending ?? [];
      pending = undefined;
      for (const data of queued) sendChecked(leg, data);
    };
    leg.onmessage = (event: MessageEvent) => sendChecked(socket, event.data as string | ArrayBuffer);
    leg.onclose = (event: { code: number }) => {
      clearTimeout(timer);
      if (socket.readyState === WebSocket.OPEN) socket.close(relayCloseCodeFor(event.code));
    };
    leg.onerror = () => {}; // followed by a close event
  };
  socket.onmessage = (event: MessageEvent) => {
    const data = event.data as string | ArrayBuffer;
    if (exceedsMaxPayload(data)) {
      socket.close(CLOSE_MESSAGE_TOO_BIG, 'message too big');
      return;
    }
    if (pending === undefined) sendChecked(upstream!, data);
    else if (mayBufferMore(pendingBytes)) {
      pending.push(data);
      pendingBytes += queuedSize(data);
    }
  };
  socket.onclose = () => {
    sockets.delete(socket);
    upstream?.close(CLOSE_NORMAL); // still connecting: the attempt is abandoned
    if (shuttingDown && sockets.size === 0) deno.exit(0);
  };
  socket.onerror = () => {};
}

function isUpgrade(request: Request): boolean {
  return request.headers.get('upgrade')?.toLowerCase() === 'websocket';
}

function upgradeRequired(): Response {
  return new Response(UPGRADE_REQUIRED_BODY, { status: HTTP_UPGRADE_REQUIRED, headers: { upgrade: 'websocket' } });
}

function handle(request: Request): Response {
  const url = new URL(request.url);
  const route = routeOf(url.pathname);
  switch (route) {
    case 'health':
      return new Response(HEALTH_BODY, { status: HTTP_OK });
    case 'unknown':
      return new Response(NOT_FOUND_BODY, { status: HTTP_NOT_FOUND });
    case 'relay': {
      if (!isUpgrade(request)) return upgradeRequired();
      if (upstreamUrl === null) return new Response(SERVICE_UNAVAILABLE_BODY, { status: HTTP_SERVICE_UNAVAILABLE });
      const { socket, response } = deno.upgradeWebSocket(request, upgradeOptions);
      acceptRelay(socket, sessionFromQuery(url.search));
      return response;
    }
    case 'echo':
    case 'broadcast': {
      if (!isUpgrade(request)) return upgradeRequired();
      const { socket, response } = deno.upgradeWebSocket(request, upgradeOptions);
      accept(socket, route === 'broadcast' ? roomFromQuery(url.search) : undefined);
      return response;
    }
  }
}

let server: DenoHttpServer;
try {
  server = deno.serve(
    {
      hostname: address.host,
      port: address.port,
      onListen: (bound) => {
        // Deno exposes no getter for a WebSocket's settings: report what this file applies.
        const settings: ParityManifest = {
          maxPayloadBytes: MAX_PAYLOAD_BYTES, // enforced in onmessage
          perMessageDeflate: false, // Deno's server never negotiates permessage-deflate
          idleTimeoutSec: upgradeOptions.idleTimeout,
          backpressureLimitBytes: BACKPRESSURE_LIMIT_BYTES, // enforced in sendChecked
          backpressurePolicy: BACKPRESSURE_POLICY,
          publishToSelf: true, // every member, the sender included
          autoPing: false, // Deno pings only to enforce idleTimeout, which is off
        };
        console.log(
          formatReadyLine({
            runtime: 'deno',
            runtimeVersion: deno.version.deno,
            library: 'deno',
            libraryVersion: deno.version.deno,
            pid: deno.pid,
            host: bound.hostname,
            port: bound.port,
            settings,
            relay: relayInfo(upstreamUrl, 'deno', deno.version.deno, RELAY_CONNECT_TIMEOUT_MS),
          }),
        );
      },
    },
    handle,
  );
} catch (error) {
  console.error(`deno: cannot listen on ${address.host}:${address.port}: ${describeError(error)}`);
  deno.exit(1);
}

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    console.error(`deno: ${sockets.size} connection(s) still open after ${SHUTDOWN_FALLBACK_MS} ms; exiting`);
    deno.exit(0);
  }, SHUTDOWN_FALLBACK_MS);
  void server.shutdown();
  for (const socket of sockets) socket.close(CLOSE_GOING_AWAY, 'server shutting down');
  if (sockets.size === 0) deno.exit(0);
}

deno.addSignalListener('SIGTERM', shutdown);
deno.addSignalListener('SIGINT', shutdown);
