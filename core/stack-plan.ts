/**
 * What a run with Socket.IO stacks in it must decide before any server starts
 * (servers/CONTRACT.md, "Stacks"): which protocol each server of the run
 * speaks, whether the client and every scenario can go to it, and which
 * scenarios the default set runs when stacks are in it. Pure: no I/O.
 */
import { BenchError } from '../base/errors.js';
import { modelOf } from '../loadgen/models/index.js';
import type { CeilingModel } from '../loadgen/types.js';
import type { RunPlan } from './run.js';
import { protocolOf, type ServerProtocol } from './runtimes.js';
import type { Scenario } from './scenario.js';

/**
 * The built-in scenarios with binary messages that the default set runs, and their twins with text messages of
 * the same size and load: what the default set runs instead when a stack is in the run (for every runtime of
 * it, so that a stack and its bare counterpart are measured on the same messages).
 */
export const TEXT_TWINS: Readonly<Record<string, string>> = { echo: 'echo-text', 'echo-rate': 'echo-rate-text' };

/** What the load generator speaks to the server of a cell: its registry entry's protocol, bare WebSocket for a --target or --server-cmd. */
export function protocolFor(runtime: string, plan: Pick<RunPlan, 'external'>): ServerProtocol {
  return plan.external ? 'websocket' : protocolOf(runtime);
}

/**
 * Every reason the plan cannot run as asked, one line each naming the flag or the scenario field:
 * - the client: `ws` speaks bare WebSocket only, `socketio` (socket.io-client) Socket.IO only;
 * - a scenario whose messages are binary, for a stack: Socket.IO carries binary arguments as attachments
 *   (a `451-…` text frame, then a binary frame), which bench's Engine.IO layer does not send or check;
 * - a ceiling whose heartbeat is a WebSocket ping, for a stack: the WebSocket library under Socket.IO
 *   answers it without Socket.IO ever seeing it, so it would not measure the stack.
 */
export function stackPlanProblems(plan: Pick<RunPlan, 'runtimes' | 'external' | 'client' | 'cases'>): string[] {
  const problems: string[] = [];
  const stacks = plan.runtimes.filter((r) => protocolFor(r, plan) === 'socket.io');
  const bare = plan.runtimes.filter((r) => protocolFor(r, plan) === 'websocket');
  if (plan.client === 'ws' && stacks.length > 0) {
    problems.push(`--client ws: the ws library speaks bare WebSocket, and ${stacks.join(', ')} ${stacks.length === 1 ? 'is a Socket.IO stack' : 'are Socket.IO stacks'}: use --client raw, or --client socketio with the stacks alone`);
  }
  if (plan.client === 'socketio' && bare.length > 0) {
    problems.push(`--client socketio: socket.io-client speaks Socket.IO only, and ${bare.join(', ')} ${bare.length === 1 ? 'is a bare WebSocket server' : 'are bare WebSocket servers'}: use --client raw, or --client ws with the bare servers alone`);
  }
  if (stacks.length === 0) return problems;
  const on = `${stacks.length === 1 ? 'a Socket.IO stack' : 'the Socket.IO stacks'} (${stacks.join(', ')})`;
  const seen = new Set<string>();
  for (const c of plan.cases) {
    const s = c.scenario;
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    if (modelOf(c.model).message !== 'none' && s.message?.kind === 'binary') {
      const twin = TEXT_TWINS[s.name];
      problems.push(
        `scenario "${s.name}": message.kind: "binary" cannot go to ${on}: Socket.IO sends binary as attachments, which bench's Engine.IO layer does not; ` +
          `use "text" or "json"${twin ? ` (the built-in ${twin} is ${s.name} with text messages of the same size)` : ''}`,
      );
    }
    if (c.model.model === 'ceiling' && (c.model as CeilingModel).heartbeat?.kind === 'ping') {
      problems.push(`scenario "${s.name}": load.heartbeat.kind: "ping" is a WebSocket ping, which the WebSocket library under Socket.IO answers without Socket.IO seeing it: use "echo" on ${on}`);
    }
  }
  return problems;
}

/**
 * Refuses a plan that cannot run as asked (stackPlanProblems), before any server starts.
 * @throws BenchError E_USAGE with one detail per problem
 */
export function assertStackPlan(plan: Pick<RunPlan, 'runtimes' | 'external' | 'client' | 'cases'>): void {
  const problems = stackPlanProblems(plan);
  if (problems.length === 0) return;
  throw new BenchError('E_USAGE', `this run cannot go to every server as asked (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
    details: problems,
    hint: 'a Socket.IO stack takes text or json messages and the raw or socketio client (servers/CONTRACT.md, "Stacks")',
  });
}

/**
 * The default scenario set for a run of `runtimes`: unchanged without a stack; with one, each scenario of
 * TEXT_TWINS replaced by its text twin for every runtime of the run, and a note saying so (for stderr).
 * `byName` finds a built-in scenario.
 */
export function defaultScenariosFor(defaults: readonly Scenario[], runtimes: readonly string[], byName: (name: string) => Scenario): { scenarios: Scenario[]; note?: string } {
  const stacks = runtimes.filter((r) => protocolOf(r) === 'socket.io');
  if (stacks.length === 0) return { scenarios: [...defaults] };
  const swapped: string[] = [];
  const scenarios = defaults.map((s) => {
    const twin = TEXT_TWINS[s.name];
    if (twin === undefined || s.message?.kind !== 'binary') return s;
    swapped.push(`${s.name} → ${twin}`);
    return byName(twin);
  });
  if (swapped.length === 0) return { scenarios };
  return {
    scenarios,
    note: `${stacks.join(', ')} speak${stacks.length === 1 ? 's' : ''} Socket.IO, which carries text here, so every runtime of this run gets text messages: ${swapped.join(', ')}`,
  };
}
