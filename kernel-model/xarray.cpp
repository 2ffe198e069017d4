#include "kernel-model/xarray.hpp"

#include <fmt/format.h>

#include <cstring>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// include/linux/xarray.h: entries whose low two bits are 10 are "internal";
// those above 4096 are node pointers (plus 2), those below are the sibling
// (0..62), retry (256) and zero (257) markers.
constexpr uint64_t kXaNodeMin = 4096;
// A slot index always fits in an unsigned long: a top shift past 63 is garbage.
constexpr unsigned kMaxShift = 63;

class Walker {
 public:
  Walker(const KernelMemory& mem, const XarrayLayout& layout, const std::function<bool(const XarrayEntry&)>& visit,
         size_t limit)
      : mem_(mem), layout_(layout), visit_(visit), limit_(limit) {}

  // Returns false once the visitor asked to stop.
  bool head(uint64_t head) {
    if (head == 0) return true;
    if (auto node = node_of(head)) return walk_node(*node, 0, kMaxShift + 1, {});
    if (!is_entry(head)) return true;
    return emit(0, head, {});
  }

  size_t count() const { return count_; }

 private:
  bool xarray() const { return layout_.encoding == XarrayLayout::Encoding::Xarray; }
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

  bool emit(uint64_t index, uint64_t value, const std::vector<uint8_t>& path) {
    if (count_ >= limit_) {
      throw Error(Error::Kind::BadData, fmt::format("radix tree/xarray has over {} entries", limit_));
    }
    ++count_;
    return visit_(XarrayEntry{index, value, path});
  }

  bool walk_node(uint64_t node, uint64_t base, unsigned parent_shift, std::vector<uint8_t> path) {
    if (!seen_.insert(node).second) {
      throw Error(Error::Kind::BadData, fmt::format("radix tree/xarray node {:x} is reached twice", node));
    }
    const unsigned shift = mem_.read<uint8_t>(VirtAddr{node} + layout_.node_shift);
    // Every level takes log2(slot_count) bits of the index (XA_CHUNK_SHIFT),
    // so a shift is a multiple of it, and shrinks from parent to child.
    if (shift > kMaxShift || shift >= parent_shift || shift % chunk_shift() != 0) {
      throw Error(Error::Kind::BadData,
                  fmt::format("radix tree/xarray node {:x} has shift {} under a parent of shift {}", node, shift,
                              parent_shift > kMaxShift ? 0 : parent_shift));
    }
    std::vector<uint64_t> slots(layout_.slot_count);
    const uint64_t slots_at = node + layout_.node_slots;
    mem_.read(VirtAddr{slots_at}, {reinterpret_cast<std::byte*>(slots.data()), slots.size() * sizeof(uint64_t)});
    path.push_back(0);
    for (uint32_t i = 0; i < layout_.slot_count; ++i) {
      const uint64_t e = slots[i];
      if (e == 0) continue;
      // The top level of a 64-bit index uses only the slots whose index fits
      // (slots 0-15 at shift 60): anything set beyond is garbage.
      if (shift > 0 && (static_cast<uint64_t>(i) >> (64 - shift)) != 0) {
        throw Error(
            Error::Kind::BadData,
            fmt::format("radix tree/xarray node {:x}: slot {} at shift {} is past the largest index", node, i, shift));
      }
      const uint64_t index = base + (static_cast<uint64_t>(i) << shift);
      path.back() = static_cast<uint8_t>(i);
      if (auto child = node_of(e)) {
        // A radix tree's sibling entries point into this node's own slots.
        if (!xarray() && *child >= slots_at && *child < slots_at + layout_.slot_count * 8ull) continue;
        if (shift == 0) {
          throw Error(Error::Kind::BadData,
                      fmt::format("radix tree/xarray leaf node {:x} holds a node pointer in slot {}", node, i));
        }
        if (!walk_node(*child, index, shift, path)) return false;
        continue;
      }
      if (!is_entry(e)) continue;
      if (!emit(index, e, path)) return false;
    }
    return true;
  }

  const KernelMemory& mem_;
  const XarrayLayout& layout_;
  const std::function<bool(const XarrayEntry&)>& visit_;
  size_t limit_;
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

size_t walk_xarray(const KernelMemory& mem, const XarrayLayout& layout, uint64_t head,
                   const std::function<bool(const XarrayEntry&)>& visit, size_t limit) {
  Walker w(mem, layout, visit, limit);
  w.head(head);
  return w.count();
}

std::vector<XarrayEntry> xarray_entries(const Kernel& k, VirtAddr root, size_t limit) {
  XarrayLayout layout = xarray_layout(k.types());
  std::vector<XarrayEntry> out;
  walk_xarray(
      k.memory(), layout, k.memory().read<uint64_t>(root + layout.head),
      [&](const XarrayEntry& e) {
        out.push_back(e);
        return true;
      },
      limit);
  return out;
}

std::vector<XarrayEntry> idr_entries(const Kernel& k, VirtAddr idr, size_t limit) {
  XarrayLayout layout = xarray_layout(k.types());
  k.types().require("struct idr");
  uint64_t base = 0;
  if (layout.idr_base) base = k.memory().read<uint32_t>(idr + *layout.idr_base);
  std::vector<XarrayEntry> out = xarray_entries(k, idr + layout.idr_rt, limit);
  for (XarrayEntry& e : out) e.index += base;
  return out;
}

}  // namespace kdive
