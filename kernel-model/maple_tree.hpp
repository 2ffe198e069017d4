// Maple trees (6.1+, commit 54a611b60590): B-trees of ranges that hold, among
// others, a process's VMAs (mm_struct.mm_mt). A walk returns each present entry
// with the range [first, last] it covers, in order, and the slot path from the
// root. It is bounded: a node reached twice, pivots that go backwards or leave
// their parent's range, a tree deeper than the kernel allows, or more entries
// than `limit` throw Error(BadData).
//
// How the kernel encodes a tree (include/linux/maple_tree.h, lib/maple_tree.c):
//  * maple_tree.ma_root holds NULL, a single entry for index 0, or a node
//    pointer: an "internal" value (low bits 10) above 4096.
//  * A node pointer ("enode") carries the node type in bits 3..6 — maple_dense,
//    maple_leaf_64, maple_range_64, maple_arange_64 — and the node is the
//    256-byte-aligned address (low 8 bits cleared).
//  * range_64/leaf_64 nodes are struct maple_range_64 { parent; pivot[15];
//    slot[16] }, arange_64 nodes struct maple_arange_64 { parent; pivot[9];
//    slot[10]; gap[10]; meta }, dense nodes struct maple_node { parent;
//    slot[31] } with one index per slot. Slot i covers (pivot[i-1], pivot[i]];
//    the last used slot runs to the node's maximum; an unused pivot is 0.
// The offsets and array sizes come from DWARF.
//
//   MapleLayout layout = maple_layout(k.types());
//   for (const MapleEntry& e : maple_entries(k, mm + mm_mt_offset))
//     vma = e.value;   // covers [e.first, e.last] = [vm_start, vm_end - 1]
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kernel-model/containers.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;
class TypeSystem;

struct MapleLayout {
  struct NodeKind {
    uint64_t pivots = 0;  // offset of pivot[] in the node (range kinds)
    uint64_t slots = 0;   // offset of slot[]
    uint32_t pivot_count = 0;
    uint32_t slot_count = 0;
  };
  uint64_t root = 0;  // offset of maple_tree.ma_root
  uint64_t node_size = 256;
  NodeKind dense;     // maple_node.slot[]
  NodeKind range64;   // maple_range_64: leaf_64 and range_64 nodes
  NodeKind arange64;  // maple_arange_64
};

// Throws Error(Lookup) when the kernel has no maple tree types (before 6.1).
MapleLayout maple_layout(TypeSystem& types);
// Whether the kernel has maple trees at all.
bool has_maple_tree(TypeSystem& types);

struct MapleEntry {
  uint64_t first;
  uint64_t last;
  uint64_t value;
  std::vector<uint8_t> path;  // slot offsets from the root; empty: the root holds the entry
};

// Walks the tree whose ma_root has the value `root`. NULL slots and reserved
// internal values (below 4096) are gaps, not entries.
size_t walk_maple_tree(const KernelMemory& mem, const MapleLayout& layout, uint64_t root,
                       const std::function<bool(const MapleEntry&)>& visit, size_t limit = kMaxListEntries);

// The entries of the struct maple_tree at `tree`.
std::vector<MapleEntry> maple_entries(const Kernel& k, VirtAddr tree, size_t limit = kMaxListEntries);

}  // namespace kdive
