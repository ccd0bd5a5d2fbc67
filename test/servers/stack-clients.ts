/**
 * What test/servers/stacks.test.ts needs to run the Socket.IO stacks: a small
 * launcher (plain spawn, so a test sees a stack's own stdout and exit, on the
 * registry's command line), a client built on our RawWebSocket and
 * loadgen/protocol/socketio.ts (the instrument's own way of speaking Socket.IO,
 * driven as the load generator's transport would drive it), and socket.io-client
 * as the reference client that is not code under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { io as ioClient, type Socket as IoSocket } from 'socket.io-client';
import { currentHost } from '../../core/host.js';
import { RUNTIMES, STACK_IDS, type RuntimeName, type StackId } from '../../core/runtimes.js';
import { connect, Opcode, type RawWebSocket, type RawWebSocketHandler } from '../../loadgen/protocol/index.js';
import {
  SessionAction,
  SocketIoNamespace,
  SocketIoSession,
  parseEventPacket,
  socketIoRequestPath,
} from '../../loadgen/protocol/socketio.js';
import { SHUTDOWN_GRACE_MS, type StackReadyLine } from '../../servers/settings.js';

export { STACK_IDS, type StackId };

/** The runtime that runs each stack's dist/servers/<id>.js (core/runtimes.ts). */
export const STACK_RUNTIME: Record<StackId, RuntimeName> = {
  'node-socketio': RUNTIMES['node-socketio'].runtime,
  'node-socketio-uws': RUNTIMES['node-socketio-uws'].runtime,
  'bun-socketio': RUNTIMES['bun-socketio'].runtime,
};

export interface StackExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StackServer {
  id: StackId;
  ready: StackReadyLine;
  host: string;
  port: number;
  pid: number;
  process: ChildProcess;
  /** Everything written to stdout after the ready line. */
  stdoutAfterReady(): string;
  stderr(): string;
  exited: Promise<StackExit>;
  /** SIGTERM, then SIGKILL after the contract's grace period; how long it took. */
  stop(): Promise<StackExit & { durationMs: number; forced: boolean }>;
}

const live = new Set<ChildProcess>();

/** Kills every stack server still running (an after() hook's safety net). */
export function killAllStacks(): void {
  for (const child of live) child.kill('SIGKILL');
}

/** The command line that starts a stack: the runtime on its compiled file, nothing in between (the registry's). */
export function stackCommand(id: StackId): { command: string; args: string[] } {
  return RUNTIMES[id].command(currentHost().nodePath);
}

/** Starts a stack on an ephemeral port of 127.0.0.1 and waits for its ready line (rejects if it exits first). */
export async function startStack(id: StackId, env: Record<string, string> = {}, timeoutMs = 15_000): Promise<StackServer> {
  const { command, args } = stackCommand(id);
  const child = spawn(command, args, { env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stderr = '';
  let stdout = '';
  let afterReady = '';
  let ready: StackReadyLine | undefined;
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<StackExit>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${id}: no ready line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      if (ready !== undefined) {
        afterReady += s;
        return;
      }
      stdout += s;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      ready = JSON.parse(stdout.slice(0, nl)) as StackReadyLine;
      afterReady += stdout.slice(nl + 1);
      resolve();
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (ready === undefined) reject(new Error(`${id} exited (${signal ?? code}) before it was ready; stderr: ${stderr}`));
    });
  });
  const readyLine = ready!;
  let stopping: Promise<StackExit & { durationMs: number; forced: boolean }> | undefined;
  return {
    id,
    ready: readyLine,
    host: readyLine.host,
    port: readyLine.port,
    pid: child.pid!,
    process: child,
    stdoutAfterReady: () => afterReady,
    stderr: () => stderr,
    exited,
    stop() {
      stopping ??= (async () => {
        const startedMs = Date.now();
        if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), durationMs: 0, forced: false };
        let forced = false;
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          forced = true;
          child.kill('SIGKILL');
        }, SHUTDOWN_GRACE_MS);
        const result = await exited;
        clearTimeout(timer);
        return { ...result, durationMs: Date.now() - startedMs, forced };
      })();
      return stopping;
    },
  };
}

/** How a raw client's WebSocket ended. */
export interface RawClose {
  /** The server's close code: 1005 for an empty close frame, 1006 for none. */
  code: number;
  /** The RawWebSocket error, if any (`unexpected-close` when the server closed first). */
  error: string | undefined;
}

interface RawState {
  client: RawSioClient;
}

/**
 * One Socket.IO session over RawWebSocket, driven the way the load generator's
 * transport will drive it: every message goes to SocketIoSession.receive and
 * its action is carried out (replies sent at once, events copied out).
 */
export class RawSioClient {
  readonly ns: SocketIoNamespace;
  readonly session: SocketIoSession;
  readonly ws: RawWebSocket<RawState>;
  /** Payloads of this namespace's `message` events, copied. */
  readonly events: Buffer[] = [];
  /** Other events of the namespace, parsed. */
  readonly otherEvents: { name: string; args: unknown[] }[] = [];
  /** Frames SessionAction.Unexpected reported. */
  unexpected = 0;
  /** When false, pings are left unanswered (to see the server's ping timeout). */
  answerPings = true;
  readonly closed: Promise<RawClose>;
  readonly connected: Promise<void>;
  private waiter: (() => void) | undefined;
  private error: string | undefined;

