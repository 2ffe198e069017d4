#include "kernel-model/maple_tree.hpp"

#include <fmt/format.h>

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

// enum maple_type and the enode bits (include/linux/maple_tree.h).
enum MapleType : unsigned { kDense = 0, kLeaf64 = 1, kRange64 = 2, kArange64 = 3 };
constexpr unsigned kTypeShift = 3;
constexpr uint64_t kTypeMask = 0x0f;
constexpr uint64_t kNodeMask = 0xff;
constexpr uint64_t kRootNodeFlag = 0x02;   // MAPLE_ROOT_NODE on ma_root
constexpr uint64_t kReservedRange = 4096;  // MAPLE_RESERVED_RANGE
constexpr uint64_t kUlongMax = std::numeric_limits<uint64_t>::max();
// MAPLE_HEIGHT_MAX: the kernel never builds a taller tree.
constexpr unsigned kMaxHeight = 31;

bool is_internal(uint64_t e) { return (e & 3) == 2; }
// A slot value that is an entry: not NULL and not one of the reserved internal
// values (XA_ZERO_ENTRY, retry) that mark gaps.
bool is_entry(uint64_t e) { return e != 0 && !(is_internal(e) && e < kReservedRange); }

// The parent pointer's encoding (lib/maple_tree.c, "The Parent Pointer"):
// bit 0 marks the top node (whose parent is the tree); bit 1 set means a
// 32/64-bit parent with the slot in bits 3-7, clear a 16-bit one with the slot
// in bits 2-7.
constexpr uint64_t kParentRoot = 0x01;        // MAPLE_PARENT_ROOT
constexpr uint64_t kParentNotRange16 = 0x02;  // MAPLE_PARENT_NOT_RANGE16
constexpr uint64_t kParentSlotMask = 0xf8;    // MAPLE_PARENT_SLOT_MASK
constexpr unsigned kParentSlotShift = 3;      // MAPLE_PARENT_SLOT_SHIFT
constexpr uint64_t kParent16SlotMask = 0xfc;  // MAPLE_PARENT_16B_SLOT_MASK
constexpr unsigned kParent16SlotShift = 2;    // MAPLE_PARENT_16B_SLOT_SHIFT

unsigned parent_slot(uint64_t parent) {
  if (parent & kParentNotRange16) return static_cast<unsigned>((parent & kParentSlotMask) >> kParentSlotShift);
  return static_cast<unsigned>((parent & kParent16SlotMask) >> kParent16SlotShift);
}

std::string range(uint64_t first, uint64_t last) { return fmt::format("{:#x}-{:#x}", first, last); }

// Where a node hangs, as the walk reached it.
struct Place {
  bool top = false;
  uint64_t parent = 0;  // the node above (0 for the top node)
  unsigned slot = 0;    // the parent's slot it hangs from
  uint64_t min = 0;     // the range the parent gives it
  uint64_t max = kUlongMax;
};

class Walker {
 public:
  Walker(const KernelMemory& mem, const MapleLayout& layout, const MapleWalk& walk,
         const std::function<bool(const MapleEntry&)>& visit, const std::function<void(const WalkBreak&)>& on_break)
      : mem_(mem), layout_(layout), walk_(walk), visit_(visit), on_break_(on_break), buffer_(layout.node_size) {}

  void run() {
    const uint64_t root = walk_.root;
    if (is_internal(root) && root > kReservedRange) {
      const uint64_t enode = root & ~kRootNodeFlag;
      const uint64_t max = type_of(enode) == kDense ? layout_.dense.slot_count : kUlongMax;
      node(enode, Place{.top = true, .max = max}, 1, {});
      return;
    }
    if (is_entry(root)) emit(root, 0, 0, root, {});
  }

  size_t count() const { return count_; }

 private:
  static unsigned type_of(uint64_t enode) { return static_cast<unsigned>((enode >> kTypeShift) & kTypeMask); }

  void lose(uint64_t at, std::string reason) { on_break_(WalkBreak{count_, VirtAddr{at}, std::move(reason)}); }

  // Returns false once the walk must stop (the visitor asked, or the limit).
  bool emit(uint64_t node, uint64_t first, uint64_t last, uint64_t value, const std::vector<uint8_t>& path) {
    if (count_ >= walk_.limit) {
      lose(node, fmt::format("more than {} entries: the walk stops here", walk_.limit));
      return false;
    }
    ++count_;
    return visit_(MapleEntry{first, last, value, path});
  }

