// A persistent pool of worker threads. One job at a time: run() gives part t of a job to
// thread t (part 0 to the caller) and returns when every part is done.
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
  // The process-wide pool (never destroyed: idle workers simply end with the process).
  static Pool& shared();

  // Runs fn(0..parts-1) with parts <= 1 + workers, growing the pool if needed.
  void run(std::size_t parts, const std::function<void(std::size_t)>& fn);

  // Guards the pool against two callers at once (worker_threads, async work): a caller
  // that cannot take it runs single-threaded instead, with the same results.
  std::mutex& busy() { return busy_; }

 private:
  void grow(std::size_t workers);
  void work(std::size_t index);

  std::mutex busy_;
  std::mutex m_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t parts_ = 0;
  std::size_t pending_ = 0;
  std::size_t generation_ = 0;
};

}  // namespace gradclip
