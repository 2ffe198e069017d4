// The places the kernel keeps its tasks, each walked on its own so that
// read_tasks() can merge them and cross-check one against another: a task
// that one damaged structure hides is still found through the others.
//
//  * the process list: init_task.tasks links every thread group leader;
//  * each thread group's list: signal->thread_head through thread_node
//    (6.7+, commit 8e1f385104ac) or the leader's thread_group list before;
//  * the PID IDR of the initial namespace: pid number -> struct pid ->
//    pid->tasks[PIDTYPE_PID] -> the task (through task_struct.pid_links[0]);
//  * each CPU's runqueue: the task running (curr) and the idle task, which is
//    on no list and has no pid in the IDR.
//
//   Walked<VirtAddr> leaders = walk_process_list(k);
//   Walked<PidIdrTask> pids = walk_pid_idr(k);   // pids.entries[i].pid, .task
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// init_task and every task on its tasks list.
Walked<VirtAddr> walk_process_list(const Kernel& k);

// Every thread of the group `member` belongs to, `member` included.
Walked<VirtAddr> walk_thread_group(const Kernel& k, VirtAddr member);

struct PidIdrTask {
  int64_t pid = 0;
  VirtAddr pid_struct;  // the struct pid
  VirtAddr task;        // the task using it as its PID; null when none does
};
// The pids of init_pid_ns with the task behind each. A pid no task uses as
// its own (an exited leader's process group, say) has a null task.
Walked<PidIdrTask> walk_pid_idr(const Kernel& k);

struct RunqueueTasks {
  std::vector<VirtAddr> curr;  // index = CPU; null where the runqueue could not be read
  std::vector<VirtAddr> idle;
  std::vector<std::string> problems;
};
RunqueueTasks read_runqueues(const Kernel& k);

// nr_cpu_ids: how many CPUs the kernel could have (1 when it cannot be read).
int possible_cpus(const Kernel& k);

}  // namespace kdive
