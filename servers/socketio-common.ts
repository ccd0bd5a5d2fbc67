/**
 * What the three Socket.IO stacks (node-socketio, node-socketio-uws,
 * bun-socketio) share: the contract's routes as Socket.IO namespaces, the
 * relay, the read-back of the stack's settings, the session count a shutdown waits on. See
 * servers/CONTRACT.md, "Stacks". Each stack file only attaches Socket.IO to
 * its engine, serves /health, listens and says how it applies backpressure.
 *
 * Runs on Node and on Bun: it uses only `node:` modules both implement, and
 * every runtime object (the upstream client, the backpressure check) comes in
 * as an argument.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { RELAY_CONNECT_TIMEOUT_MS, STACK_SETTINGS, type StackSettings } from './settings.js';
import {
  BROADCAST_PATH,
  CLOSE_NORMAL,
  ECHO_PATH,
  NO_UPSTREAM_MESSAGE,
  RELAY_CLOSE_EVENT,
  RELAY_PATH,
  STACK_EVENT,
  mayBufferMore,
  queuedSize,
  relayCloseCodeFor,
  relayInbound,
  relayOutbound,
  roomFromHandshake,
  sessionFromHandshake,
  upstreamUrlFor,
} from './common.js';

/**
 * The upstream leg's WebSocket client as /relay uses it: the browser-style
 * surface that both ws's client and Bun's global WebSocket offer.
 */
export interface UpstreamSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  onopen: ((event: unknown) => void) | null;
  /** Text arrives as a string, binary as a Buffer (ws's and Bun's default binary type). */
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number): void;
}

/** WebSocket readyState OPEN (the same number in ws and the browser API). */
const OPEN = 1;

export interface StackOptions {
  /** UPSTREAM_URL as parsed by upstreamUrlFromEnv; null: /relay refuses every connection with CONNECT_ERROR. */
  upstreamUrl: string | null;
  /** Opens one session's upstream leg (ws's client on Node, the global WebSocket on Bun). */
  connectUpstream(url: string): UpstreamSocket;
  /**
   * The contract's backpressure rule applied by hand: true when a message may
   * be sent to `socket` now. Absent when the WebSocket library drops above the
   * limit itself (uWebSockets.js, Bun), so nothing is checked in JavaScript.
   */
  mayDeliver?: (socket: Socket) => boolean;
}

/** The Engine.IO heartbeat a stack runs with, ms. */
export interface Heartbeat {
  pingInterval: number;
  pingTimeout: number;
}

/**
 * The heartbeat from the environment: STACK_SETTINGS unless
 * SOCKETIO_PING_INTERVAL_MS / SOCKETIO_PING_TIMEOUT_MS are set, which exist
 * for the conformance suite (a heartbeat it can watch in a second). A server
 * started with them reports them in `stack.settings`, so bench's comparison of
 * stack settings refuses it. Throws with a one-line message on a value that is
 * not a whole number of ms from 1 to 2^31 - 1 (setTimeout's range).
 */
export function heartbeatFromEnv(interval: string | undefined, timeout: string | undefined): Heartbeat {
  const read = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined || value === '') return fallback;
    const ms = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
    if (!(ms >= 1 && ms <= 2 ** 31 - 1)) throw new Error(`${name} must be a whole number of ms from 1 to ${2 ** 31 - 1}, got ${JSON.stringify(value)}`);
    return ms;
  };
  return {
    pingInterval: read('SOCKETIO_PING_INTERVAL_MS', interval, STACK_SETTINGS.pingIntervalMs),
    pingTimeout: read('SOCKETIO_PING_TIMEOUT_MS', timeout, STACK_SETTINGS.pingTimeoutMs),
  };
}

/**
 * Socket.IO server options shared by the stacks, from STACK_SETTINGS (on Node
 * socket.io creates the engine from them; bun-socketio gives the engine's part
 * to its own engine). Left at Socket.IO's defaults: connection state recovery
 * (off unless configured), connectTimeout (45 s for a client to join a
 * namespace), the parser and the in-memory adapter.
 */
