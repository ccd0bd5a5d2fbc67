// The registry of load models: every load shape a scenario can name, chosen by the `model` field of its
// `load`. Adding a model is one file here (its LoadModelDef) and one line below.
import type { LoadModel } from '../types.js';
import { broadcast } from './broadcast.js';
import { capacity } from './capacity.js';
import { ceiling } from './ceiling.js';
import { closed } from './closed.js';
import { http } from './http.js';
import { idle } from './idle.js';
import type { LoadModelDef } from './model.js';
import { open } from './open.js';
import { voice } from './voice.js';

export type { LoadModelDef, MetricsContext, PhaseSamples, Route } from './model.js';
export { describeSlo, MAX_PLATEAU_SEC, unitOf } from './capacity.js';

/** Every load shape a scenario can name. */
export type AnyModel = LoadModel;

/** Every load model, by its name (the `model` discriminant). */
export const MODELS: { [K in AnyModel['model']]: LoadModelDef<Extract<AnyModel, { model: K }>> } = {
  closed,
  open,
  broadcast,
  idle,
  http,
  ceiling,
  voice,
  capacity,
};

export const MODEL_NAMES = Object.keys(MODELS) as AnyModel['model'][];

/**
 * The definition of a model instance: the one place a model's name chooses its module. Its methods take
 * any model; each module is only ever handed instances of its own (the discriminant chose it).
 */
export function modelOf(m: AnyModel): LoadModelDef<AnyModel> {
  return MODELS[m.model];
}

/** The definition of a model by name (`bench list scenarios`, the scenario validator). */
export function modelNamed(name: AnyModel['model']): LoadModelDef<AnyModel> {
  return MODELS[name];
}

export function caseSuffixOf(m: AnyModel): string {
  return modelOf(m).caseSuffix(m);
}
