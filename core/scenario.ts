import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { caseSuffixOf, MODEL_NAMES, modelNamed, modelOf, type AnyModel } from '../loadgen/models/index.js';
import { shapeHasHeader, validateShape } from '../loadgen/shapes.js';
import type { MessageShape } from '../loadgen/types.js';
import { BenchError } from '../base/errors.js';
import { MAX_JSON_FILE_BYTES, parseJsonText } from '../base/json.js';
import { projectRoot } from './paths.js';
import { checkNumber, checkObject, checkString, isObject, quote, type Problems } from '../base/validate.js';

/** Where built-in scenarios live (JSON files, copied by users to make their own). */
export const SCENARIOS_DIR = path.join(projectRoot, 'scenarios');

/** Settings a scenario may override under `--quick` (the default preset of `bench run`). */
export interface QuickOverrides {
  connections?: number;
  warmupSec?: number;
  durationSec?: number;
  /** Open loop only: rates to use instead of the full list. */
  ratesPerSec?: number[];
}

/** A scenario file as validated: what to run against every runtime. */
export interface Scenario {
  name: string;
  /** One paragraph; `bench list scenarios` shows it. */
  description: string;
  /** Server route: /echo, /broadcast, /relay or /health. */
  route: string;
  connections: number;
  warmupSec: number;
  durationSec: number;
  /** The raw `load` object; expanded into cases by `expandCases`. */
  load: Record<string, unknown>;
  /** Message shape for WebSocket models that send; absent for idle and http. */
  message?: MessageShape;
  /** In the default set that `bench run` runs without --scenario. */
  default: boolean;
  quick?: QuickOverrides;
  /** Where it came from (built-in name or file path). */
  source: string;
}

/** One concrete point of a scenario: e.g. echo-rate at 10,000 msg/s. */
export interface ScenarioCase {
  /** Scenario name plus the model's suffix, e.g. "echo-rate@10000/s". */
  name: string;
  scenario: Scenario;
  model: AnyModel;
}

const ROUTES = ['/echo', '/broadcast', '/relay', '/health'] as const;
/** A name is part of every case name, file name and table row: short. A description is a paragraph. */
export const MAX_NAME_CHARS = 64;
export const MAX_DESCRIPTION_CHARS = 4000;
/** The scenario rules for connections and times, shared by the flags that override them (cli/options.ts). */
export const MAX_CONNECTIONS = 1_000_000;
export const MIN_DURATION_SEC = 0.5;
/** 24 h: far above any useful window, and below the 2^31 − 1 ms at which Node's timers overflow (they then fire at once). */
export const MAX_DURATION_SEC = 24 * 3600;
export const MAX_WARMUP_SEC = 3600;
const TOP_KEYS = ['name', 'description', 'route', 'connections', 'warmupSec', 'durationSec', 'load', 'message', 'default', 'quick', '$schema'];

