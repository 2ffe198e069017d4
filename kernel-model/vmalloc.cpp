// Reading the busy vmalloc areas (see vmalloc.hpp).
#include "kernel-model/vmalloc.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"

namespace kdive {
namespace {

VmapArea read_area(const Kernel& k, VirtAddr address) {
  VmapArea a;
  a.area = address;
  try {
    Object va = k.object(address, "struct vmap_area");
    a.start = VirtAddr{va["va_start"].as_u64()};
    a.end = VirtAddr{va["va_end"].as_u64()};
    a.vm = VirtAddr{va["vm"].as_u64()};
    if (a.vm.value() != 0) {
      Object vm = k.object(a.vm, "struct vm_struct");
      a.vm_size = vm["size"].as_u64();
      a.caller = VirtAddr{vm["caller"].as_u64()};
      a.nr_pages = vm["nr_pages"].as_u64();
      a.phys_addr = vm["phys_addr"].as_u64();
    }
  } catch (const Fault& f) {
    a.error = f.what();
  }
  return a;
}

// The list heads of the busy areas: each vmap_node's busy.head from 6.9,
// else vmap_area_list.
std::vector<VirtAddr> busy_heads(const Kernel& k) {
  std::vector<VirtAddr> heads;
  if (k.find_symbol("vmap_nodes") != nullptr) {
    Object nodes = k.object("vmap_nodes");
    const uint64_t count = k.object("nr_vmap_nodes").as_u64();
    for (uint64_t i = 0; i < count; ++i) heads.push_back(nodes.at(i)["busy"]["head"].address());
  } else {
    heads.push_back(k.symbol_address("vmap_area_list"));
  }
  return heads;
}

}  // namespace

Walked<VmapArea> read_vmap_areas(const Kernel& k) {
  const uint64_t link = k.structs().offset("vmap_area", "list");
  Walked<VmapArea> out;
  std::vector<WalkBreak> breaks;
  for (VirtAddr head : busy_heads(k)) {
    Walked<VirtAddr> w = walk_list(k.memory(), head, link);
    for (VirtAddr a : w.entries) out.entries.push_back(read_area(k, a));
    for (WalkBreak& b : w.breaks) breaks.push_back(std::move(b));
  }
  std::stable_sort(out.entries.begin(), out.entries.end(),
                   [](const VmapArea& a, const VmapArea& b) { return a.start < b.start; });
  // Breaks go at the end: after sorting, "where in the list" is no place in the output.
  for (WalkBreak& b : breaks) {
    b.position = out.entries.size();
    out.breaks.push_back(std::move(b));
  }
  return out;
}

const VmapArea* find_vmap_area(const Walked<VmapArea>& areas, VirtAddr address) {
  for (const VmapArea& a : areas.entries) {
    if (a.error.empty() && address >= a.start && address < a.end) return &a;
  }
  return nullptr;
}

}  // namespace kdive
