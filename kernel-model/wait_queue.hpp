// The waiters on a wait queue (struct wait_queue_head): for each queued
// wait_queue_entry, its private pointer (the sleeping task for the
// default and autoremove wake functions) and its wake function. What crash's
// waitq shows, for finding who sleeps on a lock, a completion or an event.
//
//   Walked<WaitQueueEntry> w = read_wait_queue(kernel, head_address);
//   for (const WaitQueueEntry& e : w.entries) ... e.task ... e.func ...
#pragma once

#include <cstdint>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct WaitQueueEntry {
  VirtAddr entry;     // struct wait_queue_entry
  VirtAddr private_;  // its private pointer
  VirtAddr func;      // its wake function
  uint32_t flags = 0;
  // private_ when it is a task this dump's task table knows (the usual case);
  // null for waiters of other kinds (poll tables, io_uring, ...).
  VirtAddr task;
};

// The entries of the wait_queue_head at `head`, in queue order. The list is
// wait_queue_head.head linked through wait_queue_entry.entry since 4.13
// ("sched/wait: Rename wait_queue_t => wait_queue_entry_t"), task_list in
// both before. Throws Error when neither layout is in the kernel's types.
Walked<WaitQueueEntry> read_wait_queue(const Kernel& k, VirtAddr head);

}  // namespace kdive