  uint64_t word(uint64_t offset) const {
    uint64_t v;
    std::memcpy(&v, buffer_.data() + offset, 8);
    return v;
  }

  // What is wrong with the parent pointer of the node at `addr`, or "".
  std::string parent_damage(uint64_t addr, const Place& place) const {
    const uint64_t parent = word(layout_.parent);
    // mte_set_node_dead: a freed node's parent is the node itself.
    if ((parent & ~kNodeMask) == addr) return "maple node is dead (its parent is itself: the node was freed)";
    if (place.top) {
      if (!walk_.tree) return "";  // a node given by the user: its place is not known
      const uint64_t expected = walk_.tree->value() | kParentRoot;
      if (parent != expected) return fmt::format("maple node's parent is {:x}, not the tree's {:x}", parent, expected);
      return "";
    }
    if (parent & kParentRoot) {
      return fmt::format("maple node's parent {:x} marks a top node, under node {:x}", parent, place.parent);
    }
    if ((parent & ~kNodeMask) != place.parent) {
      return fmt::format("maple node's parent is {:x}, not {:x}", parent & ~kNodeMask, place.parent);
    }
    if (parent_slot(parent) != place.slot) {
      return fmt::format("maple node's parent slot is {}, not {}", parent_slot(parent), place.slot);
    }
    return "";
  }

  // Returns false once the walk must stop.
  bool node(uint64_t enode, const Place& place, unsigned height, std::vector<uint8_t> path) {
    const unsigned type = type_of(enode);
    const uint64_t addr = enode & ~kNodeMask;
    const std::string lost = range(place.min, place.max);
    if (type > kArange64) {
      lose(addr, fmt::format("maple node pointer {:x} has an unknown node type {}; {} not read", enode, type, lost));
      return true;
    }
    if (addr == 0) {
      lose(addr, fmt::format("maple node pointer {:x} has no node; {} not read", enode, lost));
      return true;
    }
    if (height > kMaxHeight) {
      lose(addr, fmt::format("maple node deeper than {} levels; {} not read", kMaxHeight, lost));
      return true;
    }
    if (!seen_.insert(addr).second) {
      lose(addr, fmt::format("maple node reached before; {} not read", lost));
      return true;
    }
    try {
      mem_.read(VirtAddr{addr}, buffer_);
    } catch (const Fault& f) {
      lose(addr, fmt::format("maple node unreadable ({}); {} not read", f.what(), lost));
      return true;
    }
    if (std::string why = parent_damage(addr, place); !why.empty()) {
      lose(addr, fmt::format("{}; {} not read", why, lost));
      return true;
    }
    // Copy what this node holds: the buffer is reused by the children.
    const MapleLayout::NodeKind& kind = type == kDense      ? layout_.dense
                                        : type == kArange64 ? layout_.arange64
                                                            : layout_.range64;
    std::vector<uint64_t> slots(kind.slot_count), pivots(kind.pivot_count);
    for (uint32_t i = 0; i < kind.slot_count; ++i) slots[i] = word(kind.slots + 8ull * i);
    for (uint32_t i = 0; i < kind.pivot_count; ++i) pivots[i] = word(kind.pivots + 8ull * i);
    const bool leaf = type == kDense || type == kLeaf64;
    const uint64_t min = place.min, max = place.max;
    path.push_back(0);

    if (type == kDense) {
      for (uint32_t i = 0; i < kind.slot_count && min + i <= max && min + i >= min; ++i) {
        path.back() = static_cast<uint8_t>(i);
        if (is_entry(slots[i]) && !emit(addr, min + i, min + i, slots[i], path)) return false;
      }
      return true;
    }

    uint64_t first = min;
    for (uint32_t i = 0; i < kind.slot_count; ++i) {
      uint64_t last = max;
      if (i < kind.pivot_count) {
        last = pivots[i];
      } else if (slots[i] == 0 && (type == kArange64 || max != kUlongMax)) {
        break;  // the last slot is only used when the pivots before it do not reach max
      }
      if (last == 0 && i > 0) break;  // unused pivots are 0
      if (last < first || last > max) {
        // The pivots before this one held: only the rest of the node is lost.
        lose(addr, fmt::format("maple node's pivot {} ({:#x}) is outside {}; {} not read", i, last, range(first, max),
                               range(first, max)));
        return true;
      }
      path.back() = static_cast<uint8_t>(i);
      const uint64_t e = slots[i];
      if (leaf) {
        if (is_entry(e) && !emit(addr, first, last, e, path)) return false;
      } else if (e > kReservedRange) {
        // A child is an enode: the node's address with its type in bits 3-6
        // and bit 2 (MAPLE_ENODE_NULL) set; not an internal value.
        const Place below{.parent = addr, .slot = i, .min = first, .max = last};
        if (!node(e, below, height + 1, path)) return false;
      } else {
        // mt_validate: every slot of an internal node within its pivots holds a child.
        lose(addr, fmt::format("maple node's slot {} holds {:x}, not a node; {} not read", i, e, range(first, last)));
      }
      if (last == max) break;
      first = last + 1;
    }
    return true;
  }

