// The page filter over a whole real dump, the way kdive-dump drives it: PFN
// windows in increasing order, far smaller than memory, as in a capture
// kernel, so that the carries across window edges (free blocks, compound
// pages) are exercised on real data too.
//
//   PageFilter f(*dump, 31);
//   std::vector<PageClass> all = decide_all(f);   // one class per PFN
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "capture/filter/page_filter.hpp"

namespace kdive::test {

inline std::vector<capture::PageClass> decide_all(capture::PageFilter& f, uint64_t window = 10000) {
  std::vector<capture::PageClass> all(f.max_pfn());
  for (uint64_t pfn = 0; pfn < f.max_pfn(); pfn += window) {
    f.decide(pfn, std::span(all).subspan(pfn, std::min<uint64_t>(window, f.max_pfn() - pfn)));
  }
  return all;
}

}  // namespace kdive::test
