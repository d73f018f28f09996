// The plain-C twin of the general-p sum built without -ffast-math (-O3 -march=native only), for npm run
// bench:kernels: here std::pow is the C library's accurate scalar pow (glibc: within 1 ulp),
// the one a C program gets by default. The fast-math twin (twins.cc) calls libmvec's vector pow instead
// (up to 4 ulp, results that differ between libm versions and ISAs). gradclip's own pow is neither: it
// gives the same bits on every backend (SPEC §6), so the bench shows it against both.
#include <cmath>
#include <cstddef>

double twin_sum_pow_f32_precise(const float* x, std::size_t n, double p) {
  double acc = 0;
  for (std::size_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(x[i])), p);
  return acc;
}
