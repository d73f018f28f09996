// The non-SIMD module, for runtimes without wasm SIMD: the same exports as simd.ts.
import { blockSumScalar, clampRange, extremeAbsRange, scaleRange } from './common';

export {
  blockSumPowF32,
  blockSumPowF64,
  colSumSquaresF32,
  colSumSquaresF64,
  countNonzeroF32,
  countNonzeroF64,
  blockSumHalf,
  clampHalf,
  countNonzeroHalf,
  extremeAbsHalf,
  heapBase,
  scaleHalf,
  scaleColsF32,
  scaleColsF64,
  sgdStepF32,
  sgdStepF64,
  adamStepF32,
  adamStepF64,
} from './common';

/** Σ|x·s| or Σ(x·s)² over one block, element i in lane i mod 32, then the lane tree. */
export function blockSumF32(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  return blockSumScalar<f32>(ptr, n, squares, s);
}

export function blockSumF64(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  return blockSumScalar<f64>(ptr, n, squares, s);
}

export function maxAbsF32(ptr: usize, n: i32): f64 {
  return extremeAbsRange<f32>(ptr, 0, n, 0, true);
}

export function maxAbsF64(ptr: usize, n: i32): f64 {
  return extremeAbsRange<f64>(ptr, 0, n, 0, true);
}

export function minAbsF32(ptr: usize, n: i32): f64 {
  return extremeAbsRange<f32>(ptr, 0, n, Infinity, false);
}

export function minAbsF64(ptr: usize, n: i32): f64 {
  return extremeAbsRange<f64>(ptr, 0, n, Infinity, false);
}

export function scaleF32(ptr: usize, n: i32, c: f32): void {
  scaleRange<f32>(ptr, 0, n, c);
}

export function scaleF64(ptr: usize, n: i32, c: f64): void {
  scaleRange<f64>(ptr, 0, n, c);
}

export function clampF32(ptr: usize, n: i32, lo: f32, hi: f32): void {
  clampRange<f32>(ptr, 0, n, lo, hi);
}

export function clampF64(ptr: usize, n: i32, lo: f64, hi: f64): void {
  clampRange<f64>(ptr, 0, n, lo, hi);
}
