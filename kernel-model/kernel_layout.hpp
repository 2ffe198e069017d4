// KernelLayout: where the running kernel was in memory — the KASLR offset, the
// physical load base, 4- or 5-level paging, the kernel page table and the bases
// of the randomized regions (direct map, vmalloc, vmemmap).
//
// find_kernel_layout() tries, in order, and records which way worked:
//  1. VMCOREINFO (KERNELOFFSET or SYMBOL(_stext), NUMBER(phys_base), ...);
//  2. QEMU's CPU-state notes: CR3 gives a live page table whose kernel half maps
//     the kernel image; the mapped 2 MiB chunk that holds the vmlinux's
//     linux_banner bytes fixes the KASLR offset (for dumps taken without
//     `-device vmcoreinfo`, which drgn refuses);
//  3. a scan of physical memory for the linux_banner string at 2 MiB-aligned
//     kernel load addresses, then the kernel's own page table (init_top_pgt).
// Either way the banner in memory is compared with the vmlinux's: a different
// banner means the vmlinux does not belong to the dump (Error::Kind::Mismatch).
//
//   KernelLayout layout = find_kernel_layout(dump, vmlinux);   // relocates symbols
//   layout.source;   // "VMCOREINFO"
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kernel-model/vmlinux.hpp"
#include "readers/dump_source.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive {

struct KernelLayout {
  uint64_t kaslr_offset = 0;
  uint64_t phys_base = 0;
  uint64_t image_size = 1ull << 30;  // KERNEL_IMAGE_SIZE: the kernel-text mapping's extent
  int levels = 4;
  uint64_t sme_mask = 0;
  PhysAddr kernel_pgd;     // physical address of init_top_pgt
  VirtAddr page_offset;    // base of the direct map (page_offset_base)
  VirtAddr vmalloc_start;  // vmalloc_base
  VirtAddr vmemmap_start;  // vmemmap_base
  // False when page_offset is not known (a layout from VMCOREINFO alone, which
  // does not carry page_offset_base): then every address that is not in the
  // kernel image is translated through the page tables, which map the direct
  // map too.
  bool direct_map_known = true;
  std::string source;  // how the layout was found, for `sys` and errors

  // Whether an address is in the kernel-text mapping (__START_KERNEL_map up).
  bool in_image(VirtAddr vaddr) const { return vaddr >= kStartKernelMap && vaddr - kStartKernelMap < image_size; }
  // Kernel-image virtual address to physical, without a page-table walk.
  std::optional<PhysAddr> image_to_phys(VirtAddr vaddr) const {
    if (!in_image(vaddr)) return std::nullopt;
    return PhysAddr{vaddr - kStartKernelMap + phys_base};
  }
};

struct LayoutOptions {
  bool ignore_mismatch = false;  // go on with a vmlinux that does not match the dump
};

// Throws Error (Mismatch, Unsupported) when the kernel cannot be located.
KernelLayout find_kernel_layout(DumpSource& dump, Vmlinux& vmlinux, const VmcoreInfo& info, LayoutOptions options = {});

// The layout from the dump's VMCOREINFO alone, with no vmlinux (the dump
// filter's case): KERNELOFFSET, NUMBER(phys_base) (or the kdump header's),
// SYMBOL(init_top_pgt), NUMBER(pgtable_l5_enabled), NUMBER(sme_mask),
// NUMBER(KERNEL_IMAGE_SIZE), SYMBOL(vmemmap) and NUMBER(VMALLOC_START) when
// the kernel gives them. The direct map's base is not among them
// (direct_map_known is false). Throws Error(Unsupported) naming the first key
// it needs and the dump lacks.
//   KernelLayout layout = layout_from_vmcoreinfo(info, dump.notes());
//   KernelMemory memory(dump, layout);
KernelLayout layout_from_vmcoreinfo(const VmcoreInfo& info, const DumpNotes& notes);

// Reads physical memory across page boundaries; nullopt if any page is not in the dump.
std::optional<std::vector<std::byte>> read_phys_range(DumpSource& dump, PhysAddr at, size_t length);

}  // namespace kdive
