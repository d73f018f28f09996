import { describe, expect, it } from 'vitest';
import { jsBackend } from '../src/backends/js.js';
import { createWasmBackend, embeddedModules } from '../src/backends/wasm.js';
import { scalarWasm, simdWasm } from '../src/backends/wasm-modules.generated.js';
import { decode, encodeDouble, encodeF32, f32BitsToF16, type HalfDtype, roundTo } from '../src/half.js';
import * as g from '../src/index.js';
import { fixtureNumber, loadFixtures } from './support/fixtures.js';
import { nativeConfigs, tryNative } from './support/native.js';
import { CONTRACT, bitsOf as doubleBits, type Order, powerNorm, VARIANTS } from './support/orders.js';
import { rng } from './support/rng.js';

/**
 * 16-bit gradients (issue 13 item 5): float16 / bfloat16 given as raw bits (float16(u16), bfloat16(u16))
 * on the active backend — the 6 PyTorch 2.11 fixture cases, exact references on large tensors, the
 * conversions against an independent reference, identity across backends, instruction sets and thread
 * counts, and bad input.
 */

const DTYPES: HalfDtype[] = ['float16', 'bfloat16'];
const wrap = (bits: Uint16Array, dtype: HalfDtype) => (dtype === 'float16' ? g.float16(bits) : g.bfloat16(bits));
const value = (b: number, dtype: HalfDtype) => decode(b, dtype);
/** A fixture tensor's bits, in a Uint16Array of their own (Buffer.from shares a pool). */
function bitsOf(b64: string): Uint16Array {
  const b = Buffer.from(b64, 'base64');
  return new Uint16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
/** The dtype's spacing at x: one unit in the last place. */
function ulp(x: number, dtype: HalfDtype): number {
  const b = encodeDouble(Math.abs(x), dtype);
  return decode(b + 1, dtype) - decode(b, dtype);
}

describe(`16-bit gradients on the ${g.getBackend().name} backend (${g.getBackend().isa})`, () => {
  const { cases } = loadFixtures();
  const half = cases.filter((c) => c.grads.some((t) => t && (t.dtype === 'float16' || t.dtype === 'bfloat16')));

  it('the fixture file has the 6 float16/bfloat16 cases', () => {
    expect(half.length).toBe(6);
  });

  for (const c of half) {
    it(`PyTorch 2.11: ${c.name} — the norm in the dtype, the clipped gradients within one unit of torch's`, () => {
      const dtype = (c.grads.find((t) => t)?.dtype ?? 'float16') as HalfDtype;
      const grads = c.grads.map((t) => (t ? bitsOf(t.b64) : null));
      const arrays = grads.map((b) => (b ? wrap(b, dtype) : null));
      const total = g.clip_grad_norm_(
        arrays.map((a) => ({ grad: a })),
        c.call.max_norm as number,
        c.call.norm_type as g.NormType,
      );
      const expected = fixtureNumber(c.result);
      // torch rounds each tensor's norm to the dtype before the total, gradclip the exact total once: the
      // same value, or the next one.
      expect(roundTo(total, dtype)).toBe(total); // a value of the dtype
      expect(Math.abs(total - expected)).toBeLessThanOrEqual(ulp(expected, dtype));
      c.after?.forEach((t, i) => {
        if (!t) return;
        const want = bitsOf(t.b64);
        const got = grads[i] as Uint16Array;
        for (let k = 0; k < want.length; k++) {
          const [a, b] = [value(got[k], dtype), value(want[k], dtype)];
          expect(Math.abs(a - b), `grads[${i}][${k}]`).toBeLessThanOrEqual(2 * ulp(b, dtype));
        }
      });
    });
  }

  for (const dtype of DTYPES) {
    it(`${dtype}: 1M random values — the total is the exact double sum of their squares, rounded once to the dtype`, () => {
      const r = rng(dtype.length);
      const n = 1 << 20;
      const bits = new Uint16Array(n);
      for (let i = 0; i < n; i++) bits[i] = encodeDouble((r() - 0.5) * 8, dtype);
      // Exact reference: each square is exact in double (≤ 22 significant bits); BigInt sums them exactly.
      let sum = 0n;
      for (let i = 0; i < n; i++) {
        const v = value(bits[i], dtype);
        const m = BigInt(Math.round(v * 2 ** 30)); // every float16/bfloat16 value here is a multiple of 2^-30
        sum += m * m;
      }
      const exact = Number(sum) / 2 ** 60;
      const norm = g.get_total_norm([wrap(bits, dtype)]);
      expect(norm).toBe(roundTo(Math.sqrt(exact), dtype));
      // The per-tensor norm is the tensor's own get_total_norm, bit for bit.
      const { total, perTensor } = g.getNorms([wrap(bits, dtype), new Float32Array([3, 4])]);
      expect(perTensor[0]).toBe(norm);
      expect(perTensor[1]).toBe(5);
      // A mixed list keeps gradclip's double total (torch would promote to float32): not rounded to the dtype.
      expect(Math.abs(total - Math.sqrt(exact + 25))).toBeLessThanOrEqual(1e-12 * total);
    });

    it(`${dtype}: clip by value with { min, max }: bounds rounded to the dtype, NaN kept bit for bit`, () => {
      const bits = Uint16Array.from([0.05, -3, 2, 0.5, -0.2].map((x) => encodeDouble(x, dtype)));
      const nan = dtype === 'float16' ? 0x7d01 : 0x7f81; // a signalling-looking NaN payload
      const withNaN = Uint16Array.from([...bits, nan]);
      g.clipGradValue(wrap(withNaN, dtype), { min: -0.1, max: 0.3 });
      const lo = roundTo(-0.1, dtype);
      const hi = roundTo(0.3, dtype);
      expect(Array.from(withNaN.subarray(0, 5), (b) => value(b, dtype))).toEqual([
        value(bits[0], dtype),
        lo,
        hi,
        hi,
        lo,
      ]);
      expect(withNaN[5]).toBe(nan);
    });

    it(`${dtype}: scaling stores the correctly rounded product; NaN products are the canonical NaN`, () => {
      const bits = Uint16Array.from(
        [1, 3, 0x3c00, 0x4248, 0x8123, 0].map((b) => (dtype === 'bfloat16' ? b | 0x3f00 : b)),
      );
      const copy = bits.slice();
      g.clipGradsWithNorm(wrap(bits, dtype), 1, 3); // coefficient: torch's, in the dtype
      const coef = Math.min(
        roundTo(
          Math.fround(roundTo(Math.fround(1 / roundTo(Math.fround(3 + Math.fround(1e-6)), dtype)), dtype) * 1),
          dtype,
        ),
        1,
      );
      copy.forEach((b, i) => {
        expect(bits[i], `element ${i}`).toBe(encodeF32(value(b, dtype) * coef, dtype));
      });
      const nanBits = Uint16Array.from([dtype === 'float16' ? 0x7c00 : 0x7f80, 1]);
      g.clipGradsWithNorm(wrap(nanBits, dtype), 1, Number.POSITIVE_INFINITY); // coefficient 0: inf × 0 = NaN
      expect(nanBits[0]).toBe(dtype === 'float16' ? 0x7e00 : 0x7fc0);
    });
  }

  it('float32 → float16 conversion agrees with an independent double-based rounding on 2^20 patterns', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const r = rng(99);
    for (let k = 0; k < 1 << 20; k++) {
      u[0] = Math.floor(r() * 2 ** 32) >>> 0;
      if (k % 4 === 0) u[0] = (u[0] & 0x80000000) | (0x33000000 + Math.floor(r() * 0x14800000)); // around float16's range
      const x = f[0];
      const viaDouble = encodeDouble(x, 'float16');
      const viaBits = f32BitsToF16(u[0]);
      if (viaDouble !== viaBits) throw new Error(`${x}: ${viaDouble.toString(16)} vs ${viaBits.toString(16)}`);
    }
  });

  for (const dtype of DTYPES) {
    it(`${dtype}: a GradientBuffer of 16-bit gradients clips in place, as plain arrays do`, () => {
      const sizes = [5, 70_000, 33];
      const buf = new g.GradientBuffer(sizes, { dtype });
      const r = rng(dtype.length + 40);
      const top = dtype === 'float16' ? 0x7c00 : 0x7f80;
      for (const v of buf.views) for (let i = 0; i < v.bits.length; i++) v.bits[i] = Math.floor(r() * top);
      const plain = buf.views.map((v) => wrap(Uint16Array.from(v.bits), dtype));
      expect(g.clipGradNorm(buf.views, 0.25)).toBe(g.clipGradNorm(plain, 0.25));
      buf.views.forEach((v, i) => {
        expect(Array.from(v.bits)).toEqual(Array.from((plain[i] as g.HalfGradient).bits));
      });
      buf.zero();
      expect(g.get_total_norm(buf.views)).toBe(0);
    });
  }

  it('bad input: a bare Uint16Array is not a gradient; float16() takes only a Uint16Array; agc and optim refuse 16-bit', () => {
    expect(() => g.clip_grad_norm_([new Uint16Array(4)] as never, 1)).toThrow(TypeError);
    expect(() => g.float16(new Float32Array(2) as never)).toThrow(
      /bits: expected a Uint16Array of float16 bit patterns, got Float32Array/,
    );
    expect(() => g.bfloat16([1, 2] as never)).toThrow(TypeError);
    expect(() =>
      g.agc([{ data: g.float16(new Uint16Array(4)), grad: g.float16(new Uint16Array(4)) }] as never, {
        clipping: 0.01,
      }),
    ).toThrow(/parameters\[0\]\.data: expected a Float32Array or Float64Array/);
    expect(() => new g.SGD([{ data: new Uint16Array(2) as never, grad: null }]).step()).toThrow(TypeError);
    // A look-alike carrying the brand (Symbol.for is global) is still checked: its dtype, its bits.
    const forged = { bits: new Uint16Array(2), dtype: 'float8' };
    Object.defineProperty(forged, Symbol.for('gradclip.HalfGradient'), { value: true });
    expect(() => g.clipGradNorm(forged as never, 1)).toThrow(
      /dtype must be 'float16' or 'bfloat16', got string "float8"/,
    );
    const forgedBits = { bits: [1, 2], dtype: 'float16' };
    Object.defineProperty(forgedBits, Symbol.for('gradclip.HalfGradient'), { value: true });
    expect(() => g.getTotalNorm([{ grad: forgedBits }] as never)).toThrow(
      /tensors\[0\]\.grad: a 16-bit gradient's bits must be a Uint16Array, got Array\(2\)/,
    );
    const detached = new Uint16Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    expect(() => g.clipGradNorm(g.float16(detached), 1)).toThrow(/detached/);
  });
});

