/**
 * 16-bit gradients (issue 13): float16 and bfloat16. Inside gradclip a 16-bit tensor is its bits in a
 * typed array the facade makes over the user's memory — a Uint16Array for float16, an Int16Array for
 * bfloat16 (HalfBits below) — so lengths, buffers and offsets come from the engine's accessors like every
 * other array's. Users pass a `Float16Array` (where the runtime has one) or wrap raw bits with
 * `float16(u16)` / `bfloat16(u16)`; a bare Uint16Array/Int16Array is never taken for a gradient.
 *
 * The conversions here are the contract's (SPEC §6 for 16-bit): decoding is exact; encoding is IEEE
 * round-to-nearest-even, from float32 bits (products of two 16-bit values are exact in float32, so
 * that is the one rounding) or from a double (bounds and coefficients computed in double).
 */

export type HalfDtype = 'float16' | 'bfloat16';
/** float16 bits (Uint16Array) or bfloat16 bits (Int16Array): the kernels' view of a 16-bit tensor. */
export type HalfBits = Uint16Array | Int16Array;

/** The canonical quiet NaN of each 16-bit dtype, as the kernels store it. */
export const F16_NAN = 0x7e00;
export const BF16_NAN = 0x7fc0;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

let f16Table: Float32Array | undefined;
let bf16Table: Float32Array | undefined;

/** Every float16 bit pattern's value (65,536 floats, made on first use): decoding is one load. */
export function f16Values(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) {
      const sign = b & 0x8000 ? -1 : 1;
      const e = (b >> 10) & 0x1f;
      const m = b & 0x3ff;
      f16Table[b] =
        e === 0
          ? sign * m * 2 ** -24
          : e === 31
            ? m
              ? Number.NaN
              : sign * Number.POSITIVE_INFINITY
            : sign * (1024 + m) * 2 ** (e - 25);
    }
  }
  return f16Table;
}

/** Every bfloat16 bit pattern's value: the upper half of a float32. */
export function bf16Values(): Float32Array {
  if (!bf16Table) {
    const u = new Uint32Array(65536);
    for (let b = 0; b < 65536; b++) u[b] = b << 16;
    bf16Table = new Float32Array(u.buffer);
  }
  return bf16Table;
}

/** float32 bits → float16 bits, round to nearest even; NaN → the canonical 0x7e00. */
export function f32BitsToF16(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return F16_NAN;
  if (a >= 0x477ff000) return sign | 0x7c00; // ≥ 65520: rounds to infinity
  if (a < 0x38800000) {
    // Below 2^-14: a subnormal float16, in units of 2^-24.
    if (a <= 0x33000000) return sign; // ≤ 2^-25 (the tie at 2^-25 goes to the even 0)
    const e = a >>> 23;
    const m = (a & 0x7fffff) | 0x800000;
    const shift = 126 - e;
    const r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (r + (rem > half || (rem === half && (r & 1) === 1) ? 1 : 0));
  }
  const base = (a - 0x38000000) >>> 13;
  const rem = a & 0x1fff;
  return sign | (base + (rem > 0x1000 || (rem === 0x1000 && (base & 1) === 1) ? 1 : 0));
}

/** float32 bits → bfloat16 bits, round to nearest even; NaN → the canonical 0x7fc0. */
export function f32BitsToBf16(u: number): number {
  if ((u & 0x7fffffff) > 0x7f800000) return BF16_NAN;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A float32 value (exactly representable: a product of two 16-bit values) → the dtype's bits. */
export function encodeF32(x: number, dtype: HalfDtype): number {
  f32Scratch[0] = x;
  return dtype === 'float16' ? f32BitsToF16(u32Scratch[0]) : f32BitsToBf16(u32Scratch[0]);
}

/** A double → the dtype's bits, rounded once to nearest even (not through float32). */
export function encodeDouble(x: number, dtype: HalfDtype): number {
  if (x !== x) return dtype === 'float16' ? F16_NAN : BF16_NAN;
  const [mant, emin, emax, expBits] = dtype === 'float16' ? [10, -14, 15, 5] : [7, -126, 127, 8];
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  const inf = sign | (((1 << expBits) - 1) << mant);
  if (a === Number.POSITIVE_INFINITY) return inf;
  const even = (v: number): number => {
    const f = Math.floor(v);
    const d = v - f;
    return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  };
  if (a < 2 ** emin) return sign | even(a * 2 ** (mant - emin)); // subnormal (1 << mant: the smallest normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let frac = even((a / 2 ** e - 1) * 2 ** mant);
  if (frac === 2 ** mant) {
    frac = 0;
    e++;
  }
  if (e > emax) return inf;
  return sign | ((e - emin + 1) << mant) | frac;
}

/** The value of 16-bit bits. */
export function decode(bits: number, dtype: HalfDtype): number {
  return (dtype === 'float16' ? f16Values() : bf16Values())[bits & 0xffff];
}

/** A double rounded to the dtype (its value). */
export function roundTo(x: number, dtype: HalfDtype): number {
  return decode(encodeDouble(x, dtype), dtype);
}

const HALF_BRAND = Symbol.for('gradclip.HalfGradient');

/**
 * A 16-bit gradient given as raw bits: what float16(bits) / bfloat16(bits) return. Pass it wherever a
 * gradient goes (bare, or as a parameter's `grad`); gradclip reads and writes `bits` in place.
 */
export class HalfGradient {
  readonly bits: Uint16Array;
  readonly dtype: HalfDtype;
  constructor(bits: Uint16Array, dtype: HalfDtype) {
    this.bits = bits;
    this.dtype = dtype;
    Object.defineProperty(this, HALF_BRAND, { value: true });
    Object.freeze(this);
  }
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[HALF_BRAND] === true;
  }
}
