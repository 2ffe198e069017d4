// Radix trees, XArrays and IDRs: the kernel's sparse arrays indexed by an
// unsigned long (the page cache's i_pages, the pid IDR, ...). Walks return the
// present entries in index order with each one's slot path from the root.
//
// A dump's trees may be damaged, so each node is checked against the slot it
// hangs from before its slots are taken: its parent pointer names the node
// above (NULL for the top node), its offset is that slot's number, its shift
// is one level below the parent's, its count of used slots is 1 to the slot
// count, and its array (root) pointer names the tree's root. A node that fails,
// cannot be read or is reached twice is a WalkBreak naming the node and the
// indexes whose entries are lost ("indexes 64-127 not read"); the walk skips
// that subtree and goes on. More entries than `limit` end the walk with a break.
//
// Two encodings exist, told apart by the member names DWARF gives:
//  * XArray (4.20+, commit f8d5d0cc145c): struct xarray { xa_head }, nodes are
//    internal entries (low bits 10, value > 4096) pointing at struct xa_node
//    { shift, slots[] }. Since then struct radix_tree_root is a #define for
//    struct xarray, so radix trees and XArrays are the same thing.
//  * the radix tree before it (4.7 to 4.19): struct radix_tree_root { rnode },
//    nodes tagged with low bit 1 (RADIX_TREE_INTERNAL_NODE) pointing at struct
//    radix_tree_node { shift, slots[] }.
//
//   Walked<XarrayEntry> pids = walk_idr(k, ns + idr_offset);
//   for (const XarrayEntry& e : pids.entries) e.index;   // the id; e.value the struct pid
//   for (const WalkBreak& b : pids.breaks) b.describe();  // "ffff...: xa_node's parent is 0, ..."
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

struct XarrayLayout {
  enum class Encoding { Xarray, RadixTree };
  Encoding encoding = Encoding::Xarray;
  uint64_t head = 0;                    // offset of xarray.xa_head / radix_tree_root.rnode
  uint64_t node_shift = 0;              // offset of xa_node.shift (an unsigned char)
  uint64_t node_offset = 1;             // offset of xa_node.offset: the slot of the parent it hangs from
  uint64_t node_count = 2;              // offset of xa_node.count: its slots in use
  uint32_t count_size = 1;              // bytes of count: an unsigned char, an unsigned int in early radix trees
  std::optional<uint64_t> node_parent;  // offset of xa_node.parent
  // offset of xa_node.array / radix_tree_node.root (4.10+): the root it belongs to
  std::optional<uint64_t> node_array;
  uint64_t node_slots = 0;   // offset of xa_node.slots[]
  uint32_t slot_count = 64;  // XA_CHUNK_SIZE: 64, or 16 with CONFIG_BASE_SMALL
  // struct idr { idr_rt; idr_base; } — idr_base since 4.16 (commit 6ce711f27500).
  uint64_t idr_rt = 0;
  std::optional<uint64_t> idr_base;
};

// Probes DWARF for the encoding and offsets; throws Error(Lookup) naming what
// is missing.
XarrayLayout xarray_layout(TypeSystem& types);

struct XarrayEntry {
  uint64_t index;
  uint64_t value;             // the entry as stored (value entries keep their tag bit 1)
  std::vector<uint8_t> path;  // slot offsets from the root; empty: held in the head itself
};

// Where a walk starts.
struct XarrayWalk {
  uint64_t head = 0;  // the head pointer's value (xa_head / rnode, as stored)
  // The struct xarray / radix_tree_root holding `head`: the top node's parent
  // must then be NULL and every node must name this root. Unset when the walk
  // starts at a node given by the user (tree -N), whose place is not known.
  std::optional<VirtAddr> root = std::nullopt;
  size_t limit = kMaxListEntries;
};

// Calls visit() for each entry in index order until it returns false, and
// on_break() at each damaged node (its subtree is skipped) or where the walk
// stops; a break's position is the number of entries visited before it. NULL
// slots and internal entries that are not nodes (retry, zero, sibling entries
// of multi-index entries) are not entries. Returns the number visited.
size_t walk_xarray(const KernelMemory& mem, const XarrayLayout& layout, const XarrayWalk& walk,
                   const std::function<bool(const XarrayEntry&)>& visit,
                   const std::function<void(const WalkBreak&)>& on_break);

// The entries of the struct xarray / radix_tree_root at `root`.
Walked<XarrayEntry> walk_xarray_entries(const Kernel& k, VirtAddr root, size_t limit = kMaxListEntries);
// The entries of the struct idr at `idr`, each index being the id (idr_base added).
Walked<XarrayEntry> walk_idr(const Kernel& k, VirtAddr idr, size_t limit = kMaxListEntries);

// The strict forms: the entries, or Error(BadData) naming the first break.
std::vector<XarrayEntry> xarray_entries(const Kernel& k, VirtAddr root, size_t limit = kMaxListEntries);
std::vector<XarrayEntry> idr_entries(const Kernel& k, VirtAddr idr, size_t limit = kMaxListEntries);

}  // namespace kdive
