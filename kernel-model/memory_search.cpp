#include "kernel-model/memory_search.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace kdive {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kEntriesPerTable = 512;
constexpr uint64_t kTop = std::numeric_limits<uint64_t>::max();

// x86_64 regions (Documentation/arch/x86/x86_64/mm.rst): vmalloc is 32 TiB
// with 4-level paging and 12800 TiB with 5-level; the modules area runs from
// the end of the kernel image mapping (MODULES_VADDR = __START_KERNEL_map +
// KERNEL_IMAGE_SIZE) to MODULES_END, 0xffffffffff000000 since 4.19 (f5a40711fa58:
// the fixmap moved up).
constexpr uint64_t kVmallocSize4 = 32ull << 40;
constexpr uint64_t kVmallocSize5 = 12800ull << 40;
constexpr uint64_t kModulesEnd = 0xffffffffff000000ull;

// Inclusive last address of a range whose exclusive end 0 means 2^64.
uint64_t last_of(uint64_t end) { return end == 0 ? kTop : end - 1; }

// Compares the words or the string of a pattern against page after page,
// carrying the tail of a string that may continue on the next page.
class Matcher {
 public:
  Matcher(const SearchPattern& p, const std::function<void(const SearchHit&)>& on_hit, SearchStats& stats)
      : p_(p), on_hit_(on_hit), stats_(stats) {}

  // `bytes` are the contents at virtual (or physical) address `at`.
  void scan(uint64_t at, std::span<const std::byte> bytes) {
    if (p_.is_text()) return scan_text(at, bytes);
    const size_t w = p_.width;
    const uint64_t keep = ~p_.mask & (w == 8 ? kTop : ((1ull << (8 * w)) - 1));
    // Values sit at addresses aligned to their width.
    size_t first = static_cast<size_t>((w - at % w) % w);
    for (size_t off = first; off + w <= bytes.size(); off += w) {
      uint64_t word = 0;
      std::memcpy(&word, bytes.data() + off, w);
      for (size_t i = 0; i < p_.values.size(); ++i) {
        if ((word & keep) == (p_.values[i] & keep)) {
          ++stats_.hits;
          on_hit_({at + off, word, i});
          break;
        }
      }
    }
  }
  // A page that could not be read breaks any string running across it.
  void gap() { tail_.clear(); }

 private:
  void scan_text(uint64_t at, std::span<const std::byte> bytes) {
    std::string data;
    uint64_t base = at;
    if (!tail_.empty() && tail_end_ == at) {
      data = tail_;
      base = at - tail_.size();
    }
    data.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    // The carried tail is shorter than the longest text: a shorter one wholly
    // inside it was reported with the page before.
    const size_t carried = data.size() - bytes.size();
    std::vector<SearchHit> hits;
    size_t longest = 0;
    for (size_t i = 0; i < p_.texts.size(); ++i) {
      const std::string& text = p_.texts[i];
      longest = std::max(longest, text.size());
      for (size_t pos = data.find(text); pos != std::string::npos; pos = data.find(text, pos + 1)) {
        if (pos + text.size() > carried) hits.push_back({base + pos, 0, i});
      }
    }
    std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) { return a.address < b.address; });
    for (const SearchHit& h : hits) {
      ++stats_.hits;
      on_hit_(h);
    }
    const size_t keep = std::min(data.size(), longest - 1);
    tail_ = data.substr(data.size() - keep);
    tail_end_ = at + bytes.size();
  }

  const SearchPattern& p_;
  const std::function<void(const SearchHit&)>& on_hit_;
  SearchStats& stats_;
  std::string tail_;
  uint64_t tail_end_ = 0;
};

struct TableWalk {
  const KernelMemory& memory;
  int levels;
  uint64_t first, last;
  const std::function<void(const MappedPiece&)>& piece;

  // Level 1 is the PTE table, levels (4 or 5) the top.
  void walk(PhysAddr table, int level, uint64_t base) const {
    std::array<uint64_t, kEntriesPerTable> entries{};
    PageState s = memory.dump().read_phys(table, {reinterpret_cast<std::byte*>(entries.data()), kPage});
    if (s != PageState::Present) return;  // a zero table maps nothing; a missing one cannot be followed
    const int shift = 12 + 9 * (level - 1);
    const uint64_t span = 1ull << shift;
    const int top_bit = 12 + 9 * levels - 1;
    for (size_t i = 0; i < kEntriesPerTable; ++i) {
      uint64_t lo = base + i * span;
      // The upper half of the top table holds the kernel's sign-extended addresses.
      if (level == levels && ((lo >> top_bit) & 1)) lo |= ~((1ull << (top_bit + 1)) - 1);
      const uint64_t hi = lo + (span - 1);
      if (hi < first || lo > last) continue;
      const uint64_t e = entries[i];
      if (!(e & kPtePresent)) continue;
      const PhysAddr next{memory.walker().entry_address(e)};
      if (level == 1 || ((level == 2 || level == 3) && (e & kPteHuge))) {
        // A huge page's entry keeps its PAT bit at bit 12: clear the offset bits.
        const uint64_t phys = next.value() & ~(span - 1);
        const uint64_t from = std::max(lo, first), to = std::min(hi, last);
        piece({from, PhysAddr{phys + (from - lo)}, to - from + 1});
      } else {
        walk(next, level - 1, lo);
      }
    }
  }
};

}  // namespace

