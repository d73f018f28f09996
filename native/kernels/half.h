// 16-bit gradients (float16 / bfloat16 bits): the conversions of src/half.ts, shared by every ISA.
// Decoding is exact; encoding rounds to nearest even, from float32 bits (the kernels' products are
// exact in float32) or from a double (bounds and coefficients), and stores NaN as the canonical bits.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gradclip {

enum class Half : std::uint8_t { None = 0, F16 = 1, BF16 = 2 };

constexpr std::uint16_t kF16NaN = 0x7e00;
constexpr std::uint16_t kBf16NaN = 0x7fc0;

inline float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline std::uint32_t float_to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

inline float f16_to_float(std::uint16_t b) {
  const std::uint32_t sign = static_cast<std::uint32_t>(b & 0x8000) << 16;
  const std::uint32_t e = (b >> 10) & 0x1f, m = b & 0x3ff;
  if (e == 0) {
    const float v = static_cast<float>(m) * 5.9604644775390625e-8f;  // m · 2^-24, exact
    return sign ? -v : v;
  }
  return bits_to_float(sign | (e == 31 ? 0x7f800000u | (m << 13) : ((e + 112) << 23) | (m << 13)));
}

inline float bf16_to_float(std::uint16_t b) { return bits_to_float(static_cast<std::uint32_t>(b) << 16); }

template <Half H>
inline float half_to_float(std::uint16_t b) {
  return H == Half::F16 ? f16_to_float(b) : bf16_to_float(b);
}

inline std::uint16_t f32_bits_to_f16(std::uint32_t u) {
  const std::uint32_t sign = (u >> 16) & 0x8000;
  const std::uint32_t a = u & 0x7fffffff;
  if (a > 0x7f800000) return kF16NaN;
  if (a >= 0x477ff000) return static_cast<std::uint16_t>(sign | 0x7c00);
  if (a < 0x38800000) {
    if (a <= 0x33000000) return static_cast<std::uint16_t>(sign);
    const std::uint32_t e = a >> 23, m = (a & 0x7fffff) | 0x800000, shift = 126 - e;
    const std::uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return static_cast<std::uint16_t>(sign | (r + ((rem > half || (rem == half && (r & 1))) ? 1 : 0)));
  }
  const std::uint32_t base = (a - 0x38000000) >> 13, rem = a & 0x1fff;
  return static_cast<std::uint16_t>(sign | (base + ((rem > 0x1000 || (rem == 0x1000 && (base & 1))) ? 1 : 0)));
}

inline std::uint16_t f32_bits_to_bf16(std::uint32_t u) {
  if ((u & 0x7fffffff) > 0x7f800000) return kBf16NaN;
  return static_cast<std::uint16_t>((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

template <Half H>
inline std::uint16_t float_to_half(float f) {
  return H == Half::F16 ? f32_bits_to_f16(float_to_bits(f)) : f32_bits_to_bf16(float_to_bits(f));
}

// float16 ↔ float32 as above, written without branches so that a compiler vectorizes the loops that use
// them (the 16-bit write passes on instruction sets without F16C): the same values and bits. Decoding
// rebiases float16's fields into float32's (exponent + 112), with exact fix-ups for exponent 0 (one more
// in the exponent, 2^-14 taken off after: m·2^-24) and 31 (112 more: inf, NaN). Encoding rounds the
// normal range by adding 0xfff plus the kept lowest bit before the shift (a carry into the exponent is
// the rounding up it should be) and the subnormal range by a float32 add: |v| + 0.5 has ulp 2^-24,
// float16's subnormal step, so its bits above 0.5's are the rounded mantissa.
inline std::uint32_t all_ones_if(bool c) { return 0u - static_cast<std::uint32_t>(c); }

inline float f16_to_float_nb(std::uint16_t b) {
  const std::uint32_t w = b, e = w & 0x7c00, sub = all_ones_if(e == 0), top = all_ones_if(e == 0x7c00);
  const std::uint32_t bits = ((w & 0x7fff) << 13) + (112u << 23) + (sub & (1u << 23)) + (top & (112u << 23));
  const float magnitude = bits_to_float(bits) - bits_to_float(sub & 0x38800000u);  // 2^-14 or +0
  return bits_to_float(float_to_bits(magnitude) | ((w & 0x8000) << 16));
}

inline std::uint16_t f32_bits_to_f16_nb(std::uint32_t u) {
  const std::uint32_t a = u & 0x7fffffff;
  const std::uint32_t normal = (a - 0x38000000u + 0xfffu + ((a >> 13) & 1)) >> 13;
  const std::uint32_t small = float_to_bits(bits_to_float(a) + 0.5f) - 0x3f000000u;
  const std::uint32_t is_small = all_ones_if(a < 0x38800000u), is_big = all_ones_if(a >= 0x477ff000u);
  const std::uint32_t is_nan = all_ones_if(a > 0x7f800000u);
  std::uint32_t r = (small & is_small) | (normal & ~is_small);
  r = ((0x7c00u & is_big) | (r & ~is_big)) | ((u >> 16) & 0x8000);
  return static_cast<std::uint16_t>((kF16NaN & is_nan) | (r & ~is_nan));
}

// A double rounded once to the dtype (nearest even, not through float32): src/half.ts encodeDouble.
inline std::uint16_t encode_double(double x, Half h) {
  const bool f16 = h == Half::F16;
  if (x != x) return f16 ? kF16NaN : kBf16NaN;
  const int mant = f16 ? 10 : 7, emin = f16 ? -14 : -126, emax = f16 ? 15 : 127, exp_bits = f16 ? 5 : 8;
  const std::uint32_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  const std::uint32_t inf = sign | (((1u << exp_bits) - 1) << mant);
  if (std::isinf(a)) return static_cast<std::uint16_t>(inf);
  if (a < std::ldexp(1.0, emin)) {
    return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(std::ldexp(a, mant - emin))));
  }
  int e2 = 0;
  const double f = std::frexp(a, &e2);  // a = f · 2^e2, f in [0.5, 1)
  int e = e2 - 1;
  double frac = std::nearbyint((f * 2 - 1) * std::ldexp(1.0, mant));
  if (frac == std::ldexp(1.0, mant)) {
    frac = 0;
    ++e;
  }
  if (e > emax) return static_cast<std::uint16_t>(inf);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(e - emin + 1) << mant) | static_cast<std::uint32_t>(frac));
}

inline float decode_half(std::uint16_t b, Half h) { return h == Half::F16 ? f16_to_float(b) : bf16_to_float(b); }

}  // namespace gradclip
