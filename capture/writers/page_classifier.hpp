// PageClassifier: what the copier asks, window by window, about which page
// frames to keep. In kdive-dump it is the page filter (capture/filter/
// page_filter.hpp, an adapter in capture/dump/); SourceRangeClassifier keeps
// every frame the source holds — all dump levels 0 and 1 need, and what tests
// use; tests add their own to exclude chosen frames.
//
//   SourceRangeClassifier keep_all(*source);
//   std::vector<PageClass> out(1024);
//   keep_all.decide(0, out);           // Kept inside source->ranges(), else Hole
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "capture/filter/page_class.hpp"
#include "readers/dump_source.hpp"

namespace kdive::capture {

class PageClassifier {
 public:
  virtual ~PageClassifier() = default;
  // One past the highest page frame.
  virtual uint64_t max_pfn() const = 0;
  // Classifies [first_pfn, first_pfn + out.size()); windows come in order.
  virtual void decide(uint64_t first_pfn, std::span<PageClass> out) = 0;
  // Kept pages the copier found to be zeros and excluded (dump level bit 1).
  virtual void count_zero(uint64_t pages) { (void)pages; }
};

// A fresh classifier per pass over the PFN space (the copier makes two: one to
// count kept pages, one to copy them).
using ClassifierFactory = std::function<std::unique_ptr<PageClassifier>()>;

class SourceRangeClassifier : public PageClassifier {
 public:
  explicit SourceRangeClassifier(const DumpSource& source);
  uint64_t max_pfn() const override { return max_pfn_; }
  void decide(uint64_t first_pfn, std::span<PageClass> out) override;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> pfn_ranges_;  // sorted [first, end)
  uint64_t max_pfn_ = 0;
};

}  // namespace kdive::capture
