import {
  BF16_NAN,
  bf16Values,
  encodeDouble,
  encodeF32,
  F16_NAN,
  f16Values,
  type HalfBits,
  type HalfDtype,
} from '../half.js';
import { bufferOf, byteOffsetOf, halfDtypeOf, isF32, lengthOf } from '../intrinsics.js';
import { powPos } from '../pow.js';
import {
  type Backend,
  BLOCK,
  type GradArray,
  StepHyper as H,
  type KernelArray,
  LANES,
  ReduceOp,
  StepKind,
  stepWidth,
} from './backend.js';

/**
 * The reference implementation of SPEC §6. Native and wasm must match it bit for bit
 * for p ∈ {1, 2, ±inf, 0}; read their kernels as translations of this file.
 * Arrays are only indexed (which no user code can intercept on a real typed array) and their
 * lengths come from the engine's accessor, never from a `length` property a subclass may define.
 */

const lanes = new Float64Array(LANES);

/**
 * Combines the 32 lane sums by the fixed pairwise tree: k + k+16, then k + k+8,
 * k + k+4, k + k+2, then 0 + 1.
 */
export function combineLanes(l: Float64Array): number {
  for (let width = LANES >> 1; width >= 1; width >>= 1) {
    for (let k = 0; k < width; k++) l[k] += l[k + width];
  }
  return l[0];
}

/**
 * Σ|x·s|, Σ(x·s)² and Σ|x·s|^p with element i in lane i mod 32 of its block, blocks summed in order.
 * Three loops, not one loop over a term function: a call site that has seen two terms stops being
 * inlined, and the squares loop (every clip) ran 3-6× slower once a general-p norm had been taken.
 */
function blockedSumAbs(a: GradArray, s: number): number {
  const n = lengthOf(a);
  let partial = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    lanes.fill(0);
    // BLOCK is a multiple of LANES, so (i - start) mod 32 == i mod 32.
    for (let i = start; i < end; i++) lanes[(i - start) & (LANES - 1)] += Math.abs(a[i] * s);
    partial += combineLanes(lanes);
  }
  return partial;
}

function blockedSumSquares(a: GradArray, s: number): number {
  const n = lengthOf(a);
  let partial = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    lanes.fill(0);
    for (let i = start; i < end; i++) {
      const v = a[i] * s;
      lanes[(i - start) & (LANES - 1)] += v * v;
    }
    partial += combineLanes(lanes);
  }
  return partial;
}

// gradclip's own pow (src/pow.ts), not Math.pow: engines' Math.pow differ in the last bits.
function blockedSumPow(a: GradArray, p: number, s: number): number {
  const n = lengthOf(a);
  let partial = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    lanes.fill(0);
    for (let i = start; i < end; i++) lanes[(i - start) & (LANES - 1)] += powPos(Math.abs(a[i] * s), p);
    partial += combineLanes(lanes);
  }
  return partial;
}

function maxAbs(a: GradArray): number {
  let m = 0;
  const n = lengthOf(a);
  for (let i = 0; i < n; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
    else if (v !== v) return Number.NaN;
  }
  return m;
}

function minAbs(a: GradArray): number {
  let m = Number.POSITIVE_INFINITY;
  const n = lengthOf(a);
  for (let i = 0; i < n; i++) {
    const v = Math.abs(a[i]);
    if (v < m) m = v;
    else if (v !== v) return Number.NaN;
  }
  return m;
}

function countNonzero(a: GradArray): number {
  let c = 0;
  const n = lengthOf(a);
  for (let i = 0; i < n; i++) if (a[i] !== 0) c++;
  return c;
}

// ---- 16-bit gradients: the same loops over the decoded values (decoding is exact, one table load) -----

function halfSum(bits: HalfBits, vals: Float32Array, op: ReduceOp, p: number, s: number): number {
  const n = lengthOf(bits);
  let partial = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const end = Math.min(n, start + BLOCK);
    lanes.fill(0);
    for (let i = start; i < end; i++) {
      const v = vals[bits[i] & 0xffff] * s;
      lanes[(i - start) & (LANES - 1)] +=
        op === ReduceOp.SumSquares ? v * v : op === ReduceOp.SumAbs ? Math.abs(v) : powPos(Math.abs(v), p);
    }
    partial += combineLanes(lanes);
  }
  return partial;
}

