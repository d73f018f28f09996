// C++ unit tests of the kernels and the engine, without Node. Built and run by
// scripts/test-native.mjs (x86-64: every ISA this CPU has; arm64: scalar and NEON, also
// under qemu-aarch64 by npm run test:arm64). Exit status 0 = all passed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../dispatch.h"
#include "../engine.h"
#include "../kernels/pow.h"

using namespace gradclip;

static int failures = 0, checks = 0;
#define CHECK(cond, ...)                                  \
  do {                                                    \
    ++checks;                                             \
    if (!(cond)) {                                        \
      ++failures;                                         \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                  \
      std::fprintf(stderr, "\n");                         \
    }                                                     \
  } while (0)

static bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); }

// The contract's order written out the slow, obvious way (the same as src/backends/js.ts).
template <class T>
static double reference_sum(const T* x, std::size_t n, bool squares, double s) {
  double partial = 0;
  for (std::size_t start = 0; start < n; start += kBlock) {
    double lanes[kLanes] = {};
    const std::size_t end = std::min(n, start + kBlock);
    for (std::size_t i = start; i < end; ++i) {
      const double v = static_cast<double>(x[i]) * s;
      lanes[(i - start) % kLanes] += squares ? v * v : std::fabs(v);
    }
    partial += combine_lanes(lanes);
  }
  return partial;
}

template <class T>
static std::vector<T> spread(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::uniform_int_distribution<int> e(-20, 20);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(std::ldexp(u(rng), e(rng)));
  return v;
}

