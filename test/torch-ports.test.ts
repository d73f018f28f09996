import { describe, expect, it } from 'vitest';
import {
  clip_grad_norm_,
  clip_grad_value_,
  clip_grads_with_norm_,
  get_total_norm,
  NonFiniteNormError,
  type NormType,
} from '../src/index.js';
import { closeTo, expectClose } from './support/compare.js';
import { rng } from './support/rng.js';

/** Ports of PyTorch's own tests for torch.nn.utils.clip_grad (test/nn/test_clip_grad.py). */

type Param = { grad: Float32Array | Float64Array | null };

/** torch's nn.Linear(10, 10): a 10×10 weight and a 10-element bias. */
function linear(weight: ArrayLike<number>, bias: ArrayLike<number> | null): Param[] {
  return [{ grad: Float32Array.from(weight) }, { grad: bias ? Float32Array.from(bias) : null }];
}

function computeNorm(params: Param[], normType: NormType): number {
  const p = normType === 'inf' ? Number.POSITIVE_INFINITY : (normType as number);
  const all = params.flatMap((q) => (q.grad ? Array.from(q.grad, Math.abs) : []));
  if (p === Number.POSITIVE_INFINITY) return Math.max(...all);
  return all.reduce((s, x) => s + x ** p, 0) ** (1 / p);
}

/** All elements were multiplied by one factor; returns it. */
function commonScale(after: Param[], before: Float32Array[]): number {
  const ratios = after.flatMap((q, i) => Array.from(q.grad!, (x, j) => x / before[i][j]));
  const first = ratios[0];
  for (const r of ratios) expectClose(r, first, 1e-6, 'scale factor');
  return first;
}

const NORM_TYPES: NormType[] = [0.5, 1.5, 2, 4, 'inf'];
const arange = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('test_clip_grad_norm', () => {
  const maxNorm = 2;

  it('clips large gradients to max_norm, returns the norm before, and scales uniformly', () => {
    for (const normType of NORM_TYPES) {
      const grads = [Float32Array.from(arange(1, 101)), new Float32Array(10).fill(1 / 1000)];
      const params = linear(grads[0], grads[1]);
      const normBefore = computeNorm(params, normType);
      const norm = clip_grad_norm_(params, maxNorm, normType);
      const normAfter = computeNorm(params, normType);
      expectClose(norm, normBefore, 1.3e-6, `norm (p=${normType})`);
      expectClose(normAfter, maxNorm, 1.3e-6, `norm after (p=${normType})`);
      expect(normAfter).toBeLessThanOrEqual(normBefore);
      commonScale(params, grads);
    }
  });

  it('leaves small gradients exactly unchanged', () => {
    const r = rng(7);
    for (const normType of NORM_TYPES) {
      const grads = [Float32Array.from({ length: 100 }, () => r() / 10000), new Float32Array(10).fill(1 / 500)];
      const params = linear(grads[0], grads[1]);
      const normBefore = computeNorm(params, normType);
      const norm = clip_grad_norm_(params, maxNorm, normType);
      const normAfter = computeNorm(params, normType);
      expectClose(norm, normBefore, 1.3e-6, 'norm');
      expect(normAfter).toBe(normBefore);
      expect(normAfter).toBeLessThanOrEqual(maxNorm);
      expect(commonScale(params, grads)).toBe(1);
    }
  });

  it('accepts a single tensor as well as a list', () => {
    for (const normType of NORM_TYPES) {
      const g1 = Float32Array.from(arange(1, 101));
      const g2 = g1.slice();
      clip_grad_norm_({ grad: g1 }, maxNorm, normType);
      clip_grad_norm_([{ grad: g2 }], maxNorm, normType);
      expect(g1).toEqual(g2);
      const g3 = Float32Array.from(arange(1, 101));
      clip_grad_norm_(g3, maxNorm, normType);
      expect(g3).toEqual(g2);
    }
  });

  it('gives the same result through the split API (get_total_norm + clip_grads_with_norm_)', () => {
    for (const normType of NORM_TYPES) {
      const a = linear(arange(1, 101), new Array(10).fill(1 / 1000));
      const b = linear(arange(1, 101), new Array(10).fill(1 / 1000));
      const norm = clip_grad_norm_(a, maxNorm, normType);
      const total = get_total_norm(
        b.map((q) => q.grad!),
        normType,
      );
      clip_grads_with_norm_(b, maxNorm, total);
      expect(total).toBe(norm);
      expect(b.map((q) => Array.from(q.grad!))).toEqual(a.map((q) => Array.from(q.grad!)));
    }
  });

  it('reads a generator of parameters exactly once', () => {
    const grads = [Float32Array.from(arange(1, 101)), new Float32Array(10).fill(1 / 1000)];
    let pulls = 0;
    function* parameters() {
      for (const g of grads) {
        pulls++;
        yield { grad: g };
      }
    }
    const norm = clip_grad_norm_(parameters(), maxNorm);
    expect(pulls).toBe(2);
    expect(norm).toBeGreaterThan(maxNorm);
    expectClose(computeNorm(linear(grads[0], grads[1]), 2), maxNorm, 1e-6, 'clipped');
  });
});

