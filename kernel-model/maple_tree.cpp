#include "kernel-model/maple_tree.hpp"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
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

class Walker {
 public:
  Walker(const KernelMemory& mem, const MapleLayout& layout, const std::function<bool(const MapleEntry&)>& visit,
         size_t limit)
      : mem_(mem), layout_(layout), visit_(visit), limit_(limit), buffer_(layout.node_size) {}

  void root(uint64_t root) {
    if (is_internal(root) && root > kReservedRange) {
      const uint64_t enode = root & ~kRootNodeFlag;
      const uint64_t max = type_of(enode) == kDense ? layout_.dense.slot_count : kUlongMax;
      node(enode, 0, max, 1, {});
      return;
    }
    if (is_entry(root)) emit(0, 0, root, {});
  }

  size_t count() const { return count_; }

 private:
  static unsigned type_of(uint64_t enode) { return static_cast<unsigned>((enode >> kTypeShift) & kTypeMask); }

  bool emit(uint64_t first, uint64_t last, uint64_t value, const std::vector<uint8_t>& path) {
    if (count_ >= limit_) throw Error(Error::Kind::BadData, fmt::format("maple tree has over {} entries", limit_));
    ++count_;
    return visit_(MapleEntry{first, last, value, path});
  }

  uint64_t word(uint64_t offset) const {
    uint64_t v;
    std::memcpy(&v, buffer_.data() + offset, 8);
    return v;
  }

  // Returns false once the visitor asked to stop.
  bool node(uint64_t enode, uint64_t min, uint64_t max, unsigned height, std::vector<uint8_t> path) {
    const unsigned type = type_of(enode);
    const uint64_t addr = enode & ~kNodeMask;
    if (type > kArange64) {
      throw Error(Error::Kind::BadData,
                  fmt::format("maple node pointer {:x} has an unknown node type {}", enode, type));
    }
    if (addr == 0) throw Error(Error::Kind::BadData, fmt::format("maple node pointer {:x} has no node", enode));
    if (height > kMaxHeight) {
      throw Error(Error::Kind::BadData,
                  fmt::format("maple tree is deeper than {} levels at node {:x}", kMaxHeight, addr));
    }
    if (!seen_.insert(addr).second) {
      throw Error(Error::Kind::BadData, fmt::format("maple node {:x} is reached twice", addr));
    }
    mem_.read(VirtAddr{addr}, buffer_);
    // Copy what this node holds: the buffer is reused by the children.
    const MapleLayout::NodeKind& kind = type == kDense      ? layout_.dense
                                        : type == kArange64 ? layout_.arange64
                                                            : layout_.range64;
    std::vector<uint64_t> slots(kind.slot_count), pivots(kind.pivot_count);
    for (uint32_t i = 0; i < kind.slot_count; ++i) slots[i] = word(kind.slots + 8ull * i);
    for (uint32_t i = 0; i < kind.pivot_count; ++i) pivots[i] = word(kind.pivots + 8ull * i);
    const bool leaf = type == kDense || type == kLeaf64;
    path.push_back(0);

    if (type == kDense) {
      for (uint32_t i = 0; i < kind.slot_count && min + i <= max && min + i >= min; ++i) {
        path.back() = static_cast<uint8_t>(i);
        if (is_entry(slots[i]) && !emit(min + i, min + i, slots[i], path)) return false;
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
        throw Error(Error::Kind::BadData,
                    fmt::format("maple node {:x}: pivot {} ({:#x}) is outside the range {:#x}-{:#x}", addr, i, last,
                                first, max));
      }
      path.back() = static_cast<uint8_t>(i);
      const uint64_t e = slots[i];
      if (leaf) {
        if (is_entry(e) && !emit(first, last, e, path)) return false;
      } else if (e != 0) {
        if (!node(e, first, last, height + 1, path)) return false;
      }
      if (last == max) break;
      first = last + 1;
    }
    return true;
  }

  const KernelMemory& mem_;
  const MapleLayout& layout_;
  const std::function<bool(const MapleEntry&)>& visit_;
  size_t limit_;
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

size_t walk_maple_tree(const KernelMemory& mem, const MapleLayout& layout, uint64_t root,
                       const std::function<bool(const MapleEntry&)>& visit, size_t limit) {
  Walker w(mem, layout, visit, limit);
  w.root(root);
  return w.count();
}

std::vector<MapleEntry> maple_entries(const Kernel& k, VirtAddr tree, size_t limit) {
  MapleLayout layout = maple_layout(k.types());
  std::vector<MapleEntry> out;
  walk_maple_tree(
      k.memory(), layout, k.memory().read<uint64_t>(tree + layout.root),
      [&](const MapleEntry& e) {
        out.push_back(e);
        return true;
      },
      limit);
  return out;
}

}  // namespace kdive
