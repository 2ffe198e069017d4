#include "kernel-model/page_table.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/support/fake_dump.hpp"

using kdive::PageState;
using kdive::PageTableWalker;
using kdive::PhysAddr;
using kdive::VirtAddr;
using kdive::test::FakeDump;

namespace {

constexpr uint64_t kPresentRw = 0x3;
constexpr uint64_t kHuge = 0x80;

uint64_t index_of(uint64_t v, int shift) { return (v >> shift) & 0x1ff; }

}  // namespace

TEST_CASE("4-level walk through every level to a 4 KiB page", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xffffc90000123456ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, 0x8000000000abc000ull | kPresentRw);  // NX set

  PageTableWalker walker(mem, 4);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0xabc456);
  CHECK(t.page_size == 4096);
  REQUIRE(t.levels.size() == 4);
  CHECK(t.levels[0].level == "PGD");
  CHECK(t.levels[1].level == "PUD");
  CHECK(t.levels[3].level == "PTE");
  CHECK(t.levels[2].entry_address.value() == 0x3000 + index_of(v, 21) * 8);
}

TEST_CASE("5-level walk starts one level higher", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xff11000000201000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 48) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 39) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 30) * 8}, 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 21) * 8}, 0x5000 | kPresentRw);
  mem.put(PhysAddr{0x5000 + index_of(v, 12) * 8}, 0x777000 | kPresentRw);

  PageTableWalker walker(mem, 5);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0x777000);
  REQUIRE(t.levels.size() == 5);
  CHECK(t.levels[0].level == "PGD");
  CHECK(t.levels[1].level == "P4D");
  // The same address is not canonical for 4-level paging.
  CHECK_FALSE(PageTableWalker(mem, 4).canonical(VirtAddr{v}));
  CHECK(walker.canonical(VirtAddr{v}));
}

TEST_CASE("1 GiB and 2 MiB pages end the walk early", "[page_table]") {
  FakeDump mem;
  const uint64_t gig = 0xffff888040000000ull + 0x12345678;
  mem.put(PhysAddr{0x1000 + index_of(gig, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(gig, 30) * 8}, 0x80000000ull | kPresentRw | kHuge);
  const uint64_t two = 0xffffffff81234567ull;
  mem.put(PhysAddr{0x1000 + index_of(two, 39) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(two, 30) * 8}, 0x4000 | kPresentRw);
  // PAT (bit 12) is set in this 2 MiB entry: it must not leak into the address.
  mem.put(PhysAddr{0x4000 + index_of(two, 21) * 8}, 0x1a00000ull | 0x1000 | kPresentRw | kHuge);

  PageTableWalker walker(mem, 4);
  auto g = walker.walk(PhysAddr{0x1000}, VirtAddr{gig});
  REQUIRE(g.phys);
  CHECK(g.page_size == (1ull << 30));
  CHECK(g.phys->value() == 0x80000000ull + 0x12345678);
  CHECK(g.levels.size() == 2);

  auto m = walker.walk(PhysAddr{0x1000}, VirtAddr{two});
  REQUIRE(m.phys);
  CHECK(m.page_size == (2ull << 20));
  CHECK(m.phys->value() == 0x1a00000ull + (two & 0x1fffff));
}

TEST_CASE("a walk reports why it stopped", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xffffc90000000000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, uint64_t{0x3000});  // not present
  PageTableWalker walker(mem, 4);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  CHECK_FALSE(t.phys);
  CHECK(t.fault == "PUD not present");
  CHECK(t.levels.size() == 2);

  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, 0x5000 | kPresentRw);
  mem.exclude(PhysAddr{0x5000});
  auto excluded = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  CHECK(excluded.fault == "PMD page at 5000 is not in the dump");

  auto bad = walker.walk(PhysAddr{0x1000}, VirtAddr{0x0000900000000000ull});
  CHECK(bad.fault.find("not a canonical address") != std::string::npos);
}

TEST_CASE("the SME mask is stripped from entry addresses", "[page_table]") {
  FakeDump mem;
  const uint64_t sme = 1ull << 47;
  const uint64_t v = 0x400000;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, sme | 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, sme | 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, sme | 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, sme | 0x9000 | kPresentRw);
  auto t = PageTableWalker(mem, 4, sme).walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0x9000);
}