export function ioOptions(heartbeat: Heartbeat) {
  return {
    path: STACK_SETTINGS.path,
    serveClient: false,
    transports: ['websocket'],
    allowUpgrades: false,
    perMessageDeflate: STACK_SETTINGS.perMessageDeflate,
    httpCompression: false,
    maxHttpBufferSize: STACK_SETTINGS.maxHttpBufferSizeBytes,
    pingInterval: heartbeat.pingInterval,
    pingTimeout: heartbeat.pingTimeout,
  } satisfies Partial<ServerOptions>;
}

/**
 * Mounts the contract on `io`: `/echo`, `/broadcast` and `/relay` as
 * namespaces, each carrying one event, STACK_EVENT, with one argument.
 *
 * - /echo: every `message` is emitted back, same argument, to the same socket.
 * - /broadcast: the socket joins the room named by the handshake query's
 *   `room` (default DEFAULT_ROOM) in its `connection` handler, so it is a
 *   member before its CONNECT ack leaves; every `message` goes to the whole
 *   room, the sender included, with `nsp.to(room).emit`.
 * - /relay: see servers/CONTRACT.md, "Stacks".
 */
export function mountContract(io: Server, options: StackOptions): void {
  const mayDeliver = options.mayDeliver;

  const echo = io.of(ECHO_PATH);
  if (mayDeliver === undefined) {
    echo.on('connection', (socket) => {
      socket.on(STACK_EVENT, (data: unknown) => void socket.emit(STACK_EVENT, data));
    });
  } else {
    echo.on('connection', (socket) => {
      socket.on(STACK_EVENT, (data: unknown) => {
        if (mayDeliver(socket)) socket.emit(STACK_EVENT, data);
      });
    });
  }

  const broadcast = io.of(BROADCAST_PATH);
  broadcast.on('connection', (socket) => {
    const room = roomFromHandshake(socket.handshake.query);
    void socket.join(room);
    if (mayDeliver === undefined) {
      socket.on(STACK_EVENT, (data: unknown) => void broadcast.to(room).emit(STACK_EVENT, data));
    } else {
      socket.on(STACK_EVENT, (data: unknown) => publishChecked(broadcast, room, data, mayDeliver));
    }
  });

  const relay = io.of(RELAY_PATH);
  const upstreamUrl = options.upstreamUrl;
  if (upstreamUrl === null) {
    // The bare servers answer the upgrade with 503; a namespace refuses with CONNECT_ERROR.
    relay.use((_socket, next) => next(new Error(NO_UPSTREAM_MESSAGE)));
  } else {
    relay.on('connection', (socket) => relaySession(socket, upstreamUrl, options));
  }
}

/**
 * A room broadcast under the by-hand backpressure rule. Socket.IO's broadcast
 * has no per-recipient hook in its public API, so the members over the limit
 * are found first (one walk of the room) and left out with `except`; the
 * broadcast itself is Socket.IO's (one encoding for every recipient).
 */
function publishChecked(nsp: Namespace, room: string, data: unknown, mayDeliver: (socket: Socket) => boolean): void {
  const members = nsp.adapter.rooms.get(room);
  let over: string[] | undefined;
  if (members !== undefined) {
    for (const id of members) {
      const member = nsp.sockets.get(id);
      if (member !== undefined && !mayDeliver(member)) (over ??= []).push(id);
    }
  }
  (over === undefined ? nsp.to(room) : nsp.to(room).except(over)).emit(STACK_EVENT, data);
}

/**
 * /relay for one socket: its own upstream leg to UPSTREAM_URL with `session`
 * from the handshake query; client `message` events go up as JSON text (binary
 * attachments as binary), upstream messages come down as `message` events
 * (JSON text parsed, so the event carries it as a JSON value); queueing while
 * the leg connects, the 1 MiB rule both ways and the close mapping as the bare
 * relays, the close code carried by RELAY_CLOSE_EVENT before the disconnect.
 */
