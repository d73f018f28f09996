import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { rng } from './support/rng.js';

/**
 * Clip by value with a minimum and a maximum (issue 13.1): clipGradValue(params, { min, max }), as
 * TensorFlow's clip_by_value. Runs on whichever backend this pass of `npm test` forces; every
 * element is compared bit for bit with a scalar reference.
 */

const backend = `${g.getBackend().name}/${g.getBackend().isa}`;
const bits = (a: Float32Array | Float64Array) =>
  Array.from(
    a instanceof Float32Array
      ? new Uint32Array(a.buffer, a.byteOffset, a.length)
      : new BigUint64Array(a.buffer, a.byteOffset, a.length),
    String,
  );

/** x < lo ? lo : x, then > hi ? hi : — with the bounds rounded to the array's dtype. */
function reference(a: Float32Array | Float64Array, min: number, max: number) {
  const out = a.slice();
  const round = a instanceof Float32Array ? Math.fround : (v: number) => v;
  const lo = round(min);
  const hi = round(max);
  for (let i = 0; i < out.length; i++) {
    if (out[i] < lo) out[i] = lo;
    if (out[i] > hi) out[i] = hi;
  }
  return out;
}

function sample(Ctor: typeof Float32Array | typeof Float64Array, n: number, seed: number) {
  const r = rng(seed);
  const a = new Ctor(n);
  for (let i = 0; i < n; i++) a[i] = (r() - 0.5) * 2 ** Math.floor(r() * 12 - 4);
  a[0] = Number.NaN;
  a[1] = Number.POSITIVE_INFINITY;
  a[2] = Number.NEGATIVE_INFINITY;
  a[3] = -0;
  if (Ctor === Float32Array) new Uint32Array(a.buffer)[4] = 0x7f800001; // a signalling NaN: kept as it is
  return a;
}

describe(`clipGradValue(params, { min, max }) on ${backend}`, () => {
  it("TensorFlow's clip_by_value example", () => {
    const t = [new Float32Array([-10, -1, 0]), new Float32Array([0, 2, 10])];
    g.clipGradValue(t, { min: -1, max: 1 });
    expect(t.map((a) => Array.from(a))).toEqual([
      [-1, -1, 0],
      [0, 1, 1],
    ]);
  });

  for (const Ctor of [Float32Array, Float64Array]) {
    for (const [min, max] of [
      [-0.3, 0.7],
      [0.1, 0.1],
      [-1e-3, 2.5],
      [0.1 + 0.2, 1 / 3], // not representable in float32: rounded as torch rounds a clamp scalar
      [Number.NEGATIVE_INFINITY, 0],
      [0, Number.POSITIVE_INFINITY],
    ]) {
      it(`${Ctor.name}, [${min}, ${max}]: the reference's bits, NaN kept, over block-crossing sizes`, () => {
        for (const n of [5, 33, 65537, 131075]) {
          const a = sample(Ctor, n, n + Math.round(max * 1000));
          const want = reference(a, min, max);
          g.clipGradValue([a], { min, max });
          expect(bits(a)).toEqual(bits(want));
        }
      });
    }
  }

  it('one side left out is that side unbounded; the number form is { min: -c, max: c }', () => {
    const a = new Float64Array([-5, -0.5, 0.5, 5]);
    g.clipGradValue(a, { min: -1 });
    expect(Array.from(a)).toEqual([-1, -0.5, 0.5, 5]);
    g.clipGradValue(a, { max: 1 });
    expect(Array.from(a)).toEqual([-1, -0.5, 0.5, 1]);
    const b = sample(Float32Array, 1000, 9);
    const c = b.slice();
    g.clipGradValue(b, 0.25);
    g.clipGradValue(c, { min: -0.25, max: 0.25 });
    expect(bits(b)).toEqual(bits(c));
  });

  it('the async variant gives the same bits', async () => {
    const a = sample(Float32Array, 70000, 3);
    const b = a.slice();
    g.clipGradValue([a], { min: -0.1, max: 0.2 });
    await g.clipGradValueAsync([b], { min: -0.1, max: 0.2 });
    expect(bits(b)).toEqual(bits(a));
  });

  it('bad bounds: a TypeError or RangeError naming them, nothing written', async () => {
    const a = new Float32Array([-3, 3]);
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      [{ min: 2, max: 1 }, RangeError, /^clipValue: min \(2\) is greater than max \(1\)$/],
      [{ min: Number.NaN, max: 1 }, RangeError, /^clipValue\.min: must not be NaN$/],
      [{ max: Number.NaN }, RangeError, /^clipValue\.max: must not be NaN$/],
      [{ min: '0' }, TypeError, /^clipValue\.min: expected a number, got string/],
      [{}, TypeError, /^clipValue: expected \{ min, max \} with at least one of them/],
      [null, TypeError, /^clipValue: expected a number or \{ min, max \}, got null/],
      [[0, 1], TypeError, /^clipValue: expected a number or \{ min, max \}/],
    ];
    for (const [bounds, Err, message] of cases) {
      expect(() => g.clipGradValue([a], bounds as never)).toThrow(Err);
      expect(() => g.clipGradValue([a], bounds as never)).toThrow(message);
      await expect(g.clipGradValueAsync([a], bounds as never)).rejects.toThrow(message);
    }
    expect(Array.from(a)).toEqual([-3, 3]);
  });
});