  private constructor(host: string, port: number, namespace: string, query: Record<string, string>, readLimitBytes: number | undefined) {
    this.ns = new SocketIoNamespace(namespace);
    this.session = new SocketIoSession(this.ns);
    let resolveConnected!: () => void;
    let rejectConnected!: (e: Error) => void;
    this.connected = new Promise((resolve, reject) => {
      resolveConnected = resolve;
      rejectConnected = reject;
    });
    let resolveClosed!: (c: RawClose) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    const handler: RawWebSocketHandler<RawState> = {
      onOpen: (ws) => {
        if (readLimitBytes !== undefined) ws.allowReads(readLimitBytes);
      },
      onMessage: (ws, opcode, buf, start, end) => {
        const s = this.session;
        switch (s.receive(opcode, buf, start, end)) {
          case SessionAction.Reply:
            if (s.state === 'connecting' || this.answerPings) ws.send(Opcode.Text, s.reply);
            break;
          case SessionAction.Connected:
            resolveConnected();
            break;
          case SessionAction.Event:
            this.events.push(Buffer.from(buf.subarray(s.payload.start, s.payload.end)));
            break;
          case SessionAction.OtherEvent: {
            const event = parseEventPacket(buf, s.payload.start, s.payload.end);
            if (event !== undefined) this.otherEvents.push(event);
            else this.unexpected++;
            break;
          }
          case SessionAction.Unexpected:
            this.unexpected++;
            break;
          case SessionAction.Failed:
            rejectConnected(new Error(`${s.error}: ${s.errorMessage}`));
            ws.close(1000);
            break;
          default:
            break;
        }
        this.waiter?.();
      },
      onError: (_ws, e) => {
        this.error = e.kind;
        rejectConnected(new Error(`${e.kind}: ${e.message}`));
      },
      onClose: (_ws, code) => {
        rejectConnected(new Error(`closed (${code}) before the namespace was joined`));
        resolveClosed({ code, error: this.error });
        this.waiter?.();
      },
    };
    this.ws = connect({ host, port, path: socketIoRequestPath(query), closeTimeoutMs: 2000 }, handler, { client: this });
  }

  /**
   * Opens a session and joins `namespace`; resolves once the server has
   * acknowledged it. `readLimitBytes` limits what the client reads from the
   * start (RawWebSocket.allowReads); raise it with `ws.allowReads`.
   */
  static async open(host: string, port: number, namespace: string, query: Record<string, string> = {}, readLimitBytes?: number): Promise<RawSioClient> {
    const client = new RawSioClient(host, port, namespace, query, readLimitBytes);
    await client.connected;
    return client;
  }

  /** A connection whose handshake the test wants to watch fail: does not wait for the namespace. */
  static start(host: string, port: number, namespace: string, query: Record<string, string> = {}): RawSioClient {
    const client = new RawSioClient(host, port, namespace, query, undefined);
    client.connected.catch(() => {});
    return client;
  }

  /** Emits `message` with `payload` (a JSON object's bytes) as its argument. */
  send(payload: Buffer): void {
    this.ws.send(Opcode.Text, this.ns.buildEvent(payload));
  }

  /** Sends any text frame as it is. */
  sendText(text: string | Buffer): void {
    this.ws.send(Opcode.Text, typeof text === 'string' ? Buffer.from(text) : text);
  }

  /** Waits until `done()` holds, re-checking after every message; rejects on close or timeout with `progress()`. */
  async until(done: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ws.state === 'closed') throw new Error(`closed after ${progress()}`);
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new Error(`only ${progress()} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** Waits for `count` `message` events in total. */
  async received(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    await this.until(() => this.events.length >= count, timeoutMs, () => `${this.events.length} of ${count} events`);
    return this.events.slice(0, count);
  }

  close(code = 1000): void {
    this.ws.close(code);
  }
}

/** socket.io-client, WebSocket transport only, no reconnection: the reference client. */
export class IoClient {
  readonly messages: unknown[] = [];
  readonly otherEvents: { name: string; args: unknown[] }[] = [];
  readonly disconnected: Promise<string>;
  private waiter: (() => void) | undefined;

  private constructor(readonly socket: IoSocket) {
    socket.on('message', (data: unknown) => {
      this.messages.push(data);
      this.waiter?.();
    });
    socket.onAny((name: string, ...args: unknown[]) => {
      if (name !== 'message') this.otherEvents.push({ name, args });
    });
    this.disconnected = new Promise((resolve) => socket.once('disconnect', (reason) => resolve(reason)));
  }

  /** Connects to `namespace` with `query` in the handshake; rejects with the server's connect_error message. */
  static open(host: string, port: number, namespace: string, query: Record<string, string> = {}): Promise<IoClient> {
    const socket = ioClient(`http://${host}:${port}${namespace}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      query,
      timeout: 5000,
    });
    const client = new IoClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(client));
      socket.once('connect_error', (e) => {
        socket.close();
        reject(e);
      });
    });
  }

  /** Waits until `count` `message` events arrived. */
  async received(count: number, timeoutMs = 5000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || this.socket.disconnected) throw new Error(`only ${this.messages.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remainingMs);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
    return this.messages.slice(0, count);
  }

  close(): void {
    this.socket.close();
  }
}
