// SyntheticMemory: a KernelMemory over a FakeDump whose pages are written at
// direct-map addresses, for unit tests of the kernel-model walkers (lists,
// rbtrees, XArrays, maple trees) that read kernel pointers. Addresses handed
// out are direct-map virtual addresses; a page never written reads as a Fault.
//
//   SyntheticMemory m;
//   VirtAddr head = m.addr(0x1000);
//   m.put64(head, head.value());          // an empty list_head
//   list_entries(m.memory(), head, 0, false);
#pragma once

#include <cstdint>

#include "kernel-model/kernel_memory.hpp"
#include "tests/unit/support/fake_dump.hpp"

namespace kdive::test {

class SyntheticMemory {
 public:
  static constexpr uint64_t kDirectMap = 0xffff888000000000ull;

  SyntheticMemory() : memory_(dump_, layout()) {}

  // The direct-map address of physical offset `phys`.
  static VirtAddr addr(uint64_t phys) { return VirtAddr{kDirectMap + phys}; }

  void put64(VirtAddr at, uint64_t value) { dump_.put(PhysAddr{at.value() - kDirectMap}, value); }
  void put8(VirtAddr at, uint8_t value) { dump_.put(PhysAddr{at.value() - kDirectMap}, value); }

  const KernelMemory& memory() const { return memory_; }

 private:
  static KernelLayout layout() {
    KernelLayout l;
    l.levels = 4;
    l.page_offset = VirtAddr{kDirectMap};
    l.source = "synthetic";
    return l;
  }

  FakeDump dump_;
  KernelMemory memory_;
};

}  // namespace kdive::test
