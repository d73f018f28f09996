#include "engine.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>

#include "dispatch.h"

namespace gradclip {

Engine::Engine() : kernels_(nullptr), threads_(1), parallel_threshold_(kDefaultParallelThreshold) {
  kernels_.store(initial_kernels(&isa_note_));
  set_threads(std::thread::hardware_concurrency());
}

bool Engine::set_isa(const std::string& isa) {
  const KernelTable* t = find_kernels(isa);
  if (t == nullptr) return false;
  kernels_.store(t);
  return true;
}

TensorList::TensorList(std::vector<TensorView> views) : views_(std::move(views)) {
  for (std::size_t t = 0; t < views_.size(); ++t) {
    for (std::size_t start = 0; start < views_[t].length; start += kBlock) {
      const std::size_t len = views_[t].length - start < kBlock ? views_[t].length - start : kBlock;
      if ((start / kBlock) % kRunBlocks == 0) runs_.push_back({t, start, 0, blocks_.size()});
      runs_.back().length += len;
      blocks_.push_back({t, start, len});
    }
    elements_ += views_[t].length;
  }
  one_block_each_ = blocks_.size() == views_.size();
  for (const TensorView& v : views_) one_block_each_ = one_block_each_ && v.length > 0 && v.length <= kBlock;
}

template <class Item, class Fn>
void Engine::for_items(const TensorList& list, const std::vector<Item>& items, const Fn& fn) const {
  std::size_t parts = threads();
  if (parts > items.size()) parts = items.size();
  // A block costs a fixed ~30 ns on top of its elements (the lane tree, the call): about the
  // time of 256 streamed elements, so lists of many small tensors count that too.
  constexpr std::size_t kBlockCost = 256;
  if (list.elements() + list.blocks().size() * kBlockCost < parallel_threshold()) parts = 1;
  std::unique_lock<std::mutex> pool_lock(pool_.busy(), std::try_to_lock);
  if (pool_lock.owns_lock()) {
    pool_.trim(threads() - 1);  // after setNumThreads lowered the count
  } else {
    parts = 1;  // another caller has the pool: same result on one thread
  }
  if (parts <= 1) {
    for (std::size_t i = 0; i < items.size(); ++i) fn(i);
    return;
  }
  // Threads take grabs of consecutive items (about kGrab elements each) from a shared counter,
  // so a thread that wakes late simply takes fewer; results are stored per block, so who
  // computed a block never changes what is added to what.
  constexpr std::size_t kGrab = std::size_t(1) << 17;
  std::vector<std::size_t> grabs{0};
  std::size_t in_grab = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    in_grab += items[i].length;
    if (in_grab >= kGrab) {
      grabs.push_back(i + 1);
      in_grab = 0;
    }
  }
  if (grabs.back() != items.size()) grabs.push_back(items.size());
  std::atomic<std::size_t> next{0};
  const std::function<void(std::size_t)> job = [&](std::size_t) {
    for (std::size_t g = next.fetch_add(1); g + 1 < grabs.size(); g = next.fetch_add(1)) {
      for (std::size_t i = grabs[g]; i < grabs[g + 1]; ++i) fn(i);
    }
  };
  pool_.run(parts, job);
}

