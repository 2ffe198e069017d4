// WorkerPool: runs one job over an index range on every worker thread plus the
// caller, and returns when all of it is done. The copier compresses a window
// of pages this way; order is restored by index, not by timing.
//
//   WorkerPool pool(4);                       // 3 threads + the caller
//   pool.run(pages, [&](size_t i) { compress(i); });
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kdive::capture {

class WorkerPool {
 public:
  // threads: how many run a job in all (at least 1, the caller).
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Calls job(i) for every i < count, spread over the threads. The first
  // exception a job throws is rethrown here after every thread has stopped.
  void run(size_t count, const std::function<void(size_t)>& job);
  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

 private:
  void work();
  void drain(std::unique_lock<std::mutex>& lock);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* job_ = nullptr;
  size_t count_ = 0;
  size_t next_ = 0;
  unsigned busy_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

}  // namespace kdive::capture
