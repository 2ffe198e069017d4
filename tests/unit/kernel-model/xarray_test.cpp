#include "kernel-model/xarray.hpp"

#include <catch2/catch.hpp>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::Error;
using kdive::VirtAddr;
using kdive::XarrayEntry;
using kdive::XarrayLayout;
using kdive::test::SyntheticMemory;

namespace {

// struct xa_node as in 6.1: shift (u8) at 0, slots[64] at 40.
XarrayLayout xa_layout() {
  XarrayLayout l;
  l.encoding = XarrayLayout::Encoding::Xarray;
  l.head = 8;
  l.node_shift = 0;
  l.node_slots = 40;
  l.slot_count = 64;
  return l;
}

uint64_t xa_node_ptr(VirtAddr node) { return node.value() | 2; }  // xa_mk_node
uint64_t xa_value(uint64_t v) { return (v << 1) | 1; }            // xa_mk_value
uint64_t xa_internal(uint64_t v) { return (v << 2) | 2; }         // xa_mk_internal

void node(SyntheticMemory& m, const XarrayLayout& l, VirtAddr at, uint8_t shift) { m.put8(at + l.node_shift, shift); }
void slot(SyntheticMemory& m, const XarrayLayout& l, VirtAddr node, unsigned i, uint64_t value) {
  m.put64(node + l.node_slots + 8ull * i, value);
}

std::vector<XarrayEntry> walk(const SyntheticMemory& m, const XarrayLayout& l, uint64_t head, size_t limit = 1000) {
  std::vector<XarrayEntry> out;
  walk_xarray(
      m.memory(), l, head,
      [&](const XarrayEntry& e) {
        out.push_back(e);
        return true;
      },
      limit);
  return out;
}

}  // namespace

TEST_CASE("XArray of two levels with pointers, value entries and internal markers", "[xarray]") {
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  VirtAddr top = m.addr(0x1000), left = m.addr(0x2000), right = m.addr(0x3000);
  const uint64_t p1 = m.addr(0x9000).value(), p2 = m.addr(0xa000).value();
  node(m, l, top, 6);
  node(m, l, left, 0);
  node(m, l, right, 0);
  slot(m, l, top, 0, xa_node_ptr(left));
  slot(m, l, top, 3, xa_node_ptr(right));
  slot(m, l, left, 1, p1);
  slot(m, l, left, 5, xa_value(42));
  slot(m, l, left, 6, xa_internal(5));    // a sibling entry: not an entry of its own
  slot(m, l, left, 7, xa_internal(256));  // XA_RETRY_ENTRY
  slot(m, l, left, 8, xa_internal(257));  // XA_ZERO_ENTRY
  slot(m, l, right, 63, p2);

  auto entries = walk(m, l, xa_node_ptr(top));
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
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  VirtAddr n12 = m.addr(0x1000), n6 = m.addr(0x2000), n0 = m.addr(0x3000);
  node(m, l, n12, 12);
  node(m, l, n6, 6);
  node(m, l, n0, 0);
  slot(m, l, n12, 1, xa_node_ptr(n6));
  slot(m, l, n6, 2, xa_node_ptr(n0));
  slot(m, l, n0, 3, m.addr(0x9000).value());
  auto entries = walk(m, l, xa_node_ptr(n12));
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].index == 4096 + 128 + 3);
  CHECK(entries[0].path == std::vector<uint8_t>{1, 2, 3});
}

TEST_CASE("an XArray head holding one entry is index 0", "[xarray]") {
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  auto pointer = walk(m, l, m.addr(0x9000).value());
  REQUIRE(pointer.size() == 1);
  CHECK(pointer[0].index == 0);
  CHECK(pointer[0].path.empty());
  CHECK(walk(m, l, xa_value(7)).size() == 1);
  CHECK(walk(m, l, 0).empty());
  CHECK(walk(m, l, xa_internal(257)).empty());
}

TEST_CASE("corrupted XArrays are errors, not endless walks", "[xarray]") {
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  VirtAddr top = m.addr(0x1000), child = m.addr(0x2000);
  node(m, l, top, 6);
  SECTION("a node pointing to itself") {
    slot(m, l, top, 0, xa_node_ptr(top));
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top)), Error);
  }
  SECTION("a child whose shift does not shrink") {
    node(m, l, child, 6);
    slot(m, l, top, 0, xa_node_ptr(child));
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top)), Error);
  }
  SECTION("a leaf holding a node pointer") {
    node(m, l, child, 0);
    slot(m, l, top, 0, xa_node_ptr(child));
    slot(m, l, child, 0, xa_node_ptr(m.addr(0x5000)));
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top)), Error);
  }
  SECTION("a shift that is not a whole number of levels") {
    node(m, l, top, 5);
    slot(m, l, top, 0, m.addr(0x9000).value());
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top)), Error);
  }
  SECTION("a top node whose slots would index past the end of an unsigned long") {
    node(m, l, top, 60);  // the kernel's top level: only slots 0-15 are reachable
    slot(m, l, top, 15, m.addr(0x9000).value());
    auto entries = walk(m, l, xa_node_ptr(top));
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].index == 15ull << 60);
    slot(m, l, top, 16, m.addr(0xa000).value());
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top)), Error);
  }
  SECTION("more entries than the limit") {
    node(m, l, child, 0);
    slot(m, l, top, 0, xa_node_ptr(child));
    for (unsigned i = 0; i < 10; ++i) slot(m, l, child, i, xa_value(i));
    CHECK(walk(m, l, xa_node_ptr(top), 10).size() == 10);
    CHECK_THROWS_AS(walk(m, l, xa_node_ptr(top), 9), Error);
  }
}

TEST_CASE("radix trees before the XArray tag nodes with bit 0", "[xarray]") {
  SyntheticMemory m;
  XarrayLayout l = xa_layout();
  l.encoding = XarrayLayout::Encoding::RadixTree;
  VirtAddr top = m.addr(0x1000), leaf = m.addr(0x2000);
  node(m, l, top, 6);
  node(m, l, leaf, 0);
  slot(m, l, top, 2, leaf.value() | 1);
  slot(m, l, leaf, 0, m.addr(0x9000).value());
  slot(m, l, leaf, 1, (leaf + l.node_slots).value() | 1);  // sibling: points at slot 0
  slot(m, l, leaf, 4, (9ull << 2) | 2);                    // exceptional (shadow) entry
  auto entries = walk(m, l, top.value() | 1);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].index == 128);
  CHECK(entries[1].index == 132);
  CHECK(entries[1].path == std::vector<uint8_t>{2, 4});
}
