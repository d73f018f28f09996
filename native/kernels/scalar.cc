// Plain C++: the kernels for CPUs with none of the vector units below.
#include <cmath>

#include "simd_kernels.h"

namespace gradclip {
namespace {

template <class E>
struct ScalarOps {
  using T = E;
  using Vec = E;
  using Mask = bool;
  static constexpr std::size_t N = 1;
  static Vec Load(const E* p) { return *p; }
  static Vec Set1(E v) { return v; }
  static Vec Abs(Vec v) { return std::fabs(v); }
  static Vec Max(Vec a, Vec b) { return b > a ? b : a; }
  static Vec Min(Vec a, Vec b) { return b < a ? b : a; }
  static Vec Mul(Vec a, Vec b) { return a * b; }
  static Mask NoNaN() { return false; }
  static Mask OrNaN(Mask m, Vec v) { return m || v != v; }
  static bool AnyNaN(Mask m) { return m; }
  static void Store(E* p, Vec v) { *p = v; }
};

struct Scalar {
  static constexpr std::size_t W = 1;
  static constexpr std::size_t Streams = 1;
  static constexpr bool kHalfLoads = false;  // 16-bit values decoded one by one
  static constexpr bool kPairedBF16 = false;
  using D = double;
  static D LoadWide(const float* p) { return *p; }
  static D LoadWide(const double* p) { return *p; }
  static D Zero() { return 0.0; }
  static D Set1(double v) { return v; }
  static D Add(D a, D b) { return a + b; }
  static D Mul(D a, D b) { return a * b; }
  static constexpr bool kFusedSquare = false;  // no fused multiply-add in this instruction set
  static D Abs(D a) { return std::fabs(a); }
  static void Store(double* p, D v) { *p = v; }
  static double Horizontal(D v) { return v; }
  using F32 = ScalarOps<float>;
  using F64 = ScalarOps<double>;
};

const KernelTable kTable = simd::make_table<Scalar>("scalar");

}  // namespace

const KernelTable* scalar_kernels() { return &kTable; }

}  // namespace gradclip
