// The SIMD module (wasm v128): 2 doubles per vector, 16 accumulators, so accumulator k holds
// lanes 2k and 2k+1 of the SPEC §6 order. The accumulators are written out one by one
// (AssemblyScript keeps locals, not arrays, in registers), and combined in registers too, so
// the kernels never write linear memory they were not asked to; everything else mirrors scalar.ts.
import { LANES } from './contract';
import {
  adamStep,
  blockSumHalf as blockSumHalfScalar,
  blockSumScalar,
  canonicalizeRange,
  clampHalf as clampHalfScalar,
  clampRange,
  extremeAbsRange,
  halfValue,
  scaleHalf as scaleHalfScalar,
  scaleRange,
  sgdStep,
} from './common';

export {
  blockSumPowF32,
  blockSumPowF64,
  colSumSquaresF32,
  colSumSquaresF64,
  countNonzeroF32,
  countNonzeroF64,
  countNonzeroHalf,
  extremeAbsHalf,
  heapBase,
  scaleColsF32,
  scaleColsF64,
} from './common';

/** Two elements of type T widened to f64x2 (f32 → f64 is exact). */
// @ts-ignore: decorator
@inline
function wide<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(p));
  return v128.load(p);
}

// @ts-ignore: decorator
@inline
function term(v: v128, squares: bool): v128 {
  return squares ? f64x2.mul(v, v) : f64x2.abs(v);
}
/** v·s, or v itself for an unscaled sum (x·1 = x: the same bits without the multiply). */
// @ts-ignore: decorator
@inline
function scaleBy(v: v128, sv: v128, scaled: bool): v128 {
  return scaled ? f64x2.mul(v, sv) : v;
}

/**
 * SPEC §6's lane tree over the 16 accumulators (accumulator k holds lanes 2k and 2k+1), in registers:
 * lane k + k+16 is accumulator j + j+8, then j + j+4, j + j+2, 0 + 1, then the two halves.
 */
// @ts-ignore: decorator
@inline
function laneTree(
  a0: v128,
  a1: v128,
  a2: v128,
  a3: v128,
  a4: v128,
  a5: v128,
  a6: v128,
  a7: v128,
  a8: v128,
  a9: v128,
  a10: v128,
  a11: v128,
  a12: v128,
  a13: v128,
  a14: v128,
  a15: v128,
): f64 {
  const b0 = f64x2.add(f64x2.add(a0, a8), f64x2.add(a4, a12));
  const b1 = f64x2.add(f64x2.add(a1, a9), f64x2.add(a5, a13));
  const b2 = f64x2.add(f64x2.add(a2, a10), f64x2.add(a6, a14));
  const b3 = f64x2.add(f64x2.add(a3, a11), f64x2.add(a7, a15));
  const c = f64x2.add(f64x2.add(b0, b2), f64x2.add(b1, b3));
  return f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1);
}

/** The terms of elements j and j + 1 of a block's tail (0 for j + 1 past the end: adding +0 to a lane changes no bit). */
function tailTerms<T>(ptr: usize, j: i32, n: i32, sv: v128, squares: bool): v128 {
  const lo = <f64>load<T>(ptr + <usize>j * sizeof<T>());
  const hi: f64 = j + 1 < n ? <f64>load<T>(ptr + <usize>(j + 1) * sizeof<T>()) : 0;
  return term(f64x2.mul(f64x2.replace_lane(f64x2.splat(lo), 1, hi), sv), squares);
}

/**
 * Σ|x·s| or Σ(x·s)² over one block. Inlined with constant `squares` and `scaled` at each call below, so
 * the choices are folded out of the loop; square, then add, two roundings (wasm has no fused multiply-add).
 */
