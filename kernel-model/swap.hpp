// Swap: the swap devices the kernel has (swap_info[], nr_swapfiles) and the
// x86_64 swap entries that page-table entries of swapped-out pages hold.
//
//   std::vector<SwapDevice> devs = read_swap_devices(kernel);
//   devs[0].path;                   // "/dev/vda"
//   devs[0].pages, devs[0].inuse_pages, devs[0].priority, devs[0].partition
//   if (auto e = decode_swap_pte(0x7fffffffffffc02)) e->type, e->offset;  // 0, 1
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

// A swap entry stored in a non-present x86_64 page-table entry.
//
// arch/x86/include/asm/pgtable_64.h since the L1TF fixes merged for 4.19
// ("x86/speculation/l1tf: Change order of offset/type in swap entry",
// "x86/speculation/l1tf: Protect swap entries against L1TF"), the same in
// 5.10, 6.1 and 6.12:
//   #define SWP_TYPE_BITS        5
//   #define SWP_OFFSET_FIRST_BIT (_PAGE_BIT_PROTNONE + 1)            // 9
//   #define SWP_OFFSET_SHIFT     (SWP_OFFSET_FIRST_BIT+SWP_TYPE_BITS) // 14
//   #define __swp_type(x)   ((x).val >> (64 - SWP_TYPE_BITS))
//   #define __swp_offset(x) (~(x).val << SWP_TYPE_BITS >> SWP_OFFSET_SHIFT)
// The type is in bits 59-63 and the offset, inverted, in bits 9-58. Bits 1-3
// are software flags (soft-dirty, uffd-wp and, from 6.0, exclusive) that are
// not part of the entry.
struct SwapEntry {
  uint32_t type;    // index in swap_info[]
  uint64_t offset;  // page slot on that device
};
// A PTE is a swap entry when it is not empty and neither present nor
// PROT_NONE (_PAGE_PRESENT bit 0, _PAGE_PROTNONE bit 8: pte_present() tests
// both). Not every such entry names a swap device: migration, hwpoison and
// device entries use types at and above MAX_SWAPFILES.
std::optional<SwapEntry> decode_swap_pte(uint64_t pte);

struct SwapDevice {
  uint32_t type = 0;       // its index in swap_info[]
  VirtAddr info;           // the struct swap_info_struct
  std::string path;        // swap_file's path
  bool partition = false;  // a block device (else a file)
  uint64_t pages = 0;      // usable pages
  uint64_t inuse_pages = 0;
  int64_t priority = 0;
  uint64_t flags = 0;  // SWP_* flags
  std::string error;   // set when this device could not be read
};

// Every swap_info[] slot below nr_swapfiles that is in use (SWP_USED; a
// swapoff'd slot stays allocated). Throws Error(Lookup) when the kernel has
// no swap (CONFIG_SWAP off).
std::vector<SwapDevice> read_swap_devices(const Kernel& k);

}  // namespace kdive
