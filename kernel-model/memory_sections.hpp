// SPARSEMEM's section table and the nodes' page ranges: what kmem -n shows.
// mem_section[] (two levels with CONFIG_SPARSEMEM_EXTREME: an array of
// pointers to pages of struct mem_section) holds one entry per section of
// 2^SECTION_SIZE_BITS bytes; its section_mem_map word is the "coded" mem_map
// (the mem_map minus the section's first pfn, so coded + pfn is the pfn's
// struct page) with flag bits in its low bits.
//
//   MemorySections s = read_memory_sections(kernel);
//   for (const MemorySection& m : s.sections) m.nr, m.mem_map, s.flag_names(m.flags);
//   std::vector<NodeSpan> nodes = read_node_spans(kernel);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct MemorySection {
  uint64_t nr = 0;         // the section number
  VirtAddr address;        // its struct mem_section
  uint64_t coded_mem_map;  // section_mem_map without its flag bits
  VirtAddr mem_map;        // the struct page of its first pfn (coded + start_pfn pages)
  uint64_t flags = 0;      // section_mem_map's flag bits
  uint64_t start_pfn = 0;
};

// One flag bit of section_mem_map.
struct SectionFlag {
  int bit = 0;
  std::string name;  // "SECTION_MARKED_PRESENT", "SECTION_HAS_MEM_MAP", ...
};

struct MemorySections {
  int section_size_bits = 0;
  uint64_t pages_per_section = 0;
  uint64_t section_count = 0;      // NR_MEM_SECTIONS: how many the table can hold
  std::vector<SectionFlag> flags;  // the kernel's flag bits, lowest first
  // Every section whose section_mem_map is not zero (a present or once-present
  // section), in section order.
  std::vector<MemorySection> sections;
  // Roots (pages of the table) that could not be read; their sections are missing.
  std::vector<WalkBreak> breaks;

  bool present(const MemorySection& s) const { return (s.flags & 1) != 0; }
  // Whether a section of the table covers this pfn (it has a struct page).
  bool holds_pfn(uint64_t pfn) const;
};

// Throws Error(Lookup) when the kernel has no mem_section (not SPARSEMEM).
MemorySections read_memory_sections(const Kernel& k);

// A node's pglist_data and the page range it spans.
struct NodeSpan {
  int node = 0;
  VirtAddr pgdat;
  uint64_t start_pfn = 0;
  uint64_t spanned_pages = 0;
  uint64_t present_pages = 0;
  std::vector<VirtAddr> zones;  // &pgdat->node_zones[i], every zone index
};

std::vector<NodeSpan> read_node_spans(const Kernel& k);

}  // namespace kdive