// @ts-ignore: decorator
@inline
function blockSum<T>(ptr: usize, n: i32, s: f64, squares: bool, scaled: bool = true): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let a4 = f64x2.splat(0);
  let a5 = f64x2.splat(0);
  let a6 = f64x2.splat(0);
  let a7 = f64x2.splat(0);
  let a8 = f64x2.splat(0);
  let a9 = f64x2.splat(0);
  let a10 = f64x2.splat(0);
  let a11 = f64x2.splat(0);
  let a12 = f64x2.splat(0);
  let a13 = f64x2.splat(0);
  let a14 = f64x2.splat(0);
  let a15 = f64x2.splat(0);
  const sv = f64x2.splat(s);
  let i: i32 = 0;
  for (; i + LANES <= n; i += LANES) {
    const p = ptr + <usize>i * sizeof<T>();
    a0 = f64x2.add(a0, term(scaleBy(wide<T>(p + 0 * sizeof<T>()), sv, scaled), squares));
    a1 = f64x2.add(a1, term(scaleBy(wide<T>(p + 2 * sizeof<T>()), sv, scaled), squares));
    a2 = f64x2.add(a2, term(scaleBy(wide<T>(p + 4 * sizeof<T>()), sv, scaled), squares));
    a3 = f64x2.add(a3, term(scaleBy(wide<T>(p + 6 * sizeof<T>()), sv, scaled), squares));
    a4 = f64x2.add(a4, term(scaleBy(wide<T>(p + 8 * sizeof<T>()), sv, scaled), squares));
    a5 = f64x2.add(a5, term(scaleBy(wide<T>(p + 10 * sizeof<T>()), sv, scaled), squares));
    a6 = f64x2.add(a6, term(scaleBy(wide<T>(p + 12 * sizeof<T>()), sv, scaled), squares));
    a7 = f64x2.add(a7, term(scaleBy(wide<T>(p + 14 * sizeof<T>()), sv, scaled), squares));
    a8 = f64x2.add(a8, term(scaleBy(wide<T>(p + 16 * sizeof<T>()), sv, scaled), squares));
    a9 = f64x2.add(a9, term(scaleBy(wide<T>(p + 18 * sizeof<T>()), sv, scaled), squares));
    a10 = f64x2.add(a10, term(scaleBy(wide<T>(p + 20 * sizeof<T>()), sv, scaled), squares));
    a11 = f64x2.add(a11, term(scaleBy(wide<T>(p + 22 * sizeof<T>()), sv, scaled), squares));
    a12 = f64x2.add(a12, term(scaleBy(wide<T>(p + 24 * sizeof<T>()), sv, scaled), squares));
    a13 = f64x2.add(a13, term(scaleBy(wide<T>(p + 26 * sizeof<T>()), sv, scaled), squares));
    a14 = f64x2.add(a14, term(scaleBy(wide<T>(p + 28 * sizeof<T>()), sv, scaled), squares));
    a15 = f64x2.add(a15, term(scaleBy(wide<T>(p + 30 * sizeof<T>()), sv, scaled), squares));
  }
  // The tail: element i + j belongs to lane j, i.e. accumulator j >> 1.
  if (i + 0 < n) a0 = f64x2.add(a0, tailTerms<T>(ptr, i + 0, n, sv, squares));
  if (i + 2 < n) a1 = f64x2.add(a1, tailTerms<T>(ptr, i + 2, n, sv, squares));
  if (i + 4 < n) a2 = f64x2.add(a2, tailTerms<T>(ptr, i + 4, n, sv, squares));
  if (i + 6 < n) a3 = f64x2.add(a3, tailTerms<T>(ptr, i + 6, n, sv, squares));
  if (i + 8 < n) a4 = f64x2.add(a4, tailTerms<T>(ptr, i + 8, n, sv, squares));
  if (i + 10 < n) a5 = f64x2.add(a5, tailTerms<T>(ptr, i + 10, n, sv, squares));
  if (i + 12 < n) a6 = f64x2.add(a6, tailTerms<T>(ptr, i + 12, n, sv, squares));
  if (i + 14 < n) a7 = f64x2.add(a7, tailTerms<T>(ptr, i + 14, n, sv, squares));
  if (i + 16 < n) a8 = f64x2.add(a8, tailTerms<T>(ptr, i + 16, n, sv, squares));
  if (i + 18 < n) a9 = f64x2.add(a9, tailTerms<T>(ptr, i + 18, n, sv, squares));
  if (i + 20 < n) a10 = f64x2.add(a10, tailTerms<T>(ptr, i + 20, n, sv, squares));
  if (i + 22 < n) a11 = f64x2.add(a11, tailTerms<T>(ptr, i + 22, n, sv, squares));
  if (i + 24 < n) a12 = f64x2.add(a12, tailTerms<T>(ptr, i + 24, n, sv, squares));
  if (i + 26 < n) a13 = f64x2.add(a13, tailTerms<T>(ptr, i + 26, n, sv, squares));
  if (i + 28 < n) a14 = f64x2.add(a14, tailTerms<T>(ptr, i + 28, n, sv, squares));
  if (i + 30 < n) a15 = f64x2.add(a15, tailTerms<T>(ptr, i + 30, n, sv, squares));
  return laneTree(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
}

export function blockSumF32(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  // float32's Σx² unscaled (the norm's pass; s is 1 unless SPEC §6's rescue recomputes): no multiply by s.
  if (squares && s == 1) return blockSum<f32>(ptr, n, 1, true, false);
  return squares ? blockSum<f32>(ptr, n, s, true) : blockSum<f32>(ptr, n, s, false);
}

export function blockSumF64(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  return squares ? blockSum<f64>(ptr, n, s, true) : blockSum<f64>(ptr, n, s, false);
}

// ---- 16-bit blocks: eight values per load, decoded in f32x4, then the same lanes as blockSum ----

