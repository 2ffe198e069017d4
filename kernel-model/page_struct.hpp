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
//   pages.read_run(first, n, on_page, on_fault);            // kmem -p: a vmemmap page per read
//   PageMembers m(kernel, {"flags", "_refcount"});          // kmem -m: m.values(bytes)
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kernel-model/errors.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class Type;

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
  // `count` consecutive struct pages from `first` (kmem -p), read a page of
  // the vmemmap at a time; a page struct that cannot be read is given to
  // `on_fault(VirtAddr, std::string)` with the reason, the others to
  // `on_page(PageStruct, bytes)` (bytes for PageMembers), in order.
  template <class OnPage, class OnFault>
  void read_run(VirtAddr first, uint64_t count, OnPage&& on_page, OnFault&& on_fault) const;
  uint64_t size() const { return size_; }
  // The struct page at `page` from its bytes (at least min(size(), 64) of them).
  PageStruct decode(VirtAddr page, std::span<const std::byte> bytes) const;

 private:
  // Reads [at, at + out.size()); throws Fault.
  void read_bytes(VirtAddr at, std::span<std::byte> out) const;
  const Kernel* kernel_;
  uint64_t size_ = 0;
  uint64_t flags_ = 0, mapping_ = 0, index_ = 0, refcount_ = 0, mapcount_ = 0;
};

template <class OnPage, class OnFault>
void PageStructReader::read_run(VirtAddr first, uint64_t count, OnPage&& on_page, OnFault&& on_fault) const {
  constexpr uint64_t kChunk = 4096;
  std::vector<std::byte> buffer(kChunk + size_);
  uint64_t i = 0;
  while (i < count) {
    const VirtAddr at = first + i * size_;
    // Up to the end of this page of the vmemmap (the unit that is in the dump
    // or not), at least one struct page.
    uint64_t n = (kChunk - at.value() % kChunk) / size_;
    n = std::max<uint64_t>(1, std::min(n, count - i));
    std::span<std::byte> bytes(buffer.data(), n * size_);
    std::string fault;
    try {
      read_bytes(at, bytes);
    } catch (const ModelError& e) {
      fault = e.what();
    }
    for (uint64_t j = 0; j < n; ++j) {
      const VirtAddr page = at + j * size_;
      if (!fault.empty()) {
        on_fault(page, fault);
      } else {
        const std::span<const std::byte> one = bytes.subspan(j * size_, size_);
        on_page(decode(page, one), one);
      }
    }
    i += n;
  }
}

// Members of struct page named by path ("flags", "_refcount", "lru.next"),
// found through the type system once and read from a page struct's bytes
// (kmem -m). A member that is a struct of one scalar (atomic_t) is that
// scalar.
struct PageMember {
  std::string path;
  uint64_t offset = 0;
  uint64_t size = 0;  // bytes: 1, 2, 4 or 8
  uint32_t bit_offset = 0, bit_size = 0;
  bool pointer = false;
  bool is_signed = false;
  const Type* type = nullptr;
};

class PageMembers {
 public:
  // Throws Error(Lookup) naming a path struct page does not have, or one that
  // is not a scalar.
  PageMembers(const Kernel& k, const std::vector<std::string>& paths);
  const std::vector<PageMember>& members() const { return members_; }
  // Each member's value (zero-extended; bitfields extracted) from the bytes of one struct page.
  std::vector<uint64_t> values(std::span<const std::byte> page) const;

 private:
  std::vector<PageMember> members_;
};

// The PG_ names of enum pageflags below __NR_PAGEFLAGS, by bit, without the
// prefix; where the enum names a bit twice (PG_checked = PG_owner_priv_1) the
// first name is kept. Empty when the kernel's DWARF has no enum pageflags.
class PageFlagNames {
 public:
  explicit PageFlagNames(const Kernel& k);
  const std::vector<std::string>& by_bit() const { return names_; }
  // Every enumerator below __NR_PAGEFLAGS in the enum's order, aliases
  // included (PG_checked after PG_owner_priv_1's bit), with the PG_ prefix (kmem -g).
  struct Entry {
    std::string name;
    int bit = 0;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  // The names of the bits set in `flags`, comma-separated ("" for none).
  std::string describe(uint64_t flags) const;

 private:
  std::vector<std::string> names_;
  std::vector<Entry> entries_;
};

}  // namespace kdive
