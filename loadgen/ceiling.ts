// The ceiling model inside a load-generator worker process: holds its share of
// the connections, opens or closes connections when the coordinator asks for a
// step, and sends heartbeats on every connection when it asks for a beat.
// Driven by loadgen/ceiling-run.ts with its own messages (below), dispatched
// here from worker.ts by the plan's model.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLatencyHistogram, encodeHistogram, recordUs } from './histogram.js';
import type { FromWorker, ToWorker } from './ipc.js';
import type { Runner } from './session.js';
import { SyntheticCodec } from './codec.js';
import type { PayloadHeader } from './payload.js';
import { connect, createMaskKey, Opcode, type RawWebSocket, type RawWebSocketError, type RawWebSocketHandler } from './protocol/index.js';
import { SocketIoConnection, withSocketIo } from './protocol/socketio-handler.js';
import { SocketIoEventFrame, SocketIoNamespace, socketIoTarget } from './protocol/socketio.js';
import { atEpochUs, createSchedule, createSender, epochClockUs, finishSender, tick } from './schedule.js';
import type { CeilingModel, ErrorKind } from './types.js';

type Init = Extract<ToWorker, { type: 'init' }>;

/** Coordinator → worker, ceiling model only (the worker's `init` and `stop` still apply). */
export type CeilingToWorker =
  /** Open (or, below the current count, close) connections until this worker holds `targetOpen`. */
  | { type: 'ceiling-step'; targetOpen: number; abortAfterFailures: number }
  /** Heartbeats on every open connection from `startAtUs` (epoch µs): warmup, then the measured window, then up to graceMs for replies. */
  | { type: 'ceiling-beat'; startAtUs: number; warmupMs: number; durationMs: number; graceMs: number };

/** Worker → coordinator, ceiling model only. */
export type CeilingFromWorker =
  | { type: 'ceiling-ready'; worker: number; pid: number }
  | { type: 'ceiling-stepped'; report: WorkerStepReport }
  | { type: 'ceiling-beaten'; report: WorkerBeatReport };

/** One worker's side of a step. */
export interface WorkerStepReport {
  worker: number;
  /** Connections this worker holds open after the step. */
  open: number;
  /** Connects started in this step, completed (101) and failed. */
  attempted: number;
  opened: number;
  failed: number;
  /** Connections this worker closed because the target was below its count (bisection). */
  closedByUs: number;
  /** Failures and drops by kind, since the previous report. */
  errors: Partial<Record<ErrorKind, number>>;
  /** Socket errno codes behind `other` failures (EMFILE, EADDRNOTAVAIL, …): they tell the load generator's limits apart. */
  errnos: Record<string, number>;
  /** Open connections the server closed or reset since the previous report. */
  drops: number;
  /** Time the step took in this worker, ms. */
  connectMs: number;
  /** Handshake times (TCP connect to 101) of this step, µs, encoded. */
  connectEncoded: string;
  /** True when the worker stopped starting connects after `abortAfterFailures` failures. */
  aborted: boolean;
}

/** One worker's side of a beat. */
export interface WorkerBeatReport {
  worker: number;
  open: number;
  /** Heartbeats with an intended time inside the measured window, and how many came back. */
  sent: number;
  received: number;
  /** Schedule counters over warmup + window: sends made, sends more than 5 ms late, sends skipped (more than 1 s behind). */
  scheduled: number;
  late: number;
  dropped: number;
  /** The latest any send left after its intended time, µs: what the generator's own lateness can explain of the latency. */
  maxLagUs: number;
  /** Round trips from the intended send time, µs, measured window only. */
  latencyEncoded: string;
  drops: number;
  errors: Partial<Record<ErrorKind, number>>;
  errnos: Record<string, number>;
  /** Worker CPU time over the measured window, µs, and the window's length, ms. */
  cpuUs: number;
  windowMs: number;
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
}

interface HConn {
  idx: number;
  ws: RawWebSocket<HConn> | undefined;
  state: 'connecting' | 'open' | 'closed';
  byUs: boolean;
  seq: number;
  /** Heartbeats of the measured window sent on this connection and not back yet. */
  pending: number;
  startedAt: number;
  error: RawWebSocketError | undefined;
  done: ((ok: boolean) => void) | undefined;
  /** On a Socket.IO stack: the connection's session. */
  sio: SocketIoConnection | undefined;
}