// ---- identity: every backend, instruction set and thread count gives the same bits -----------------------

const native = tryNative();
const modules = embeddedModules(simdWasm, scalarWasm);

describe('16-bit kernels: the same bits on js, wasm and native (every ISA, threads 1 and 2)', () => {
  const { each } = nativeConfigs(native);
  const backends = () => {
    const list: [
      string,
      { reduce: typeof jsBackend.reduce; scale: typeof jsBackend.scale; clamp: typeof jsBackend.clamp },
    ][] = [
      ['wasm simd128', createWasmBackend(modules, true)],
      ['wasm scalar', createWasmBackend(modules, false)],
    ];
    return list;
  };
  for (const dtype of DTYPES) {
    it(`${dtype}: sums of squares and of |x| in SPEC §6's order, on data where other orders change the bits`, () => {
      // 300 short arrays (one, two or three chunks of 32, the last one with a tail) of values spread over
      // the dtype's whole range: the squares of 16-bit values are exact doubles, so the order of the
      // additions alone decides the bits, and over such a range most additions round. The expected sums
      // come from the order written out (test/support/orders.ts), and the data is checked to tell it
      // from other lane counts, a sequential lane combine, and lanes 0-3 swapped with 8-11 in every chunk
      // (a vector kernel's lane placement gone wrong).
      const r = rng(dtype === 'float16' ? 31 : 32);
      const arrays = Array.from({ length: 300 }, (_, k) => {
        const bits = new Uint16Array([32, 64, 101][k % 3] as number);
        for (let i = 0; i < bits.length; i++) {
          const sign = r() < 0.5 ? 0x8000 : 0;
          bits[i] =
            dtype === 'float16'
              ? sign | (Math.floor(r() * 31) << 10) | Math.floor(r() * 1024)
              : sign | ((107 + Math.floor(r() * 40)) << 7) | Math.floor(r() * 128);
        }
        return bits;
      });
      const decoded = arrays.map((bits) => Float64Array.from(bits, (b) => value(b, dtype)));
      const squares = decoded.map((v) => v.map((x) => x * x));
      const swap = (a: Float64Array) =>
        a.map((x, i) => {
          const j = i % 32;
          const k = j < 4 ? i + 8 : j >= 8 && j < 12 ? i - 8 : i;
          return k < a.length ? (a[k] as number) : x;
        });
      const sums = (list: Float64Array[], order: Order) => list.map((a) => doubleBits(powerNorm([a], 1, order)));
      const expected = { squares: sums(squares, CONTRACT), abs: sums(decoded, CONTRACT) };
      for (const [variant, order] of Object.entries(VARIANTS)) {
        if (variant.startsWith('blocks')) continue; // no array here reaches a block boundary
        expect(sums(squares, order), variant).not.toEqual(expected.squares);
      }
      expect(sums(squares.map(swap), CONTRACT), 'lanes 0-3 and 8-11 swapped').not.toEqual(expected.squares);
      const kernelArrays = arrays.map((bits) => (dtype === 'float16' ? bits : new Int16Array(bits.buffer)));
      const check = (b: { reduce: typeof jsBackend.reduce }, label: string) => {
        const out = new Float64Array(kernelArrays.length);
        b.reduce(kernelArrays, 1, 2, null, out);
        expect(Array.from(out, doubleBits), `${label}: Σx²`).toEqual(expected.squares);
        b.reduce(kernelArrays, 0, 1, null, out);
        expect(Array.from(out, doubleBits), `${label}: Σ|x|`).toEqual(expected.abs);
      };
      check(jsBackend, 'js');
      for (const [name, b] of backends()) check(b, name);
      each((label) => check(native as NonNullable<typeof native>, label));
    });

    it(`${dtype}: scale and clamp of every bit pattern, the same bits as js (coefficients and bounds that round, underflow, overflow)`, () => {
      // Every 16-bit pattern once, in a scrambled order, at an odd offset (so vector loops start unaligned
      // and end in a tail), through the write kernels the vector backends implement on their own: the
      // float32 product rounded once to the dtype (nearest even, subnormal results, overflow to inf, the
      // canonical NaN) and the two-sided clamp (bounds rounded to the dtype, NaN kept bit for bit).
      const patterns = () => {
        const buffer = new ArrayBuffer(2 * (65_536 + 11));
        const a = new Uint16Array(buffer, 2, 65_536 + 9);
        for (let i = 0; i < a.length; i++) a[i] = (i * 40_503) & 0xffff;
        return dtype === 'float16' ? a : new Int16Array(buffer, 2, a.length);
      };
      // (the facade scales by [0, 1] or NaN; 3, -0.5 and inf check the kernels past that)
      const coefficients = [
        0.3,
        0.999,
        1 / 3,
        2 ** -20,
        2 ** -30,
        0,
        7e-4,
        Number.NaN,
        3,
        -0.5,
        Number.POSITIVE_INFINITY,
      ];
      const bounds = [
        [-0.1, 0.2],
        [Number.NEGATIVE_INFINITY, 1e-6],
        [0, 0],
        [-7e4, 7e4],
        [-3e-8, 5e-8],
      ] as const;
      const run = (b: { scale: typeof jsBackend.scale; clamp: typeof jsBackend.clamp }) => {
        const out: string[] = [];
        const dump = (a: Uint16Array | Int16Array) =>
          Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
        for (const c of coefficients) {
          const a = patterns();
          b.scale([a], c);
          out.push(dump(a));
        }
        for (const [lo, hi] of bounds) {
          const a = patterns();
          b.clamp([a], lo, hi);
          out.push(dump(a));
        }
        return out;
      };
      const expected = run(jsBackend);
      for (const [name, b] of backends()) expect(run(b), name).toEqual(expected);
      each((label) => expect(run(native as NonNullable<typeof native>), label).toEqual(expected));
    });

    it(`${dtype}: reduce (every op, p = 3 too), scale, clamp over awkward sizes, NaN/inf/subnormals included`, () => {
      const make = () => {
        const r = rng(7);
        // Random bits (NaN and infinities in nearly every block), then finite values only — zeros and
        // subnormals included, each size around a chunk of 32 and a block of 65,536 — the same with one
        // infinity in the second block, and with a NaN in a tail: the wasm SIMD sum of squares takes the
        // finite blocks and hands the others to its scalar kernel.
        const inf = dtype === 'float16' ? 0x7c00 : 0x7f80;
        const sizes = (finite: boolean) =>
          (finite
            ? [31, 32, 33, 64, 1000, 65_536, 65_536 + 7, 200_003]
            : [0, 1, 31, 33, 1000, 65_536 + 7, 200_003]
          ).map((n) => {
            const a = new Uint16Array(n);
            for (let i = 0; i < n; i++) {
              const b = Math.floor(r() * 65536);
              a[i] = finite && (b & 0x7fff) >= inf ? b & 0xbfff : b;
              if (finite && r() < 0.05) a[i] = r() < 0.5 ? 0 : b & 0x803f; // zeros, subnormals
            }
            return a;
          });
        const list = [...sizes(false), ...sizes(true)];
        const withInf = sizes(true)[7] as Uint16Array<ArrayBuffer>;
        withInf[70_000] = inf | 0x8000;
        const withNaN = sizes(true)[6] as Uint16Array<ArrayBuffer>;
        withNaN[65_536 + 3] = inf | 1;
        list.push(withInf, withNaN);
        return list.map((a) => (dtype === 'float16' ? a : new Int16Array(a.buffer)));
      };
      const run = (b: {
        reduce: typeof jsBackend.reduce;
        scale: typeof jsBackend.scale;
        clamp: typeof jsBackend.clamp;
      }) => {
        const arrays = make();
        const out: string[] = [];
        // Every op unscaled, then the sums rescaled as SPEC §6's overflow recompute does (a power of two
        // per array).
        const scales = Float64Array.from(arrays, (_, i) => [1, 2 ** -600, 2 ** 500, 0.5][i % 4] as number);
        const passes = [
          [0, 1, null],
          [1, 2, null],
          [2, 0, null],
          [3, 0, null],
          [4, 0, null],
          [5, 3, null],
          [0, 1, scales],
          [1, 2, scales],
          [5, 3, scales],
        ] as const;
        for (const [op, p, s] of passes) {
          const res = new Float64Array(arrays.length);
          b.reduce(arrays, op, p, s, res);
          out.push(Array.from(res, (x) => (Number.isNaN(x) ? 'NaN' : String(x))).join(','));
        }
        b.scale(arrays, 0.3);
        b.clamp(arrays, -0.25, 1e3);
        out.push(
          Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toString('base64'),
        );
        return out.join('|');
      };
      const expected = run(jsBackend);
      for (const [name, b] of backends()) expect(run(b), name).toBe(expected);
      each((label) => expect(run(native as NonNullable<typeof native>), label).toBe(expected));
    });
  }
});
