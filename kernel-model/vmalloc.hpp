// The kernel's busy vmalloc areas (struct vmap_area, each with its struct
// vm_struct when it has one), in address order, as /proc/vmallocinfo walks
// them. Up to 6.8 they are on the global vmap_area_list; from 6.9 each
// vmap_node keeps its own busy list (commit d093602919ad, "mm: vmalloc: remove
// global vmap_area_root rb-tree"), walked node by node here and merged.
//
//   Walked<VmapArea> areas = read_vmap_areas(k);
//   for (const VmapArea& a : areas.entries) a.end - a.start;   // the guard page included
//   const VmapArea* a = find_vmap_area(areas, addr);            // the area holding addr
#pragma once

#include <cstdint>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct VmapArea {
  VirtAddr area;  // the struct vmap_area
  VirtAddr vm;    // its struct vm_struct (0: none, e.g. a vm_map_ram area)
  VirtAddr start, end;
  uint64_t vm_size = 0;  // vm_struct.size (what /proc/vmallocinfo prints)
  VirtAddr caller;       // vm_struct.caller: who allocated it
  uint64_t nr_pages = 0;
  uint64_t phys_addr = 0;
  // Set when the vmap_area could be listed but not read; the other fields are 0.
  std::string error;
};

// Every busy vmap_area the lists reach, sorted by start address; a list that
// breaks is a WalkBreak (its position in the sorted entries: where the walk stopped).
Walked<VmapArea> read_vmap_areas(const Kernel& k);

// The area whose [start, end) holds `address` (its guard page included, as
// the kernel reserves it with the area), or nullptr.
const VmapArea* find_vmap_area(const Walked<VmapArea>& areas, VirtAddr address);

}  // namespace kdive