/**
 * Four 16-bit values (the i32x4 `w`) moved into float32's fields: bfloat16 (shift 16) is the upper half
 * of a float32, exactly x; float16 without its sign (shift 13) becomes |x|·2^-112 exactly (subnormals
 * as float32 subnormals). Nothing multiplies the float32 (a multiply of a subnormal float32 is several
 * times slower on x86): once widened to double, |x|·2^-112 is a normal number and so are its square
 * and every sum of squares (>= 2^-272), so each rounding is x²'s own scaled by 2^-224, undone exactly
 * at the end. Finite float16 only (the caller checks).
 */
// @ts-ignore: decorator
@inline
function decode4(w: v128, shift: i32): v128 {
  return i32x4.shl(w, shift);
}

/** The upper two float32 of `q` moved down, for promote_low. */
// @ts-ignore: decorator
@inline
function upper(q: v128): v128 {
  return v128.shuffle<u32>(q, q, 2, 3, 2, 3);
}

// @ts-ignore: decorator
@inline
function square(v: v128): v128 {
  return f64x2.mul(v, v);
}

/** The squares of 16-bit elements j and j + 1 of a block's tail (0 past the end), as tailTerms. */
function tailSquaresHalf(ptr: usize, j: i32, n: i32, bf16: bool): v128 {
  const down: f64 = bf16 ? 1 : 1.925929944387236e-34; // 2^-112, as decode4's float16
  const lo = halfValue(<u32>load<u16>(ptr + (<usize>j << 1)), bf16) * down;
  const hi: f64 = j + 1 < n ? halfValue(<u32>load<u16>(ptr + (<usize>(j + 1) << 1)), bf16) * down : 0;
  return square(f64x2.replace_lane(f64x2.splat(lo), 1, hi));
}

/**
 * Σx² over one block of 16-bit values: the lanes, tail and tree of blockSum, each element decoded
 * exactly (decode4). A float16 block holding an infinity or NaN is summed by the scalar kernel instead
 * (the same SPEC §6 bits): the check is one unsigned max per eight values. One copy for both dtypes (the
 * dtype is a mask, a shift and a unit, not a branch) and only the norm's unscaled squares: |x|, |x|^p
 * and the rescaled sums of SPEC §6's overflow recompute stay scalar, which keeps the module small.
 */
