// XArray and radix tree walks: entries in index order with their slot paths,
// and over damaged trees, every entry outside a damaged node still there and
// the break naming the node and the indexes lost.
#include "kernel-model/xarray.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::VirtAddr;
using kdive::WalkBreak;
using kdive::Walked;
using kdive::XarrayEntry;
using kdive::XarrayLayout;
using kdive::XarrayWalk;
using kdive::test::SyntheticMemory;

namespace {

// struct xa_node as in 6.1: shift, offset, count (u8) at 0, 1, 2; parent at 8,
// array at 16, slots[64] at 40.
XarrayLayout xa_layout() {
  XarrayLayout l;
  l.encoding = XarrayLayout::Encoding::Xarray;
  l.head = 8;
  l.node_shift = 0;
  l.node_offset = 1;
  l.node_count = 2;
  l.count_size = 1;
  l.node_parent = 8;
  l.node_array = 16;
  l.node_slots = 40;
  l.slot_count = 64;
  return l;
}

uint64_t xa_node_ptr(VirtAddr node) { return node.value() | 2; }  // xa_mk_node
uint64_t xa_value(uint64_t v) { return (v << 1) | 1; }            // xa_mk_value
uint64_t xa_internal(uint64_t v) { return (v << 2) | 2; }         // xa_mk_internal

// A tree in synthetic memory, built the way the kernel links it: each node
// names its parent, the slot it hangs from and the root; count is kept.
struct Tree {
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  VirtAddr root = m.addr(0x100);  // the struct xarray

  void node(VirtAddr at, uint8_t shift, VirtAddr parent = VirtAddr{0}, uint8_t offset = 0) {
    m.put8(at + l.node_shift, shift);
    m.put8(at + l.node_offset, offset);
    m.put8(at + l.node_count, 0);
    m.put64(at + *l.node_parent, parent.value());
    m.put64(at + *l.node_array, root.value());
    for (unsigned i = 0; i < l.slot_count; ++i) m.put64(at + l.node_slots + 8ull * i, 0);
    counts[at.value()] = 0;
  }
  // Stores `value` in slot i, counting it as the kernel does.
  void slot(VirtAddr node, unsigned i, uint64_t value) {
    m.put64(node + l.node_slots + 8ull * i, value);
    m.put8(node + l.node_count, ++counts[node.value()]);
  }
  // A child node hanging from `parent`'s slot i.
  void child(VirtAddr parent, unsigned i, VirtAddr at, uint8_t shift) {
    node(at, shift, parent, static_cast<uint8_t>(i));
    slot(parent, i, xa_node_ptr(at));
  }
  // Zeroes the whole node, as a page of zeroes in a dump would.
  void zero(VirtAddr at) {
    for (uint64_t o = 0; o < l.node_slots + 8ull * l.slot_count; o += 8) m.put64(at + o, 0);
  }

  Walked<XarrayEntry> walk(uint64_t head, size_t limit = 1000, bool root_known = true) const {
    Walked<XarrayEntry> out;
    XarrayWalk w{.head = head, .limit = limit};
    if (root_known) w.root = root;
    walk_xarray(
        m.memory(), l, w,
        [&](const XarrayEntry& e) {
          out.entries.push_back(e);
          return true;
        },
        [&](const WalkBreak& b) { out.breaks.push_back(b); });
    return out;
  }

  std::map<uint64_t, uint8_t> counts;
};

std::vector<uint64_t> indexes(const Walked<XarrayEntry>& w) {
  std::vector<uint64_t> out;
  for (const XarrayEntry& e : w.entries) out.push_back(e.index);
  return out;
}

bool says(const WalkBreak& b, const std::string& text) { return b.reason.find(text) != std::string::npos; }

// A two-level tree: a top node of shift 6 with leaves in slots 0, 1 and 3,
// each holding entries: indexes 1, 5 | 64, 65, 100 | 192, 255.
struct TwoLevels : Tree {
  VirtAddr top = m.addr(0x1000), a = m.addr(0x2000), b = m.addr(0x3000), c = m.addr(0x4000);
  TwoLevels() {
    node(top, 6);
    child(top, 0, a, 0);
    child(top, 1, b, 0);
    child(top, 3, c, 0);
    slot(a, 1, m.addr(0x9000).value());
    slot(a, 5, xa_value(42));
    slot(b, 0, m.addr(0x9100).value());
    slot(b, 1, m.addr(0x9200).value());
    slot(b, 36, m.addr(0x9300).value());
    slot(c, 0, m.addr(0x9400).value());
    slot(c, 63, m.addr(0x9500).value());
  }
  uint64_t head() const { return xa_node_ptr(top); }
};

}  // namespace