template <class T>
static void test_table(const KernelTable& k) {
  const bool f64 = sizeof(T) == 8;
  auto block_sums = [&](const T* x, std::size_t n, Op op, double s, double* out) {
    if constexpr (sizeof(T) == 8) k.block_sums_f64(x, n, op, s, out);
    else k.block_sums_f32(x, n, op, s, out);
  };
  auto block_sum = [&](const T* x, std::size_t n, Op op, double s) {
    double out = -1;
    block_sums(x, n, op, s, &out);
    return n == 0 ? 0.0 : out;
  };
  const std::size_t sizes[] = {0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 200, 1000, 65535, 65536};
  for (std::size_t n : sizes) {
    for (std::size_t offset : {0, 1, 3}) {  // unaligned starts
      auto data = spread<T>(n + offset, static_cast<unsigned>(n * 7 + offset));
      const T* x = data.data() + offset;
      for (bool squares : {false, true}) {
        for (double s : {1.0, 0x1p-600, 0x1p300}) {
          const double want = reference_sum(x, n, squares, s);
          const double got = block_sum(x, n, squares ? Op::SumSquares : Op::SumAbs, s);
          CHECK(same_bits(got, want), "%s %s n=%zu off=%zu %s s=%g: %.17g != %.17g", k.isa, f64 ? "f64" : "f32", n,
                offset, squares ? "sq" : "abs", s, got, want);
        }
      }
    }
  }
  // Runs of several blocks (the multi-stream path takes whole groups of blocks, the rest one by
  // one): every block's result is that block's own sum, whichever path computed it.
  for (std::size_t blocks : {2, 3, 4, 5, 8, 9}) {
    for (std::size_t tail : {std::size_t(0), std::size_t(1), std::size_t(40000)}) {
      const std::size_t n = (tail ? blocks - 1 : blocks) * kBlock + tail;
      const auto data = spread<T>(n + 1, static_cast<unsigned>(blocks * 31 + tail));
      const T* x = data.data() + 1;
      for (bool squares : {false, true}) {
        for (double s : {1.0, 0x1p-600}) {
          std::vector<double> out(blocks, -1.0);
          block_sums(x, n, squares ? Op::SumSquares : Op::SumAbs, s, out.data());
          for (std::size_t b = 0; b < blocks; ++b) {
            const std::size_t len = n - b * kBlock < kBlock ? n - b * kBlock : kBlock;
            const double want = reference_sum(x + b * kBlock, len, squares, s);
            CHECK(same_bits(out[b], want), "%s %s run of %zu blocks (n=%zu) block %zu %s s=%g: %.17g != %.17g", k.isa,
                  f64 ? "f64" : "f32", blocks, n, b, squares ? "sq" : "abs", s, out[b], want);
          }
        }
      }
    }
  }
  // Extremes and counts, with NaN, infinities, zeros and signed zeros.
  std::vector<T> v = spread<T>(1001, 5);
  v[17] = -0.0;
  v[500] = 0;
  auto mx = [&](const std::vector<T>& a, std::size_t off) {
    if constexpr (sizeof(T) == 8) return k.max_abs_f64(a.data() + off, a.size() - off);
    else return k.max_abs_f32(a.data() + off, a.size() - off);
  };
  auto mn = [&](const std::vector<T>& a, std::size_t off) {
    if constexpr (sizeof(T) == 8) return k.min_abs_f64(a.data() + off, a.size() - off);
    else return k.min_abs_f32(a.data() + off, a.size() - off);
  };
  auto cnt = [&](const std::vector<T>& a) {
    if constexpr (sizeof(T) == 8) return k.count_nonzero_f64(a.data(), a.size());
    else return k.count_nonzero_f32(a.data(), a.size());
  };
  double want_max = 0;
  for (T x : v) want_max = std::max(want_max, std::fabs(static_cast<double>(x)));
  CHECK(mx(v, 0) == want_max, "%s max", k.isa);
  CHECK(mn(v, 0) == 0, "%s min with zero", k.isa);
  CHECK(mn(v, 501) > 0, "%s min without zero", k.isa);
  CHECK(cnt(v) == 999, "%s count %llu", k.isa, static_cast<unsigned long long>(cnt(v)));
  v[999] = static_cast<T>(INFINITY);
  CHECK(std::isinf(mx(v, 0)), "%s max inf", k.isa);
  v[1000] = static_cast<T>(NAN);
  CHECK(std::isnan(mx(v, 0)) && std::isnan(mn(v, 0)), "%s NaN in the scalar tail propagates", k.isa);
  v[1000] = 1;
  v[3] = static_cast<T>(NAN);
  CHECK(std::isnan(mx(v, 0)) && std::isnan(mn(v, 0)), "%s NaN in the vector body propagates", k.isa);
  {
    // A NaN, or the largest / smallest |x|, at every position of a range that covers each ISA's unrolled
    // steps (four vectors: up to 64 floats), its single vectors and the scalar tail.
    const std::size_t n = 300;
    bool nan_ok = true, max_ok = true, min_ok = true;
    for (std::size_t at = 0; at < n; ++at) {
      std::vector<T> w(n, static_cast<T>(0.5));
      w[at] = static_cast<T>(-NAN);
      nan_ok = nan_ok && std::isnan(mx(w, 0)) && std::isnan(mn(w, 0));
      w[at] = static_cast<T>(-3);
      max_ok = max_ok && mx(w, 0) == 3;
      w[at] = static_cast<T>(-0.25);
      min_ok = min_ok && mn(w, 0) == 0.25;
    }
    CHECK(nan_ok && max_ok && min_ok, "%s %s max/min |x|: NaN %d, max %d, min %d at every position", k.isa,
          f64 ? "f64" : "f32", nan_ok, max_ok, min_ok);
  }
  v[17] = static_cast<T>(NAN);  // was -0: now counted
  CHECK(cnt(v) == 1000, "%s NaN counts as nonzero", k.isa);
  // Scale and clamp against the plain expressions.
  std::vector<T> a = spread<T>(333, 9), b = a;
  a[5] = static_cast<T>(NAN);
  b[5] = a[5];
  a[6] = -0.0;
  b[6] = a[6];
  const T c = static_cast<T>(0.3), lo = static_cast<T>(-0.01), hi = static_cast<T>(0.02);
  if constexpr (sizeof(T) == 8) {
    k.scale_f64(a.data() + 1, a.size() - 1, c);
    k.clamp_f64(a.data() + 1, a.size() - 1, lo, hi);
  } else {
    k.scale_f32(a.data() + 1, a.size() - 1, c);
    k.clamp_f32(a.data() + 1, a.size() - 1, lo, hi);
  }
  bool ok = a[0] == b[0];
  for (std::size_t i = 1; i < b.size(); ++i) {
    T y = b[i] * c;
    y = y < lo ? lo : y;
    y = y > hi ? hi : y;
    ok = ok && (std::memcmp(&y, &a[i], sizeof(T)) == 0);
  }
  CHECK(ok, "%s %s scale+clamp", k.isa, f64 ? "f64" : "f32");
}

