// Maple tree walks: ranges, gaps and slot paths, and over damaged trees,
// every entry outside a damaged node still there and the break naming the
// node and the range lost.
#include "kernel-model/maple_tree.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <limits>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::MapleEntry;
using kdive::MapleLayout;
using kdive::MapleWalk;
using kdive::VirtAddr;
using kdive::WalkBreak;
using kdive::Walked;
using kdive::test::SyntheticMemory;

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
enum : uint64_t { kDense = 0, kLeaf64 = 1, kRange64 = 2, kArange64 = 3 };

// The 6.1 x86_64 layout: 256-byte nodes; maple_range_64 { parent; pivot[15];
// slot[16] }, maple_arange_64 { parent; pivot[9]; slot[10]; gap[10]; meta }.
MapleLayout layout() {
  MapleLayout l;
  l.root = 8;
  l.parent = 0;
  l.node_size = 256;
  l.dense = {.pivots = 0, .slots = 8, .pivot_count = 0, .slot_count = 31};
  l.range64 = {.pivots = 8, .slots = 128, .pivot_count = 15, .slot_count = 16};
  l.arange64 = {.pivots = 8, .slots = 80, .pivot_count = 9, .slot_count = 10};
  return l;
}

// mt_mk_node: the node address with its type in bits 3..6 (bit 2 set, as the
// kernel's MAPLE_ENODE_NULL does).
uint64_t enode(VirtAddr node, uint64_t type) { return node.value() | (type << 3) | 4; }
uint64_t as_root(uint64_t e) { return e | 2; }  // mte_mk_root

// The struct maple_tree every test's tree hangs from.
VirtAddr tree_at() { return SyntheticMemory::addr(0x100); }

struct Node {
  SyntheticMemory& m;
  const MapleLayout::NodeKind& kind;
  VirtAddr at;
  void pivot(unsigned i, uint64_t v) const { m.put64(at + kind.pivots + 8ull * i, v); }
  void slot(unsigned i, uint64_t v) const { m.put64(at + kind.slots + 8ull * i, v); }
  void parent(uint64_t v) const { m.put64(at, v); }
  // The top node's parent names the tree, with MAPLE_PARENT_ROOT.
  void top() const { parent(tree_at().value() | 1); }
  // Hangs this node from slot i of a 64-bit node `p` (MAPLE_PARENT_RANGE64),
  // storing its enode there.
  void under(const Node& p, unsigned i, uint64_t type) const {
    parent(p.at.value() | (uint64_t{i} << 3) | 6);
    p.slot(i, enode(at, type));
  }
};

Walked<MapleEntry> walk(const SyntheticMemory& m, const MapleLayout& l, uint64_t root, bool tree_known = true,
                        size_t limit = 1000) {
  Walked<MapleEntry> out;
  MapleWalk w{.root = root, .limit = limit};
  if (tree_known) w.tree = tree_at();
  walk_maple_tree(
      m.memory(), l, w,
      [&](const MapleEntry& e) {
        out.entries.push_back(e);
        return true;
      },
      [&](const WalkBreak& b) { out.breaks.push_back(b); });
  return out;
}

std::vector<uint64_t> firsts(const Walked<MapleEntry>& w) {
  std::vector<uint64_t> out;
  for (const MapleEntry& e : w.entries) out.push_back(e.first);
  return out;
}

