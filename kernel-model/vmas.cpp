#include "kernel-model/vmas.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/maple_tree.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/rbtree_walk.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

std::string Vma::permissions() const {
  std::string p;
  p += (flags & kVmRead) ? 'r' : '-';
  p += (flags & kVmWrite) ? 'w' : '-';
  p += (flags & kVmExec) ? 'x' : '-';
  p += (flags & kVmMayShare) ? 's' : 'p';
  return p;
}

const Vma* find_vma(const Walked<Vma>& vmas, VirtAddr v) {
  for (const Vma& vma : vmas.entries) {
    if (vma.error.empty() && vma.contains(v)) return &vma;
  }
  return nullptr;
}

namespace {

// The most VMAs a process may have (the kernel's default vm.max_map_count is
// 65530; allow for a raised sysctl): more means the links loop.
constexpr size_t kMaxVmas = 1u << 20;

Vma read_vma(const Kernel& k, VirtAddr address) {
  Vma v;
  v.address = address;
  try {
    Object vma = k.object(address, "struct vm_area_struct");
    v.start = vma["vm_start"].as_u64();
    v.end = vma["vm_end"].as_u64();
    // vm_flags became a union member (const vm_flags_t vm_flags / __vm_flags)
    // in 6.3 ("mm: introduce vma->vm_flags wrapper functions"); the name still resolves through the anonymous union.
    v.flags = vma["vm_flags"].as_u64();
    v.pgoff = vma["vm_pgoff"].as_u64();
    v.file = vma["vm_file"].pointer();
    v.anon_vma = vma["anon_vma"].pointer();
    v.mm = vma["vm_mm"].pointer();
    if (v.start >= v.end) {
      v.error = fmt::format("vm_area_struct {:x}: vm_start {:x} is not below vm_end {:x}", address, v.start, v.end);
      return v;
    }
    if (!v.file.is_null()) {
      try {
        v.path = file_path(k, v.file);
      } catch (const ModelError& e) {
        v.error = fmt::format("vm_file {:x}: {}", v.file, e.what());
      }
    }
  } catch (const ModelError& e) {
    v.error = fmt::format("vm_area_struct {:x}: {}", address, e.what());
  }
  return v;
}

// 6.1+: the VMAs are the maple tree's entries.
Walked<Vma> maple_vmas(const Kernel& k, const Object& mm) {
  Walked<MapleEntry> w = walk_maple_entries(k, mm["mm_mt"].address(), kMaxVmas);
  Walked<Vma> out{{}, std::move(w.breaks)};
  for (const MapleEntry& e : w.entries) {
    Vma v = read_vma(k, VirtAddr{e.value});
    // The tree's range must be the VMA's own: [vm_start, vm_end - 1].
    if (v.error.empty() && (v.start != e.first || v.end != e.last + 1)) {
      v.error = fmt::format("vm_area_struct {:x}: covers {:x}-{:x}, the maple tree says {:x}-{:x}", v.address, v.start,
                            v.end, e.first, e.last + 1);
    }
    out.entries.push_back(std::move(v));
  }
  return out;
}

// Before 6.1: mm->mmap, linked through vm_next in address order; behind a
// break, the rbtree mm->mm_rb (in order: by address) supplies the VMAs above
// the last one the list reached.
Walked<Vma> list_vmas(const Kernel& k, const Object& mm, uint64_t map_count) {
  Walked<Vma> out;
  std::set<uint64_t> seen;
  uint64_t next = mm["mmap"].as_u64();
  uint64_t last_end = 0;
  const uint64_t next_offset = member_offset(k.types().require("struct vm_area_struct"), "vm_next");
  while (next != 0) {
    const VirtAddr at{next};
    std::string problem;
    if (out.entries.size() >= kMaxVmas) {
      problem = fmt::format("more than {} VMAs", kMaxVmas);
    } else if (!seen.insert(next).second) {
      problem = "vm_next loops back to an earlier VMA";
    }
    Vma v;
    if (problem.empty()) {
      v = read_vma(k, at);
      if (!v.error.empty()) {
        problem = v.error;
      } else if (v.start < last_end) {
        problem = fmt::format("starts at {:x}, below the previous VMA's end {:x}", v.start, last_end);
      }
    }
    if (!problem.empty()) {
      out.breaks.push_back({out.entries.size(), at, problem});
      break;
    }
    last_end = v.end;
    out.entries.push_back(std::move(v));
    try {
      next = k.memory().read<uint64_t>(at + next_offset);
    } catch (const ModelError& e) {
      out.breaks.push_back({out.entries.size(), at + next_offset, fmt::format("vm_next: {}", e.what())});
      break;
    }
  }
  if (out.breaks.empty()) {
    if (out.entries.size() == map_count) return out;
    // A vm_next zeroed into NULL ends the list early without a trace but the count.
    out.breaks.push_back(
        {out.entries.size(), out.entries.empty() ? mm.address() : out.entries.back().address,
         fmt::format("the VMA list ends after {} VMAs, mm_struct.map_count is {}", out.entries.size(), map_count)});
  }
  // Recover the rest from the rbtree.
  const uint64_t rb_offset = member_offset(k.types().require("struct vm_area_struct"), "vm_rb");
  Walked<VirtAddr> tree = walk_rbtree_entries(k.memory(), mm["mm_rb"].address(), rb_offset, kMaxVmas);
  for (VirtAddr a : tree.entries) {
    if (seen.contains(a.value())) continue;
    Vma v = read_vma(k, a);
    if (v.error.empty() && v.start < last_end) continue;  // the list had it, or it overlaps what it had
    if (v.error.empty()) last_end = v.end;
    seen.insert(a.value());
    out.entries.push_back(std::move(v));
  }
  for (WalkBreak& b : tree.breaks) {
    b.position = out.entries.size();
    b.reason = "mm_rb: " + b.reason;
    out.breaks.push_back(std::move(b));
  }
  return out;
}

}  // namespace

