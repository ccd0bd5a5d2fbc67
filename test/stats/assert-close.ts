// Shared assertion for floating-point results: relative tolerance with an
// absolute floor so that expected values of 0 work.
import assert from 'node:assert/strict';

export function assertClose(actual: number | null, expected: number, label: string, relTol = 1e-12): void {
  assert.notEqual(actual, null, `${label}: got null, expected ${expected}`);
  const a = actual as number;
  const tol = Math.max(relTol * Math.abs(expected), relTol);
  assert.ok(Math.abs(a - expected) <= tol, `${label}: got ${a}, expected ${expected} (±${tol})`);
}

/** Asserts that `fn` throws a StatsError with the given stable code. */
export function assertThrowsCode(fn: () => unknown, code: string, label = code): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RangeError, `${label}: expected a RangeError, got ${String(err)}`);
    assert.equal((err as { code?: unknown }).code, code, label);
    return true;
  });
}