// The in-place streams (simd_kernels.h): ranges long enough to be cut in kWriteStreams parts, at every
// misalignment, with NaNs at each part's first and last element and in the tail, give the plain
// product's bits (canonical NaN) and the plain clamp's — so where the cut falls changes nothing.
template <class T>
static void test_scale_streams(const KernelTable& k) {
  const bool f64 = sizeof(T) == 8;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  // The shortest range cut in four: four streams of 4096 elements and a quarter page (1 KiB) each.
  const std::size_t cut = 4 * (4096 + 1024 / sizeof(T));
  const std::size_t sizes[] = {cut - 1, cut + 3, cut + 31, 4 * kBlock, 4 * kBlock + 13, 3 * kBlock + 4097};
  const T coefs[] = {static_cast<T>(0.3), static_cast<T>(-2.5), static_cast<T>(NAN)};
  bool ok = true;
  for (std::size_t n : sizes) {
    for (std::size_t off = 0; off < 4; ++off) {
      // Layout 0: NaNs at each quarter's ends, every 1531st element (wherever the parts end) and in the
      // tail; layouts 1-3: one NaN, inside the second, third or fourth stream only — the scaled NaN must
      // then be found from that stream's own vectors.
      for (int layout = 0; layout < 4; ++layout) {
        for (T c : coefs) {
          if (layout > 0 && c != coefs[0]) continue;
          std::vector<T> a = spread<T>(n + off, 7);
          const std::size_t q = n / 4;
          if (layout == 0) {
            for (std::size_t s = 0; s < 4; ++s) {
              a[off + s * q] = nan;
              a[off + s * q + q - 1] = -nan;
            }
            for (std::size_t i = off + 509; i < off + n; i += 1531) a[i] = -nan;
            a[off + n - 1] = -nan;
          } else {
            a[off + layout * q + 17 * layout] = -nan;
          }
          a[off + n / 2 + 3] = static_cast<T>(INFINITY);
          a[off + n / 2 + 4] = 0;
          const std::vector<T> b = a;
          std::vector<T> d = a;  // clamped: NaNs stay as they are (payload and sign)
          const T lo = static_cast<T>(-0.01), hi = static_cast<T>(0.02);
          if constexpr (sizeof(T) == 8) {
            k.scale_f64(a.data() + off, n, c);
            k.clamp_f64(d.data() + off, n, lo, hi);
          } else {
            k.scale_f32(a.data() + off, n, c);
            k.clamp_f32(d.data() + off, n, lo, hi);
          }
          for (std::size_t i = 0; i < a.size(); ++i) {
            T y = i < off ? b[i] : b[i] * c;
            if (y != y) y = nan;  // the canonical quiet NaN: sign clear, payload zero
            ok = ok && std::memcmp(&y, &a[i], sizeof(T)) == 0;
            T z = b[i];
            if (i >= off) {
              z = z < lo ? lo : z;
              z = z > hi ? hi : z;
            }
            ok = ok && std::memcmp(&z, &d[i], sizeof(T)) == 0;
          }
        }
      }
    }
  }
  CHECK(ok, "%s %s scale and clamp in streams: every element is the plain expression's, scaled NaNs canonical", k.isa,
        f64 ? "f64" : "f32");
}

