// Plain-C twins of the kernels, for npm run bench:kernels: the loops a C programmer would write. The
// file is built once per kernel set, with that set's instruction-set flags and -DTWIN_NS=<namespace>
// (scripts/bench-kernels.mjs), so each kernel is timed against plain C for the same CPU features.
// With -ffast-math (the default here) the compiler may reorder and fuse freely: the twins ignore the
// lane order and use FMA where the set has it — the yardstick, not bit-exact. With -DTWIN_PRECISE
// (no -ffast-math) only the general-p sum is built: std::pow is then the C library's accurate scalar
// pow (glibc: within 1 ulp), the one a C program gets by default; the fast-math build calls libmvec's
// vector pow instead (up to 4 ulp, results that differ between libm versions and ISAs). gradclip's pow
// is neither: it gives the same bits on every backend (SPEC §6).
#include <cmath>
#include <cstddef>

namespace TWIN_NS {

#ifndef TWIN_PRECISE
double sum_squares_f32(const float* x, std::size_t n) {
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * x[i];
  return acc;
}

double sum_squares_f32_floatacc(const float* x, std::size_t n) {
  float acc = 0;  // what torch's CPU norm does: float accumulation
  for (std::size_t i = 0; i < n; ++i) acc += x[i] * x[i];
  return acc;
}

double max_abs_f32(const float* x, std::size_t n) {
  float m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(x[i]));
  return m;
}

void scale_f32(float* x, std::size_t n, float c) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= c;
}

void clamp_f32(float* x, std::size_t n, float lo, float hi) {
  for (std::size_t i = 0; i < n; ++i) x[i] = std::fmin(std::fmax(x[i], lo), hi);
}

#endif

// Σ|x|^p: sum_pow_f32_fast with libmvec (-ffast-math), sum_pow_f32 with the accurate libm pow.
#ifdef TWIN_PRECISE
double sum_pow_f32(const float* x, std::size_t n, double p) {
#else
double sum_pow_f32_fast(const float* x, std::size_t n, double p) {
#endif
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(x[i])), p);
  return acc;
}

}  // namespace TWIN_NS
