/**
 * The Socket.IO stack on Node with uWebSockets.js (uws-pack) underneath:
 * `socket.io` attached to a uWebSockets.js App with `io.attachApp(app)`
 * (engine.io's uServer). See servers/CONTRACT.md, "Stacks"; socketio-common.ts
 * mounts the contract.
 *
 * uWebSockets.js applies the WebSocket settings natively, given through
 * attachApp's options: compression off, no idle timeout, and the contract's
 * backpressure rule as its own `maxBackpressure` drop (engine.io's uWS
 * transport sends synchronously and ignores send()'s "dropped" result, which is
 * what makes it the contract's drop). attachApp also routes a one-room
 * broadcast through uWebSockets.js's own publish (socket.io's uws adapter
 * patch), which includes the sender, as app.publish does for node-uws.
 * /relay's upstream leg uses the `ws` package's client, as on node-uws.
 */
import { readFileSync } from 'node:fs';
import type * as UWS from 'uWebSockets.js';
import { Server } from 'socket.io';
import { WebSocket } from 'ws';
import {
  BACKPRESSURE_LIMIT_BYTES,
  BACKPRESSURE_POLICY,
  IDLE_TIMEOUT_SEC,
  MAX_PAYLOAD_BYTES,
  RELAY_CONNECT_TIMEOUT_MS,
  type ParityManifest,
} from './settings.js';
import {
  HEALTH_BODY,
  HEALTH_PATH,
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

const NAME = 'node-socketio-uws';
/** The Node versions uws-pack 20.0.8 ships binaries for (ABIs 108, 115, 120, 127); as node-uws. */
const SUPPORTED_NODE = 'Node 18-22 (ABIs 108, 115, 120, 127)';

let uws: typeof UWS;
try {
  uws = await import('uWebSockets.js');
} catch (error) {
  // uws-pack's message spans lines (a banner, then the require error and its stack); keep the require error.
  const lines = describeError(error).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const reason = lines.find((line) => /^\w*Error:/.test(line)) ?? lines[0] ?? 'unknown error';
  process.stderr.write(
    `${NAME}: cannot load uWebSockets.js on Node ${process.version} (ABI ${process.versions.modules}, ${process.platform}-${process.arch}); ` +
      `it supports ${SUPPORTED_NODE}: ${reason}\n`,
  );
  process.exit(1);
}

/** uws-pack exports neither its package.json nor a require entry, so find the file next to its ESM entry point. */
function uwsVersion(): string {
  const entryUrl = import.meta.resolve('uWebSockets.js');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', entryUrl), 'utf8')) as { name: string; version: string };
  return pkg.name === 'uWebSockets.js' ? pkg.version : `${pkg.version} (${pkg.name})`;
}

const socketIo = resolvedPackage('socket.io');
const engineIo = resolvedPackage('engine.io', socketIo.entry);
const wsClient = resolvedPackage('ws');

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

/** uWS.DISABLED exists at runtime, but uws-pack's typings declare it only as a type. */
const COMPRESSION_DISABLED = (uws as unknown as { DISABLED: UWS.CompressOptions }).DISABLED;

/**
 * What engine.io's uServer passes to `app.ws()` (its `uOptions`; maxPayloadLength
 * comes from maxHttpBufferSize). uServer passes nothing else: uWebSockets.js's
 * sendPingsAutomatically keeps its default, which only acts on an idle
 * timeout, and there is none.
 */
const uwsBehavior = {
  compression: COMPRESSION_DISABLED,
  idleTimeout: IDLE_TIMEOUT_SEC,
  maxBackpressure: BACKPRESSURE_LIMIT_BYTES,
};

const app = uws.App();
const options = ioOptions(heartbeat);
const io = new Server(options);
io.attachApp(app, { ...options, ...uwsBehavior });
mountContract(io, {
  upstreamUrl,
  connectUpstream: (url) => new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES }) as UpstreamSocket,
  // No mayDeliver: uWebSockets.js drops above maxBackpressure itself.
});

let listenSocket: UWS.us_listen_socket | undefined;
let shuttingDown = false;
const sessions = trackSessions(io, () => exitIfDrained());

app.any(HEALTH_PATH, (res) => void res.end(HEALTH_BODY));
// Everything but /health and engine.io's path (including a WebSocket upgrade elsewhere) is a 404.
app.any('/*', (res) => void res.writeStatus('404 Not Found').end(NOT_FOUND_BODY));

app.listen(address.host, address.port, (socket) => {
  if (socket === false) {
    process.stderr.write(`${NAME}: cannot listen on ${address.host}:${address.port} (uWebSockets.js gives no reason; is the port in use?)\n`);
    process.exit(1);
  }
  listenSocket = socket;
  const engineOpts = io.engine.opts;
  // uWebSockets.js has no getter for a route's settings: report what engine.io was given for app.ws().
  const settings: ParityManifest = {
    maxPayloadBytes: engineOpts.maxHttpBufferSize ?? Number.NaN,
    perMessageDeflate: uwsBehavior.compression !== COMPRESSION_DISABLED,
    idleTimeoutSec: uwsBehavior.idleTimeout,
    backpressureLimitBytes: uwsBehavior.maxBackpressure,
    backpressurePolicy: BACKPRESSURE_POLICY,
    publishToSelf: true, // app.publish (attachApp's broadcast) includes the sender
    autoPing: false, // uWebSockets.js pings only for an idle timeout, and idleTimeout is 0
  };
  const library = uwsVersion();
  process.stdout.write(
    formatStackReadyLine({
      runtime: 'node',
      runtimeVersion: process.versions.node,
      library: 'socket.io',
      libraryVersion: socketIo.version,
      pid: process.pid,
      host: address.host,
      port: uws.us_socket_local_port(socket as unknown as UWS.us_socket),
      settings,
      relay: relayInfo(upstreamUrl, 'ws', wsClient.version, RELAY_CONNECT_TIMEOUT_MS),
      stack: {
        framework: 'socket.io',
        frameworkVersion: socketIo.version,
        engine: 'engine.io',
        engineVersion: engineIo.version,
        websocketLibrary: 'uWebSockets.js',
        websocketLibraryVersion: library,
        backpressure: 'library',
        settings: readStackSettings(engineOpts, io._opts),
      },
    }) + '\n',
  );
});

function exitIfDrained(): void {
  // Leave the event loop one turn to flush the close frames just written.
  if (shuttingDown && sessions.open === 0) setImmediate(() => process.exit(0));
}

/** As node-socketio: stop listening, `io.close()`, exit once the last Engine.IO session is gone. */
function shutdown(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  setTimeout(() => {
    process.stderr.write(`${NAME}: ${sessions.open} session(s) still closing after ${SHUTDOWN_FALLBACK_MS} ms; exiting\n`);
    process.exit(0);
  }, SHUTDOWN_FALLBACK_MS).unref();
  if (listenSocket !== undefined) uws.us_listen_socket_close(listenSocket);
  void io.close();
  exitIfDrained();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
