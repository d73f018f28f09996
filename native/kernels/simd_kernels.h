// The kernels, written once over a small vector-traits interface. Each ISA's .cc file
// defines its traits V and instantiates make_table<V>(), compiled with that ISA's flags
// (see binding.gyp): the algorithm is shared, only the vector width differs.
//
// V provides:
//   W: doubles per vector D; LoadWide(const float*|const double*) -> D (W elements widened)
//   Zero, Set1, Add, Mul, Abs, Store(double*, D), Horizontal(D): the lane tree within one vector
//   (low half + high half, repeatedly, then lane 0 + lane 1)
//   F32 / F64: native-width ops for max/min: type Vec of N elements, Load, Store, Set1,
//     Abs, Max, Min, Mul, and a NaN mask: NoNaN(), OrNaN(mask, v), AnyNaN(mask)
#pragma once

#include <cmath>
#include <cstring>
#if defined(__F16C__) && defined(__AVX2__)
#include <immintrin.h>
#endif
#include <type_traits>
#include <vector>

#include "contract.h"
#include "pow.h"

namespace gradclip {
namespace simd {
// Internal linkage: every ISA's file compiles its own copy of these templates with its own flags.
// With external linkage the linker kept one copy of the ISA-independent ones (count_nonzero<T>,
// block_sum_pow<T>, probe_read) for every table — the first file's — so a table could run code
// built for another instruction set (slower, or an illegal instruction on an older CPU).
namespace {

// W elements widened to doubles: float/double through V::LoadWide; 16-bit bits (K = F16 / BF16) through
// V's own half loads where it has them (F16C, shifts), else decoded one by one (exact either way).
template <class V, Half K, class T>
inline typename V::D load_any(const T* p) {
  if constexpr (K == Half::None) {
    return V::LoadWide(p);
  } else if constexpr (V::kHalfLoads) {
    return K == Half::F16 ? V::LoadWideF16(p) : V::LoadWideBF16(p);
  } else {
    alignas(64) double t[V::W];
    for (std::size_t k = 0; k < V::W; ++k) t[k] = half_to_float<K>(p[k]);
    return V::LoadWide(static_cast<const double*>(t));
  }
}

// Whether V loads bfloat16 two vectors at a time (V::LoadPairBF16), its lanes in a fixed permutation that
// V::UnpairBF16 undoes once per block: one unpack per W values instead of a widen and a shift.
template <class V, Half K>
constexpr bool kPaired = K == Half::BF16 && V::kPairedBF16;

// Whether v·v is exact in double for every v widened from T: float32 (24-bit significands, exponents
// -149..127) and the 16-bit dtypes (11 / 8 bits) square into ≤ 48 bits, far inside double's range; a
// float64 input's square is rounded.
template <class T>
constexpr bool kExactSquare = !std::is_same_v<T, double>;

// V's fused acc + v·v where it has one (kFusedSquare): with an exact v·v the single rounding of the fused
// op is the rounding of the add, so the bits are those of V::Add(acc, V::Mul(v, v)) — one instruction on
// the multiply pipes instead of two (16-bit passes on AVX-512: ~1.3× the values per second).
template <class V, bool Squares, bool Scaled, bool ExactSquare = false>
inline void add_term(typename V::D& acc, typename V::D v, typename V::D sv) {
  if constexpr (Squares && !Scaled && ExactSquare && V::kFusedSquare) {
    acc = V::SquareAdd(acc, v);
  } else {
    if (Scaled) v = V::Mul(v, sv);
    // Square, then add: two roundings for f64 (the files are built with -ffp-contract=off).
    acc = V::Add(acc, Squares ? V::Mul(v, v) : V::Abs(v));
  }
}

// One chunk of kLanes elements of a block, added to its N = kLanes / W accumulators.
template <class V, bool Squares, bool Scaled, class T, Half K = Half::None>
inline void add_chunk(typename V::D* acc, const T* x, typename V::D sv) {
  constexpr std::size_t N = kLanes / V::W;  // accumulator k holds lanes [k·W, k·W+W)
  if constexpr (kPaired<V, K>) {
    for (std::size_t k = 0; k < N; k += 2) {
      typename V::D lo, hi;
      V::LoadPairBF16(x + k * V::W, lo, hi);
      add_term<V, Squares, Scaled, true>(acc[k], lo, sv);
      add_term<V, Squares, Scaled, true>(acc[k + 1], hi, sv);
    }
  } else {
    for (std::size_t k = 0; k < N; ++k)
      add_term<V, Squares, Scaled, kExactSquare<T>>(acc[k], load_any<V, K>(x + k * V::W), sv);
  }
}

// The pairwise lane tree in registers: accumulator halves first (lane distance 16, 8, ...
// down to W), then within the last vector (W/2, ..., 1): the same additions as
// combine_lanes in contract.h, in the same order.
template <class V, Half K = Half::None>
inline double lane_tree(typename V::D* acc) {
  constexpr std::size_t N = kLanes / V::W;
  if constexpr (kPaired<V, K>) {
    for (std::size_t k = 0; k < N; k += 2) V::UnpairBF16(acc[k], acc[k + 1]);
  }
  for (std::size_t count = N; count > 1; count /= 2) {
    for (std::size_t k = 0; k < count / 2; ++k) acc[k] = V::Add(acc[k], acc[k + count / 2]);
  }
  return V::Horizontal(acc[0]);
}

template <class V, bool Squares, bool Scaled, class T, Half K = Half::None>
double block_sum(const T* x, std::size_t n, double s) {
  typename V::D acc[kLanes / V::W];
  for (auto& a : acc) a = V::Zero();
  const typename V::D sv = V::Set1(s);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) add_chunk<V, Squares, Scaled, T, K>(acc, x + i, sv);
  if (i < n) {
    // The tail, zero-padded into one more chunk: lane sums are >= +0 and adding +0 is exact,
    // so this is the same as adding each tail element to its lane (16-bit bits 0 are +0 too).
    alignas(64) T pad[kLanes] = {};
    for (std::size_t j = 0; i + j < n; ++j) pad[j] = x[i + j];
    add_chunk<V, Squares, Scaled, T, K>(acc, pad, sv);
  }
  return lane_tree<V, K>(acc);
}

// S whole consecutive blocks at once: each block keeps its own accumulators (so its result, and
// the contract's bits, are those of block_sum), the loop just reads S streams concurrently. One
// stream leaves the core waiting on memory (issue 10: on the AVX-512 machine four streams read
// 64M floats ~10 % faster than one); S is V::Streams, as many as the registers hold without spilling.
// 16-bit blocks read one stream: their pass is bound by the conversions, not by memory, and one stream
// measured faster there (2^24 values, AVX-512, 1 thread, with the fused square-add: 23.2-25.4 GB/s
// against 18.3-23.3 with four streams, four alternating runs).
template <class V, bool Squares, bool Scaled, class T, Half K = Half::None>
void block_sums_streams(const T* x, double s, double* out) {
  constexpr std::size_t S = V::Streams;
  typename V::D acc[S][kLanes / V::W];
  for (auto& block : acc)
    for (auto& a : block) a = V::Zero();
  const typename V::D sv = V::Set1(s);
  for (std::size_t i = 0; i < kBlock; i += kLanes) {
    for (std::size_t b = 0; b < S; ++b) add_chunk<V, Squares, Scaled, T, K>(acc[b], x + b * kBlock + i, sv);
  }
  for (std::size_t b = 0; b < S; ++b) out[b] = lane_tree<V, K>(acc[b]);
}

// out[j] = the result of block j of x[0, n): blocks of kBlock elements, the last one possibly shorter.
template <class V, bool Squares, bool Scaled, class T, Half K = Half::None>
void block_sums(const T* x, std::size_t n, double s, double* out) {
  std::size_t b = 0;
  if constexpr (V::Streams > 1 && K == Half::None) {
    for (; (b + V::Streams) * kBlock <= n; b += V::Streams)
      block_sums_streams<V, Squares, Scaled, T, K>(x + b * kBlock, s, out + b);
  }
  for (; b * kBlock < n; ++b) {
    const std::size_t len = n - b * kBlock < kBlock ? n - b * kBlock : kBlock;
    out[b] = block_sum<V, Squares, Scaled, T, K>(x + b * kBlock, len, s);
  }
}

template <class V, class T, Half K = Half::None>
void block_sums_dispatch(const T* x, std::size_t n, Op op, double s, double* out) {
  const bool squares = op == Op::SumSquares;
  if (s == 1.0) {
    if (squares) block_sums<V, true, false, T, K>(x, n, s, out);
    else block_sums<V, false, false, T, K>(x, n, s, out);
  } else if (squares) {
    block_sums<V, true, true, T, K>(x, n, s, out);
  } else {
    block_sums<V, false, true, T, K>(x, n, s, out);
  }
}

template <class V>
void block_sums_half(const std::uint16_t* x, std::size_t n, Op op, double s, Half h, double* out) {
  if (h == Half::F16) block_sums_dispatch<V, std::uint16_t, Half::F16>(x, n, op, s, out);
  else block_sums_dispatch<V, std::uint16_t, Half::BF16>(x, n, op, s, out);
}

// Σ|x·s|^p: 32 values at a time through pow_pos_batch (vectorized with this file's ISA flags), each
// added to its lane; the tail one by one. Same lanes, same additions, same pow bits as src/backends/js.ts.
template <class T>
double block_sum_pow(const T* x, std::size_t n, double p, double s) {
  alignas(64) double lanes[kLanes] = {};
  alignas(64) double v[kLanes];
  alignas(64) double r[kLanes];
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t k = 0; k < kLanes; ++k) v[k] = std::fabs(static_cast<double>(x[i + k]) * s);
    pow_pos_batch<kLanes>(v, r, p);
    for (std::size_t k = 0; k < kLanes; ++k) lanes[k] += r[k];
  }
  for (std::size_t k = 0; i + k < n; ++k) lanes[k] += pow_pos(std::fabs(static_cast<double>(x[i + k]) * s), p);
  return combine_lanes(lanes);
}

