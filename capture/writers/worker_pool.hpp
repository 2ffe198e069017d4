// WorkerPool: runs one job over an index range on every worker thread plus the
// caller, and returns when all of it is done. The copier compresses a window
// of pages this way; order is restored by index, not by timing. Each call of
// the job also gets the number of the thread running it (0 the caller, then
// 1..threads()-1), so per-thread state (a compressor) needs no lock.
//
//   WorkerPool pool(4);                       // 3 threads + the caller
//   std::vector<PageCompressor> z(...);       // one per pool.threads()
//   pool.run(pages, [&](size_t i, unsigned t) { z[t].compress(...); });
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

  using Job = std::function<void(size_t index, unsigned thread)>;
  // Calls job(i, thread) for every i < count, spread over the threads. The
  // first exception a job throws is rethrown here after every thread has
  // stopped.
  void run(size_t count, const Job& job);
  // run() in two halves, so the caller can do other work (read the next
  // window, write the last) while the workers start on this one: start()
  // hands the job to the workers and returns; wait() joins in on what is
  // left, returns when all of it is done and rethrows the job's first
  // exception. `job` must outlive wait(); wait() without a job in flight
  // returns at once. With one thread in all, the whole job runs in wait().
  void start(size_t count, const Job& job);
  void wait();
  unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

 private:
  void work(unsigned thread);
  void drain(std::unique_lock<std::mutex>& lock, unsigned thread);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const Job* job_ = nullptr;
  size_t count_ = 0;
  size_t next_ = 0;
  unsigned busy_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

}  // namespace kdive::capture
