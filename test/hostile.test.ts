import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import * as g from '../src/index.js';
import { bytesOf } from './support/compare.js';

/** Whether two arrays hold the same bytes (fast, for large arrays; toEqual compares element by element). */
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(bytesOf(a), bytesOf(b)) === 0;

/**
 * Hostile inputs that cannot crash the process, run in-process on whichever backend this pass
 * of `npm test` forces: subclasses and Proxies (issue 8.8, 15.1), arrays from other realms (15.2),
 * a big empty buffer (15.3), exact ±∞/0 totals (8.7), writes through a GradientBuffer's
 * ArrayBuffer (8.9). test/adversarial.test.ts has the ones that need a child process.
 */

const backend = g.getBackend().name;

/** Float32Array subclasses in the shapes tensor libraries use, each hostile in its own way. */
function hostileSubclasses(values: number[]) {
  let lengthReads = 0;
  let speciesRuns = 0;
  class ThrowingLength extends Float32Array {
    get length(): number {
      lengthReads++;
      throw new Error('length read');
    }
  }
  class ShapeCtor extends Float32Array {
    constructor(shape: number[]) {
      super(shape.reduce((a, b) => a * b, 1));
    }
  }
  class OneArg extends Float32Array {
    constructor(n: number) {
      super(n);
    }
  }
  class HostileSpecies extends Float32Array {
    static get [Symbol.species](): never {
      speciesRuns++;
      throw new Error('species used');
    }
    subarray(): never {
      throw new Error('subarray used');
    }
  }
  const fill = <T extends Float32Array>(a: T) => {
    for (let i = 0; i < values.length; i++) a[i] = values[i];
    return a;
  };
  const tensors = [
    fill(new ThrowingLength(values.length)),
    fill(new ShapeCtor([values.length])),
    fill(new OneArg(values.length)),
    fill(new HostileSpecies(values.length)),
  ];
  return { tensors, reads: () => lengthReads, species: () => speciesRuns };
}

const big = (n: number) => Float32Array.from({ length: n }, (_, i) => (i % 1000) - 499.5);