// Σ|x·s|^p over 16-bit values: block_sum_pow's lanes and batches over the decoded values.
template <Half K>
double block_sum_pow_half_k(const std::uint16_t* x, std::size_t n, double p, double s) {
  alignas(64) double lanes[kLanes] = {};
  alignas(64) double v[kLanes];
  alignas(64) double r[kLanes];
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t k = 0; k < kLanes; ++k) v[k] = std::fabs(static_cast<double>(half_to_float<K>(x[i + k])) * s);
    pow_pos_batch<kLanes>(v, r, p);
    for (std::size_t k = 0; k < kLanes; ++k) lanes[k] += r[k];
  }
  for (std::size_t k = 0; i + k < n; ++k) lanes[k] += pow_pos(std::fabs(static_cast<double>(half_to_float<K>(x[i + k])) * s), p);
  return combine_lanes(lanes);
}

inline double block_sum_pow_half(const std::uint16_t* x, std::size_t n, double p, double s, Half h) {
  return h == Half::F16 ? block_sum_pow_half_k<Half::F16>(x, n, p, s) : block_sum_pow_half_k<Half::BF16>(x, n, p, s);
}

// |x| of a 16-bit value orders as its bits & 0x7fff (above the infinity's bits: NaN): plain integer
// loops the compiler vectorizes.
inline double extreme_abs_half(const std::uint16_t* x, std::size_t n, bool is_max, Half h) {
  const std::uint16_t inf = h == Half::F16 ? 0x7c00 : 0x7f80;
  std::uint16_t m = is_max ? 0 : inf, top = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t a = x[i] & 0x7fff;
    top = a > top ? a : top;
    if (is_max) m = a > m ? a : m;
    else m = a < m ? a : m;
  }
  if (top > inf) return NAN;
  return static_cast<double>(decode_half(m, h));
}

