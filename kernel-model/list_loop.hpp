// Loop finding in a chain of next pointers with Brent's algorithm (crash's
// `list -B`): constant memory however long the chain, so it also works on a
// list too long to remember. It answers what the walkers' own cycle checks
// only stop at: how long the loop is and how far from the start it begins.
//
//   auto loop = find_loop(k.memory(), VirtAddr{start}, next_offset);
//   if (loop) ...  // loop->length entries go round, after loop->start_index others
#pragma once

#include <cstdint>
#include <optional>

#include "readers/address.hpp"

namespace kdive {

class KernelMemory;

struct ChainLoop {
  uint64_t length = 0;       // entries on the loop
  uint64_t start_index = 0;  // entries before the first one on the loop (0: the start is on it)
};

// Follows next = *(node + next_offset) from `start`. nullopt when the chain
// ends (a NULL next, an unreadable one) or `max_steps` pass without a loop.
std::optional<ChainLoop> find_loop(const KernelMemory& mem, VirtAddr start, uint64_t next_offset,
                                   uint64_t max_steps = uint64_t{1} << 26);

}  // namespace kdive
