import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The project root, found from this file's place in the build (dist/core/paths.js)
 * rather than from the working directory, so `bench` works from any folder.
 */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where compiled server entry points live. */
export const serversDir = path.join(projectRoot, 'dist', 'servers');

export const binDir = path.join(projectRoot, 'node_modules', '.bin');

/** The compiled simulated upstream (upstream/model.ts), run by Node. */
export const upstreamScript = path.join(projectRoot, 'dist', 'upstream', 'model.js');
