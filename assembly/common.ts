// Scalar kernels, shared by both builds: the whole non-SIMD module, and the order-free or
// pow-based kernels of the SIMD one. Read next to src/backends/js.ts: a translation of it.
// No kernel keeps anything in linear memory: the 32 lane sums are locals, so a kernel writes
// memory only where it was asked to (scale, clamp), and nothing written through a
// GradientBuffer's ArrayBuffer can change what a kernel computes.
import { LANES } from './contract';
import { powPos } from './pow';

/** The first usable byte after the module's static data (JS manages memory from here). */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * (x·s)² or |x·s| of element i, in double (f32 → f64 is exact). T = u16: 16-bit bits, bfloat16 when
 * `bf16` else float16, decoded exactly.
 */
// @ts-ignore: decorator
@inline
function term<T>(ptr: usize, i: i32, squares: bool, s: f64, bf16: bool): f64 {
  let x: f64;
  if (isInteger<T>()) x = halfValue(<u32>load<u16>(ptr + (<usize>i << 1)), bf16);
  else x = <f64>load<T>(ptr + <usize>i * sizeof<T>());
  const v = x * s;
  return squares ? v * v : Math.abs(v);
}

/**
 * Σ|x·s| or Σ(x·s)² over one block: element i in lane i mod 32 (lanes l0..l31, each adding its
 * elements in increasing i), then the pairwise tree of SPEC §6. Lanes that get no element of
 * the tail are left as they are.
 */