/** Validates a parsed scenario file; every problem is prefixed with `scenario "<name>":` and its field path. */
export function validateScenario(raw: unknown, source: string): { scenario?: Scenario; problems: string[] } {
  const problems: Problems = [];
  // The name prefixes every problem: only a short, printable one is repeated (a 50 MB name must not be).
  const rawName = isObject(raw) ? raw['name'] : undefined;
  const name =
    typeof rawName === 'string' && rawName.length > 0 && rawName.length <= MAX_NAME_CHARS && !/[\u0000-\u001f\u007f]/.test(rawName)
      ? rawName
      : path.basename(source, '.json').slice(0, MAX_NAME_CHARS);
  const obj = checkObject(raw, '', problems, TOP_KEYS, ['name', 'description', 'route', 'connections', 'durationSec', 'load']);
  if (!obj) return { problems: problems.map((p) => `scenario "${name}": ${p}`) };
  checkString(obj['name'], 'name', problems);
  if (typeof obj['name'] === 'string' && obj['name'].length > MAX_NAME_CHARS) {
    problems.push(`name: must be at most ${MAX_NAME_CHARS} characters, got ${quote(obj['name'])}`);
  } else if (typeof obj['name'] === 'string' && !/^[a-z0-9][a-z0-9-]*$/.test(obj['name'])) {
    problems.push(`name: must be lower-case letters, digits and dashes, got ${quote(obj['name'])}`);
  }
  checkString(obj['description'], 'description', problems);
  if (typeof obj['description'] === 'string' && obj['description'].length > MAX_DESCRIPTION_CHARS) {
    problems.push(`description: must be at most ${MAX_DESCRIPTION_CHARS} characters, got ${obj['description'].length.toLocaleString('en-US')}`);
  }
  const route = checkString(obj['route'], 'route', problems, ROUTES);
  const connections = checkNumber(obj['connections'], 'connections', problems, { integer: true, min: 1, max: MAX_CONNECTIONS });
  const warmupSec = checkNumber(obj['warmupSec'], 'warmupSec', problems, { min: 0, max: MAX_WARMUP_SEC }) ?? 0;
  const durationSec = checkNumber(obj['durationSec'], 'durationSec', problems, { min: MIN_DURATION_SEC, max: MAX_DURATION_SEC });
  if (obj['default'] !== undefined && typeof obj['default'] !== 'boolean') problems.push('default: must be true or false');

  let models: AnyModel[] = [];
  // The model's own validator checks the keys of `load`: each load shape owns its config.
  const load = obj['load'] === undefined ? undefined : isObject(obj['load']) ? obj['load'] : undefined;
  if (obj['load'] !== undefined && !load) problems.push('load: must be an object with a "model" field');
  if (load) {
    const modelName = checkString(load['model'], 'load.model', problems, MODEL_NAMES) as AnyModel['model'] | undefined;
    if (load['model'] === undefined) problems.push(`load.model: is required (one of ${MODEL_NAMES.join(', ')})`);
    if (modelName) {
      const def = modelNamed(modelName);
      models = def.validate(load, 'load', problems);
      // A model that runs another's load (a capacity search) takes that model's routes.
      const inner = models[0] !== undefined ? def.workload?.(models[0]) : undefined;
      const routes: readonly string[] = inner ? modelOf(inner).routes : def.routes;
      if (route && !routes.includes(route)) {
        // Models that run another's load (a capacity search) take its routes: the hint names the workloads.
        const users = MODEL_NAMES.filter((n) => modelNamed(n).workload === undefined && (modelNamed(n).routes as readonly string[]).includes(route));
        problems.push(`route: the ${inner ? `${inner.model} workload` : `${modelName} model`} drives ${routes.join(' or ')}, got "${route}"${users.length > 0 ? ` (${route} is for the ${users.join(', ')} model${users.length > 1 ? 's' : ''})` : ''}`);
      }
      const m = models[0];
      if (m && connections !== undefined) problems.push(...(def.checkConnections?.(m, connections, 'connections') ?? []));
    }
  }

  let message: MessageShape | undefined;
  const first = models[0];
  // A model that runs another's load (a capacity search) sends that model's messages, by its rule.
  const sender = first !== undefined ? (modelOf(first).workload?.(first) ?? first) : undefined;
  const sends = sender !== undefined ? modelOf(sender).message : 'none';
  if (obj['message'] !== undefined) {
    const errs = validateShape(obj['message'], 'message');
    problems.push(...errs);
    if (errs.length === 0) message = obj['message'] as MessageShape;
    // Such a model matches every reply or delivery to its sender and send time; a template without those
    // fields would leave every message unaccounted for.
    if (message && first && sends === 'accounted' && !shapeHasHeader(message)) {
      problems.push(`message.template: the ${sender!.model} model needs {{conn}}, {{seq}} and {{sentAtUs}} to account for every delivery`);
    }
  } else if (sends !== 'none') problems.push('message: is required for a model that sends messages');

  let quick: QuickOverrides | undefined;
  if (obj['quick'] !== undefined) {
    const q = checkObject(obj['quick'], 'quick', problems, ['connections', 'warmupSec', 'durationSec', 'ratesPerSec']);
    if (q) {
      quick = {};
      // The quick preset replaces the same fields, so it meets the same bounds.
      const c = checkNumber(q['connections'], 'quick.connections', problems, { integer: true, min: 1, max: MAX_CONNECTIONS });
      const w = checkNumber(q['warmupSec'], 'quick.warmupSec', problems, { min: 0, max: MAX_WARMUP_SEC });
      const d = checkNumber(q['durationSec'], 'quick.durationSec', problems, { min: MIN_DURATION_SEC, max: MAX_DURATION_SEC });
      if (c !== undefined) quick.connections = c;
      // The quick preset must describe a runnable scenario too: its connection count meets the same bounds.
      if (c !== undefined && first) problems.push(...(modelOf(first).checkConnections?.(first, c, 'quick.connections') ?? []));
      if (w !== undefined) quick.warmupSec = w;
      if (d !== undefined) quick.durationSec = d;
      if (q['ratesPerSec'] !== undefined) {
        if (!Array.isArray(q['ratesPerSec']) || q['ratesPerSec'].length === 0) problems.push('quick.ratesPerSec: must be a non-empty list');
        else if (q['ratesPerSec'].length > 100) problems.push(`quick.ratesPerSec: must list at most 100 rates, got ${q['ratesPerSec'].length.toLocaleString('en-US')}`);
        else {
          const rates = q['ratesPerSec'].map((r, i) => checkNumber(r, `quick.ratesPerSec[${i}]`, problems, { min: 1, max: 10_000_000 }));
          if (rates.every((r) => r !== undefined)) quick.ratesPerSec = rates as number[];
        }
      }
    }
  }

  if (problems.length > 0) return { problems: problems.map((p) => `scenario "${name}": ${p}`) };
  return {
    problems: [],
    scenario: {
      name: obj['name'] as string,
      description: obj['description'] as string,
      route: route!,
      connections: connections!,
      warmupSec,
      durationSec: durationSec!,
      load: load!,
      ...(message ? { message } : {}),
      default: obj['default'] === true,
      ...(quick ? { quick } : {}),
      source,
    },
  };
}

