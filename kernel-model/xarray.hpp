// Radix trees, XArrays and IDRs: the kernel's sparse arrays indexed by an
// unsigned long (the page cache's i_pages, the pid IDR, ...). Walks return the
// present entries in index order with each one's slot path from the root, and
// are bounded: a node reached twice, a child whose shift does not shrink, or
// more entries than `limit` throw Error(BadData).
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
//   XarrayLayout layout = xarray_layout(k.types());
//   for (const XarrayEntry& e : xarray_entries(k, mapping + i_pages_offset)) ...
//   for (const XarrayEntry& e : idr_entries(k, ns + idr_offset)) e.index;  // the id
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "kernel-model/containers.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;
class TypeSystem;

struct XarrayLayout {
  enum class Encoding { Xarray, RadixTree };
  Encoding encoding = Encoding::Xarray;
  uint64_t head = 0;         // offset of xarray.xa_head / radix_tree_root.rnode
  uint64_t node_shift = 0;   // offset of xa_node.shift (an unsigned char)
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

// Walks the tree whose head pointer (xa_head / rnode) has the value `head`.
// NULL slots and internal entries that are not nodes (retry, zero, sibling
// entries of multi-index entries) are not entries. Returns the number visited.
size_t walk_xarray(const KernelMemory& mem, const XarrayLayout& layout, uint64_t head,
                   const std::function<bool(const XarrayEntry&)>& visit, size_t limit = kMaxListEntries);

// The entries of the struct xarray / radix_tree_root at `root`.
std::vector<XarrayEntry> xarray_entries(const Kernel& k, VirtAddr root, size_t limit = kMaxListEntries);
// The entries of the struct idr at `idr`, each index being the id (idr_base added).
std::vector<XarrayEntry> idr_entries(const Kernel& k, VirtAddr idr, size_t limit = kMaxListEntries);

}  // namespace kdive