export function blockSumScalar<T>(ptr: usize, n: i32, squares: bool, s: f64, bf16: bool = false): f64 {
  let l0: f64 = 0;
  let l1: f64 = 0;
  let l2: f64 = 0;
  let l3: f64 = 0;
  let l4: f64 = 0;
  let l5: f64 = 0;
  let l6: f64 = 0;
  let l7: f64 = 0;
  let l8: f64 = 0;
  let l9: f64 = 0;
  let l10: f64 = 0;
  let l11: f64 = 0;
  let l12: f64 = 0;
  let l13: f64 = 0;
  let l14: f64 = 0;
  let l15: f64 = 0;
  let l16: f64 = 0;
  let l17: f64 = 0;
  let l18: f64 = 0;
  let l19: f64 = 0;
  let l20: f64 = 0;
  let l21: f64 = 0;
  let l22: f64 = 0;
  let l23: f64 = 0;
  let l24: f64 = 0;
  let l25: f64 = 0;
  let l26: f64 = 0;
  let l27: f64 = 0;
  let l28: f64 = 0;
  let l29: f64 = 0;
  let l30: f64 = 0;
  let l31: f64 = 0;
  // Groups of 32 in order; in the last, partial group a lane past the end adds nothing.
  for (let i: i32 = 0; i < n; i += LANES) {
    const full = i + LANES <= n;
    if (full || i + 0 < n) l0 += term<T>(ptr, i + 0, squares, s, bf16);
    if (full || i + 1 < n) l1 += term<T>(ptr, i + 1, squares, s, bf16);
    if (full || i + 2 < n) l2 += term<T>(ptr, i + 2, squares, s, bf16);
    if (full || i + 3 < n) l3 += term<T>(ptr, i + 3, squares, s, bf16);
    if (full || i + 4 < n) l4 += term<T>(ptr, i + 4, squares, s, bf16);
    if (full || i + 5 < n) l5 += term<T>(ptr, i + 5, squares, s, bf16);
    if (full || i + 6 < n) l6 += term<T>(ptr, i + 6, squares, s, bf16);
    if (full || i + 7 < n) l7 += term<T>(ptr, i + 7, squares, s, bf16);
    if (full || i + 8 < n) l8 += term<T>(ptr, i + 8, squares, s, bf16);
    if (full || i + 9 < n) l9 += term<T>(ptr, i + 9, squares, s, bf16);
    if (full || i + 10 < n) l10 += term<T>(ptr, i + 10, squares, s, bf16);
    if (full || i + 11 < n) l11 += term<T>(ptr, i + 11, squares, s, bf16);
    if (full || i + 12 < n) l12 += term<T>(ptr, i + 12, squares, s, bf16);
    if (full || i + 13 < n) l13 += term<T>(ptr, i + 13, squares, s, bf16);
    if (full || i + 14 < n) l14 += term<T>(ptr, i + 14, squares, s, bf16);
    if (full || i + 15 < n) l15 += term<T>(ptr, i + 15, squares, s, bf16);
    if (full || i + 16 < n) l16 += term<T>(ptr, i + 16, squares, s, bf16);
    if (full || i + 17 < n) l17 += term<T>(ptr, i + 17, squares, s, bf16);
    if (full || i + 18 < n) l18 += term<T>(ptr, i + 18, squares, s, bf16);
    if (full || i + 19 < n) l19 += term<T>(ptr, i + 19, squares, s, bf16);
    if (full || i + 20 < n) l20 += term<T>(ptr, i + 20, squares, s, bf16);
    if (full || i + 21 < n) l21 += term<T>(ptr, i + 21, squares, s, bf16);
    if (full || i + 22 < n) l22 += term<T>(ptr, i + 22, squares, s, bf16);
    if (full || i + 23 < n) l23 += term<T>(ptr, i + 23, squares, s, bf16);
    if (full || i + 24 < n) l24 += term<T>(ptr, i + 24, squares, s, bf16);
    if (full || i + 25 < n) l25 += term<T>(ptr, i + 25, squares, s, bf16);
    if (full || i + 26 < n) l26 += term<T>(ptr, i + 26, squares, s, bf16);
    if (full || i + 27 < n) l27 += term<T>(ptr, i + 27, squares, s, bf16);
    if (full || i + 28 < n) l28 += term<T>(ptr, i + 28, squares, s, bf16);
    if (full || i + 29 < n) l29 += term<T>(ptr, i + 29, squares, s, bf16);
    if (full || i + 30 < n) l30 += term<T>(ptr, i + 30, squares, s, bf16);
    if (full || i + 31 < n) l31 += term<T>(ptr, i + 31, squares, s, bf16);
  }
  // The tree: k + k+16, then k + k+8, k + k+4, k + k+2, then 0 + 1.
  l0 += l16;
  l1 += l17;
  l2 += l18;
  l3 += l19;
  l4 += l20;
  l5 += l21;
  l6 += l22;
  l7 += l23;
  l8 += l24;
  l9 += l25;
  l10 += l26;
  l11 += l27;
  l12 += l28;
  l13 += l29;
  l14 += l30;
  l15 += l31;
  l0 += l8;
  l1 += l9;
  l2 += l10;
  l3 += l11;
  l4 += l12;
  l5 += l13;
  l6 += l14;
  l7 += l15;
  l0 += l4;
  l1 += l5;
  l2 += l6;
  l3 += l7;
  l0 += l2;
  l1 += l3;
  l0 += l1;
  return l0;
}

/** Lane k of a block for |x·s|^p: elements k, k + 32, k + 64, ... in increasing order. */
function laneSumPow<T>(ptr: usize, n: i32, k: i32, p: f64, s: f64): f64 {
  let acc: f64 = 0;
  for (let i = k; i < n; i += LANES) acc += powPos(Math.abs(<f64>load<T>(ptr + <usize>i * sizeof<T>()) * s), p);
  return acc;
}

/**
 * The lane tree evaluated from the top: node (k, width) = node (k, 2·width) + node (k + width, 2·width),
 * the leaves (width 32) being the lane sums — the same additions as the tree of SPEC §6. pow costs
 * far more than the strided reads, so the general-p sums take this short form.
 */
function treePow<T>(ptr: usize, n: i32, k: i32, width: i32, p: f64, s: f64): f64 {
  if (width == LANES) return laneSumPow<T>(ptr, n, k, p, s);
  return treePow<T>(ptr, n, k, width << 1, p, s) + treePow<T>(ptr, n, k + width, width << 1, p, s);
}

