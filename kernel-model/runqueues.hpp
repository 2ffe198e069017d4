// Each CPU's runqueue (struct rq) as crash's `runq` shows it: the task
// running there, the RT priority queues (rt_rq.active.queue[], one list per
// priority) and the CFS red-black tree (cfs_rq.tasks_timeline), with the
// group scheduling entities (sched_entity.my_q) taken down into their own
// cfs_rq. Reads only: nothing here prints.
//
// EEVDF replaced CFS's pick in 6.6 (commit 147f3efaa241): an entity is
// picked among the eligible ones by earliest virtual deadline
// (sched_entity.deadline). The tree stayed keyed by vruntime (augmented with
// min_deadline) until 6.8, which keys it by deadline (commit 2227a957e1d5,
// augmented with min_vruntime). `Runqueues::eevdf` and `by_deadline` say
// which, probed by those members.
//
// The walks are bounded and cycle-safe (rbtree_walk, list_walk); a damaged
// tree or list costs its own entries, each loss a WalkBreak in the queue that
// lost it, and a runqueue that cannot be read at all carries `error`.
//
//   Runqueues rqs = read_cpu_runqueues(k, {});   // every CPU
//   for (const CpuRunqueue& rq : rqs.cpus) rq.curr, rq.rt, rq.cfs.entities;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct CfsQueue;

// One sched_entity on a cfs_rq: a task's (task set) or a group's (group
// holds the group's own queue, my_q).
struct CfsEntity {
  VirtAddr se;
  VirtAddr task;  // null for a group's entity
  int prio = 0;   // task_struct.prio (tasks only)
  uint64_t vruntime = 0;
  std::optional<uint64_t> deadline;  // EEVDF kernels (6.6+)
  bool current = false;              // cfs_rq.curr: running, so not in the tree
  bool delayed = false;              // 6.12+ sched_delayed: dequeue deferred, still in the tree
  std::vector<CfsQueue> group;       // zero or one element: the group's cfs_rq
};

struct CfsQueue {
  VirtAddr cfs_rq;
  VirtAddr task_group;     // cfs_rq.tg (null without CONFIG_FAIR_GROUP_SCHED)
  std::string group_name;  // the task group's cgroup directory name, when it has one
  // cfs_rq.curr first when it is set, then the tree's entities in key order.
  std::vector<CfsEntity> entities;
  std::vector<WalkBreak> breaks;  // positions index `entities`
};

struct RtQueued {
  int prio = 0;  // the queue (priority) it is on
  VirtAddr task;
};

struct CpuRunqueue {
  int cpu = 0;
  VirtAddr rq;         // per_cpu(runqueues, cpu)
  VirtAddr curr;       // rq->curr
  uint64_t clock = 0;  // rq->clock (ns), what crash's -t/-T/-m use
  VirtAddr rt_array;   // &rq->rt.active (struct rt_prio_array)
  std::vector<RtQueued> rt;
  std::vector<WalkBreak> rt_breaks;  // positions index `rt`
  VirtAddr cfs_root;                 // &rq->cfs.tasks_timeline
  CfsQueue cfs;                      // rq->cfs, the root task group's queue
  std::string error;                 // set when the runqueue itself could not be read
};

struct Runqueues {
  bool eevdf = false;        // entities have a deadline (6.6+)
  bool by_deadline = false;  // the CFS tree is keyed by deadline (6.8+), else by vruntime
  VirtAddr root_task_group;  // null without group scheduling
  std::vector<CpuRunqueue> cpus;
};

// The runqueues of `cpus` (every possible CPU when empty), in that order.
// Throws Error(Lookup) when the kernel has no per-CPU runqueues symbol.
Runqueues read_cpu_runqueues(const Kernel& k, const std::vector<int>& cpus);

// sched_info.last_arrival of a task: when it last went on a CPU, in rq clock
// ns (crash's runq -t and -m).
uint64_t task_last_arrival(const Kernel& k, VirtAddr task);

}  // namespace kdive
