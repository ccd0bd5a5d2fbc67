/**
 * Structural validation of rendered objects against the Kubernetes API schema, offline: the validators that
 * `kubernetes-models` compiles from the Kubernetes OpenAPI document (ajv, about API v1.31). They check types
 * (an integer where an integer belongs, int32 ranges), enumerations (completionMode, restartPolicy, protocol,
 * …), required fields (a container's name, a pod's containers, …) and formats (resource quantities).
 * They do not reject unknown fields (the OpenAPI document does not close its objects); the TypeScript types
 * do, where render.ts builds the objects, and test/k8s/typecheck.ts checks the rendered output against them.
 *
 * Why not kubectl: `kubectl apply|create --dry-run=client` needs a server even with `--validate=false` (it
 * asks the API server for its resource list and OpenAPI document: measured, "connection refused" without a
 * cluster), and Debian bookworm's kubernetes-client is 1.20, older than Indexed Jobs (k8s/README.md).
 *
 * `kubernetes-models` is a development dependency: where it is not installed (a production image), the
 * validation says so instead of failing.
 */

import type { Manifest } from './render.js';

/** The API version each rendered kind must carry, and the module of its validator. */
const MODELS: Record<string, { apiVersion: string; load: () => Promise<ModelClass> }> = {
  ConfigMap: { apiVersion: 'v1', load: async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap },
  Service: { apiVersion: 'v1', load: async () => (await import('kubernetes-models/v1/Service')).Service },
  Pod: { apiVersion: 'v1', load: async () => (await import('kubernetes-models/v1/Pod')).Pod },
  Job: { apiVersion: 'batch/v1', load: async () => (await import('kubernetes-models/batch/v1/Job')).Job },
};

type ModelClass = new (data: never) => { validate(): void };

interface AjvLikeError {
  instancePath?: string;
  message?: string;
}

/**
 * Validates every object; each problem names the object (`Kind/name`) and the field path (`/spec/completions`).
 * @returns `available: false` with the reason when the validators are not installed; otherwise the problems (none: valid)
 */
export async function validateManifests(objects: readonly Manifest[] | readonly unknown[]): Promise<{ available: false; reason: string } | { available: true; problems: string[] }> {
  const problems: string[] = [];
  for (const raw of objects) {
    const o = raw as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } };
    const id = `${String(o.kind)}/${String(o.metadata?.name ?? '?')}`;
    const entry = typeof o.kind === 'string' ? MODELS[o.kind] : undefined;
    if (!entry) {
      problems.push(`${id}: kind ${JSON.stringify(o.kind)} is not one render.ts produces (${Object.keys(MODELS).join(', ')})`);
      continue;
    }
    if (o.apiVersion !== entry.apiVersion) problems.push(`${id}: apiVersion must be "${entry.apiVersion}", got ${JSON.stringify(o.apiVersion)}`);
    let Model: ModelClass;
    try {
      Model = await entry.load();
    } catch (e) {
      return { available: false, reason: `the schema validators (npm package kubernetes-models, a development dependency) are not installed: ${(e as Error).message}` };
    }
    try {
      new Model(raw as never).validate();
    } catch (e) {
      const errors = (e as { errors?: AjvLikeError[] }).errors;
      if (!Array.isArray(errors)) throw e;
      for (const err of errors) problems.push(`${id}: ${err.instancePath || '/'} ${err.message ?? 'is invalid'}`);
    }
  }
  return { available: true, problems };
}
