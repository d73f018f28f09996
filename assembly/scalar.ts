// The non-SIMD module, for runtimes without wasm SIMD: the same exports as simd.ts.
import { LANES } from './contract';
import { clearLanes, combineLanes, lanes } from './common';

export { blockSumPowF32, blockSumPowF64, countNonzeroF32, countNonzeroF64, heapBase } from './common';

export function blockSumF32(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  clearLanes();
  for (let i: i32 = 0; i < n; i++) {
    const a = lanes + (<usize>(i & (LANES - 1)) << 3);
    const v = <f64>load<f32>(ptr + (<usize>i << 2)) * s;
    store<f64>(a, load<f64>(a) + (squares ? v * v : Math.abs(v)));
  }
  return combineLanes();
}

export function blockSumF64(ptr: usize, n: i32, squares: bool, s: f64): f64 {
  clearLanes();
  for (let i: i32 = 0; i < n; i++) {
    const a = lanes + (<usize>(i & (LANES - 1)) << 3);
    const v = load<f64>(ptr + (<usize>i << 3)) * s;
    store<f64>(a, load<f64>(a) + (squares ? v * v : Math.abs(v)));
  }
  return combineLanes();
}

export function maxAbsF32(ptr: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const v = Math.abs(<f64>load<f32>(ptr + (<usize>i << 2)));
    if (v > m) m = v;
    else if (v != v) return NaN;
  }
  return m;
}

export function maxAbsF64(ptr: usize, n: i32): f64 {
  let m: f64 = 0;
  for (let i: i32 = 0; i < n; i++) {
    const v = Math.abs(load<f64>(ptr + (<usize>i << 3)));
    if (v > m) m = v;
    else if (v != v) return NaN;
  }
  return m;
}

export function minAbsF32(ptr: usize, n: i32): f64 {
  let m: f64 = Infinity;
  for (let i: i32 = 0; i < n; i++) {
    const v = Math.abs(<f64>load<f32>(ptr + (<usize>i << 2)));
    if (v < m) m = v;
    else if (v != v) return NaN;
  }
  return m;
}

export function minAbsF64(ptr: usize, n: i32): f64 {
  let m: f64 = Infinity;
  for (let i: i32 = 0; i < n; i++) {
    const v = Math.abs(load<f64>(ptr + (<usize>i << 3)));
    if (v < m) m = v;
    else if (v != v) return NaN;
  }
  return m;
}

export function scaleF32(ptr: usize, n: i32, c: f32): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 2);
    store<f32>(a, load<f32>(a) * c);
  }
}

export function scaleF64(ptr: usize, n: i32, c: f64): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 3);
    store<f64>(a, load<f64>(a) * c);
  }
}

export function clampF32(ptr: usize, n: i32, lo: f32, hi: f32): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 2);
    let v = load<f32>(a);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    store<f32>(a, v);
  }
}

export function clampF64(ptr: usize, n: i32, lo: f64, hi: f64): void {
  for (let i: i32 = 0; i < n; i++) {
    const a = ptr + (<usize>i << 3);
    let v = load<f64>(a);
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    store<f64>(a, v);
  }
}
