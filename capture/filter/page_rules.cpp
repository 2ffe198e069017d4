#include "capture/filter/page_rules.hpp"

#include <fmt/format.h>

#include <cstring>

#include "capture/filter/page_filter.hpp"

namespace kdive::capture {
namespace {

constexpr int kCache = 2, kCachePrivate = 4, kUser = 8, kFree = 16;

// page->mapping's bit 0: the page is anonymous (mapping is an anon_vma; KSM
// pages set bits 0 and 1). include/linux/page-flags.h PAGE_MAPPING_ANON.
constexpr uint64_t kMappingAnon = 1;

uint64_t load64(std::span<const std::byte> b, uint64_t at) {
  uint64_t v = 0;
  if (at + 8 <= b.size()) std::memcpy(&v, b.data() + at, 8);
  return v;
}

uint32_t load32(std::span<const std::byte> b, uint64_t at) {
  uint32_t v = 0;
  if (at + 4 <= b.size()) std::memcpy(&v, b.data() + at, 4);
  return v;
}

[[noreturn]] void missing(std::string_view key, int level, std::string_view why) {
  throw FilterError(fmt::format("dump level {} needs VMCOREINFO's {} ({}), which the dump lacks; use a lower level",
                                level, key, why));
}

std::optional<int> bit(const VmcoreInfo& info, std::string_view name) {
  auto n = info.number(name);
  if (!n || *n < 0 || *n > 63) return std::nullopt;
  return static_cast<int>(*n);
}

}  // namespace

PageRules::PageRules(const VmcoreInfo& info, int dump_level) : level_(dump_level) {
  auto offset = [&](std::string_view member, std::string_view why) {
    auto o = info.offset(member);
    if (!o) missing(fmt::format("OFFSET({})", member), level_, why);
    return *o;
  };
  off_flags_ = offset("page.flags", "every page decision");
  if (level_ & (kCache | kCachePrivate | kUser)) {
    off_mapping_ = offset("page.mapping", "anonymous or page cache");
    // Tail pages carry none of their folio's flags: they follow their head.
    // compound_head shares its word with lru.next (4.6, "mm: make compound_head() robust").
    auto ch = info.offset("page.compound_head");
    if (!ch) ch = info.offset("page.lru");
    if (!ch) missing("OFFSET(page.compound_head)", level_, "compound tail pages");
    off_lru_ = *ch;
    has_compound_head_ = true;
  } else if (auto ch = info.offset("page.compound_head")) {
    off_lru_ = *ch;
    has_compound_head_ = true;
  }
  if (auto o = info.offset("page._mapcount")) {
    off_mapcount_ = *o;
    has_mapcount_ = true;
  }
  if (auto o = info.offset("page.private")) {
    off_private_ = *o;
    has_private_ = true;
  }
  pg_lru_ = bit(info, "PG_lru");
  pg_private_ = bit(info, "PG_private");
  pg_swapcache_ = bit(info, "PG_swapcache");
  pg_swapbacked_ = bit(info, "PG_swapbacked");
  pg_slab_ = bit(info, "PG_slab");
  pg_hwpoison_ = bit(info, "PG_hwpoison");
  if (auto m = info.number("PG_head_mask")) head_mask_ = static_cast<uint64_t>(*m);
  buddy_ = info.number("PAGE_BUDDY_MAPCOUNT_VALUE");
  slab_type_ = info.number("PAGE_SLAB_MAPCOUNT_VALUE");
  offline_ = info.number("PAGE_OFFLINE_MAPCOUNT_VALUE");
  hugetlb_type_ = info.number("PAGE_HUGETLB_MAPCOUNT_VALUE");
  hugetlb_dtor_ = info.number("HUGETLB_PAGE_DTOR");
  off_dtor_ = info.offset("page.compound_dtor");
  if (auto n = info.length("zone.free_area"); n && *n > 0 && *n <= 64) orders_ = static_cast<int>(*n);

  if (level_ & (kCache | kCachePrivate)) {
    if (!pg_lru_) missing("NUMBER(PG_lru)", level_, "page cache");
    if (!pg_private_) missing("NUMBER(PG_private)", level_, "page cache with private data");
    if (!pg_swapcache_) notes_.push_back("no NUMBER(PG_swapcache): swap-cache pages off the LRU are kept");
  }
  if (level_ & kFree) {
    if (!buddy_) missing("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", level_, "free pages");
    if (!has_mapcount_) missing("OFFSET(page._mapcount)", level_, "free pages");
    if (!has_private_) missing("OFFSET(page.private)", level_, "the order of a free block");
  }
  if ((level_ & kUser) && !head_mask_) {
    notes_.push_back("no NUMBER(PG_head_mask): hugetlb pages are kept");
  } else if ((level_ & kUser) && !(hugetlb_type_ && has_mapcount_) && !(hugetlb_dtor_ && off_dtor_)) {
    notes_.push_back("neither PAGE_HUGETLB_MAPCOUNT_VALUE nor HUGETLB_PAGE_DTOR: hugetlb pages are kept");
  }
  if (!pg_hwpoison_)
    notes_.push_back("no NUMBER(PG_hwpoison) (kernel without MEMORY_FAILURE): none excluded as hwpoison");
  if (!offline_ || !has_mapcount_) notes_.push_back("no NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE): none excluded as offline");
}

PageFields PageRules::fields(std::span<const std::byte> page) const {
  PageFields f;
  f.flags = load64(page, off_flags_);
  if (off_mapping_) f.mapping = load64(page, off_mapping_);
  if (has_private_) f.private_ = load64(page, off_private_);
  if (has_compound_head_) f.compound_head = load64(page, off_lru_);
  if (has_mapcount_) f.page_type = load32(page, off_mapcount_);
  return f;
}

bool PageRules::has_type(uint32_t word, int64_t value) const {
  const auto v = static_cast<uint32_t>(value);
  // 6.12 ("mm: support only one page_type per page"):
  // the type is the word's top byte (PGTY_buddy 0xf0, ...), the values the
  // kernel publishes are that byte shifted up, with nothing below it.
  if ((v & 0x00ffffffu) == 0) return (word >> 24) == (v >> 24);
  // 4.18 to 6.11 ("mm: split page_type out from
  // _mapcount"): a typed page has the word's top bit set and its type's bit
  // cleared; the published value is the word with only that bit cleared
  // (~PG_buddy = -129 on 5.10 and 6.1), and the kernel's own test is the mask.
  const uint32_t type_bit = ~v;
  if (type_bit == 0 || (type_bit & (type_bit - 1)) != 0) return word == v;  // not one bit: compare whole
  return (word & (0x80000000u | type_bit)) == 0x80000000u;
}

bool PageRules::is_slab(const PageFields& f) const {
  if (pg_slab_ && (f.flags >> *pg_slab_) & 1) return true;
  // 6.10 moved PG_slab into the page type ("mm: free up PG_slab").
  return slab_type_ && has_mapcount_ && has_type(f.page_type, *slab_type_);
}

bool PageRules::wants_first_tail(const PageFields& f) const {
  return (level_ & kUser) && head_mask_ && (f.flags & head_mask_) && hugetlb_dtor_ && off_dtor_;
}

bool PageRules::is_hugetlb_head(const PageFields& f, std::optional<std::span<const std::byte>> first_tail) const {
  if (!head_mask_ || !(f.flags & head_mask_)) return false;
  // 6.9 made hugetlb a type of the folio's head ("mm: turn folio_test_hugetlb
  // into a PageType").
  if (hugetlb_type_ && has_mapcount_ && has_type(f.page_type, *hugetlb_type_)) return true;
  // Before, the first tail page's compound_dtor said HUGETLB_PAGE_DTOR.
  if (hugetlb_dtor_ && off_dtor_ && first_tail && *off_dtor_ < first_tail->size()) {
    return static_cast<int64_t>(std::to_integer<uint8_t>((*first_tail)[*off_dtor_])) == *hugetlb_dtor_;
  }
  return false;
}

PageVerdict PageRules::classify(const PageFields& f, std::optional<std::span<const std::byte>> first_tail) const {
  PageVerdict v;
  auto flag = [&](const std::optional<int>& b) { return b && ((f.flags >> *b) & 1) != 0; };
  if ((level_ & kFree) && !flag(pg_slab_) && has_type(f.page_type, *buddy_)) {
    // A free block: its first page is the buddy, page->private its order.
    if (f.private_ >= static_cast<uint64_t>(orders_)) {
      v.damaged = true;  // not an order the allocator has: keep the page
      return v;
    }
    v.page_class = PageClass::Free;
    v.pages = 1ull << f.private_;
    return v;
  }
  const bool anon = (f.mapping & kMappingAnon) != 0;
  // PG_swapcache means swap cache only together with PG_swapbacked (4.10,
  // "mm: Use owner_priv bit for PageSwapCache"); kernels without PG_swapbacked in
  // VMCOREINFO predate that.
  const bool cache = flag(pg_lru_) || (flag(pg_swapcache_) && (!pg_swapbacked_ || flag(pg_swapbacked_)));
  const bool priv = flag(pg_private_);
  if ((level_ & kCache) && cache && !priv && !anon) {
    v.page_class = PageClass::Cache;
  } else if ((level_ & kCachePrivate) && cache && !anon) {
    v.page_class = priv ? PageClass::CachePrivate : PageClass::Cache;
  } else if ((level_ & kUser) && ((anon && !is_slab(f)) || is_hugetlb_head(f, first_tail))) {
    v.page_class = PageClass::User;
  } else if (flag(pg_hwpoison_)) {
    v.page_class = PageClass::Hwpoison;
  } else if (offline_ && has_mapcount_ && has_type(f.page_type, *offline_)) {
    v.page_class = PageClass::Offline;
  }
  return v;
}

}  // namespace kdive::capture
