// A deliberately limited WebSocket echo server for the ceiling and capacity
// tests, started as a child process (`node limited-server.js MODE N`) with PORT
// set, like a user's server under --server-cmd. Modes, each limited from the
// N-th connection:
//   stop-accepting  stops listening after N connections (later connects are refused)
//   close           closes every connection once N are open
//   slow            delays each echo by 1.5 s once more than N connections are open
//   drop            echoes nothing to a connection that found N others open (it serves N sessions)
//   crash           exits with code 3 when connection N+1 arrives
//   memory          holds N KiB of memory per open connection (N = KiB); with --expose-gc it is
//                   collected soon after a connection closes, so RSS follows the open connections
//   cost            hashes N KiB (SHA-256) per message before echoing it: a fixed CPU cost per message in native
//                   code (instructions, not wall time, so a busy machine cannot shrink it; a JavaScript loop's
//                   cost moved with when the JIT optimised it, and a planted 2x hid in that noise 2 times in 5)
import { createHash } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const [mode = 'slow', nArg = '100'] = process.argv.slice(2);
const n = Number(nArg);
const port = Number(process.env['PORT'] ?? 0);
const server = http.createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const open = new Set<WebSocket>();
const held = new Map<WebSocket, Buffer>();
// What `cost` hashes per message.
const work = Buffer.alloc(mode === 'cost' ? n * 1024 : 0, 7);
// Freed buffers go back once collected: collect soon after closes (one collection for a burst of them).
const gc = (globalThis as { gc?: () => void }).gc;
let collecting: NodeJS.Timeout | undefined;
const collectSoon = () => {
  if (gc && !collecting) collecting = setTimeout(() => ((collecting = undefined), gc()), 20);
};

wss.on('connection', (ws) => {
  open.add(ws);
  if (mode === 'crash' && open.size > n) process.exit(3);
  if (mode === 'memory') held.set(ws, Buffer.alloc(n * 1024, 1));
  const unserved = mode === 'drop' && open.size > n;
  if (mode === 'stop-accepting' && open.size >= n) server.close();
  if (mode === 'close' && open.size >= n) for (const c of open) c.terminate();
  ws.on('message', (data, isBinary) => {
    if (mode === 'cost') createHash('sha256').update(work).digest();
    if (mode === 'slow') {
      const delayMs = open.size > n ? 1500 : 0;
      setTimeout(() => ws.send(data, { binary: isBinary }), delayMs);
    } else if (!unserved) ws.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    open.delete(ws);
    if (held.delete(ws)) collectSoon();
  });
  ws.on('error', () => {});
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
