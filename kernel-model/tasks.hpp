// Tasks: every thread of the crashed kernel with the facts ps-like commands show.
// Enumeration follows the kernel: the process list from init_task.tasks, each
// process's threads from signal->thread_head (6.7+, via thread_node) or the
// older thread_group list, and each CPU's idle task from its runqueue (idle
// tasks are on no list). Member offsets come from DWARF by name.
//
//   TaskTable tasks = read_tasks(kernel);
//   for (const Task& t : tasks.all) ... t.pid, t.comm, t.state_code() ...
//   const Task* current = tasks.active_on(1);       // rq->curr of CPU 1
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct Task {
  VirtAddr address;  // struct task_struct
  int64_t pid = 0;
  int64_t tgid = 0;
  int64_t ppid = 0;
  VirtAddr parent;  // real_parent task
  std::string comm;
  uint64_t state = 0;  // __state (5.14+) or state
  uint64_t exit_state = 0;
  uint32_t flags = 0;  // PF_*
  int cpu = 0;
  VirtAddr mm;                // 0 for kernel threads
  VirtAddr stack;             // task->stack
  uint64_t kernel_sp = 0;     // thread.sp: where the stack was switched out
  uint64_t last_arrival = 0;  // sched_info.last_arrival (ns of rq clock)
  uint64_t start_time = 0;    // ns since boot
  uint64_t utime = 0, stime = 0;
  uint64_t total_vm_pages = 0;
  uint64_t rss_pages = 0;
  bool idle = false;    // a CPU's idle task (swapper/N)
  bool active = false;  // running on its CPU at the crash (rq->curr)

  bool is_kernel_thread() const;
  bool is_group_leader() const { return pid == tgid; }
  // crash's two-letter state: RU IN UN ST TR ZO DE PA ID NE WA.
  std::string state_code() const;
  // The state and exit_state bits by their kernel names, as crash's `set`
  // shows them: "TASK_RUNNING", "TASK_UNINTERRUPTIBLE|TASK_NOLOAD", "EXIT_ZOMBIE".
  std::string state_names() const;
};

struct TaskTable {
  std::vector<Task> all;              // sorted by pid, idle tasks by CPU
  std::vector<VirtAddr> active;       // rq->curr per CPU (index = CPU)
  uint64_t total_ram_pages = 0;       // for %MEM
  std::vector<std::string> problems;  // tasks that could not be read, one line each

  const Task* by_pid(int64_t pid) const;  // the thread with that pid (idle: CPU 0's)
  const Task* by_address(VirtAddr task) const;
  const Task* active_on(int cpu) const;
};

TaskTable read_tasks(const Kernel& kernel);

}  // namespace kdive
