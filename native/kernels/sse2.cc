// SSE2 (the x86-64 baseline): 2 doubles per vector, 16 accumulators.
#include "simd_kernels.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>

namespace gradclip {
namespace {

struct F32Ops {
  using T = float;
  using Vec = __m128;
  using Mask = __m128;
  static constexpr std::size_t N = 4;
  static Vec Load(const float* p) { return _mm_loadu_ps(p); }
  static Vec Set1(float v) { return _mm_set1_ps(v); }
  static Vec Abs(Vec v) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), v); }
  static Vec Max(Vec a, Vec b) { return _mm_max_ps(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm_min_ps(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm_mul_ps(a, b); }
  static Mask NoNaN() { return _mm_setzero_ps(); }
  static Mask OrNaN(Mask m, Vec v) { return _mm_or_ps(m, _mm_cmpunord_ps(v, v)); }
  static bool AnyNaN(Mask m) { return _mm_movemask_ps(m) != 0; }
  static void Store(float* p, Vec v) { _mm_storeu_ps(p, v); }
};

struct F64Ops {
  using T = double;
  using Vec = __m128d;
  using Mask = __m128d;
  static constexpr std::size_t N = 2;
  static Vec Load(const double* p) { return _mm_loadu_pd(p); }
  static Vec Set1(double v) { return _mm_set1_pd(v); }
  static Vec Abs(Vec v) { return _mm_andnot_pd(_mm_set1_pd(-0.0), v); }
  static Vec Max(Vec a, Vec b) { return _mm_max_pd(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm_min_pd(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm_mul_pd(a, b); }
  static Mask NoNaN() { return _mm_setzero_pd(); }
  static Mask OrNaN(Mask m, Vec v) { return _mm_or_pd(m, _mm_cmpunord_pd(v, v)); }
  static bool AnyNaN(Mask m) { return _mm_movemask_pd(m) != 0; }
  static void Store(double* p, Vec v) { _mm_storeu_pd(p, v); }
};

struct Sse2 {
  static constexpr std::size_t W = 2;
  // One block at a time: its 16 accumulators fill the 16 xmm registers.
  static constexpr std::size_t Streams = 1;
  // 16-bit loads, two values, branch-free (decoded one by one they ran ~40x slower than float32: the
  // subnormal test of half.h's float16 decoding is a branch the data decides). bfloat16: a shift.
  // float16: its magnitude's fields moved into float32's and rebiased (exponent + 112), which is |x|
  // for normal values; an exponent field of 0 gets one more (2^-14 + m·2^-24, normal) and 2^-14
  // subtracted (exactly m·2^-24), 31 gets 112 more (255: inf or NaN). Exact throughout, and without the
  // sign: every caller (load_any's sums) squares the value or takes |x|.
  static constexpr bool kHalfLoads = true;
  static __m128i Load2x16(const std::uint16_t* p) {
    std::uint32_t two;
    std::memcpy(&two, p, 4);
    return _mm_cvtsi32_si128(static_cast<int>(two));
  }
  static __m128d LoadWideF16(const std::uint16_t* p) {
    const __m128i w = _mm_unpacklo_epi16(Load2x16(p), _mm_setzero_si128());  // two 32-bit lanes
    const __m128i e = _mm_and_si128(w, _mm_set1_epi32(0x7c00));
    const __m128i sub = _mm_cmpeq_epi32(e, _mm_setzero_si128()), top = _mm_cmpeq_epi32(e, _mm_set1_epi32(0x7c00));
    __m128i bits = _mm_add_epi32(_mm_slli_epi32(_mm_and_si128(w, _mm_set1_epi32(0x7fff)), 13), _mm_set1_epi32(112 << 23));
    bits = _mm_add_epi32(bits, _mm_and_si128(sub, _mm_set1_epi32(1 << 23)));
    bits = _mm_add_epi32(bits, _mm_and_si128(top, _mm_set1_epi32(112 << 23)));
    return _mm_cvtps_pd(_mm_sub_ps(_mm_castsi128_ps(bits), _mm_and_ps(_mm_castsi128_ps(sub), _mm_set1_ps(0x1p-14f))));
  }
  static __m128d LoadWideBF16(const std::uint16_t* p) {
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), Load2x16(p))));
  }
  static constexpr bool kPairedBF16 = false;
  using D = __m128d;
  static D LoadWide(const float* p) {
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static D LoadWide(const double* p) { return _mm_loadu_pd(p); }
  static D Zero() { return _mm_setzero_pd(); }
  static D Set1(double v) { return _mm_set1_pd(v); }
  static D Add(D a, D b) { return _mm_add_pd(a, b); }
  static D Mul(D a, D b) { return _mm_mul_pd(a, b); }
  static constexpr bool kFusedSquare = false;  // no fused multiply-add in this instruction set
  static D Abs(D a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
  static void Store(double* p, D v) { _mm_storeu_pd(p, v); }
  static double Horizontal(D v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
  using F32 = F32Ops;
  using F64 = F64Ops;
};

const KernelTable kTable = simd::make_table<Sse2>("sse2");

}  // namespace

const KernelTable* sse2_kernels() { return &kTable; }

}  // namespace gradclip

#else
namespace gradclip {
const KernelTable* sse2_kernels() { return nullptr; }
}  // namespace gradclip
#endif
