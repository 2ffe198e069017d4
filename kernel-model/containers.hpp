// Walking the kernel's generic linked containers: doubly linked lists
// (list_head), hash lists (hlist_head), and the general "chain of next
// pointers" that crash's `list` command follows. Red-black trees are in
// rbtree_walk.hpp (included here), radix trees/XArrays/IDRs in xarray.hpp,
// maple trees in maple_tree.hpp.
//
// Each walk is bounded: a corrupted list that never returns to its head, or
// that comes back to an entry it already visited, throws Error(BadData) naming
// the entry instead of looping forever. list_entries and hlist_entries are the
// strict forms, for callers that cannot go on past damage; walkers that can
// use list_walk.hpp's walk_list/walk_hlist, which recover what lies behind a
// break and report it. walk_chain reports its break to a callback, or throws.
//
//   // every task: init_task.tasks is a list_head embedded in task_struct
//   for (VirtAddr t : list_entries(k, init_tasks_head, tasks_offset)) ...
//
//   // crash's `list task_struct.parent ADDR`, streaming, a marker where it breaks
//   ChainWalk w{.start = task, .next_offset = parent_offset, .singly_linked = true};
//   walk_chain(k.memory(), w, [&](VirtAddr entry) { print(entry); return true; },
//              [&](const WalkBreak& b) { print("(damaged: {})", b.describe()); });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/list_walk.hpp"
#include "kernel-model/rbtree_walk.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;

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

// The memory-level cores of the walks above, usable without a Kernel (unit
// tests build a KernelMemory over synthetic pages).
std::vector<VirtAddr> list_entries(const KernelMemory& mem, VirtAddr head, uint64_t member_offset, bool reverse,
                                   size_t limit = kMaxListEntries);

// A chain of "next" pointers, the general shape behind crash's `list`. The walk
// moves from link to link: a link is the address where the next pointer sits,
// minus next_offset; the value read there is the next link. The entry a link
// belongs to is link - entry_bias.
//  * struct pointers (task_struct.parent): links are the entries,
//    next_offset = the member's offset, entry_bias = 0;
//  * list_head lists: links are the embedded list_heads, next_offset = 0
//    (8 for prev), entry_bias = the list_head's offset in the entry.
// The chain ends at a NULL pointer, when it comes back to `start`, or at `end`
// (an entry or link address). With `singly_linked`, it also ends when it comes
// back to the first link it reached or when a link points to itself (crash's
// rules for lists that are not list_heads).
struct ChainWalk {
  VirtAddr start;  // the first link
  uint64_t next_offset = 0;
  uint64_t entry_bias = 0;
  bool start_is_entry = true;  // false: start is a standalone head, not shown
  bool singly_linked = false;
  bool null_is_error = false;  // list_head lists never hold NULL: say so
  std::optional<uint64_t> end;
  size_t limit = kMaxListEntries;
};

// Calls visit(entry) for each entry in order until it returns false; returns
// the number of entries visited. Where the chain cannot go on — a pointer that
// cannot be read, a NULL with null_is_error, a link reached before, more than
// `limit` entries — it calls on_break (the break's `at` is the pointer that
// could not be followed) and stops, after the entries before it were visited.
size_t walk_chain(const KernelMemory& mem, const ChainWalk& walk, const std::function<bool(VirtAddr)>& visit,
                  const std::function<void(const WalkBreak&)>& on_break);
// The strict form: the same walk, throwing Error(BadData) with the break's text.
size_t walk_chain(const KernelMemory& mem, const ChainWalk& walk, const std::function<bool(VirtAddr)>& visit);

}  // namespace kdive
