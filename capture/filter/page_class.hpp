// PageClass: what the filter decided about one page frame, and why. The dump
// writers keep the pages marked Kept and count the others per class for the
// summary ("excluded: 1234 free pages, ...").
//
//   std::vector<PageClass> out(n);
//   filter.decide(first_pfn, out);            // capture/filter/page_filter.hpp
//   if (out[i] == PageClass::Kept) write(first_pfn + i);
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace kdive::capture {

enum class PageClass : uint8_t {
  Kept,          // written to the dump
  Hole,          // no RAM (or not in the source dump): never written, not counted as excluded
  Zero,          // dump level bit 1: all-zero content (decided by the writer, which reads it)
  Cache,         // bit 2 (or 4): page cache without private data
  CachePrivate,  // bit 4: page cache with private data (buffer heads, ...)
  User,          // bit 8: anonymous user memory
  Free,          // bit 16: free pages in the buddy allocator
  Hwpoison,      // always excluded: reading it could machine-check
  Offline,       // always excluded: memory the kernel gave away (ballooned, offlined)
};
inline constexpr size_t kPageClassCount = 9;

std::string_view to_string(PageClass c);

// Pages per class, indexed by PageClass.
struct PageClassCounts {
  std::array<uint64_t, kPageClassCount> pages{};
  uint64_t& operator[](PageClass c) { return pages[static_cast<size_t>(c)]; }
  uint64_t operator[](PageClass c) const { return pages[static_cast<size_t>(c)]; }
};

// The dump level bits (makedumpfile -d): which classes a level excludes.
bool level_excludes(int dump_level, PageClass c);

}  // namespace kdive::capture
