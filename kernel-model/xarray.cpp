#include "kernel-model/xarray.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// include/linux/xarray.h: entries whose low two bits are 10 are "internal";
// those above 4096 are node pointers (plus 2), those below are the sibling
// (0..62), retry (256) and zero (257) markers.
constexpr uint64_t kXaNodeMin = 4096;
// A slot index always fits in an unsigned long: a top shift past 63 is garbage.
constexpr unsigned kMaxShift = 63;

// "index 5", "indexes 64-127", or every index for a top node.
std::string index_range(uint64_t first, uint64_t last) {
  if (first == 0 && last == std::numeric_limits<uint64_t>::max()) return "every index";
  if (first == last) return fmt::format("index {}", first);
  return fmt::format("indexes {}-{}", first, last);
}

// Where a node hangs in the tree, as the walk reached it: what the node must
// say about itself, and the indexes it covers.
struct Place {
  bool top = false;
  uint64_t parent = 0;                           // the node above (0 for the top node)
  unsigned offset = 0;                           // the parent's slot it hangs from
  std::optional<unsigned> shift = std::nullopt;  // one level below the parent's (unknown for the top node)
  uint64_t first = 0;                            // the indexes it covers
  uint64_t last = std::numeric_limits<uint64_t>::max();
};

class Walker {
 public:
  Walker(const KernelMemory& mem, const XarrayLayout& layout, const XarrayWalk& walk,
         const std::function<bool(const XarrayEntry&)>& visit, const std::function<void(const WalkBreak&)>& on_break)
      : mem_(mem), layout_(layout), walk_(walk), visit_(visit), on_break_(on_break) {
    node_bytes_ = layout_.node_slots + 8ull * layout_.slot_count;
    auto cover = [&](uint64_t offset, uint64_t size) { node_bytes_ = std::max(node_bytes_, offset + size); };
    cover(layout_.node_shift, 1);
    cover(layout_.node_offset, 1);
    cover(layout_.node_count, layout_.count_size);
    if (layout_.node_parent) cover(*layout_.node_parent, 8);
    if (layout_.node_array) cover(*layout_.node_array, 8);
  }

  void run() {
    const uint64_t head = walk_.head;
    if (head == 0) return;
    if (auto node = node_of(head)) {
      walk_node(*node, Place{.top = true}, {});
      return;
    }
    if (is_entry(head)) emit(head, 0, head, {});
  }

  size_t count() const { return count_; }

 private:
  bool xarray() const { return layout_.encoding == XarrayLayout::Encoding::Xarray; }
  const char* node_type() const { return xarray() ? "xa_node" : "radix_tree_node"; }
  unsigned chunk_shift() const {
    unsigned bits = 0;
    while ((2u << bits) <= layout_.slot_count) ++bits;
    return bits == 0 ? 1 : bits;
  }

  // The node an entry points to, if it is a node pointer.
  std::optional<uint64_t> node_of(uint64_t e) const {
    if (xarray()) {
      if ((e & 3) == 2 && e > kXaNodeMin) return e - 2;
      return std::nullopt;
    }
    // Radix tree: RADIX_TREE_INTERNAL_NODE (bit 0) marks nodes, and also the
    // retry entry (1 alone) and sibling entries (pointers into the parent's
    // own slots), which the caller filters out.
    if ((e & 3) == 1 && e > kXaNodeMin) return e - 1;
    return std::nullopt;
  }

  // A slot value that is a real entry (not NULL, not an internal marker).
  bool is_entry(uint64_t e) const {
    if (e == 0) return false;
    return xarray() ? (e & 3) != 2 : (e & 3) != 1;
  }

  void lose(uint64_t at, std::string reason) { on_break_(WalkBreak{count_, VirtAddr{at}, std::move(reason)}); }

  // Returns false once the walk must stop (the visitor asked, or the limit).
  bool emit(uint64_t node, uint64_t index, uint64_t value, const std::vector<uint8_t>& path) {
    if (count_ >= walk_.limit) {
      lose(node, fmt::format("more than {} entries: the walk stops here", walk_.limit));
      return false;
    }
    ++count_;
    return visit_(XarrayEntry{index, value, path});
  }

  uint64_t field(const std::vector<std::byte>& bytes, uint64_t offset, size_t size) const {
    uint64_t v = 0;
    std::memcpy(&v, bytes.data() + offset, size);  // little-endian: the low bytes
    return v;
  }

