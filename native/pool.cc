#include "pool.h"

namespace gradclip {

Pool& Pool::shared() {
  static Pool* pool = new Pool();
  return *pool;
}

void Pool::grow(std::size_t workers) {
  while (threads_.size() < workers) {
    const std::size_t index = threads_.size() + 1;  // part 0 is the caller's
    threads_.emplace_back([this, index] { work(index); });
    threads_.back().detach();
  }
}

void Pool::work(std::size_t index) {
  std::size_t seen = 0;
  for (;;) {
    const std::function<void(std::size_t)>* job;
    {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (index >= parts_) continue;
      job = job_;
    }
    (*job)(index);
    std::lock_guard<std::mutex> lock(m_);
    if (--pending_ == 0) done_.notify_one();
  }
}

void Pool::run(std::size_t parts, const std::function<void(std::size_t)>& fn) {
  if (parts <= 1) {
    fn(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    grow(parts - 1);
    job_ = &fn;
    parts_ = parts;
    pending_ = parts - 1;
    ++generation_;
  }
  wake_.notify_all();
  fn(0);
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
}

}  // namespace gradclip