describe('test_clip_grad_value', () => {
  const clipValue = 2.5;
  const weight = () => arange(-50, 50).map((x) => x / 5);

  for (const withBias of [true, false]) {
    it(`clamps into [-clip, clip] (${withBias ? 'weight and bias' : 'bias grad is None'})`, () => {
      const params = linear(weight(), withBias ? new Array(10).fill(2) : null);
      clip_grad_value_(params, clipValue);
      for (const q of params.filter((x) => x.grad !== null)) {
        expect(Math.max(...q.grad!)).toBeLessThanOrEqual(clipValue);
        expect(Math.min(...q.grad!)).toBeGreaterThanOrEqual(-clipValue);
      }
      // The values inside the range are untouched, the rest are exactly ±clip.
      expect(Array.from(params[0].grad!)).toEqual(weight().map((x) => Math.fround(Math.min(Math.max(x, -2.5), 2.5))));
      if (withBias) expect(Array.from(params[1].grad!)).toEqual(new Array(10).fill(2));
    });
  }

  it('accepts a single tensor as well as a list', () => {
    const p1 = { grad: Float32Array.from(weight()) };
    const p2 = { grad: Float32Array.from(weight()) };
    clip_grad_value_(p1, clipValue);
    clip_grad_value_([p2], clipValue);
    expect(p1.grad).toEqual(p2.grad);
  });
});

/**
 * test_clip_grad_norm_error_if_nonfinite. The rows are torch's; where gradclip is exact
 * and torch overflows (2e200 with p = 2 or 3.5, SPEC §4), the norm is finite here, so
 * those norm types move from torch's "nonfinite" column to "finite".
 */
describe('test_clip_grad_norm_error_if_nonfinite', () => {
  const inf = Number.POSITIVE_INFINITY;
  const nan = Number.NaN;
  const normsPos = [0.1, 1, 2, 3.5, inf];
  const normsNeg = [-0.1, -1, -2, -3.5];
  const normsExcept0 = [...normsPos, ...normsNeg];
  const normsAll = [...normsExcept0, 0];
  type Row = [boolean, boolean, number[], number[], number[]];
  // grad_only_one_elem, prefix_finite_grad_param, scalars, norms_nonfinite, norms_finite
  const rows: Row[] = [
    [false, false, [inf, -inf], normsExcept0, [0]],
    [false, true, [inf, -inf], normsPos, [...normsNeg, 0]],
    [true, false, [inf, -inf], normsPos, [...normsNeg, 0]],
    [true, true, [inf, -inf], normsPos, [...normsNeg, 0]],
    [false, false, [nan], normsExcept0, [0]],
    [false, true, [nan], normsExcept0, [0]],
    [true, false, [nan], normsExcept0, [0]],
    [true, true, [nan], normsExcept0, [0]],
    [false, false, [2e22, -2e22], [], normsAll],
    [false, true, [2e22, -2e22], [], normsAll],
    [true, false, [2e22, -2e22], [], normsAll],
    [true, true, [2e22, -2e22], [], normsAll],
    // torch: nonfinite [3.5, 2, -2, -3.5] / [3.5, 2]; gradclip computes these exactly.
    [false, false, [2e200, -2e200], [], normsAll],
    [false, true, [2e200, -2e200], [], normsAll],
    [true, false, [2e200, -2e200], [], normsAll],
    [true, true, [2e200, -2e200], [], normsAll],
  ];

  function parameters(
    scalar: number,
    oneElem: boolean,
    prefix: boolean,
    Ctor: typeof Float32Array | typeof Float64Array,
  ) {
    const grad = new Ctor(70);
    if (oneElem) grad[1 * 7 + 1] = scalar;
    else grad.fill(scalar);
    return prefix ? [{ grad: new Ctor([1]) }, { grad }] : [{ grad }];
  }

  let ran = 0;
  for (const Ctor of [Float64Array, Float32Array]) {
    it(`${Ctor.name}: throws exactly when the norm is non-finite and error_if_nonfinite is set`, () => {
      for (const [oneElem, prefix, scalars, nonfinite, finite] of rows) {
        if (Ctor === Float32Array && scalars[0] === 2e200) continue; // not representable in f32
        for (const errorIfNonfinite of [false, true]) {
          for (const [norms, isNonfinite] of [
            [nonfinite, true],
            [finite, false],
          ] as const) {
            for (const normType of norms) {
              for (const scalar of scalars) {
                ran++;
                const params = parameters(scalar, oneElem, prefix, Ctor);
                const label = `${Ctor.name} scalar=${scalar} p=${normType} oneElem=${oneElem} prefix=${prefix} strict=${errorIfNonfinite}`;
                if (isNonfinite && errorIfNonfinite) {
                  const before = params.map((q) => q.grad.slice());
                  expect(() => clip_grad_norm_(params, 1, normType, true), label).toThrow(NonFiniteNormError);
                  expect(() => clip_grad_norm_(params, 1, normType, true), label).toThrow(
                    `The total norm of order ${normType === inf ? 'inf' : Number.isInteger(normType) ? `${normType}.0` : normType} for gradients`,
                  );
                  params.forEach((q, i) => {
                    expect(q.grad, label).toEqual(before[i]);
                  });
                } else {
                  const norm = clip_grad_norm_(params, 1, normType, errorIfNonfinite);
                  expect(Number.isFinite(norm), `${label}: norm ${norm}`).toBe(!isNonfinite);
                }
              }
            }
          }
        }
      }
    });
  }

  it('ran the whole table', () => {
    expect(ran).toBeGreaterThan(300);
  });

  it('2e200 with p = 2 is exact, not torch’s overflow', () => {
    const grad = new Float64Array(70).fill(2e200);
    expect(closeTo(get_total_norm(grad, 2), 2e200 * Math.sqrt(70), 1e-15)).toBe(true);
    expect(closeTo(get_total_norm(grad, -2), 2e200 / Math.sqrt(70), 1e-15)).toBe(true);
  });
});
