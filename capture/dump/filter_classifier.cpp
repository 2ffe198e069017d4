#include "capture/dump/filter_classifier.hpp"

#include "capture/filter/page_filter.hpp"

namespace kdive::capture {
namespace {

class FilterClassifier : public PageClassifier {
 public:
  FilterClassifier(DumpSource& source, int level, const std::string& vmcoreinfo) : filter_(source, level, vmcoreinfo) {}
  uint64_t max_pfn() const override { return filter_.max_pfn(); }
  void decide(uint64_t first_pfn, std::span<PageClass> out) override { filter_.decide(first_pfn, out); }
  void count_zero(uint64_t pages) override { filter_.count_zero(pages); }

 private:
  PageFilter filter_;
};

}  // namespace

ClassifierFactory filter_classifier(DumpSource& source, int dump_level, std::string vmcoreinfo) {
  FilterClassifier check(source, dump_level, vmcoreinfo);  // FilterError now, before any output exists
  return [&source, dump_level, text = std::move(vmcoreinfo)] {
    return std::make_unique<FilterClassifier>(source, dump_level, text);
  };
}

}  // namespace kdive::capture
