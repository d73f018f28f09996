// NEON (AArch64 Advanced SIMD): 2 doubles per vector, 16 accumulators.
#include "simd_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace gradclip {
namespace {

struct F32Ops {
  using T = float;
  using Vec = float32x4_t;
  using Mask = uint32x4_t;
  static constexpr std::size_t N = 4;
  static Vec Load(const float* p) { return vld1q_f32(p); }
  static Vec Set1(float v) { return vdupq_n_f32(v); }
  static Vec Abs(Vec v) { return vabsq_f32(v); }
  // vmaxq/vminq propagate NaN; NaN is tracked separately anyway.
  static Vec Max(Vec a, Vec b) { return vmaxq_f32(a, b); }
  static Vec Min(Vec a, Vec b) { return vminq_f32(a, b); }
  static Vec Mul(Vec a, Vec b) { return vmulq_f32(a, b); }
  static Mask NoNaN() { return vdupq_n_u32(0); }
  static Mask OrNaN(Mask m, Vec v) { return vorrq_u32(m, vmvnq_u32(vceqq_f32(v, v))); }
  static bool AnyNaN(Mask m) { return vmaxvq_u32(m) != 0; }
  static void Store(float* p, Vec v) { vst1q_f32(p, v); }
};

struct F64Ops {
  using T = double;
  using Vec = float64x2_t;
  using Mask = uint64x2_t;
  static constexpr std::size_t N = 2;
  static Vec Load(const double* p) { return vld1q_f64(p); }
  static Vec Set1(double v) { return vdupq_n_f64(v); }
  static Vec Abs(Vec v) { return vabsq_f64(v); }
  static Vec Max(Vec a, Vec b) { return vmaxq_f64(a, b); }
  static Vec Min(Vec a, Vec b) { return vminq_f64(a, b); }
  static Vec Mul(Vec a, Vec b) { return vmulq_f64(a, b); }
  static Mask NoNaN() { return vdupq_n_u64(0); }
  static Mask OrNaN(Mask m, Vec v) {
    return vorrq_u64(m, veorq_u64(vceqq_f64(v, v), vdupq_n_u64(~0ull)));
  }
  static bool AnyNaN(Mask m) { return (vgetq_lane_u64(m, 0) | vgetq_lane_u64(m, 1)) != 0; }
  static void Store(double* p, Vec v) { vst1q_f64(p, v); }
};

struct Neon {
  static constexpr std::size_t W = 2;
  // One block at a time: its 16 accumulators are half of the 32 q registers.
  static constexpr std::size_t Streams = 1;
  static constexpr bool kHalfLoads = false;  // 16-bit values decoded one by one
  static constexpr bool kPairedBF16 = false;
  using D = float64x2_t;
  static D LoadWide(const float* p) { return vcvt_f64_f32(vld1_f32(p)); }
  static D LoadWide(const double* p) { return vld1q_f64(p); }
  static D Zero() { return vdupq_n_f64(0.0); }
  static D Set1(double v) { return vdupq_n_f64(v); }
  static D Add(D a, D b) { return vaddq_f64(a, b); }
  static D Mul(D a, D b) { return vmulq_f64(a, b); }
  // acc + v·v in one rounding (simd_kernels.h add_term: used only where v·v is exact).
  static constexpr bool kFusedSquare = true;
  static D SquareAdd(D acc, D v) { return vfmaq_f64(acc, v, v); }
  static D Abs(D a) { return vabsq_f64(a); }
  static void Store(double* p, D v) { vst1q_f64(p, v); }
  static double Horizontal(D v) { return vgetq_lane_f64(v, 0) + vgetq_lane_f64(v, 1); }
  using F32 = F32Ops;
  using F64 = F64Ops;
};

const KernelTable kTable = simd::make_table<Neon>("neon");

}  // namespace

const KernelTable* neon_kernels() { return &kTable; }

}  // namespace gradclip

#else
namespace gradclip {
const KernelTable* neon_kernels() { return nullptr; }
}  // namespace gradclip
#endif
