/**
 * The contract server on Node with uWebSockets.js (packaged as uws-pack):
 * `App().ws(...)` with topics and `app.publish`. See servers/CONTRACT.md.
 *
 * uWebSockets.js applies every contract setting natively; the backpressure
 * rule is its own `maxBackpressure` check with `closeOnBackpressureLimit: false`.
 * uWebSockets.js has no WebSocket client and Node 20 has none of its own, so
 * /relay's upstream leg uses the `ws` package's client (servers/CONTRACT.md).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';
import { WebSocket as WsClient, type RawData } from 'ws';
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  IDLE_TIMEOUT_SEC,
  MAX_PAYLOAD_BYTES,
  RELAY_CONNECT_TIMEOUT_MS,
  type ParityManifest,
} from './settings.js';
import {
  BROADCAST_PATH,
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  ECHO_PATH,
  HEALTH_BODY,
  HEALTH_PATH,
  NOT_FOUND_BODY,
  RELAY_PATH,
  SERVICE_UNAVAILABLE_BODY,
  SHUTDOWN_FALLBACK_MS,
  UPGRADE_REQUIRED_BODY,
  describeError,
  formatReadyLine,
  listenAddressFromEnv,
  mayBufferMore,
  relayCloseCodeFor,
  relayInfo,
  roomFromQuery,
  sessionFromQuery,
  upstreamUrlFor,
  upstreamUrlFromEnv,
  type ListenAddress,
} from './common.js';

/** The Node versions uws-pack 20.0.8 ships binaries for (ABIs 108, 115, 120, 127). */
const SUPPORTED_NODE = 'Node 18-22 (ABIs 108, 115, 120, 127)';

/**
 * Which uWebSockets.js build to load: bench sets BENCH_UWS_MODULE to the file URL of the ESM entry of the build
 * it resolved for this Node's ABI (core/runtime-versions); without it, the project's own uws-pack.
 */
const UWS_MODULE = process.env['BENCH_UWS_MODULE'] || 'uWebSockets.js';

let uws: typeof UWS;
try {
  uws = (await import(UWS_MODULE)) as typeof UWS;
} catch (error) {
  // uws-pack's message spans lines (a banner, then the require error and its stack); keep the require error.
  const lines = describeError(error).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const reason = lines.find((line) => /^\w*Error:/.test(line)) ?? lines[0] ?? 'unknown error';
  process.stderr.write(
    `node-uws: cannot load uWebSockets.js ${UWS_MODULE === 'uWebSockets.js' ? '' : `from ${UWS_MODULE} `}on Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}); ` +
      `${UWS_MODULE === 'uWebSockets.js' ? `it supports ${SUPPORTED_NODE}` : 'see `bench doctor`'}: ${reason}\n`,
  );
  process.exit(1);
}

/** Neither uws-pack nor the other repacks export their package.json: find the nearest one above the entry point. */
function libraryVersion(): string {
  let dir = new URL('.', import.meta.resolve(UWS_MODULE));
  for (let up = 0; up < 4; up++, dir = new URL('..', dir)) {
    let pkg: { name?: string; version?: string };
    try {
      pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
    } catch {
      continue;
    }
    if (pkg.name && pkg.version) return pkg.name === 'uWebSockets.js' ? pkg.version : `${pkg.version} (${pkg.name})`;
  }
  return 'unknown';
}

const wsVersion = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;

let address: ListenAddress;
let upstreamUrl: string | null;
try {
  address = listenAddressFromEnv(process.env['PORT'], process.env['HOST']);
  upstreamUrl = upstreamUrlFromEnv(process.env['UPSTREAM_URL']);
} catch (error) {
  process.stderr.write(`node-uws: ${describeError(error)}\n`);
  process.exit(1);
}

