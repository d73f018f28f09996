import { afterAll, describe, expect, it } from 'vitest';
import { ReduceOp } from '../src/backends/backend.js';
import { jsBackend } from '../src/backends/js.js';
import { loadNative, nativeBinding } from '../src/backends/native.js';
import { CROSS_SIZES, spreadList } from './support/lists.js';

/**
 * native == js bit for bit (SPEC §6) for p ∈ {1, 2, ±inf, 0}, f32 and f64, on every
 * instruction set this CPU has, for thread counts 1–4, at awkward sizes and byteOffsets.
 * The parallel threshold is lowered to 0 so that even small lists are split over threads.
 */

let native: ReturnType<typeof loadNative> | undefined;
let loadError = '';
try {
  native = loadNative();
} catch (err) {
  loadError = (err as Error).message;
}

/** The p of SumPow checked for identity: odd, fractional, negative, large, and 1/p roots. */
const GENERAL_P = [3, 3.5, 0.5, 1.5, -1, -2.5, 7, 1 / 3, 100];

const EXACT_OPS = [ReduceOp.SumAbs, ReduceOp.SumSquares, ReduceOp.MaxAbs, ReduceOp.MinAbs, ReduceOp.CountNonzero];

/** Index of the first byte where two views differ, or -1. */
function firstDifference(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function bits(a: Float64Array): string[] {
  return Array.from(new BigUint64Array(a.buffer, a.byteOffset, a.length), (x) => x.toString(16));
}

const isas = native ? nativeBinding().info().supported : [];

describe.runIf(native)('native == js, bit for bit', () => {
  const binding = nativeBinding();
  const initial = binding.info();
  afterAll(() => {
    binding.setIsa(initial.isa);
    binding.setThreads(initial.threads);
    binding.setParallelThreshold(initial.parallelThreshold);
  });

  it(`runs on every kernel set this CPU has (${isas.join(', ')})`, () => {
    expect(isas.at(-1)).toBe('scalar');
    if (process.arch === 'x64') expect(isas).toContain('sse2');
  });

  for (const isa of isas) {
    for (const Ctor of [Float32Array, Float64Array]) {
      it(`${isa}, ${Ctor.name}: reduce for every p (general p through gradclip's pow); scale; scaleEach; clamp — threads 1..4`, () => {
        expect(binding.setIsa(isa)).toBe(true);
        binding.setParallelThreshold(0);
        const grads = spreadList(Ctor, CROSS_SIZES, isa.length * 31 + Ctor.BYTES_PER_ELEMENT);
        for (const op of EXACT_OPS) {
          const want = new Float64Array(grads.length);
          jsBackend.reduce(grads, op, 2, null, want);
          for (let threads = 1; threads <= 4; threads++) {
            binding.setThreads(threads);
            const got = new Float64Array(grads.length);
            native!.reduce(grads, op, 2, null, got);
            expect(bits(got), `op ${op}, ${threads} threads`).toEqual(bits(want));
          }
        }
        // The rescaled recompute of SPEC §6 (exact powers of two).
        const scales = Float64Array.from(grads, (_, i) => 2 ** ((i % 5) * 250 - 500));
        for (const op of [ReduceOp.SumAbs, ReduceOp.SumSquares]) {
          const want = new Float64Array(grads.length);
          const got = new Float64Array(grads.length);
          jsBackend.reduce(grads, op, 2, scales, want);
          native!.reduce(grads, op, 2, scales, got);
          expect(bits(got), `scaled op ${op}`).toEqual(bits(want));
        }
        // General p: gradclip's own pow (src/pow.ts, native/kernels/pow.h) gives the same bits too,
        // vectorized or not, scaled or not.
        const want = new Float64Array(grads.length);
        const got = new Float64Array(grads.length);
        const powScales = Float64Array.from(grads, (_, i) => 2 ** ((i % 3) * 40 - 40));
        for (const p of GENERAL_P) {
          for (const sc of [null, powScales]) {
            jsBackend.reduce(grads, ReduceOp.SumPow, p, sc, want);
            native!.reduce(grads, ReduceOp.SumPow, p, sc, got);
            expect(bits(got), `SumPow p=${p}${sc ? ' scaled' : ''}`).toEqual(bits(want));
          }
        }
        // In-place transforms.
        for (const [threads, coef] of [
          [1, 0.3],
          [3, 1 / 3],
        ]) {
          binding.setThreads(threads);
          const a = grads.map((g) => g.slice());
          const b = grads.map((g) => g.slice());
          jsBackend.scale(a, coef);
          native!.scale(b, coef);
          jsBackend.clamp(a, -0.01, 0.02);
          native!.clamp(b, -0.01, 0.02);
          // Per-tensor coefficients (one of them exactly 1: that tensor is not written).
          const coefs = Float64Array.from(grads, (_, i) => (i % 4 === 0 ? 1 : 1 / (i + 1.5)));
          jsBackend.scaleEach(a, coefs);
          native!.scaleEach(b, coefs);
          a.forEach((x, i) => {
            expect(firstDifference(b[i], x), `tensor ${i}: first differing byte`).toBe(-1);
          });
        }
      });
    }
  }

  it('NaN, infinities and signed zeros are handled alike', () => {
    const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 5e-324, 1e308];
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const special of specials) {
        for (const at of [0, 31, 32, 100]) {
          const a = new Ctor(101).map((_, i) => Math.sin(i));
          a[at] = special;
          for (const op of EXACT_OPS) {
            const want = new Float64Array(1);
            const got = new Float64Array(1);
            jsBackend.reduce([a], op, 2, null, want);
            native!.reduce([a], op, 2, null, got);
            expect(bits(got), `${Ctor.name} ${special} at ${at}, op ${op}`).toEqual(bits(want));
          }
        }
      }
    }
  });
});

describe('native availability', () => {
  it('the addon loads on this machine (CI builds it during npm ci)', () => {
    if (process.env.GRADCLIP_ALLOW_NO_NATIVE === '1') return;
    expect(loadError).toBe('');
  });
});
