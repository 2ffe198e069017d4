#include "kernel-model/list_loop.hpp"

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_memory.hpp"

namespace kdive {
namespace {

// The next node, or nullopt where the chain ends.
std::optional<uint64_t> next_of(const KernelMemory& mem, uint64_t node, uint64_t next_offset) {
  if (node == 0) return std::nullopt;
  try {
    uint64_t next = mem.read<uint64_t>(VirtAddr{node + next_offset});
    return next == 0 ? std::nullopt : std::optional<uint64_t>(next);
  } catch (const Fault&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<ChainLoop> find_loop(const KernelMemory& mem, VirtAddr start, uint64_t next_offset, uint64_t max_steps) {
  // Brent: the tortoise waits at powers of two while the hare runs; when the
  // hare meets it, the distance run since it last moved is the loop's length.
  uint64_t power = 1, length = 1, steps = 0;
  uint64_t tortoise = start.value();
  std::optional<uint64_t> hare = next_of(mem, tortoise, next_offset);
  while (hare && *hare != tortoise) {
    if (++steps > max_steps) return std::nullopt;
    if (power == length) {
      tortoise = *hare;
      power *= 2;
      length = 0;
    }
    hare = next_of(mem, *hare, next_offset);
    ++length;
  }
  if (!hare) return std::nullopt;
  // The loop's first node: two walkers `length` apart from the start meet on it.
  uint64_t a = start.value(), b = start.value();
  for (uint64_t i = 0; i < length; ++i) b = *next_of(mem, b, next_offset);
  uint64_t start_index = 0;
  while (a != b) {
    a = *next_of(mem, a, next_offset);
    b = *next_of(mem, b, next_offset);
    ++start_index;
  }
  return ChainLoop{length, start_index};
}

}  // namespace kdive
