// A struct page: the fields crash's page lines show (PAGE PHYSICAL MAPPING
// INDEX CNT FLAGS), and the names of its PG_ flag bits taken from the kernel's
// own `enum pageflags`, never from a table of ours. Member offsets are looked
// up once per reader, so a walk over every page of memory (kmem -p) costs one
// small read per page.
//
//   PageStructReader pages(kernel);
//   PageStruct p = pages.read(pfn_to_page(kernel, pfn));  // throws Fault when unreadable
//   p.mapping, p.index, p.count, p.flags
//   PageFlagNames names(kernel);
//   names.describe(p.flags);                                // "referenced,uptodate,lru"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct PageStruct {
  VirtAddr page;
  uint64_t pfn = 0;
  uint64_t flags = 0;
  uint64_t mapping = 0;  // a word, not always an address_space: bit 0 marks anon_vma, bit 1 movable
  uint64_t index = 0;
  int64_t count = 0;     // _refcount
  int64_t mapcount = 0;  // _mapcount + 1, as page_mapcount() counts (slab pages reuse the word)

  PhysAddr physical() const { return PhysAddr{pfn * 4096}; }
};

class PageStructReader {
 public:
  // Throws Error(Lookup) when the kernel's DWARF has no struct page.
  explicit PageStructReader(const Kernel& k);
  // Throws Fault when the struct page cannot be read.
  PageStruct read(VirtAddr page) const;
  uint64_t size() const { return size_; }

 private:
  const Kernel* kernel_;
  uint64_t size_ = 0;
  uint64_t flags_ = 0, mapping_ = 0, index_ = 0, refcount_ = 0, mapcount_ = 0;
};

// The PG_ names of enum pageflags below __NR_PAGEFLAGS, by bit, without the
// prefix; where the enum names a bit twice (PG_checked = PG_owner_priv_1) the
// first name is kept. Empty when the kernel's DWARF has no enum pageflags.
class PageFlagNames {
 public:
  explicit PageFlagNames(const Kernel& k);
  const std::vector<std::string>& by_bit() const { return names_; }
  // The names of the bits set in `flags`, comma-separated ("" for none).
  std::string describe(uint64_t flags) const;

 private:
  std::vector<std::string> names_;
};

}  // namespace kdive
