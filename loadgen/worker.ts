// A load-generator worker process: runs its share of one load model's
// connections on the coordinator's clock and reports what it measured. Spawned
// only by loadgen/pool.ts; talks to it over IPC (loadgen/ipc.ts). The model's
// module (loadgen/models/) creates the runner; this file only routes messages.
import type { FromWorker, ToWorker } from './ipc.js';
import { modelOf } from './models/index.js';
import { WsSession, type Runner } from './session.js';

function post(m: FromWorker): void {
  if (process.connected) process.send!(m);
}

function fatal(e: unknown): void {
  post({ type: 'fatal', message: (e as Error).stack ?? String(e) });
}

let runner: Runner | undefined;
// The coordinator going away (crash, SIGKILL) must not leave workers behind.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'init') {
      runner = modelOf(m.plan.load).createRunner(m.plan.load, m, post);
      if (runner instanceof WsSession) void runner.connectAll().catch(fatal);
    } else if (m.type === 'start') runner?.start(m.startAtUs);
    else if (m.type === 'finish') runner?.finish(m.sentBySender);
    else if (m.type === 'stop') {
      if (runner) runner.stop();
      else process.exit(0);
    } else runner?.onCommand?.(m);
  } catch (e) {
    fatal(e);
  }
});
