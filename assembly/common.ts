// Scalar kernels, shared by both builds: the whole non-SIMD module, and the order-free or
// pow-based kernels of the SIMD one. Read next to src/backends/js.ts: a translation of it.
import { LANES } from './contract';

/** 32 double lane accumulators, in linear memory. */
export const lanes: usize = memory.data(LANES * 8, 16);

/** Lane k + lane k+16 (k < 16), then k + k+8, k + k+4, k + k+2, then 0 + 1. */
export function combineLanes(): f64 {
  for (let width: i32 = LANES >> 1; width >= 1; width >>= 1) {
    for (let k: i32 = 0; k < width; k++) {
      store<f64>(lanes + (<usize>k << 3), load<f64>(lanes + (<usize>k << 3)) + load<f64>(lanes + (<usize>(k + width) << 3)));
    }
  }
  return load<f64>(lanes);
}

export function clearLanes(): void {
  memory.fill(lanes, 0, LANES * 8);
}

/** The first usable byte after the module's static data (JS manages memory from here). */
export function heapBase(): usize {
  return __heap_base;
}

function blockSumPow<T>(ptr: usize, n: i32, p: f64, s: f64): f64 {
  clearLanes();
  for (let i: i32 = 0; i < n; i++) {
    const a = lanes + (<usize>(i & (LANES - 1)) << 3);
    store<f64>(a, load<f64>(a) + Math.pow(Math.abs(<f64>load<T>(ptr + <usize>i * sizeof<T>()) * s), p));
  }
  return combineLanes();
}

export function blockSumPowF32(ptr: usize, n: i32, p: f64, s: f64): f64 {
  return blockSumPow<f32>(ptr, n, p, s);
}

export function blockSumPowF64(ptr: usize, n: i32, p: f64, s: f64): f64 {
  return blockSumPow<f64>(ptr, n, p, s);
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

export function scaleRange<T>(ptr: usize, from: i32, n: i32, c: T): void {
  for (let i = from; i < n; i++) store<T>(at<T>(ptr, i), load<T>(at<T>(ptr, i)) * c);
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
