// Plain-C twins of the kernels, for npm run bench:kernels: the loops a C programmer would write,
// compiled with -O3 -ffast-math -march=native so the compiler may reorder and fuse freely. They
// are the yardstick (not bit-exact: they ignore the lane order and use FMA); gradclip's kernels must
// keep SPEC §6's order and still come close.
#include <cmath>
#include <cstddef>

double twin_sum_squares_f32(const float* x, std::size_t n) {
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * x[i];
  return acc;
}

double twin_sum_squares_f32_floatacc(const float* x, std::size_t n) {
  float acc = 0;  // what torch's CPU norm does: float accumulation
  for (std::size_t i = 0; i < n; ++i) acc += x[i] * x[i];
  return acc;
}

double twin_max_abs_f32(const float* x, std::size_t n) {
  float m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::fmax(m, std::fabs(x[i]));
  return m;
}

void twin_scale_f32(float* x, std::size_t n, float c) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= c;
}

void twin_clamp_f32(float* x, std::size_t n, float lo, float hi) {
  for (std::size_t i = 0; i < n; ++i) x[i] = std::fmin(std::fmax(x[i], lo), hi);
}

double twin_sum_pow_f32(const float* x, std::size_t n, double p) {
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(x[i])), p);
  return acc;
}
