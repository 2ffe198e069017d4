// Where a user page is, from the walk through its process's page table: in
// memory (a physical address), on a swap device (the swap entry its
// non-present PTE holds), or nowhere (never touched, or its table is not
// there). What `vm -p` prints per page and `vtop` for a user address.
//
//   PageLocation at = locate_page(space.translate(v), swap_devices);
//   if (at.swap) at.swap->type, at.swap->offset, at.swap_device;   // "/dev/vda"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/page_table.hpp"
#include "kernel-model/swap.hpp"

namespace kdive {

struct PageLocation {
  std::optional<PhysAddr> physical;
  std::optional<SwapEntry> swap;
  std::string swap_device;  // the device of swap->type; "" when swap_info has no such device
  uint64_t entry = 0;       // the last page-table entry visited (the raw PTE of a swapped page)
  std::string fault;        // why the page is neither in memory nor on swap
};

// A swap entry is the non-present last entry of a walk that reached a PTE or
// PMD (a PMD holds one while a huge page migrates).
PageLocation locate_page(const Translation& t, const std::vector<SwapDevice>& devices);

}  // namespace kdive