function reduceHalf(bits: HalfBits, dtype: HalfDtype, op: ReduceOp, p: number, s: number): number {
  const vals = dtype === 'float16' ? f16Values() : bf16Values();
  const n = lengthOf(bits);
  switch (op) {
    case ReduceOp.SumAbs:
    case ReduceOp.SumSquares:
    case ReduceOp.SumPow:
      return halfSum(bits, vals, op, p, s);
    case ReduceOp.MaxAbs:
    case ReduceOp.MinAbs: {
      const max = op === ReduceOp.MaxAbs;
      let m = max ? 0 : Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        const v = Math.abs(vals[bits[i] & 0xffff]);
        if (max ? v > m : v < m) m = v;
        else if (v !== v) return Number.NaN;
      }
      return m;
    }
    case ReduceOp.CountNonzero: {
      let c = 0;
      for (let i = 0; i < n; i++) if ((bits[i] & 0x7fff) !== 0) c++;
      return c;
    }
    default:
      throw new RangeError(`unknown reduce op ${op}`);
  }
}

/** x ← x·c with c rounded to the dtype: the product is exact in float32, then rounded once (NaN canonical). */
function scaleHalf(bits: HalfBits, dtype: HalfDtype, coef: number): void {
  const vals = dtype === 'float16' ? f16Values() : bf16Values();
  const c = vals[encodeDouble(coef, dtype)];
  const n = lengthOf(bits);
  for (let i = 0; i < n; i++) bits[i] = encodeF32(vals[bits[i] & 0xffff] * c, dtype);
}

/** The contract's clamp on 16-bit values, bounds rounded to the dtype; NaN (any payload) kept. */
function clampHalf(bits: HalfBits, dtype: HalfDtype, lo: number, hi: number): void {
  const vals = dtype === 'float16' ? f16Values() : bf16Values();
  const loBits = encodeDouble(lo, dtype);
  const hiBits = encodeDouble(hi, dtype);
  const l = vals[loBits];
  const h = vals[hiBits];
  const n = lengthOf(bits);
  for (let i = 0; i < n; i++) {
    let v = vals[bits[i] & 0xffff];
    if (v < l) {
      bits[i] = loBits;
      v = l;
    }
    if (v > h) bits[i] = hiBits;
  }
}

/** The canonical NaN bits of a 16-bit dtype. */
export const halfNaN = (dtype: HalfDtype): number => (dtype === 'float16' ? F16_NAN : BF16_NAN);

export function reduceOne(a: KernelArray, op: ReduceOp, p: number, s: number): number {
  const half = halfDtypeOf(a);
  if (half) return reduceHalf(a as HalfBits, half, op, p, s);
  return reduceFloat(a as GradArray, op, p, s);
}

function reduceFloat(a: GradArray, op: ReduceOp, p: number, s: number): number {
  switch (op) {
    case ReduceOp.SumAbs:
      return blockedSumAbs(a, s);
    case ReduceOp.SumSquares:
      return blockedSumSquares(a, s);
    case ReduceOp.SumPow:
      return blockedSumPow(a, p, s);
    case ReduceOp.MaxAbs:
      return maxAbs(a);
    case ReduceOp.MinAbs:
      return minAbs(a);
    case ReduceOp.CountNonzero:
      return countNonzero(a);
    default:
      throw new RangeError(`unknown reduce op ${op}`);
  }
}

// Whether this host stores numbers little-endian (the two 32-bit halves of a float64 follow it).
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Rewrites every NaN element of `a` as the canonical quiet NaN of its dtype (0x7fc00000,
 * 0x7ff8000000000000) through an integer view: storing a NaN *number* into a float array keeps
 * whatever bits the engine's current tier produced (V8's JIT tiers, Bun and Chromium differ).
 */
export function canonicalizeNaNs(a: GradArray, f32: boolean): void {
  const n = lengthOf(a);
  const words = new Uint32Array(bufferOf(a) as ArrayBuffer, byteOffsetOf(a), f32 ? n : 2 * n);
  for (let i = 0; i < n; i++) {
    if (a[i] === a[i]) continue;
    if (f32) {
      words[i] = 0x7fc00000;
    } else {
      words[2 * i] = LITTLE_ENDIAN ? 0 : 0x7ff80000;
      words[2 * i + 1] = LITTLE_ENDIAN ? 0x7ff80000 : 0;
    }
  }
}

