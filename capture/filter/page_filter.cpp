#include "capture/filter/page_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "capture/filter/mem_map.hpp"
#include "capture/filter/page_rules.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_layout.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {
namespace {

// Struct pages read at once: 512 KiB of mem_map with 64-byte struct pages,
// whatever the caller's window (a capture kernel has little memory).
constexpr uint64_t kBatch = 8192;
// The largest compound page on x86_64 is a 1 GiB hugetlb page (PUD order 18):
// a tail further from its head than that has a damaged compound_head.
constexpr uint64_t kMaxCompoundPages = 1ull << 18;
// Levels that need struct page: cache, cache with private, user, free.
constexpr int kStructPageLevels = 2 | 4 | 8 | 16;

}  // namespace

class PageFilter::Impl {
 public:
  Impl(DumpSource& source, int level, std::string vmcoreinfo);
  void decide(uint64_t first, std::span<PageClass> out);

  DumpSource& source_;
  int level_;
  uint64_t max_pfn_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;  // PFNs [begin, end), sorted, merged
  PageClassCounts counts_;
  uint64_t unreadable_ = 0;
  std::vector<std::string> warnings_;

 private:
  void decide_batch(uint64_t first, std::span<PageClass> out, uint64_t begin, uint64_t end);
  // The class of the compound head at `head_pfn`, which lies before the window.
  PageClass head_before_window(uint64_t head_pfn);
  PageClass verdict_class(uint64_t pfn, const PageVerdict& v);

  VmcoreInfo info_;
  std::optional<KernelMemory> memory_;
  std::optional<MemMap> map_;
  std::optional<PageRules> rules_;
  uint64_t next_pfn_ = 0;    // windows come in increasing order from here
  uint64_t free_until_ = 0;  // a free block seen earlier covers PFNs below this
  uint64_t cached_head_ = ~0ull;
  PageClass cached_class_ = PageClass::Kept;
  std::vector<std::byte> buffer_;
  std::vector<bool> readable_;
};