  // What is wrong with the node read into `bytes` at `place`, or "" when
  // nothing is. Sets `shift`.
  std::string damage(const std::vector<std::byte>& bytes, const Place& place, unsigned* shift) const {
    *shift = static_cast<unsigned>(field(bytes, layout_.node_shift, 1));
    // Every level takes log2(slot_count) bits of the index (XA_CHUNK_SHIFT).
    if (place.shift && *shift != *place.shift) {
      return fmt::format("{}'s shift is {}, not {} (one level below its parent's)", node_type(), *shift, *place.shift);
    }
    if (*shift > kMaxShift || *shift % chunk_shift() != 0) {
      return fmt::format("{}'s shift {} is not a whole number of levels", node_type(), *shift);
    }
    // The top node's parent is NULL only when the walk began at the root.
    if (layout_.node_parent && (!place.top || walk_.root)) {
      const uint64_t parent = field(bytes, *layout_.node_parent, 8);
      if (parent != place.parent)
        return fmt::format("{}'s parent is {:x}, not {:x}", node_type(), parent, place.parent);
    }
    if (!place.top) {
      const uint64_t offset = field(bytes, layout_.node_offset, 1);
      if (offset != place.offset)
        return fmt::format("{}'s offset is {}, not {} (the slot it hangs from)", node_type(), offset, place.offset);
    }
    // An unsigned int count (the first radix trees with shift) also carried the
    // page cache's shadow-entry count in its upper bits: only a byte is checked.
    if (layout_.count_size == 1) {
      const uint64_t count = field(bytes, layout_.node_count, 1);
      // An emptied node is freed, never left in the tree (xas_delete_node).
      if (count == 0 || count > layout_.slot_count) {
        return fmt::format("{}'s count is {}, not 1 to {}", node_type(), count, layout_.slot_count);
      }
    }
    if (layout_.node_array && walk_.root) {
      const uint64_t array = field(bytes, *layout_.node_array, 8);
      if (array != walk_.root->value()) {
        return fmt::format("{} belongs to the tree at {:x}, not {:x}", node_type(), array, walk_.root->value());
      }
    }
    return "";
  }

  bool walk_node(uint64_t node, const Place& place, std::vector<uint8_t> path) {
    const std::string lost = index_range(place.first, place.last);
    if (!seen_.insert(node).second) {
      lose(node, fmt::format("{} reached before; {} not read", node_type(), lost));
      return true;
    }
    std::vector<std::byte> bytes(node_bytes_);
    try {
      mem_.read(VirtAddr{node}, bytes);
    } catch (const Fault& f) {
      lose(node, fmt::format("{} unreadable ({}); {} not read", node_type(), f.what(), lost));
      return true;
    }
    unsigned shift = 0;
    if (std::string why = damage(bytes, place, &shift); !why.empty()) {
      lose(node, fmt::format("{}; {} not read", why, lost));
      return true;
    }
    const uint64_t slots_at = node + layout_.node_slots;
    path.push_back(0);
    for (uint32_t i = 0; i < layout_.slot_count; ++i) {
      const uint64_t e = field(bytes, layout_.node_slots + 8ull * i, 8);
      if (e == 0) continue;
      // The top level of a 64-bit index uses only the slots whose index fits
      // (slots 0-15 at shift 60): anything set beyond is garbage.
      if (shift > 0 && (static_cast<uint64_t>(i) >> (64 - shift)) != 0) {
        lose(node,
             fmt::format("{}'s slot {} holds {:x}, past the largest index; that slot not read", node_type(), i, e));
        continue;
      }
      const uint64_t index = place.first + (static_cast<uint64_t>(i) << shift);
      path.back() = static_cast<uint8_t>(i);
      if (auto child = node_of(e)) {
        // A radix tree's sibling entries point into this node's own slots.
        if (!xarray() && *child >= slots_at && *child < slots_at + layout_.slot_count * 8ull) continue;
        if (shift == 0) {
          lose(*child, fmt::format("a node pointer in slot {} of leaf {} {:x}; index {} not read", i, node_type(), node,
                                   index));
          continue;
        }
        const unsigned child_shift = shift - chunk_shift();
        const Place below{.parent = node,
                          .offset = i,
                          .shift = child_shift,
                          .first = index,
                          .last = index + ((uint64_t{1} << shift) - 1)};
        if (!walk_node(*child, below, path)) return false;
        continue;
      }
      if (!is_entry(e)) continue;
      if (!emit(node, index, e, path)) return false;
    }
    return true;
  }

