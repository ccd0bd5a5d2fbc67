// What a call threw, as tests of refusals read it: the BenchError's stable code, or the error itself.
import assert from 'node:assert/strict';
import { BenchError } from '../../base/errors.js';

/** The code of the BenchError `fn` throws, or undefined when it returns; any other error is rethrown. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BenchError) return e.code;
    throw e;
  }
  return undefined;
}

/** The BenchError `p` rejects with; fails the test when it resolves, rethrows any other error. */
export async function errorOf(p: Promise<unknown>): Promise<BenchError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BenchError) return e;
    throw e;
  }
  assert.fail('expected a BenchError');
}
