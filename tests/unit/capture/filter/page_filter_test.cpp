#include "capture/filter/page_filter.hpp"

#include <catch2/catch.hpp>

#include "capture/filter/dmesg_extract.hpp"
#include "tests/unit/capture/filter/synthetic_kernel.hpp"

using kdive::capture::FilterError;
using kdive::capture::PageClass;
using kdive::capture::PageFilter;
using kdive::test::SyntheticKernel;

namespace {

constexpr uint64_t kMapping = 0xffff888000123000ull;  // an address_space

// PFNs with one kind of page each (struct pages live at PFNs 0x100-0x127 and
// the page tables below 0x10: all away from these).
constexpr uint64_t kCachePfn = 1024, kCachePrivatePfn = 1025, kAnonPfn = 1026, kSwapCachePfn = 1027,
                   kSlabAnonPfn = 1028, kHwpoisonPfn = 1029, kOfflinePfn = 1030, kPlainPfn = 1031;
constexpr uint64_t kBuddyPfn = 1032;      // order 3: 1032..1039
constexpr uint64_t kThpPfn = 1040;        // anonymous compound, order 3: 1040..1047
constexpr uint64_t kHugetlbPfn = 1048;    // hugetlb compound, order 2: 1048..1051
constexpr uint64_t kEdgeBuddyPfn = 1088;  // order 4: 1088..1103
constexpr uint64_t kBadOrderPfn = 1104;   // a "buddy" with order 20
constexpr uint64_t kWildTailPfn = 1105;   // a tail whose head pointer is not a struct page
constexpr uint64_t kHolePfn = 1200;       // not in the dump
constexpr uint64_t kUnmappedPfn = 1984;   // its struct page's vmemmap page is unmapped (1984..2047)
constexpr uint64_t kNoSectionPfn = 2100;  // section 4 has no mem_map

SyntheticKernel make_kernel(SyntheticKernel::Scheme scheme) {
  SyntheticKernel k(scheme);
  k.page(kCachePfn).flags = k.bit("PG_lru");
  k.page(kCachePfn).mapping = kMapping;
  k.page(kCachePrivatePfn).flags = k.bit("PG_lru") | k.bit("PG_private");
  k.page(kCachePrivatePfn).mapping = kMapping;
  k.page(kAnonPfn).flags = k.bit("PG_lru") | k.bit("PG_swapbacked");
  k.page(kAnonPfn).mapping = kMapping | 1;
  k.page(kSwapCachePfn).flags = k.bit("PG_swapcache") | k.bit("PG_swapbacked");
  // A slab page whose mapping word happens to have bit 0 set is not user data.
  k.page(kSlabAnonPfn).mapping = kMapping | 1;
  if (scheme == SyntheticKernel::Scheme::Linux61) {
    k.page(kSlabAnonPfn).flags = k.bit("PG_slab");
  } else {
    k.page(kSlabAnonPfn).mapcount = k.type("PAGE_SLAB_MAPCOUNT_VALUE");
  }
  k.page(kHwpoisonPfn).flags = k.bit("PG_hwpoison");
  k.page(kOfflinePfn).mapcount = k.type("PAGE_OFFLINE_MAPCOUNT_VALUE");
  k.buddy(kBuddyPfn, 3);
  k.compound(kThpPfn, 3);
  k.page(kThpPfn).flags |= k.bit("PG_lru");
  k.page(kThpPfn).mapping = kMapping | 1;
  k.compound(kHugetlbPfn, 2);
  if (scheme == SyntheticKernel::Scheme::Linux61) {
    k.page(kHugetlbPfn + 1).dtor_word = k.number("HUGETLB_PAGE_DTOR");  // compound_dtor, byte 16
  } else {
    k.page(kHugetlbPfn).mapcount = k.type("PAGE_HUGETLB_MAPCOUNT_VALUE");
  }
  k.buddy(kEdgeBuddyPfn, 4);
  k.buddy(kBadOrderPfn, 20);
  k.page(kWildTailPfn).lru = SyntheticKernel::struct_page(0) + 13;  // bit 0 set, not a struct page
  k.hole(kHolePfn);
  k.unmap_struct_pages_of(kUnmappedPfn);
  k.commit();
  return k;
}

std::vector<PageClass> decide_all(PageFilter& f, uint64_t window) {
  std::vector<PageClass> all(f.max_pfn());
  for (uint64_t pfn = 0; pfn < f.max_pfn(); pfn += window) {
    const uint64_t n = std::min<uint64_t>(window, f.max_pfn() - pfn);
    f.decide(pfn, std::span(all).subspan(pfn, n));
  }
  return all;
}

bool all_of(const std::vector<PageClass>& v, uint64_t first, uint64_t count, PageClass c) {
  for (uint64_t p = first; p < first + count; ++p) {
    if (v[p] != c) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("page filter: each class goes at its own level bit, and only there", "[filter]") {
  auto scheme = GENERATE(SyntheticKernel::Scheme::Linux61, SyntheticKernel::Scheme::Linux612);
  SyntheticKernel k = make_kernel(scheme);
  const int level = GENERATE(0, 1, 2, 4, 8, 16, 31);
  PageFilter f(k.dump(), level);
  REQUIRE(f.max_pfn() == SyntheticKernel::kPages);
  const auto d = decide_all(f, 1 << 20);
  const bool s = level > 1;  // hwpoison and offline go whenever struct pages are read
  CAPTURE(level, scheme == SyntheticKernel::Scheme::Linux61);
  CHECK(d[kCachePfn] == ((level & 6) ? PageClass::Cache : PageClass::Kept));
  CHECK(d[kCachePrivatePfn] == ((level & 4) ? PageClass::CachePrivate : PageClass::Kept));
  CHECK(d[kAnonPfn] == ((level & 8) ? PageClass::User : PageClass::Kept));
  CHECK(d[kSwapCachePfn] == ((level & 6) ? PageClass::Cache : PageClass::Kept));
  CHECK(d[kSlabAnonPfn] == PageClass::Kept);
  CHECK(d[kHwpoisonPfn] == (s ? PageClass::Hwpoison : PageClass::Kept));
  CHECK(d[kOfflinePfn] == (s ? PageClass::Offline : PageClass::Kept));
  CHECK(d[kPlainPfn] == PageClass::Kept);
  CHECK(all_of(d, kBuddyPfn, 8, (level & 16) ? PageClass::Free : PageClass::Kept));
  CHECK(d[kBuddyPfn + 8] != PageClass::Free);  // the block ends at 1 << order (the THP follows)
  CHECK(all_of(d, kThpPfn, 8, (level & 8) ? PageClass::User : PageClass::Kept));
  CHECK(all_of(d, kHugetlbPfn, 4, (level & 8) ? PageClass::User : PageClass::Kept));
  CHECK(all_of(d, kEdgeBuddyPfn, 16, (level & 16) ? PageClass::Free : PageClass::Kept));
  CHECK(d[kHolePfn] == PageClass::Hole);
  CHECK(all_of(d, kUnmappedPfn, 64, PageClass::Kept));
  CHECK(all_of(d, kNoSectionPfn, 10, PageClass::Kept));
  CHECK(d[kBadOrderPfn] == PageClass::Kept);
  CHECK(d[kWildTailPfn] == PageClass::Kept);

  // The counts add up to what decide() said, page by page.
  kdive::capture::PageClassCounts expect;
  for (PageClass c : d) ++expect[c];
  CHECK(f.counts().pages == expect.pages);
  // Damage is counted, not hidden: 64 unreadable struct pages, a wild tail,
  // and a free block of an impossible order when free pages are looked for
  // (only where struct pages are read at all).
  CHECK(f.unreadable_pages() == (s ? 64u + 1u + ((level & 16) ? 1u : 0u) : 0u));
}

TEST_CASE("page filter: free blocks and compound pages cross window edges", "[filter]") {
  auto scheme = GENERATE(SyntheticKernel::Scheme::Linux61, SyntheticKernel::Scheme::Linux612);
  SyntheticKernel k = make_kernel(scheme);
  PageFilter whole(k.dump(), 31);
  const auto expect = decide_all(whole, 1 << 20);
  // Odd window sizes cut the order-4 block at 1088 and the THP at 1040
  // (1040 = 3 * 346 + 2: a window starts inside it for size 3 and 7).
  const uint64_t window = GENERATE(1, 3, 7, 100, 513);
  PageFilter cut(k.dump(), 31);
  const auto got = decide_all(cut, window);
  CAPTURE(window);
  for (uint64_t p = 0; p < got.size(); ++p) {
    CAPTURE(p);
    REQUIRE(got[p] == expect[p]);
  }
  CHECK(cut.counts().pages == whole.counts().pages);
  CHECK(all_of(got, kEdgeBuddyPfn, 16, PageClass::Free));
  CHECK(all_of(got, kThpPfn, 8, PageClass::User));
}

TEST_CASE("page filter: windows skip ahead, and going back is refused", "[filter]") {
  SyntheticKernel k = make_kernel(SyntheticKernel::Scheme::Linux61);
  PageFilter f(k.dump(), 31);
  std::vector<PageClass> w(4);
  // A window that starts inside the THP: the tails still follow the head,
  // which the filter reads although it never saw the head's window.
  f.decide(kThpPfn + 2, w);
  CHECK(all_of(w, 0, 4, PageClass::User));
  CHECK_THROWS_AS(f.decide(kThpPfn, w), std::logic_error);
}

TEST_CASE("page filter: levels 0 and 1 need no VMCOREINFO, higher levels name what is missing", "[filter]") {
  SyntheticKernel k = make_kernel(SyntheticKernel::Scheme::Linux61);
  std::string info = k.dump().notes().vmcoreinfo;
  k.dump().mutable_notes().vmcoreinfo.clear();
  PageFilter zero(k.dump(), 1);
  const auto d = decide_all(zero, 1000);
  CHECK(d[kCachePfn] == PageClass::Kept);
  CHECK(d[kHolePfn] == PageClass::Hole);
  CHECK(zero.counts()[PageClass::Hole] == 1);
  CHECK_THROWS_WITH(PageFilter(k.dump(), 31), Catch::Contains("no VMCOREINFO"));
  CHECK_THROWS_AS(PageFilter(k.dump(), 32), FilterError);
  CHECK_THROWS_AS(PageFilter(k.dump(), -1), FilterError);

  // The text given for a dump without the note (kdive-dump -x) serves in its
  // place; the message without it says so. A dump with the note ignores it.
  CHECK_THROWS_WITH(PageFilter(k.dump(), 31), Catch::Contains("-x VMLINUX"));
  PageFilter given(k.dump(), 31, info);
  const auto from_given = decide_all(given, 1000);
  k.dump().mutable_notes().vmcoreinfo = info;
  PageFilter own(k.dump(), 31);
  CHECK(decide_all(own, 1000) == from_given);
  CHECK(given.counts().pages == own.counts().pages);
  PageFilter note_wins(k.dump(), 31, "SYMBOL(mem_section)=0\nSIZE(page)=1\n");
  CHECK(decide_all(note_wins, 1000) == from_given);
  CHECK(from_given[kCachePfn] != PageClass::Kept);  // level 31 did use struct page

  auto without = [&](std::string_view key) {
    std::string text = info;
    auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    text.erase(at, text.find('\n', at) - at + 1);
    return text;
  };
  k.dump().mutable_notes().vmcoreinfo = without("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
  CHECK_THROWS_WITH(PageFilter(k.dump(), 16), Catch::Contains("PAGE_BUDDY_MAPCOUNT_VALUE"));
  PageFilter no_free(k.dump(), 8);  // level 8 does not need it
  k.dump().mutable_notes().vmcoreinfo = without("SYMBOL(mem_section)");
  CHECK_THROWS_WITH(PageFilter(k.dump(), 2), Catch::Contains("SYMBOL(mem_section)"));
  k.dump().mutable_notes().vmcoreinfo = without("SYMBOL(init_top_pgt)");
  CHECK_THROWS_WITH(PageFilter(k.dump(), 2), Catch::Contains("init_top_pgt"));
  k.dump().mutable_notes().vmcoreinfo = without("NUMBER(PG_hwpoison)");
  PageFilter no_poison(k.dump(), 31);
  CHECK(no_poison.warnings().size() == 1);
  CHECK_THAT(no_poison.warnings().front(), Catch::Contains("PG_hwpoison"));
  std::vector<PageClass> one(1);
  no_poison.decide(kHwpoisonPfn, one);
  CHECK(one[0] == PageClass::Kept);
}

TEST_CASE("page filter: an unreadable section root keeps its pages and says so", "[filter]") {
  SyntheticKernel k = make_kernel(SyntheticKernel::Scheme::Linux612);
  k.dump().remove(kdive::PhysAddr{SyntheticKernel::kRootPage});
  PageFilter f(k.dump(), 31);
  REQUIRE(f.warnings().size() == 1);
  CHECK_THAT(f.warnings().front(), Catch::Contains("mem_section root 0"));
  const auto d = decide_all(f, 4096);
  CHECK(d[kCachePfn] == PageClass::Kept);
  CHECK(d[SyntheticKernel::kRootPage / 4096] == PageClass::Hole);
  CHECK(f.unreadable_pages() == SyntheticKernel::kPages - 2);  // all but the two holes
}

TEST_CASE("page filter: zero pages the writer finds move from kept to zero", "[filter]") {
  SyntheticKernel k = make_kernel(SyntheticKernel::Scheme::Linux61);
  PageFilter f(k.dump(), 1);
  decide_all(f, 4096);
  const uint64_t kept = f.counts()[PageClass::Kept];
  f.count_zero(5);
  CHECK(f.counts()[PageClass::Kept] == kept - 5);
  CHECK(f.counts()[PageClass::Zero] == 5);
}

TEST_CASE("dmesg lines: one stamp per line of a record, as the kernel prints them", "[filter]") {
  using kdive::capture::dmesg_lines;
  CHECK(dmesg_lines(1234567890, "hello") == std::vector<std::string>{"[    1.234567] hello"});
  CHECK(dmesg_lines(123456789012345, "a\nb\n") == std::vector<std::string>{"[123456.789012] a", "[123456.789012] b"});
  CHECK(dmesg_lines(0, "") == std::vector<std::string>{"[    0.000000] "});
}

TEST_CASE("dmesg extraction: a dump without a log it can find says why", "[filter]") {
  SyntheticKernel k = make_kernel(SyntheticKernel::Scheme::Linux61);
  // VMCOREINFO without SYMBOL(prb) or SYMBOL(log_buf): no buffer to read.
  CHECK_THROWS_WITH(kdive::capture::extract_dmesg(k.dump()), Catch::Contains("no printk buffer"));
  k.dump().mutable_notes().vmcoreinfo.clear();
  CHECK_THROWS_WITH(kdive::capture::extract_dmesg(k.dump()), Catch::Contains("no VMCOREINFO"));
}
