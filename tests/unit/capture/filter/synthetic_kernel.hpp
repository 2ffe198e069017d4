// SyntheticKernel: a FakeDump laid out the way the page filter finds a kernel
// from VMCOREINFO alone — a 4-level kernel page table at init_top_pgt, the
// SPARSEMEM section table (SYMBOL(mem_section), one root page) in the kernel
// image, and a vmemmap of 64-byte struct pages mapped through 4 KiB PTEs —
// so tests set the struct page of a PFN and look at the filter's decision.
//
//   SyntheticKernel k(SyntheticKernel::Scheme::Linux61);
//   k.page(1024).flags = k.bit("PG_lru");  k.page(1024).mapping = 0xffff888000100000;
//   k.commit();                           // writes struct pages into the dump
//   PageFilter f(k.dump(), 31);
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "readers/vmcoreinfo.hpp"
#include "tests/unit/support/fake_dump.hpp"

namespace kdive::test {

class SyntheticKernel {
 public:
  // How the kernel marks page types: 5.10/6.1 clear a bit of _mapcount
  // (PAGE_BUDDY_MAPCOUNT_VALUE = -129), 6.12 puts the type in its top byte.
  enum class Scheme { Linux61, Linux612 };

  static constexpr uint64_t kPagesPerSection = 512;  // SECTION_SIZE_BITS 21
  static constexpr uint64_t kSections = 5;           // section 4 has no mem_map
  static constexpr uint64_t kPages = kPagesPerSection * kSections;
  static constexpr uint64_t kImage = 0xffffffff80000000ull;  // phys_base 0, no KASLR
  static constexpr uint64_t kVmemmap = 0xffffea0000000000ull;
  static constexpr uint64_t kPgd = 0x1000, kPud = 0x2000, kPmd = 0x3000, kPte = 0x4000;
  static constexpr uint64_t kRootArray = 0x5000, kRootPage = 0x6000;
  static constexpr uint64_t kStructPages = 0x100000;  // 40 pages of struct page for 2560 PFNs

  struct Page {
    uint64_t flags = 0, lru = 0, dtor_word = 0, mapping = 0, private_ = 0;
    uint32_t mapcount = 0xffffffffu;  // -1: not mapped, no type
  };

  explicit SyntheticKernel(Scheme scheme) : scheme_(scheme) {
    for (uint64_t p = 0; p < kPages; ++p) dump_.put<uint64_t>(PhysAddr{p * 4096}, 0);
    // Page tables: PGD -> PUD -> PMD -> PTEs for the vmemmap's 40 pages.
    dump_.put<uint64_t>(PhysAddr{kPgd + ((kVmemmap >> 39) & 0x1ff) * 8}, kPud | 3);
    dump_.put<uint64_t>(PhysAddr{kPud + ((kVmemmap >> 30) & 0x1ff) * 8}, kPmd | 3);
    dump_.put<uint64_t>(PhysAddr{kPmd + ((kVmemmap >> 21) & 0x1ff) * 8}, kPte | 3);
    for (uint64_t i = 0; i < kPages * 64 / 4096; ++i) {
      dump_.put<uint64_t>(PhysAddr{kPte + i * 8}, (kStructPages + i * 4096) | 3);
    }
    // The section table: one root, sections 0..3 present with a mem_map.
    dump_.put<uint64_t>(PhysAddr{kRootArray}, kImage + kRootPage);
    for (uint64_t s = 0; s + 1 < kSections; ++s) dump_.put<uint64_t>(PhysAddr{kRootPage + s * 16}, kVmemmap | 3);
    std::string info =
        "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\n"
        "SYMBOL(init_top_pgt)=ffffffff80001000\nNUMBER(phys_base)=0\nKERNELOFFSET=0\n"
        "NUMBER(pgtable_l5_enabled)=0\nSYMBOL(mem_section)=ffffffff80005000\nLENGTH(mem_section)=4\n"
        "SIZE(mem_section)=16\nOFFSET(mem_section.section_mem_map)=0\nNUMBER(SECTION_SIZE_BITS)=21\n"
        "SIZE(page)=64\nOFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\n"
        "OFFSET(page.lru)=8\nOFFSET(page._mapcount)=48\nOFFSET(page.private)=40\nOFFSET(page.compound_head)=8\n"
        "LENGTH(zone.free_area)=11\nNUMBER(PG_lru)=4\nNUMBER(PG_private)=13\nNUMBER(PG_swapcache)=10\n"
        "NUMBER(PG_swapbacked)=19\n";
    if (scheme == Scheme::Linux61) {
      info +=
          "OFFSET(page.compound_dtor)=16\nOFFSET(page.compound_order)=17\nNUMBER(PG_slab)=9\n"
          "NUMBER(PG_head_mask)=65536\nNUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\nNUMBER(HUGETLB_PAGE_DTOR)=2\n"
          "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-257\nNUMBER(PG_hwpoison)=22\n";
    } else {
      info +=
          "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=-184549376\nNUMBER(PG_hwpoison)=20\nNUMBER(PG_head_mask)=64\n"
          "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456\nNUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=-201326592\n"
          "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-251658240\n";
    }
    dump_.mutable_notes().vmcoreinfo = info;
  }

