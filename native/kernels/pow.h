// gradclip's own pow for x >= 0 (SPEC §6): a line-by-line translation of src/pow.ts (read the
// explanation there), so |x|^p and the p-th root are the same bits on every backend and runtime.
// Only IEEE double +, -, *, / and exact bit operations; the files are built with -ffp-contract=off,
// so no multiply-add is fused (that would change the bits on arm64).
//
// The arithmetic is written once, as templates over the number type D: `double` for pow_pos, and
// a vector of W doubles (GCC/Clang vector extensions) for pow_pos_batch. Both run the same
// operations in the same order, element by element, so they give the same bits.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

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
// table's ln c = B + Blo, in two steps: u + uLo = (m - c) / (m + c), then the sum.
template <class D>
inline void ln_quot(D m, D c, D& u_out, D& uLo_out) {
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
  u_out = u;
  uLo_out = (((d - ua) - uaLo) - u * aLo) / a;
}

template <class D>
inline void ln_sum(D kd, D B, D Blo, D u, D uLo, D& L, D& Llo) {
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
  double u, uLo;
  ln_quot(m, c, u, uLo);
  ln_sum(static_cast<double>(k), powtab::kLog[2 * i], powtab::kLog[2 * i + 1], u, uLo, hi_out, lo_out);
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

// pow_pos over n values (a multiple of W), W at a time in vector types, which each ISA's file lowers
// to its own registers, in four phases over the whole batch (ln's quotient; ln's sum; y · ln and the
// common-path test; exp), each handing a pair of doubles per value to the next through the stack. One
// pass per vector had a dependency chain of ~200 cycles per value (two divisions, three Horner
// polynomials, double-double sums): the core could not overlap enough vectors to fill its units. Four
// short loops can. Measured, 2^22 float32, |x|^3, one thread (Zen 4, 2.6 GHz): AVX-512 34.4 -> 21.0 ms,
// AVX2 53.3 -> 23.1, SSE2 74 -> 47.5 — with the two bit-exact integer steps below (c and k from m's bits,
// floor by the 1.5 · 2^52 rounding) instead of int32 <-> double conversions, which cost SSE2 shuffles.
// W: one zmm on AVX-512, one ymm on AVX2, one xmm on x86-64's baseline (the sse2 and scalar tables:
// two xmm per vector measured 70 % slower, four 75 %: SSE's two-operand code spills), eight elsewhere
// (NEON's 32 registers; not timed since the phases went in, arm64 runs under qemu here). Every element
// goes through the same operations whatever W is: the same bits. Values off the common path (zero,
// subnormal, inf, NaN, 1, or a result that would leave the normal range) are redone one by one with pow_pos.
namespace powvec {
#if defined(__AVX512F__)
constexpr std::size_t W = 8;
#elif defined(__AVX2__)
constexpr std::size_t W = 4;
#elif defined(__SSE2__)
constexpr std::size_t W = 2;
#else
constexpr std::size_t W = 8;
#endif
typedef double vd __attribute__((vector_size(8 * W)));
typedef std::int64_t vi __attribute__((vector_size(8 * W)));
typedef std::uint64_t vu __attribute__((vector_size(8 * W)));
}  // namespace powvec

// hi[k], lo[k] = tab[2 idx[k]], tab[2 idx[k] + 1]: a table of double-double pairs. AVX-512 gathers
// them (21.1 -> 19.7 ms for the 2^22 values above; AVX2's gather measured 5 % slower than its loads).
template <class VD, class VI>
inline void lookup_pairs(const double* tab, VI idx, VD& hi, VD& lo) {
#if defined(__AVX512F__)
  const __m512i at = reinterpret_cast<__m512i>(idx + idx);
  hi = reinterpret_cast<VD>(_mm512_i64gather_pd(at, tab, 8));
  lo = reinterpret_cast<VD>(_mm512_i64gather_pd(at, tab + 1, 8));
#elif defined(__AVX2__)
  // Four 16-byte (hi, lo) loads and two shuffles, not eight loads and inserts: 3-4 % on AVX2's pow.
  // (SSE2's two values per vector measured no faster this way.)
  typedef double v2 __attribute__((vector_size(16)));
  v2 p0, p1, p2, p3;
  std::memcpy(&p0, tab + 2 * idx[0], sizeof p0);
  std::memcpy(&p1, tab + 2 * idx[1], sizeof p1);
  std::memcpy(&p2, tab + 2 * idx[2], sizeof p2);
  std::memcpy(&p3, tab + 2 * idx[3], sizeof p3);
  const VD a = __builtin_shufflevector(p0, p2, 0, 1, 2, 3);  // p0 | p2
  const VD b = __builtin_shufflevector(p1, p3, 0, 1, 2, 3);  // p1 | p3
  hi = __builtin_shufflevector(a, b, 0, 4, 2, 6);
  lo = __builtin_shufflevector(a, b, 1, 5, 3, 7);
#else
  for (std::size_t k = 0; k < powvec::W; ++k) {
    hi[k] = tab[2 * idx[k]];
    lo[k] = tab[2 * idx[k] + 1];
  }
#endif
}

template <std::size_t n>
inline void pow_pos_batch(const double* x, double* out, double y) {
  using namespace powimpl;
  using powvec::vd;
  using powvec::vi;
  using powvec::vu;
  static_assert(n % powvec::W == 0, "whole vectors only");
  constexpr std::size_t W = powvec::W;
  alignas(64) double first[n], second[n];  // the pair each phase hands to the next
  auto load = [](const double* p) {
    vd v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  auto store = [](double* p, vd v) { std::memcpy(p, &v, sizeof v); };
  // 1. u + uLo = (m - c) / (m + c), for x = 2^k · m (x > 0 here: the sign bit is clear), with
  // c = 1 + (2i + 1) / 256 exactly: m's top seven fraction bits (i), then a one.
  for (std::size_t base = 0; base < n; base += W) {
    const vu mbits = (reinterpret_cast<vu>(load(x + base)) & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    const vd c = reinterpret_cast<vd>((mbits & 0xffffe00000000000ull) | 0x0000100000000000ull);
    vd u, uLo;
    ln_quot(reinterpret_cast<vd>(mbits), c, u, uLo);
    store(first + base, u);
    store(second + base, uLo);
  }
  // 2. ln x = L + Llo, with k as a double exactly: (2^52 + the biased exponent) - (2^52 + 1023).
  for (std::size_t base = 0; base < n; base += W) {
    const vu bits = reinterpret_cast<vu>(load(x + base));
    vd B, Blo, L, Llo;
    lookup_pairs(powtab::kLog, (bits >> 45) & 127, B, Blo);
    const vd kd = reinterpret_cast<vd>((bits >> 52) | 0x4330000000000000ull) - 4503599627371519.0;
    ln_sum(kd, B, Blo, load(first + base), load(second + base), L, Llo);
    store(first + base, L);
    store(second + base, Llo);
  }
  // 3. T + Tlo = y · ln x, zero off the common path: x normal, finite, not 1, and the result normal
  // (|y·L| < 708 < ln 2^1022).
  vi odd = {};
  for (std::size_t base = 0; base < n; base += W) {
    const vd xk = load(x + base);
    const vd L = load(first + base);
    vd T, Tlo;
    times(y, L, load(second + base), T, Tlo);
    const vd t1 = y * L;
    const vi common = (xk >= kSmallestNormal) & (xk < INFINITY) & (xk != 1.0) & (t1 < 708.0) & (t1 > -708.0);
    odd |= ~common;
    const vd zero = {};
    store(first + base, common ? T : zero);
    store(second + base, common ? Tlo : zero);
  }
  // 4. exp(T + Tlo) with N = floor(v): v rounded to an integer by adding and taking away 1.5 · 2^52
  // (|v| < 2^16 here), then one step down where that rounded up; the integer is also the sum's low bits.
  // The scale 2^e, e = (N - j) / 64, is (e + 1023) << 52 = ((N - j) << 46) + (1023 << 52).
  for (std::size_t base = 0; base < n; base += W) {
    const vd T = load(first + base);
    const vd v = T * powtab::kInvL64 + 0.5;
    const vd t = v + 6755399441055744.0;
    const vd r = t - 6755399441055744.0;
    const vi up = r > v;  // -1 where true
    const vi nn = (reinterpret_cast<vi>(t) - 0x4338000000000000ll) + up;
    const vi j = nn & 63;
    vd Th, Tl;
    lookup_pairs(powtab::kExp, j, Th, Tl);
    const vd scale = reinterpret_cast<vd>((reinterpret_cast<vu>(nn - j) << 46) + (1023ull << 52));
    store(out + base, exp_core(T, load(second + base), up ? r - 1.0 : r, Th, Tl) * scale);
  }
  bool any = false;
  for (std::size_t k = 0; k < powvec::W; ++k) any |= odd[k] != 0;
  if (any) {
    for (std::size_t k = 0; k < n; ++k) {
      const double xk = x[k];
      const bool normal = xk >= kSmallestNormal && xk < INFINITY && xk != 1.0;
      if (normal) {
        // |ln x| < (|e| + 1) ln 2 < 0.7 (|e| + 1) for x = 2^e m: below 1000 / |y|, |y ln x| < 700 and
        // the vector result stands without the exact logarithm (a zero in the batch is the usual case).
        std::uint64_t b;
        std::memcpy(&b, &xk, sizeof b);
        const int ex = static_cast<int>(b >> 52) - 1023;
        if (std::fabs(y) * ((ex < 0 ? -ex : ex) + 1) < 1000.0) continue;
      }
      double L = 0, Llo = 0;
      if (normal) ln_dd(xk, L, Llo);
      const double t1 = y * L;
      if (!(normal && t1 < 708.0 && t1 > -708.0)) out[k] = pow_pos(xk, y);
    }
  }
}

}  // namespace
}  // namespace gradclip
