#include "capture/filter/mem_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "capture/filter/page_filter.hpp"
#include "kernel-model/errors.hpp"

namespace kdive::capture {
namespace {

// section_mem_map's low bits are flags: SECTION_MARKED_PRESENT (bit 0),
// SECTION_HAS_MEM_MAP (bit 1), then IS_ONLINE, IS_EARLY, TAINT_ZONE_DEVICE
// (5.12) and CANNOT_OPTIMIZE_VMEMMAP (6.x): at most six bits up to 6.12
// (include/linux/mmzone.h, SECTION_MAP_LAST_BIT). The coded mem_map is at
// least that aligned: the kernel builds it from a struct page array and a
// section-aligned PFN.
constexpr uint64_t kSectionFlagMask = (1u << 6) - 1;
constexpr uint64_t kSectionMarkedPresent = 1u << 0;
constexpr uint64_t kSectionHasMemMap = 1u << 1;

uint64_t need(std::optional<uint64_t> v, std::string_view key) {
  if (!v) throw FilterError(fmt::format("the dump's VMCOREINFO has no {}, which the page filter needs", key));
  return *v;
}

uint64_t load64(std::span<const std::byte> bytes, size_t at) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data() + at, 8);
  return v;
}

}  // namespace

MemMap::MemMap(const KernelMemory& memory, const VmcoreInfo& info, uint64_t max_pfn) : memory_(memory) {
  page_size_ = need(info.size("page"), "SIZE(page)");
  const uint64_t table = need(info.symbol("mem_section"), "SYMBOL(mem_section)");
  const uint64_t roots = need(info.length("mem_section"), "LENGTH(mem_section)");
  const uint64_t entry_size = need(info.size("mem_section"), "SIZE(mem_section)");
  const uint64_t map_offset = need(info.offset("mem_section.section_mem_map"), "OFFSET(mem_section.section_mem_map)");
  auto bits = info.number("SECTION_SIZE_BITS");
  if (!bits) throw FilterError("the dump's VMCOREINFO has no NUMBER(SECTION_SIZE_BITS), which the page filter needs");
  const uint64_t page = memory.dump().page_size();
  const int page_shift = std::countr_zero(page);
  if (*bits <= page_shift || *bits >= 48 || page_size_ == 0 || entry_size == 0 || entry_size > page ||
      map_offset + 8 > entry_size) {
    throw FilterError(
        fmt::format("the dump's VMCOREINFO describes an impossible mem_map (SECTION_SIZE_BITS {}, SIZE(page) {}, "
                    "SIZE(mem_section) {})",
                    *bits, page_size_, entry_size));
  }
  pages_per_section_ = 1ull << (*bits - page_shift);

  // x86_64 always has SPARSEMEM_EXTREME (the default wherever SPARSEMEM is
  // not static), so SYMBOL(mem_section) is an array of LENGTH(mem_section)
  // root pointers, each to one page of struct mem_section. Since 4.15 ("kdump: write
  // correct address of mem_section into vmcoreinfo") VMCOREINFO gives that array's address, not the variable's.
  const uint64_t per_root = page / entry_size;
  const uint64_t sections = (max_pfn + pages_per_section_ - 1) / pages_per_section_;
  coded_.assign(sections, 0);
  unknown_.assign(sections, false);
  std::vector<std::byte> root_page(per_root * entry_size);
  for (uint64_t root = 0; root * per_root < sections; ++root) {
    const uint64_t first = root * per_root;
    const uint64_t last = std::min(sections, first + per_root);
    auto lose = [&](const std::string& why) {
      std::fill(unknown_.begin() + first, unknown_.begin() + last, true);
      warnings_.push_back(fmt::format("mem_section root {} ({}): PFNs {:#x}-{:#x} are kept unfiltered", root, why,
                                      first * pages_per_section_, last * pages_per_section_ - 1));
    };
    if (root >= roots) {
      lose(fmt::format("beyond LENGTH(mem_section) {}", roots));
      continue;
    }
    try {
      const uint64_t ptr = memory.read<uint64_t>(VirtAddr{table + root * 8});
      if (ptr == 0) continue;  // no memory in these sections at all
      memory.read(VirtAddr{ptr}, root_page);
    } catch (const Fault& f) {
      lose(f.what());
      continue;
    }
    for (uint64_t s = first; s < last; ++s) {
      const uint64_t word = load64(root_page, (s - first) * entry_size + map_offset);
      if ((word & kSectionMarkedPresent) && (word & kSectionHasMemMap)) coded_[s] = word & ~kSectionFlagMask;
    }
  }
}

uint64_t MemMap::coded(uint64_t pfn) const {
  const uint64_t s = pfn / pages_per_section_;
  return s < coded_.size() ? coded_[s] : 0;
}

bool MemMap::has_struct_page(uint64_t pfn) const { return coded(pfn) != 0; }

bool MemMap::section_unknown(uint64_t pfn) const {
  const uint64_t s = pfn / pages_per_section_;
  return s < unknown_.size() && unknown_[s];
}

void MemMap::read_run(uint64_t first_pfn, uint64_t count, std::span<std::byte> out, std::vector<bool>& readable) const {
  readable.assign(count, false);
  const uint64_t base = coded(first_pfn);
  if (base == 0 || count == 0) return;
  const uint64_t bytes = count * page_size_;
  const VirtAddr start{base + first_pfn * page_size_};
  const uint64_t page = memory_.dump().page_size();
  // Which bytes were read, as [begin, end) runs in order: a struct page is
  // readable when one run holds all of it.
  std::vector<std::pair<uint64_t, uint64_t>> good;
  uint64_t done = 0;
  while (done < bytes) {
    const VirtAddr v = start + done;
    Translation t = memory_.walker().walk(memory_.layout().kernel_pgd, v);
    const uint64_t unit = t.phys ? t.page_size : page;
    const uint64_t chunk = std::min(bytes - done, unit - v.offset_in(unit));
    if (t.phys) {
      // One source read per page of the chunk (a read may not cross a page).
      uint64_t at = 0;
      while (at < chunk) {
        const PhysAddr p = *t.phys + at;
        const uint64_t n = std::min(chunk - at, page - p.offset_in(page));
        PageState s = memory_.dump().read_phys(p, out.subspan(done + at, n));
        if (s == PageState::Present || s == PageState::Zero) {
          if (!good.empty() && good.back().second == done + at) {
            good.back().second += n;
          } else {
            good.emplace_back(done + at, done + at + n);
          }
        }
        at += n;
      }
    }
    done += chunk;
  }
  size_t run = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t b = i * page_size_, e = b + page_size_;
    while (run < good.size() && good[run].second < e) ++run;
    readable[i] = run < good.size() && good[run].first <= b && good[run].second >= e;
  }
}

std::optional<uint64_t> MemMap::pfn_of(VirtAddr page, uint64_t near_pfn) const {
  const uint64_t base = coded(near_pfn);
  if (base == 0 || page.value() < base) return std::nullopt;
  const uint64_t delta = page.value() - base;
  if (delta % page_size_ != 0) return std::nullopt;
  return delta / page_size_;
}

}  // namespace kdive::capture
