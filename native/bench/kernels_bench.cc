// npm run bench:kernels — each kernel of one instruction set on one large float32 array (block by
// block, one thread, as the engine calls it), against its plain-C twin (twins.cc, built with the same
// set's flags) in the same process. Prints medians and the ratio kernel / twin: above 1.05 is a kernel
// slower than the plain loop. Arguments: elements, repetitions, kernel set (scripts/bench-kernels.mjs
// runs one process per set, with the C library's own choice of pow limited to that set's features);
// `--list` prints the sets this CPU runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "../dispatch.h"
#include "../kernels/contract.h"

#define GRADCLIP_TWINS(ns)                                                   \
  namespace ns {                                                             \
  double sum_squares_f32(const float* x, std::size_t n);                     \
  double sum_squares_f32_floatacc(const float* x, std::size_t n);            \
  double max_abs_f32(const float* x, std::size_t n);                         \
  void scale_f32(float* x, std::size_t n, float c);                          \
  void clamp_f32(float* x, std::size_t n, float lo, float hi);               \
  double sum_pow_f32(const float* x, std::size_t n, double p);               \
  double sum_pow_f32_fast(const float* x, std::size_t n, double p);          \
  }
#define GRADCLIP_TWIN_ROW(isa, ns)                                                                        \
  {isa, &ns::sum_squares_f32, &ns::sum_squares_f32_floatacc, &ns::max_abs_f32, &ns::scale_f32, &ns::clamp_f32, \
   &ns::sum_pow_f32, &ns::sum_pow_f32_fast}

#if defined(__x86_64__)
GRADCLIP_TWINS(twins_avx512)
GRADCLIP_TWINS(twins_avx2)
GRADCLIP_TWINS(twins_sse2)
#elif defined(__aarch64__)
GRADCLIP_TWINS(twins_neon)
#endif
GRADCLIP_TWINS(twins_scalar)

using namespace gradclip;

namespace {

struct Twins {
  const char* isa;
  double (*sum_squares)(const float*, std::size_t);
  double (*sum_squares_floatacc)(const float*, std::size_t);
  double (*max_abs)(const float*, std::size_t);
  void (*scale)(float*, std::size_t, float);
  void (*clamp)(float*, std::size_t, float, float);
  double (*sum_pow)(const float*, std::size_t, double);
  double (*sum_pow_fast)(const float*, std::size_t, double);
};

const Twins kTwins[] = {
#if defined(__x86_64__)
    GRADCLIP_TWIN_ROW("avx512", twins_avx512),
    GRADCLIP_TWIN_ROW("avx2", twins_avx2),
    GRADCLIP_TWIN_ROW("sse2", twins_sse2),
#elif defined(__aarch64__)
    GRADCLIP_TWIN_ROW("neon", twins_neon),
#endif
    GRADCLIP_TWIN_ROW("scalar", twins_scalar),
};

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
  if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
    for (const KernelTable* t : supported_kernels()) std::printf("%s\n", t->isa);
    return 0;
  }
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : (std::size_t(1) << 26);
  const int reps = argc > 2 ? std::atoi(argv[2]) : 9;
  const KernelTable* table = argc > 3 ? find_kernels(argv[3]) : supported_kernels().front();
  const Twins* twins = nullptr;
  for (const Twins& t : kTwins)
    if (table && std::strcmp(t.isa, table->isa) == 0) twins = &t;
  if (!table || !twins) {
    std::fprintf(stderr, "bench:kernels: no kernel set or twins named %s on this CPU\n", argc > 3 ? argv[3] : "?");
    return 2;
  }
  const KernelTable& k = *table;
  const Twins& tw = *twins;
  float* x = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
  auto row = [&](const char* name, double ms, double twin) {
    std::printf("%-8s %-27s %10.3f %10.3f %8.2f\n", k.isa, name, ms, twin, ms / twin);
  };
  // Runs of four blocks, as the engine calls the sums and the in-place passes (TensorList::kRunBlocks).
  auto runs = [&](const std::function<void(std::size_t, std::size_t)>& f) {
    for (std::size_t b = 0; b < n; b += 4 * kBlock) f(b, std::min(4 * kBlock, n - b));
  };
  auto sum_of_squares = [&] {
    double out[4], s = 0;
    runs([&](std::size_t b, std::size_t len) {
      k.block_sums_f32(x + b, len, Op::SumSquares, 1.0, out);
      for (std::size_t j = 0; j * kBlock < len; ++j) s += out[j];
    });
    return s;
  };
  const double twin_sum = median_ms([&] { sink = tw.sum_squares(x, n); }, reps);
  row("sum of squares", median_ms([&] { sink = sum_of_squares(); }, reps), twin_sum);
  // A clip is two passes (the norm must be known before anything is scaled): the twins back to back.
  const double twin_clip = median_ms([&] {
    const double s = tw.sum_squares(x, n);
    tw.scale(x, n, s > 0 ? 1.0f : 2.0f);
  }, reps);
  row("clip (sum, then scale)", median_ms([&] {
        const double s = sum_of_squares();
        runs([&](std::size_t b, std::size_t len) { k.scale_f32(x + b, len, s > 0 ? 1.0f : 2.0f); });
        sink = s;
      }, reps), twin_clip);
  row("max |x|", median_ms([&] { sink = k.max_abs_f32(x, n); }, reps), median_ms([&] { sink = tw.max_abs(x, n); }, reps));
  row("scale", median_ms([&] { runs([&](std::size_t b, std::size_t len) { k.scale_f32(x + b, len, 1.0f); }); }, reps),
      median_ms([&] { tw.scale(x, n, 1.0f); }, reps));
  row("clamp", median_ms([&] { runs([&](std::size_t b, std::size_t len) { k.clamp_f32(x + b, len, -1.0f, 1.0f); }); }, reps),
      median_ms([&] { tw.clamp(x, n, -1.0f, 1.0f); }, reps));
  const std::size_t pn = n / 16;  // pow is compute-bound: a 16th of the array
  const double own_pow = median_ms([&] {
    double s = 0;
    for (std::size_t b = 0; b < pn; b += kBlock) s += k.block_sum_pow_f32(x + b, std::min(kBlock, pn - b), 3.0, 1.0);
    sink = s;
  }, reps);
  row("sum |x|^3 (libm pow)", own_pow, median_ms([&] { sink = tw.sum_pow(x, pn, 3.0); }, reps));
  row("  (libmvec, -ffast-math)", own_pow, median_ms([&] { sink = tw.sum_pow_fast(x, pn, 3.0); }, reps));
  const double twin_sum_f = median_ms([&] { sink = tw.sum_squares_floatacc(x, n); }, reps);
  row("  (twin float acc / double)", twin_sum_f, twin_sum);
  std::free(x);
  return 0;
}