  const KernelMemory& mem_;
  const XarrayLayout& layout_;
  const XarrayWalk& walk_;
  const std::function<bool(const XarrayEntry&)>& visit_;
  const std::function<void(const WalkBreak&)>& on_break_;
  uint64_t node_bytes_ = 0;
  size_t count_ = 0;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

XarrayLayout xarray_layout(TypeSystem& types) {
  XarrayLayout l;
  auto member = [](const Type& t, std::string_view name) {
    auto m = t.member(name);
    if (!m) throw Error(Error::Kind::Lookup, fmt::format("{} has no member {}", t.spell(), name));
    return *m;
  };
  const Type* root = types.lookup("struct xarray");
  const Type* node = nullptr;
  if (root != nullptr && root->member("xa_head")) {
    l.encoding = XarrayLayout::Encoding::Xarray;
    l.head = member(*root, "xa_head").offset;
    node = &types.require("struct xa_node");
  } else {
    // Before 4.20 (commit f8d5d0cc145c) the radix tree had its own types.
    root = &types.require("struct radix_tree_root");
    l.encoding = XarrayLayout::Encoding::RadixTree;
    l.head = member(*root, "rnode").offset;
    node = &types.require("struct radix_tree_node");
    // node->shift replaced node->height in 4.7 (commit c12e51b07b2a).
    if (!node->member("shift")) {
      throw Error(Error::Kind::Unsupported, "struct radix_tree_node has no member shift (a kernel before 4.7)");
    }
  }
  l.node_shift = member(*node, "shift").offset;
  l.node_offset = member(*node, "offset").offset;
  Member count = member(*node, "count");
  l.node_count = count.offset;
  l.count_size = static_cast<uint32_t>(count.type->strip().size());
  if (l.count_size != 1 && l.count_size != 2 && l.count_size != 4) {
    throw Error(Error::Kind::BadData, fmt::format("{}.count has an odd size {}", node->spell(), l.count_size));
  }
  if (auto parent = node->member("parent")) l.node_parent = parent->offset;
  // The root a node belongs to: xa_node.array, radix_tree_node.root (4.10+).
  if (auto array = node->member("array")) {
    l.node_array = array->offset;
  } else if (auto root_member = node->member("root")) {
    l.node_array = root_member->offset;
  }
  Member slots = member(*node, "slots");
  l.node_slots = slots.offset;
  const Type& array = slots.type->strip();
  if (array.kind() != TypeKind::Array || !array.count() || *array.count() == 0 || *array.count() > 256) {
    throw Error(Error::Kind::BadData, fmt::format("{}.slots is not a sized array", node->spell()));
  }
  l.slot_count = static_cast<uint32_t>(*array.count());
  if (const Type* idr = types.lookup("struct idr")) {
    if (auto rt = idr->member("idr_rt")) l.idr_rt = rt->offset;
    if (auto base = idr->member("idr_base")) l.idr_base = base->offset;
  }
  return l;
}

size_t walk_xarray(const KernelMemory& mem, const XarrayLayout& layout, const XarrayWalk& walk,
                   const std::function<bool(const XarrayEntry&)>& visit,
                   const std::function<void(const WalkBreak&)>& on_break) {
  Walker w(mem, layout, walk, visit, on_break);
  w.run();
  return w.count();
}

namespace {

Walked<XarrayEntry> walk_root(const Kernel& k, const XarrayLayout& layout, VirtAddr root, size_t limit) {
  Walked<XarrayEntry> out;
  XarrayWalk walk{.root = root, .limit = limit};
  try {
    walk.head = k.memory().read<uint64_t>(root + layout.head);
  } catch (const Fault& f) {
    out.breaks.push_back(WalkBreak{0, root, fmt::format("tree root unreadable: {}", f.what())});
    return out;
  }
  walk_xarray(
      k.memory(), layout, walk,
      [&](const XarrayEntry& e) {
        out.entries.push_back(e);
        return true;
      },
      [&](const WalkBreak& b) { out.breaks.push_back(b); });
  return out;
}

}  // namespace

Walked<XarrayEntry> walk_xarray_entries(const Kernel& k, VirtAddr root, size_t limit) {
  return walk_root(k, xarray_layout(k.types()), root, limit);
}

Walked<XarrayEntry> walk_idr(const Kernel& k, VirtAddr idr, size_t limit) {
  XarrayLayout layout = xarray_layout(k.types());
  k.types().require("struct idr");
  uint64_t base = 0;
  if (layout.idr_base) {
    try {
      base = k.memory().read<uint32_t>(idr + *layout.idr_base);
    } catch (const Fault& f) {
      Walked<XarrayEntry> out;
      out.breaks.push_back(WalkBreak{0, idr, fmt::format("idr unreadable: {}", f.what())});
      return out;
    }
  }
  Walked<XarrayEntry> out = walk_root(k, layout, idr + layout.idr_rt, limit);
  for (XarrayEntry& e : out.entries) e.index += base;
  return out;
}

std::vector<XarrayEntry> xarray_entries(const Kernel& k, VirtAddr root, size_t limit) {
  return walk_xarray_entries(k, root, limit).all_or_throw("radix tree/xarray", root);
}

std::vector<XarrayEntry> idr_entries(const Kernel& k, VirtAddr idr, size_t limit) {
  return walk_idr(k, idr, limit).all_or_throw("radix tree/xarray", idr);
}

}  // namespace kdive
