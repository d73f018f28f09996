import { describe, expect, it } from 'vitest';
import { clip_grad_norm_, get_total_norm } from '../src/index.js';
import { closeTo, expectClose } from './support/compare.js';
import { referenceNorm } from './support/reference.js';
import { normals } from './support/rng.js';

/** Σ terms in double-double (TwoSum), for terms that are exact doubles. */
function doubleDoubleSum(terms: Float32Array, map: (x: number) => number): [number, number] {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < terms.length; i++) {
    const t = map(terms[i]);
    const s = hi + t;
    const bp = s - hi;
    lo += hi - (s - bp) + (t - bp);
    hi = s;
  }
  const s = hi + lo;
  return [s, lo - (s - hi)];
}

describe('accuracy of the total norm (SPEC §4, §6)', () => {
  const n = 2 ** 24;
  const data = Float32Array.from(normals(n, 2024));

  it('2^24 random float32: 2-norm within 1e-12 of a double-double reference', () => {
    // f32 squares are exact in double, so the double-double sum is exact to ~2^-100.
    const [hi, lo] = doubleDoubleSum(data, (x) => x * x);
    const reference = Math.sqrt(hi) * (1 + lo / (2 * hi));
    const got = get_total_norm(data);
    const rel = Math.abs(got - reference) / reference;
    expect(rel).toBeLessThanOrEqual(1e-12);
    console.log(`[accuracy] 2^24 f32 2-norm relative error ${rel.toExponential(2)}`);
  });

  it('2^24 random float32: 1-norm within 1e-12 of a double-double reference', () => {
    const [hi, lo] = doubleDoubleSum(data, Math.abs);
    const got = get_total_norm(data, 1);
    expect(Math.abs(got - (hi + lo)) / (hi + lo)).toBeLessThanOrEqual(1e-12);
  });

  it('the double-double and the exact BigInt references agree (2^16 elements)', () => {
    const part = data.subarray(0, 2 ** 16);
    const [hi, lo] = doubleDoubleSum(part, (x) => x * x);
    expectClose(Math.sqrt(hi + lo), referenceNorm([part], 2), 1e-15, 'references');
    expectClose(get_total_norm(part), referenceNorm([part], 2), 1e-13, 'library');
  });
});

describe('values torch over- or underflows on are exact here (SPEC §4)', () => {
  const cases = [
    { name: 'float32 ~1e30 (squares overflow f32)', Ctor: Float32Array, scale: 1e30 },
    { name: 'float32 ~1e-40 (subnormal; squares underflow f32)', Ctor: Float32Array, scale: 1e-40 },
    { name: 'float64 ~1e200 (squares overflow f64)', Ctor: Float64Array, scale: 1e200 },
    { name: 'float64 ~1e-300 (squares underflow f64)', Ctor: Float64Array, scale: 1e-300 },
    { name: 'float64 ~1e304 (partials overflow, the norm does not)', Ctor: Float64Array, scale: 1e304 },
    { name: 'float64 ~5e-324 (subnormal doubles)', Ctor: Float64Array, scale: 2 ** -1070 },
  ] as const;
  for (const c of cases) {
    for (const p of [1, 2, 3, 0.5]) {
      it(`${c.name}, p=${p}`, () => {
        const base = normals(1000, 99);
        const scaled = (part: Float64Array) => {
          const a = new c.Ctor(part.length);
          part.forEach((x, i) => {
            a[i] = x * c.scale;
          });
          return a;
        };
        const grads = [scaled(base.subarray(0, 300)), scaled(base.subarray(300))];
        const originals = grads.map((a) => a.slice());
        const expected = referenceNorm(originals, p);
        const total = clip_grad_norm_(grads, 1, p);
        if (!Number.isFinite(expected)) {
          // The norm itself is past the largest double (1e304 with p = 0.5): inf is the exact answer.
          expect(total).toBe(expected);
          return;
        }
        expect(expected).toBeGreaterThan(0);
        expectClose(total, expected, 1e-12, 'total norm');
        // And the clip is correct: the 2-norm after is max_norm (up to f32 rounding) when it clipped.
        if (p === 2 && expected > 1) {
          expect(closeTo(get_total_norm(grads), 1, c.Ctor === Float32Array ? 1e-6 : 1e-12)).toBe(true);
        }
      });
    }
  }

  it('mixes a huge and a tiny tensor in one list', () => {
    const big = new Float64Array([3e200, 4e200]);
    const small = new Float64Array([3e-300, 4e-300]);
    expectClose(get_total_norm([small, big]), 5e200, 1e-15, 'mixed');
    expectClose(get_total_norm([small, new Float64Array([0])]), 5e-300, 1e-15, 'tiny with zero tensor');
  });
});
