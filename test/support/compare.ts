import { expect } from 'vitest';

/** a and b agree within rtol relative (NaN matches NaN, ±0 match, infinities must be equal). */
export function closeTo(a: number, b: number, rtol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= rtol * Math.max(Math.abs(a), Math.abs(b));
}

export function expectClose(actual: number, expected: number, rtol: number, what = 'value'): void {
  if (!closeTo(actual, expected, rtol)) {
    expect.fail(`${what}: got ${actual}, expected ${expected} (rtol ${rtol})`);
  }
}

export function expectArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  what = 'array',
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!closeTo(actual[i], expected[i], rtol)) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (rtol ${rtol})`);
    }
  }
}

/** The exact bytes of a typed array's view. */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
}
