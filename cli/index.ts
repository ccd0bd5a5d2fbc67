import { calibrateCommand } from './commands/calibrate.js';
import { chooseCommand, compareCommand } from './commands/compare.js';
import { doctorCommand } from './commands/doctor.js';
import { listCommand } from './commands/list.js';
import { k8sCollectCommand, k8sRenderCommand } from './commands/k8s.js';
import { loadCommand } from './commands/load.js';
import { mergeCommand } from './commands/merge.js';
import { sampleCommand } from './commands/sample.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import type { Io } from './io.js';
import { runProgram, type Action } from './program.js';
import { toolVersion } from './version.js';

export const ACTIONS: Record<string, Action> = {
  run: runCommand,
  doctor: doctorCommand,
  report: reportCommand,
  load: loadCommand,
  serve: serveCommand,
  list: listCommand,
  compare: compareCommand,
  choose: chooseCommand,
  calibrate: calibrateCommand,
  merge: mergeCommand,
  sample: sampleCommand,
  'k8s render': k8sRenderCommand,
  'k8s collect': k8sCollectCommand,
};

export { toolVersion };

/** The whole CLI as a function of its Io: returns the exit code and never calls process.exit. */
export function runCli(io: Io): Promise<number> {
  return runProgram(io, ACTIONS, toolVersion());
}