function blockSumSquaresHalf(ptr: usize, n: i32, bf16: bool): f64 {
  let a0 = f64x2.splat(0);
  let a1 = f64x2.splat(0);
  let a2 = f64x2.splat(0);
  let a3 = f64x2.splat(0);
  let a4 = f64x2.splat(0);
  let a5 = f64x2.splat(0);
  let a6 = f64x2.splat(0);
  let a7 = f64x2.splat(0);
  let a8 = f64x2.splat(0);
  let a9 = f64x2.splat(0);
  let a10 = f64x2.splat(0);
  let a11 = f64x2.splat(0);
  let a12 = f64x2.splat(0);
  let a13 = f64x2.splat(0);
  let a14 = f64x2.splat(0);
  let a15 = f64x2.splat(0);
  const magnitude = i16x8.splat(<i16>(bf16 ? 0xffff : 0x7fff));
  const shift: i32 = bf16 ? 16 : 13;
  let top = i16x8.splat(0);
  let i: i32 = 0;
  for (; i + LANES <= n; i += LANES) {
    const p = ptr + (<usize>i << 1);
    let w = v128.load(p);
    w = v128.and(w, magnitude);
    top = i16x8.max_u(top, w);
    let q = decode4(i32x4.extend_low_i16x8_u(w), shift);
    a0 = f64x2.add(a0, square(f64x2.promote_low_f32x4(q)));
    a1 = f64x2.add(a1, square(f64x2.promote_low_f32x4(upper(q))));
    q = decode4(i32x4.extend_high_i16x8_u(w), shift);
    a2 = f64x2.add(a2, square(f64x2.promote_low_f32x4(q)));
    a3 = f64x2.add(a3, square(f64x2.promote_low_f32x4(upper(q))));
    w = v128.load(p + 16);
    w = v128.and(w, magnitude);
    top = i16x8.max_u(top, w);
    q = decode4(i32x4.extend_low_i16x8_u(w), shift);
    a4 = f64x2.add(a4, square(f64x2.promote_low_f32x4(q)));
    a5 = f64x2.add(a5, square(f64x2.promote_low_f32x4(upper(q))));
    q = decode4(i32x4.extend_high_i16x8_u(w), shift);
    a6 = f64x2.add(a6, square(f64x2.promote_low_f32x4(q)));
    a7 = f64x2.add(a7, square(f64x2.promote_low_f32x4(upper(q))));
    w = v128.load(p + 32);
    w = v128.and(w, magnitude);
    top = i16x8.max_u(top, w);
    q = decode4(i32x4.extend_low_i16x8_u(w), shift);
    a8 = f64x2.add(a8, square(f64x2.promote_low_f32x4(q)));
    a9 = f64x2.add(a9, square(f64x2.promote_low_f32x4(upper(q))));
    q = decode4(i32x4.extend_high_i16x8_u(w), shift);
    a10 = f64x2.add(a10, square(f64x2.promote_low_f32x4(q)));
    a11 = f64x2.add(a11, square(f64x2.promote_low_f32x4(upper(q))));
    w = v128.load(p + 48);
    w = v128.and(w, magnitude);
    top = i16x8.max_u(top, w);
    q = decode4(i32x4.extend_low_i16x8_u(w), shift);
    a12 = f64x2.add(a12, square(f64x2.promote_low_f32x4(q)));
    a13 = f64x2.add(a13, square(f64x2.promote_low_f32x4(upper(q))));
    q = decode4(i32x4.extend_high_i16x8_u(w), shift);
    a14 = f64x2.add(a14, square(f64x2.promote_low_f32x4(q)));
    a15 = f64x2.add(a15, square(f64x2.promote_low_f32x4(upper(q))));
  }
  // float16 infinities and NaNs (bits 0x7c00 and up) decode to finite values above: such a block is the
  // scalar kernel's.
  if (!bf16 && v128.any_true(i16x8.ge_u(top, i16x8.splat(0x7c00)))) return blockSumScalar<u16>(ptr, n, true, 1, false);
  if (i + 0 < n) a0 = f64x2.add(a0, tailSquaresHalf(ptr, i + 0, n, bf16));
  if (i + 2 < n) a1 = f64x2.add(a1, tailSquaresHalf(ptr, i + 2, n, bf16));
  if (i + 4 < n) a2 = f64x2.add(a2, tailSquaresHalf(ptr, i + 4, n, bf16));
  if (i + 6 < n) a3 = f64x2.add(a3, tailSquaresHalf(ptr, i + 6, n, bf16));
  if (i + 8 < n) a4 = f64x2.add(a4, tailSquaresHalf(ptr, i + 8, n, bf16));
  if (i + 10 < n) a5 = f64x2.add(a5, tailSquaresHalf(ptr, i + 10, n, bf16));
  if (i + 12 < n) a6 = f64x2.add(a6, tailSquaresHalf(ptr, i + 12, n, bf16));
  if (i + 14 < n) a7 = f64x2.add(a7, tailSquaresHalf(ptr, i + 14, n, bf16));
  if (i + 16 < n) a8 = f64x2.add(a8, tailSquaresHalf(ptr, i + 16, n, bf16));
  if (i + 18 < n) a9 = f64x2.add(a9, tailSquaresHalf(ptr, i + 18, n, bf16));
  if (i + 20 < n) a10 = f64x2.add(a10, tailSquaresHalf(ptr, i + 20, n, bf16));
  if (i + 22 < n) a11 = f64x2.add(a11, tailSquaresHalf(ptr, i + 22, n, bf16));
  if (i + 24 < n) a12 = f64x2.add(a12, tailSquaresHalf(ptr, i + 24, n, bf16));
  if (i + 26 < n) a13 = f64x2.add(a13, tailSquaresHalf(ptr, i + 26, n, bf16));
  if (i + 28 < n) a14 = f64x2.add(a14, tailSquaresHalf(ptr, i + 28, n, bf16));
  if (i + 30 < n) a15 = f64x2.add(a15, tailSquaresHalf(ptr, i + 30, n, bf16));
  // 2^224 for float16 (decode4)
  const sum = laneTree(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
  return sum * (bf16 ? 1 : 2.695994666715064e67);
}

// ---- 16-bit write passes: eight values per v128, the bits of common.ts's scaleHalf / clampHalf ----
// (Constants are locals set before each loop; a first version with inline constants and a full float16
// decode ran the float16 scale ~3x slower.)

/** Four float32 (as bits) rounded to bfloat16 bits: common.ts's f32BitsToBf16 without a branch. */
// @ts-ignore: decorator
@inline
function roundBf16(u: v128, half: v128, one: v128, nanBits: v128, abs: v128, finiteTop: v128): v128 {
  const r = i32x4.shr_u(i32x4.add(i32x4.add(u, half), v128.and(i32x4.shr_u(u, 16), one)), 16);
  return v128.bitselect(nanBits, r, i32x4.gt_u(v128.and(u, abs), finiteTop));
}

/** Four positive finite float32 (as bits) rounded to float16 bits without a branch (scaleHalf says how). */
// @ts-ignore: decorator
@inline
function roundF16Positive(
  a: v128,
  bias: v128,
  one: v128,
  halfF: v128,
  halfBits: v128,
  smallTop: v128,
  bigBottom: v128,
  infF16: v128,
): v128 {
  const normal = i32x4.shr_u(i32x4.add(i32x4.add(a, bias), v128.and(i32x4.shr_u(a, 13), one)), 13);
  const r = v128.bitselect(i32x4.sub(f32x4.add(a, halfF), halfBits), normal, i32x4.lt_s(a, smallTop));
  return v128.bitselect(infF16, r, i32x4.gt_s(a, bigBottom));
}

/**
 * x ← x·c (c a value of the dtype, so the float32 product is exact), rounded once to the dtype.
 * bfloat16: the value is the float32 upper half; the product rounds back by common.ts's integer rule.
 * float16: the product is formed from |x|·2^-112 (its magnitude bits moved into float32's fields, exact,
 * subnormals included) times c·2^112, positive and finite, and rounded without branches — the normal
 * range adds 0xfff plus the kept lowest bit before the shift (a carry into the exponent is the rounding
 * up it should be), the subnormal range by a float32 add: |v| + 0.5 has ulp 2^-24, float16's subnormal
 * step, so its bits above 0.5's are the rounded mantissa (1024 when it rounds up to the smallest
 * normal) — then the sign goes back on; infinities and NaNs (magnitude bits 0x7c00 and up) take inf·c's
 * and NaN's results directly. A NaN coefficient (a NaN total, scaled anyway), a negative or an infinite
 * one is the scalar kernel's.
 */
export function scaleHalf(ptr: usize, n: i32, c: f32, bf16: bool): void {
  let i: i32 = 0;
  if (bf16) {
    const cv = f32x4.splat(c);
    const nanBits = i32x4.splat(0x7fc0);
    const finiteTop = i32x4.splat(0x7f800000);
    const abs = i32x4.splat(0x7fffffff);
    const one = i32x4.splat(1);
    const half = i32x4.splat(0x7fff);
    for (; i + 8 <= n; i += 8) {
      const p = ptr + (<usize>i << 1);
      const w = v128.load(p);
      const lo = roundBf16(f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(w), 16), cv), half, one, nanBits, abs, finiteTop);
      const hi = roundBf16(f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(w), 16), cv), half, one, nanBits, abs, finiteTop);
      v128.store(p, i16x8.narrow_i32x4_u(lo, hi)); // every lane is <= 0xffff: no saturation
    }
  } else if (c >= 0 && c <= 65504) {
    // (the coefficients gradclip scales by are in [0, 1] or NaN; anything else is the scalar kernel's)
    const cv = f32x4.splat(c * 5.192296858534828e33); // c·2^112: finite
    const magnitude = i16x8.splat(0x7fff);
    const signBit = i16x8.splat(<i16>0x8000);
    const infBits = i16x8.splat(0x7c00);
    // inf·c: inf with x's sign for c > 0, NaN for c = 0
    const infOut = i16x8.splat(<i16>(c > 0 ? 0x7c00 : 0x7e00));
    const infSign = i16x8.splat(<i16>(c > 0 ? 0x8000 : 0));
    const nanOut = i16x8.splat(0x7e00);
    const bias = i32x4.splat(0xfff - 0x38000000);
    const one = i32x4.splat(1);
    const halfF = f32x4.splat(0.5);
    const halfBits = i32x4.splat(0x3f000000);
    const smallTop = i32x4.splat(0x38800000);
    const bigBottom = i32x4.splat(0x477fefff);
    const infF16 = i32x4.splat(0x7c00);
    for (; i + 8 <= n; i += 8) {
      const p = ptr + (<usize>i << 1);
      const w = v128.load(p);
      const m = v128.and(w, magnitude);
      const lo = roundF16Positive(
        f32x4.mul(i32x4.shl(i32x4.extend_low_i16x8_u(m), 13), cv),
        bias, one, halfF, halfBits, smallTop, bigBottom, infF16,
      );
      const hi = roundF16Positive(
        f32x4.mul(i32x4.shl(i32x4.extend_high_i16x8_u(m), 13), cv),
        bias, one, halfF, halfBits, smallTop, bigBottom, infF16,
      );
      const sign = v128.and(w, signBit);
      const out = v128.or(i16x8.narrow_i32x4_u(lo, hi), sign);
      const special = v128.bitselect(v128.or(infOut, v128.and(sign, infSign)), nanOut, i16x8.eq(m, infBits));
      v128.store(p, v128.bitselect(special, out, i16x8.ge_s(m, infBits)));
    }
  }
  scaleHalfScalar(ptr + (<usize>i << 1), n - i, c, bf16);
}

