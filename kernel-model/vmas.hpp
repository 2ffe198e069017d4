// A process's memory map: its mm_struct and the VMAs (struct vm_area_struct)
// in it, in address order, as /proc/PID/maps lists them.
//
// Where the VMAs are kept is probed, never inferred from the version: 6.1
// keeps them in a maple tree (mm_struct.mm_mt; commit 763ecb035029 "mm:
// remove the vma linked list" dropped mm->mmap and vm_next), earlier kernels
// in a list sorted by address (mm->mmap, vm_area_struct.vm_next) beside an
// rbtree (mm->mm_rb, vm_area_struct.vm_rb). A dump comes from a failed
// kernel, so the walks recover: the maple tree walk skips a damaged node and
// goes on; on a list kernel the list is followed until it breaks (unreadable,
// a loop, addresses that do not rise) and the rbtree supplies the VMAs behind
// the break. Each place a walk lost something is a WalkBreak; a VMA whose
// fields cannot be read is an entry with `error`. The number found is checked
// against mm->map_count, so a link zeroed into a plausible NULL is still seen.
//
//   MmVmas m = read_mm_vmas(kernel, task.mm);
//   for (const Vma& v : m.vmas.entries) ... v.start, v.end, v.flags, v.path ...
//   for (const WalkBreak& b : m.vmas.breaks) ... b.describe() ...
//   const Vma* v = find_vma(m.vmas, VirtAddr{0x7f0000200000});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// vm_flags bits that /proc/PID/maps shows (include/linux/mm.h; the same on
// every kernel kdive reads).
constexpr uint64_t kVmRead = 0x1;
constexpr uint64_t kVmWrite = 0x2;
constexpr uint64_t kVmExec = 0x4;
constexpr uint64_t kVmShared = 0x8;
constexpr uint64_t kVmMayShare = 0x80;
constexpr uint64_t kVmHugetlb = 0x400000;

struct Vma {
  VirtAddr address;  // the struct vm_area_struct
  uint64_t start = 0, end = 0;
  uint64_t flags = 0;  // vm_flags
  uint64_t pgoff = 0;  // vm_pgoff: the file offset of start, in pages
  VirtAddr file;       // vm_file; null for an anonymous mapping
  VirtAddr anon_vma;
  VirtAddr mm;        // vm_mm: the mm_struct the VMA belongs to
  std::string path;   // vm_file's name as /proc shows it; "" when anonymous
  std::string error;  // set when this VMA (or its file) could not be read

  // "rw-p", as /proc/PID/maps prints the flags (s: VM_MAYSHARE).
  std::string permissions() const;
  bool contains(VirtAddr v) const { return v.value() >= start && v.value() < end; }
};

struct MmVmas {
  VirtAddr mm;
  VirtAddr pgd;  // mm->pgd, a kernel virtual address
  uint64_t map_count = 0;
  Walked<Vma> vmas;
};

// Throws Fault when the mm_struct itself cannot be read; damage below it is
// in the result.
MmVmas read_mm_vmas(const Kernel& k, VirtAddr mm);

// An address a user gave as an mm_struct (vm -M): read as read_mm_vmas does,
// but first checked that it is one — readable, with a page-aligned kernel pgd,
// and VMAs whose vm_mm points back at it. Throws Error(BadData) saying why not.
MmVmas read_given_mm(const Kernel& k, VirtAddr mm);

// The mm_struct of the vm_area_struct at `vma` (vm -P): its vm_mm, once that
// mm's own walk has found a VMA at this address. Throws Error(BadData) when the
// address is not a VMA of the mm it names.
VirtAddr vma_owner(const Kernel& k, VirtAddr vma);

// The VMA holding `v`, or nullptr.
const Vma* find_vma(const Walked<Vma>& vmas, VirtAddr v);

}  // namespace kdive
