// gradclip's own pow for x >= 0 (SPEC §6): a line-by-line translation of src/pow.ts (read the
// explanation there), so |x|^p and the p-th root are the same bits on every backend and runtime.
// Only IEEE double +, -, *, / and exact bit operations; the files are built with -ffp-contract=off,
// so no multiply-add is fused (that would change the bits on arm64).
//
// The arithmetic is written once, as templates over the number type D: `double` for pow_pos, and
// a vector of eight doubles (GCC/Clang vector extensions) for pow_pos_batch. Both run the same
// operations in the same order, element by element, so they give the same bits.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pow_tables.h"

namespace gradclip {
// Internal linkage, as in simd_kernels.h: each ISA's file keeps its own copy, built with its flags.
namespace {
namespace powimpl {

constexpr double kSplit = 134217729.0;  // 2^27 + 1: Dekker's split, exact products without FMA
constexpr double kSmallestNormal = 2.2250738585072014e-308;
constexpr double kTwo54 = 18014398509481984.0;

inline double pow2(int k) {
  if (k > 1023) return INFINITY;
  if (k >= -1022) {
    const std::uint64_t bits = static_cast<std::uint64_t>(k + 1023) << 52;
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  if (k < -1074) return 0.0;
  return pow2(k + 52) * pow2(-52);
}

// v = h + l exactly, h holding the high 26 bits (Dekker): the halves whose products are exact.
template <class D>
inline void split(D v, D& h, D& l) {
  const D s = v * kSplit;
  h = s - (s - v);
  l = v - h;
}

// ln x = L + Llo, from x = 2^k · m (m in [1, 2)), c the centre of m's 1/128 of [1, 2), and the
// table's ln c = B + Blo.
template <class D>
inline void ln_core(D m, D c, D kd, D B, D Blo, D& L, D& Llo) {
  const D d = m - c;
  const D a = m + c;
  const D bb = a - m;
  const D aLo = (m - (a - bb)) + (c - bb);
  const D u = d / a;
  const D ua = u * a;
  D uh, ul, ah, al;
  split(u, uh, ul);
  split(a, ah, al);
  const D uaLo = (((uh * ah - ua) + uh * al) + ul * ah) + ul * al;
  const D uLo = (((d - ua) - uaLo) - u * aLo) / a;
  const D u2 = u * u;
  const D tail = 2.0 * uLo + 2.0 * u * (u2 * (1.0 / 3.0 + u2 * (1.0 / 5.0 + u2 * (1.0 / 7.0))));
  const D A = kd * powtab::kLn2Hi;
  const D C = 2.0 * u;
  const D s1 = A + B;
  const D b1 = s1 - A;
  const D e1 = (A - (s1 - b1)) + (B - b1);
  const D s2 = s1 + C;
  const D b2 = s2 - s1;
  const D e2 = (s1 - (s2 - b2)) + (C - b2);
  const D low = (e1 + e2) + ((kd * powtab::kLn2Lo + Blo) + tail);
  L = s2 + low;
  Llo = (s2 - L) + low;
}

// y · (L + Llo) = T + Tlo (y a scalar).
template <class D>
inline void times(double y, D L, D Llo, D& T, D& Tlo) {
  const D t1 = y * L;
  double yh, yl;
  D lh, ll;
  split(y, yh, yl);
  split(L, lh, ll);
  const D t2 = ((((yh * lh - t1) + yh * ll) + yl * lh) + yl * ll) + y * Llo;
  T = t1 + t2;
  Tlo = (t1 - T) + t2;
}

// exp(T + Tlo) / 2^e, with N = 64·e + j chosen by the caller and 2^(j/64) = Th + Tl.
template <class D>
inline D exp_core(D T, D Tlo, D N, D Th, D Tl) {
  const D rh = T - N * powtab::kL64Hi;
  const D rl = Tlo - N * powtab::kL64Lo;
  const D r = rh + rl;
  const D rLo = (rh - r) + rl;
  const D q = r + (rLo + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
  return Th + (Th * q + (Tl + Tl * q));
}

// ln x = hi + lo for finite x > 0.
inline void ln_dd(double x, double& hi_out, double& lo_out) {
  int k = 0;
  if (x < kSmallestNormal) {
    x *= kTwo54;
    k = -54;
  }
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const std::uint32_t hi = static_cast<std::uint32_t>(bits >> 32);
  k += static_cast<int>(hi >> 20) - 1023;
  const int i = static_cast<int>((hi >> 13) & 127);
  const std::uint64_t mbits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
  double m;
  std::memcpy(&m, &mbits, sizeof m);
  const double c = 1.0 + static_cast<double>(2 * i + 1) / 256.0;
  ln_core(m, c, static_cast<double>(k), powtab::kLog[2 * i], powtab::kLog[2 * i + 1], hi_out, lo_out);
}

inline double scale2(double res, int e) {
  if (e > 1023) return res * pow2(1023) * pow2(e - 1023);
  if (e < -1022) return res * pow2(e + 54) * pow2(-54);
  return res * pow2(e);
}

}  // namespace powimpl

// x^y for x >= 0 (or NaN) and finite y, identical to powPos in src/pow.ts.
inline double pow_pos(double x, double y) {
  using namespace powimpl;
  if (!(x > 0)) return x == 0 ? (y > 0 ? 0.0 : y < 0 ? INFINITY : 1.0) : NAN;
  if (x == INFINITY) return y > 0 ? x : y < 0 ? 0.0 : 1.0;
  if (x == 1.0 || y == 0.0) return 1.0;
  double L, Llo;
  ln_dd(x, L, Llo);
  const double th = y * L;
  if (th > 710) return INFINITY;
  if (th < -746) return 0.0;
  double T, Tlo;
  times(y, L, Llo, T, Tlo);
  const double N = std::floor(T * powtab::kInvL64 + 0.5);
  const int n = static_cast<int>(N);
  const int j = n & 63;
  const int e = (n - j) / 64;
  return scale2(exp_core(T, Tlo, N, powtab::kExp[2 * j], powtab::kExp[2 * j + 1]), e);
}

// pow_pos over n values (a multiple of 8), W at a time in vector types, which each ISA's file lowers
// to its own registers. W = 4 on AVX2 (one ymm): the double-double arithmetic keeps many values live,
// and eight (two ymm each) spilled to the stack on every step in AVX2's 16 registers — 2^22 float32,
// |x|^3, one thread: 65-66 ms with W = 8, 53 with W = 4. W = 8 elsewhere: one zmm of AVX-512's 32
// registers; on SSE2 and the scalar table four measured 20 % slower than eight (72 vs 90 ms). (Hardware
// gathers for the table lookups measured no faster on AVX-512 or AVX2 and are not used.) Every element
// goes through the same operations whatever W is: the same bits. Values off the common path (zero,
// subnormal, inf, NaN, 1, or a result that would leave the normal range) are redone one by one with pow_pos.
namespace powvec {
#if defined(__AVX2__) && !defined(__AVX512F__)
constexpr std::size_t W = 4;
#else
constexpr std::size_t W = 8;
#endif
typedef double vd __attribute__((vector_size(8 * W)));
typedef std::int64_t vi __attribute__((vector_size(8 * W)));
typedef std::uint64_t vu __attribute__((vector_size(8 * W)));
// 32-bit lanes for the integer parts: every ISA converts int32 <-> double in vectors (cvtdq2pd,
// cvttpd2dq), while int64 <-> double needs AVX-512DQ and is scalarized elsewhere.
typedef std::int32_t vi32 __attribute__((vector_size(4 * W)));
}  // namespace powvec

template <std::size_t n>
inline void pow_pos_batch(const double* x, double* out, double y) {
  using namespace powimpl;
  using powvec::vd;
  using powvec::vi;
  using powvec::vi32;
  using powvec::vu;
  static_assert(n % powvec::W == 0, "whole vectors only");
  vi odd = {};
  for (std::size_t base = 0; base < n; base += powvec::W) {
    vd xk;
    std::memcpy(&xk, x + base, sizeof xk);
    const vu bits = reinterpret_cast<vu>(xk);
    const vi32 hi = __builtin_convertvector(bits >> 32, vi32);  // x > 0 here: the sign bit is clear
    const vi32 i = (hi >> 13) & 127;
    const vd m = reinterpret_cast<vd>((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    const vd c = 1.0 + __builtin_convertvector(2 * i + 1, vd) / 256.0;
    vd B, Blo;
    for (std::size_t k = 0; k < powvec::W; ++k) {
      B[k] = powtab::kLog[2 * i[k]];
      Blo[k] = powtab::kLog[2 * i[k] + 1];
    }
    vd L, Llo, T, Tlo;
    ln_core(m, c, __builtin_convertvector((hi >> 20) - 1023, vd), B, Blo, L, Llo);
    times(y, L, Llo, T, Tlo);
    // The common path: x normal, finite, not 1, and the result normal (|y·L| < 708 < ln 2^1022).
    const vd t1 = y * L;
    const vi common = (xk >= kSmallestNormal) & (xk < INFINITY) & (xk != 1.0) & (t1 < 708.0) & (t1 > -708.0);
    odd |= ~common;
    const vd zero = {};
    const vd Tc = common ? T : zero;
    // floor(v) as truncation, then one step down where that rounded up (negative non-integers).
    const vd v = Tc * powtab::kInvL64 + 0.5;
    vi32 nn = __builtin_convertvector(v, vi32);
    nn += __builtin_convertvector(__builtin_convertvector(nn, vd) > v, vi32);  // a true comparison is -1
    const vi32 j = nn & 63;
    const vi32 e = (nn - j) >> 6;
    vd Th, Tl;
    for (std::size_t k = 0; k < powvec::W; ++k) {
      Th[k] = powtab::kExp[2 * j[k]];
      Tl[k] = powtab::kExp[2 * j[k] + 1];
    }
    const vd scale = reinterpret_cast<vd>(__builtin_convertvector(e + 1023, vu) << 52);
    const vd res = exp_core(Tc, common ? Tlo : zero, __builtin_convertvector(nn, vd), Th, Tl) * scale;
    std::memcpy(out + base, &res, sizeof res);
  }
  bool any = false;
  for (std::size_t k = 0; k < powvec::W; ++k) any |= odd[k] != 0;
  if (any) {
    for (std::size_t k = 0; k < n; ++k) {
      const double xk = x[k];
      const bool normal = xk >= kSmallestNormal && xk < INFINITY && xk != 1.0;
      double L = 0, Llo = 0;
      if (normal) ln_dd(xk, L, Llo);
      const double t1 = y * L;
      if (!(normal && t1 < 708.0 && t1 > -708.0)) out[k] = pow_pos(xk, y);
    }
  }
}

}  // namespace
}  // namespace gradclip
