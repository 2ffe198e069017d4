// Maple trees (6.1+, commit 54a611b60590): B-trees of ranges that hold, among
// others, a process's VMAs (mm_struct.mm_mt). A walk returns each present entry
// with the range [first, last] it covers, in order, and the slot path from the
// root.
//
// A dump's trees may be damaged, so each node is checked before its slots are
// taken: it must be readable, not reached before, not deeper than the kernel
// builds, and its parent pointer must name the node above and the slot it
// hangs from (the top node's names the struct maple_tree, with bit 0 set); a
// node the kernel freed points to itself. Its pivots must rise and stay within
// the range its parent gives it. A node that fails is a WalkBreak naming the
// node and the index range lost ("0x5000-0x7fff not read"); the walk skips it
// and goes on. More entries than `limit` end the walk with a break.
//
// How the kernel encodes a tree (include/linux/maple_tree.h, lib/maple_tree.c):
//  * maple_tree.ma_root holds NULL, a single entry for index 0, or a node
//    pointer: an "internal" value (low bits 10) above 4096.
//  * A node pointer ("enode") carries the node type in bits 3..6 — maple_dense,
//    maple_leaf_64, maple_range_64, maple_arange_64 — and the node is the
//    256-byte-aligned address (low 8 bits cleared).
//  * maple_node.parent of a node below the top is the parent node's address
//    with the slot it hangs from in bits 3-7 and 0b110 (a 64-bit node) in
//    bits 0-2 (bits 2-7 and 0b?00 for the 16-bit nodes no 64-bit kernel builds).
//  * range_64/leaf_64 nodes are struct maple_range_64 { parent; pivot[15];
//    slot[16] }, arange_64 nodes struct maple_arange_64 { parent; pivot[9];
//    slot[10]; gap[10]; meta }, dense nodes struct maple_node { parent;
//    slot[31] } with one index per slot. Slot i covers (pivot[i-1], pivot[i]];
//    the last used slot runs to the node's maximum; an unused pivot is 0.
// The offsets and array sizes come from DWARF.
//
//   Walked<MapleEntry> vmas = walk_maple_entries(k, mm + mm_mt_offset);
//   for (const MapleEntry& e : vmas.entries)
//     vma = e.value;   // covers [e.first, e.last] = [vm_start, vm_end - 1]
//   for (const WalkBreak& b : vmas.breaks) b.describe();  // the node, and the range lost
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "kernel-model/list_walk.hpp"
#include "kernel-model/walk_break.hpp"
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
  uint64_t root = 0;    // offset of maple_tree.ma_root
  uint64_t parent = 0;  // offset of maple_node.parent
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

// Where a walk starts.
struct MapleWalk {
  uint64_t root = 0;  // ma_root's value, as stored
  // The struct maple_tree holding `root`: the top node's parent must name it.
  // Unset when the walk starts at a node given by the user (tree -N).
  std::optional<VirtAddr> tree = std::nullopt;
  size_t limit = kMaxListEntries;
};

// Calls visit() for each entry in index order until it returns false, and
// on_break() at each damaged node (the range it covers is skipped) or where
// the walk stops; a break's position is the number of entries visited before
// it. NULL slots and reserved internal values (below 4096) are gaps, not
// entries. Returns the number visited.
size_t walk_maple_tree(const KernelMemory& mem, const MapleLayout& layout, const MapleWalk& walk,
                       const std::function<bool(const MapleEntry&)>& visit,
                       const std::function<void(const WalkBreak&)>& on_break);

// The entries of the struct maple_tree at `tree`.
Walked<MapleEntry> walk_maple_entries(const Kernel& k, VirtAddr tree, size_t limit = kMaxListEntries);
// The strict form: the entries, or Error(BadData) naming the first break.
std::vector<MapleEntry> maple_entries(const Kernel& k, VirtAddr tree, size_t limit = kMaxListEntries);

}  // namespace kdive