export function blockSumPowF32(ptr: usize, n: i32, p: f64, s: f64): f64 {
  return treePow<f32>(ptr, n, 0, 1, p, s);
}

export function blockSumPowF64(ptr: usize, n: i32, p: f64, s: f64): f64 {
  return treePow<f64>(ptr, n, 0, 1, p, s);
}

export function countNonzeroF32(ptr: usize, n: i32): f64 {
  let c: i32 = 0;
  for (let i: i32 = 0; i < n; i++) if (load<f32>(ptr + (<usize>i << 2)) != 0) c++; // NaN != 0: counts
  return <f64>c;
}

export function countNonzeroF64(ptr: usize, n: i32): f64 {
  let c: i32 = 0;
  for (let i: i32 = 0; i < n; i++) if (load<f64>(ptr + (<usize>i << 3)) != 0) c++;
  return <f64>c;
}

// Scalar loops over [from, n): the whole of the non-SIMD kernels, and the tails of the SIMD ones.
// @ts-ignore: decorator
@inline
function at<T>(ptr: usize, i: i32): usize {
  return ptr + <usize>i * sizeof<T>();
}

/** Largest (isMax) or smallest |x| over [from, n), starting from `acc`; NaN if any element is NaN. */
export function extremeAbsRange<T>(ptr: usize, from: i32, n: i32, acc: f64, isMax: bool): f64 {
  for (let i = from; i < n; i++) {
    const v = Math.abs(<f64>load<T>(at<T>(ptr, i)));
    if (isMax ? v > acc : v < acc) acc = v;
    else if (v != v) return NaN;
  }
  return acc;
}

/** Stores the canonical quiet NaN of T (0x7fc00000 / 0x7ff8000000000000) at addr (SPEC §6). */
export function storeCanonicalNaN<T>(addr: usize): void {
  if (sizeof<T>() == 4) store<u32>(addr, 0x7fc00000);
  else store<u64>(addr, 0x7ff8000000000000);
}

/** Rewrites every NaN in [from, n) as the canonical NaN. */
export function canonicalizeRange<T>(ptr: usize, from: i32, n: i32): void {
  for (let i = from; i < n; i++) {
    const v = load<T>(at<T>(ptr, i));
    if (v != v) storeCanonicalNaN<T>(at<T>(ptr, i));
  }
}

/** x *= c; a NaN product (its payload is the engine's choice in wasm) is stored canonical. */
export function scaleRange<T>(ptr: usize, from: i32, n: i32, c: T): void {
  for (let i = from; i < n; i++) {
    const r: T = load<T>(at<T>(ptr, i)) * c;
    if (r != r) storeCanonicalNaN<T>(at<T>(ptr, i));
    else store<T>(at<T>(ptr, i), r);
  }
}

/** x < lo ? lo : x, then > hi ? hi : — NaN stays NaN. */
export function clampRange<T>(ptr: usize, from: i32, n: i32, lo: T, hi: T): void {
  for (let i = from; i < n; i++) {
    let v = load<T>(at<T>(ptr, i));
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    store<T>(at<T>(ptr, i), v);
  }
}

/**
 * Column sums of squares of a row-major [rows, cols] block at ptr, added into acc (cols doubles):
 * acc[c] += (x[r·cols + c]·s)², rows in order — each column's terms in row order, as js.ts adds them.
 */
function colSumSquares<T>(ptr: usize, rows: i32, cols: i32, accPtr: usize, s: f64): void {
  for (let r: i32 = 0; r < rows; r++) {
    const row = ptr + <usize>r * <usize>cols * sizeof<T>();
    for (let c: i32 = 0; c < cols; c++) {
      const v = <f64>load<T>(row + <usize>c * sizeof<T>()) * s;
      const a = accPtr + (<usize>c << 3);
      store<f64>(a, load<f64>(a) + v * v);
    }
  }
}

