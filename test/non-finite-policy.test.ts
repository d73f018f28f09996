import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';

/**
 * onNonFinite (issue 13, item 4): what a clip does when the total norm is NaN or ±Infinity —
 * 'scale' (torch), 'throw' (errorIfNonfinite), 'skip' (write nothing, as production trainers do).
 * On whichever backend this pass of `npm test` forces.
 */

const backend = `${g.getBackend().name}/${g.getBackend().isa}`;
const bytes = (a: Float32Array | Float64Array) => Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));

function lists() {
  return {
    nan: [new Float32Array([1, Number.NaN, 3]), new Float64Array([4, 5])],
    inf: [new Float32Array([1, Number.POSITIVE_INFINITY]), new Float64Array(70000).fill(0.5)],
    finite: [new Float32Array([3, 4]), new Float64Array([12])],
  };
}

describe(`onNonFinite on ${backend}`, () => {
  it("'skip': a NaN or infinite total writes nothing and is returned; a finite one clips as usual", async () => {
    for (const sync of [true, false]) {
      const { nan, inf, finite } = lists();
      const before = [...nan, ...inf].map(bytes);
      const clip = (l: (Float32Array | Float64Array)[]) =>
        sync ? g.clipGradNorm(l, 1, { onNonFinite: 'skip' }) : g.clipGradNormAsync(l, 1, { onNonFinite: 'skip' });
      expect(await clip(nan)).toBeNaN();
      expect(await clip(inf)).toBe(Number.POSITIVE_INFINITY);
      expect([...nan, ...inf].map(bytes)).toEqual(before);
      expect(await clip(finite)).toBe(13);
      expect(g.getTotalNorm(finite)).toBeCloseTo(1, 6);
    }
  });

  it("'scale' is torch's default (a NaN total makes every element NaN); 'throw' is errorIfNonfinite", () => {
    const { nan } = lists();
    const same = lists().nan;
    g.clipGradNorm(nan, 1, { onNonFinite: 'scale' });
    g.clipGradNorm(same, 1);
    expect(nan.map(bytes)).toEqual(same.map(bytes));
    expect(Number.isNaN(nan[1][0])).toBe(true);
    const fresh = lists().inf;
    const before = fresh.map(bytes);
    expect(() => g.clipGradNorm(fresh, 1, { onNonFinite: 'throw' })).toThrow(g.NonFiniteNormError);
    expect(fresh.map(bytes)).toEqual(before);
  });

  it('bad values and contradictions are errors naming the option, before any work', async () => {
    const { finite } = lists();
    const before = finite.map(bytes);
    expect(() => g.clipGradNorm(finite, 1, { onNonFinite: 'ignore' as never })).toThrow(
      /^options\.onNonFinite: expected 'scale', 'throw' or 'skip', got string "ignore"/,
    );
    expect(() => g.clipGradNorm(finite, 1, { onNonFinite: 'ignore' as never })).toThrow(RangeError);
    expect(() => g.clipGradNorm(finite, 1, { onNonFinite: true as never })).toThrow(TypeError);
    expect(() => g.clipGradNorm(finite, 1, { errorIfNonfinite: true, onNonFinite: 'skip' })).toThrow(
      /^options: errorIfNonfinite: true and onNonFinite: 'skip' disagree/,
    );
    await expect(g.clipGradNormAsync(finite, 1, { onNonFinite: 'x' as never })).rejects.toThrow(RangeError);
    expect(finite.map(bytes)).toEqual(before);
    // errorIfNonfinite: true with onNonFinite: 'throw' agree.
    expect(g.clipGradNorm(finite, 100, { errorIfNonfinite: true, onNonFinite: 'throw' })).toBe(13);
  });
});