inline std::uint64_t count_nonzero_half(const std::uint16_t* x, std::size_t n) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += (x[i] & 0x7fff) != 0;
  return c;
}

// The float16 scale: x·c in float32 (exact: c is the coefficient rounded to float16), rounded once to
// float16. half.h's branchy conversions kept every compiler from vectorizing it (53 ms for 2^24 values
// where float32 takes ~2, AVX-512): the AVX2 and AVX-512 tables (built with -mf16c) take eight values per
// step through F16C, whose conversions are exact one way and round to nearest even the other as half.h
// does, but keep a NaN's sign and payload where half.h stores the canonical 0x7e00, hence the NaN mask
// (eight float32 masks packed with signed saturation stay all ones / zero, one per value, in order);
// elsewhere, and for the tail, half.h's branch-free twins, which compilers vectorize. bfloat16's
// conversions are shifts and adds already.
#if defined(__F16C__) && defined(__AVX2__)
inline std::size_t scale_f16x8(std::uint16_t* x, std::size_t n, float c) {
  const __m256 cv = _mm256_set1_ps(c);
  const __m128i nan = _mm_set1_epi16(static_cast<short>(kF16NaN));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i* p = reinterpret_cast<__m128i*>(x + i);
    const __m256 v = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(p)), cv);
    const __m128i r = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i m = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    const __m128i is_nan = _mm_packs_epi32(_mm256_castsi256_si128(m), _mm256_extractf128_si256(m, 1));
    _mm_storeu_si128(p, _mm_blendv_epi8(r, nan, is_nan));
  }
  return i;
}
#endif

