/**
 * The Socket.IO stack on Node, on Socket.IO's default engine: `node:http`
 * plus `socket.io` (engine.io on ws underneath, the same ws as node-ws). See
 * servers/CONTRACT.md, "Stacks", for the mapping of the contract onto
 * Socket.IO; socketio-common.ts mounts it.
 *
 * ws has no backpressure limit, so this file applies the contract's rule by
 * hand, as node-ws does: a message goes to a socket only while that socket's
 * buffered bytes are at most 1 MiB (see bufferedBytes for what is counted).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server, type Socket } from 'socket.io';
import { WebSocket } from 'ws';
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  MAX_PAYLOAD_BYTES,
  RELAY_CONNECT_TIMEOUT_MS,
  SOCKETIO_PATH,
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
  mayBufferMore,
  relayInfo,
  upstreamUrlFromEnv,
  type ListenAddress,
} from './common.js';
import { heartbeatFromEnv, ioOptions, mountContract, readStackSettings, resolvedPackage, trackSessions, type Heartbeat, type UpstreamSocket } from './socketio-common.js';

const NAME = 'node-socketio';
const socketIo = resolvedPackage('socket.io');
const engineIo = resolvedPackage('engine.io', socketIo.entry);
const ws = resolvedPackage('ws', engineIo.entry);
const wsClient = resolvedPackage('ws');
if (ws.entry !== wsClient.entry) {
  // bufferedBytes recognises engine.io's sockets with `instanceof` this file's ws; another copy would defeat it.
  process.stderr.write(`${NAME}: engine.io uses ws ${ws.version} at ${ws.entry}, this server ws ${wsClient.version} at ${wsClient.entry}; they must be one copy\n`);
  process.exit(1);
}

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

/** One packet in engine.io's per-session write queue. */
interface QueuedPacket {
  data?: string | Buffer;
}

/** How much of a session's write queue has been counted (see queuedBytes). */
interface QueueCount {
  queue: readonly QueuedPacket[] | undefined;
  counted: number;
  bytes: number;
}

const queueCounts = new WeakMap<object, QueueCount>();
const NO_PACKETS: readonly QueuedPacket[] = [];

/**
 * Bytes engine.io holds for a session that ws has not been given yet.
 * engine.io hands packets to ws only while its transport is `writable`, which
 * it is not from a send until ws's write callback: meanwhile packets wait in
 * the session's `writeBuffer` (declared private in engine.io's typings, read
 * here without changing it). That queue is replaced by a new array on every
 * flush and only appended to in between, so its bytes are counted
 * incrementally: O(1) per check however long the queue grows. Text counts in
 * UTF-16 units (bytes for the ASCII JSON bench sends), as the relay's queue.
 */
function queuedBytes(conn: object): number {
  const raw: unknown = Reflect.get(conn, 'writeBuffer');
  const queue: readonly QueuedPacket[] = Array.isArray(raw) ? raw : NO_PACKETS;
  let count = queueCounts.get(conn);
  if (count === undefined) {
    count = { queue, counted: 0, bytes: 0 };
    queueCounts.set(conn, count);
  } else if (count.queue !== queue) {
    count.queue = queue;
    count.counted = 0;
    count.bytes = 0;
  }
  for (let i = count.counted; i < queue.length; i++) {
    const data = queue[i]!.data;
    count.bytes += 1 + (data === undefined ? 0 : typeof data === 'string' ? data.length : data.byteLength);
  }
  count.counted = queue.length;
  return count.bytes;
}

/**
 * A session's buffered bytes for the contract's rule: ws's `bufferedAmount`
 * (given to ws, not yet to the kernel, as node-ws counts) plus engine.io's
 * queue in front of it, which only exists while the transport waits on a write.
 */
function bufferedBytes(socket: Socket): number {
  const conn = socket.conn;
  // engine.io keeps the session's ws socket on its upgrade request (`req.websocket`, typed in its EngineRequest).
  const websocket: unknown = Reflect.get(conn.request, 'websocket');
  const bytes = websocket instanceof WebSocket ? websocket.bufferedAmount : 0;
  return conn.transport.writable ? bytes : bytes + queuedBytes(conn);
}

const io = new Server(ioOptions(heartbeat));

mountContract(io, {
  upstreamUrl,
  connectUpstream: (url) => new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES }) as UpstreamSocket,
  mayDeliver: (socket) => mayBufferMore(bufferedBytes(socket)),
});

let shuttingDown = false;

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === HEALTH_PATH) res.writeHead(HTTP_OK, { 'content-type': 'text/plain' }).end(HEALTH_BODY);
  else res.writeHead(HTTP_NOT_FOUND, { 'content-type': 'text/plain' }).end(NOT_FOUND_BODY);
});

// engine.io answers requests under SOCKETIO_PATH and hands the rest to the listener above. Upgrades elsewhere
// get a 404 here instead of engine.io's default (holding the socket for a second, then ending it).
io.attach(server, { destroyUpgrade: false });
const sessions = trackSessions(io, () => exitIfDrained());
server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
  if ((req.url ?? '/').startsWith(SOCKETIO_PATH)) return;
  socket.end(`HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: ${NOT_FOUND_BODY.length}\r\n\r\n${NOT_FOUND_BODY}`);
});

server.on('error', (error) => {
  process.stderr.write(`${NAME}: ${describeError(error)}\n`);
  process.exit(1);
});

server.listen(address.port, address.host, () => {
  const bound = server.address() as AddressInfo;
  const engineOpts = io.engine.opts;
  const settings: ParityManifest = {
    // engine.io gives ws maxHttpBufferSize as its maxPayload.
    maxPayloadBytes: engineOpts.maxHttpBufferSize ?? Number.NaN,
    perMessageDeflate: engineOpts.perMessageDeflate !== undefined && engineOpts.perMessageDeflate !== false,
    idleTimeoutSec: 0, // ws has no idle timeout
    backpressureLimitBytes: BACKPRESSURE_LIMIT_BYTES,
    backpressurePolicy: BACKPRESSURE_POLICY,
    publishToSelf: true, // nsp.to(room).emit includes the sender
    autoPing: false, // ws sends no WebSocket pings; the Engine.IO heartbeat is stack.settings
  };
  process.stdout.write(
    formatStackReadyLine({
      runtime: 'node',
      runtimeVersion: process.versions.node,
      library: 'socket.io',
      libraryVersion: socketIo.version,
      pid: process.pid,
      host: bound.address,
      port: bound.port,
      settings,
      relay: relayInfo(upstreamUrl, 'ws', wsClient.version, RELAY_CONNECT_TIMEOUT_MS),
      stack: {
        framework: 'socket.io',
        frameworkVersion: socketIo.version,
        engine: 'engine.io',
        engineVersion: engineIo.version,
        websocketLibrary: 'ws',
        websocketLibraryVersion: ws.version,
        backpressure: 'by-hand',
        settings: readStackSettings(engineOpts, io._opts),
      },
    }) + '\n',
  );
});

function exitIfDrained(): void {
  if (shuttingDown && sessions.open === 0) process.exit(0);
}

/**
 * Stops listening and closes every session the way Socket.IO shuts down
 * (`io.close()`: each socket is closed as "server shutting down", each
 * Engine.IO session's WebSocket closed by engine.io), then exits once the last
 * session is gone.
 */
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`${NAME}: ${sessions.open} session(s) still closing after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  void io.close();
  server.closeIdleConnections();
  exitIfDrained();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