export function colSumSquaresF32(ptr: usize, rows: i32, cols: i32, accPtr: usize, s: f64): void {
  colSumSquares<f32>(ptr, rows, cols, accPtr, s);
}

export function colSumSquaresF64(ptr: usize, rows: i32, cols: i32, accPtr: usize, s: f64): void {
  colSumSquares<f64>(ptr, rows, cols, accPtr, s);
}

/**
 * x[r·cols + c] *= coef[c] over a row-major [rows, cols] block, coef[c] (doubles at coefPtr) rounded
 * to T; a column whose coefficient is exactly 1 is not written; a NaN product is stored canonical.
 */
function scaleCols<T>(ptr: usize, rows: i32, cols: i32, coefPtr: usize): void {
  for (let r: i32 = 0; r < rows; r++) {
    const row = ptr + <usize>r * <usize>cols * sizeof<T>();
    for (let c: i32 = 0; c < cols; c++) {
      const k = load<f64>(coefPtr + (<usize>c << 3));
      if (k == 1) continue;
      const addr = row + <usize>c * sizeof<T>();
      const v: T = load<T>(addr) * <T>k;
      if (v != v) storeCanonicalNaN<T>(addr);
      else store<T>(addr, v);
    }
  }
}

export function scaleColsF32(ptr: usize, rows: i32, cols: i32, coefPtr: usize): void {
  scaleCols<f32>(ptr, rows, cols, coefPtr);
}

export function scaleColsF64(ptr: usize, rows: i32, cols: i32, coefPtr: usize): void {
  scaleCols<f64>(ptr, rows, cols, coefPtr);
}

// ---- the optimizer step (SPEC §8): translations of stepGroup in src/backends/js.ts -------------------
// Each operation is one wasm instruction in T (f32 or f64): + − × ÷ √ are correctly rounded, wasm has no
// implicit FMA, so these are the contract's bits. Every value stored is canonical if NaN.

// @ts-ignore: decorator
@inline
function put<T>(addr: usize, v: T): void {
  if (v != v) storeCanonicalNaN<T>(addr);
  else store<T>(addr, v);
}

// @ts-ignore: decorator
@inline
function pre<T>(x: T, c: T, lo: T, hi: T, sign: T): T {
  let v: T = x * c;
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return v * sign;
}

/** flags: 1 weight decay, 2 momentum (buf used), 4 nesterov, 8 first step (the buffer becomes d). */
export function sgdStep<T>(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c64: f64, lo64: f64, hi64: f64, sign64: f64, wd64: f64, mom64: f64, damp64: f64, lr64: f64,
): void {
  const c = <T>c64, lo = <T>lo64, hi = <T>hi64, sign = <T>sign64;
  const wd = <T>wd64, mom = <T>mom64, damp1 = <T>damp64, negLr = <T>lr64;
  const wdOn = (flags & 1) != 0, momOn = (flags & 2) != 0, nesterov = (flags & 4) != 0, first = (flags & 8) != 0;
  for (let i = 0; i < n; i++) {
    const x = load<T>(at<T>(p, i));
    let d = pre<T>(load<T>(at<T>(g, i)), c, lo, hi, sign);
    if (wdOn) d = d + wd * x;
    if (momOn) {
      const b: T = first ? d : load<T>(at<T>(buf, i)) * mom + damp1 * d;
      put<T>(at<T>(buf, i), b);
      d = nesterov ? d + mom * b : b;
    }
    put<T>(at<T>(p, i), x + negLr * d);
  }
}

export function sgdStepF32(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, mom: f64, damp1: f64, negLr: f64,
): void {
  sgdStep<f32>(p, g, buf, n, flags, c, lo, hi, sign, wd, mom, damp1, negLr);
}

export function sgdStepF64(
  p: usize, g: usize, buf: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, mom: f64, damp1: f64, negLr: f64,
): void {
  sgdStep<f64>(p, g, buf, n, flags, c, lo, hi, sign, wd, mom, damp1, negLr);
}