template <Half K>
void scale_half_k(std::uint16_t* x, std::size_t n, float c) {
  std::size_t i = 0;
#if defined(__F16C__) && defined(__AVX2__)
  if constexpr (K == Half::F16) i = scale_f16x8(x, n, c);
#endif
  if constexpr (K == Half::F16) {
    for (; i < n; ++i) x[i] = f32_bits_to_f16_nb(float_to_bits(f16_to_float_nb(x[i]) * c));
  } else {
    for (; i < n; ++i) x[i] = float_to_half<K>(half_to_float<K>(x[i]) * c);
  }
}

inline void scale_half(std::uint16_t* x, std::size_t n, float c, Half h) {
  if (h == Half::F16) scale_half_k<Half::F16>(x, n, c);
  else scale_half_k<Half::BF16>(x, n, c);
}

// A 16-bit value's place in the order of values, as an integer: ±magnitude bits (both zeros 0). Both
// dtypes are sign-magnitude with the exponent above the mantissa, so these integers order as the values
// do (NaN aside).
inline std::int32_t order_key(std::uint16_t b) {
  const std::int32_t m = b & 0x7fff;
  return (b & 0x8000) ? -m : m;
}

// Below lo → lo_bits, above hi → hi_bits (lo <= hi, values of the dtype); NaN and everything in between
// keep their bits. Compared as order keys, not decoded: integer selects, which compilers vectorize on
// every instruction set (float16's decoding has a branch they do not).
// (The bounds as values, the contract's lo and hi, are not needed.)
inline void clamp_half(std::uint16_t* x, std::size_t n, double, double, std::uint16_t lo_bits, std::uint16_t hi_bits,
                       Half h) {
  const std::int16_t lk = static_cast<std::int16_t>(order_key(lo_bits)), hk = static_cast<std::int16_t>(order_key(hi_bits));
  const std::int16_t inf = static_cast<std::int16_t>(h == Half::F16 ? 0x7c00 : 0x7f80);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t b = x[i];
    const std::int16_t m = static_cast<std::int16_t>(b & 0x7fff);
    const std::int16_t key = (b & 0x8000) ? static_cast<std::int16_t>(-m) : m;
    const bool number = m <= inf;
    x[i] = number && key < lk ? lo_bits : number && key > hk ? hi_bits : b;
  }
}