void Engine::reduce(const TensorList& list, Op op, double p, const double* scales, double* out) const {
  const KernelTable& k = *kernels();
  const auto& blocks = list.blocks();
  const TensorView* ts = list.views().data();
  const std::size_t n = list.size();
  // When every tensor is exactly one block, a block's result is its tensor's partial (0 + r, max(0, r),
  // min(inf, r) are r itself, NaN included), so it is written to `out` directly: no per-block buffer
  // and no combine pass, which lists of many small tensors would otherwise pay per tensor.
  const bool direct = list.one_block_each();
  std::vector<double> results(direct ? 0 : blocks.size());
  double* dest = direct ? out : results.data();
  if (op == Op::SumAbs || op == Op::SumSquares) {
    // Runs of consecutive blocks: one kernel call reads several of a tensor's blocks at once.
    const auto& runs = list.runs();
    for_items(list, runs, [&](std::size_t r) {
      const auto& run = runs[r];
      const TensorView& t = ts[run.tensor];
      const double s = scales ? scales[run.tensor] : 1.0;
      if (t.half != Half::None) {
        k.block_sums_half(static_cast<const std::uint16_t*>(t.data) + run.start, run.length, op, s, t.half, dest + run.first);
      } else if (t.f64) k.block_sums_f64(static_cast<const double*>(t.data) + run.start, run.length, op, s, dest + run.first);
      else k.block_sums_f32(static_cast<const float*>(t.data) + run.start, run.length, op, s, dest + run.first);
    });
  } else {
    for_blocks(list, [&](std::size_t b) {
      const auto& blk = blocks[b];
      const TensorView& t = ts[blk.tensor];
      const double s = scales ? scales[blk.tensor] : 1.0;
      double r = 0;
      if (t.half != Half::None) {
        const std::uint16_t* x = static_cast<const std::uint16_t*>(t.data) + blk.start;
        switch (op) {
          case Op::SumPow: r = k.block_sum_pow_half(x, blk.length, p, s, t.half); break;
          case Op::MaxAbs: r = k.extreme_abs_half(x, blk.length, true, t.half); break;
          case Op::MinAbs: r = k.extreme_abs_half(x, blk.length, false, t.half); break;
          case Op::CountNonzero: r = static_cast<double>(k.count_nonzero_half(x, blk.length)); break;
          default: break;
        }
      } else if (t.f64) {
        const double* x = static_cast<const double*>(t.data) + blk.start;
        switch (op) {
          case Op::SumPow: r = k.block_sum_pow_f64(x, blk.length, p, s); break;
          case Op::MaxAbs: r = k.max_abs_f64(x, blk.length); break;
          case Op::MinAbs: r = k.min_abs_f64(x, blk.length); break;
          case Op::CountNonzero: r = static_cast<double>(k.count_nonzero_f64(x, blk.length)); break;
          default: break;
        }
      } else {
        const float* x = static_cast<const float*>(t.data) + blk.start;
        switch (op) {
          case Op::SumPow: r = k.block_sum_pow_f32(x, blk.length, p, s); break;
          case Op::MaxAbs: r = k.max_abs_f32(x, blk.length); break;
          case Op::MinAbs: r = k.min_abs_f32(x, blk.length); break;
          case Op::CountNonzero: r = static_cast<double>(k.count_nonzero_f32(x, blk.length)); break;
          default: break;
        }
      }
      dest[b] = r;
    });
  }
  if (direct) return;
  // Combine block results per tensor, blocks in order (the same as js.ts).
  for (std::size_t i = 0; i < n; ++i) out[i] = op == Op::MinAbs ? INFINITY : 0.0;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const double r = results[b];
    double& acc = out[blocks[b].tensor];
    switch (op) {
      // NaN is sticky: once a tensor's extreme is NaN it stays NaN.
      case Op::MaxAbs:
        if (r != r || acc != acc) acc = NAN;
        else if (r > acc) acc = r;
        break;
      case Op::MinAbs:
        if (r != r || acc != acc) acc = NAN;
        else if (r < acc) acc = r;
        break;
      default: acc += r; break;
    }
  }
}

std::uint64_t Engine::probe_read(const TensorList& list) const {
  const auto& runs = list.runs();
  const TensorView* ts = list.views().data();
  std::vector<std::uint64_t> acc(runs.size());
  for_items(list, runs, [&](std::size_t r) {
    const auto& run = runs[r];
    const TensorView& t = ts[run.tensor];
    const std::size_t width = t.half != Half::None ? 2 : t.f64 ? 8 : 4;
    acc[r] = kernels()->probe_read(static_cast<const char*>(t.data) + run.start * width, run.length * width);
  });
  std::uint64_t r = 0;
  for (std::uint64_t a : acc) r |= a;
  return r;
}

// A block of a 16-bit tensor times coef rounded once to its dtype (a value exact in float32).
static void scale_half_block(const KernelTable& k, const TensorView& t, std::size_t start, std::size_t n, double coef) {
  const float c = decode_half(encode_double(coef, t.half), t.half);
  k.scale_half(static_cast<std::uint16_t*>(t.data) + start, n, c, t.half);
}

// A range of one tensor times coef (a float32 tensor's coefficient rounded once to float32).
static void scale_range(const KernelTable& k, const TensorView& t, std::size_t start, std::size_t n, double coef) {
  if (t.half != Half::None) scale_half_block(k, t, start, n, coef);
  else if (t.f64) k.scale_f64(static_cast<double*>(t.data) + start, n, coef);
  else k.scale_f32(static_cast<float*>(t.data) + start, n, static_cast<float>(coef));
}

