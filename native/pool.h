// A pool of worker threads owned by one Engine (one per Node.js environment). One job at a
// time: run() gives part t of a job to thread t (part 0 to the caller) and returns when every
// part is done. The destructor stops and joins every thread, so no thread of the pool can
// outlive the environment — or the addon's code, which Node unloads after the last environment
// that loaded it has gone.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gradclip {

class Pool {
 public:
  using Job = std::function<void(std::size_t)>;

  Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  // Runs fn(0..k-1) for some 1 <= k <= parts, growing the pool if needed; k < parts only when
  // the system refuses to start more threads. Returns k. fn must not throw.
  std::size_t run(std::size_t parts, const Job& fn);

  // Stops and joins the workers beyond `workers` (after setNumThreads lowered the count).
  // Call with busy() held.
  void trim(std::size_t workers);

  // Held by whoever runs a job: a second caller (async work on a libuv thread while the JS
  // thread clips) that cannot take it runs single-threaded instead, with the same results.
  std::mutex& busy() { return busy_; }

  // Worker threads alive (not counting callers).
  std::size_t workers();

 private:
  std::size_t grow(std::size_t workers);  // with m_ held; returns the workers now alive
  void work(std::size_t index, std::size_t seen);  // seen: the generation when it was started

  std::mutex busy_;
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const Job* job_ = nullptr;
  std::size_t parts_ = 0;
  std::size_t pending_ = 0;
  std::size_t generation_ = 0;
  std::size_t keep_ = static_cast<std::size_t>(-1);  // workers with a larger index end (trim)
  bool stop_ = false;
};

}  // namespace gradclip