bool says(const WalkBreak& b, const std::string& text) { return b.reason.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("maple tree of arange_64, range_64 and leaf nodes: ranges, gaps and paths", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  // root (arange_64): [0,0xfff] -> leaf0, [0x1000,0x4fff] -> leaf1, [0x5000,max] -> inner (range_64)
  // inner: [0x5000,0x7fff] -> leaf3, [0x8000,max] -> leaf4 (all 16 slots used)
  Node root{m, l.arange64, m.addr(0x10000)};
  Node leaf0{m, l.range64, m.addr(0x10100)};
  Node leaf1{m, l.range64, m.addr(0x10200)};
  Node inner{m, l.range64, m.addr(0x10300)};
  Node leaf3{m, l.range64, m.addr(0x10400)};
  Node leaf4{m, l.range64, m.addr(0x10500)};
  root.pivot(0, 0xfff);
  root.pivot(1, 0x4fff);
  root.pivot(2, kMax);
  root.top();
  leaf0.under(root, 0, kLeaf64);
  leaf1.under(root, 1, kLeaf64);
  inner.under(root, 2, kRange64);
  leaf0.pivot(0, 0xfff);  // one gap
  leaf1.pivot(0, 0x1fff);
  leaf1.pivot(1, 0x2fff);
  leaf1.pivot(2, 0x4fff);
  leaf1.slot(0, 0xaaa0);
  leaf1.slot(2, (21ull << 1) | 1);  // a value entry
  inner.pivot(0, 0x7fff);
  inner.pivot(1, kMax);
  leaf3.under(inner, 0, kLeaf64);
  leaf4.under(inner, 1, kLeaf64);
  leaf3.pivot(0, 0x5fff);
  leaf3.pivot(1, 0x7fff);
  leaf3.slot(0, 0xbbb0);
  leaf3.slot(1, (257ull << 2) | 2);  // XA_ZERO_ENTRY: a reserved gap
  for (unsigned i = 0; i < 16; ++i) {
    if (i < 15) leaf4.pivot(i, 0x8fff + 0x1000ull * i);
    leaf4.slot(i, 0xc000 + 0x10ull * i);
  }

  auto w = walk(m, l, as_root(enode(root.at, kArange64)));
  CHECK(w.complete());
  auto& entries = w.entries;
  REQUIRE(entries.size() == 3 + 16);
  CHECK(entries[0].first == 0x1000);
  CHECK(entries[0].last == 0x1fff);
  CHECK(entries[0].value == 0xaaa0);
  CHECK(entries[0].path == std::vector<uint8_t>{1, 0});
  CHECK(entries[1].first == 0x3000);
  CHECK(entries[1].last == 0x4fff);
  CHECK(entries[1].value == ((21ull << 1) | 1));
  CHECK(entries[2].first == 0x5000);
  CHECK(entries[2].last == 0x5fff);
  CHECK(entries[2].path == std::vector<uint8_t>{2, 0, 0});
  for (unsigned i = 0; i < 16; ++i) {
    const MapleEntry& e = entries[3 + i];
    CHECK(e.first == 0x8000 + 0x1000ull * i);
    CHECK(e.last == (i < 15 ? 0x8fff + 0x1000ull * i : kMax));  // the last slot runs to the node's max
    CHECK(e.value == 0xc000 + 0x10ull * i);
    CHECK(e.path == std::vector<uint8_t>{2, 1, static_cast<uint8_t>(i)});
  }
}

TEST_CASE("a node ends at the pivot that reaches its maximum, never reading metadata as a slot", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  // A root leaf whose used pivots end below max: slot 15 holds the node's
  // metadata, not an entry, and the walk must stop at the first 0 pivot.
  Node leaf{m, l.range64, m.addr(0x10000)};
  leaf.top();
  leaf.pivot(0, 0x0fff);
  leaf.pivot(1, kMax);
  leaf.slot(0, 0xaaa0);
  leaf.slot(1, 0xbbb0);
  leaf.slot(15, 0x0102);  // metadata bytes (end, gap) overlaying the last slot
  auto w = walk(m, l, as_root(enode(leaf.at, kLeaf64)));
  CHECK(w.complete());
  REQUIRE(w.entries.size() == 2);
  CHECK(w.entries[1].first == 0x1000);
  CHECK(w.entries[1].last == kMax);
}

TEST_CASE("a maple root that is not a node holds the entry for index 0", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  auto entries = walk(m, l, 0xaaa0).entries;
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].first == 0);
  CHECK(entries[0].last == 0);
  CHECK(entries[0].path.empty());
  CHECK(walk(m, l, 0).entries.empty());
}