function relaySession(socket: Socket, upstreamUrl: string, options: StackOptions): void {
  const upstream = options.connectUpstream(upstreamUrlFor(upstreamUrl, sessionFromHandshake(socket.handshake.query)));
  const mayDeliver = options.mayDeliver;
  let pending: (string | Uint8Array)[] | undefined = [];
  let pendingBytes = 0;
  let clientOpen = true;
  const timer = setTimeout(() => upstream.close(), RELAY_CONNECT_TIMEOUT_MS);
  upstream.onerror = () => {}; // followed by a close event
  upstream.onopen = () => {
    clearTimeout(timer);
    const queued = pending ?? [];
    pending = undefined;
    for (const data of queued) sendUpstream(upstream, data);
  };
  upstream.onmessage = (event) => {
    if (!clientOpen) return;
    if (mayDeliver !== undefined && !mayDeliver(socket)) return;
    const data = event.data;
    socket.emit(STACK_EVENT, typeof data === 'string' ? relayInbound(data) : data);
  };
  upstream.onclose = (event) => {
    clearTimeout(timer);
    if (!clientOpen) return;
    clientOpen = false;
    socket.emit(RELAY_CLOSE_EVENT, relayCloseCodeFor(event.code));
    socket.disconnect(true);
  };
  socket.on(STACK_EVENT, (data: unknown) => {
    const out = relayOutbound(data);
    if (out === undefined) return;
    if (pending === undefined) sendUpstream(upstream, out);
    else if (mayBufferMore(pendingBytes)) {
      pending.push(out);
      pendingBytes += queuedSize(out);
    }
  });
  socket.on('disconnect', () => {
    clientOpen = false;
    clearTimeout(timer);
    upstream.close(CLOSE_NORMAL); // still connecting: the attempt is abandoned
  });
}

/** The contract's rule on the upstream leg, by hand: no client WebSocket has a backpressure limit. */
function sendUpstream(upstream: UpstreamSocket, data: string | Uint8Array): void {
  if (upstream.readyState === OPEN && mayBufferMore(upstream.bufferedAmount)) upstream.send(data);
}

/** The Engine.IO options a stack reads its settings back from: engine.io's and bun-engine's `engine.opts`. */
export interface EngineOptionsReadBack {
  path?: string;
  transports?: readonly string[];
  pingInterval?: number;
  pingTimeout?: number;
  maxHttpBufferSize?: number;
  perMessageDeflate?: boolean | object;
}

/**
 * The ready line's `stack.settings`, read back from the running engine's
 * options (`io.engine.opts`) and Socket.IO's (`io._opts`); `transports` is
 * passed in where the engine has no such option (bun-engine) and the server
 * enforces it itself. A number the engine does not hold reads as NaN (null in
 * JSON), so a comparison of stack settings sees it.
 */
export function readStackSettings(
  engineOpts: EngineOptionsReadBack,
  ioOpts: { connectionStateRecovery?: unknown },
  transports?: readonly string[],
): StackSettings {
  const path = engineOpts.path ?? '';
  return {
    // engine.io keeps the path without its trailing slash and matches either; report the form clients use.
    path: path.endsWith('/') ? path : `${path}/`,
    transports: [...(transports ?? engineOpts.transports ?? [])],
    pingIntervalMs: engineOpts.pingInterval ?? Number.NaN,
    pingTimeoutMs: engineOpts.pingTimeout ?? Number.NaN,
    maxHttpBufferSizeBytes: engineOpts.maxHttpBufferSize ?? Number.NaN,
    perMessageDeflate: engineOpts.perMessageDeflate !== undefined && engineOpts.perMessageDeflate !== false,
    connectionStateRecovery: ioOpts.connectionStateRecovery !== undefined,
  };
}

/**
 * Counts Engine.IO sessions (every engine emits `connection` with its socket,
 * which emits `close` once), so a shutdown knows when the last one is gone.
 * bun-engine has no public count, hence this rather than `clientsCount`.
 */
export function trackSessions(io: Server, onClose: () => void): { readonly open: number } {
  const counter = { open: 0 };
  io.engine.on('connection', (conn: { once(event: 'close', listener: () => void): unknown }) => {
    counter.open++;
    conn.once('close', () => {
      counter.open--;
      onClose();
    });
  });
  return counter;
}

/**
 * The name and version of the package that `specifier` resolves to from
 * `fromFile` (default: this file), read from the nearest package.json above
 * its entry point that has a version: works for packages that do not export
 * their package.json (engine.io) and for aliases (uWebSockets.js is
 * uws-pack). Throws when nothing is found.
 */
export function resolvedPackage(specifier: string, fromFile = fileURLToPath(import.meta.url)): { name: string; version: string; entry: string } {
  const entry = createRequire(fromFile).resolve(specifier);
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (typeof pkg.version === 'string') return { name: pkg.name ?? specifier, version: pkg.version, entry };
    } catch {
      // no package.json here: keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json with a version above ${entry}`);
  }
}
