#include "capture/writers/page_classifier.hpp"

#include <algorithm>

namespace kdive::capture {

SourceRangeClassifier::SourceRangeClassifier(const DumpSource& source) {
  uint64_t ps = source.page_size();
  for (const PhysRange& r : source.ranges()) {
    if (r.size == 0) continue;
    // A range that starts or ends inside a page still makes the page worth keeping.
    uint64_t first = r.start.value() / ps;
    uint64_t end = (r.start.value() + r.size + ps - 1) / ps;
    pfn_ranges_.emplace_back(first, end);
  }
  std::sort(pfn_ranges_.begin(), pfn_ranges_.end());
  for (const auto& r : pfn_ranges_) max_pfn_ = std::max(max_pfn_, r.second);
}

void SourceRangeClassifier::decide(uint64_t first_pfn, std::span<PageClass> out) {
  std::fill(out.begin(), out.end(), PageClass::Hole);
  uint64_t end = first_pfn + out.size();
  auto it = std::upper_bound(pfn_ranges_.begin(), pfn_ranges_.end(), std::pair{first_pfn, UINT64_MAX});
  if (it != pfn_ranges_.begin()) --it;
  for (; it != pfn_ranges_.end() && it->first < end; ++it) {
    uint64_t a = std::max(it->first, first_pfn), b = std::min(it->second, end);
    for (uint64_t p = a; p < b; ++p) out[p - first_pfn] = PageClass::Kept;
  }
}

}  // namespace kdive::capture