// Order-free extremes of |x|: SIMD max/min drop NaN, so NaN is tracked in a separate mask.
template <class O, bool IsMax>
double extreme_abs(const typename O::T* x, std::size_t n) {
  using Vec = typename O::Vec;
  const double init = IsMax ? 0.0 : INFINITY;
  Vec m = O::Set1(static_cast<typename O::T>(init));
  typename O::Mask nan = O::NoNaN();
  std::size_t i = 0;
  // Four vectors per step into two extremes: fewer loop steps and two independent max/min chains,
  // which narrow vectors (SSE2's four floats) need to keep up with memory.
  Vec m2 = m;
  for (; i + 4 * O::N <= n; i += 4 * O::N) {
    const Vec a = O::Abs(O::Load(x + i)), b = O::Abs(O::Load(x + i + O::N));
    const Vec c = O::Abs(O::Load(x + i + 2 * O::N)), d = O::Abs(O::Load(x + i + 3 * O::N));
    nan = O::OrNaN(O::OrNaN(O::OrNaN(O::OrNaN(nan, a), b), c), d);
    m = IsMax ? O::Max(O::Max(m, a), c) : O::Min(O::Min(m, a), c);
    m2 = IsMax ? O::Max(O::Max(m2, b), d) : O::Min(O::Min(m2, b), d);
  }
  m = IsMax ? O::Max(m, m2) : O::Min(m, m2);
  for (; i + O::N <= n; i += O::N) {
    Vec v = O::Abs(O::Load(x + i));
    nan = O::OrNaN(nan, v);
    m = IsMax ? O::Max(m, v) : O::Min(m, v);
  }
  if (O::AnyNaN(nan)) return NAN;
  typename O::T parts[O::N];
  O::Store(parts, m);
  double r = init;
  for (std::size_t k = 0; k < O::N; ++k) {
    const double v = parts[k];
    if (IsMax ? v > r : v < r) r = v;
  }
  for (; i < n; ++i) {
    const double v = std::fabs(static_cast<double>(x[i]));
    if (v != v) return NAN;
    if (IsMax ? v > r : v < r) r = v;
  }
  return r;
}

// Plain loops: order-free, so the compiler's vectorizer (with this file's ISA flags) is enough.
template <class T>
std::uint64_t count_nonzero(const T* x, std::size_t n) {
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < n; ++i) c += x[i] != T(0);  // NaN != 0 is true: NaN counts
  return c;
}

// In-place passes walk a long range as kWriteStreams equal parts side by side, as the sums read several
// blocks at once (issue 10: one stream leaves the core waiting on memory). Elementwise, so the bits do
// not depend on it. 268 MB of float32 in runs of four blocks, one thread, medians of 21, five rounds:
// a vector scale on avx512 took 12.6-15.0 ms as one stream, 11.7-13.8 as four; avx2 13.9-14.6 vs 12.0-13.9.
constexpr std::size_t kWriteStreams = 4;
// Below this many elements per stream the range is walked as one stream (nothing to gain in cache).
constexpr std::size_t kWriteStreamMin = 4096;

// Elements per stream for an aligned range of m: whole 4 KiB pages plus a quarter page, so the streams'
// addresses differ in their low 12 bits (0, 1, 2, 3 KiB). Streams a multiple of 4 KiB apart made each
// load wait on another stream's pending store of the same low address bits ("4K aliasing"): on cached
// data (1M float32, AVX-512) the vector scale ran at 1.6× its plain-C twin, against 1.05× as one stream.
// The rest (under five pages per stream) goes to the one-stream loop.
template <class T>
inline std::size_t stream_part(std::size_t m) {
  constexpr std::size_t kPage = 4096 / sizeof(T), kSkew = 1024 / sizeof(T);
  const std::size_t per = m / kWriteStreams;
  if (per < kWriteStreamMin + kSkew) return 0;
  return (per - kSkew) / kPage * kPage + kSkew;
}

// fn(p) for p = base + s·part + j over the kWriteStreams streams, j stepping by `step` through [0, part):
// the streams side by side, one step of each in turn.
template <class T, class Fn>
inline void walk_streams(T* base, std::size_t part, std::size_t step, Fn fn) {
  for (std::size_t j = 0; j < part; j += step) {
    for (std::size_t s = 0; s < kWriteStreams; ++s) fn(base + s * part + j);
  }
}

// In-place passes peel the first elements up to a 64-byte boundary, so the vectorized main loop
// never splits a store across cache lines (measured: ~25 % faster on a misaligned 4 MB array).
template <class T, class F>
inline void for_each_aligned(T* x, std::size_t n, F f) {
  std::size_t head = ((64 - (reinterpret_cast<std::uintptr_t>(x) & 63)) & 63) / sizeof(T);
  if (head > n) head = n;
  for (std::size_t i = 0; i < head; ++i) x[i] = f(x[i]);
  T* y = static_cast<T*>(__builtin_assume_aligned(x + head, 64));
  const std::size_t m = n - head;
  constexpr std::size_t kChunk = 128 / sizeof(T);  // two cache lines per stream and step
  const std::size_t part = stream_part<T>(m);  // a whole number of chunks
  std::size_t i = 0;
  if (part > 0) {
    walk_streams(y, part, kChunk, [&f](T* q) {
      T* p = static_cast<T*>(__builtin_assume_aligned(q, 64));
      for (std::size_t k = 0; k < kChunk; ++k) p[k] = f(p[k]);
    });
    i = kWriteStreams * part;
  }
  for (; i < m; ++i) y[i] = f(y[i]);
}

