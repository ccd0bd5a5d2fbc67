import type { Problems } from '../../base/validate.js';
import type { LoadModel } from '../types.js';
import * as broadcast from './broadcast.js';
import * as ceiling from './ceiling.js';
import * as closed from './closed.js';
import * as http from './http.js';
import * as idle from './idle.js';
import * as open from './open.js';
import * as voice from './voice.js';

/** Every load shape a scenario can name. */
export type AnyModel = LoadModel;

interface ModelModule<M extends AnyModel> {
  description: string;
  /** Validates the scenario's `load` object and expands it into one model per case. */
  validate(raw: Record<string, unknown>, path: string, problems: Problems): M[];
  /** Appended to the scenario name to name a case (e.g. "@10000/s"). */
  caseSuffix(m: M): string;
}

/** Every load shape, chosen by the `model` discriminant of a scenario's `load`. */
export const MODELS: { [K in AnyModel['model']]: ModelModule<Extract<AnyModel, { model: K }>> } = {
  closed,
  open,
  broadcast,
  idle,
  http,
  ceiling,
  voice,
};

export const MODEL_NAMES = Object.keys(MODELS) as AnyModel['model'][];

export function caseSuffixOf(m: AnyModel): string {
  return (MODELS[m.model] as ModelModule<AnyModel>).caseSuffix(m);
}