TEST_CASE("XArray of two levels with pointers, value entries and internal markers", "[xarray]") {
  Tree t;
  VirtAddr top = t.m.addr(0x1000), left = t.m.addr(0x2000), right = t.m.addr(0x3000);
  const uint64_t p1 = t.m.addr(0x9000).value(), p2 = t.m.addr(0xa000).value();
  t.node(top, 6);
  t.child(top, 0, left, 0);
  t.child(top, 3, right, 0);
  t.slot(left, 1, p1);
  t.slot(left, 5, xa_value(42));
  t.slot(left, 6, xa_internal(5));    // a sibling entry: not an entry of its own
  t.slot(left, 7, xa_internal(256));  // XA_RETRY_ENTRY
  t.slot(left, 8, xa_internal(257));  // XA_ZERO_ENTRY
  t.slot(right, 63, p2);

  auto w = t.walk(xa_node_ptr(top));
  CHECK(w.complete());
  auto& entries = w.entries;
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].index == 1);
  CHECK(entries[0].value == p1);
  CHECK(entries[0].path == std::vector<uint8_t>{0, 1});
  CHECK(entries[1].index == 5);
  CHECK(entries[1].value == xa_value(42));  // kept tagged: the caller decides
  CHECK(entries[1].path == std::vector<uint8_t>{0, 5});
  CHECK(entries[2].index == 3 * 64 + 63);
  CHECK(entries[2].value == p2);
  CHECK(entries[2].path == std::vector<uint8_t>{3, 63});
}

TEST_CASE("XArray of three levels computes indexes from every level's slot", "[xarray]") {
  Tree t;
  VirtAddr n12 = t.m.addr(0x1000), n6 = t.m.addr(0x2000), n0 = t.m.addr(0x3000);
  t.node(n12, 12);
  t.child(n12, 1, n6, 6);
  t.child(n6, 2, n0, 0);
  t.slot(n0, 3, t.m.addr(0x9000).value());
  auto w = t.walk(xa_node_ptr(n12));
  CHECK(w.complete());
  REQUIRE(w.entries.size() == 1);
  CHECK(w.entries[0].index == 4096 + 128 + 3);
  CHECK(w.entries[0].path == std::vector<uint8_t>{1, 2, 3});
}

TEST_CASE("an XArray head holding one entry is index 0", "[xarray]") {
  Tree t;
  auto pointer = t.walk(t.m.addr(0x9000).value());
  REQUIRE(pointer.entries.size() == 1);
  CHECK(pointer.entries[0].index == 0);
  CHECK(pointer.entries[0].path.empty());
  CHECK(t.walk(xa_value(7)).entries.size() == 1);
  CHECK(t.walk(0).entries.empty());
  CHECK(t.walk(xa_internal(257)).entries.empty());
}

TEST_CASE("a zeroed XArray node hides only its own indexes, and the break names it", "[xarray]") {
  TwoLevels t;
  t.zero(t.b);  // shift 0 like a leaf: only its parent, offset and count give it away
  auto w = t.walk(t.head());
  CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 192, 255});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.b);
  CHECK(w.breaks[0].position == 2);  // where indexes 64-127 would have been
  CHECK(says(w.breaks[0], "indexes 64-127 not read"));
  CHECK(says(w.breaks[0], fmt::format("parent is 0, not {:x}", t.top.value())));
}

TEST_CASE("a damaged XArray node is a break naming what is wrong with it", "[xarray]") {
  TwoLevels t;
  std::string why;
  SECTION("a parent pointer naming another node") {
    t.m.put64(t.b + *t.l.node_parent, t.a.value());
    why = fmt::format("parent is {:x}, not {:x}", t.a.value(), t.top.value());
  }
  SECTION("an offset that is not the slot it hangs from") {
    t.m.put8(t.b + t.l.node_offset, 2);
    why = "offset is 2, not 1";
  }
  SECTION("a shift that is not one level below its parent's") {
    t.m.put8(t.b + t.l.node_shift, 6);
    why = "shift is 6, not 0";
  }
  SECTION("a count of 0") {
    t.m.put8(t.b + t.l.node_count, 0);
    why = "count is 0";
  }
  SECTION("a count past the slots") {
    t.m.put8(t.b + t.l.node_count, 65);
    why = "count is 65";
  }
  SECTION("a node of another tree") {
    t.m.put64(t.b + *t.l.node_array, t.m.addr(0x200).value());
    why = fmt::format("belongs to the tree at {:x}", t.m.addr(0x200).value());
  }
  auto w = t.walk(t.head());
  CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 192, 255});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.b);
  CHECK(w.breaks[0].position == 2);
  CHECK(says(w.breaks[0], why));
  CHECK(says(w.breaks[0], "indexes 64-127 not read"));
}

