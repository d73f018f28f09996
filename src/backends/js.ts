import { bufferOf, byteOffsetOf, isF32, lengthOf } from '../intrinsics.js';
import { powPos } from '../pow.js';
import { type Backend, BLOCK, type GradArray, LANES, ReduceOp } from './backend.js';

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

export function reduceOne(a: GradArray, op: ReduceOp, p: number, s: number): number {
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

export function scaleInPlace(a: GradArray, coef: number): void {
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

export function clampInPlace(a: GradArray, lo: number, hi: number): void {
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
};
