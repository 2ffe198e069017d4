#include "capture/dump/filter_classifier.hpp"

#include <fmt/format.h>

#ifdef KDIVE_HAVE_PAGE_FILTER
#include "capture/filter/page_filter.hpp"
#endif

namespace kdive::capture {
namespace {

#ifdef KDIVE_HAVE_PAGE_FILTER
class FilterClassifier : public PageClassifier {
 public:
  FilterClassifier(DumpSource& source, int level) : filter_(source, level) {}
  uint64_t max_pfn() const override { return filter_.max_pfn(); }
  void decide(uint64_t first_pfn, std::span<PageClass> out) override { filter_.decide(first_pfn, out); }
  void count_zero(uint64_t pages) override { filter_.count_zero(pages); }

 private:
  PageFilter filter_;
};
#endif

}  // namespace

ClassifierFactory filter_classifier(DumpSource& source, int dump_level) {
#ifdef KDIVE_HAVE_PAGE_FILTER
  FilterClassifier check(source, dump_level);  // FilterError now, before any output exists
  return [&source, dump_level] { return std::make_unique<FilterClassifier>(source, dump_level); };
#else
  // Levels 0 and 1 keep every page frame the source holds (zero pages are the
  // copier's call), which needs no struct page.
  if ((dump_level & ~1) != 0) {
    throw std::runtime_error(
        fmt::format("dump level {} needs the page filter (struct page classes), which this build lacks; "
                    "use -d 0 or -d 1",
                    dump_level));
  }
  return [&source] { return std::make_unique<SourceRangeClassifier>(source); };
#endif
}

}  // namespace kdive::capture