TEST_CASE("an unreadable XArray child is a break; its siblings are walked", "[xarray]") {
  TwoLevels t;
  VirtAddr wild = t.m.addr(0x7770000);  // never written: not in the dump
  t.m.put64(t.top + t.l.node_slots + 8, xa_node_ptr(wild));
  auto w = t.walk(t.head());
  CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 192, 255});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == wild);
  CHECK(says(w.breaks[0], "unreadable"));
  CHECK(says(w.breaks[0], "indexes 64-127 not read"));
}

TEST_CASE("an XArray node reached twice is a break, not an endless walk", "[xarray]") {
  TwoLevels t;
  SECTION("a node pointing to itself, in a walk from a node given by the user (tree -N)") {
    t.m.put64(t.top + t.l.node_slots + 16, xa_node_ptr(t.top));
    auto w = t.walk(t.head(), 1000, false);
    CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 64, 65, 100, 192, 255});
    REQUIRE(w.breaks.size() == 1);
    CHECK(w.breaks[0].at == t.top);
    CHECK(says(w.breaks[0], "reached before; indexes 128-191 not read"));
  }
  SECTION("a slot pointing at a sibling") {
    t.m.put64(t.top + t.l.node_slots + 16, xa_node_ptr(t.a));
    auto w = t.walk(t.head());
    CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 64, 65, 100, 192, 255});
    REQUIRE(w.breaks.size() == 1);
    CHECK(w.breaks[0].at == t.a);
    CHECK(w.breaks[0].position == 5);
  }
}

TEST_CASE("a zeroed top node loses every index, and says so", "[xarray]") {
  TwoLevels t;
  t.zero(t.top);
  auto w = t.walk(t.head());
  CHECK(w.entries.empty());
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.top);
  CHECK(says(w.breaks[0], "every index not read"));
}

TEST_CASE("a leaf holding a node pointer loses that index only", "[xarray]") {
  TwoLevels t;
  t.slot(t.b, 2, xa_node_ptr(t.m.addr(0x5000)));
  auto w = t.walk(t.head());
  CHECK(indexes(w) == std::vector<uint64_t>{1, 5, 64, 65, 100, 192, 255});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.m.addr(0x5000));
  CHECK(says(w.breaks[0], "index 66 not read"));
}

TEST_CASE("a top node's shift and slots are bounded by the width of an index", "[xarray]") {
  Tree t;
  VirtAddr top = t.m.addr(0x1000);
  SECTION("a shift that is not a whole number of levels") {
    t.node(top, 5);
    t.slot(top, 0, t.m.addr(0x9000).value());
    auto w = t.walk(xa_node_ptr(top));
    CHECK(w.entries.empty());
    REQUIRE(w.breaks.size() == 1);
    CHECK(says(w.breaks[0], "shift 5 is not a whole number of levels"));
  }
  SECTION("slots past the end of an unsigned long") {
    t.node(top, 60);  // the kernel's top level: only slots 0-15 are reachable
    t.slot(top, 15, t.m.addr(0x9000).value());
    t.slot(top, 16, t.m.addr(0xa000).value());
    auto w = t.walk(xa_node_ptr(top));
    REQUIRE(w.entries.size() == 1);
    CHECK(w.entries[0].index == 15ull << 60);
    REQUIRE(w.breaks.size() == 1);
    CHECK(says(w.breaks[0], "slot 16"));
  }
}

TEST_CASE("more XArray entries than the limit end the walk with a break", "[xarray]") {
  TwoLevels t;
  CHECK(t.walk(t.head(), 7).complete());
  auto w = t.walk(t.head(), 6);
  CHECK(w.entries.size() == 6);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 6);
  CHECK(says(w.breaks[0], "more than 6 entries"));
}

TEST_CASE("radix trees before the XArray tag nodes with bit 0", "[xarray]") {
  Tree t;
  t.l.encoding = XarrayLayout::Encoding::RadixTree;
  VirtAddr top = t.m.addr(0x1000), leaf = t.m.addr(0x2000);
  t.node(top, 6);
  t.node(leaf, 0, top, 2);
  t.slot(top, 2, leaf.value() | 1);
  t.slot(leaf, 0, t.m.addr(0x9000).value());
  t.slot(leaf, 1, (leaf + t.l.node_slots).value() | 1);  // sibling: points at slot 0
  t.slot(leaf, 4, (9ull << 2) | 2);                      // exceptional (shadow) entry
  auto w = t.walk(top.value() | 1);
  CHECK(w.complete());
  REQUIRE(w.entries.size() == 2);
  CHECK(w.entries[0].index == 128);
  CHECK(w.entries[1].index == 132);
  CHECK(w.entries[1].path == std::vector<uint8_t>{2, 4});
}