/** Per-connection data: uWebSockets.js's default upgrade attaches an empty object to /echo connections. */
type EchoData = Record<string, never>;
interface BroadcastData {
  room: string;
}
/** One /relay session's upstream leg (a ws client), and the client messages that arrived while it was connecting. */
interface RelayLeg {
  session: string;
  upstream: WsClient | undefined;
  /** undefined once the leg is open. */
  pending: { data: Buffer; isBinary: boolean }[] | undefined;
  pendingBytes: number;
  clientOpen: boolean;
}
/** uWebSockets.js copies the user data object given to res.upgrade, so the mutable leg sits one level down. */
interface RelayData {
  leg: RelayLeg;
}

/** uWS.DISABLED exists at runtime, but uws-pack's typings declare it only as a type. */
const COMPRESSION_DISABLED = (uws as unknown as { DISABLED: UWS.CompressOptions }).DISABLED;

/** Settings shared by both WebSocket routes; the ready line is built from this same object. */
const behavior = {
  maxPayloadLength: MAX_PAYLOAD_BYTES,
  maxBackpressure: BACKPRESSURE_LIMIT_BYTES,
  closeOnBackpressureLimit: false,
  idleTimeout: IDLE_TIMEOUT_SEC,
  compression: COMPRESSION_DISABLED,
  sendPingsAutomatically: false,
} satisfies UWS.WebSocketBehavior<unknown>;

const sockets = new Set<UWS.WebSocket<unknown>>();
let listenSocket: UWS.us_listen_socket | undefined;
let shuttingDown = false;

const app = uws.App();

app.ws<EchoData>(ECHO_PATH, {
  ...behavior,
  open: (ws) => void sockets.add(ws),
  // send() applies maxBackpressure itself: over the limit it drops and returns 2.
  message: (ws, message, isBinary) => void ws.send(message, isBinary),
  close: (ws) => onClose(ws),
});

