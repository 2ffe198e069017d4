#include "capture/writers/worker_pool.hpp"

#include <algorithm>

namespace kdive::capture {
namespace {
// Indices handed out at a time: pages are small jobs.
constexpr size_t kChunk = 16;
}  // namespace

WorkerPool::WorkerPool(unsigned threads) {
  for (unsigned i = 1; i < std::max(1u, threads); ++i) workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes chunks of the current job until none is left. `lock` is held on entry
// and exit; the job runs without it.
void WorkerPool::drain(std::unique_lock<std::mutex>& lock) {
  while (next_ < count_) {
    size_t from = next_;
    size_t to = std::min(count_, from + kChunk);
    next_ = to;
    ++busy_;
    lock.unlock();
    std::exception_ptr failed;
    try {
      for (size_t i = from; i < to; ++i) (*job_)(i);
    } catch (...) {
      failed = std::current_exception();
    }
    lock.lock();
    --busy_;
    if (failed) {
      if (!error_) error_ = failed;
      next_ = count_;  // stop handing out work
    }
  }
  if (busy_ == 0) done_.notify_all();
}

void WorkerPool::work() {
  std::unique_lock lock(mutex_);
  uint64_t seen = generation_;
  for (;;) {
    wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
    if (quit_) return;
    seen = generation_;
    drain(lock);
  }
}

void WorkerPool::run(size_t count, const std::function<void(size_t)>& job) {
  std::unique_lock lock(mutex_);
  job_ = &job;
  count_ = count;
  next_ = 0;
  error_ = nullptr;
  ++generation_;
  wake_.notify_all();
  drain(lock);
  done_.wait(lock, [&] { return next_ >= count_ && busy_ == 0; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace kdive::capture