/** flags: 1 L2 weight decay into the gradient (Adam), 2 decoupled decay of p (AdamW), 4 amsgrad. */
export function adamStep<T>(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c64: f64, lo64: f64, hi64: f64, sign64: f64, wd64: f64, decay64: f64,
  b164: f64, omb164: f64, b264: f64, omb264: f64, eps64: f64, step64: f64, bc264: f64,
): void {
  const c = <T>c64, lo = <T>lo64, hi = <T>hi64, sign = <T>sign64, wd = <T>wd64, decay = <T>decay64;
  const b1 = <T>b164, omb1 = <T>omb164, b2 = <T>b264, omb2 = <T>omb264, eps = <T>eps64;
  const step = <T>step64, bc2 = <T>bc264;
  const l2 = (flags & 1) != 0, decoupled = (flags & 2) != 0, ams = (flags & 4) != 0;
  for (let i = 0; i < n; i++) {
    let x = load<T>(at<T>(p, i));
    let d = pre<T>(load<T>(at<T>(g, i)), c, lo, hi, sign);
    if (decoupled) x = x * decay;
    else if (l2) d = d + wd * x;
    const mi: T = load<T>(at<T>(m, i)) * b1 + omb1 * d;
    const vi: T = load<T>(at<T>(v, i)) * b2 + (omb2 * d) * d;
    let h = vi;
    if (ams) {
      const old = load<T>(at<T>(vmax, i));
      h = old != old ? old : old > vi ? old : vi;
      put<T>(at<T>(vmax, i), h);
    }
    const denom: T = <T>sqrt<T>(h) / bc2 + eps;
    put<T>(at<T>(p, i), x + (step * mi) / denom);
    put<T>(at<T>(m, i), mi);
    put<T>(at<T>(v, i), vi);
  }
}

export function adamStepF32(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, decay: f64,
  b1: f64, omb1: f64, b2: f64, omb2: f64, eps: f64, step: f64, bc2: f64,
): void {
  adamStep<f32>(p, g, m, v, vmax, n, flags, c, lo, hi, sign, wd, decay, b1, omb1, b2, omb2, eps, step, bc2);
}

export function adamStepF64(
  p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, flags: i32,
  c: f64, lo: f64, hi: f64, sign: f64, wd: f64, decay: f64,
  b1: f64, omb1: f64, b2: f64, omb2: f64, eps: f64, step: f64, bc2: f64,
): void {
  adamStep<f64>(p, g, m, v, vmax, n, flags, c, lo, hi, sign, wd, decay, b1, omb1, b2, omb2, eps, step, bc2);
}

// ---- 16-bit gradients (float16 / bfloat16 bits): translations of src/backends/js.ts's half kernels ----

/** The value of 16-bit bits (exact). */
// @ts-ignore: decorator
@inline
export function halfValue(b: u32, bf16: bool): f64 {
  if (bf16) return <f64>reinterpret<f32>(b << 16);
  // |x|'s bits moved into a float32's exponent and mantissa fields are |x| · 2^-112, subnormals
  // included (they become float32 subnormals): one exact multiply by 2^112 restores it.
  const a = b & 0x7fff;
  let v = <f64>reinterpret<f32>(a << 13) * 5.192296858534828e33;
  if (a >= 0x7c00) v = a == 0x7c00 ? Infinity : NaN;
  return b & 0x8000 ? -v : v;
}

/** float32 bits → float16 bits, nearest even, NaN canonical (src/half.ts f32BitsToF16). */
function f32BitsToF16(u: u32): u32 {
  const sign = (u >> 16) & 0x8000;
  const a = u & 0x7fffffff;
  if (a > 0x7f800000) return 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) {
    if (a <= 0x33000000) return sign;
    const e = a >> 23;
    const m = (a & 0x7fffff) | 0x800000;
    const shift = 126 - e;
    const r = m >> shift;
    const rem = m & ((<u32>1 << shift) - 1);
    const half = <u32>1 << (shift - 1);
    return sign | (r + (rem > half || (rem == half && (r & 1) == 1) ? 1 : 0));
  }
  const base = (a - 0x38000000) >> 13;
  const rem = a & 0x1fff;
  return sign | (base + (rem > 0x1000 || (rem == 0x1000 && (base & 1) == 1) ? 1 : 0));
}

