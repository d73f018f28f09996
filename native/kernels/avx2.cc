// AVX2 + FMA: 4 doubles per vector, 8 accumulators. Built with -mavx2 -mfma -ffp-contract=off.
#include "simd_kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace gradclip {
namespace {

struct F32Ops {
  using T = float;
  using Vec = __m256;
  using Mask = __m256;
  static constexpr std::size_t N = 8;
  static Vec Load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec Set1(float v) { return _mm256_set1_ps(v); }
  static Vec Abs(Vec v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
  static Vec Max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm256_min_ps(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Mask NoNaN() { return _mm256_setzero_ps(); }
  static Mask OrNaN(Mask m, Vec v) { return _mm256_or_ps(m, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)); }
  static bool AnyNaN(Mask m) { return _mm256_movemask_ps(m) != 0; }
  static void Store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
};

struct F64Ops {
  using T = double;
  using Vec = __m256d;
  using Mask = __m256d;
  static constexpr std::size_t N = 4;
  static Vec Load(const double* p) { return _mm256_loadu_pd(p); }
  static Vec Set1(double v) { return _mm256_set1_pd(v); }
  static Vec Abs(Vec v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }
  static Vec Max(Vec a, Vec b) { return _mm256_max_pd(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm256_min_pd(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm256_mul_pd(a, b); }
  static Mask NoNaN() { return _mm256_setzero_pd(); }
  static Mask OrNaN(Mask m, Vec v) { return _mm256_or_pd(m, _mm256_cmp_pd(v, v, _CMP_UNORD_Q)); }
  static bool AnyNaN(Mask m) { return _mm256_movemask_pd(m) != 0; }
  static void Store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
};

struct Avx2 {
  static constexpr std::size_t W = 4;
  // Two blocks at once: 16 accumulators in 16 ymm registers (a few spill to the stack; measured
  // 0.97× the one-stream time on the AVX-512 machine with GRADCLIP_ISA=avx2, medians of 3 runs).
  static constexpr std::size_t Streams = 2;
  // 16-bit loads: float16 through F16C (the dispatcher requires it with AVX2), bfloat16 by a shift.
  static constexpr bool kHalfLoads = true;
  static __m256d LoadWideF16(const std::uint16_t* p) {
    return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static __m256d LoadWideBF16(const std::uint16_t* p) {
    const __m128i w = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(w, 16)));
  }
  // Eight bfloat16 at once, interleaved with zeros: the upper halves of eight float32, in order.
  static constexpr bool kPairedBF16 = true;
  static void LoadPairBF16(const std::uint16_t* p, __m256d& lo, __m256d& hi) {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), z = _mm_setzero_si128();
    lo = _mm256_cvtps_pd(_mm_castsi128_ps(_mm_unpacklo_epi16(z, w)));
    hi = _mm256_cvtps_pd(_mm_castsi128_ps(_mm_unpackhi_epi16(z, w)));
  }
  static void UnpairBF16(__m256d&, __m256d&) {}
  using D = __m256d;
  static D LoadWide(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static D LoadWide(const double* p) { return _mm256_loadu_pd(p); }
  static D Zero() { return _mm256_setzero_pd(); }
  static D Set1(double v) { return _mm256_set1_pd(v); }
  static D Add(D a, D b) { return _mm256_add_pd(a, b); }
  static D Mul(D a, D b) { return _mm256_mul_pd(a, b); }
  // acc + v·v in one rounding (simd_kernels.h add_term: used only where v·v is exact).
  static constexpr bool kFusedSquare = true;
  static D SquareAdd(D acc, D v) { return _mm256_fmadd_pd(v, v, acc); }
  static D Abs(D a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static void Store(double* p, D v) { _mm256_storeu_pd(p, v); }
  static double Horizontal(D v) {
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));  // k + k+2
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));                           // 0 + 1
  }
  using F32 = F32Ops;
  using F64 = F64Ops;
};

const KernelTable kTable = simd::make_table<Avx2>("avx2");

}  // namespace

const KernelTable* avx2_kernels() { return &kTable; }

}  // namespace gradclip

#else
namespace gradclip {
const KernelTable* avx2_kernels() { return nullptr; }
}  // namespace gradclip
#endif