describe(`hostile inputs on the ${backend} backend`, () => {
  it('subclasses (throwing length, shape constructor, one-argument constructor, hostile species) are clipped exactly like plain arrays, without running their code', () => {
    // 65,537–131,072 elements: the sizes where the wasm scratch path cut through subclass constructors.
    for (const n of [5, 65_537, 100_000, 131_073]) {
      const values = Array.from(big(n));
      const { tensors, reads, species } = hostileSubclasses(values);
      const plain = tensors.map(() => Float32Array.from(values));
      const want = g.clip_grad_norm_(plain, 1e-3);
      const got = g.clip_grad_norm_(tensors, 1e-3);
      expect(got).toBe(want);
      tensors.forEach((t, i) => {
        expect(sameBytes(t, plain[i]), `tensor ${i}, n=${n}`).toBe(true);
      });
      g.clip_grad_value_(tensors, 1e-7);
      g.clip_grad_value_(plain, 1e-7);
      tensors.forEach((t, i) => {
        expect(sameBytes(t, plain[i]), `tensor ${i} after clip_grad_value_, n=${n}`).toBe(true);
      });
      expect(reads()).toBe(0);
      expect(species()).toBe(0);
    }
  });

  it('a list with a Proxy in it is refused before anything is written, on every backend alike', () => {
    const a = big(10);
    const before = bytesOf(a);
    expect(() => g.clip_grad_norm_([a, new Proxy(big(3), {})], 1e-3)).toThrow(
      /^parameters\[1\]: expected .*only looks like a Float32Array/,
    );
    expect(() => g.clip_grad_value_(new Proxy([a, big(3)], {}), 1e-3)).not.toThrow();
    a.set(Float32Array.from(new Float32Array(before.buffer)));
    expect(bytesOf(a)).toEqual(before);
  });

  it('typed arrays from another realm (vm context) are gradients like any other', () => {
    const foreign = runInNewContext('new Float32Array([3, 4])') as Float32Array;
    const foreign64 = runInNewContext('({ grad: new Float64Array([12]) })') as { grad: Float64Array };
    expect(foreign instanceof Float32Array).toBe(false);
    expect(g.get_total_norm(foreign)).toBe(5);
    expect(g.clip_grad_norm_([foreign, foreign64], 6.5)).toBe(13);
    const coef = 6.5 / (13 + 1e-6);
    expect(Array.from(foreign)).toEqual([Math.fround(3 * Math.fround(coef)), Math.fround(4 * Math.fround(coef))]);
    expect(foreign64.grad[0]).toBe(12 * coef);
  });

  it('an empty view on an ArrayBuffer larger than 4 GiB is an empty gradient, not a detached one', () => {
    const buffer = new ArrayBuffer(2 ** 32 + 8);
    expect(g.get_total_norm([new Float32Array(buffer, 8, 0), new Float32Array([3, 4])])).toBe(5);
  });

  it('exact totals where the rescaled recombination used to give NaN: ±∞ stays ∞, a zero element with p < 0 gives 0', () => {
    const inf = new Float64Array([Number.POSITIVE_INFINITY]);
    const huge = new Float64Array([1e200]);
    expect(g.clip_grad_norm_([inf, huge], 1)).toBe(Number.POSITIVE_INFINITY);
    // torch's rule with a total of ∞: coef 0, so ∞·0 = NaN and 1e200·0 = 0.
    expect(inf[0]).toBeNaN();
    expect(huge[0]).toBe(0);
    const zero = new Float32Array([0]);
    const tiny = new Float64Array([1e-300]);
    expect(g.get_total_norm([zero, tiny], -2)).toBe(0);
    expect(g.get_total_norm([zero, tiny], -2, true)).toBe(0);
    expect(g.clip_grad_norm_([zero, tiny], 1, -2)).toBe(0);
    expect(tiny[0]).toBe(1e-300);
    // Many such mixes, each checked against the rule: any infinite element (p > 0) → ∞, any zero (p < 0) → 0.
    for (const p of [1, 2, 3, 0.5]) {
      expect(
        g.get_total_norm([new Float32Array([1e30, Number.NEGATIVE_INFINITY]), new Float64Array([1e300, 1e-300])], p),
      ).toBe(Number.POSITIVE_INFINITY);
    }
    for (const p of [-1, -2, -0.5]) {
      expect(g.get_total_norm([new Float64Array([1e-300, 2]), new Float32Array([0, 1e-30])], p)).toBe(0);
    }
  });

  it('GradientBuffer: writes through the views’ ArrayBuffer change no result, and a read never writes it', () => {
    const neighbour = new g.GradientBuffer([7]);
    neighbour.views[0].fill(2);
    const gb = new g.GradientBuffer([4, 5, 6]);
    gb.flat.fill(0); // the "zero all gradients at once" idiom: this buffer's bytes only
    expect(gb.flat.byteLength).toBe(gb.byteLength);
    expect(Array.from(neighbour.views[0])).toEqual([2, 2, 2, 2, 2, 2, 2]);
    const whole = new Float32Array(gb.views[0].buffer);
    gb.views.forEach((v, i) => {
      for (let k = 0; k < v.length; k++) v[k] = (k + 1) * (i + 1) * 0.25;
    });
    const copies = gb.views.map((v) => Float32Array.from(v));
    for (const p of [2, 1, 3, 0.5, 'inf', 0] as const) {
      expect(g.get_total_norm(gb.views, p), `p=${p}`).toBe(g.get_total_norm(copies, p));
    }
    // A whole-buffer view covers whatever else lives in that memory: reading it changes nothing.
    whole[whole.length - 1] = 3;
    const before = Buffer.from(bytesOf(whole));
    for (const p of [2, 1, 3, 'inf', '-inf', 0] as const) g.get_total_norm([whole], p);
    // (Compared as bytes: on wasm the memory is a shared arena of 16 MiB or more, too big for toEqual.)
    expect(Buffer.compare(bytesOf(whole), before)).toBe(0);
    gb.zero();
    expect(g.get_total_norm(gb.views)).toBe(0);
  });
});

describe(`a NaN total on the ${backend} backend`, () => {
  it('is the canonical quiet NaN, whichever NaN the hardware made (multi-block arrays, negative NaNs)', () => {
    const a = new Float32Array(3 * 65536 + 5).fill(0.5);
    new Uint32Array(a.buffer)[70000] = 0xffc00000; // -NaN
    new Uint32Array(a.buffer)[150000] = 0x7fc12345;
    const bits = (x: number) => new Uint32Array(new Float64Array([x]).buffer).join(' ');
    for (const p of [2, 1, 3, 'inf', -1] as const) {
      expect(bits(g.get_total_norm([a], p)), `p=${p}`).toBe('0 2146959360'); // 0x7ff8000000000000
    }
  });
});
