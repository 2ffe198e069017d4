#include "capture/writers/worker_pool.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace kdive::capture {
namespace {
// Indices handed out at a time: pages are small jobs.
constexpr size_t kChunk = 16;
}  // namespace

WorkerPool::WorkerPool(unsigned threads) {
  for (unsigned i = 1; i < std::max(1u, threads); ++i) workers_.emplace_back([this, i] { work(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    // A job still in flight (its caller unwinding from an exception) gets no
    // more chunks; the ones running finish before the threads are joined.
    next_ = count_;
    quit_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes chunks of the current job until none is left. `lock` is held on entry
// and exit; the job runs without it.
void WorkerPool::drain(std::unique_lock<std::mutex>& lock, unsigned thread) {
  while (next_ < count_) {
    size_t from = next_;
    size_t to = std::min(count_, from + kChunk);
    next_ = to;
    ++busy_;
    lock.unlock();
    std::exception_ptr failed;
    try {
      for (size_t i = from; i < to; ++i) (*job_)(i, thread);
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

void WorkerPool::work(unsigned thread) {
  std::unique_lock lock(mutex_);
  uint64_t seen = generation_;
  for (;;) {
    wake_.wait(lock, [&] { return quit_ || generation_ != seen; });
    if (quit_) return;
    seen = generation_;
    drain(lock, thread);
  }
}

void WorkerPool::start(size_t count, const Job& job) {
  std::unique_lock lock(mutex_);
  if (job_ != nullptr) throw std::logic_error("worker pool: start() while a job is in flight");
  job_ = &job;
  count_ = count;
  next_ = 0;
  error_ = nullptr;
  ++generation_;
  wake_.notify_all();
}

void WorkerPool::wait() {
  std::unique_lock lock(mutex_);
  if (job_ == nullptr) return;
  drain(lock, 0);
  done_.wait(lock, [&] { return next_ >= count_ && busy_ == 0; });
  job_ = nullptr;
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void WorkerPool::run(size_t count, const Job& job) {
  start(count, job);
  wait();
}

}  // namespace kdive::capture
