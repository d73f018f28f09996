// Runs the kernels over a whole list of tensors: cuts each tensor into blocks, spreads
// whole blocks over the threads, and combines the block results in the order of SPEC §6
// (so the thread count never changes what is added to what).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/contract.h"
#include "pool.h"

namespace gradclip {

struct TensorView {
  void* data;
  std::size_t length;  // elements; 64-bit throughout
  bool f64;
  Half half = Half::None;  // F16 / BF16: data holds 16-bit bits (f64 is false)
};

// A list of tensors cut into blocks of at most kBlock elements, in list and block order.
// Built once per list (the binding keeps two, while the JS side passes the same arrays).
class TensorList {
 public:
  struct Block {
    std::size_t tensor, start, length;
  };
  // Up to kRunBlocks consecutive blocks of one tensor, from block `first` of the list: what one
  // call of a block_sums kernel reads (several streams at once).
  struct Run {
    std::size_t tensor, start, length, first;
  };
  static constexpr std::size_t kRunBlocks = 4;
  TensorList() = default;
  explicit TensorList(std::vector<TensorView> views);
  const std::vector<TensorView>& views() const { return views_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<Run>& runs() const { return runs_; }
  std::size_t size() const { return views_.size(); }
  std::size_t elements() const { return elements_; }
  // Every tensor is exactly one block (block i is tensor i).
  bool one_block_each() const { return one_block_each_; }

 private:
  std::vector<TensorView> views_;
  std::vector<Block> blocks_;
  std::vector<Run> runs_;
  std::size_t elements_ = 0;
  bool one_block_each_ = true;
};

// The most threads one engine uses: the kernels are memory-bound, so threads beyond the cores
// only cost; the cap keeps a mistaken setNumThreads(1e9) from starting thousands of threads.
// src/registry.ts checks the same number (MAX_THREADS).
constexpr std::size_t kMaxThreads = 256;

// One per Node.js environment (the main thread and each worker_thread have their own), so
// its settings and its pool live and die with that environment.
class Engine {
 public:
  Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // out[i] = the partial of tensor i under op (see ReduceOp in src/backends/backend.ts).
  void reduce(const TensorList& list, Op op, double p, const double* scales, double* out) const;
  // x *= coef rounded to each tensor's dtype.
  void scale(const TensorList& list, double coef) const;
  // Tensor t scaled by coefs[t] (rounded to its dtype); a tensor whose coefficient is exactly 1 is not written.
  void scale_each(const TensorList& list, const double* coefs) const;
  // x = min(max(x, lo), hi), bounds rounded to each tensor's dtype.
  void clamp(const TensorList& list, double lo, double hi) const;
  // Column sums of squares / per-column scaling of one tensor read as a row-major [rows, cols]
  // matrix (cols divides its length); one thread.
  void column_sum_squares(const TensorView& t, std::size_t cols, double s, double* out) const;
  void scale_columns(const TensorView& t, std::size_t cols, const double* coefs) const;
  // The optimizer step (SPEC §8) over groups of `width` tensors of one dtype and length, in `flat`
  // (SGD: param, grad[, momentum buffer]; Adam: param, grad, exp_avg, exp_avg_sq[, max_exp_avg_sq]).
  // per_tensor holds two doubles per group (SGD: first step 0/1; Adam: neg_step, bc2_sqrt). The
  // groups' blocks are spread over the threads like scale's. The caller has checked the shapes.
  enum class StepKind : int { Sgd = 0, Adam = 1 };
  static std::size_t step_width(StepKind kind, const StepArgs& a) {
    return kind == StepKind::Sgd ? (a.momentum != 0 ? 3 : 2) : (a.amsgrad ? 5 : 4);
  }
  void step(const TensorList& flat, StepKind kind, const StepArgs& a, const double* per_tensor) const;
  // Benchmark probe: one plain read pass over the tensors' bytes, run by run (as the sum kernels
  // read), split over threads like the kernels.
  std::uint64_t probe_read(const TensorList& list) const;

  const KernelTable* kernels() const { return kernels_.load(); }
  bool set_isa(const std::string& isa);
  const std::string& isa_note() const { return isa_note_; }

  std::size_t threads() const { return threads_.load(); }
  // Clamped to [1, kMaxThreads]; extra pool threads are stopped at the next parallel call.
  void set_threads(std::size_t n) { threads_.store(n < 1 ? 1 : n > kMaxThreads ? kMaxThreads : n); }
  // Pool threads alive now (for tests and `gradclip info`).
  std::size_t pool_threads() const { return pool_.workers(); }
  // Below this many elements in a list, one thread does the work (waking others costs more).
  std::size_t parallel_threshold() const { return parallel_threshold_.load(); }
  void set_parallel_threshold(std::size_t n) { parallel_threshold_.store(n); }

 private:
  // Calls fn(i) for every item of a list's blocks() or runs(), split over threads by element count.
  template <class Item, class Fn>
  void for_items(const TensorList& list, const std::vector<Item>& items, const Fn& fn) const;
  template <class Fn>
  void for_blocks(const TensorList& list, const Fn& fn) const {
    for_items(list, list.blocks(), fn);
  }

  std::atomic<const KernelTable*> kernels_;
  std::string isa_note_;
  std::atomic<std::size_t> threads_;
  std::atomic<std::size_t> parallel_threshold_;
  mutable Pool pool_;
};

// Elements below which a list is processed on one thread. Measured on the 2-core x86-64
// development machine (f32, medians, threads taking blocks from a shared counter): 512K
// elements break even (reduce 48 vs 49 µs, scale 59 vs 112 µs), 1M wins (reduce 95 vs 73 µs,
// scale 137 vs 99 µs), 16M 1.7× (2911 vs 1677 µs). The binding's setParallelThreshold overrides it.
constexpr std::size_t kDefaultParallelThreshold = std::size_t(1) << 20;

}  // namespace gradclip