TEST_CASE("dense maple nodes hold one index per slot", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  Node dense{m, l.dense, m.addr(0x10000)};
  dense.top();
  dense.slot(0, 0xaaa0);
  dense.slot(4, 0xbbb0);
  auto w = walk(m, l, as_root(enode(dense.at, kDense)));
  CHECK(w.complete());
  auto& entries = w.entries;
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].first == 4);
  CHECK(entries[1].last == 4);
}

namespace {

// root (range_64): [0,0xfff] -> a, [0x1000,0x4fff] -> b, [0x5000,max] -> c,
// each a leaf with two entries: a 0-0x7ff, 0x800-0xfff; b 0x1000-0x2fff,
// 0x3000-0x4fff; c 0x5000-0x5fff, 0x6000-max.
struct ThreeLeaves {
  SyntheticMemory m;
  MapleLayout l = layout();
  Node root{m, l.range64, m.addr(0x10000)};
  Node a{m, l.range64, m.addr(0x10100)};
  Node b{m, l.range64, m.addr(0x10200)};
  Node c{m, l.range64, m.addr(0x10300)};
  ThreeLeaves() {
    root.top();
    root.pivot(0, 0xfff);
    root.pivot(1, 0x4fff);
    root.pivot(2, kMax);
    a.under(root, 0, kLeaf64);
    b.under(root, 1, kLeaf64);
    c.under(root, 2, kLeaf64);
    fill(a, 0x7ff, 0xfff);
    fill(b, 0x2fff, 0x4fff);
    fill(c, 0x5fff, kMax);
  }
  static void fill(const Node& n, uint64_t p0, uint64_t p1) {
    n.pivot(0, p0);
    n.pivot(1, p1);
    n.slot(0, 0xa000 + p0);
    n.slot(1, 0xb000 + p0);
  }
  uint64_t head() const { return as_root(enode(root.at, kRange64)); }
  // Zeroes a node, as a page of zeroes in a dump would.
  void zero(const Node& n) {
    for (uint64_t o = 0; o < l.node_size; o += 8) m.put64(n.at + o, 0);
  }
};

const std::vector<uint64_t> kWithoutB = {0, 0x800, 0x5000, 0x6000};

}  // namespace

TEST_CASE("an intact maple tree of three leaves walks complete", "[maple]") {
  ThreeLeaves t;
  auto w = walk(t.m, t.l, t.head());
  CHECK(w.complete());
  CHECK(firsts(w) == std::vector<uint64_t>{0, 0x800, 0x1000, 0x3000, 0x5000, 0x6000});
}

TEST_CASE("a zeroed maple node hides only its own range, and the break names it", "[maple]") {
  ThreeLeaves t;
  t.zero(t.b);
  auto w = walk(t.m, t.l, t.head());
  CHECK(firsts(w) == kWithoutB);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.b.at);
  CHECK(w.breaks[0].position == 2);
  CHECK(says(w.breaks[0], fmt::format("parent is 0, not {:x}", t.root.at.value())));
  CHECK(says(w.breaks[0], "0x1000-0x4fff not read"));
}

