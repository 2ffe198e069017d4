// PageRules: what one struct page says about its page frame, decided from the
// struct page's bytes and VMCOREINFO alone — the member offsets
// (OFFSET(page.*)), the flag bits (NUMBER(PG_*)) and the page-type values
// (NUMBER(PAGE_*_MAPCOUNT_VALUE)) the kernel itself publishes for dump
// filters. The rules are makedumpfile's, in its order of precedence: free,
// cache, cache with private data, user, hwpoison, offline.
//
//   PageRules rules(info, 31);                    // throws FilterError naming a missing key
//   PageFields f = rules.fields(bytes);           // one struct page
//   if (rules.is_tail(f)) ...                     // follows its head: rules.head(f)
//   PageVerdict v = rules.classify(f, first_tail_bytes);
//   v.page_class, v.pages                         // pages: a free block's 1 << order
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "capture/filter/page_class.hpp"
#include "readers/address.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {

// The words of a struct page the rules look at.
struct PageFields {
  uint64_t flags = 0;
  uint64_t mapping = 0;
  uint64_t private_ = 0;
  uint64_t compound_head = 0;  // the first word of lru; bit 0 marks a tail page
  uint32_t page_type = 0;      // _mapcount, or page_type in the same word
};

struct PageVerdict {
  PageClass page_class = PageClass::Kept;  // Kept: nothing the dump level excludes
  uint64_t pages = 1;                      // a free block: 1 << order pages from here
  bool damaged = false;                    // the struct page made no sense (kept)
};

class PageRules {
 public:
  // Throws FilterError naming the first VMCOREINFO key that `dump_level`
  // needs and the dump lacks. Keys that only refine a decision (PG_hwpoison,
  // PAGE_OFFLINE_MAPCOUNT_VALUE, hugetlb) may be absent: notes() says so.
  PageRules(const VmcoreInfo& info, int dump_level);

  PageFields fields(std::span<const std::byte> page) const;
  bool is_tail(const PageFields& f) const { return has_compound_head_ && (f.compound_head & 1) != 0; }
  VirtAddr head(const PageFields& f) const { return VirtAddr{f.compound_head - 1}; }
  // Whether classify() wants the first tail's struct page for this one (a
  // compound head on kernels that mark hugetlb in the first tail).
  bool wants_first_tail(const PageFields& f) const;

  // The decision for a page that is not a tail. `first_tail` is the next
  // struct page when wants_first_tail() and it could be read.
  PageVerdict classify(const PageFields& f, std::optional<std::span<const std::byte>> first_tail) const;

  // The highest buddy order + 1 (LENGTH(zone.free_area)).
  int orders() const { return orders_; }
  // What the rules cannot see on this kernel, one line each.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  bool has_type(uint32_t word, int64_t value) const;
  bool is_slab(const PageFields& f) const;
  bool is_hugetlb_head(const PageFields& f, std::optional<std::span<const std::byte>> first_tail) const;

  int level_;
  uint64_t off_flags_ = 0, off_mapping_ = 0, off_private_ = 0, off_lru_ = 0, off_mapcount_ = 0;
  bool has_private_ = false, has_mapcount_ = false, has_compound_head_ = false;
  std::optional<int> pg_lru_, pg_private_, pg_swapcache_, pg_swapbacked_, pg_slab_, pg_hwpoison_;
  uint64_t head_mask_ = 0;
  std::optional<int64_t> buddy_, slab_type_, offline_, hugetlb_type_, hugetlb_dtor_;
  std::optional<uint64_t> off_dtor_;
  int orders_ = 11;
  std::vector<std::string> notes_;
};

}  // namespace kdive::capture
