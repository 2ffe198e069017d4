// KernelMemory: the dump's memory as the kernel saw it — kernel virtual addresses
// (image, direct map, vmalloc/vmemmap/modules through the page tables), user
// addresses through a given page table, and physical addresses. Every read either
// fills the whole buffer or throws Fault naming the address and the reason.
//
//   KernelMemory mem(dump, layout);
//   auto jiffies = mem.read<uint64_t>(*syms.address("jiffies"));
//   VirtAddr next = mem.read_pointer(head);            // a kernel pointer stored at head
//   std::string banner = mem.read_cstring(*syms.address("linux_banner"), 512);
//   // (whole page-table walks, and user memory by process: AddressSpace)
#pragma once

#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "kernel-model/kernel_layout.hpp"
#include "kernel-model/page_table.hpp"
#include "readers/dump_source.hpp"

namespace kdive {

class KernelMemory {
 public:
  KernelMemory(DumpSource& dump, KernelLayout layout);

  const KernelLayout& layout() const { return layout_; }
  DumpSource& dump() const { return dump_; }
  const PageTableWalker& walker() const { return walker_; }

  // Kernel virtual to physical; throws Fault when unmapped.
  PhysAddr to_phys(VirtAddr v) const;
  // The direct-map address of a physical address.
  VirtAddr to_direct(PhysAddr p) const { return layout_.page_offset + p.value(); }
  bool in_direct_map(VirtAddr v) const;

  void read(VirtAddr v, std::span<std::byte> out) const;
  // Through the page table at `pgd`; a Fault says Space::User.
  void read_user(PhysAddr pgd, VirtAddr v, std::span<std::byte> out) const;
  void read_phys(PhysAddr p, std::span<std::byte> out) const;

  // crash's `set zero_excluded on`: a page the dump held but filtered out
  // (PageState::Excluded) reads as zeros instead of throwing Fault. Off by
  // default: a zero read from a filtered page would pass for data. A page
  // inside the dump's layout whose bytes the file lacks (a truncated ELF
  // segment, a page an incomplete kdump never wrote) reads as zeros too, as
  // crash zero-fills a short read; holes between or past the dumped ranges
  // still fault. Page tables are walked as before: an excluded table maps
  // nothing either way.
  void set_zero_excluded(bool on) { zero_excluded_ = on; }
  bool zero_excluded() const { return zero_excluded_; }

  template <typename T>
  T read(VirtAddr v) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    read(v, {reinterpret_cast<std::byte*>(&value), sizeof(T)});
    return value;
  }
  // A NUL-terminated string of at most max_len bytes.
  std::string read_cstring(VirtAddr v, size_t max_len) const;
  // A pointer stored in kernel memory (x86_64: 8 bytes, little-endian).
  VirtAddr read_pointer(VirtAddr v) const { return VirtAddr{read<uint64_t>(v)}; }
  static constexpr uint64_t kPointerSize = 8;

 private:
  template <typename Addr, typename Translate>
  void read_pages(Addr start, std::span<std::byte> out, Translate translate) const;

  DumpSource& dump_;
  KernelLayout layout_;
  PageTableWalker walker_;
  uint64_t direct_map_size_;
  bool zero_excluded_ = false;
};

}  // namespace kdive