TEST_CASE("a damaged maple node is a break naming what is wrong with it", "[maple]") {
  ThreeLeaves t;
  std::string why;
  VirtAddr damaged = t.b.at;
  SECTION("a parent naming another node") {
    t.b.parent(t.a.at.value() | (1 << 3) | 6);
    why = fmt::format("parent is {:x}, not {:x}", t.a.at.value(), t.root.at.value());
  }
  SECTION("a parent naming another slot") {
    t.b.parent(t.root.at.value() | (2 << 3) | 6);
    why = "parent slot is 2, not 1";
  }
  SECTION("a parent marked as the top node's") {
    t.b.parent(tree_at().value() | 1);
    why = "marks a top node";
  }
  SECTION("a freed (dead) node") {
    t.b.parent(t.b.at.value());
    why = "is dead";
  }
  SECTION("pivots going backwards") {
    t.b.pivot(0, 0x0800);
    why = "pivot 0 (0x800) is outside 0x1000-0x4fff";
  }
  SECTION("a pivot past the parent's range") {
    t.b.pivot(1, 0x5000);
    why = "pivot 1 (0x5000) is outside";
  }
  SECTION("an unreadable node") {
    damaged = t.m.addr(0x7770000);  // never written: not in the dump
    t.root.slot(1, enode(damaged, kLeaf64));
    why = "unreadable";
  }
  auto w = walk(t.m, t.l, t.head());
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == damaged);
  CHECK(says(w.breaks[0], why));
  CHECK(says(w.breaks[0], "not read"));
  if (why.find("pivot 1") != std::string::npos) {
    // The slot before the bad pivot held: only the rest of the node is lost.
    CHECK(firsts(w) == std::vector<uint64_t>{0, 0x800, 0x1000, 0x5000, 0x6000});
    CHECK(says(w.breaks[0], "0x3000-0x4fff not read"));
  } else {
    CHECK(firsts(w) == kWithoutB);
    CHECK(says(w.breaks[0], "0x1000-0x4fff not read"));
  }
}

TEST_CASE("a maple node reached twice is a break, not an endless walk", "[maple]") {
  ThreeLeaves t;
  SECTION("a child that is its parent") {
    t.root.slot(1, enode(t.root.at, kRange64));
    auto w = walk(t.m, t.l, t.head());
    CHECK(firsts(w) == kWithoutB);
    REQUIRE(w.breaks.size() == 1);
    CHECK(w.breaks[0].at == t.root.at);
    CHECK(says(w.breaks[0], "reached before; 0x1000-0x4fff not read"));
  }
  SECTION("a slot pointing at a sibling") {
    t.root.slot(1, enode(t.a.at, kLeaf64));
    auto w = walk(t.m, t.l, t.head());
    CHECK(firsts(w) == kWithoutB);
    REQUIRE(w.breaks.size() == 1);
    CHECK(w.breaks[0].at == t.a.at);
  }
}

TEST_CASE("an internal maple slot that holds no node loses its range only", "[maple]") {
  ThreeLeaves t;
  t.root.slot(1, 0);
  auto w = walk(t.m, t.l, t.head());
  CHECK(firsts(w) == kWithoutB);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.root.at);
  CHECK(says(w.breaks[0], "slot 1 holds 0, not a node; 0x1000-0x4fff not read"));
}

TEST_CASE("the top maple node must name its tree", "[maple]") {
  ThreeLeaves t;
  t.root.parent(t.m.addr(0x200).value() | 1);
  auto w = walk(t.m, t.l, t.head());
  CHECK(w.entries.empty());
  REQUIRE(w.breaks.size() == 1);
  CHECK(says(w.breaks[0], fmt::format("not the tree's {:x}", tree_at().value() | 1)));
  CHECK(says(w.breaks[0], "0x0-0xffffffffffffffff not read"));
  // Walked from the node itself (tree -N), the tree is not known: not checked.
  CHECK(walk(t.m, t.l, t.head(), false).complete());
}

TEST_CASE("an unknown maple node type is a break", "[maple]") {
  ThreeLeaves t;
  auto w = walk(t.m, t.l, as_root(enode(t.root.at, 7)));
  CHECK(w.entries.empty());
  REQUIRE(w.breaks.size() == 1);
  CHECK(says(w.breaks[0], "unknown node type 7"));
}

TEST_CASE("more maple entries than the limit end the walk with a break", "[maple]") {
  ThreeLeaves t;
  CHECK(walk(t.m, t.l, t.head(), true, 6).complete());
  auto w = walk(t.m, t.l, t.head(), true, 5);
  CHECK(w.entries.size() == 5);
  REQUIRE(w.breaks.size() == 1);
  CHECK(says(w.breaks[0], "more than 5 entries"));
}