// The canonical quiet NaN of each dtype (SPEC §6): every NaN a kernel writes has these bits,
// whatever the hardware would have made of the operands' payloads and signs.
template <class T>
T canonical_nan() {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const Bits bits = sizeof(T) == 4 ? Bits(0x7fc00000u) : Bits(0x7ff8000000000000ull);
  T v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// x *= c. The product's NaNs (a NaN element, inf × 0, or a NaN coefficient) are rewritten as the
// canonical NaN: the vector loop only ORs an unordered-compare mask of what it stored (free next
// to the memory traffic), and a second pass over the range runs only when that mask is set.
template <class O>
void scale(typename O::T* x, std::size_t n, typename O::T c) {
  using T = typename O::T;
  const T nan = canonical_nan<T>();
  if constexpr (O::N == 1) {
    // The scalar table: one plain loop the compiler may vectorize with the target's baseline.
    for_each_aligned(x, n, [c, nan](T v) {
      const T r = v * c;
      return r != r ? nan : r;
    });
    return;
  }
  const auto one = [x, c, nan](std::size_t i) {
    const T r = x[i] * c;
    x[i] = r != r ? nan : r;
  };
  std::size_t head = ((64 - (reinterpret_cast<std::uintptr_t>(x) & 63)) & 63) / sizeof(T);
  if (head > n) head = n;
  for (std::size_t i = 0; i < head; ++i) one(i);
  const typename O::Vec cv = O::Set1(c);
  typename O::Mask bad = O::NoNaN();
  std::size_t i = head;
  constexpr std::size_t kStep = 2 * O::N;
  const std::size_t part = stream_part<T>(n - head);  // a whole number of steps
  if (part > 0) {
    walk_streams(x + head, part, kStep, [&](T* p) {
      const typename O::Vec a = O::Mul(O::Load(p), cv);
      const typename O::Vec b = O::Mul(O::Load(p + O::N), cv);
      O::Store(p, a);
      O::Store(p + O::N, b);
      bad = O::OrNaN(O::OrNaN(bad, a), b);
    });
    i += kWriteStreams * part;
  }
  for (; i + kStep <= n; i += kStep) {
    const typename O::Vec a = O::Mul(O::Load(x + i), cv);
    const typename O::Vec b = O::Mul(O::Load(x + i + O::N), cv);
    O::Store(x + i, a);
    O::Store(x + i + O::N, b);
    bad = O::OrNaN(O::OrNaN(bad, a), b);
  }
  if (i + O::N <= n) {
    const typename O::Vec a = O::Mul(O::Load(x + i), cv);
    O::Store(x + i, a);
    bad = O::OrNaN(bad, a);
    i += O::N;
  }
  const std::size_t vectorEnd = i;
  for (; i < n; ++i) one(i);
  if (O::AnyNaN(bad)) {
    for (std::size_t k = head; k < vectorEnd; ++k) {
      if (x[k] != x[k]) x[k] = nan;
    }
  }
}

template <class T>
void clamp(T* x, std::size_t n, T lo, T hi) {
  for_each_aligned(x, n, [lo, hi](T v) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
  });
}

// Plain loops over the columns, which the compiler vectorizes with this file's ISA flags: every
// column still adds its own terms in row order (-ffp-contract=off: square, then add).
template <class T>
void col_sum_squares(const T* x, std::size_t rows, std::size_t cols, double s, double* acc) {
  for (std::size_t c = 0; c < cols; ++c) acc[c] = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = static_cast<double>(row[c]) * s;
      acc[c] += v * v;
    }
  }
}

template <class T>
void scale_cols(T* x, std::size_t rows, std::size_t cols, const double* coefs) {
  const T nan = canonical_nan<T>();
  std::vector<T> k(cols);
  std::vector<unsigned char> keep(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    k[c] = static_cast<T>(coefs[c]);
    keep[c] = coefs[c] == 1.0;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    T* row = x + r * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      const T v = row[c] * k[c];
      row[c] = keep[c] ? row[c] : v != v ? nan : v;
    }
  }
}

