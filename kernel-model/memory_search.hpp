// MemorySearch: find a value or a string in ranges of memory — physical
// memory, kernel virtual memory or a process's user space — streaming it page
// by page. Virtual ranges are walked through their page table a table page at
// a time (never one translation per word), so the unmapped parts of a 32 TiB
// vmalloc region cost nothing; physical ranges come from the dump's own list
// of ranges. Pages the dump does not hold (excluded, zero-filled, missing) are
// skipped and counted, never reported one by one. The caller's `on_hit` may
// throw (an interrupt) to stop the search; so may `interrupted`, checked
// between pages.
//
//   SearchPattern p = SearchPattern::value(task_address, 8);      // or ::text("KDIVE")
//   SearchRange r = SearchRange::virtual_range(kernel_pgd, start, end);
//   SearchStats s = search_memory(kernel.memory(), {r}, p,
//       [](const SearchHit& h) { ... h.address, h.value ... }, throw_if_interrupted);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/kernel_memory.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// What to look for: one or more values of `width` bytes (1, 2, 4 or 8) at
// addresses aligned to the width, compared after clearing the `mask` bits on
// both sides; or byte strings at any address.
struct SearchPattern {
  std::vector<uint64_t> values;
  size_t width = 8;
  uint64_t mask = 0;               // bits ignored in the comparison
  std::vector<std::string> texts;  // non-empty: a string search (each non-empty)

  static SearchPattern value(uint64_t v, size_t width = 8, uint64_t mask = 0) { return {{v}, width, mask, {}}; }
  static SearchPattern string(std::string s) { return {{}, 1, 0, {std::move(s)}}; }
  bool is_text() const { return !texts.empty(); }
};

// A half-open range [start, end) of addresses to search. Linear: address A
// is physical address A - offset (physical memory itself with offset 0, the
// direct map with page_offset_base), walked over the dump's physical ranges.
// Virtual: through the page table whose top level is at `page_table`.
struct SearchRange {
  enum class Kind { Linear, Virtual } kind;
  uint64_t start;
  uint64_t end;  // exclusive; 0 means the top of the address space (2^64)
  PhysAddr page_table;
  uint64_t offset = 0;

  static SearchRange physical(uint64_t start, uint64_t end) { return {Kind::Linear, start, end, PhysAddr{}, 0}; }
  static SearchRange linear(uint64_t start, uint64_t end, uint64_t offset) {
    return {Kind::Linear, start, end, PhysAddr{}, offset};
  }
  static SearchRange virtual_range(PhysAddr page_table, uint64_t start, uint64_t end) {
    return {Kind::Virtual, start, end, page_table, 0};
  }
};

struct SearchHit {
  uint64_t address;        // in the range's own space (physical or virtual)
  uint64_t value;          // the word found (value searches), 0 for strings
  size_t value_index = 0;  // which of the pattern's values (or texts) matched
};

struct SearchStats {
  uint64_t pages_searched = 0;
  uint64_t pages_skipped = 0;  // mapped but not in the dump (excluded, zero, missing)
  uint64_t hits = 0;
};

// One mapped piece of a virtual range: `size` bytes at `virt` backed by
// physical memory at `phys` (a 4 KiB, 2 MiB or 1 GiB page, clipped to the range).
struct MappedPiece {
  uint64_t virt;
  PhysAddr phys;
  uint64_t size;
};

// Calls `piece` for every present mapping in [start, end) of the page table at
// `top`, in address order, reading each table page once. Tables the dump does
// not hold are skipped.
void for_each_mapping(const KernelMemory& memory, PhysAddr top, uint64_t start, uint64_t end,
                      const std::function<void(const MappedPiece&)>& piece);

SearchStats search_memory(const KernelMemory& memory, const std::vector<SearchRange>& ranges,
                          const SearchPattern& pattern, const std::function<void(const SearchHit&)>& on_hit,
                          const std::function<void()>& interrupted = {});

// The kernel-virtual regions of x86_64 that `search -k` covers, in address
// order: the direct map (over the dump's physical ranges), vmalloc, the kernel
// image and the modules area. Without vmalloc for -K; without the unity-mapped
// regions (the direct map and the kernel image) for -V.
struct KernelRegions {
  bool vmalloc = true;
  bool direct_map = true;  // and the kernel image mapping
};
std::vector<SearchRange> kernel_search_ranges(const KernelMemory& memory, KernelRegions regions);

// Clips ranges to [start, end) (end 0: no upper limit); drops those left empty.
std::vector<SearchRange> clip_ranges(std::vector<SearchRange> ranges, uint64_t start, uint64_t end);

}  // namespace kdive