/** Applies the quick preset's overrides (used by `--quick` and by `bench run` without options). */
export function applyQuick(s: Scenario): Scenario {
  if (!s.quick) return s;
  const q = s.quick;
  return {
    ...s,
    connections: q.connections ?? s.connections,
    warmupSec: q.warmupSec ?? s.warmupSec,
    durationSec: q.durationSec ?? s.durationSec,
    load: applyModelQuick(s.load, q),
  };
}

/** One case per model point (e.g. per open-loop rate). Scenarios are validated, so this cannot fail. */
export function expandCases(s: Scenario): ScenarioCase[] {
  const problems: Problems = [];
  const models = modelNamed(s.load['model'] as AnyModel['model']).validate(s.load, 'load', problems);
  return models.map((model) => ({ name: s.name + caseSuffixOf(model), scenario: s, model }));
}

/**
 * A scenario file's parsed JSON. A leading UTF-8 byte order mark is accepted (base/json.ts says why);
 * files over MAX_JSON_FILE_BYTES and values nested deeper than MAX_JSON_DEPTH are refused.
 * @throws BenchError E_INVALID_SCENARIO naming the file and the problem
 */
function parseFile(file: string): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_JSON_FILE_BYTES) {
      throw new BenchError('E_INVALID_SCENARIO', `scenario file ${file} is ${(size / 2 ** 20).toFixed(0)} MiB; a scenario file may be at most ${MAX_JSON_FILE_BYTES / 2 ** 20} MiB`, {
        hint: 'a scenario describes messages with templates and size distributions (scenarios/README.md); it does not hold them',
      });
    }
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BenchError) throw e;
    throw new BenchError('E_INVALID_SCENARIO', `cannot read scenario file ${file}: ${(e as Error).message}`, {
      hint: 'give a built-in scenario name (`bench list scenarios`) or the path of a JSON file',
    });
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) {
    throw new BenchError('E_INVALID_SCENARIO', `scenario file ${file}: ${parsed.problem}`, { hint: 'see scenarios/README.md for the format; copy a built-in scenario as a starting point' });
  }
  return parsed.value;
}

function loadValidated(file: string, source: string): Scenario {
  const { scenario, problems } = validateScenario(parseFile(file), source);
  if (!scenario) {
    throw new BenchError('E_INVALID_SCENARIO', `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${source}`, {
      details: problems,
      hint: 'see scenarios/README.md for the format; copy a built-in scenario as a starting point',
    });
  }
  return scenario;
}

/** Every built-in scenario, sorted by name. */
export function builtinScenarios(): Scenario[] {
  if (!existsSync(SCENARIOS_DIR)) return [];
  return readdirSync(SCENARIOS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadValidated(path.join(SCENARIOS_DIR, f), `scenarios/${f}`));
}

/** Resolves a name of a built-in scenario or a path to a file (relative to `cwd`). */
export function resolveScenario(nameOrPath: string, cwd: string): Scenario {
  const builtin = path.join(SCENARIOS_DIR, `${nameOrPath}.json`);
  if (!nameOrPath.includes('/') && !nameOrPath.endsWith('.json')) {
    if (existsSync(builtin)) return loadValidated(builtin, `scenarios/${nameOrPath}.json`);
    const names = builtinScenarios().map((s) => s.name);
    throw new BenchError('E_INVALID_SCENARIO', `unknown scenario ${quote(nameOrPath)}`, {
      hint: `built-in scenarios: ${names.join(', ')}; or give the path of a scenario JSON file`,
    });
  }
  const file = path.resolve(cwd, nameOrPath);
  return loadValidated(file, nameOrPath);
}

/** A quick preset's overrides of the raw `load` (e.g. fewer open-loop rates), by the model's own rule. */
function applyModelQuick(load: Record<string, unknown>, q: QuickOverrides): Record<string, unknown> {
  const name = load['model'] as AnyModel['model'];
  const def = MODEL_NAMES.includes(name) ? modelNamed(name) : undefined;
  // Every model with a preset of its own applies it (open loop: ratesPerSec; a capacity search: its load.quick).
  return def?.applyQuick ? def.applyQuick(load, q.ratesPerSec ? { ratesPerSec: q.ratesPerSec } : {}) : load;
}
