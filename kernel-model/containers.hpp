// Walking the kernel's generic containers: doubly linked lists (list_head),
// hash lists (hlist_head), red-black trees (rb_root), and per-CPU variables.
// Each walk is bounded: a corrupted list that never returns to its head throws
// Error(BadData) instead of looping forever.
//
//   // every task: init_task.tasks is a list_head embedded in task_struct
//   for (VirtAddr t : list_entries(k, init_tasks_head, tasks_offset)) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

constexpr size_t kMaxListEntries = 1u << 22;

// The entries of the list whose head (a struct list_head) is at `head`: for each
// node, node - member_offset (the containing structure), in list order.
std::vector<VirtAddr> list_entries(const Kernel& k, VirtAddr head, uint64_t member_offset,
                                   size_t limit = kMaxListEntries);
// The same, walking prev pointers (list_for_each_entry_reverse).
std::vector<VirtAddr> list_entries_reverse(const Kernel& k, VirtAddr head, uint64_t member_offset,
                                           size_t limit = kMaxListEntries);
// The entries of an hlist whose struct hlist_head is at `head`.
std::vector<VirtAddr> hlist_entries(const Kernel& k, VirtAddr head, uint64_t member_offset,
                                    size_t limit = kMaxListEntries);
// The nodes of an rbtree (struct rb_root at `root`) in order, minus member_offset.
std::vector<VirtAddr> rbtree_entries(const Kernel& k, VirtAddr root, uint64_t member_offset,
                                     size_t limit = kMaxListEntries);

}  // namespace kdive
