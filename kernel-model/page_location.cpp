#include "kernel-model/page_location.hpp"

namespace kdive {

PageLocation locate_page(const Translation& t, const std::vector<SwapDevice>& devices) {
  PageLocation at;
  at.physical = t.phys;
  if (!t.levels.empty()) at.entry = t.levels.back().entry;
  if (t.phys) return at;
  at.fault = t.fault;
  if (t.levels.empty()) return at;
  const PageTableEntry& last = t.levels.back();
  if (last.level != "PTE" && last.level != "PMD") return at;
  at.swap = decode_swap_pte(last.entry);
  if (!at.swap) return at;
  for (const SwapDevice& d : devices) {
    if (d.type == at.swap->type) at.swap_device = d.path;
  }
  return at;
}

}  // namespace kdive