export function scaleInPlace(a: KernelArray, coef: number): void {
  const half = halfDtypeOf(a);
  if (half) scaleHalf(a as HalfBits, half, coef);
  else scaleFloat(a as GradArray, coef);
}

function scaleFloat(a: GradArray, coef: number): void {
  // For f32 the product of two f32 values is exact in double, so the store rounds once.
  const f32 = isF32(a);
  const c = f32 ? Math.fround(coef) : coef;
  const n = lengthOf(a);
  let nan = false;
  for (let i = 0; i < n; i++) {
    const r = a[i] * c;
    a[i] = r;
    if (r !== r) nan = true;
  }
  // SPEC §6: a NaN product is written as the canonical NaN (a second pass, only when one occurred).
  if (nan) canonicalizeNaNs(a, f32);
}

export function clampInPlace(a: KernelArray, lo: number, hi: number): void {
  const half = halfDtypeOf(a);
  if (half) clampHalf(a as HalfBits, half, lo, hi);
  else clampFloat(a as GradArray, lo, hi);
}

function clampFloat(a: GradArray, lo: number, hi: number): void {
  const f32 = isF32(a);
  const l = f32 ? Math.fround(lo) : lo;
  const h = f32 ? Math.fround(hi) : hi;
  const n = lengthOf(a);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    // Comparisons with NaN are false, so NaN is kept.
    if (x < l) a[i] = l;
    if (a[i] > h) a[i] = h;
  }
}

export function columnSumSquares(a: GradArray, columns: number, s: number, out: Float64Array): void {
  const rows = lengthOf(a) / columns;
  for (let c = 0; c < columns; c++) out[c] = 0;
  for (let r = 0, base = 0; r < rows; r++, base += columns) {
    for (let c = 0; c < columns; c++) {
      const v = a[base + c] * s;
      out[c] += v * v;
    }
  }
}

export function scaleColumns(a: GradArray, columns: number, coefs: Float64Array): void {
  const f32 = isF32(a);
  const rows = lengthOf(a) / columns;
  const c32 = f32 ? Float32Array.from(coefs.subarray(0, columns)) : coefs;
  let nan = false;
  for (let r = 0, base = 0; r < rows; r++, base += columns) {
    for (let c = 0; c < columns; c++) {
      if (coefs[c] === 1) continue;
      const v = a[base + c] * c32[c];
      a[base + c] = v;
      if (v !== v) nan = true;
    }
  }
  if (!nan) return;
  // The NaNs written (and only those: a column left at ×1 keeps its bits) made canonical.
  const words = new Uint32Array(bufferOf(a) as ArrayBuffer, byteOffsetOf(a), f32 ? lengthOf(a) : 2 * lengthOf(a));
  for (let r = 0, base = 0; r < rows; r++, base += columns) {
    for (let c = 0; c < columns; c++) {
      const i = base + c;
      if (coefs[c] === 1 || a[i] === a[i]) continue;
      if (f32) words[i] = 0x7fc00000;
      else {
        words[2 * i] = LITTLE_ENDIAN ? 0 : 0x7ff80000;
        words[2 * i + 1] = LITTLE_ENDIAN ? 0x7ff80000 : 0;
      }
    }
  }
}

/**
 * The optimizer step of SPEC §8, the reference the kernels translate: torch 1.13's single-tensor op
 * order, each operation rounded to the dtype. For float32 every operation is done in double and
 * rounded by Math.fround: + − × ÷ √ of two float32 values are exact enough in double that this is
 * the correctly rounded float32 result (double rounding is innocuous for 24-bit significands).
 */
const same = (x: number): number => x;