// The in-place passes (both scales, clamp) walk runs of blocks: one kernel call covers several blocks,
// which it reads and writes as concurrent streams (simd_kernels.h, kWriteStreams).
void Engine::scale(const TensorList& list, double coef) const {
  const KernelTable& k = *kernels();
  const auto& runs = list.runs();
  const TensorView* ts = list.views().data();
  for_items(list, runs, [&](std::size_t r) { scale_range(k, ts[runs[r].tensor], runs[r].start, runs[r].length, coef); });
}

void Engine::scale_each(const TensorList& list, const double* coefs) const {
  const KernelTable& k = *kernels();
  const auto& runs = list.runs();
  const TensorView* ts = list.views().data();
  for_items(list, runs, [&](std::size_t r) {
    const double coef = coefs[runs[r].tensor];
    if (coef != 1.0) scale_range(k, ts[runs[r].tensor], runs[r].start, runs[r].length, coef);
  });
}

void Engine::clamp(const TensorList& list, double lo, double hi) const {
  const KernelTable& k = *kernels();
  const auto& runs = list.runs();
  const TensorView* ts = list.views().data();
  const float lo32 = static_cast<float>(lo), hi32 = static_cast<float>(hi);
  for_items(list, runs, [&](std::size_t r) {
    const auto& run = runs[r];
    const TensorView& t = ts[run.tensor];
    if (t.half != Half::None) {
      // The bounds rounded once to the dtype (from the doubles); the kernel compares in the order of values.
      const std::uint16_t lb = encode_double(lo, t.half), hb = encode_double(hi, t.half);
      k.clamp_half(static_cast<std::uint16_t*>(t.data) + run.start, run.length, decode_half(lb, t.half),
                   decode_half(hb, t.half), lb, hb, t.half);
    } else if (t.f64) k.clamp_f64(static_cast<double*>(t.data) + run.start, run.length, lo, hi);
    else k.clamp_f32(static_cast<float*>(t.data) + run.start, run.length, lo32, hi32);
  });
}

void Engine::step(const TensorList& flat, StepKind kind, const StepArgs& a, const double* per_tensor) const {
  const KernelTable& k = *kernels();
  const std::size_t width = step_width(kind, a);
  const auto& all = flat.views();
  // The parameters alone decide the blocks; the other tensors of a group are cut the same way.
  std::vector<TensorView> params;
  params.reserve(all.size() / width);
  for (std::size_t i = 0; i + width <= all.size(); i += width) params.push_back(all[i]);
  const TensorList list(std::move(params));
  const auto& blocks = list.blocks();
  for_blocks(list, [&](std::size_t b) {
    const auto& blk = blocks[b];
    const TensorView* t = &all[blk.tensor * width];
    const double* s = per_tensor + 2 * blk.tensor;
    const std::size_t o = blk.start, n = blk.length;
    auto at = [&](std::size_t j, auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      return j < width ? static_cast<T*>(t[j].data) + o : nullptr;
    };
    if (t[0].f64) {
      double* d = nullptr;
      if (kind == StepKind::Sgd) k.sgd_f64(at(0, d), at(1, d), at(2, d), n, a, s[0] != 0);
      else k.adam_f64(at(0, d), at(1, d), at(2, d), at(3, d), at(4, d), n, a, s[0], s[1]);
    } else {
      float* f = nullptr;
      if (kind == StepKind::Sgd) k.sgd_f32(at(0, f), at(1, f), at(2, f), n, a, s[0] != 0);
      else k.adam_f32(at(0, f), at(1, f), at(2, f), at(3, f), at(4, f), n, a, s[0], s[1]);
    }
  });
}

void Engine::column_sum_squares(const TensorView& t, std::size_t cols, double s, double* out) const {
  const KernelTable& k = *kernels();
  const std::size_t rows = cols == 0 ? 0 : t.length / cols;
  if (t.f64) k.col_sum_squares_f64(static_cast<const double*>(t.data), rows, cols, s, out);
  else k.col_sum_squares_f32(static_cast<const float*>(t.data), rows, cols, s, out);
}

void Engine::scale_columns(const TensorView& t, std::size_t cols, const double* coefs) const {
  const KernelTable& k = *kernels();
  const std::size_t rows = cols == 0 ? 0 : t.length / cols;
  if (t.f64) k.scale_cols_f64(static_cast<double*>(t.data), rows, cols, coefs);
  else k.scale_cols_f32(static_cast<float*>(t.data), rows, cols, coefs);
}

}  // namespace gradclip
