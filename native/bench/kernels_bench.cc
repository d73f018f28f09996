// npm run bench:kernels — each kernel of each instruction set on one large float32 array (block by
// block, one thread, as the engine calls it), against its plain-C twin (twins.cc) in the same process.
// Prints medians and the ratio kernel / twin: above 1.05 is a kernel slower than the plain loop.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "../dispatch.h"
#include "../kernels/contract.h"

double twin_sum_squares_f32(const float* x, std::size_t n);
double twin_sum_squares_f32_floatacc(const float* x, std::size_t n);
double twin_max_abs_f32(const float* x, std::size_t n);
void twin_scale_f32(float* x, std::size_t n, float c);
void twin_clamp_f32(float* x, std::size_t n, float lo, float hi);
double twin_sum_pow_f32(const float* x, std::size_t n, double p);
double twin_sum_pow_f32_precise(const float* x, std::size_t n, double p);

using namespace gradclip;

namespace {

volatile double sink = 0;

double median_ms(const std::function<void()>& fn, int reps) {
  fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (std::size_t(1) << 26);
  const int reps = argc > 2 ? std::atoi(argv[2]) : 9;
  float* x = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
  std::printf("bench:kernels — %zu float32 elements (%.0f MB), one thread, medians of %d\n\n", n, n * 4 / 1e6, reps);
  std::printf("%-8s %-22s %10s %10s %8s\n", "isa", "kernel", "kernel ms", "twin ms", "ratio");
  // Runs of four blocks, as the engine calls the sums and the in-place passes (TensorList::kRunBlocks).
  auto runs = [&](const std::function<void(std::size_t, std::size_t)>& f) {
    for (std::size_t b = 0; b < n; b += 4 * kBlock) f(b, std::min(4 * kBlock, n - b));
  };
  const double twin_sum = median_ms([&] { sink = twin_sum_squares_f32(x, n); }, reps);
  const double twin_sum_f = median_ms([&] { sink = twin_sum_squares_f32_floatacc(x, n); }, reps);
  // A clip is two passes (the norm must be known before anything is scaled): the twins back to back.
  const double twin_clip = median_ms([&] {
    const double s = twin_sum_squares_f32(x, n);
    twin_scale_f32(x, n, s > 0 ? 1.0f : 2.0f);
  }, reps);
  const double twin_max = median_ms([&] { sink = twin_max_abs_f32(x, n); }, reps);
  const double twin_scale = median_ms([&] { twin_scale_f32(x, n, 1.0f); }, reps);
  const double twin_clamp = median_ms([&] { twin_clamp_f32(x, n, -1.0f, 1.0f); }, reps);
  const std::size_t pn = n / 16;  // pow is compute-bound: a 16th of the array
  const double twin_pow = median_ms([&] { sink = twin_sum_pow_f32(x, pn, 3.0); }, reps);
  const double twin_pow_precise = median_ms([&] { sink = twin_sum_pow_f32_precise(x, pn, 3.0); }, reps);
  for (const KernelTable* t : supported_kernels()) {
    const KernelTable& k = *t;
    auto row = [&](const char* name, double ms, double twin) {
      std::printf("%-8s %-22s %10.3f %10.3f %8.2f\n", k.isa, name, ms, twin, ms / twin);
    };
    // Runs of four blocks, as the engine calls it (TensorList::kRunBlocks).
    auto sum_of_squares = [&] {
      double out[4], s = 0;
      for (std::size_t b = 0; b < n; b += 4 * kBlock) {
        const std::size_t len = std::min(4 * kBlock, n - b);
        k.block_sums_f32(x + b, len, Op::SumSquares, 1.0, out);
        for (std::size_t j = 0; j * kBlock < len; ++j) s += out[j];
      }
      return s;
    };
    row("sum of squares", median_ms([&] { sink = sum_of_squares(); }, reps), twin_sum);
    row("clip (sum, then scale)", median_ms([&] {
          const double s = sum_of_squares();
          runs([&](std::size_t b, std::size_t len) { k.scale_f32(x + b, len, s > 0 ? 1.0f : 2.0f); });
          sink = s;
        }, reps), twin_clip);
    row("max |x|", median_ms([&] { sink = k.max_abs_f32(x, n); }, reps), twin_max);
    row("scale", median_ms([&] { runs([&](std::size_t b, std::size_t len) { k.scale_f32(x + b, len, 1.0f); }); }, reps),
        twin_scale);
    row("clamp", median_ms([&] { runs([&](std::size_t b, std::size_t len) { k.clamp_f32(x + b, len, -1.0f, 1.0f); }); }, reps),
        twin_clamp);
    const double own_pow = median_ms([&] {
      double s = 0;
      for (std::size_t b = 0; b < pn; b += kBlock) s += k.block_sum_pow_f32(x + b, std::min(kBlock, pn - b), 3.0, 1.0);
      sink = s;
    }, reps);
    row("sum |x|^3 (own pow)", own_pow, twin_pow);
    row("  vs libm, no fast-math", own_pow, twin_pow_precise);
  }
  std::printf("\ntwins: sum of squares with float accumulation (torch's CPU norm) %.2f ms; the double one %.2f ms\n",
              twin_sum_f, twin_sum);
  std::printf("pow twins: -ffast-math (libmvec's vector pow, up to 4 ulp) %.2f ms; without it (glibc's scalar pow, the\n"
              "default and accurate one) %.2f ms. gradclip's pow gives the same bits on every backend (SPEC 6).\n",
              twin_pow, twin_pow_precise);
  std::free(x);
  return 0;
}
