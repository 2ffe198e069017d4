// Unwinding speed on one dump, kdive only: the time to unwind every task's
// stack once the pages are cached (what `foreach bt` costs beyond start-up),
// per task and per frame. The bar is microseconds per task, not
// milliseconds. Prints "name value unit" lines like readers_bench. Not a test:
// timings never decide pass or fail.
//
//   unwind_bench VMLINUX DUMP [rounds]
#include <fmt/format.h>

#include <chrono>
#include <exception>

#include "kernel-model/backtrace.hpp"
#include "kernel-model/kernel.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fmt::print(stderr, "usage: unwind_bench VMLINUX DUMP [rounds]\n");
    return 2;
  }
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 20;
  try {
    auto start = Clock::now();
    auto kernel = kdive::Kernel::open(argv[1], {std::string(argv[2])});
    const auto& tasks = kernel->tasks().all;
    fmt::print("open_seconds {:.4f} s\n", seconds_since(start));
    start = Clock::now();
    kdive::Unwinder unwinder(*kernel);
    size_t frames = 0;
    for (const kdive::Task& t : tasks) frames += unwinder.backtrace(t).frames.size();
    fmt::print("first_pass_seconds {:.4f} s\n", seconds_since(start));
    start = Clock::now();
    for (int r = 0; r < rounds; ++r) {
      for (const kdive::Task& t : tasks) unwinder.backtrace(t);
    }
    const double total = seconds_since(start);
    const double per_round = total / rounds;
    fmt::print("tasks {} tasks\n", tasks.size());
    fmt::print("frames {} frames\n", frames);
    fmt::print("per_task {:.1f} us\n", per_round * 1e6 / static_cast<double>(tasks.size()));
    fmt::print("per_frame {:.2f} us\n", per_round * 1e6 / static_cast<double>(frames));
  } catch (const std::exception& e) {
    fmt::print(stderr, "unwind_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
