import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { pythonFloat } from '../src/norm.js';

/** The public surface of SPEC §1–§3 beyond what the torch fixtures cover. */

describe('both spellings, one behaviour', () => {
  it('nn.utils holds the torch functions', () => {
    expect(g.nn.utils.clip_grad_norm_).toBe(g.clip_grad_norm_);
    expect(g.nn.utils.clip_grad_value_).toBe(g.clip_grad_value_);
    expect(g.nn.utils.get_total_norm).toBe(g.get_total_norm);
    expect(g.nn.utils.clip_grads_with_norm_).toBe(g.clip_grads_with_norm_);
  });

  it('camelCase and torch spellings give identical bits', () => {
    for (const normType of [1, 2, 3, 'inf', '-inf', 0] as const) {
      const a = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i) * 10);
      const b = a.slice();
      const ta = g.clip_grad_norm_([a], 0.7, normType);
      const tb = g.clipGradNorm([b], 0.7, { normType });
      expect(tb).toBe(ta);
      expect(b).toEqual(a);
      expect(g.getTotalNorm(b, { normType })).toBe(g.get_total_norm(a, normType));
    }
  });

  it('clipGradsWithNorm matches clip_grads_with_norm_', () => {
    const a = new Float64Array([3, 4]);
    const b = a.slice();
    g.clip_grads_with_norm_(a, 1, 5);
    g.clipGradsWithNorm(b, 1, 5);
    expect(b).toEqual(a);
    expect(Array.from(a)).toEqual([3 * (1 / (5 + 1e-6)), 4 * (1 / (5 + 1e-6))]);
  });

  it('async variants resolve to the sync results', async () => {
    const a = new Float32Array([3, 4]);
    await expect(g.getTotalNormAsync(a)).resolves.toBe(5);
    await expect(g.clipGradNormAsync(a, 1)).resolves.toBe(5);
    expect(g.get_total_norm(a)).toBeCloseTo(1, 5);
    await expect(g.clipGradValueAsync(a, 0.1)).resolves.toBeUndefined();
    expect(Array.from(a)).toEqual([Math.fround(0.1), Math.fround(0.1)]);
  });
});

describe('what counts as parameters (SPEC §2)', () => {
  it('accepts arrays, Sets, generators, single arrays and single parameter-likes', () => {
    const make = () => [new Float32Array([3, 0]), new Float64Array([0, 4])];
    expect(g.get_total_norm(make())).toBe(5);
    expect(g.get_total_norm(new Set(make()))).toBe(5);
    expect(
      g.get_total_norm(
        (function* () {
          yield* make();
        })(),
      ),
    ).toBe(5);
    expect(g.get_total_norm(new Float64Array([3, 4]))).toBe(5);
    expect(g.get_total_norm({ grad: new Float64Array([3, 4]) })).toBe(5);
    expect(g.get_total_norm(make().map((grad) => ({ grad })))).toBe(5);
  });

  it('skips null and undefined grads, as torch skips grad is None', () => {
    const w = new Float32Array([3, 4]);
    expect(g.clip_grad_norm_([{ grad: null }, { grad: w }, { grad: undefined }, null, undefined], 1)).toBe(5);
    expect(g.get_total_norm(w)).toBeCloseTo(1, 6);
  });

  it('returns 0 and touches nothing for an empty list or no gradients', () => {
    expect(g.clip_grad_norm_([], 1)).toBe(0);
    expect(g.clip_grad_norm_([{ grad: null }], 1)).toBe(0);
    expect(g.get_total_norm([])).toBe(0);
    expect(g.clip_grad_value_([], 1)).toBeUndefined();
    expect(g.clip_grad_value_([{ grad: null }], 1)).toBeUndefined();
    expect(g.clip_grads_with_norm_([], 1, 5)).toBeUndefined();
  });

  it('counts and scales the same array twice when it is listed twice', () => {
    const w = new Float64Array([3, 4]);
    const total = g.clip_grad_norm_([w, w], 1);
    expect(total).toBeCloseTo(Math.sqrt(50), 14);
    const c = 1 / (Math.sqrt(50) + 1e-6);
    expect(w[0]).toBe(3 * c * c);
  });

  it('handles mixed dtypes, zero-length arrays and odd byteOffsets in one list', () => {
    const buffer = new ArrayBuffer(1024);
    const odd = new Float32Array(buffer, 4, 3);
    odd.set([1, 2, 2]);
    const f64 = new Float64Array(buffer, 8 * 10, 1);
    f64[0] = 4;
    const total = g.clip_grad_norm_([odd, new Float32Array(0), f64], 2.5);
    expect(total).toBe(5);
    expect(Array.from(odd)).toEqual([1, 2, 2].map((x) => Math.fround(x * Math.fround(2.5 / (5 + 1e-6)))));
    expect(f64[0]).toBe(4 * (2.5 / (5 + 1e-6)));
    // Neighbouring bytes of the shared buffer are not touched.
    expect(new Float32Array(buffer, 0, 1)[0]).toBe(0);
    expect(new Float32Array(buffer, 16, 1)[0]).toBe(0);
  });
});