MmVmas read_mm_vmas(const Kernel& k, VirtAddr mm_address) {
  MmVmas out;
  out.mm = mm_address;
  Object mm = k.object(mm_address, "struct mm_struct");
  out.pgd = mm["pgd"].pointer();
  out.map_count = mm["map_count"].as_u64();
  out.vmas = mm.has_member("mm_mt") ? maple_vmas(k, mm) : list_vmas(k, mm, out.map_count);
  // A link zeroed into a plausible NULL ends a walk without a trace: the
  // kernel's own count tells.
  if (out.vmas.complete() && out.vmas.entries.size() != out.map_count) {
    out.vmas.breaks.push_back(
        {out.vmas.entries.size(), mm_address,
         fmt::format("mm_struct.map_count is {}, {} VMAs found", out.map_count, out.vmas.entries.size())});
  }
  return out;
}

MmVmas read_given_mm(const Kernel& k, VirtAddr mm) {
  MmVmas m;
  try {
    m = read_mm_vmas(k, mm);
  } catch (const Fault& f) {
    throw Error(Error::Kind::BadData, fmt::format("not an mm_struct: {}", f.what()));
  }
  // A page table is a whole page of the direct map.
  if (m.pgd.is_null() || (m.pgd.value() & 0xfff) != 0 || m.pgd < kLowestKernelAddress) {
    throw Error(Error::Kind::BadData, fmt::format("not an mm_struct: its pgd would be {:x}", m.pgd));
  }
  // Every VMA points back at its mm (vm_area_struct.vm_mm): the one check an
  // arbitrary address cannot pass by chance.
  bool owned = false;
  for (const Vma& v : m.vmas.entries) {
    if (!v.error.empty()) continue;
    if (v.mm != mm) {
      throw Error(Error::Kind::BadData,
                  fmt::format("not an mm_struct: its VMA {:x} belongs to mm {:x}", v.address, v.mm));
    }
    owned = true;
  }
  if (!owned && m.map_count != 0) {
    throw Error(Error::Kind::BadData, "not an mm_struct: none of its VMAs can be read");
  }
  return m;
}

VirtAddr vma_owner(const Kernel& k, VirtAddr vma) {
  Vma v = read_vma(k, vma);
  // A VMA whose file cannot be named is still a VMA; one whose own fields
  // cannot be read, or make no range, is not one.
  if (!v.error.empty() && (v.mm.is_null() || v.start >= v.end)) {
    throw Error(Error::Kind::BadData, fmt::format("not a vm_area_struct ({})", v.error));
  }
  MmVmas m;
  try {
    m = read_mm_vmas(k, v.mm);
  } catch (const ModelError& e) {
    throw Error(Error::Kind::BadData, fmt::format("not a vm_area_struct: its vm_mm {:x}: {}", v.mm, e.what()));
  }
  for (const Vma& e : m.vmas.entries) {
    if (e.address == vma) return v.mm;
  }
  throw Error(Error::Kind::BadData, fmt::format("not a vm_area_struct: not among the VMAs of its vm_mm {:x}", v.mm));
}

}  // namespace kdive