/** float32 bits → bfloat16 bits, nearest even, NaN canonical. */
// @ts-ignore: decorator
@inline
function f32BitsToBf16(u: u32): u32 {
  if ((u & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  return ((u + 0x7fff + ((u >> 16) & 1)) >> 16) & 0xffff;
}

/** Lane k of a 16-bit block: elements k, k + 32, ... (mode 0 |x·s|, 1 (x·s)², 2 |x·s|^p). */
function laneSumHalf(ptr: usize, n: i32, k: i32, mode: i32, p: f64, s: f64, bf16: bool): f64 {
  let acc: f64 = 0;
  for (let i = k; i < n; i += LANES) {
    const v = halfValue(<u32>load<u16>(ptr + (<usize>i << 1)), bf16) * s;
    acc += mode == 1 ? v * v : mode == 0 ? Math.abs(v) : powPos(Math.abs(v), p);
  }
  return acc;
}

/** The lane tree from the top, as treePow: the same additions as SPEC §6's order. */
function treeHalf(ptr: usize, n: i32, k: i32, width: i32, mode: i32, p: f64, s: f64, bf16: bool): f64 {
  if (width == LANES) return laneSumHalf(ptr, n, k, mode, p, s, bf16);
  return (
    treeHalf(ptr, n, k, width << 1, mode, p, s, bf16) + treeHalf(ptr, n, k + width, width << 1, mode, p, s, bf16)
  );
}

/** Σ|x·s| (mode 0), Σ(x·s)² (1) or Σ|x·s|^p (2) over one block of 16-bit values. */
export function blockSumHalf(ptr: usize, n: i32, mode: i32, p: f64, s: f64, bf16: bool): f64 {
  if (mode == 2) return treeHalf(ptr, n, 0, 1, mode, p, s, bf16);
  return blockSumScalar<u16>(ptr, n, mode == 1, s, bf16);
}

/** max |x| (isMax) or min |x| over 16-bit values, NaN if any is NaN: |x| orders as its bits & 0x7fff. */
export function extremeAbsHalf(ptr: usize, n: i32, isMax: bool, bf16: bool): f64 {
  const inf: u32 = bf16 ? 0x7f80 : 0x7c00;
  let m: u32 = isMax ? 0 : inf;
  for (let i: i32 = 0; i < n; i++) {
    const a = <u32>load<u16>(ptr + (<usize>i << 1)) & 0x7fff;
    if (a > inf) return NaN;
    if (isMax ? a > m : a < m) m = a;
  }
  return halfValue(m, bf16);
}

export function countNonzeroHalf(ptr: usize, n: i32): f64 {
  let c: i32 = 0;
  for (let i: i32 = 0; i < n; i++) if ((load<u16>(ptr + (<usize>i << 1)) & 0x7fff) != 0) c++;
  return <f64>c;
}

/** x ← x·c (c a 16-bit value): the product is exact in float32, then rounded once to the dtype. */
export function scaleHalf(ptr: usize, n: i32, c: f32, bf16: bool): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 1);
    const u = reinterpret<u32>(<f32>(halfValue(<u32>load<u16>(a), bf16) * <f64>c));
    store<u16>(a, <u16>(bf16 ? f32BitsToBf16(u) : f32BitsToF16(u)));
  }
}

/** The contract's clamp: below lo → loBits, then above hi → hiBits; NaN (any payload) kept. */
export function clampHalf(ptr: usize, n: i32, lo: f64, hi: f64, loBits: u32, hiBits: u32, bf16: bool): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 1);
    let v = halfValue(<u32>load<u16>(a), bf16);
    if (v < lo) {
      store<u16>(a, <u16>loBits);
      v = lo;
    }
    if (v > hi) store<u16>(a, <u16>hiBits);
  }
}