describe('semantics (SPEC §3)', () => {
  it('p = 0 counts the tensors that have any nonzero element (torch’s norm of norms)', () => {
    expect(g.get_total_norm([new Float32Array([0, 5, 7]), new Float32Array([0, 0]), new Float64Array([1])], 0)).toBe(2);
    expect(g.get_total_norm([new Float32Array([Number.NaN])], 0)).toBe(1);
  });

  it('p = -inf is the smallest |x|; empty tensors are ignored (torch throws)', () => {
    expect(g.get_total_norm([new Float32Array([-3, 2, 9]), new Float32Array(0)], '-inf')).toBe(2);
    expect(g.get_total_norm([new Float32Array(0)], '-Infinity')).toBe(0);
    expect(g.get_total_norm([new Float32Array([-3, 2]), new Float32Array(0)], 'inf')).toBe(3);
  });

  it('negative p: (Σ|x|^p)^(1/p), and a zero element makes it 0', () => {
    expect(g.get_total_norm(new Float64Array([1, 1, 1, 1]), -2)).toBeCloseTo(0.5, 15);
    expect(g.get_total_norm(new Float64Array([1, 0]), -1)).toBe(0);
  });

  it('norm_type accepts the strings torch does', () => {
    const a = new Float32Array([-7, 2]);
    for (const s of ['inf', 'Infinity'] as const) expect(g.get_total_norm(a, s)).toBe(7);
    for (const s of ['-inf', '-Infinity'] as const) expect(g.get_total_norm(a, s)).toBe(2);
  });

  it('coef = max_norm / (total + 1e-6) in double, rounded once to float32', () => {
    const a = new Float32Array([0.1, -0.2, 0.3, 1e-8, -0]);
    const orig = a.slice();
    const total = g.clip_grad_norm_(a, 0.05);
    const coef = Math.fround(0.05 / (total + 1e-6));
    orig.forEach((x, i) => {
      expect(Object.is(a[i], Math.fround(x * coef))).toBe(true);
    });
  });

  it('does not write when the coefficient is 1: NaN payloads, -0 and values stay bit-identical', () => {
    const a = new Float32Array([0.25, -0, 1e-30]);
    const bytes = new Uint8Array(a.buffer).slice();
    expect(g.clip_grad_norm_(a, 10)).toBeCloseTo(0.25, 7);
    expect(new Uint8Array(a.buffer)).toEqual(bytes);
  });

  it('non-finite totals scale anyway unless error_if_nonfinite: NaN fills, inf zeroes finite elements', () => {
    const withNaN = new Float32Array([1, Number.NaN, -2]);
    expect(g.clip_grad_norm_(withNaN, 1)).toBeNaN();
    expect(Array.from(withNaN).every(Number.isNaN)).toBe(true);
    const withInf = new Float64Array([1, Number.POSITIVE_INFINITY, -2]);
    expect(g.clip_grad_norm_(withInf, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(Object.is(withInf[0], 0)).toBe(true);
    expect(withInf[1]).toBeNaN();
    expect(Object.is(withInf[2], -0)).toBe(true);
  });

  it('error_if_nonfinite throws torch’s message, also from get_total_norm and the camelCase API', () => {
    const message =
      'The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. ' +
      'To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`';
    const a = new Float32Array([1, Number.POSITIVE_INFINITY]);
    expect(() => g.clip_grad_norm_(a, 1, 2, true)).toThrow(message);
    expect(() => g.get_total_norm(a, 2, true)).toThrow(message);
    expect(() => g.clipGradNorm(a, 1, { errorIfNonfinite: true })).toThrow(g.NonFiniteNormError);
    expect(() => g.clipGradNorm(a, 1, { normType: 'inf', errorIfNonfinite: true })).toThrow('order inf for');
    try {
      g.getTotalNorm(a, { normType: 0.5, errorIfNonfinite: true });
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect((err as g.NonFiniteNormError).totalNorm).toBe(Number.POSITIVE_INFINITY);
      expect((err as Error).message).toContain('order 0.5 for');
    }
    expect(a[0]).toBe(1);
  });

  it('max_norm = 0 zeroes the gradients, keeping signs; max_norm = Infinity never clips', () => {
    const a = new Float64Array([2, -3]);
    g.clip_grad_norm_(a, 0);
    expect(Object.is(a[0], 0) && Object.is(a[1], -0)).toBe(true);
    const b = new Float64Array([2e30, -3]);
    g.clip_grad_norm_(b, Number.POSITIVE_INFINITY);
    expect(Array.from(b)).toEqual([2e30, -3]);
  });

  it('clip_grad_value_: NaN stays NaN, c = 0 maps to signed zeros, negative c follows torch (all become c)', () => {
    const a = new Float32Array([Number.NaN, -5, 5, 0.5, -0]);
    g.clip_grad_value_(a, 1);
    expect(a[0]).toBeNaN();
    expect(Array.from(a.subarray(1))).toEqual([-1, 1, 0.5, -0]);
    const z = new Float64Array([-2, 3, -0, 0]);
    g.clip_grad_value_(z, 0);
    expect([Object.is(z[0], -0), Object.is(z[1], 0), Object.is(z[2], -0), Object.is(z[3], 0)]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const n = new Float64Array([-2, 3, 0.1]);
    g.clip_grad_value_(n, -1);
    expect(Array.from(n)).toEqual([-1, -1, -1]);
  });
});

describe('pythonFloat prints the norm type as torch does', () => {
  it.each([
    [2, '2.0'],
    [1, '1.0'],
    [0, '0.0'],
    [0.5, '0.5'],
    [-3.5, '-3.5'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
    [1e-7, '1e-07'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [123456789.5, '123456789.5'],
    [1.5e300, '1.5e+300'],
  ])('%s → %s', (x, text) => {
    expect(pythonFloat(x)).toBe(text);
  });
});