/** A 16-bit value's order as a signed integer: ±magnitude (both zeros 0), NaN excepted. */
// @ts-ignore: decorator
@inline
function orderKey(bits: u32): i32 {
  const m = <i32>(bits & 0x7fff);
  return bits & 0x8000 ? -m : m;
}

/**
 * Below lo → loBits, above hi → hiBits (lo <= hi, values of the dtype), NaN kept: eight values per
 * i16x8, compared as sign-magnitude integers (the order of their values for both dtypes, -0 = +0) with
 * no decoding; a NaN (magnitude above infinity's bits) is in neither mask.
 */
export function clampHalf(ptr: usize, n: i32, lo: f64, hi: f64, loBits: u32, hiBits: u32, bf16: bool): void {
  const lk = i16x8.splat(<i16>orderKey(loBits));
  const hk = i16x8.splat(<i16>orderKey(hiBits));
  const lb = i16x8.splat(<i16>loBits);
  const hb = i16x8.splat(<i16>hiBits);
  const magnitude = i16x8.splat(0x7fff);
  const inf = i16x8.splat(<i16>(bf16 ? 0x7f80 : 0x7c00));
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const p = ptr + (<usize>i << 1);
    const w = v128.load(p);
    const m = v128.and(w, magnitude);
    const neg = i16x8.shr_s(w, 15);
    const key = i16x8.sub(v128.xor(m, neg), neg); // -m where the sign bit is set
    const number = v128.not(i16x8.gt_s(m, inf));
    const below = v128.and(i16x8.lt_s(key, lk), number);
    const above = v128.and(i16x8.gt_s(key, hk), number);
    v128.store(p, v128.bitselect(hb, v128.bitselect(lb, w, below), above));
  }
  clampHalfScalar(ptr + (<usize>i << 1), n - i, lo, hi, loBits, hiBits, bf16);
}

