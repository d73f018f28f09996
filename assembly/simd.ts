// The SIMD module (wasm v128): 2 doubles per vector, 16 accumulators, so accumulator k holds
// lanes 2k and 2k+1 of the SPEC §6 order. The accumulator code is written out per accumulator
// (AssemblyScript keeps locals, not arrays, in registers); everything else mirrors scalar.ts.
import { LANES } from './contract';
import { combineLanes, lanes } from './common';

export { blockSumPowF32, blockSumPowF64, countNonzeroF32, countNonzeroF64, heapBase } from './common';

function sumAbsF32(ptr: usize, n: i32, s: f64): f64 {
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
    const p = ptr + (<usize>i << 2);
    const v0 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 0)), sv);
    a0 = f64x2.add(a0, f64x2.abs(v0));
    const v1 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 8)), sv);
    a1 = f64x2.add(a1, f64x2.abs(v1));
    const v2 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 16)), sv);
    a2 = f64x2.add(a2, f64x2.abs(v2));
    const v3 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 24)), sv);
    a3 = f64x2.add(a3, f64x2.abs(v3));
    const v4 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 32)), sv);
    a4 = f64x2.add(a4, f64x2.abs(v4));
    const v5 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 40)), sv);
    a5 = f64x2.add(a5, f64x2.abs(v5));
    const v6 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 48)), sv);
    a6 = f64x2.add(a6, f64x2.abs(v6));
    const v7 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 56)), sv);
    a7 = f64x2.add(a7, f64x2.abs(v7));
    const v8 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 64)), sv);
    a8 = f64x2.add(a8, f64x2.abs(v8));
    const v9 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 72)), sv);
    a9 = f64x2.add(a9, f64x2.abs(v9));
    const v10 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 80)), sv);
    a10 = f64x2.add(a10, f64x2.abs(v10));
    const v11 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 88)), sv);
    a11 = f64x2.add(a11, f64x2.abs(v11));
    const v12 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 96)), sv);
    a12 = f64x2.add(a12, f64x2.abs(v12));
    const v13 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 104)), sv);
    a13 = f64x2.add(a13, f64x2.abs(v13));
    const v14 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 112)), sv);
    a14 = f64x2.add(a14, f64x2.abs(v14));
    const v15 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 120)), sv);
    a15 = f64x2.add(a15, f64x2.abs(v15));
  }
  v128.store(lanes + 0, a0);
  v128.store(lanes + 16, a1);
  v128.store(lanes + 32, a2);
  v128.store(lanes + 48, a3);
  v128.store(lanes + 64, a4);
  v128.store(lanes + 80, a5);
  v128.store(lanes + 96, a6);
  v128.store(lanes + 112, a7);
  v128.store(lanes + 128, a8);
  v128.store(lanes + 144, a9);
  v128.store(lanes + 160, a10);
  v128.store(lanes + 176, a11);
  v128.store(lanes + 192, a12);
  v128.store(lanes + 208, a13);
  v128.store(lanes + 224, a14);
  v128.store(lanes + 240, a15);
  // The tail: element i + j belongs to lane j, after everything the lane already holds.
  for (let j: i32 = i; j < n; j++) {
    const a = lanes + (<usize>(j - i) << 3);
    const v = <f64>load<f32>(ptr + (<usize>j << 2)) * s;
    store<f64>(a, load<f64>(a) + Math.abs(v));
  }
  return combineLanes();
}

