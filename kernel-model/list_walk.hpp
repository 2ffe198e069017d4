// Walking a kernel list_head or hlist over memory that may be damaged, the way
// a recovering reader must: a list_head list is followed through `next`,
// checking at each step that the entry points back (`prev`) at the one before;
// where that fails, it is walked again backwards from its head through `prev`,
// so that one damaged entry hides only itself. Each place a walk stopped is a
// WalkBreak; nothing reached is thrown away and nothing here throws for damage.
//
//   Walked<VirtAddr> w = walk_list(k.memory(), init_tasks_head, tasks_offset);
//   w.entries;  // every task reached, in list order
//   w.breaks;   // e.g. {position 7, at ffff..., "next is 0000000000000000, whose prev ..."}
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class KernelMemory;

// The most entries any walk returns: more means the links loop in a way the
// cycle checks cannot see (they always do see it; this bounds memory).
constexpr size_t kMaxListEntries = 1u << 22;

// The entries of the list whose struct list_head head is at `head`, each
// entry being the link address minus `member_offset`, in list order. When the
// forward walk breaks, the entries behind the break are reached backwards and
// appended in list order after the break's position.
Walked<VirtAddr> walk_list(const KernelMemory& mem, VirtAddr head, uint64_t member_offset,
                           size_t limit = kMaxListEntries);

// The entries of the hlist whose struct hlist_head is at `head`. An hlist has
// no tail to walk back from: a break ends it, and says so.
Walked<VirtAddr> walk_hlist(const KernelMemory& mem, VirtAddr head, uint64_t member_offset,
                            size_t limit = kMaxListEntries);

}  // namespace kdive
