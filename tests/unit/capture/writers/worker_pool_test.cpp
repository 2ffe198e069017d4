// WorkerPool: every index runs exactly once, on a thread number below
// threads(), per-thread state needs no lock, start()/wait() let the caller
// work in between, and a job's exception reaches the caller.
#include "capture/writers/worker_pool.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

using namespace kdive::capture;

TEST_CASE("worker pool: each index once, on a thread number below threads()", "[capture][writers][worker_pool]") {
  unsigned threads = GENERATE(1u, 2u, 4u);
  CAPTURE(threads);
  WorkerPool pool(threads);
  REQUIRE(pool.threads() == threads);
  for (size_t count : {size_t{0}, size_t{1}, size_t{15}, size_t{1000}}) {
    std::vector<std::atomic<int>> seen(count);
    // Per-thread counters, written without a lock: a thread number given to
    // two threads at once would lose increments (and TSan would say so).
    std::vector<size_t> per_thread(threads);
    std::atomic<bool> bad_thread{false};
    pool.run(count, [&](size_t i, unsigned t) {
      if (t >= threads) {
        bad_thread = true;
        return;
      }
      ++seen[i];
      ++per_thread[t];
    });
    CHECK_FALSE(bad_thread);
    size_t total = 0;
    for (size_t n : per_thread) total += n;
    CHECK(total == count);
    for (size_t i = 0; i < count; ++i) CHECK(seen[i] == 1);
  }
}

TEST_CASE("worker pool: the caller works between start() and wait()", "[capture][writers][worker_pool]") {
  WorkerPool pool(3);
  std::vector<int> out(500, 0);
  const WorkerPool::Job job = [&](size_t i, unsigned) { out[i] = static_cast<int>(i) * 2; };
  for (int round = 0; round < 3; ++round) {
    pool.start(out.size(), job);
    int mine = 0;
    for (int k = 0; k < 1000; ++k) mine += k;  // the caller's own work meanwhile
    pool.wait();
    CHECK(mine == 499500);
    for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == static_cast<int>(i) * 2);
    std::fill(out.begin(), out.end(), 0);
  }
  pool.wait();  // nothing in flight: returns at once
  CHECK_THROWS_AS((pool.start(1, job), pool.start(1, job)), std::logic_error);
  pool.wait();
}

TEST_CASE("worker pool: a job's exception reaches the caller, and the pool goes on",
          "[capture][writers][worker_pool]") {
  WorkerPool pool(2);
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH(pool.run(100,
                             [&](size_t i, unsigned) {
                               ++ran;
                               if (i == 37) throw std::runtime_error("page 37");
                             }),
                    "page 37");
  CHECK(ran >= 1);
  std::atomic<int> after{0};
  pool.run(10, [&](size_t, unsigned) { ++after; });
  CHECK(after == 10);
}