function sumSquaresF32(ptr: usize, n: i32, s: f64): f64 {
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
    const p = ptr + (<usize>i << 2);
    const v0 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 0)), sv);
    a0 = f64x2.add(a0, f64x2.mul(v0, v0));
    const v1 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 8)), sv);
    a1 = f64x2.add(a1, f64x2.mul(v1, v1));
    const v2 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 16)), sv);
    a2 = f64x2.add(a2, f64x2.mul(v2, v2));
    const v3 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 24)), sv);
    a3 = f64x2.add(a3, f64x2.mul(v3, v3));
    const v4 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 32)), sv);
    a4 = f64x2.add(a4, f64x2.mul(v4, v4));
    const v5 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 40)), sv);
    a5 = f64x2.add(a5, f64x2.mul(v5, v5));
    const v6 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 48)), sv);
    a6 = f64x2.add(a6, f64x2.mul(v6, v6));
    const v7 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 56)), sv);
    a7 = f64x2.add(a7, f64x2.mul(v7, v7));
    const v8 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 64)), sv);
    a8 = f64x2.add(a8, f64x2.mul(v8, v8));
    const v9 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 72)), sv);
    a9 = f64x2.add(a9, f64x2.mul(v9, v9));
    const v10 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 80)), sv);
    a10 = f64x2.add(a10, f64x2.mul(v10, v10));
    const v11 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 88)), sv);
    a11 = f64x2.add(a11, f64x2.mul(v11, v11));
    const v12 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 96)), sv);
    a12 = f64x2.add(a12, f64x2.mul(v12, v12));
    const v13 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 104)), sv);
    a13 = f64x2.add(a13, f64x2.mul(v13, v13));
    const v14 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 112)), sv);
    a14 = f64x2.add(a14, f64x2.mul(v14, v14));
    const v15 = f64x2.mul(f64x2.promote_low_f32x4(v128.load64_zero(p + 120)), sv);
    a15 = f64x2.add(a15, f64x2.mul(v15, v15));
  }
  v128.store(lanes + 0, a0);
  v128.store(lanes + 16, a1);
  v128.store(lanes + 32, a2);
  v128.store(lanes + 48, a3);
  v128.store(lanes + 64, a4);
  v128.store(lanes + 80, a5);
  v128.store(lanes + 96, a6);
  v128.store(lanes + 112, a7);
  v128.store(lanes + 128, a8);
  v128.store(lanes + 144, a9);
  v128.store(lanes + 160, a10);
  v128.store(lanes + 176, a11);
  v128.store(lanes + 192, a12);
  v128.store(lanes + 208, a13);
  v128.store(lanes + 224, a14);
  v128.store(lanes + 240, a15);
  // The tail: element i + j belongs to lane j, after everything the lane already holds.
  for (let j: i32 = i; j < n; j++) {
    const a = lanes + (<usize>(j - i) << 3);
    const v = <f64>load<f32>(ptr + (<usize>j << 2)) * s;
    store<f64>(a, load<f64>(a) + v * v);
  }
  return combineLanes();
}

