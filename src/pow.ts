import { EXP_TABLE, INV_L64, L64_HI, L64_LO, LN2_HI, LN2_LO, LOG_TABLE } from './pow-tables.js';

/**
 * gradclip's own pow for x >= 0 (SPEC §6): the same bits on every backend and runtime, because it
 * is the same sequence of IEEE double additions, multiplications and divisions everywhere —
 * translated line by line in assembly/pow.ts and native/kernels/pow.h, with the tables
 * generated once (scripts/gen-pow-tables.py). Engines' Math.pow differ from each other (V8, JSC,
 * glibc and AssemblyScript each have their own), so norms with p ∉ {1, 2, ±inf, 0} used to differ
 * in the last bits between backends and runtimes.
 *
 * x^y = exp(y · ln x), with ln x and the product in double-double: ln x = k·ln2 + ln c + ln(m/c)
 * (m in [1, 2), c the centre of m's 1/128 of it, ln(m/c) = 2·atanh(u), |u| <= 2^-9), then
 * exp(t) = 2^(N/64) · exp(r), |r| <= ln2/128. The error of t is below 2^-60 in absolute terms for
 * any result in range, so the result is faithfully rounded (measured: within 1 ulp of the exact
 * value, and correctly rounded in all but about 1 case in 500).
 */

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** 2^k exactly, for any integer k (0 below 2^-1074, Infinity above 2^1023). */
export function pow2(k: number): number {
  if (k > 1023) return Number.POSITIVE_INFINITY;
  if (k >= -1022) {
    u32[HI] = (k + 1023) << 20;
    u32[1 - HI] = 0;
    return f64[0];
  }
  if (k < -1074) return 0;
  return pow2(k + 52) * pow2(-52);
}

/** Dekker's split constant, 2^27 + 1: exact products without a fused multiply-add (|a|, |b| < 2^996). */
const SPLIT = 134217729;
/** v's high 26 bits (Dekker's split): v = high(v) + (v - high(v)), and products of halves are exact. */
function high(v: number): number {
  const s = v * SPLIT;
  return s - (s - v);
}

const THIRD = 1 / 3;
const FIFTH = 1 / 5;
const SEVENTH = 1 / 7;
const SMALLEST_NORMAL = 2.2250738585072014e-308;
const TWO54 = 18014398509481984;

/** ln x = out[0] + out[1], for finite x > 0. */
const ln = new Float64Array(2);
function lnDD(x: number): void {
  let k = 0;
  if (x < SMALLEST_NORMAL) {
    x *= TWO54;
    k = -54;
  }
  f64[0] = x;
  const hi = u32[HI];
  k += (hi >>> 20) - 1023;
  const i = (hi >>> 13) & 127;
  u32[HI] = (hi & 0x000fffff) | 0x3ff00000;
  const m = f64[0];
  const c = 1 + (2 * i + 1) / 256;
  // u = (m - c) / (m + c) as u + uLo: m - c is exact, m + c is a + aLo (two-sum).
  const d = m - c;
  const a = m + c;
  const bb = a - m;
  const aLo = m - (a - bb) + (c - bb);
  const u = d / a;
  // u·a = ua + uaLo exactly (Dekker's product: no fused multiply-add anywhere).
  const ua = u * a;
  const uh = high(u);
  const ul = u - uh;
  const ah = high(a);
  const al = a - ah;
  const uaLo = uh * ah - ua + uh * al + ul * ah + ul * al;
  const uLo = (d - ua - uaLo - u * aLo) / a;
  const u2 = u * u;
  // 2·atanh(u) = 2u + 2u^3/3 + 2u^5/5 + 2u^7/7 (the next term is below 2^-75 of the first).
  const tail = 2 * uLo + 2 * u * (u2 * (THIRD + u2 * (FIFTH + u2 * SEVENTH)));
  const A = k * LN2_HI;
  const B = LOG_TABLE[2 * i];
  const C = 2 * u;
  const s1 = A + B;
  const b1 = s1 - A;
  const e1 = A - (s1 - b1) + (B - b1);
  const s2 = s1 + C;
  const b2 = s2 - s1;
  const e2 = s1 - (s2 - b2) + (C - b2);
  const low = e1 + e2 + (k * LN2_LO + LOG_TABLE[2 * i + 1] + tail);
  const L = s2 + low;
  ln[0] = L;
  ln[1] = s2 - L + low;
}

/** res · 2^e with one rounding (res in [1, 2], e an integer). */
function scale2(res: number, e: number): number {
  if (e > 1023) return res * pow2(1023) * pow2(e - 1023);
  if (e < -1022) return res * pow2(e + 54) * pow2(-54);
  return res * pow2(e);
}

/** x^y for x >= 0 (or NaN) and finite y, identical on every backend and runtime. */
export function powPos(x: number, y: number): number {
  if (!(x > 0)) return x === 0 ? (y > 0 ? 0 : y < 0 ? Number.POSITIVE_INFINITY : 1) : Number.NaN;
  if (x === Number.POSITIVE_INFINITY) return y > 0 ? x : y < 0 ? 0 : 1;
  if (x === 1 || y === 0) return 1;
  lnDD(x);
  const L = ln[0];
  const Llo = ln[1];
  const th = y * L;
  if (th > 710) return Number.POSITIVE_INFINITY;
  if (th < -746) return 0;
  // y·L = t1 + t1Lo exactly (Dekker's product).
  const t1 = y * L;
  const yh = high(y);
  const yl = y - yh;
  const lh = high(L);
  const ll = L - lh;
  const t2 = yh * lh - t1 + yh * ll + yl * lh + yl * ll + y * Llo;
  const T = t1 + t2;
  const Tlo = t1 - T + t2;
  // exp(T + Tlo) = 2^(N/64) · exp(r)
  const N = Math.floor(T * INV_L64 + 0.5);
  const j = N & 63;
  const e = (N - j) / 64;
  const rh = T - N * L64_HI;
  const rl = Tlo - N * L64_LO;
  const r = rh + rl;
  const rLo = rh - r + rl;
  const q = r + (rLo + r * r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  const Th = EXP_TABLE[2 * j];
  const Tl = EXP_TABLE[2 * j + 1];
  return scale2(Th + (Th * q + (Tl + Tl * q)), e);
}