static void test_engine_threads() {
  // Results do not depend on the thread count or on where blocks are computed.
  std::vector<std::vector<float>> f32;
  std::vector<std::vector<double>> f64;
  const std::size_t lens[] = {3 * kBlock + 77, 0, 5, kBlock, kBlock + 1, 131073, 200};
  unsigned seed = 1;
  for (std::size_t n : lens) {
    f32.push_back(spread<float>(n, seed++));
    f64.push_back(spread<double>(n, seed++));
  }
  std::vector<TensorView> views;
  for (std::size_t i = 0; i < f32.size(); ++i) {
    views.push_back({f32[i].data(), f32[i].size(), false});
    views.push_back({f64[i].data(), f64[i].size(), true});
  }
  const TensorList list(views);
  Engine engine;
  engine.set_parallel_threshold(0);
  for (const KernelTable* table : supported_kernels()) {
    engine.set_isa(table->isa);
    for (Op op : {Op::SumAbs, Op::SumSquares, Op::MaxAbs, Op::MinAbs, Op::CountNonzero}) {
      std::vector<double> base(views.size()), got(views.size());
      engine.set_threads(1);
      engine.reduce(list, op, 2, nullptr, base.data());
      for (std::size_t t = 2; t <= 4; ++t) {
        engine.set_threads(t);
        engine.reduce(list, op, 2, nullptr, got.data());
        bool same = true;
        for (std::size_t i = 0; i < views.size(); ++i) same = same && same_bits(got[i], base[i]);
        CHECK(same, "%s op %d threads %zu differ from 1 thread", table->isa, static_cast<int>(op), t);
      }
      if (op == Op::SumSquares) {
        CHECK(same_bits(base[0], reference_sum(f32[0].data(), f32[0].size(), true, 1.0)), "%s engine f32 order",
              table->isa);
        CHECK(same_bits(base[1], reference_sum(f64[0].data(), f64[0].size(), true, 1.0)), "%s engine f64 order",
              table->isa);
      }
    }
  }
}

static void test_huge_tensor() {
  // Sizes are 64-bit: a float32 tensor of 2^31 + 100 elements (8 GiB of address space,
  // calloc'd, so untouched pages stay the shared zero page).
  const std::size_t n = (std::size_t(1) << 31) + 100;
  float* x = static_cast<float*>(std::calloc(n, sizeof(float)));
  if (x == nullptr) {
    std::printf("skip: could not reserve 8 GiB for the 2^31-element test\n");
    return;
  }
  x[0] = 3;
  x[n - 1] = 4;  // past 2^31: an int32 index would wrap
  const TensorList v({TensorView{x, n, false}});
  Engine engine;
  engine.set_threads(2);
  double out = 0;
  engine.reduce(v, Op::SumSquares, 2, nullptr, &out);
  CHECK(out == 25, "2^31+100 elements: sum of squares %.17g", out);
  engine.reduce(v, Op::CountNonzero, 0, nullptr, &out);
  CHECK(out == 2, "2^31+100 elements: count %.17g", out);
  engine.scale(v, 0.5);
  CHECK(x[n - 1] == 2 && x[0] == 1.5f, "2^31+100 elements: scale reached the last element");
  std::free(x);
}

// The column kernels (AGC's 'jax' units): each column's squares added in row order, whatever the
// vector width; per-column scaling with ×1 columns untouched (NaN payloads kept) and NaN products canonical.
template <class T>
static void test_columns(const KernelTable& k) {
  const bool f64 = sizeof(T) == 8;
  for (auto [rows, cols] : {std::pair<std::size_t, std::size_t>{37, 13}, {1, 5}, {100, 1}, {3, 64}, {9, 17}}) {
    auto x = spread<T>(rows * cols, static_cast<unsigned>(rows * 131 + cols));
    std::vector<double> got(cols, -1), want(cols, 0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) {
        const double v = static_cast<double>(x[r * cols + c]) * 0x1p-3;
        want[c] += v * v;
      }
    if constexpr (sizeof(T) == 8) k.col_sum_squares_f64(x.data(), rows, cols, 0x1p-3, got.data());
    else k.col_sum_squares_f32(x.data(), rows, cols, 0x1p-3, got.data());
    for (std::size_t c = 0; c < cols; ++c) {
      CHECK(same_bits(got[c], want[c]), "%s %s col_sum_squares %zux%zu column %zu: %.17g != %.17g", k.isa,
            f64 ? "f64" : "f32", rows, cols, c, got[c], want[c]);
    }
    std::vector<double> coefs(cols);
    for (std::size_t c = 0; c < cols; ++c) coefs[c] = c % 3 == 0 ? 1.0 : 0.3 + 0.01 * static_cast<double>(c);
    T payload;
    const std::uint64_t bits = f64 ? 0x7ff8000000012345ull : 0x7fc12345ull;
    std::memcpy(&payload, &bits, sizeof payload);
    x[0] = payload;  // column 0 has coefficient 1: its NaN keeps its payload
    if (cols > 1) x[1] = INFINITY;  // ×0.31: stays inf; and a NaN in a scaled column becomes canonical
    if (cols > 2) x[2] = payload;
    auto y = x;
    if constexpr (sizeof(T) == 8) k.scale_cols_f64(y.data(), rows, cols, coefs.data());
    else k.scale_cols_f32(y.data(), rows, cols, coefs.data());
    for (std::size_t i = 0; i < rows * cols; ++i) {
      const std::size_t c = i % cols;
      T expect = coefs[c] == 1.0 ? x[i] : static_cast<T>(x[i] * static_cast<T>(coefs[c]));
      if (coefs[c] != 1.0 && expect != expect) expect = std::numeric_limits<T>::quiet_NaN();
      CHECK(std::memcmp(&y[i], &expect, sizeof(T)) == 0, "%s %s scale_cols %zux%zu element %zu", k.isa, f64 ? "f64" : "f32",
            rows, cols, i);
    }
  }
}