function stepGroup(kind: StepKind, t: readonly GradArray[], h: Float64Array, s0: number, s1: number): void {
  const f32 = isF32(t[0]);
  const r = f32 ? Math.fround : same;
  const n = lengthOf(t[0]);
  const [p, g] = t;
  const c = r(h[H.c]);
  const lo = r(h[H.lo]);
  const hi = r(h[H.hi]);
  const sign = r(h[H.sign]);
  const wdOn = h[H.weightDecay] !== 0;
  const wd = r(h[H.weightDecay]);
  // The fused clip and maximize: g·c, the contract's clamp (NaN kept), ×±1.
  const pre = (x: number): number => {
    let v = r(x * c);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return r(v * sign);
  };
  let nan = false;
  if (kind === StepKind.Sgd) {
    const buf = t[2];
    const mom = r(h[H.momentum]);
    const damp1 = r(h[H.damp1]);
    const negLr = r(h[H.negLr]);
    const nesterov = h[H.nesterov] !== 0;
    const first = s0 !== 0;
    for (let i = 0; i < n; i++) {
      const x = p[i];
      let d = pre(g[i]);
      if (wdOn) d = r(d + r(wd * x));
      if (buf) {
        const b = first ? d : r(r(buf[i] * mom) + r(damp1 * d));
        buf[i] = b;
        if (b !== b) nan = true;
        d = nesterov ? r(d + r(mom * b)) : b;
      }
      const y = r(x + r(negLr * d));
      p[i] = y;
      if (y !== y) nan = true;
    }
  } else {
    const [, , m, v, vmax] = t;
    const decoupled = h[H.decoupled] !== 0;
    const decay = r(h[H.decay]);
    const b1 = r(h[H.beta1]);
    const omb1 = r(h[H.omb1]);
    const b2 = r(h[H.beta2]);
    const omb2 = r(h[H.omb2]);
    const eps = r(h[H.eps]);
    const step = r(s0);
    const bc2 = r(s1);
    for (let i = 0; i < n; i++) {
      let x = p[i];
      let d = pre(g[i]);
      if (decoupled) x = r(x * decay);
      else if (wdOn) d = r(d + r(wd * x));
      const mi = r(r(m[i] * b1) + r(omb1 * d));
      const vi = r(r(v[i] * b2) + r(r(omb2 * d) * d));
      let hv = vi;
      if (vmax) {
        const old = vmax[i];
        // torch.maximum: NaN if either is NaN; the ternary (not Math.max) is the kernels' choice between ±0.
        // biome-ignore lint/complexity/useMathMinMax: the same comparison as the C++ and wasm kernels
        hv = old !== old ? old : old > vi ? old : vi;
        vmax[i] = hv;
        if (hv !== hv) nan = true;
      }
      const denom = r(r(r(Math.sqrt(hv)) / bc2) + eps);
      const y = r(x + r(r(step * mi) / denom));
      p[i] = y;
      m[i] = mi;
      v[i] = vi;
      if (y !== y || mi !== mi || vi !== vi) nan = true;
    }
  }
  // Every NaN written is stored canonical (SPEC §6): all of these arrays were written in full.
  if (nan) {
    for (let j = 0; j < t.length; j++) if (j !== 1) canonicalizeNaNs(t[j], f32);
  }
}

export function stepAll(
  kind: StepKind,
  arrays: readonly GradArray[],
  hyper: Float64Array,
  perTensor: Float64Array,
): void {
  const width = stepWidth(kind, hyper);
  for (let i = 0, k = 0; i + width <= arrays.length; i += width, k++) {
    stepGroup(kind, arrays.slice(i, i + width), hyper, perTensor[2 * k], perTensor[2 * k + 1]);
  }
}

export const jsBackend: Backend = {
  name: 'js',
  isa: 'scalar',
  threads: () => 1,
  setThreads: () => {},
  reduce(arrays, op, p, scales, out) {
    for (let i = 0; i < arrays.length; i++) out[i] = reduceOne(arrays[i], op, p, scales ? scales[i] : 1);
  },
  scale(arrays, coef) {
    for (const a of arrays) scaleInPlace(a, coef);
  },
  scaleEach(arrays, coefs) {
    for (let i = 0; i < arrays.length; i++) if (coefs[i] !== 1) scaleInPlace(arrays[i], coefs[i]);
  },
  clamp(arrays, lo, hi) {
    for (const a of arrays) clampInPlace(a, lo, hi);
  },
  columnSumSquares,
  scaleColumns,
  step: stepAll,
};