/** Σ|x·s| (mode 0), Σ(x·s)² (1) or Σ|x·s|^p (2) over one block of 16-bit values; SIMD for Σx². */
export function blockSumHalf(ptr: usize, n: i32, mode: i32, p: f64, s: f64, bf16: bool): f64 {
  return mode == 1 && s == 1 ? blockSumSquaresHalf(ptr, n, bf16) : blockSumHalfScalar(ptr, n, mode, p, s, bf16);
}

// Order-free extremes: pmax/pmin drop NaN, so NaN is tracked in a mask (x != x).
export function maxAbsF32(ptr: usize, n: i32): f64 {
  let m = f32x4.splat(0);
  let nan = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const v = f32x4.abs(v128.load(ptr + (<usize>i << 2)));
    nan = v128.or(nan, f32x4.ne(v, v));
    m = f32x4.pmax(m, v);
  }
  if (v128.any_true(nan)) return NaN;
  let r: f64 = Math.max(
    Math.max(<f64>f32x4.extract_lane(m, 0), <f64>f32x4.extract_lane(m, 1)),
    Math.max(<f64>f32x4.extract_lane(m, 2), <f64>f32x4.extract_lane(m, 3)),
  );
  return extremeAbsRange<f32>(ptr, i, n, r, true);
}

export function minAbsF32(ptr: usize, n: i32): f64 {
  let m = f32x4.splat(Infinity);
  let nan = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const v = f32x4.abs(v128.load(ptr + (<usize>i << 2)));
    nan = v128.or(nan, f32x4.ne(v, v));
    m = f32x4.pmin(m, v);
  }
  if (v128.any_true(nan)) return NaN;
  let r: f64 = Math.min(
    Math.min(<f64>f32x4.extract_lane(m, 0), <f64>f32x4.extract_lane(m, 1)),
    Math.min(<f64>f32x4.extract_lane(m, 2), <f64>f32x4.extract_lane(m, 3)),
  );
  return extremeAbsRange<f32>(ptr, i, n, r, false);
}

export function maxAbsF64(ptr: usize, n: i32): f64 {
  let m = f64x2.splat(0);
  let nan = i64x2.splat(0);
  let i: i32 = 0;
  for (; i + 2 <= n; i += 2) {
    const v = f64x2.abs(v128.load(ptr + (<usize>i << 3)));
    nan = v128.or(nan, f64x2.ne(v, v));
    m = f64x2.pmax(m, v);
  }
  if (v128.any_true(nan)) return NaN;
  let r = Math.max(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1));
  return extremeAbsRange<f64>(ptr, i, n, r, true);
}

export function minAbsF64(ptr: usize, n: i32): f64 {
  let m = f64x2.splat(Infinity);
  let nan = i64x2.splat(0);
  let i: i32 = 0;
  for (; i + 2 <= n; i += 2) {
    const v = f64x2.abs(v128.load(ptr + (<usize>i << 3)));
    nan = v128.or(nan, f64x2.ne(v, v));
    m = f64x2.pmin(m, v);
  }
  if (v128.any_true(nan)) return NaN;
  let r = Math.min(f64x2.extract_lane(m, 0), f64x2.extract_lane(m, 1));
  return extremeAbsRange<f64>(ptr, i, n, r, false);
}

