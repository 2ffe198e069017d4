// Recovering list walks over damaged memory: one damaged entry hides only
// itself, and the break says where and why.
#include "kernel-model/list_walk.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "tests/unit/support/synthetic_memory.hpp"

using kdive::VirtAddr;
using kdive::Walked;
using kdive::test::SyntheticMemory;

namespace {

constexpr uint64_t kOffset = 0x10;  // where the list_head sits in each entry

// A standalone head and five entries linked in order through next and prev.
struct FiveEntryList {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  std::vector<VirtAddr> entries = {m.addr(0x1000), m.addr(0x2000), m.addr(0x3000), m.addr(0x4000), m.addr(0x5000)};

  FiveEntryList() {
    std::vector<VirtAddr> links = {head};
    for (VirtAddr e : entries) links.push_back(link(e));
    for (size_t i = 0; i < links.size(); ++i) {
      m.put64(links[i], links[(i + 1) % links.size()].value());
      m.put64(links[i] + 8, links[(i + links.size() - 1) % links.size()].value());
    }
  }
  static VirtAddr link(VirtAddr entry) { return entry + kOffset; }
  Walked<VirtAddr> walk() const { return kdive::walk_list(m.memory(), head, kOffset); }
  std::vector<VirtAddr> without(size_t i) const {
    std::vector<VirtAddr> out = entries;
    out.erase(out.begin() + static_cast<long>(i));
    return out;
  }
};

std::string hex(VirtAddr a) { return fmt::format("{:x}", a.value()); }

}  // namespace

TEST_CASE("an intact list walks complete, in order", "[list_walk]") {
  FiveEntryList l;
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.entries);
  CHECK(w.complete());
}

TEST_CASE("a zeroed entry hides only itself: the entries behind it are reached through prev", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(FiveEntryList::link(l.entries[2]), 0);
  l.m.put64(FiveEntryList::link(l.entries[2]) + 8, 0);
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.without(2));
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 2);
  CHECK(w.breaks[0].at == l.entries[1]);  // the entry whose next leads to the damage
  CHECK(w.breaks[0].reason.find("entry " + hex(l.entries[2])) != std::string::npos);
  CHECK(w.breaks[0].reason.find("2 entries behind the break reached backwards") != std::string::npos);
}

TEST_CASE("a garbage next pointer that cannot be read is a break; the rest come back through prev", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(FiveEntryList::link(l.entries[0]), 0xdead000000000100);
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.entries);  // only a pointer is bad: every entry is reached
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 1);
  CHECK(w.breaks[0].reason.find("entry " + hex(VirtAddr{0xdead000000000100 - kOffset})) != std::string::npos);
}

TEST_CASE("a next pointer back to an earlier entry is a cycle, reported; no entry is lost", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(FiveEntryList::link(l.entries[3]), FiveEntryList::link(l.entries[1]).value());
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.entries);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 4);
  CHECK(w.breaks[0].reason.find("comes back to entry " + hex(l.entries[1])) != std::string::npos);
}

TEST_CASE("a bad prev pointer alone costs no entry and is one break", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(FiveEntryList::link(l.entries[2]) + 8, FiveEntryList::link(l.entries[4]).value());
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.entries);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 2);
}

TEST_CASE("two damaged entries: both breaks are reported, the entries between are lost", "[list_walk]") {
  FiveEntryList l;
  for (size_t i : {1, 3}) {
    l.m.put64(FiveEntryList::link(l.entries[i]), 0);
    l.m.put64(FiveEntryList::link(l.entries[i]) + 8, 0);
  }
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == std::vector<VirtAddr>{l.entries[0], l.entries[4]});
  REQUIRE(w.breaks.size() == 2);
  CHECK(w.breaks[1].reason.rfind("walking back", 0) == 0);
}

TEST_CASE("an unreadable head is one break and no entries", "[list_walk]") {
  SyntheticMemory m;
  Walked<VirtAddr> w = kdive::walk_list(m.memory(), m.addr(0x9000), kOffset);
  CHECK(w.entries.empty());
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].reason.find("unreadable") != std::string::npos);
}

TEST_CASE("hlists: a node whose pprev does not lead back ends the walk with a break", "[list_walk]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000);
  // hlist_node { next; pprev; } at kOffset; pprev holds where the pointer to the node sits.
  m.put64(head, (a + kOffset).value());
  m.put64(a + kOffset, (b + kOffset).value());
  m.put64(a + kOffset + 8, head.value());
  m.put64(b + kOffset, (c + kOffset).value());
  m.put64(b + kOffset + 8, (a + kOffset).value());
  m.put64(c + kOffset, 0);
  m.put64(c + kOffset + 8, (b + kOffset).value());
  CHECK(kdive::walk_hlist(m.memory(), head, kOffset).entries == std::vector<VirtAddr>{a, b, c});
  m.put64(c + kOffset + 8, 0);
  Walked<VirtAddr> w = kdive::walk_hlist(m.memory(), head, kOffset);
  CHECK(w.entries == std::vector<VirtAddr>{a, b});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == b);
  m.put64(c + kOffset + 8, (b + kOffset).value());
  m.put64(c + kOffset, (a + kOffset).value());  // c -> a: a cycle
  w = kdive::walk_hlist(m.memory(), head, kOffset);
  CHECK(w.entries.size() <= 3);
  CHECK(w.breaks.size() == 1);
}

TEST_CASE("a NULL next in the head: every entry comes back through prev, one break", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(l.head, 0);
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries == l.entries);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == l.head);
  CHECK(w.breaks[0].reason.find("its next is NULL; 5 entries behind the break") == 0);
}

TEST_CASE("both head pointers NULL: two breaks, each saying which pointer", "[list_walk]") {
  FiveEntryList l;
  l.m.put64(l.head, 0);
  l.m.put64(l.head + 8, 0);
  Walked<VirtAddr> w = l.walk();
  CHECK(w.entries.empty());
  REQUIRE(w.breaks.size() == 2);
  CHECK(w.breaks[0].reason == "its next is NULL");
  CHECK(w.breaks[1].reason == "walking back: its prev is NULL");
}