app.ws<BroadcastData>(BROADCAST_PATH, {
  ...behavior,
  upgrade: (res, req, context) => {
    res.upgrade<BroadcastData>(
      { room: roomFromQuery(req.getQuery() ?? '') },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    sockets.add(ws);
    ws.subscribe(ws.getUserData().room);
  },
  // app.publish includes the sender; ws.publish would exclude it.
  message: (ws, message, isBinary) => void app.publish(ws.getUserData().room, message, isBinary),
  close: (ws) => onClose(ws),
});

/**
 * /relay, once the client is open: opens this session's upstream leg with ws's
 * client; client messages wait in `pending` until it is open (the contract's
 * 1 MiB rule applies to the queue). See servers/CONTRACT.md.
 */
function openUpstream(ws: UWS.WebSocket<RelayData>, leg: RelayLeg): void {
  const upstream = new WsClient(upstreamUrlFor(upstreamUrl!, leg.session), { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES });
  leg.upstream = upstream;
  const timer = setTimeout(() => upstream.terminate(), RELAY_CONNECT_TIMEOUT_MS);
  upstream.on('error', () => {}); // followed by 'close'
  upstream.once('open', () => {
    clearTimeout(timer);
    const queued = leg.pending ?? [];
    leg.pending = undefined;
    for (const m of queued) sendUpstream(upstream, m.data, m.isBinary);
  });
  // uWS's send copies, and drops above maxBackpressure.
  upstream.on('message', (data: RawData, isBinary: boolean) => {
    if (leg.clientOpen) ws.send(data as Buffer, isBinary);
  });
  upstream.on('close', (code: number) => {
    clearTimeout(timer);
    if (leg.clientOpen) ws.end(relayCloseCodeFor(code));
  });
}

/** The contract's rule on the upstream leg, by hand: ws's client has no backpressure limit. */
function sendUpstream(upstream: WsClient, data: ArrayBuffer | Buffer, isBinary: boolean): void {
  if (upstream.readyState === WsClient.OPEN && mayBufferMore(upstream.bufferedAmount)) upstream.send(data, { binary: isBinary });
}

app.ws<RelayData>(RELAY_PATH, {
  ...behavior,
  upgrade: (res, req, context) => {
    if (upstreamUrl === null) {
      res.writeStatus('503 Service Unavailable').end(SERVICE_UNAVAILABLE_BODY);
      return;
    }
    // Upgrade at once, inside this handler: uws-pack 20.0.8 can close a socket upgraded later from a
    // res.cork() callback (uNetworking/uWebSockets#1929), so the upstream leg opens after, not before.
    const leg: RelayLeg = { session: sessionFromQuery(req.getQuery() ?? ''), upstream: undefined, pending: [], pendingBytes: 0, clientOpen: true };
    res.upgrade<RelayData>(
      { leg },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    sockets.add(ws);
    openUpstream(ws, ws.getUserData().leg);
  },
  message: (ws, message, isBinary) => {
    const leg = ws.getUserData().leg;
    // `message` is only valid during this call: ws masks it into a new buffer synchronously (a client always masks),
    // and a queued message is copied.
    if (leg.pending === undefined) sendUpstream(leg.upstream!, message, isBinary);
    else if (mayBufferMore(leg.pendingBytes)) {
      leg.pending.push({ data: Buffer.from(message.slice(0)), isBinary });
      leg.pendingBytes += message.byteLength;
    }
  },
  close: (ws) => {
    const leg = ws.getUserData().leg;
    leg.clientOpen = false;
    leg.upstream?.close(CLOSE_NORMAL); // still connecting: ws abandons the handshake
    onClose(ws);
  },
});

app.any(HEALTH_PATH, (res) => void res.end(HEALTH_BODY));
// ws() routes only take upgrade requests; a plain request to the same path falls through to these.
app.any(ECHO_PATH, (res) => void res.writeStatus('426 Upgrade Required').writeHeader('upgrade', 'websocket').end(UPGRADE_REQUIRED_BODY));
app.any(BROADCAST_PATH, (res) => void res.writeStatus('426 Upgrade Required').writeHeader('upgrade', 'websocket').end(UPGRADE_REQUIRED_BODY));
app.any(RELAY_PATH, (res) => void res.writeStatus('426 Upgrade Required').writeHeader('upgrade', 'websocket').end(UPGRADE_REQUIRED_BODY));
app.any('/*', (res) => void res.writeStatus('404 Not Found').end(NOT_FOUND_BODY));

app.listen(address.host, address.port, (socket) => {
  if (socket === false) {
    process.stderr.write(`node-uws: cannot listen on ${address.host}:${address.port} (uWebSockets.js gives no reason; is the port in use?)\n`);
    process.exit(1);
  }
  listenSocket = socket;
  // uWebSockets.js has no getter for a route's settings: report what was passed to app.ws().
  const settings: ParityManifest = {
    maxPayloadBytes: behavior.maxPayloadLength,
    perMessageDeflate: behavior.compression !== COMPRESSION_DISABLED,
    idleTimeoutSec: behavior.idleTimeout,
    backpressureLimitBytes: behavior.maxBackpressure,
    backpressurePolicy: BACKPRESSURE_POLICY,
    publishToSelf: true, // app.publish, not ws.publish
    autoPing: behavior.sendPingsAutomatically,
  };
  process.stdout.write(
    formatReadyLine({
      runtime: 'node',
      runtimeVersion: process.versions.node,
      library: 'uWebSockets.js',
      libraryVersion: libraryVersion(),
      pid: process.pid,
      host: address.host,
      port: uws.us_socket_local_port(socket as unknown as UWS.us_socket),
      settings,
      relay: relayInfo(upstreamUrl, 'ws', wsVersion, RELAY_CONNECT_TIMEOUT_MS),
    }) + '\n',
  );
});

function onClose(ws: UWS.WebSocket<unknown>): void {
  sockets.delete(ws);
  if (shuttingDown && sockets.size === 0) finish();
}

function finish(): void {
  // Leave the event loop one turn to flush the close frames just written.
  setImmediate(() => process.exit(0));
}

function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`node-uws: ${sockets.size} connection(s) still open after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  if (listenSocket !== undefined) uws.us_listen_socket_close(listenSocket);
  // end() calls the close handler synchronously, so copy the set first.
  for (const ws of [...sockets]) ws.end(CLOSE_GOING_AWAY);
  if (sockets.size === 0) finish();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
