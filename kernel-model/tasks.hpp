// Tasks: every thread of the crashed kernel with the facts ps-like commands show.
// They are found through every place the kernel keeps them (task_sources.hpp:
// the process list, each thread group's list, the PID IDR, the runqueues),
// merged, and cross-checked: a task one damaged structure hides is still
// found through the others, and a task the sources disagree about is listed
// with `damage` saying which check failed. On a running kernel, whose lists
// change while they are read, damage is believed only when a second and third
// reading show it too. Member offsets come from DWARF.
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
  uint32_t policy = 0;        // SCHED_NORMAL 0, FIFO 1, RR 2, BATCH 3, (ISO 4), IDLE 5, DEADLINE 6
  int32_t prio = 0;           // the kernel's effective priority (0-99 RT, 100-139 normal)
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
  // Why this task cannot be trusted ("pid 0 in task_struct, IDR says 91"), or
  // empty. A damaged task keeps its address and the pid the IDR gives it; its
  // other fields are whatever its memory holds.
  std::string damage;

  bool is_kernel_thread() const;
  bool is_group_leader() const { return pid == tgid; }
  // crash's two-letter state: RU IN UN ST TR ZO DE PA ID NE WA.
  std::string state_code() const;
  // The state and exit_state bits by their kernel names, as crash's `set`
  // shows them: "TASK_RUNNING", "TASK_UNINTERRUPTIBLE|TASK_NOLOAD", "EXIT_ZOMBIE".
  std::string state_names() const;
};

struct TaskTable {
  std::vector<Task> all;         // sorted by pid, idle tasks by CPU
  std::vector<VirtAddr> active;  // rq->curr per CPU (index = CPU)
  uint64_t total_ram_pages = 0;  // for %MEM
  // Where a source could not be walked to its end ("the threads of pid 84:
  // ffff...: next is 0, ..."), one line each. The tasks behind such a break
  // are still listed when another source found them.
  std::vector<std::string> problems;

  const Task* by_pid(int64_t pid) const;  // the thread with that pid (idle: CPU 0's)
  const Task* by_address(VirtAddr task) const;
  const Task* active_on(int cpu) const;
};

TaskTable read_tasks(const Kernel& kernel);

}  // namespace kdive
