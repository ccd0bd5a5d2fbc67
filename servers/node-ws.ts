/**
 * The contract server on Node: `node:http` plus ws's WebSocketServer in
 * noServer mode. See servers/CONTRACT.md for what every server must do.
 *
 * ws has no rooms, no idle timeout, no automatic pings and no backpressure
 * limit, so this file keeps the rooms and applies the backpressure rule itself.
 * Node 20 has no WebSocket client of its own, so /relay's upstream leg uses
 * ws's client (the same library as the server side).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
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
  type ListenAddress,
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
} from './common.js';

const require = createRequire(import.meta.url);
const wsVersion = (require('ws/package.json') as { version: string }).version;

let address: ListenAddress;
let upstreamUrl: string | null;
try {
  address = listenAddressFromEnv(process.env['PORT'], process.env['HOST']);
  upstreamUrl = upstreamUrlFromEnv(process.env['UPSTREAM_URL']);
} catch (error) {
  process.stderr.write(`node-ws: ${describeError(error)}\n`);
  process.exit(1);
}

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: MAX_PAYLOAD_BYTES,
  perMessageDeflate: false,
  clientTracking: true,
});

const rooms = new Map<string, Set<WebSocket>>();
let shuttingDown = false;

/** Sends unless the recipient already buffers more than the limit (the contract's drop policy). */
function sendChecked(ws: WebSocket, data: RawData, isBinary: boolean): void {
  if (ws.readyState === WebSocket.OPEN && mayBufferMore(ws.bufferedAmount)) {
    ws.send(data, { binary: isBinary });
  }
}

function join(ws: WebSocket, room: string): void {
  let members = rooms.get(room);
  if (members === undefined) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    // Iterate the live set: a member that closed mid-loop is skipped by sendChecked.
    for (const member of members) sendChecked(member, data, isBinary);
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0 && rooms.get(room) === members) rooms.delete(room);
  });
}

/** A plain HTTP answer written on a socket that asked to upgrade. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
}

/**
 * /relay, once the client is accepted: opens this session's upstream leg,
 * queues client messages until it is open (the contract's 1 MiB rule applies
 * to the queue), then forwards both ways. See servers/CONTRACT.md.
 */
function relay(ws: WebSocket, session: string): void {
  const upstream = new WebSocket(upstreamUrlFor(upstreamUrl!, session), { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES });
  let pending: { data: Buffer; isBinary: boolean }[] | undefined = [];
  let pendingBytes = 0;
  const timer = setTimeout(() => upstream.terminate(), RELAY_CONNECT_TIMEOUT_MS);
  upstream.on('error', () => {}); // followed by 'close'
  upstream.once('open', () => {
    clearTimeout(timer);
    const queued = pending ?? [];
    pending = undefined;
    for (const m of queued) sendChecked(upstream, m.data, m.isBinary);
  });
  upstream.on('message', (data: RawData, isBinary: boolean) => sendChecked(ws, data, isBinary));
  upstream.on('close', (code: number) => {
    clearTimeout(timer);
    ws.close(relayCloseCodeFor(code));
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (pending === undefined) sendChecked(upstream, data, isBinary);
    else if (mayBufferMore(pendingBytes)) {
      pending.push({ data, isBinary });
      pendingBytes += queuedSize(data);
    }
  });
  ws.on('close', () => upstream.close(CLOSE_NORMAL)); // still connecting: ws abandons the handshake
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  switch (routeOf(url.pathname)) {
    case 'health':
      res.writeHead(HTTP_OK, { 'content-type': 'text/plain' }).end(HEALTH_BODY);
      return;
    case 'echo':
    case 'broadcast':
    case 'relay':
      res.writeHead(HTTP_UPGRADE_REQUIRED, { 'content-type': 'text/plain', upgrade: 'websocket' }).end(UPGRADE_REQUIRED_BODY);
      return;
    case 'unknown':
      res.writeHead(HTTP_NOT_FOUND, { 'content-type': 'text/plain' }).end(NOT_FOUND_BODY);
      return;
  }
});

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = routeOf(url.pathname);
  if (shuttingDown || (route !== 'echo' && route !== 'broadcast' && route !== 'relay')) {
    refuseUpgrade(socket, HTTP_NOT_FOUND, 'Not Found', NOT_FOUND_BODY);
    return;
  }
  if (route === 'relay' && upstreamUrl === null) {
    refuseUpgrade(socket, HTTP_SERVICE_UNAVAILABLE, 'Service Unavailable', SERVICE_UNAVAILABLE_BODY);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    // Without a listener ws rethrows protocol errors (bad UTF-8, oversize); it has already sent the close frame.
    ws.on('error', () => {});
    if (route === 'echo') {
      ws.on('message', (data, isBinary) => sendChecked(ws, data, isBinary));
    } else if (route === 'relay') {
      relay(ws, sessionFromQuery(url.search));
    } else {
      join(ws, roomFromQuery(url.search));
    }
    ws.on('close', exitIfDrained);
  });
});

server.on('error', (error) => {
  process.stderr.write(`node-ws: ${describeError(error)}\n`);
  process.exit(1);
});

server.listen(address.port, address.host, () => {
  const bound = server.address() as AddressInfo;
  // Read back from the WebSocketServer where it keeps the value; the rest is what this file applies.
  const settings: ParityManifest = {
    maxPayloadBytes: wss.options.maxPayload ?? Number.NaN,
    perMessageDeflate: wss.options.perMessageDeflate !== false,
    idleTimeoutSec: 0, // ws has no idle timeout
    backpressureLimitBytes: BACKPRESSURE_LIMIT_BYTES,
    backpressurePolicy: BACKPRESSURE_POLICY,
    publishToSelf: true, // join() sends to every member, the sender included
    autoPing: false, // ws never pings on its own
  };
  process.stdout.write(
    formatReadyLine({
      runtime: 'node',
      runtimeVersion: process.versions.node,
      library: 'ws',
      libraryVersion: wsVersion,
      pid: process.pid,
      host: bound.address,
      port: bound.port,
      settings,
      relay: relayInfo(upstreamUrl, 'ws', wsVersion, RELAY_CONNECT_TIMEOUT_MS),
    }) + '\n',
  );
});

function exitIfDrained(): void {
  if (shuttingDown && wss.clients.size === 0) process.exit(0);
}

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`node-ws: ${wss.clients.size} connection(s) still closing after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  server.close();
  server.closeIdleConnections();
  for (const ws of wss.clients) {
    // After a protocol error (1002/1007/1009) ws has sent its close frame, stopped reading and waits
    // up to 30 s for the peer's; that close frame is already on the wire, so nothing is lost by ending now.
    if (ws.readyState === WebSocket.CLOSING) ws.terminate();
    else ws.close(CLOSE_GOING_AWAY);
  }
  exitIfDrained();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