// x *= c in the array's dtype: one rounding per product, as in every backend. A NaN product's
// bits are the engine's choice in wasm: the loop ORs a mask of NaN lanes (cheaper than a select per
// vector, measured), and only when one was made does a second pass store the canonical NaN.
export function scaleF32(ptr: usize, n: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let bad = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const a = ptr + (<usize>i << 2);
    const r0 = f32x4.mul(v128.load(a), cv);
    const r1 = f32x4.mul(v128.load(a + 16), cv);
    v128.store(a, r0);
    v128.store(a + 16, r1);
    bad = v128.or(bad, v128.or(f32x4.ne(r0, r0), f32x4.ne(r1, r1)));
  }
  if (v128.any_true(bad)) canonicalizeRange<f32>(ptr, 0, i);
  scaleRange<f32>(ptr, i, n, c);
}

export function scaleF64(ptr: usize, n: i32, c: f64): void {
  const cv = f64x2.splat(c);
  let bad = i32x4.splat(0);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const a = ptr + (<usize>i << 3);
    const r0 = f64x2.mul(v128.load(a), cv);
    const r1 = f64x2.mul(v128.load(a + 16), cv);
    v128.store(a, r0);
    v128.store(a + 16, r1);
    bad = v128.or(bad, v128.or(f64x2.ne(r0, r0), f64x2.ne(r1, r1)));
  }
  if (v128.any_true(bad)) canonicalizeRange<f64>(ptr, 0, i);
  scaleRange<f64>(ptr, i, n, c);
}

// pmax(x, lo) is `x < lo ? lo : x` and pmin(v, hi) is `hi < v ? hi : v`: exactly the
// contract's clamp, NaN kept.
export function clampF32(ptr: usize, n: i32, lo: f32, hi: f32): void {
  const lv = f32x4.splat(lo);
  const hv = f32x4.splat(hi);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const a = ptr + (<usize>i << 2);
    v128.store(a, f32x4.pmin(f32x4.pmax(v128.load(a), lv), hv));
  }
  clampRange<f32>(ptr, i, n, lo, hi);
}

export function clampF64(ptr: usize, n: i32, lo: f64, hi: f64): void {
  const lv = f64x2.splat(lo);
  const hv = f64x2.splat(hi);
  let i: i32 = 0;
  for (; i + 2 <= n; i += 2) {
    const a = ptr + (<usize>i << 3);
    v128.store(a, f64x2.pmin(f64x2.pmax(v128.load(a), lv), hv));
  }
  clampRange<f64>(ptr, i, n, lo, hi);
}

// ---- the optimizer step (SPEC §8), 16 bytes at a time -----------------------------------------------
// The same operations as common.ts's sgdStep/adamStep, lane by lane (wasm SIMD arithmetic is IEEE,
// rounded per lane, no FMA), selects for the comparisons, and every stored NaN made canonical with a
// select; the last elements go through the scalar loops. Written once for f32x4 and f64x2.

// @ts-ignore: decorator
@inline
function splat<T>(x: f64): v128 {
  return sizeof<T>() == 4 ? f32x4.splat(<f32>x) : f64x2.splat(x);
}
// @ts-ignore: decorator
@inline
function vadd<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.add(a, b) : f64x2.add(a, b);
}
// @ts-ignore: decorator
@inline
function vmul<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.mul(a, b) : f64x2.mul(a, b);
}
// @ts-ignore: decorator
@inline
function vdiv<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.div(a, b) : f64x2.div(a, b);
}
// @ts-ignore: decorator
@inline
function vsqrt<T>(a: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.sqrt(a) : f64x2.sqrt(a);
}
// @ts-ignore: decorator
@inline
function vlt<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.lt(a, b) : f64x2.lt(a, b);
}
// @ts-ignore: decorator
@inline
function vnan<T>(a: v128): v128 {
  return sizeof<T>() == 4 ? f32x4.ne(a, a) : f64x2.ne(a, a);
}
/** The canonical NaN of T in every lane. */
// @ts-ignore: decorator
@inline
function canonNaN<T>(): v128 {
  return sizeof<T>() == 4 ? i32x4.splat(0x7fc00000) : i64x2.splat(0x7ff8000000000000);
}
// @ts-ignore: decorator
@inline
function vput<T>(addr: usize, v: v128, nan: v128): void {
  v128.store(addr, v128.bitselect(nan, v, vnan<T>(v)));
}
/** The fused clip and maximize: g·c, `g < lo ? lo : g`, `g > hi ? hi : g`, ×sign. */
// @ts-ignore: decorator
@inline
function vpre<T>(g: v128, c: v128, lo: v128, hi: v128, sign: v128): v128 {
  let x = vmul<T>(g, c);
  x = v128.bitselect(lo, x, vlt<T>(x, lo));
  x = v128.bitselect(hi, x, vlt<T>(hi, x));
  return vmul<T>(x, sign);
}

