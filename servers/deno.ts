/**
 * The contract server on Deno: `Deno.serve` plus `Deno.upgradeWebSocket`.
 * See servers/CONTRACT.md.
 *
 * Deno's WebSocket has no rooms, no max-payload option and no backpressure
 * limit, so this file keeps the rooms, closes with 1009 above the contract's
 * max payload, and applies the backpressure rule with `bufferedAmount`.
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
  CLOSE_MESSAGE_TOO_BIG,
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
  mayBufferMore,
  roomFromQuery,
  routeOf,
  type ListenAddress,
} from './common.js';

const deno: DenoGlobal =
  globalThis.Deno ??
  (() => {
    throw new Error('dist/servers/deno.js must be run by Deno');
  })();

let address: ListenAddress;
try {
  address = listenAddressFromEnv(deno.env.get('PORT'), deno.env.get('HOST'));
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

function handle(request: Request): Response {
  const url = new URL(request.url);
  const route = routeOf(url.pathname);
  switch (route) {
    case 'health':
      return new Response(HEALTH_BODY, { status: HTTP_OK });
    case 'unknown':
      return new Response(NOT_FOUND_BODY, { status: HTTP_NOT_FOUND });
    case 'echo':
    case 'broadcast': {
      if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
        return new Response(UPGRADE_REQUIRED_BODY, { status: HTTP_UPGRADE_REQUIRED, headers: { upgrade: 'websocket' } });
      }
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