// ---- the optimizer step (SPEC §8) ----------------------------------------------------------------
// Plain element loops, one instantiation per combination of options (so each loop is branch-free
// and the compiler vectorizes it with this file's ISA flags). Every operation is one IEEE operation
// rounded to T (+ − × ÷ √ are correctly rounded in every vector unit; -ffp-contract=off forbids FMA):
// the same bits on every ISA, and the same as src/backends/js.ts's Math.fround after each operation.
template <class T>
struct Pre {
  T c, lo, hi, sign;
  explicit Pre(const StepArgs& a)
      : c(static_cast<T>(a.c)), lo(static_cast<T>(a.lo)), hi(static_cast<T>(a.hi)), sign(static_cast<T>(a.sign)) {}
  // The fused clip and maximize: g·c, then the contract's clamp (NaN kept), then ×±1.
  T operator()(T g) const {
    T x = g * c;
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    return x * sign;
  }
};

template <class T>
inline T canon(T v, T nan) {
  return v != v ? nan : v;
}

template <class T, bool WD, bool Mom, bool Nesterov, bool First>
void sgd_loop(T* __restrict p, const T* __restrict g, T* __restrict buf, std::size_t n, const StepArgs& a) {
  const Pre<T> pre(a);
  const T wd = static_cast<T>(a.weight_decay), mom = static_cast<T>(a.momentum);
  const T damp1 = static_cast<T>(a.damp1), neg_lr = static_cast<T>(a.neg_lr), nan = canonical_nan<T>();
  for (std::size_t i = 0; i < n; ++i) {
    const T x = p[i];
    T d = pre(g[i]);
    if (WD) d = d + wd * x;
    if (Mom) {
      const T b = First ? d : buf[i] * mom + damp1 * d;
      buf[i] = canon(b, nan);
      d = Nesterov ? d + mom * b : b;
    }
    p[i] = canon(x + neg_lr * d, nan);
  }
}

template <class T>
void sgd(T* p, const T* g, T* buf, std::size_t n, const StepArgs& a, bool first) {
  const bool wd = a.weight_decay != 0;
  if (a.momentum == 0) {
    if (wd) sgd_loop<T, true, false, false, false>(p, g, buf, n, a);
    else sgd_loop<T, false, false, false, false>(p, g, buf, n, a);
    return;
  }
  // 8 combinations of (weight decay, nesterov, first step) with momentum.
  using Fn = void (*)(T*, const T*, T*, std::size_t, const StepArgs&);
  static constexpr Fn table[8] = {
      &sgd_loop<T, false, true, false, false>, &sgd_loop<T, false, true, false, true>,
      &sgd_loop<T, false, true, true, false>,  &sgd_loop<T, false, true, true, true>,
      &sgd_loop<T, true, true, false, false>,  &sgd_loop<T, true, true, false, true>,
      &sgd_loop<T, true, true, true, false>,   &sgd_loop<T, true, true, true, true>,
  };
  table[(wd ? 4 : 0) + (a.nesterov ? 2 : 0) + (first ? 1 : 0)](p, g, buf, n, a);
}

// Decay: 0 none, 1 L2 into the gradient (Adam's weight_decay), 2 decoupled (AdamW: p·decay first).
template <class T, int Decay, bool Ams>
void adam_loop(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vmax,
               std::size_t n, const StepArgs& a, double neg_step, double bc2_sqrt) {
  const Pre<T> pre(a);
  const T wd = static_cast<T>(a.weight_decay), decay = static_cast<T>(a.decay);
  const T b1 = static_cast<T>(a.beta1), omb1 = static_cast<T>(a.omb1);
  const T b2 = static_cast<T>(a.beta2), omb2 = static_cast<T>(a.omb2), eps = static_cast<T>(a.eps);
  const T step = static_cast<T>(neg_step), bc2 = static_cast<T>(bc2_sqrt), nan = canonical_nan<T>();
  for (std::size_t i = 0; i < n; ++i) {
    T x = p[i];
    T d = pre(g[i]);
    if (Decay == 1) d = d + wd * x;
    if (Decay == 2) x = x * decay;
    const T mi = m[i] * b1 + omb1 * d;
    const T vi = v[i] * b2 + (omb2 * d) * d;
    T h = vi;
    if (Ams) {
      // torch.maximum: NaN if either is NaN.
      const T old = vmax[i];
      h = old != old ? old : old > vi ? old : vi;
      vmax[i] = canon(h, nan);
    }
    const T denom = std::sqrt(h) / bc2 + eps;
    p[i] = canon(x + (step * mi) / denom, nan);
    m[i] = canon(mi, nan);
    v[i] = canon(vi, nan);
  }
}