function sumAbsF64(ptr: usize, n: i32, s: f64): f64 {
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
    const p = ptr + (<usize>i << 3);
    const v0 = f64x2.mul(v128.load(p + 0), sv);
    a0 = f64x2.add(a0, f64x2.abs(v0));
    const v1 = f64x2.mul(v128.load(p + 16), sv);
    a1 = f64x2.add(a1, f64x2.abs(v1));
    const v2 = f64x2.mul(v128.load(p + 32), sv);
    a2 = f64x2.add(a2, f64x2.abs(v2));
    const v3 = f64x2.mul(v128.load(p + 48), sv);
    a3 = f64x2.add(a3, f64x2.abs(v3));
    const v4 = f64x2.mul(v128.load(p + 64), sv);
    a4 = f64x2.add(a4, f64x2.abs(v4));
    const v5 = f64x2.mul(v128.load(p + 80), sv);
    a5 = f64x2.add(a5, f64x2.abs(v5));
    const v6 = f64x2.mul(v128.load(p + 96), sv);
    a6 = f64x2.add(a6, f64x2.abs(v6));
    const v7 = f64x2.mul(v128.load(p + 112), sv);
    a7 = f64x2.add(a7, f64x2.abs(v7));
    const v8 = f64x2.mul(v128.load(p + 128), sv);
    a8 = f64x2.add(a8, f64x2.abs(v8));
    const v9 = f64x2.mul(v128.load(p + 144), sv);
    a9 = f64x2.add(a9, f64x2.abs(v9));
    const v10 = f64x2.mul(v128.load(p + 160), sv);
    a10 = f64x2.add(a10, f64x2.abs(v10));
    const v11 = f64x2.mul(v128.load(p + 176), sv);
    a11 = f64x2.add(a11, f64x2.abs(v11));
    const v12 = f64x2.mul(v128.load(p + 192), sv);
    a12 = f64x2.add(a12, f64x2.abs(v12));
    const v13 = f64x2.mul(v128.load(p + 208), sv);
    a13 = f64x2.add(a13, f64x2.abs(v13));
    const v14 = f64x2.mul(v128.load(p + 224), sv);
    a14 = f64x2.add(a14, f64x2.abs(v14));
    const v15 = f64x2.mul(v128.load(p + 240), sv);
    a15 = f64x2.add(a15, f64x2.abs(v15));
  }
  v128.store(lanes + 0, a0);
  v128.store(lanes + 16, a1);
  v128.store(lanes + 32, a2);
  v128.store(lanes + 48, a3);
  v128.store(lanes + 64, a4);
  v128.store(lanes + 80, a5);
  v128.store(lanes + 96, a6);
  v128.store(lanes + 112, a7);
  v128.store(lanes + 128, a8);
  v128.store(lanes + 144, a9);
  v128.store(lanes + 160, a10);
  v128.store(lanes + 176, a11);
  v128.store(lanes + 192, a12);
  v128.store(lanes + 208, a13);
  v128.store(lanes + 224, a14);
  v128.store(lanes + 240, a15);
  // The tail: element i + j belongs to lane j, after everything the lane already holds.
  for (let j: i32 = i; j < n; j++) {
    const a = lanes + (<usize>(j - i) << 3);
    const v = load<f64>(ptr + (<usize>j << 3)) * s;
    store<f64>(a, load<f64>(a) + Math.abs(v));
  }
  return combineLanes();
}

function sumSquaresF64(ptr: usize, n: i32, s: f64): f64 {
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
    const p = ptr + (<usize>i << 3);
    const v0 = f64x2.mul(v128.load(p + 0), sv);
    a0 = f64x2.add(a0, f64x2.mul(v0, v0));
    const v1 = f64x2.mul(v128.load(p + 16), sv);
    a1 = f64x2.add(a1, f64x2.mul(v1, v1));
    const v2 = f64x2.mul(v128.load(p + 32), sv);
    a2 = f64x2.add(a2, f64x2.mul(v2, v2));
    const v3 = f64x2.mul(v128.load(p + 48), sv);
    a3 = f64x2.add(a3, f64x2.mul(v3, v3));
    const v4 = f64x2.mul(v128.load(p + 64), sv);
    a4 = f64x2.add(a4, f64x2.mul(v4, v4));
    const v5 = f64x2.mul(v128.load(p + 80), sv);
    a5 = f64x2.add(a5, f64x2.mul(v5, v5));
    const v6 = f64x2.mul(v128.load(p + 96), sv);
    a6 = f64x2.add(a6, f64x2.mul(v6, v6));
    const v7 = f64x2.mul(v128.load(p + 112), sv);
    a7 = f64x2.add(a7, f64x2.mul(v7, v7));
    const v8 = f64x2.mul(v128.load(p + 128), sv);
    a8 = f64x2.add(a8, f64x2.mul(v8, v8));
    const v9 = f64x2.mul(v128.load(p + 144), sv);
    a9 = f64x2.add(a9, f64x2.mul(v9, v9));
    const v10 = f64x2.mul(v128.load(p + 160), sv);
    a10 = f64x2.add(a10, f64x2.mul(v10, v10));
    const v11 = f64x2.mul(v128.load(p + 176), sv);
    a11 = f64x2.add(a11, f64x2.mul(v11, v11));
    const v12 = f64x2.mul(v128.load(p + 192), sv);
    a12 = f64x2.add(a12, f64x2.mul(v12, v12));
    const v13 = f64x2.mul(v128.load(p + 208), sv);
    a13 = f64x2.add(a13, f64x2.mul(v13, v13));
    const v14 = f64x2.mul(v128.load(p + 224), sv);
    a14 = f64x2.add(a14, f64x2.mul(v14, v14));
    const v15 = f64x2.mul(v128.load(p + 240), sv);
    a15 = f64x2.add(a15, f64x2.mul(v15, v15));
  }
  v128.store(lanes + 0, a0);
  v128.store(lanes + 16, a1);
  v128.store(lanes + 32, a2);
  v128.store(lanes + 48, a3);
  v128.store(lanes + 64, a4);
  v128.store(lanes + 80, a5);
  v128.store(lanes + 96, a6);
  v128.store(lanes + 112, a7);
  v128.store(lanes + 128, a8);
  v128.store(lanes + 144, a9);
  v128.store(lanes + 160, a10);
  v128.store(lanes + 176, a11);
  v128.store(lanes + 192, a12);
  v128.store(lanes + 208, a13);
  v128.store(lanes + 224, a14);
  v128.store(lanes + 240, a15);
  // The tail: element i + j belongs to lane j, after everything the lane already holds.
  for (let j: i32 = i; j < n; j++) {
    const a = lanes + (<usize>(j - i) << 3);
    const v = load<f64>(ptr + (<usize>j << 3)) * s;
    store<f64>(a, load<f64>(a) + v * v);
  }
  return combineLanes();
}