  const KernelMemory& mem_;
  const MapleLayout& layout_;
  const MapleWalk& walk_;
  const std::function<bool(const MapleEntry&)>& visit_;
  const std::function<void(const WalkBreak&)>& on_break_;
  size_t count_ = 0;
  std::vector<std::byte> buffer_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

bool has_maple_tree(TypeSystem& types) {
  const Type* t = types.lookup("struct maple_tree");
  return t != nullptr && t->member("ma_root").has_value();
}

MapleLayout maple_layout(TypeSystem& types) {
  MapleLayout l;
  const Type& tree = types.require("struct maple_tree");
  auto member = [](const Type& t, std::string_view name) {
    auto m = t.member(name);
    if (!m) throw Error(Error::Kind::Lookup, fmt::format("{} has no member {}", t.spell(), name));
    return *m;
  };
  l.root = member(tree, "ma_root").offset;
  const Type& node = types.require("struct maple_node");
  l.parent = member(node, "parent").offset;
  l.node_size = node.size();
  if (l.node_size == 0 || l.node_size > 4096) {
    throw Error(Error::Kind::BadData, fmt::format("struct maple_node has an odd size {}", l.node_size));
  }
  auto array = [&](const Type& t, std::string_view name, uint64_t& offset, uint32_t& count) {
    Member m = member(t, name);
    const Type& a = m.type->strip();
    if (a.kind() != TypeKind::Array || !a.count() || *a.count() == 0 || m.offset + *a.count() * 8 > l.node_size) {
      throw Error(Error::Kind::BadData, fmt::format("{}.{} is not an array inside the node", t.spell(), name));
    }
    offset = m.offset;
    count = static_cast<uint32_t>(*a.count());
  };
  array(node, "slot", l.dense.slots, l.dense.slot_count);
  const Type& r64 = types.require("struct maple_range_64");
  array(r64, "pivot", l.range64.pivots, l.range64.pivot_count);
  array(r64, "slot", l.range64.slots, l.range64.slot_count);
  const Type& a64 = types.require("struct maple_arange_64");
  array(a64, "pivot", l.arange64.pivots, l.arange64.pivot_count);
  array(a64, "slot", l.arange64.slots, l.arange64.slot_count);
  // maple_range_64 and maple_arange_64 sit at the start of maple_node (mr64, ma64).
  return l;
}

size_t walk_maple_tree(const KernelMemory& mem, const MapleLayout& layout, const MapleWalk& walk,
                       const std::function<bool(const MapleEntry&)>& visit,
                       const std::function<void(const WalkBreak&)>& on_break) {
  Walker w(mem, layout, walk, visit, on_break);
  w.run();
  return w.count();
}

Walked<MapleEntry> walk_maple_entries(const Kernel& k, VirtAddr tree, size_t limit) {
  MapleLayout layout = maple_layout(k.types());
  Walked<MapleEntry> out;
  MapleWalk walk{.tree = tree, .limit = limit};
  try {
    walk.root = k.memory().read<uint64_t>(tree + layout.root);
  } catch (const Fault& f) {
    out.breaks.push_back(WalkBreak{0, tree, fmt::format("maple_tree unreadable: {}", f.what())});
    return out;
  }
  walk_maple_tree(
      k.memory(), layout, walk,
      [&](const MapleEntry& e) {
        out.entries.push_back(e);
        return true;
      },
      [&](const WalkBreak& b) { out.breaks.push_back(b); });
  return out;
}

std::vector<MapleEntry> maple_entries(const Kernel& k, VirtAddr tree, size_t limit) {
  return walk_maple_entries(k, tree, limit).all_or_throw("maple tree", tree);
}

}  // namespace kdive