PageFilter::Impl::Impl(DumpSource& source, int level, std::string vmcoreinfo) : source_(source), level_(level) {
  if (level < 0 || level > 31) throw FilterError(fmt::format("dump level {} is not in 0..31", level));
  const uint64_t page = source.page_size();
  for (const PhysRange& r : source.ranges()) {
    const uint64_t b = r.start.value() / page, e = (r.start.value() + r.size + page - 1) / page;
    if (e > b) ranges_.emplace_back(b, e);
  }
  std::sort(ranges_.begin(), ranges_.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& r : ranges_) {
    if (!merged.empty() && r.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  ranges_ = std::move(merged);
  max_pfn_ = ranges_.empty() ? 0 : ranges_.back().second;
  if (!(level & kStructPageLevels)) return;  // levels 0 and 1: no struct page at all

  const std::string& text = source.notes().vmcoreinfo.empty() ? vmcoreinfo : source.notes().vmcoreinfo;
  if (text.empty()) {
    throw FilterError(fmt::format(
        "{}: the dump has no VMCOREINFO, which dump level {} needs: give the kernel's vmlinux with -x VMLINUX, or use "
        "level 0 or 1",
        source.files().empty() ? std::string("source") : source.files().front(), level));
  }
  info_ = VmcoreInfo(text);
  try {
    memory_.emplace(source, layout_from_vmcoreinfo(info_, source.notes()));
  } catch (const Error& e) {
    throw FilterError(fmt::format("cannot read the kernel's page tables: {}", e.what()));
  }
  rules_.emplace(info_, level);
  map_.emplace(*memory_, info_, max_pfn_);
  warnings_ = rules_->notes();
  for (const auto& w : map_->warnings()) warnings_.push_back(w);
}

void PageFilter::Impl::decide(uint64_t first, std::span<PageClass> out) {
  if (first < next_pfn_) {
    throw std::logic_error(
        fmt::format("page filter: window at PFN {:#x} after one that ended at {:#x}", first, next_pfn_));
  }
  next_pfn_ = first + out.size();
  const uint64_t end = first + out.size();
  // Holes first: only PFNs inside the source's ranges have anything to keep.
  std::fill(out.begin(), out.end(), PageClass::Hole);
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::pair<uint64_t, uint64_t>(first, ~uint64_t{0}));
  if (it != ranges_.begin()) --it;
  for (; it != ranges_.end() && it->first < end; ++it) {
    const uint64_t b = std::max(first, it->first), e = std::min(end, it->second);
    if (b < e) std::fill(out.begin() + (b - first), out.begin() + (e - first), PageClass::Kept);
  }
  if (rules_) {
    uint64_t pfn = first;
    while (pfn < end) {
      if (out[pfn - first] == PageClass::Hole) {
        ++pfn;
        continue;
      }
      const uint64_t stop = std::min({end, map_->section_end(pfn), pfn + kBatch});
      decide_batch(first, out, pfn, stop);
      pfn = stop;
    }
  }
  for (PageClass c : out) ++counts_[c];
}

void PageFilter::Impl::decide_batch(uint64_t first, std::span<PageClass> out, uint64_t begin, uint64_t end) {
  const uint64_t size = map_->page_struct_size();
  if (!map_->has_struct_page(begin)) {
    // No struct page: nothing says the page may go, and a source that holds
    // it has its bytes (makedumpfile keeps these too). A section whose root
    // was unreadable is counted as damage.
    if (map_->section_unknown(begin)) {
      for (uint64_t p = begin; p < end; ++p) unreadable_ += out[p - first] != PageClass::Hole;
    }
    return;
  }
  // One struct page more than the batch when the section goes on: a compound
  // head at the batch's end may need its first tail (hugetlb before 6.9).
  const uint64_t count = end - begin + (end < map_->section_end(begin) ? 1 : 0);
  buffer_.resize(count * size);
  map_->read_run(begin, count, buffer_, readable_);
  for (uint64_t pfn = begin; pfn < end; ++pfn) {
    PageClass& c = out[pfn - first];
    if (c == PageClass::Hole) continue;
    if (pfn < free_until_) {
      c = PageClass::Free;
      continue;
    }
    const uint64_t i = pfn - begin;
    if (!readable_[i]) {
      ++unreadable_;
      continue;  // when in doubt, keep
    }
    std::span<const std::byte> bytes(buffer_.data() + i * size, size);
    const PageFields f = rules_->fields(bytes);
    if (rules_->is_tail(f)) {
      // A tail page follows its head (the head's flags describe the folio).
      auto head = map_->pfn_of(rules_->head(f), pfn);
      if (!head || *head >= pfn || pfn - *head >= kMaxCompoundPages) {
        ++unreadable_;  // a damaged compound_head: keep
        continue;
      }
      c = *head >= first ? out[*head - first] : head_before_window(*head);
      continue;
    }
    std::optional<std::span<const std::byte>> tail;
    std::vector<std::byte> single;
    if (rules_->wants_first_tail(f)) {
      if (i + 1 < count && readable_[i + 1]) {
        tail = std::span<const std::byte>(buffer_.data() + (i + 1) * size, size);
      } else if (i + 1 >= count) {
        std::vector<bool> ok;
        single.resize(size);
        map_->read_run(pfn + 1, 1, single, ok);
        if (ok[0]) tail = std::span<const std::byte>(single);
      }
    }
    c = verdict_class(pfn, rules_->classify(f, tail));
    cached_head_ = pfn;
    cached_class_ = c;
  }
}

PageClass PageFilter::Impl::verdict_class(uint64_t pfn, const PageVerdict& v) {
  if (v.damaged) {
    ++unreadable_;
    return PageClass::Kept;
  }
  if (v.page_class == PageClass::Free) {
    // The buddy allocator aligns a block of 1 << order pages to its size; a
    // block that is not is a damaged struct page.
    if (pfn % v.pages != 0) {
      ++unreadable_;
      return PageClass::Kept;
    }
    free_until_ = pfn + v.pages;
  }
  return v.page_class;
}

PageClass PageFilter::Impl::head_before_window(uint64_t head_pfn) {
  if (head_pfn == cached_head_) return cached_class_;
  const uint64_t size = map_->page_struct_size();
  std::vector<std::byte> two(2 * size);
  std::vector<bool> ok;
  const uint64_t n = head_pfn + 1 < map_->section_end(head_pfn) ? 2 : 1;
  map_->read_run(head_pfn, n, std::span(two).first(n * size), ok);
  PageClass c = PageClass::Kept;
  if (ok[0]) {
    const PageFields f = rules_->fields(std::span(two).first(size));
    std::optional<std::span<const std::byte>> tail;
    if (n == 2 && ok[1]) tail = std::span<const std::byte>(two).subspan(size, size);
    // A free block never has tails: only cache, user and the always-excluded
    // classes can reach here, so the free carry is left alone.
    PageVerdict v = rules_->is_tail(f) ? PageVerdict{.damaged = true} : rules_->classify(f, tail);
    if (v.damaged || v.page_class == PageClass::Free) {
      ++unreadable_;
    } else {
      c = v.page_class;
    }
  } else {
    ++unreadable_;
  }
  cached_head_ = head_pfn;
  cached_class_ = c;
  return c;
}

PageFilter::PageFilter(DumpSource& source, int dump_level, std::string vmcoreinfo)
    : impl_(std::make_unique<Impl>(source, dump_level, std::move(vmcoreinfo))) {}
PageFilter::~PageFilter() = default;

int PageFilter::dump_level() const { return impl_->level_; }
uint64_t PageFilter::max_pfn() const { return impl_->max_pfn_; }
void PageFilter::decide(uint64_t first_pfn, std::span<PageClass> out) { impl_->decide(first_pfn, out); }

void PageFilter::count_zero(uint64_t pages) {
  pages = std::min(pages, impl_->counts_[PageClass::Kept]);
  impl_->counts_[PageClass::Kept] -= pages;
  impl_->counts_[PageClass::Zero] += pages;
}

const PageClassCounts& PageFilter::counts() const { return impl_->counts_; }
uint64_t PageFilter::unreadable_pages() const { return impl_->unreadable_; }
std::vector<std::string> PageFilter::warnings() const { return impl_->warnings_; }

}  // namespace kdive::capture
