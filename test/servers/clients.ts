/**
 * Clients for the conformance suite that are not code under test: the `ws`
 * client (permessage-deflate off unless a test offers it on purpose) and
 * plain `node:http` requests without keep-alive, so no pooled socket outlives
 * a test.
 */
import http from 'node:http';
import WebSocket from 'ws';

export interface Message {
  data: Buffer;
  isBinary: boolean;
}

export interface CloseEvent {
  code: number;
  reason: string;
}

/** A ws client that queues what it receives, so tests can await messages in order. */
export class Client {
  readonly messages: Message[] = [];
  readonly closed: Promise<CloseEvent>;
  private waiter: (() => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data, isBinary });
      this.waiter?.();
    });
    // Errors (resets after the server closes) end in a close event, which is what tests assert on.
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.waiter?.();
        resolve({ code, reason: reason.toString('utf8') });
      });
    });
  }

  static open(url: string, options: WebSocket.ClientOptions = {}, timeoutMs = 5000): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0, handshakeTimeout: timeoutMs, ...options });
    const client = new Client(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: HTTP ${res.statusCode}`)));
      void client.closed.then(({ code }) => reject(new Error(`closed (${code}) before it opened`)));
    });
  }

  send(data: Buffer | string, isBinary: boolean): Promise<void> {
    return new Promise((resolve, reject) => this.ws.send(data, { binary: isBinary }, (e) => (e ? reject(e) : resolve())));
  }

  /** Waits until `count` messages have arrived in total; rejects on close or timeout. */
  async received(count: number, timeoutMs = 5000): Promise<Message[]> {
    await this.until(() => this.messages.length >= count, timeoutMs, () => `${this.messages.length} of ${count} messages`);
    return this.messages.slice(0, count);
  }

  /** Waits until `done()` holds, re-checking after every message; rejects on close or timeout with `progress()`. */
  async until(done: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`closed after ${progress()}`);
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

  /** Takes the next message off the queue. */
  async next(timeoutMs = 5000): Promise<Message> {
    await this.received(1, timeoutMs);
    return this.messages.shift()!;
  }

  close(code?: number): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One GET without keep-alive. */
export function httpGet(url: string, timeoutMs = 5000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Valid UTF-8 of exactly `bytes` bytes, mixing 1-, 2- and 3-byte characters so that decoding and re-encoding are exercised. */
export function utf8OfLength(bytes: number): Buffer {
  const pieces = ['a', 'Z', '0', ' ', 'é', '€'];
  let text = '';
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const piece = pieces[(i * 7) % pieces.length]!;
    const size = Buffer.byteLength(piece);
    const next = length + size <= bytes ? piece : 'x';
    text += next;
    length += Buffer.byteLength(next);
  }
  return Buffer.from(text, 'utf8');
}

/** Deterministic bytes covering every byte value. */
export function binaryOfLength(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}