// The vectorized pow (pow_pos_batch, each ISA's own build) against the scalar one (pow_pos, built
// here), value by value, through block_sum_pow_f64: x sits in one lane of a 32-value batch whose other
// lanes contribute an exact zero (|0|^p for p > 0, |inf|^p for p < 0), so the block's sum is x's pow
// alone; the lane moves with each value. Then whole batches of distinct values against the contract's
// lane combine of scalar results (no filler: no value leaves the vector path).
static void test_pow_values(const KernelTable& k) {
  const double ps[] = {3, 3.5, 0.5, 1.5, -1, -2.5, 7, 1.0 / 3, 100, 1e-3, -0.3, 250, -40};
  std::vector<double> xs = {0, 1, INFINITY, NAN, 4.9406564584124654e-324, 1e-310, 2.2250738585072014e-308,
                            1.7976931348623157e308, 0.5, 2, 3, 10, 1e-3};
  for (int i = 0; i < 128; ++i) {  // every row of the log table, at exponents across the range
    for (double f : {0.0, 0.5, 0.999}) {
      for (int e : {-1022, -600, -20, -1, 0, 1, 20, 600, 1023}) xs.push_back(std::ldexp(1 + (i + f) / 128, e));
    }
  }
  for (int u = 1; u <= 4; ++u) {  // next to 1: T tiny, of either sign (the floor of a negative v)
    xs.push_back(1 + u * 2.220446049250313e-16);
    xs.push_back(1 - u * 1.1102230246251565e-16);
    xs.push_back(1 + u * 1e-9);
    xs.push_back(1 - u * 1e-9);
  }
  std::mt19937_64 rng(77);
  std::uniform_int_distribution<int> ex(-1074, 1023);
  std::uniform_real_distribution<double> mant(1, 2);
  for (int r = 0; r < 3000; ++r) xs.push_back(std::ldexp(mant(rng), ex(rng)));
  alignas(64) double batch[kLanes];
  std::size_t pos = 0;
  for (double p : ps) {
    std::vector<double> xp = xs;
    // Where |p ln x| crosses the common path's 708 and the results' overflow/underflow bounds.
    for (double c : {707.9, 708.0, 708.1, 709.7, 709.8, 745.0, 745.2}) {
      for (double sign : {1.0, -1.0}) {
        const double x0 = std::exp(sign * c / p);
        double x = x0;
        for (int step = 0; step < 4; ++step) x = std::nextafter(x, 0.0);
        for (int step = 0; step < 9; ++step, x = std::nextafter(x, INFINITY)) xp.push_back(x);
      }
    }
    const double filler = p > 0 ? 0.0 : INFINITY;
    for (double x : xp) {
      for (double& b : batch) b = filler;
      batch[pos] = x;
      pos = (pos + 1) % kLanes;
      const double got = k.block_sum_pow_f64(batch, kLanes, p, 1.0);
      const double want = pow_pos(x, p);
      CHECK(same_bits(got, want), "%s pow(%.17g, %.17g): vector %.17g, scalar %.17g", k.isa, x, p, got, want);
    }
    for (std::size_t start = 0; start + kLanes <= xs.size(); start += kLanes) {
      double lanes[kLanes];
      for (std::size_t j = 0; j < kLanes; ++j) {
        batch[j] = xs[start + j] == 0 || !(xs[start + j] < INFINITY) ? 0.75 : xs[start + j];
        lanes[j] = pow_pos(batch[j], p);
      }
      const double got = k.block_sum_pow_f64(batch, kLanes, p, 1.0);
      const double want = combine_lanes(lanes);
      CHECK(same_bits(got, want), "%s pow batch at %zu, p %.17g: %.17g vs %.17g", k.isa, start, p, got, want);
    }
  }
}

