#include "pool.h"

namespace gradclip {

Pool::~Pool() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

std::size_t Pool::workers() {
  std::lock_guard<std::mutex> lock(m_);
  return threads_.size();
}

std::size_t Pool::grow(std::size_t workers) {
  while (threads_.size() < workers) {
    const std::size_t index = threads_.size() + 1;  // part 0 is the caller's
    try {
      threads_.emplace_back([this, index, seen = generation_] { work(index, seen); });
    } catch (...) {
      break;  // the system will not start another thread: run with the ones there are
    }
  }
  return threads_.size();
}

void Pool::work(std::size_t index, std::size_t seen) {
  for (;;) {
    const Job* job;
    {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return stop_ || index > keep_ || generation_ != seen; });
      if (stop_ || index > keep_) return;
      seen = generation_;
      if (index >= parts_) continue;
      job = job_;
    }
    (*job)(index);
    std::lock_guard<std::mutex> lock(m_);
    if (--pending_ == 0) done_.notify_one();
  }
}

std::size_t Pool::run(std::size_t parts, const Job& fn) {
  if (parts > 1) {
    std::lock_guard<std::mutex> lock(m_);
    const std::size_t alive = grow(parts - 1);
    if (parts > alive + 1) parts = alive + 1;
    if (parts > 1) {
      job_ = &fn;
      parts_ = parts;
      pending_ = parts - 1;
      ++generation_;
    }
  }
  if (parts <= 1) {
    fn(0);
    return 1;
  }
  wake_.notify_all();
  fn(0);
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
  parts_ = 0;
  return parts;
}

void Pool::trim(std::size_t workers) {
  std::vector<std::thread> retired;
  {
    std::lock_guard<std::mutex> lock(m_);
    if (threads_.size() <= workers) return;
    keep_ = workers;
    for (std::size_t i = workers; i < threads_.size(); ++i) retired.push_back(std::move(threads_[i]));
    threads_.resize(workers);
  }
  wake_.notify_all();
  for (auto& t : retired) t.join();
  std::lock_guard<std::mutex> lock(m_);
  keep_ = static_cast<std::size_t>(-1);
}

}  // namespace gradclip
