// The kernel contract of SPEC §6, shared by every instruction-set implementation.
// Read it next to src/backends/js.ts: the kernels are translations of that file.
#pragma once

#include <cstddef>
#include <cmath>
#include <cstdint>

#include "half.h"

namespace gradclip {

// The reduction order: blocks of kBlock elements, element i of a block in lane i mod kLanes,
// lanes combined by the pairwise tree below. These two change only together, everywhere
// (src/backends/backend.ts, assembly/contract.ts), with test/reduction-order.test.ts.
constexpr std::size_t kBlock = 65536;
constexpr std::size_t kLanes = 32;

// Numeric codes shared with ReduceOp in src/backends/backend.ts.
enum class Op : int {
  SumAbs = 0,
  SumSquares = 1,
  MaxAbs = 2,
  MinAbs = 3,
  CountNonzero = 4,
  SumPow = 5,
};

inline bool is_sum(Op op) { return op == Op::SumAbs || op == Op::SumSquares || op == Op::SumPow; }

// Lane k + lane k+16 (k < 16), then k + k+8, k + k+4, k + k+2, then 0 + 1.
inline double combine_lanes(double* lanes) {
  for (std::size_t width = kLanes / 2; width >= 1; width /= 2) {
    for (std::size_t k = 0; k < width; ++k) lanes[k] += lanes[k + width];
  }
  return lanes[0];
}

// The optimizer step's scalars (SPEC §8, src/backends/backend.ts StepHyper): each is a double here and
// is rounded once to the tensor's dtype by the kernel, as torch rounds a Python scalar.
struct StepArgs {
  // The gradient as the step sees it: g·c (c = 1 without a norm clip), clamped to [lo, hi] (±inf
  // without a value clip), times sign (−1 for maximize): the fused clip, exact when absent.
  double c = 1, lo = -INFINITY, hi = INFINITY, sign = 1;
  double weight_decay = 0;  // SGD and Adam: g + wd·p, only when nonzero
  // SGD
  double momentum = 0, damp1 = 1, neg_lr = 0;
  bool nesterov = false;
  // Adam / AdamW: decoupled (AdamW) multiplies p by decay = 1 − lr·wd first, always
  bool decoupled = false, amsgrad = false;
  double decay = 1, beta1 = 0, omb1 = 0, beta2 = 0, omb2 = 0, eps = 0;
};

// One instruction set's kernels. Block kernels take at most kBlock elements and return
// that block's result; whole-range kernels (max/min/count/scale/clamp) are order-free.
struct KernelTable {
  const char* isa;
  // out[j] = the sum of block j of x[0, n) (blocks of kBlock elements from x, the last one possibly
  // shorter), so a run of consecutive blocks of one tensor is one call, read as several streams at once.
  // op is SumAbs or SumSquares; scale multiplies each element first (an exact power of two).
  void (*block_sums_f32)(const float* x, std::size_t n, Op op, double scale, double* out);
  void (*block_sums_f64)(const double* x, std::size_t n, Op op, double scale, double* out);
  // NaN if any element is NaN; max starts at 0, min at +inf.
  double (*max_abs_f32)(const float* x, std::size_t n);
  double (*max_abs_f64)(const double* x, std::size_t n);
  double (*min_abs_f32)(const float* x, std::size_t n);
  double (*min_abs_f64)(const double* x, std::size_t n);
  // Σ|x·s|^p for a block in the same lane order, with gradclip's own pow (pow.h): the same bits on
  // every ISA (and backend), only vectorized differently.
  double (*block_sum_pow_f32)(const float* x, std::size_t n, double p, double scale);
  double (*block_sum_pow_f64)(const double* x, std::size_t n, double p, double scale);
  std::uint64_t (*count_nonzero_f32)(const float* x, std::size_t n);
  std::uint64_t (*count_nonzero_f64)(const double* x, std::size_t n);
  // x *= c in the array's dtype (c already rounded to it): the correctly rounded product; a NaN
  // product is stored as the canonical quiet NaN (0x7fc00000 / 0x7ff8000000000000).
  void (*scale_f32)(float* x, std::size_t n, float c);
  void (*scale_f64)(double* x, std::size_t n, double c);
  // x = min(max(x, lo), hi) as `x < lo ? lo : x`, then `x > hi ? hi : x`: NaN stays NaN.
  void (*clamp_f32)(float* x, std::size_t n, float lo, float hi);
  void (*clamp_f64)(double* x, std::size_t n, double lo, double hi);
  // Column sums of squares of a row-major [rows, cols] matrix: acc[c] = Σ_r (x[r·cols + c]·s)², each
  // column's terms added in row order (AGC's strided 'jax' units; src/backends/js.ts columnSumSquares).
  void (*col_sum_squares_f32)(const float* x, std::size_t rows, std::size_t cols, double s, double* acc);
  void (*col_sum_squares_f64)(const double* x, std::size_t rows, std::size_t cols, double s, double* acc);
  // x[r·cols + c] *= coefs[c] rounded to the dtype; a column whose coefficient is exactly 1 is not
  // written; a NaN product is stored canonical.
  void (*scale_cols_f32)(float* x, std::size_t rows, std::size_t cols, const double* coefs);
  void (*scale_cols_f64)(double* x, std::size_t rows, std::size_t cols, const double* coefs);
  // 16-bit tensors (float16 / bfloat16 bits, h says which): the same block order and lanes as the
  // float kernels over the exactly decoded values; scale multiplies by c (a value of the dtype) in
  // float32 (exact) and rounds once; clamp compares values and stores lo_bits / hi_bits; NaN kept.
  void (*block_sums_half)(const std::uint16_t* x, std::size_t n, Op op, double scale, Half h, double* out);
  double (*block_sum_pow_half)(const std::uint16_t* x, std::size_t n, double p, double scale, Half h);
  double (*extreme_abs_half)(const std::uint16_t* x, std::size_t n, bool is_max, Half h);
  std::uint64_t (*count_nonzero_half)(const std::uint16_t* x, std::size_t n);
  void (*scale_half)(std::uint16_t* x, std::size_t n, float c, Half h);
  void (*clamp_half)(std::uint16_t* x, std::size_t n, double lo, double hi, std::uint16_t lo_bits, std::uint16_t hi_bits,
                     Half h);
  // The optimizer step over n elements of one tensor, in torch 1.13's single-tensor op order, each
  // operation rounded to the dtype (no FMA), every stored NaN canonical (SPEC §8). SGD: buf is null
  // without momentum, `first` = no buffer yet (it becomes the gradient). Adam: vmax null without
  // amsgrad; neg_step = −lr / (1 − β1^step), bc2_sqrt = √(1 − β2^step), both doubles from the facade.
  void (*sgd_f32)(float* p, const float* g, float* buf, std::size_t n, const StepArgs& a, bool first);
  void (*sgd_f64)(double* p, const double* g, double* buf, std::size_t n, const StepArgs& a, bool first);
  void (*adam_f32)(float* p, const float* g, float* m, float* v, float* vmax, std::size_t n, const StepArgs& a,
                   double neg_step, double bc2_sqrt);
  void (*adam_f64)(double* p, const double* g, double* m, double* v, double* vmax, std::size_t n,
                   const StepArgs& a, double neg_step, double bc2_sqrt);
  // Benchmark probe, not a kernel: one plain read pass over the bytes (an OR of 64-bit words, four
  // streams at once, vectorized with this table's ISA flags). The result only keeps the loop alive.
  std::uint64_t (*probe_read)(const void* data, std::size_t bytes);
};


// Each returns nullptr where its instruction set is not compiled in.
const KernelTable* scalar_kernels();
const KernelTable* sse2_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();

}  // namespace gradclip