/** A send more than this late counts as late: the heartbeat loop runs on 1 ms timers, never spins. */
export const HEARTBEAT_LATE_US = 5_000;


/**
 * The worker side of the ceiling model. Listens for its own messages
 * (`ceiling-step`, `ceiling-beat`) beside the worker's handler, which passes
 * `init` and `stop` to it; answers `ceiling-ready` at once.
 */
export function createCeilingRunner(model: CeilingModel, init: Init, sendTo: (m: FromWorker) => void): Runner {
  const plan = init.plan;
  const url = new URL(plan.url);
  const host = url.hostname;
  const port = Number(url.port);
  const maskKey = createMaskKey();
  const hb = model.heartbeat;
  const payload = Buffer.alloc(hb ? hb.bytes : 16);
  // On a Socket.IO stack every connection is an Engine.IO session joined to the route's namespace, and a heartbeat
  // is a text event (Socket.IO carries no binary here): payload.ts's text kind, whose 65-byte minimum raises a
  // smaller heartbeat.bytes, in an event frame patched in place.
  const stack = plan.protocol === 'socket.io' ? socketIoTarget(url.pathname + url.search) : undefined;
  const path = stack ? stack.requestPath : url.pathname + url.search;
  const ns = stack ? new SocketIoNamespace(stack.namespace) : undefined;
  const textCodec = ns ? new SyntheticCodec('text') : undefined;
  const eventFrame = ns && textCodec && hb ? new SocketIoEventFrame(ns, textCodec.build(Math.max(hb.bytes, textCodec.minBytes)), maskKey) : undefined;
  const header: PayloadHeader = { connId: 0, seq: 0, tUs: 0 };
  let conns: HConn[] = [];
  let nextIdx = 0;
  let errors: Partial<Record<ErrorKind, number>> = {};
  let errnos: Record<string, number> = {};
  let drops = 0;
  let readAtUs = 0;
  // The heartbeat in progress: its window and counters.
  let beatWindow = { startUs: Infinity, endUs: -Infinity };
  let latency = createLatencyHistogram();
  let received = 0;
  let pendingTotal = 0;

  const countError = (e: RawWebSocketError | undefined) => {
    const kind: ErrorKind = !e ? 'reset' : e.kind === 'socket' ? 'other' : e.kind;
    errors[kind] = (errors[kind] ?? 0) + 1;
    if (e?.kind === 'socket' && e.detail) errnos[e.detail] = (errnos[e.detail] ?? 0) + 1;
  };

  const onReply = (c: HConn, buf: Buffer, start: number, end: number) => {
    let tUs: number;
    if (textCodec) {
      tUs = textCodec.readHeader(buf, start, end - start, header).tUs;
      if (tUs < 0) return;
    } else {
      if (end - start < 16) return;
      tUs = buf.readDoubleLE(start);
    }
    if (tUs < beatWindow.startUs || tUs >= beatWindow.endUs) return;
    received++;
    if (c.pending > 0) {
      c.pending--;
      pendingTotal--;
    }
    recordUs(latency, readAtUs - tUs);
  };

  const bareHandler: RawWebSocketHandler<HConn> = {
    onOpen(ws) {
      const c = ws.data;
      c.state = 'open';
      const done = c.done;
      c.done = undefined;
      done?.(true);
    },
    onRead() {
      readAtUs = epochClockUs();
    },
    onMessage(ws, _opcode, buf, start, end) {
      onReply(ws.data, buf, start, end);
    },
    onPong(ws, p) {
      onReply(ws.data, p, 0, p.length);
    },
    onError(ws, e) {
      const c = ws.data;
      if (c.state === 'connecting') c.error = e;
      else if (!c.byUs) countError(e);
    },
    onClose(ws) {
      const c = ws.data;
      const was = c.state;
      c.state = 'closed';
      pendingTotal -= c.pending;
      c.pending = 0;
      if (was === 'connecting') {
        const done = c.done;
        c.done = undefined;
        countError(c.error);
        done?.(false);
      } else if (was === 'open' && !c.byUs) {
        // Its kind (unexpected-close, reset) was counted by onError, which RawWebSocket calls before every close it did not ask for.
        drops++;
      }
    },
  };

  const handler = ns ? withSocketIo(bareHandler, (c: HConn) => c.sio!) : bareHandler;

  const openOne = (c: HConn) =>
    new Promise<boolean>((resolve) => {
      c.done = resolve;
      if (ns) c.sio = new SocketIoConnection(ns, plan.connect.timeoutMs);
      const localAddress = model.sourceAddresses > 1 ? `127.0.0.${2 + ((init.firstConnId + c.idx) % model.sourceAddresses)}` : undefined;
      c.ws = connect(
        { host, port, path, handshakeTimeoutMs: plan.connect.timeoutMs, maskKey, closeTimeoutMs: 1000, ...(localAddress ? { localAddress } : {}) },
        handler,
        c,
      );
    });

  const takeCounts = () => {
    const out = { errors, errnos, drops };
    errors = {};
    errnos = {};
    drops = 0;
    return out;
  };

  async function step(targetOpen: number, abortAfterFailures: number): Promise<void> {
    const t0 = performance.now();
    conns = conns.filter((c) => c.state !== 'closed');
    const live = conns.filter((c) => c.state === 'open');
    let closedByUs = 0;
    let attempted = 0;
    let opened = 0;
    let failed = 0;
    let aborted = false;
    const connectHist = createLatencyHistogram();
    if (targetOpen < live.length) {
      // Close the newest first, with a reset: no close handshake for the server to run, no TIME_WAIT to tie up ports.
      for (const c of live.slice(targetOpen)) {
        c.byUs = true;
        c.state = 'closed';
        c.ws?.reset();
        closedByUs++;
      }
    } else {
      const need = targetOpen - live.length;
      const maxInFlight = Math.max(1, plan.connect.maxInFlight);
      const ratePerSec = init.connectRatePerSec;
      await new Promise<void>((resolve) => {
        let active = 0;
        const pump = () => {
          while (active < maxInFlight && attempted < need && !aborted) {
            if (ratePerSec) {
              const waitMs = (attempted / ratePerSec) * 1000 - (performance.now() - t0);
              if (waitMs > 1) {
                setTimeout(pump, waitMs);
                return;
              }
            }
            const c: HConn = { idx: nextIdx++, ws: undefined, state: 'connecting', byUs: false, seq: 0, pending: 0, startedAt: performance.now(), error: undefined, done: undefined, sio: undefined };
            conns.push(c);
            attempted++;
            active++;
            void openOne(c).then((ok) => {
              active--;
              if (ok) {
                opened++;
                recordUs(connectHist, (performance.now() - c.startedAt) * 1000);
              } else {
                failed++;
                // Past the bound the plateau fails anyway: stop starting connects instead of waiting out timeouts.
                if (failed >= abortAfterFailures) aborted = true;
              }
              if (active === 0 && (attempted >= need || aborted)) resolve();
              else pump();
            });
          }
          if (active === 0 && (attempted >= need || aborted)) resolve();
        };
        pump();
      });
    }
    // Collect now, while nothing is measured: a major GC over thousands of sockets pauses the worker for tens of ms.
    (globalThis as { gc?: () => void }).gc?.();
    const counts = takeCounts();
    sendTo({
      type: 'ceiling-stepped',
      report: {
        worker: init.worker,
        open: conns.reduce((a, c) => a + (c.state === 'open' ? 1 : 0), 0),
        attempted,
        opened,
        failed,
        closedByUs,
        ...counts,
        connectMs: performance.now() - t0,
        connectEncoded: encodeHistogram(connectHist),
        aborted,
      },
    });
  }

  function beat(startAtUs: number, warmupMs: number, durationMs: number, graceMs: number) {
    const targets = conns.filter((c) => c.state === 'open');
    const measureStartUs = startAtUs + warmupMs * 1000;
    const endUs = measureStartUs + durationMs * 1000;
    beatWindow = { startUs: measureStartUs, endUs };
    latency = createLatencyHistogram();
    received = 0;
    pendingTotal = 0;
    let sent = 0;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let cpu0: NodeJS.CpuUsage | undefined;
    let cpuUs = 0;
    const ratePerSec = hb && targets.length > 0 ? (targets.length * 1000) / hb.intervalMs : 0;
    const sender =
      ratePerSec > 0
        ? createSender(createSchedule({ ratePerSec, arrivals: 'constant', startUs: startAtUs }), {
            lateThresholdUs: HEARTBEAT_LATE_US,
            maxCatchUpPerTick: Math.max(64, Math.ceil(ratePerSec / 50)),
            dropAfterUs: 1_000_000,
          })
        : undefined;
    let rr = 0;
    atEpochUs(measureStartUs, () => {
      cpu0 = process.cpuUsage();
      loopDelay.enable();
    });
    const sendDue = (n: number) => {
      for (let i = 0; i < n; i++) {
        const c = targets[rr++ % targets.length]!;
        if (c.state !== 'open') continue;
        const tUs = sender!.dueUs[i]!;
        if (eventFrame) {
          textCodec!.writeHeaderMasked(eventFrame.frame.frame, eventFrame.payloadIndex, eventFrame.payloadBytes, c.idx, c.seq++, tUs, maskKey, eventFrame.keyPhase);
          c.ws!.sendFrame(eventFrame.frame.frame);
        } else {
          payload.writeDoubleLE(tUs, 0);
          payload.writeUInt32LE(c.idx >>> 0, 8);
          payload.writeUInt32LE(c.seq++ >>> 0, 12);
          if (hb!.kind === 'ping') c.ws!.ping(payload);
          else c.ws!.send(Opcode.Binary, payload);
        }
        if (tUs >= measureStartUs && tUs < endUs) {
          sent++;
          c.pending++;
          pendingTotal++;
        }
      }
    };
    const finish = () => {
      const cpu = process.cpuUsage(cpu0);
      cpuUs = cpu0 ? cpu.user + cpu.system : 0;
      loopDelay.disable();
      if (sender) {
        sendDue(tick(sender, endUs));
        finishSender(sender, endUs);
      }
      const deadline = performance.now() + graceMs;
      const waitReplies = () => {
        if (pendingTotal > 0 && performance.now() < deadline) {
          setTimeout(waitReplies, 5);
          return;
        }
        const counts = takeCounts();
        const ol = sender?.counters;
        sendTo({
          type: 'ceiling-beaten',
          report: {
            worker: init.worker,
            open: conns.reduce((a, c) => a + (c.state === 'open' ? 1 : 0), 0),
            sent,
            received,
            scheduled: ol?.sent ?? 0,
            late: ol?.late ?? 0,
            dropped: ol?.dropped ?? 0,
            maxLagUs: ol?.maxLagUs ?? 0,
            latencyEncoded: encodeHistogram(latency),
            ...counts,
            cpuUs,
            windowMs: durationMs,
            eventLoopDelayP99Us: Number.isFinite(loopDelay.percentile(99)) ? loopDelay.percentile(99) / 1000 : 0,
            eventLoopDelayMaxUs: Number.isFinite(loopDelay.max) ? loopDelay.max / 1000 : 0,
          },
        });
        // Replies after the report belong to no window.
        beatWindow = { startUs: Infinity, endUs: -Infinity };
        for (const c of targets) c.pending = 0;
        pendingTotal = 0;
      };
      waitReplies();
    };
    const loop = () => {
      const now = epochClockUs();
      if (now >= endUs) {
        finish();
        return;
      }
      if (sender) sendDue(tick(sender, now));
      // 1 ms timers, never a spin: several workers may share one CPU here, and a heartbeat's bound is in ms.
      const nextUs = sender ? Math.min(sender.schedule.peekUs(), endUs) : endUs;
      setTimeout(loop, Math.max(0, Math.floor((nextUs - epochClockUs()) / 1000)));
    };
    atEpochUs(startAtUs, loop);
  }

  sendTo({ type: 'ceiling-ready', worker: init.worker, pid: process.pid });

  return {
    onCommand(m: ToWorker) {
      if (m.type === 'ceiling-step') void step(m.targetOpen, m.abortAfterFailures);
      else if (m.type === 'ceiling-beat') beat(m.startAtUs, m.warmupMs, m.durationMs, m.graceMs);
    },
    start() {},
    finish() {},
    stop() {
      // Resets, not FINs: thousands of client-closed connections would otherwise sit in TIME_WAIT for 60 s, and
      // a source address's TIME_WAIT ports slow the next run's connects (measured: README, Connection ceilings).
      for (const c of conns) {
        c.byUs = true;
        c.ws?.reset();
      }
      process.exit(0);
    },
  };
}
