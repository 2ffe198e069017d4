// Details of one task beyond what the task list carries: its times, its
// command line and environment (read from its own user address space), and
// its resource limits.
//
//   TaskArguments a = task_arguments(kernel, task);   // a.args = {"/bin/sh", "-c", ...}
//   for (const Rlimit& r : task_rlimits(kernel, task)) ...
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;

struct TaskTimes {
  uint64_t run_time_ns;    // since the task started, up to the crash
  uint64_t start_time_ns;  // since boot
  uint64_t utime_ns;
  uint64_t stime_ns;
};

struct TaskArguments {
  std::vector<std::string> args;
  std::vector<std::string> env;
};

struct Rlimit {
  std::string name;  // "CPU", "FSIZE", ... in RLIMIT_* order
  uint64_t current;  // ~0: unlimited
  uint64_t maximum;
};

// The kernel's notion of "now" at the crash: the most recent runqueue clock of
// any CPU, in ns since boot (sched_clock, as task start times are).
uint64_t uptime_ns(const Kernel& k);

TaskTimes task_times(const Kernel& k, const Task& t);
// Throws Fault when the task's user memory is not in the dump.
TaskArguments task_arguments(const Kernel& k, const Task& t);
std::vector<Rlimit> task_rlimits(const Kernel& k, const Task& t);

}  // namespace kdive
