#include "kernel-model/maple_tree.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::Error;
using kdive::MapleEntry;
using kdive::MapleLayout;
using kdive::VirtAddr;
using kdive::test::SyntheticMemory;

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
enum : uint64_t { kDense = 0, kLeaf64 = 1, kRange64 = 2, kArange64 = 3 };

// The 6.1 x86_64 layout: 256-byte nodes; maple_range_64 { parent; pivot[15];
// slot[16] }, maple_arange_64 { parent; pivot[9]; slot[10]; gap[10]; meta }.
MapleLayout layout() {
  MapleLayout l;
  l.root = 8;
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

struct Node {
  SyntheticMemory& m;
  const MapleLayout::NodeKind& kind;
  VirtAddr at;
  void pivot(unsigned i, uint64_t v) const { m.put64(at + kind.pivots + 8ull * i, v); }
  void slot(unsigned i, uint64_t v) const { m.put64(at + kind.slots + 8ull * i, v); }
};

std::vector<MapleEntry> walk(const SyntheticMemory& m, const MapleLayout& l, uint64_t root) {
  std::vector<MapleEntry> out;
  walk_maple_tree(m.memory(), l, root, [&](const MapleEntry& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

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
  root.slot(0, enode(leaf0.at, kLeaf64));
  root.slot(1, enode(leaf1.at, kLeaf64));
  root.slot(2, enode(inner.at, kRange64));
  leaf0.pivot(0, 0xfff);  // one gap
  leaf1.pivot(0, 0x1fff);
  leaf1.pivot(1, 0x2fff);
  leaf1.pivot(2, 0x4fff);
  leaf1.slot(0, 0xaaa0);
  leaf1.slot(2, (21ull << 1) | 1);  // a value entry
  inner.pivot(0, 0x7fff);
  inner.pivot(1, kMax);
  inner.slot(0, enode(leaf3.at, kLeaf64));
  inner.slot(1, enode(leaf4.at, kLeaf64));
  leaf3.pivot(0, 0x5fff);
  leaf3.pivot(1, 0x7fff);
  leaf3.slot(0, 0xbbb0);
  leaf3.slot(1, (257ull << 2) | 2);  // XA_ZERO_ENTRY: a reserved gap
  for (unsigned i = 0; i < 16; ++i) {
    if (i < 15) leaf4.pivot(i, 0x8fff + 0x1000ull * i);
    leaf4.slot(i, 0xc000 + 0x10ull * i);
  }

  auto entries = walk(m, l, as_root(enode(root.at, kArange64)));
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
  leaf.pivot(0, 0x0fff);
  leaf.pivot(1, kMax);
  leaf.slot(0, 0xaaa0);
  leaf.slot(1, 0xbbb0);
  leaf.slot(15, 0x0102);  // metadata bytes (end, gap) overlaying the last slot
  auto entries = walk(m, l, as_root(enode(leaf.at, kLeaf64)));
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].first == 0x1000);
  CHECK(entries[1].last == kMax);
}

TEST_CASE("a maple root that is not a node holds the entry for index 0", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  auto entries = walk(m, l, 0xaaa0);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].first == 0);
  CHECK(entries[0].last == 0);
  CHECK(entries[0].path.empty());
  CHECK(walk(m, l, 0).empty());
}

TEST_CASE("dense maple nodes hold one index per slot", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  Node dense{m, l.dense, m.addr(0x10000)};
  dense.slot(0, 0xaaa0);
  dense.slot(4, 0xbbb0);
  auto entries = walk(m, l, as_root(enode(dense.at, kDense)));
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].first == 4);
  CHECK(entries[1].last == 4);
}

TEST_CASE("corrupted maple trees are errors", "[maple]") {
  SyntheticMemory m;
  MapleLayout l = layout();
  Node root{m, l.range64, m.addr(0x10000)};
  Node child{m, l.range64, m.addr(0x10100)};
  SECTION("a child that is its parent") {
    root.pivot(0, kMax);
    root.slot(0, enode(root.at, kRange64));
    CHECK_THROWS_AS(walk(m, l, as_root(enode(root.at, kRange64))), Error);
  }
  SECTION("pivots going backwards") {
    root.pivot(0, 0x2000);
    root.pivot(1, 0x1000);
    root.slot(0, 0xaaa0);
    root.slot(1, 0xbbb0);
    CHECK_THROWS_AS(walk(m, l, as_root(enode(root.at, kLeaf64))), Error);
  }
  SECTION("a child pivot outside its parent's range") {
    root.pivot(0, 0xfff);
    root.pivot(1, kMax);
    root.slot(0, enode(child.at, kLeaf64));
    child.pivot(0, 0x5000);
    child.slot(0, 0xaaa0);
    CHECK_THROWS_AS(walk(m, l, as_root(enode(root.at, kRange64))), Error);
  }
  SECTION("an unknown node type") { CHECK_THROWS_AS(walk(m, l, as_root(enode(root.at, 7))), Error); }
}
