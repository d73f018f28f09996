import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { rng } from './support/rng.js';

/**
 * Per-tensor clipping (issue 13, item 3): clipGradNormPerTensor (Keras clipnorm / tf.clip_by_norm per
 * tensor, with torch's coefficient) and clipGradRmsPerTensor (Optax clip_by_block_rms), through the
 * backends' scaleEach kernel — on whichever backend this pass of `npm test` forces.
 */

const backend = `${g.getBackend().name}/${g.getBackend().isa}`;
type Arr = Float32Array | Float64Array;
const bytes = (a: Arr) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

function list(seed: number): Arr[] {
  const r = rng(seed);
  const out: Arr[] = [];
  for (const n of [1, 3, 100, 65537, 0, 2]) {
    for (const Ctor of [Float32Array, Float64Array]) {
      const a = new Ctor(n);
      const scale = 2 ** Math.floor(r() * 10 - 5);
      for (let i = 0; i < n; i++) a[i] = (r() - 0.5) * scale;
      out.push(a);
    }
  }
  out.push(new Float64Array([1e200, 3e199])); // its norm takes the overflow rescue
  return out;
}

describe(`clipGradNormPerTensor on ${backend}`, () => {
  for (const p of [2, 1, 'inf', 3] as const) {
    it(`p=${p}: each tensor exactly as clip_grad_norm_([that tensor]) would clip it; returns the norms before`, () => {
      const grads = list(typeof p === 'number' ? p : 9);
      const alone = grads.map((a) => a.slice());
      const wantNorms = alone.map((a) => g.clip_grad_norm_([a], 0.05, p));
      const norms = g.clipGradNormPerTensor(grads, 0.05, { normType: p });
      expect(Array.from(norms)).toEqual(wantNorms);
      grads.forEach((a, i) => {
        expect(bytes(a), `tensor ${i}`).toBe(bytes(alone[i]));
      });
    });
  }

  it("non-finite norms: 'skip' leaves that tensor alone, 'throw' writes nothing, default scales it", () => {
    const make = () => [new Float32Array([1, Number.NaN]), new Float32Array([30, 40])];
    const skipped = make();
    g.clipGradNormPerTensor(skipped, 1, { onNonFinite: 'skip' });
    expect(bytes(skipped[0])).toBe(bytes(make()[0]));
    expect(Array.from(skipped[1])).toEqual([
      Math.fround(30 * Math.fround(1 / (50 + 1e-6))),
      Math.fround(40 * Math.fround(1 / (50 + 1e-6))),
    ]);
    const thrown = make();
    expect(() => g.clipGradNormPerTensor(thrown, 1, { onNonFinite: 'throw' })).toThrow(g.NonFiniteNormError);
    expect(thrown.map(bytes)).toEqual(make().map(bytes));
    const scaled = make();
    g.clipGradNormPerTensor(scaled, 1);
    expect(Number.isNaN(scaled[0][0])).toBe(true);
  });
});

describe(`clipGradRmsPerTensor on ${backend}`, () => {
  it("Optax's clip_by_block_rms: g · 1/max(1, rms/threshold), rms = ‖g‖₂/√n, per tensor", () => {
    const grads = list(4);
    const before = grads.map((a) => a.slice());
    const threshold = 0.01;
    const rms = g.clipGradRmsPerTensor(grads, threshold);
    grads.forEach((a, i) => {
      const n = a.length;
      const want = n === 0 ? Number.NaN : g.getTotalNorm([before[i]]) / Math.sqrt(n);
      expect(Object.is(rms[i], want) || rms[i] === want, `rms ${i}`).toBe(true);
      if (n === 0) return;
      const coef = 1 / Math.max(1, want / threshold);
      const f32 = a instanceof Float32Array;
      const c = f32 ? Math.fround(coef) : coef;
      for (let k = 0; k < n; k++) {
        const expected = f32 ? Math.fround(before[i][k] * c) : before[i][k] * c;
        if (a[k] !== expected) throw new Error(`tensor ${i}[${k}]: ${a[k]} != ${expected}`);
      }
      if (want <= threshold) expect(bytes(a)).toBe(bytes(before[i])); // under the threshold: untouched
    });
  });

  it('a zero gradient with threshold 0 stays zero; bad arguments name themselves', () => {
    const z = [new Float32Array(4)];
    g.clipGradRmsPerTensor(z, 0);
    expect(Array.from(z[0])).toEqual([0, 0, 0, 0]);
    const a = [new Float32Array([3, 4])];
    expect(() => g.clipGradRmsPerTensor(a, -1)).toThrow(/^threshold: must be >= 0/);
    expect(() => g.clipGradRmsPerTensor(a, Number.NaN)).toThrow(RangeError);
    expect(() => g.clipGradRmsPerTensor(a, 1, { normType: 1 } as never)).toThrow(
      /^options\.normType: the RMS is always/,
    );
    expect(() => g.clipGradNormPerTensor(a, -1)).toThrow(/^maxNorm: must be >= 0/);
    expect(Array.from(a[0])).toEqual([3, 4]);
  });
});

describe(`per-tensor clipping, async forms, on ${backend}`, () => {
  it('clipGradNormPerTensorAsync / clipGradRmsPerTensorAsync leave exactly the bytes the sync forms do', async () => {
    for (const normType of [2, 1, 3, 'inf'] as const) {
      const a = list(21);
      const b = list(21);
      const sync = g.clipGradNormPerTensor(a, 0.05, { normType });
      const out = new Float64Array(a.length);
      const async = await g.clipGradNormPerTensorAsync(b, 0.05, { normType, perTensorNorms: out });
      expect(async).toBe(out);
      expect(Array.from(async)).toEqual(Array.from(sync));
      expect(b.map(bytes)).toEqual(a.map(bytes));
    }
    const a = list(22);
    const b = list(22);
    const sync = g.clipGradRmsPerTensor(a, 0.01);
    const async = await g.clipGradRmsPerTensorAsync(b, 0.01);
    expect(Array.from(async)).toEqual(Array.from(sync));
    expect(b.map(bytes)).toEqual(a.map(bytes));
  });

  it('reject bad arguments before any work, and a non-finite norm with onNonFinite: throw writes nothing', async () => {
    const a = [new Float32Array([3, 4]), new Float32Array([Number.NaN, 1])];
    const before = a.map(bytes);
    await expect(g.clipGradNormPerTensorAsync(a, -1)).rejects.toThrow(/^maxNorm: must be >= 0/);
    await expect(g.clipGradRmsPerTensorAsync(a, 1, { normType: 2 } as never)).rejects.toThrow(TypeError);
    await expect(g.clipGradNormPerTensorAsync(a, 1, { onNonFinite: 'throw' })).rejects.toThrow(g.NonFiniteNormError);
    await expect(g.clipGradRmsPerTensorAsync(a, 0.1, { onNonFinite: 'throw' })).rejects.toThrow(g.NonFiniteNormError);
    expect(a.map(bytes)).toEqual(before);
    const skipped = await g.clipGradNormPerTensorAsync(a, 1, { onNonFinite: 'skip' });
    expect(Number.isNaN(skipped[1])).toBe(true);
    expect(bytes(a[1])).toBe(before[1]);
    expect(Array.from(a[0])).toEqual([
      Math.fround(3 * Math.fround(1 / (5 + 1e-6))),
      Math.fround(4 * Math.fround(1 / (5 + 1e-6))),
    ]);
  });
});