  uint64_t number(std::string_view name) const {
    return static_cast<uint64_t>(*VmcoreInfo(dump_.notes().vmcoreinfo).number(name));
  }
  uint64_t bit(std::string_view name) const { return 1ull << number(name); }
  uint64_t head_mask() const { return number("PG_head_mask"); }
  // The page-type word of a buddy, offline, slab or hugetlb page.
  uint32_t type(std::string_view value_name) const { return static_cast<uint32_t>(number(value_name)); }
  static uint64_t struct_page(uint64_t pfn) { return kVmemmap + pfn * 64; }

  Page& page(uint64_t pfn) { return pages_[pfn]; }
  // A compound page of 1 << order pages at `head`: tails point at it.
  void compound(uint64_t head, int order) {
    pages_[head].flags |= head_mask();
    for (uint64_t p = head + 1; p < head + (1ull << order); ++p) pages_[p].lru = struct_page(head) | 1;
  }
  void buddy(uint64_t pfn, int order) {
    pages_[pfn].mapcount = type("PAGE_BUDDY_MAPCOUNT_VALUE");
    pages_[pfn].private_ = static_cast<uint64_t>(order);
  }
  // Makes the vmemmap page holding these struct pages unmapped.
  void unmap_struct_pages_of(uint64_t pfn) { dump_.put<uint64_t>(PhysAddr{kPte + pfn * 64 / 4096 * 8}, 0); }
  // Removes a page from the dump (a hole in the source's ranges).
  void hole(uint64_t pfn) { holes_.push_back(pfn); }

  FakeDump& commit() {
    for (const auto& [pfn, p] : pages_) {
      const uint64_t at = kStructPages + pfn * 64;
      dump_.put<uint64_t>(PhysAddr{at}, p.flags);
      dump_.put<uint64_t>(PhysAddr{at + 8}, p.lru);
      dump_.put<uint64_t>(PhysAddr{at + 16}, p.dtor_word);
      dump_.put<uint64_t>(PhysAddr{at + 24}, p.mapping);
      dump_.put<uint64_t>(PhysAddr{at + 40}, p.private_);
      dump_.put<uint32_t>(PhysAddr{at + 48}, p.mapcount);
      dump_.put<uint32_t>(PhysAddr{at + 52}, 1);
    }
    for (uint64_t pfn : holes_) dump_.remove(PhysAddr{pfn * 4096});
    return dump_;
  }
  FakeDump& dump() { return dump_; }

 private:
  Scheme scheme_;
  FakeDump dump_;
  std::map<uint64_t, Page> pages_;
  std::vector<uint64_t> holes_;
};

}  // namespace kdive::test