// Sums of squares where the kernels may fuse the square into the add (simd_kernels.h add_term: exact
// squares only): float32 bit patterns from the whole range (subnormals, squares near 2^256) and every
// float16 / bfloat16 bit pattern (which also checks each ISA's 16-bit loads, with |x| and the rescaled
// squares), against the contract's order with the square rounded on its own.
static void test_exact_squares(const KernelTable& k) {
  std::mt19937_64 rng(77);
  const std::size_t n = 3 * kBlock + 1234;
  for (bool specials : {false, true}) {
    std::vector<float> f(n);
    for (auto& x : f) {
      std::uint32_t u;
      do u = static_cast<std::uint32_t>(rng()); while ((u & 0x7f800000u) == 0x7f800000u);
      std::memcpy(&x, &u, 4);
    }
    if (specials) {
      f[5] = std::numeric_limits<float>::infinity();
      f[kBlock + 9] = std::numeric_limits<float>::quiet_NaN();
    }
    std::vector<double> out(4, -1.0);
    k.block_sums_f32(f.data(), n, Op::SumSquares, 1.0, out.data());
    for (std::size_t b = 0; b < 4; ++b) {
      const std::size_t len = std::min(kBlock, n - b * kBlock);
      const double want = reference_sum(f.data() + b * kBlock, len, true, 1.0);
      CHECK(same_bits(out[b], want), "%s f32 whole-range squares%s block %zu: %.17g != %.17g", k.isa,
            specials ? " with inf/NaN" : "", b, out[b], want);
    }
  }
  for (Half h : {Half::F16, Half::BF16}) {
    const std::uint16_t exp_mask = h == Half::F16 ? 0x7c00 : 0x7f80;
    for (bool specials : {false, true}) {
      std::vector<std::uint16_t> bits;
      for (std::uint32_t u = 0; u < 0x10000; ++u) {
        if (specials || (u & exp_mask) != exp_mask) bits.push_back(static_cast<std::uint16_t>(u));
      }
      std::shuffle(bits.begin(), bits.end(), rng);
      bits.resize(bits.size() + 77, 0x3c00);  // a tail that is no whole chunk
      std::vector<double> decoded(bits.size());
      for (std::size_t i = 0; i < bits.size(); ++i) decoded[i] = decode_half(bits[i], h);
      const std::size_t blocks = (bits.size() + kBlock - 1) / kBlock;
      // Also |x| and the rescaled squares: the same 16-bit loads, without the fused square.
      for (const auto& [squares, s] : {std::pair{true, 1.0}, std::pair{false, 1.0}, std::pair{true, 0x1p-600}}) {
        std::vector<double> out(blocks, -1.0);
        k.block_sums_half(bits.data(), bits.size(), squares ? Op::SumSquares : Op::SumAbs, s, h, out.data());
        for (std::size_t b = 0; b < blocks; ++b) {
          const std::size_t len = std::min(kBlock, bits.size() - b * kBlock);
          const double want = reference_sum(decoded.data() + b * kBlock, len, squares, s);
          CHECK(same_bits(out[b], want), "%s %s every bit pattern%s %s s=%g block %zu: %.17g != %.17g", k.isa,
                h == Half::F16 ? "f16" : "bf16", specials ? " with inf/NaN" : "", squares ? "sq" : "abs", s, b, out[b],
                want);
        }
      }
    }
  }
}

