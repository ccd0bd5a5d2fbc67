import autocannon from 'autocannon';
import { createLatencyHistogram, encodeHistogram, recordUs } from './histogram.js';
import type { FromWorker, ToWorker, WorkerResult } from './ipc.js';
import type { Runner } from './session.js';
import { epochClockUs } from './schedule.js';
import type { HttpModel, TimelineBucket } from './types.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';

type Init = Extract<ToWorker, { type: 'init' }>;


/**
 * The http model inside a worker: autocannon drives GET requests for warmup +
 * duration; responses are recorded into our own HDR histogram and timeline, and
 * only those completing in the measured window count.
 */
export function createHttpRunner(model: HttpModel, init: Init, post: (m: FromWorker) => void): Runner {
  const plan = init.plan;
  const latency = createLatencyHistogram();
  const connect = createLatencyHistogram();
  const timeline: TimelineBucket[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let non2xx = 0;
  let errors = 0;
  let cpuUs = 0;
  let instance: ReturnType<typeof autocannon> | undefined;
  const pipelining = model.pipelining;
  post({ type: 'connected', opened: init.connections, failed: 0, errors: {}, connectPhaseMs: 0 });
  return {
    start(startAtUs) {
      const measureStartUs = startAtUs + plan.warmupMs * 1000;
      const measureEndUs = measureStartUs + plan.durationMs * 1000;
      let cpu0: NodeJS.CpuUsage | undefined;
      setTimeout(() => {
        instance = autocannon({
          url: plan.url,
          connections: init.connections,
          pipelining,
          duration: (plan.warmupMs + plan.durationMs) / 1000 + 0.2,
        });
        instance.on('response', (_client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => {
          const now = epochClockUs();
          if (statusCode < 200 || statusCode >= 300) non2xx++;
          if (now < measureStartUs || now >= measureEndUs) return;
          recordUs(latency, responseTimeMs * 1000);
          const second = Math.floor((now - measureStartUs) / 1e6);
          for (let s = timeline.length; s <= second; s++) timeline[s] = { second: s, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 };
          const b = timeline[second]!;
          b.sentMsgs++;
          b.receivedMsgs++;
          b.receivedBytes += resBytes;
        });
        instance.on('reqError', () => errors++);
      }, Math.max(0, (startAtUs - epochClockUs()) / 1000));
      setTimeout(() => {
        cpu0 = process.cpuUsage();
        loopDelay.enable();
      }, Math.max(0, (measureStartUs - epochClockUs()) / 1000));
      setTimeout(() => {
        const c = process.cpuUsage(cpu0);
        cpuUs = c.user + c.system;
        loopDelay.disable();
        instance?.stop();
        post({ type: 'drained', sentBySender: [] });
      }, Math.max(0, (measureEndUs - epochClockUs()) / 1000));
    },
    finish() {
      const received = timeline.reduce((a, b) => a + b.receivedMsgs, 0);
      const result: WorkerResult = {
        worker: init.worker,
        pid: process.pid,
        connections: init.connections,
        opened: init.connections,
        failed: 0,
        connectPhaseMs: 0,
        latencyEncoded: encodeHistogram(latency),
        connectEncoded: encodeHistogram(connect),
        timeline,
        errors: { ...(errors ? { other: errors } : {}), ...(non2xx ? { 'handshake-rejected': non2xx } : {}) },
        closeCodes: {},
        delivery: { sent: received, expected: received, received, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
        cpuUs,
        measuredMs: plan.durationMs,
        eventLoopDelayP99Us: loopDelay.percentile(99) / 1000 || 0,
        eventLoopDelayMaxUs: loopDelay.max / 1000 || 0,
        spinWait: false,
      };
      post({ type: 'result', result });
      setTimeout(() => process.exit(0), 200).unref();
    },
    stop() {
      instance?.stop();
      process.exit(0);
    },
  };
}
