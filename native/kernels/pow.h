// gradclip's own pow for x >= 0 (SPEC §6): a line-by-line translation of src/pow.ts (read the
// explanation there), so |x|^p and the p-th root are the same bits on every backend and runtime.
// Only IEEE double +, -, *, / and exact bit operations; the files are built with -ffp-contract=off,
// so no multiply-add is fused (that would change the bits on arm64).
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

constexpr double kSplit = 134217729.0;  // 2^27 + 1
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
  const double d = m - c;
  const double a = m + c;
  const double bb = a - m;
  const double aLo = (m - (a - bb)) + (c - bb);
  const double u = d / a;
  const double ua = u * a;
  const double su = u * kSplit;
  const double uh = su - (su - u);
  const double ul = u - uh;
  const double sa = a * kSplit;
  const double ah = sa - (sa - a);
  const double al = a - ah;
  const double uaLo = (((uh * ah - ua) + uh * al) + ul * ah) + ul * al;
  const double uLo = (((d - ua) - uaLo) - u * aLo) / a;
  const double u2 = u * u;
  const double tail = 2.0 * uLo + 2.0 * u * (u2 * (1.0 / 3.0 + u2 * (1.0 / 5.0 + u2 * (1.0 / 7.0))));
  const double A = static_cast<double>(k) * powtab::kLn2Hi;
  const double B = powtab::kLog[2 * i];
  const double C = 2.0 * u;
  const double s1 = A + B;
  const double b1 = s1 - A;
  const double e1 = (A - (s1 - b1)) + (B - b1);
  const double s2 = s1 + C;
  const double b2 = s2 - s1;
  const double e2 = (s1 - (s2 - b2)) + (C - b2);
  const double low = (e1 + e2) + ((static_cast<double>(k) * powtab::kLn2Lo + powtab::kLog[2 * i + 1]) + tail);
  const double L = s2 + low;
  hi_out = L;
  lo_out = (s2 - L) + low;
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
  const double t1 = y * L;
  const double sy = y * kSplit;
  const double yh = sy - (sy - y);
  const double yl = y - yh;
  const double sl = L * kSplit;
  const double lh = sl - (sl - L);
  const double ll = L - lh;
  const double t2 = ((((yh * lh - t1) + yh * ll) + yl * lh) + yl * ll) + y * Llo;
  const double T = t1 + t2;
  const double Tlo = (t1 - T) + t2;
  const double N = std::floor(T * powtab::kInvL64 + 0.5);
  const int n = static_cast<int>(N);
  const int j = n & 63;
  const int e = (n - j) / 64;
  const double rh = T - N * powtab::kL64Hi;
  const double rl = Tlo - N * powtab::kL64Lo;
  const double r = rh + rl;
  const double rLo = (rh - r) + rl;
  const double q =
      r + (rLo + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
  const double Th = powtab::kExp[2 * j];
  const double Tl = powtab::kExp[2 * j + 1];
  return scale2(Th + (Th * q + (Tl + Tl * q)), e);
}

// pow_pos over n values (a multiple of 8), eight at a time in GCC/Clang vector types, which each
// ISA's file lowers to its own registers (one zmm on AVX-512, two ymm on AVX2, four xmm on SSE2 and
// NEON, scalars elsewhere): the same operations as pow_pos, in the same order, element by element,
// so the same bits. Values off the common path (zero, subnormal, inf, NaN, 1, or a result that would
// leave the normal range) are redone one by one with pow_pos.
namespace powvec {
typedef double vd __attribute__((vector_size(64)));
typedef std::int64_t vi __attribute__((vector_size(64)));
typedef std::uint64_t vu __attribute__((vector_size(64)));
// 32-bit lanes for the integer parts: every ISA converts int32 <-> double in vectors (cvtdq2pd,
// cvttpd2dq), while int64 <-> double needs AVX-512DQ and is scalarized elsewhere.
typedef std::int32_t vi32 __attribute__((vector_size(32)));
constexpr std::size_t W = 8;
}  // namespace powvec