template <class T>
void adam(T* p, const T* g, T* m, T* v, T* vmax, std::size_t n, const StepArgs& a, double neg_step,
          double bc2_sqrt) {
  using Fn = void (*)(T*, const T*, T*, T*, T*, std::size_t, const StepArgs&, double, double);
  static constexpr Fn table[6] = {
      &adam_loop<T, 0, false>, &adam_loop<T, 0, true>, &adam_loop<T, 1, false>,
      &adam_loop<T, 1, true>,  &adam_loop<T, 2, false>, &adam_loop<T, 2, true>,
  };
  const int decay = a.decoupled ? 2 : a.weight_decay != 0 ? 1 : 0;
  table[decay * 2 + (a.amsgrad ? 1 : 0)](p, g, m, v, vmax, n, a, neg_step, bc2_sqrt);
}

// Four streams (the quarters of the range) read at once, as the sum kernels read several blocks:
// a probe must be at least as fast as the best kernel over the same bytes to be a roofline.
inline std::uint64_t probe_read(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  const std::size_t words = bytes / 8, quarter = words / 4;
  const unsigned char* q[4] = {p, p + quarter * 8, p + quarter * 16, p + quarter * 24};
  std::uint64_t acc[4] = {0, 0, 0, 0};
  for (std::size_t i = 0; i < quarter; ++i) {
    for (int s = 0; s < 4; ++s) {
      std::uint64_t w;
      std::memcpy(&w, q[s] + i * 8, 8);
      acc[s] |= w;
    }
  }
  std::uint64_t r = acc[0] | acc[1] | acc[2] | acc[3];
  for (std::size_t i = quarter * 32; i < bytes; ++i) r |= p[i];
  return r;
}

template <class V>
KernelTable make_table(const char* isa) {
  KernelTable t;
  t.isa = isa;
  t.block_sums_f32 = &block_sums_dispatch<V, float>;
  t.block_sums_f64 = &block_sums_dispatch<V, double>;
  t.max_abs_f32 = &extreme_abs<typename V::F32, true>;
  t.max_abs_f64 = &extreme_abs<typename V::F64, true>;
  t.min_abs_f32 = &extreme_abs<typename V::F32, false>;
  t.min_abs_f64 = &extreme_abs<typename V::F64, false>;
  t.block_sum_pow_f32 = &block_sum_pow<float>;
  t.block_sum_pow_f64 = &block_sum_pow<double>;
  t.count_nonzero_f32 = &count_nonzero<float>;
  t.count_nonzero_f64 = &count_nonzero<double>;
  t.scale_f32 = &scale<typename V::F32>;
  t.scale_f64 = &scale<typename V::F64>;
  t.clamp_f32 = &clamp<float>;
  t.clamp_f64 = &clamp<double>;
  t.col_sum_squares_f32 = &col_sum_squares<float>;
  t.col_sum_squares_f64 = &col_sum_squares<double>;
  t.scale_cols_f32 = &scale_cols<float>;
  t.scale_cols_f64 = &scale_cols<double>;
  t.block_sums_half = &block_sums_half<V>;
  t.block_sum_pow_half = &block_sum_pow_half;
  t.extreme_abs_half = &extreme_abs_half;
  t.count_nonzero_half = &count_nonzero_half;
  t.scale_half = &scale_half;
  t.clamp_half = &clamp_half;
  t.sgd_f32 = &sgd<float>;
  t.sgd_f64 = &sgd<double>;
  t.adam_f32 = &adam<float>;
  t.adam_f64 = &adam<double>;
  t.probe_read = &probe_read;
  return t;
}

}  // namespace
}  // namespace simd
}  // namespace gradclip
