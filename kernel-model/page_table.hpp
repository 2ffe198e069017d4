// x86_64 page-table walks, 4-level and 5-level (LA57), with 1 GiB and 2 MiB pages.
// A walk records every level it visited so `vtop` can print them like crash.
//
//   PageTableWalker walker(dump, 4, sme_mask);
//   Translation t = walker.walk(PhysAddr{cr3 & ~0xfff}, VirtAddr{0xffffffff81000000});
//   if (t.phys) ...  else t.fault;   // "PMD not present"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/dump_source.hpp"

namespace kdive {

struct PageTableEntry {
  std::string_view level;  // "PGD", "P4D", "PUD", "PMD", "PTE"
  PhysAddr entry_address;  // where the entry lives
  uint64_t entry;          // its value
};

struct Translation {
  std::vector<PageTableEntry> levels;
  std::optional<PhysAddr> phys;
  uint64_t page_size = 4096;  // 4 KiB, 2 MiB or 1 GiB
  std::string fault;          // why phys is empty
};

// Physical address bits of an entry (bits 12..51), before the SME mask.
constexpr uint64_t kPteAddressMask = 0x000ffffffffff000ull;
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteHuge = 1ull << 7;  // PSE in a PUD or PMD

class PageTableWalker {
 public:
  PageTableWalker(DumpSource& dump, int levels, uint64_t sme_mask = 0)
      : dump_(dump), levels_(levels), sme_mask_(sme_mask) {}

  int levels() const { return levels_; }
  // Canonical form: the top bits repeat bit 47 (4-level) or bit 56 (5-level).
  bool canonical(VirtAddr v) const;
  Translation walk(PhysAddr top, VirtAddr v) const;
  // Reads one 8-byte entry; nullopt when its page is not in the dump.
  std::optional<uint64_t> read_entry(PhysAddr at) const;
  uint64_t entry_address(uint64_t entry) const { return entry & kPteAddressMask & ~sme_mask_; }

 private:
  DumpSource& dump_;
  int levels_;
  uint64_t sme_mask_;
};

}  // namespace kdive