template <std::size_t n>
inline void pow_pos_batch(const double* x, double* out, double y) {
  using namespace powimpl;
  using powvec::vd;
  using powvec::vi;
  using powvec::vu;
  using powvec::vi32;
  static_assert(n % powvec::W == 0, "whole vectors only");
  vi odd = {};
  for (std::size_t base = 0; base < n; base += powvec::W) {
    vd xk;
    std::memcpy(&xk, x + base, sizeof xk);
    const vu bits = reinterpret_cast<vu>(xk);
    const vi32 hi = __builtin_convertvector(bits >> 32, vi32);  // x > 0 here: the sign bit is clear
    const vi32 ki = (hi >> 20) - 1023;
    const vi32 i = (hi >> 13) & 127;
    const vd m = reinterpret_cast<vd>((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    const vd c = 1.0 + __builtin_convertvector(2 * i + 1, vd) / 256.0;
    const vd d = m - c;
    const vd a = m + c;
    const vd bb = a - m;
    const vd aLo = (m - (a - bb)) + (c - bb);
    const vd u = d / a;
    const vd ua = u * a;
    const vd su = u * kSplit;
    const vd uh = su - (su - u);
    const vd ul = u - uh;
    const vd sa = a * kSplit;
    const vd ah = sa - (sa - a);
    const vd al = a - ah;
    const vd uaLo = (((uh * ah - ua) + uh * al) + ul * ah) + ul * al;
    const vd uLo = (((d - ua) - uaLo) - u * aLo) / a;
    const vd u2 = u * u;
    const vd tail = 2.0 * uLo + 2.0 * u * (u2 * (1.0 / 3.0 + u2 * (1.0 / 5.0 + u2 * (1.0 / 7.0))));
    const vd kd = __builtin_convertvector(ki, vd);
    const vd A = kd * powtab::kLn2Hi;
    vd B, Blo;
    for (std::size_t k = 0; k < powvec::W; ++k) {
      B[k] = powtab::kLog[2 * i[k]];
      Blo[k] = powtab::kLog[2 * i[k] + 1];
    }
    const vd C = 2.0 * u;
    const vd s1 = A + B;
    const vd b1 = s1 - A;
    const vd e1 = (A - (s1 - b1)) + (B - b1);
    const vd s2 = s1 + C;
    const vd b2 = s2 - s1;
    const vd e2 = (s1 - (s2 - b2)) + (C - b2);
    const vd low = (e1 + e2) + ((kd * powtab::kLn2Lo + Blo) + tail);
    const vd L = s2 + low;
    const vd Llo = (s2 - L) + low;
    const vd t1 = y * L;
    const double sy = y * kSplit;
    const double yh = sy - (sy - y);
    const double yl = y - yh;
    const vd sl = L * kSplit;
    const vd lh = sl - (sl - L);
    const vd ll = L - lh;
    const vd t2 = ((((yh * lh - t1) + yh * ll) + yl * lh) + yl * ll) + y * Llo;
    const vd T = t1 + t2;
    const vd Tlo = (t1 - T) + t2;
    // The common path: x normal, finite, not 1, and the result normal (|T| < 708 < ln 2^1022).
    const vi common = (xk >= kSmallestNormal) & (xk < INFINITY) & (xk != 1.0) & (t1 < 708.0) & (t1 > -708.0);
    odd |= ~common;
    const vd zero = {};
    const vd Tc = common ? T : zero;
    // floor(v) as truncation, then one step down where that rounded up (negative non-integers).
    const vd v = Tc * powtab::kInvL64 + 0.5;
    vi32 nn = __builtin_convertvector(v, vi32);
    nn += __builtin_convertvector(__builtin_convertvector(nn, vd) > v, vi32);  // a true comparison is -1
    const vd N = __builtin_convertvector(nn, vd);
    const vi32 j = nn & 63;
    const vi32 e = (nn - j) >> 6;
    const vd rh = Tc - N * powtab::kL64Hi;
    const vd rl = (common ? Tlo : zero) - N * powtab::kL64Lo;
    const vd r = rh + rl;
    const vd rLo = (rh - r) + rl;
    const vd q =
        r + (rLo + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    vd Th, Tl;
    for (std::size_t k = 0; k < powvec::W; ++k) {
      Th[k] = powtab::kExp[2 * j[k]];
      Tl[k] = powtab::kExp[2 * j[k] + 1];
    }
    const vd scale = reinterpret_cast<vd>(__builtin_convertvector(e + 1023, vu) << 52);
    const vd res = (Th + (Th * q + (Tl + Tl * q))) * scale;
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