// The 16-bit write passes (the F16C loops on AVX2 / AVX-512, element by element elsewhere) against
// half.h's conversions, element by element, over every bit pattern of both dtypes.
static void test_half_writes(const KernelTable& k) {
  for (Half h : {Half::F16, Half::BF16}) {
    const char* dt = h == Half::F16 ? "f16" : "bf16";
    std::vector<std::uint16_t> all(0x10000 + 13);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i * 40503u);  // odd: every pattern
    const double coefs[] = {1.0, 0.5, 0.2, 1e-3, 0x1p-14, 0x1p-24, 0x1.8p-25, 0.0, 0.99951171875, 65504.0, NAN};
    for (double coef : coefs) {
      const float c = decode_half(encode_double(coef, h), h);
      std::vector<std::uint16_t> x(all);
      k.scale_half(x.data() + 1, x.size() - 1, c, h);  // an odd start and a tail
      std::size_t bad = 0;
      for (std::size_t i = 1; i < x.size(); ++i) {
        const float v = decode_half(all[i], h) * c;
        const std::uint16_t want = h == Half::F16 ? f32_bits_to_f16(float_to_bits(v)) : f32_bits_to_bf16(float_to_bits(v));
        if (x[i] != want && bad++ < 3) std::fprintf(stderr, "  %s %s scale %#06x * %g -> %#06x, want %#06x\n", k.isa, dt, all[i], c, x[i], want);
      }
      CHECK(bad == 0 && x[0] == all[0], "%s %s scale_half by %g: %zu wrong", k.isa, dt, c, bad);
    }
    const double bounds[][2] = {{-0.1, 0.2}, {-INFINITY, 1.0}, {0.0, 0.0}, {-0.0, 0.0}, {-65504.0, 65504.0}, {1e-7, 3e-7}, {-INFINITY, INFINITY}};
    for (const auto& b : bounds) {
      const std::uint16_t lb = encode_double(b[0], h), hb = encode_double(b[1], h);
      const float l = decode_half(lb, h), u = decode_half(hb, h);
      std::vector<std::uint16_t> x(all);
      k.clamp_half(x.data() + 1, x.size() - 1, l, u, lb, hb, h);
      std::size_t bad = 0;
      for (std::size_t i = 1; i < x.size(); ++i) {
        const float v = decode_half(all[i], h);
        const std::uint16_t want = v < l ? lb : v > u ? hb : all[i];
        if (x[i] != want && bad++ < 3) std::fprintf(stderr, "  %s %s clamp %#06x -> %#06x, want %#06x\n", k.isa, dt, all[i], x[i], want);
      }
      CHECK(bad == 0 && x[0] == all[0], "%s %s clamp_half [%g, %g]: %zu wrong", k.isa, dt, b[0], b[1], bad);
    }
  }
}

int main() {
  std::printf("kernel sets on this CPU:");
  for (const KernelTable* t : supported_kernels()) std::printf(" %s", t->isa);
  std::printf("\n");
  for (const KernelTable* t : supported_kernels()) {
    test_table<float>(*t);
    test_table<double>(*t);
    test_columns<float>(*t);
    test_columns<double>(*t);
    test_scale_streams<float>(*t);
    test_scale_streams<double>(*t);
    test_pow_values(*t);
    test_exact_squares(*t);
    test_half_writes(*t);
  }
  // Each table runs code built for its own instruction set: no two tables share a kernel. (When the
  // shared templates had external linkage the linker kept one copy — the first file's — for all.)
  const auto tables = supported_kernels();
  for (std::size_t a = 0; a < tables.size(); ++a) {
    for (std::size_t b = a + 1; b < tables.size(); ++b) {
      const KernelTable& x = *tables[a];
      const KernelTable& y = *tables[b];
      CHECK(x.block_sums_f32 != y.block_sums_f32 && x.block_sum_pow_f32 != y.block_sum_pow_f32 &&
                x.block_sum_pow_f64 != y.block_sum_pow_f64 && x.count_nonzero_f32 != y.count_nonzero_f32 &&
                x.count_nonzero_f64 != y.count_nonzero_f64 && x.scale_f32 != y.scale_f32 && x.clamp_f32 != y.clamp_f32 &&
                x.clamp_f64 != y.clamp_f64 && x.probe_read != y.probe_read,
            "%s and %s share a kernel's code", x.isa, y.isa);
    }
  }
  test_engine_threads();
  // Opt-in (npm run test:native -- --huge): 8 GiB of page faults take ~40 s here.
  if (std::getenv("GRADCLIP_HUGE_TEST")) test_huge_tensor();
  std::printf("%d checks, %d failed\n", checks, failures);
  std::printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
