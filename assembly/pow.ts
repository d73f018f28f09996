// gradclip's own pow for x >= 0 (SPEC §6): a line-by-line translation of src/pow.ts (read the
// explanation there), so |x|^p is the same bits on every backend and runtime. Only IEEE double
// +, -, *, / and exact bit operations (wasm has no fused multiply-add outside relaxed SIMD).
import { EXP_TABLE, INV_L64, L64_HI, L64_LO, LN2_HI, LN2_LO, LOG_TABLE } from './pow-tables';

const SPLIT: f64 = 134217729.0; // 2^27 + 1
const SMALLEST_NORMAL: f64 = 2.2250738585072014e-308;
const TWO54: f64 = 18014398509481984.0;

function pow2(k: i32): f64 {
  if (k > 1023) return Infinity;
  if (k >= -1022) return reinterpret<f64>(<u64>(k + 1023) << 52);
  if (k < -1074) return 0;
  return pow2(k + 52) * pow2(-52);
}

/** v's high 26 bits (Dekker's split): v = high(v) + (v - high(v)), and products of halves are exact. */
// @ts-ignore: decorator
@inline function high(v: f64): f64 {
  const s = v * SPLIT;
  return s - (s - v);
}

let lnLo: f64 = 0;

/** ln x = result + lnLo, for finite x > 0. */
function lnDD(x: f64): f64 {
  let k: i32 = 0;
  if (x < SMALLEST_NORMAL) {
    x *= TWO54;
    k = -54;
  }
  const bits = reinterpret<u64>(x);
  const hi = <u32>(bits >> 32);
  k += <i32>(hi >> 20) - 1023;
  const i = <i32>((hi >> 13) & 127);
  const m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  const c: f64 = 1.0 + <f64>(2 * i + 1) / 256.0;
  const d = m - c;
  const a = m + c;
  const bb = a - m;
  const aLo = m - (a - bb) + (c - bb);
  const u = d / a;
  const ua = u * a;
  const uh = high(u);
  const ul = u - uh;
  const ah = high(a);
  const al = a - ah;
  const uaLo = uh * ah - ua + uh * al + ul * ah + ul * al;
  const uLo = (d - ua - uaLo - u * aLo) / a;
  const u2 = u * u;
  const tail = 2.0 * uLo + 2.0 * u * (u2 * (1.0 / 3.0 + u2 * (1.0 / 5.0 + u2 * (1.0 / 7.0))));
  const A = <f64>k * LN2_HI;
  const B = unchecked(LOG_TABLE[2 * i]);
  const C = 2.0 * u;
  const s1 = A + B;
  const b1 = s1 - A;
  const e1 = A - (s1 - b1) + (B - b1);
  const s2 = s1 + C;
  const b2 = s2 - s1;
  const e2 = s1 - (s2 - b2) + (C - b2);
  const low = e1 + e2 + (<f64>k * LN2_LO + unchecked(LOG_TABLE[2 * i + 1]) + tail);
  const L = s2 + low;
  lnLo = s2 - L + low;
  return L;
}

function scale2(res: f64, e: i32): f64 {
  if (e > 1023) return res * pow2(1023) * pow2(e - 1023);
  if (e < -1022) return res * pow2(e + 54) * pow2(-54);
  return res * pow2(e);
}

/** x^y for x >= 0 (or NaN) and finite y, identical to powPos in src/pow.ts. */
export function powPos(x: f64, y: f64): f64 {
  if (!(x > 0)) return x == 0 ? (y > 0 ? 0 : y < 0 ? Infinity : 1) : NaN;
  if (x == Infinity) return y > 0 ? x : y < 0 ? 0 : 1;
  if (x == 1.0 || y == 0) return 1;
  const L = lnDD(x);
  const Llo = lnLo;
  const th = y * L;
  if (th > 710) return Infinity;
  if (th < -746) return 0;
  const t1 = y * L;
  const yh = high(y);
  const yl = y - yh;
  const lh = high(L);
  const ll = L - lh;
  const t2 = yh * lh - t1 + yh * ll + yl * lh + yl * ll + y * Llo;
  const T = t1 + t2;
  const Tlo = t1 - T + t2;
  const N = Math.floor(T * INV_L64 + 0.5);
  const n = <i32>N;
  const j = n & 63;
  const e = (n - j) / 64;
  const rh = T - N * L64_HI;
  const rl = Tlo - N * L64_LO;
  const r = rh + rl;
  const rLo = rh - r + rl;
  const q = r + (rLo + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
  const Th = unchecked(EXP_TABLE[2 * j]);
  const Tl = unchecked(EXP_TABLE[2 * j + 1]);
  return scale2(Th + (Th * q + (Tl + Tl * q)), e);
}
