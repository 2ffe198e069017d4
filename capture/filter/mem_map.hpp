// MemMap: where the struct page of each page frame lives, and reading runs of
// them — from VMCOREINFO alone (no vmlinux): SYMBOL(mem_section),
// LENGTH(mem_section), SIZE(mem_section), OFFSET(mem_section.section_mem_map),
// NUMBER(SECTION_SIZE_BITS) and SIZE(page), with kernel virtual addresses
// translated through the kernel's own page tables (KernelMemory over a layout
// from VMCOREINFO).
//
//   MemMap map(memory, info, max_pfn);          // throws FilterError naming a missing key
//   std::vector<std::byte> buf(n * map.page_struct_size());
//   std::vector<bool> ok;
//   map.read_run(pfn, n, buf, ok);              // ok[i]: pfn + i's struct page was read
//   map.pfn_of(head_address, pfn);              // compound_head pointer -> pfn
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernel-model/kernel_memory.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {

class MemMap {
 public:
  // Reads the section table for PFNs [0, max_pfn). Throws FilterError when a
  // VMCOREINFO key it needs is missing; a root of the table that cannot be read
  // costs only its sections (listed in warnings()).
  MemMap(const KernelMemory& memory, const VmcoreInfo& info, uint64_t max_pfn);

  uint64_t page_struct_size() const { return page_size_; }
  uint64_t pages_per_section() const { return pages_per_section_; }
  // The first PFN after `pfn`'s section.
  uint64_t section_end(uint64_t pfn) const { return (pfn / pages_per_section_ + 1) * pages_per_section_; }
  // Whether `pfn` has a struct page (its section is present with a mem_map).
  bool has_struct_page(uint64_t pfn) const;
  // Whether the section table could not tell (its root was unreadable).
  bool section_unknown(uint64_t pfn) const;

  // Reads the struct pages of [first_pfn, first_pfn + count) into `out`
  // (count * page_struct_size() bytes), one translation per mapped chunk of
  // the mem_map (2 MiB pages in the vmemmap) and one source read per page of
  // it. readable[i] tells whether first_pfn + i's bytes are valid. All the
  // PFNs must be in one section.
  void read_run(uint64_t first_pfn, uint64_t count, std::span<std::byte> out, std::vector<bool>& readable) const;

  // The PFN whose struct page is at `page` (a compound_head pointer), judged
  // against the section of `near_pfn`; nullopt when it is not a struct page.
  std::optional<uint64_t> pfn_of(VirtAddr page, uint64_t near_pfn) const;

  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  // The section's coded mem_map (mem_map minus its first PFN's struct pages):
  // coded + pfn * SIZE(page) is pfn's struct page. 0 when absent.
  uint64_t coded(uint64_t pfn) const;

  const KernelMemory& memory_;
  uint64_t page_size_ = 0;  // SIZE(page)
  uint64_t pages_per_section_ = 0;
  std::vector<uint64_t> coded_;  // per section; 0: no mem_map
  std::vector<bool> unknown_;    // per section: its root could not be read
  std::vector<std::string> warnings_;
};

}  // namespace kdive::capture
