import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { rng } from './support/rng.js';

/**
 * Per-tensor norms from the same pass (issue 13, item 2): getNorms / getNormsAsync and the
 * perTensorNorms option. Each per-tensor value must be getTotalNorm([that tensor]) bit for bit, on
 * whichever backend this pass of `npm test` forces — including tensors that take the overflow and
 * underflow rescue, NaN and infinite ones, and empty ones.
 */

const backend = `${g.getBackend().name}/${g.getBackend().isa}`;
const hex = (x: number) => {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16);
};

function list(seed: number): (Float32Array | Float64Array)[] {
  const r = rng(seed);
  const out: (Float32Array | Float64Array)[] = [];
  for (const n of [0, 1, 7, 100, 65537, 3]) {
    for (const Ctor of [Float32Array, Float64Array]) {
      const a = new Ctor(n);
      for (let i = 0; i < n; i++) a[i] = (r() - 0.5) * 2 ** Math.floor(r() * 16 - 8);
      out.push(a);
    }
  }
  out.push(new Float64Array([1e200, -3e199])); // squares overflow: the rescue path
  out.push(new Float64Array([1e-200, 2e-201])); // squares underflow
  out.push(new Float32Array([3e-30, 0]));
  out.push(new Float32Array(5)); // all zeros
  return out;
}

const NORMS = [2, 1, 3, 0.5, -1, 'inf', '-inf', 0] as const;

describe(`per-tensor norms on ${backend}`, () => {
  for (const p of NORMS) {
    it(`p=${p}: perTensor[i] is getTotalNorm([tensor i]) bit for bit, total is getTotalNorm(list)`, () => {
      const grads = list(typeof p === 'number' ? p * 100 + 1 : p.length);
      const { total, perTensor } = g.getNorms(grads, { normType: p });
      expect(perTensor).toHaveLength(grads.length);
      expect(hex(total)).toBe(hex(g.getTotalNorm(grads, { normType: p })));
      grads.forEach((a, i) => {
        expect(hex(perTensor[i]), `tensor ${i} (${a.constructor.name} × ${a.length})`).toBe(
          hex(g.getTotalNorm([a], { normType: p })),
        );
      });
    });
  }

  it('NaN and infinite tensors: their own NaN / inf (p > 0) / 0 (p < 0), canonical NaN', () => {
    const grads = [
      new Float32Array([1, Number.NaN]),
      new Float64Array([Number.POSITIVE_INFINITY, 1]),
      new Float32Array([3, 4]),
    ];
    const { total, perTensor } = g.getNorms(grads);
    expect(total).toBeNaN();
    expect(hex(perTensor[0])).toBe('7ff8000000000000');
    expect(perTensor[1]).toBe(Number.POSITIVE_INFINITY);
    expect(perTensor[2]).toBe(5);
    expect(
      Array.from(g.getNorms([new Float64Array([0, 2]), new Float64Array([4])], { normType: -1 }).perTensor),
    ).toEqual([0, 4]);
  });

  it('null grads are skipped: perTensor counts the gradients that are there', () => {
    const params = [{ grad: new Float32Array([3, 4]) }, { grad: null }, { grad: new Float64Array([12]) }];
    const { total, perTensor } = g.getNorms(params);
    expect(total).toBe(13);
    expect(Array.from(perTensor)).toEqual([5, 12]);
  });

  it("perTensorNorms on clipGradNorm fills the caller's array from the pass that clipped", () => {
    const grads = [new Float32Array([3, 4]), new Float64Array([12])];
    const out = new Float64Array(3).fill(-1);
    expect(g.clipGradNorm(grads, 1, { perTensorNorms: out })).toBe(13);
    expect(Array.from(out)).toEqual([5, 12, -1]);
    expect(g.getTotalNorm(grads)).toBeCloseTo(1, 6); // and it clipped
  });

  it('async variants give the same bits', async () => {
    const grads = list(5);
    const sync = g.getNorms(grads, { normType: 3 });
    const async = await g.getNormsAsync(grads, { normType: 3 });
    expect(hex(async.total)).toBe(hex(sync.total));
    expect(Array.from(async.perTensor, hex)).toEqual(Array.from(sync.perTensor, hex));
    const copies = grads.map((a) => a.slice());
    const out = new Float64Array(grads.length);
    await g.clipGradNormAsync(copies, 1, { normType: 3, perTensorNorms: out });
    expect(Array.from(out, hex)).toEqual(Array.from(sync.perTensor, hex));
  });

  it('bad perTensorNorms: TypeError / RangeError naming it, nothing written; a throwing call writes no norms', async () => {
    const grads = [new Float32Array([3, 4]), new Float64Array([12])];
    expect(() => g.clipGradNorm(grads, 1, { perTensorNorms: new Float32Array(2) as never })).toThrow(
      /^options\.perTensorNorms: expected a Float64Array to fill, got Float32Array/,
    );
    expect(() => g.clipGradNorm(grads, 1, { perTensorNorms: new Float64Array(1) })).toThrow(
      /^options\.perTensorNorms: has 1 elements, the list has 2 gradients/,
    );
    await expect(g.clipGradNormAsync(grads, 1, { perTensorNorms: new Float64Array(1) })).rejects.toThrow(RangeError);
    expect(Array.from(grads[0])).toEqual([3, 4]);
    const out = new Float64Array(2).fill(-1);
    const bad = [new Float32Array([Number.NaN]), new Float32Array([1])];
    expect(() => g.clipGradNorm(bad, 1, { errorIfNonfinite: true, perTensorNorms: out })).toThrow(g.NonFiniteNormError);
    expect(Array.from(out)).toEqual([-1, -1]);
  });
});