export function blockSumF32(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  return squares ? sumSquaresF32(ptr, n, s) : sumAbsF32(ptr, n, s);
}

export function blockSumF64(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  return squares ? sumSquaresF64(ptr, n, s) : sumAbsF64(ptr, n, s);
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
  for (; i < n; i++) {
    const v = Math.abs(<f64>load<f32>(ptr + (<usize>i << 2)));
    if (v > r) r = v;
    else if (v != v) return NaN;
  }
  return r;
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
  for (; i < n; i++) {
    const v = Math.abs(<f64>load<f32>(ptr + (<usize>i << 2)));
    if (v < r) r = v;
    else if (v != v) return NaN;
  }
  return r;
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
  for (; i < n; i++) {
    const v = Math.abs(load<f64>(ptr + (<usize>i << 3)));
    if (v > r) r = v;
    else if (v != v) return NaN;
  }
  return r;
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
  for (; i < n; i++) {
    const v = Math.abs(load<f64>(ptr + (<usize>i << 3)));
    if (v < r) r = v;
    else if (v != v) return NaN;
  }
  return r;
}

// x *= c in the array's dtype: one rounding per product, as in every backend.
export function scaleF32(ptr: usize, n: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let i: i32 = 0;
  for (; i + 8 <= n; i += 8) {
    const a = ptr + (<usize>i << 2);
    v128.store(a, f32x4.mul(v128.load(a), cv));
    v128.store(a + 16, f32x4.mul(v128.load(a + 16), cv));
  }
  for (; i < n; i++) {
    const a = ptr + (<usize>i << 2);
    store<f32>(a, load<f32>(a) * c);
  }
}

export function scaleF64(ptr: usize, n: i32, c: f64): void {
  const cv = f64x2.splat(c);
  let i: i32 = 0;
  for (; i + 4 <= n; i += 4) {
    const a = ptr + (<usize>i << 3);
    v128.store(a, f64x2.mul(v128.load(a), cv));
    v128.store(a + 16, f64x2.mul(v128.load(a + 16), cv));
  }
  for (; i < n; i++) {
    const a = ptr + (<usize>i << 3);
    store<f64>(a, load<f64>(a) * c);
  }
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
  for (; i < n; i++) {
    const a = ptr + (<usize>i << 2);
    let v = load<f32>(a);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    store<f32>(a, v);
  }
}

export function clampF64(ptr: usize, n: i32, lo: f64, hi: f64): void {
  const lv = f64x2.splat(lo);
  const hv = f64x2.splat(hi);
  let i: i32 = 0;
  for (; i + 2 <= n; i += 2) {
    const a = ptr + (<usize>i << 3);
    v128.store(a, f64x2.pmin(f64x2.pmax(v128.load(a), lv), hv));
  }
  for (; i < n; i++) {
    const a = ptr + (<usize>i << 3);
    let v = load<f64>(a);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    store<f64>(a, v);
  }
}
