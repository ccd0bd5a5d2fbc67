/**
 * A RawWebSocketHandler that speaks Socket.IO: it wraps the handler a caller
 * wrote for bare WebSocket messages (the load generator's transport, the
 * ceiling's worker) so that the same handler drives a Socket.IO stack
 * (servers/CONTRACT.md, "Stacks") without knowing it:
 *
 * - the caller's `onOpen` runs when the namespace acknowledged the session
 *   (Engine.IO open, `40/<ns>,` sent, `40/<ns>,{"sid":…}` received), not at
 *   the HTTP 101: a connection counts as open when it can carry events;
 * - the server's heartbeat (`2`) is answered with `3` here, and never reaches
 *   the caller;
 * - a `message` event of the namespace reaches the caller's `onMessage` as its
 *   payload only (the range between the event's fixed prefix and its `]`), so
 *   a codec checks it byte for byte exactly as it checks a bare message;
 * - the relay's `close` event (`42/relay,["close",1011]`) sets the code the
 *   caller's `onClose` then reports, as a bare relay's close frame would;
 * - a frame the session does not expect once connected (another event,
 *   another packet type) reaches `onMessage` whole, so the caller's accounting
 *   counts it as the corrupted or misdelivered message it is;
 * - a failed handshake (the namespace refused, a malformed open packet, no
 *   acknowledgement before the deadline) is reported through `onError` as
 *   `handshake-rejected`, `protocol` or `timeout` (detail `namespace`), then
 *   the connection is dropped; a binary frame on an open session (Socket.IO
 *   attachments, not supported) as `protocol`, then the connection is closed
 *   with 1003.
 *
 * Sends are the caller's: a SocketIoEventFrame per payload template, patched
 * in place (socketio.ts). Hot path: an event costs the session's classify()
 * and one call, no allocation; a ping one pong frame written into the
 * connection's batch. Specs: socketio.ts's header.
 */
import { RawWebSocketError, type RawWebSocket, type RawWebSocketHandler } from './connection.js';
import { Opcode } from './frame.js';
import { parseEventPacket, SessionAction, SocketIoNamespace, SocketIoSession } from './socketio.js';

/**
 * The name of the event a stack's relay sends before it disconnects a session, with the close code a bare
 * relay would have closed with (servers/common.ts RELAY_CLOSE_EVENT; loadgen may not import servers/).
 */
export const RELAY_CLOSE_EVENT = 'close';

/** WebSocket close code for data a receiver cannot accept (RFC 6455 §7.4.1): here, a binary frame. */
const CLOSE_UNSUPPORTED_DATA = 1003;

/** One connection's Socket.IO state beside its RawWebSocket; create one per connection, before connecting. */
export class SocketIoConnection {
  readonly session: SocketIoSession;
  /** When the namespace must have acknowledged the session: performance.now() ms. */
  readonly ackDeadlineMs: number;
  /** The code of the relay's `close` event, reported by onClose instead of the WebSocket's; 0 when none came. */
  eventCloseCode = 0;
  timer: NodeJS.Timeout | undefined;

  /** @param timeoutMs from now until the namespace's acknowledgement: connect, upgrade, Engine.IO open and CONNECT all inside it */
  constructor(ns: SocketIoNamespace, timeoutMs: number) {
    this.session = new SocketIoSession(ns);
    this.ackDeadlineMs = performance.now() + timeoutMs;
  }
}

/**
 * Wraps `inner` (written for bare messages) so that its connections speak Socket.IO; `stateOf` returns a
 * connection's SocketIoConnection from its data. Connect the RawWebSocket to the session's request path
 * (socketIoTarget's `requestPath`).
 */
export function withSocketIo<T>(inner: RawWebSocketHandler<T>, stateOf: (data: T) => SocketIoConnection): RawWebSocketHandler<T> {
  const stop = (st: SocketIoConnection) => {
    if (st.timer !== undefined) clearTimeout(st.timer);
    st.timer = undefined;
  };
  /** Before the acknowledgement: report the failure as the connect's, and drop the connection. */
  const failOpening = (ws: RawWebSocket<T>, st: SocketIoConnection, err: RawWebSocketError) => {
    stop(st);
    inner.onError(ws, err);
    ws.terminate();
  };
  return {
    onOpen(ws) {
      // The WebSocket is open; the session is not yet. Its deadline covers the rest of the handshake.
      const st = stateOf(ws.data);
      st.timer = setTimeout(() => {
        st.timer = undefined;
        if (st.session.state === 'connected') return;
        failOpening(ws, st, new RawWebSocketError('timeout', `the namespace ${st.session.ns.namespace} did not acknowledge the session in time`, { detail: 'namespace' }));
      }, Math.max(0, st.ackDeadlineMs - performance.now()));
    },
    onRead(ws) {
      inner.onRead?.(ws);
    },
    onMessage(ws, opcode, buf, start, end) {
      const st = stateOf(ws.data);
      const s = st.session;
      switch (s.receive(opcode, buf, start, end)) {
        case SessionAction.Event:
          inner.onMessage(ws, Opcode.Text, buf, s.payload.start, s.payload.end);
          return;
        case SessionAction.Reply:
          ws.send(Opcode.Text, s.reply);
          return;
        case SessionAction.Connected:
          stop(st);
          inner.onOpen(ws);
          return;
        case SessionAction.OtherEvent: {
          const event = parseEventPacket(buf, s.payload.start, s.payload.end);
          if (event?.name === RELAY_CLOSE_EVENT && typeof event.args[0] === 'number') {
            st.eventCloseCode = event.args[0];
            return;
          }
          inner.onMessage(ws, opcode, buf, start, end);
          return;
        }
        case SessionAction.Unexpected:
          inner.onMessage(ws, opcode, buf, start, end);
          return;
        case SessionAction.Failed: {
          if (s.error === 'binary-unsupported' && s.namespaceSid !== '') {
            inner.onError(ws, new RawWebSocketError('protocol', s.errorMessage, { detail: s.error }));
            ws.close(CLOSE_UNSUPPORTED_DATA);
            return;
          }
          const kind = s.error === 'connect-error' ? 'handshake-rejected' : 'protocol';
          failOpening(ws, st, new RawWebSocketError(kind, s.errorMessage, { detail: s.error ?? 'socket.io' }));
          return;
        }
        default:
          // None, or Closed (the server left the namespace or ended the session): the WebSocket's close follows.
          return;
      }
    },
    onPong(ws, payload) {
      inner.onPong?.(ws, payload);
    },
    onError(ws, e) {
      inner.onError(ws, e);
    },
    onClose(ws, code, reason) {
      const st = stateOf(ws.data);
      stop(st);
      inner.onClose(ws, st.eventCloseCode || code, reason);
    },
  };
}

/** One SocketIoNamespace per namespace name, built on first use (a worker's connections share a few). */
export class SocketIoNamespaces {
  private readonly byName = new Map<string, SocketIoNamespace>();
  get(namespace: string): SocketIoNamespace {
    let ns = this.byName.get(namespace);
    if (!ns) {
      ns = new SocketIoNamespace(namespace);
      this.byName.set(namespace, ns);
    }
    return ns;
  }
}