void for_each_mapping(const KernelMemory& memory, PhysAddr top, uint64_t start, uint64_t end,
                      const std::function<void(const MappedPiece&)>& piece) {
  const int levels = memory.layout().levels;
  TableWalk walk{memory, levels, start, last_of(end), piece};
  if (walk.first > walk.last) return;
  walk.walk(top, levels, 0);
}

SearchStats search_memory(const KernelMemory& memory, const std::vector<SearchRange>& ranges,
                          const SearchPattern& pattern, const std::function<void(const SearchHit&)>& on_hit,
                          const std::function<void()>& interrupted) {
  SearchStats stats;
  Matcher matcher(pattern, on_hit, stats);
  std::array<std::byte, kPage> page{};
  DumpSource& dump = memory.dump();
  // Searches [virt, virt + size) backed by physical memory from `phys`, page by page.
  auto search_piece = [&](uint64_t virt, uint64_t phys, uint64_t size) {
    while (size > 0) {
      if (interrupted) interrupted();
      const uint64_t in_page = phys % kPage;
      const uint64_t n = std::min(size, kPage - in_page);
      PageState s = dump.read_phys(PhysAddr{phys - in_page}, page);
      if (s == PageState::Present) {
        ++stats.pages_searched;
        matcher.scan(virt, std::span<const std::byte>(page).subspan(in_page, n));
      } else {
        ++stats.pages_skipped;
        matcher.gap();
      }
      virt += n;
      phys += n;
      size -= n;
    }
  };

  std::vector<PhysRange> dumped = dump.ranges();
  std::sort(dumped.begin(), dumped.end(), [](const PhysRange& a, const PhysRange& b) { return a.start < b.start; });
  for (const SearchRange& r : ranges) {
    const uint64_t first = r.start, last = last_of(r.end);
    if (first > last) continue;
    matcher.gap();
    if (r.kind == SearchRange::Kind::Virtual) {
      for_each_mapping(memory, r.page_table, r.start, r.end,
                       [&](const MappedPiece& m) { search_piece(m.virt, m.phys.value(), m.size); });
      continue;
    }
    for (const PhysRange& d : dumped) {
      if (d.size == 0) continue;
      // The dumped range as addresses of this range's space.
      const uint64_t lo = d.start.value() + r.offset, hi = lo + (d.size - 1);
      if (hi < first || lo > last) continue;
      const uint64_t from = std::max(lo, first), to = std::min(hi, last);
      search_piece(from, from - r.offset, to - from + 1);
    }
  }
  return stats;
}

std::vector<SearchRange> kernel_search_ranges(const KernelMemory& memory, KernelRegions regions) {
  const KernelLayout& l = memory.layout();
  std::vector<SearchRange> out;
  if (regions.direct_map) {
    // The direct map ends where the next region begins (KASLR may start it early).
    uint64_t end = l.page_offset.value() + (l.levels == 5 ? (32ull << 50) : (64ull << 40));
    for (VirtAddr next : {l.vmalloc_start, l.vmemmap_start}) {
      if (next > l.page_offset) end = std::min(end, next.value());
    }
    out.push_back(SearchRange::linear(l.page_offset.value(), end, l.page_offset.value()));
  }
  if (regions.vmalloc) {
    const uint64_t size = l.levels == 5 ? kVmallocSize5 : kVmallocSize4;
    out.push_back(SearchRange::virtual_range(l.kernel_pgd, l.vmalloc_start.value(), l.vmalloc_start.value() + size));
  }
  const uint64_t image_end = kStartKernelMap.value() + l.image_size;
  // The kernel-text mapping is linear too (virtual - __START_KERNEL_map +
  // phys_base): crash counts it as unity-mapped, and -V leaves it out with the
  // direct map. It is walked through the page table, which maps only the image
  // (cleanup_highmap() unmaps the rest of the 1 GiB).
  if (regions.direct_map) out.push_back(SearchRange::virtual_range(l.kernel_pgd, kStartKernelMap.value(), image_end));
  out.push_back(SearchRange::virtual_range(l.kernel_pgd, image_end, kModulesEnd));
  std::sort(out.begin(), out.end(), [](const SearchRange& a, const SearchRange& b) { return a.start < b.start; });
  return out;
}

std::vector<SearchRange> clip_ranges(std::vector<SearchRange> ranges, uint64_t start, uint64_t end) {
  std::vector<SearchRange> out;
  const uint64_t last = last_of(end);
  for (SearchRange r : ranges) {
    const uint64_t r_last = last_of(r.end);
    const uint64_t from = std::max(r.start, start), to = std::min(r_last, last);
    if (from > to) continue;
    r.start = from;
    r.end = to == kTop ? 0 : to + 1;
    out.push_back(r);
  }
  return out;
}

}  // namespace kdive