function sgdStepSimd<T>(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, mom: f64, damp1: f64, negLr: f64,
): void {
  const L: i32 = 16 / sizeof<T>();
  const cv = splat<T>(c), lov = splat<T>(lo), hiv = splat<T>(hi), sv = splat<T>(sign);
  const wdv = splat<T>(wd), mv = splat<T>(mom), dv = splat<T>(damp1), lrv = splat<T>(negLr), nan = canonNaN<T>();
  const wdOn = (flags & 1) != 0, momOn = (flags & 2) != 0, nesterov = (flags & 4) != 0, first = (flags & 8) != 0;
  let i: i32 = 0;
  for (; i + L <= n; i += L) {
    const o = <usize>i * sizeof<T>();
    const x = v128.load(p + o);
    let d = vpre<T>(v128.load(g + o), cv, lov, hiv, sv);
    if (wdOn) d = vadd<T>(d, vmul<T>(wdv, x));
    if (momOn) {
      const b = first ? d : vadd<T>(vmul<T>(v128.load(buf + o), mv), vmul<T>(dv, d));
      vput<T>(buf + o, b, nan);
      d = nesterov ? vadd<T>(d, vmul<T>(mv, b)) : b;
    }
    vput<T>(p + o, vadd<T>(x, vmul<T>(lrv, d)), nan);
  }
  const o = <usize>i * sizeof<T>();
  sgdStep<T>(p + o, g + o, momOn ? buf + o : 0, n - i, flags, c, lo, hi, sign, wd, mom, damp1, negLr);
}

export function sgdStepF32(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, mom: f64, damp1: f64, negLr: f64,
): void {
  sgdStepSimd<f32>(p, g, buf, n, flags, c, lo, hi, sign, wd, mom, damp1, negLr);
}

export function sgdStepF64(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, mom: f64, damp1: f64, negLr: f64,
): void {
  sgdStepSimd<f64>(p, g, buf, n, flags, c, lo, hi, sign, wd, mom, damp1, negLr);
}

function adamStepSimd<T>(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, decay: f64,
  b1: f64, omb1: f64, b2: f64, omb2: f64, eps: f64, step: f64, bc2: f64,
): void {
  const L: i32 = 16 / sizeof<T>();
  const cv = splat<T>(c), lov = splat<T>(lo), hiv = splat<T>(hi), sv = splat<T>(sign), nan = canonNaN<T>();
  const wdv = splat<T>(wd), dcv = splat<T>(decay), b1v = splat<T>(b1), o1v = splat<T>(omb1);
  const b2v = splat<T>(b2), o2v = splat<T>(omb2), epsv = splat<T>(eps), stv = splat<T>(step), bcv = splat<T>(bc2);
  const l2 = (flags & 1) != 0, decoupled = (flags & 2) != 0, ams = (flags & 4) != 0;
  let i: i32 = 0;
  for (; i + L <= n; i += L) {
    const o = <usize>i * sizeof<T>();
    let x = v128.load(p + o);
    let d = vpre<T>(v128.load(g + o), cv, lov, hiv, sv);
    if (decoupled) x = vmul<T>(x, dcv);
    else if (l2) d = vadd<T>(d, vmul<T>(wdv, x));
    const mi = vadd<T>(vmul<T>(v128.load(m + o), b1v), vmul<T>(o1v, d));
    const vi = vadd<T>(vmul<T>(v128.load(v + o), b2v), vmul<T>(vmul<T>(o2v, d), d));
    let h = vi;
    if (ams) {
      const old = v128.load(vmax + o);
      // old != old ? old : old > vi ? old : vi
      h = v128.bitselect(old, v128.bitselect(old, vi, vlt<T>(vi, old)), vnan<T>(old));
      vput<T>(vmax + o, h, nan);
    }
    const denom = vadd<T>(vdiv<T>(vsqrt<T>(h), bcv), epsv);
    vput<T>(p + o, vadd<T>(x, vdiv<T>(vmul<T>(stv, mi), denom)), nan);
    vput<T>(m + o, mi, nan);
    vput<T>(v + o, vi, nan);
  }
  const o = <usize>i * sizeof<T>();
  adamStep<T>(p + o, g + o, m + o, v + o, ams ? vmax + o : 0, n - i, flags, c, lo, hi, sign, wd, decay, b1, omb1, b2, omb2, eps, step, bc2);
}

export function adamStepF32(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, decay: f64,
  b1: f64, omb1: f64, b2: f64, omb2: f64, eps: f64, step: f64, bc2: f64,
): void {
  adamStepSimd<f32>(p, g, m, v, vmax, n, flags, c, lo, hi, sign, wd, decay, b1, omb1, b2, omb2, eps, step, bc2);
}

export function adamStepF64(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, decay: f64,
  b1: f64, omb1: f64, b2: f64, omb2: f64, eps: f64, step: f64, bc2: f64,
): void {
  adamStepSimd<f64>(p, g, m, v, vmax, n, flags, c, lo, hi, sign, wd, decay, b1, omb1, b2, omb2, eps, step, bc2);
}
