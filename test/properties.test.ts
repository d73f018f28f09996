import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clip_grad_norm_, get_total_norm } from '../src/index.js';

/** Property tests (fast-check) over random lists of gradients. */

const f32Values = fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const tensorList = fc.array(fc.array(f32Values, { minLength: 0, maxLength: 70 }), { minLength: 1, maxLength: 6 });
const normType = fc.constantFrom<number | 'inf'>(1, 2, 3, 0.5, 'inf');
const maxNorm = fc.double({ min: 1e-3, max: 1e3, noNaN: true });

const toF32 = (lists: number[][]) => lists.map((l) => Float32Array.from(l));
const toF64 = (lists: number[][]) => lists.map((l) => Float64Array.from(l));

fc.configureGlobal({ numRuns: 300 });

describe('properties', () => {
  it('the clipped norm is at most max_norm (up to float32 rounding)', () => {
    fc.assert(
      fc.property(tensorList, maxNorm, normType, (lists, max, p) => {
        const grads = toF32(lists);
        clip_grad_norm_(grads, max, p);
        expect(get_total_norm(grads, p)).toBeLessThanOrEqual(max * (1 + 1e-5));
      }),
    );
  });

  it('the direction is preserved: every element is scaled by the same coefficient', () => {
    fc.assert(
      fc.property(tensorList, maxNorm, normType, (lists, max, p) => {
        const grads = toF64(lists);
        const total = clip_grad_norm_(grads, max, p);
        const coef = Math.min(1, max / (total + 1e-6));
        grads.forEach((a, i) => {
          lists[i].forEach((x, j) => {
            expect(a[j]).toBe(x * coef);
          });
        });
      }),
    );
  });

  it('clipping twice changes nothing more than rounding (and torch’s 1e-6 epsilon)', () => {
    fc.assert(
      fc.property(tensorList, maxNorm, normType, (lists, max, p) => {
        const grads = toF64(lists);
        clip_grad_norm_(grads, max, p);
        const once = grads.map((a) => a.slice());
        clip_grad_norm_(grads, max, p);
        grads.forEach((a, i) => {
          a.forEach((x, j) => {
            // The second coefficient is max / (≈max + 1e-6): 1e-6/max below 1 by design.
            expect(Math.abs(x - once[i][j])).toBeLessThanOrEqual(Math.abs(once[i][j]) * (1e-15 + 1.1e-6 / max));
          });
        });
      }),
    );
  });

  it('float32 and float64 copies of the same data agree: same total, results within f32 rounding', () => {
    fc.assert(
      fc.property(
        tensorList,
        maxNorm,
        fc.constantFrom<number | 'inf'>(1, 2, 'inf', '-inf' as never, 0),
        (lists, max, p) => {
          const f32 = toF32(lists);
          const f64 = f32.map((a) => Float64Array.from(a));
          // f32 values widen exactly and their squares are exact in double: the totals are the same bits.
          expect(clip_grad_norm_(f64, max, p)).toBe(clip_grad_norm_(f32, max, p));
          f32.forEach((a, i) => {
            a.forEach((x, j) => {
              // Two f32 roundings (the coefficient, then the product), or the f32 subnormal spacing.
              expect(Math.abs(x - f64[i][j])).toBeLessThanOrEqual(Math.abs(f64[i][j]) * 2 ** -23 + 2 ** -149);
            });
          });
        },
      ),
    );
  });
});
