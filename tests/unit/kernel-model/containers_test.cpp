#include "kernel-model/containers.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <optional>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::ChainWalk;
using kdive::Error;
using kdive::RbOrder;
using kdive::RbVisit;
using kdive::RbWalk;
using kdive::VirtAddr;
using kdive::WalkBreak;
using kdive::Walked;
using kdive::test::SyntheticMemory;

namespace {

constexpr uint64_t kListOffset = 0x10;  // where the list_head sits in each entry

// A list_head list: a standalone head and entries whose list_head is at
// kListOffset, linked in the order given (next and prev).
void link_list(SyntheticMemory& m, VirtAddr head, const std::vector<VirtAddr>& entries) {
  std::vector<VirtAddr> links = {head};
  for (VirtAddr e : entries) links.push_back(e + kListOffset);
  for (size_t i = 0; i < links.size(); ++i) {
    m.put64(links[i], links[(i + 1) % links.size()].value());
    m.put64(links[i] + 8, links[(i + links.size() - 1) % links.size()].value());
  }
}

// crash's list_head walks: from a standalone head (-H) or an entry (-h).
ChainWalk list_walk(VirtAddr start, bool start_is_entry) {
  ChainWalk w;
  w.start = start;
  w.entry_bias = kListOffset;
  w.start_is_entry = start_is_entry;
  w.null_is_error = !start_is_entry;
  return w;
}

// A chain of struct pointers with the next pointer at `next_offset`.
ChainWalk singly(VirtAddr start, uint64_t next_offset = 0, std::optional<uint64_t> end = std::nullopt) {
  ChainWalk w;
  w.start = start;
  w.next_offset = next_offset;
  w.singly_linked = true;
  w.end = end;
  return w;
}

std::vector<VirtAddr> chain(const SyntheticMemory& m, const ChainWalk& w) {
  std::vector<VirtAddr> out;
  walk_chain(m.memory(), w, [&](VirtAddr e) {
    out.push_back(e);
    return true;
  });
  return out;
}

// The recovering form: what the walk visited, and where it broke.
Walked<VirtAddr> chain_with_breaks(const SyntheticMemory& m, const ChainWalk& w) {
  Walked<VirtAddr> out;
  walk_chain(
      m.memory(), w,
      [&](VirtAddr e) {
        out.entries.push_back(e);
        return true;
      },
      [&](const WalkBreak& b) { out.breaks.push_back(b); });
  return out;
}

}  // namespace

TEST_CASE("list_head lists forward and reverse", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  std::vector<VirtAddr> entries = {m.addr(0x1000), m.addr(0x2000), m.addr(0x3000)};
  link_list(m, head, entries);

  CHECK(list_entries(m.memory(), head, kListOffset, false) == entries);
  std::vector<VirtAddr> reversed(entries.rbegin(), entries.rend());
  CHECK(list_entries(m.memory(), head, kListOffset, true) == reversed);
}

TEST_CASE("an empty list_head list has no entries", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  link_list(m, head, {});
  CHECK(list_entries(m.memory(), head, kListOffset, false).empty());
}

TEST_CASE("a list_head list starting at an entry (crash's -h) shows that entry first", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  std::vector<VirtAddr> entries = {m.addr(0x1000), m.addr(0x2000), m.addr(0x3000)};
  link_list(m, head, entries);
  // Starting from the second entry, the walk passes through the standalone
  // head (shown as head - offset, as crash does) and stops before the start.
  ChainWalk w = list_walk(entries[1] + kListOffset, true);
  CHECK(chain(m, w) == std::vector<VirtAddr>{entries[1], entries[2], head - kListOffset, entries[0]});
}

TEST_CASE("a list that loops back to an entry (not its head) is a break naming the entry", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000);
  link_list(m, head, {a, b, c});
  m.put64(c + kListOffset, (b + kListOffset).value());  // c -> b instead of c -> head
  ChainWalk w = list_walk(head, false);
  Walked<VirtAddr> seen = chain_with_breaks(m, w);
  CHECK(seen.entries == std::vector<VirtAddr>{a, b, c});
  REQUIRE(seen.breaks.size() == 1);
  CHECK(seen.breaks[0].position == 3);
  CHECK(seen.breaks[0].at == c + kListOffset);  // the pointer that leads back
  CHECK(seen.breaks[0].reason.find(fmt::format("entry {:x} comes again", b.value())) != std::string::npos);
  // The strict form throws, naming the same.
  try {
    chain(m, w);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("comes again") != std::string::npos);
  }
}

TEST_CASE("a NULL next pointer ends a singly linked chain but is an error in a list_head list", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000);
  link_list(m, head, {a, b});
  m.put64(b + kListOffset, 0);
  ChainWalk w = list_walk(head, false);
  Walked<VirtAddr> seen = chain_with_breaks(m, w);
  CHECK(seen.entries == std::vector<VirtAddr>{a, b});
  REQUIRE(seen.breaks.size() == 1);
  CHECK(seen.breaks[0].at == b + kListOffset);
  CHECK(seen.breaks[0].reason == "pointer is NULL");

  // struct pointers (crash's `list -o 8 ADDR`): NULL is the normal end.
  VirtAddr s1 = m.addr(0x4000), s2 = m.addr(0x5000), s3 = m.addr(0x6000);
  m.put64(s1 + 8, s2.value());
  m.put64(s2 + 8, s3.value());
  m.put64(s3 + 8, 0);
  ChainWalk s = singly(s1, 8);
  CHECK(chain(m, s) == std::vector<VirtAddr>{s1, s2, s3});
}

TEST_CASE("a corrupted next pointer is a break after the entries before it", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000);
  link_list(m, head, {a, b});
  VirtAddr wild = m.addr(0x7770000);  // never written: not in the dump
  m.put64(b + kListOffset, wild.value());
  ChainWalk w = list_walk(head, false);
  Walked<VirtAddr> seen = chain_with_breaks(m, w);
  // The wild link is reported as an entry (crash shows it too), then reading
  // its next pointer fails.
  CHECK(seen.entries == std::vector<VirtAddr>{a, b, wild - kListOffset});
  REQUIRE(seen.breaks.size() == 1);
  CHECK(seen.breaks[0].position == 3);
  CHECK(seen.breaks[0].at == wild);
  CHECK(seen.breaks[0].reason.find("unreadable") != std::string::npos);
}

TEST_CASE("singly linked chains stop where crash stops them", "[containers]") {
  SyntheticMemory m;
  VirtAddr s1 = m.addr(0x1000), s2 = m.addr(0x2000), s3 = m.addr(0x3000);
  SECTION("back at the start") {
    m.put64(s1, s2.value());
    m.put64(s2, s3.value());
    m.put64(s3, s1.value());
    CHECK(chain(m, singly(s1)) == std::vector<VirtAddr>{s1, s2, s3});
  }
  SECTION("back at the first entry the start points to") {
    m.put64(s1, s2.value());
    m.put64(s2, s3.value());
    m.put64(s3, s2.value());
    CHECK(chain(m, singly(s1)) == std::vector<VirtAddr>{s1, s2, s3});
  }
  SECTION("an entry pointing to itself") {
    m.put64(s1, s2.value());
    m.put64(s2, s2.value());
    CHECK(chain(m, singly(s1)) == std::vector<VirtAddr>{s1, s2});
  }
  SECTION("an explicit end (crash's -e)") {
    m.put64(s1, s2.value());
    m.put64(s2, s3.value());
    m.put64(s3, 0);
    CHECK(chain(m, singly(s1, 0, s3.value())) == std::vector<VirtAddr>{s1, s2});
    CHECK(chain(m, singly(s1, 0, s1.value())).empty());
  }
  SECTION("a loop further on is an error, not an endless walk") {
    VirtAddr s4 = m.addr(0x4000);
    m.put64(s1, s2.value());
    m.put64(s2, s3.value());
    m.put64(s3, s4.value());
    m.put64(s4, s3.value());
    Walked<VirtAddr> seen = chain_with_breaks(m, singly(s1));
    CHECK(seen.entries == std::vector<VirtAddr>{s1, s2, s3, s4});
    REQUIRE(seen.breaks.size() == 1);
    CHECK(seen.breaks[0].at == s4);
  }
  SECTION("the visitor stops the walk") {
    m.put64(s1, s2.value());
    m.put64(s2, s3.value());
    m.put64(s3, 0);
    std::vector<VirtAddr> out;
    size_t n = walk_chain(m.memory(), singly(s1), [&](VirtAddr e) {
      out.push_back(e);
      return out.size() < 2;
    });
    CHECK(n == 2);
    CHECK(out == std::vector<VirtAddr>{s1, s2});
  }
}

TEST_CASE("a chain longer than its limit is an error", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  link_list(m, head, {m.addr(0x1000), m.addr(0x2000), m.addr(0x3000)});
  CHECK_THROWS_AS(list_entries(m.memory(), head, kListOffset, false, 2), Error);
  CHECK(list_entries(m.memory(), head, kListOffset, false, 3).size() == 3);
}

namespace {

// rb_node { __rb_parent_color; rb_right; rb_left; }, with a colour bit set
// on some to show it is masked off.
void rb_node(SyntheticMemory& m, VirtAddr node, VirtAddr left, VirtAddr right, VirtAddr parent, bool red = false) {
  m.put64(node, parent.value() | (red ? 0 : 1));
  m.put64(node + 8, right.value());
  m.put64(node + 16, left.value());
}

struct RbResult {
  std::vector<VirtAddr> nodes;
  std::vector<std::string> positions;
  std::vector<WalkBreak> breaks;
};

RbResult rbtree(const SyntheticMemory& m, VirtAddr top, RbOrder order, bool top_is_root = true) {
  RbResult r;
  RbWalk walk{.top = top.value(), .top_is_root = top_is_root, .order = order};
  walk_rbtree(
      m.memory(), walk,
      [&](const RbVisit& v) {
        r.nodes.push_back(v.node);
        r.positions.push_back(v.position);
        return true;
      },
      [&](const WalkBreak& b) { r.breaks.push_back(b); });
  return r;
}

//        d
//      b   f
//     a c e g
struct SevenNodes {
  SyntheticMemory m;
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000), d = m.addr(0x4000), e = m.addr(0x5000),
           f = m.addr(0x6000), g = m.addr(0x7000), none{0};
  VirtAddr root = m.addr(0x100);  // struct rb_root
  SevenNodes() {
    m.put64(root, d.value());
    rb_node(m, d, b, f, none);
    rb_node(m, b, a, c, d, true);
    rb_node(m, f, e, g, d);
    rb_node(m, a, none, none, b);
    rb_node(m, c, none, none, b, true);
    rb_node(m, e, none, none, f);
    rb_node(m, g, none, none, f, true);
  }
};

}  // namespace

TEST_CASE("rbtree walks in pre-order and in-order with positions", "[containers]") {
  SevenNodes t;
  RbResult pre = rbtree(t.m, t.d, RbOrder::Preorder);
  CHECK(pre.breaks.empty());
  CHECK(pre.nodes == std::vector<VirtAddr>{t.d, t.b, t.a, t.c, t.f, t.e, t.g});
  CHECK(pre.positions ==
        std::vector<std::string>{"root", "root/l", "root/l/l", "root/l/r", "root/r", "root/r/l", "root/r/r"});

  RbResult in = rbtree(t.m, t.d, RbOrder::InOrder);
  CHECK(in.breaks.empty());
  CHECK(in.nodes == std::vector<VirtAddr>{t.a, t.b, t.c, t.d, t.e, t.f, t.g});
  CHECK(in.positions ==
        std::vector<std::string>{"root/l/l", "root/l", "root/l/r", "root", "root/r/l", "root/r", "root/r/r"});

  CHECK(rbtree(t.m, t.none, RbOrder::Preorder).nodes.empty());
}

TEST_CASE("walk_rbtree_entries gives the entries in key order, minus the member offset", "[containers]") {
  SevenNodes t;
  Walked<VirtAddr> w = kdive::walk_rbtree_entries(t.m.memory(), t.root, 0x18);
  CHECK(w.complete());
  std::vector<VirtAddr> expected;
  for (VirtAddr n : {t.a, t.b, t.c, t.d, t.e, t.f, t.g}) expected.push_back(n - 0x18);
  CHECK(w.entries == expected);
}

TEST_CASE("a zeroed rb_node hides only its subtree; the break names it where the subtree was", "[containers]") {
  SevenNodes t;
  for (uint64_t o = 0; o < 24; o += 8) t.m.put64(t.b + o, 0);
  Walked<VirtAddr> w = kdive::walk_rbtree_entries(t.m.memory(), t.root, 0);
  CHECK(w.entries == std::vector<VirtAddr>{t.d, t.e, t.f, t.g});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].at == t.b);
  CHECK(w.breaks[0].position == 0);  // the left subtree comes first in key order
  CHECK(w.breaks[0].reason.find(fmt::format("parent is 0, not {:x}", t.d.value())) != std::string::npos);
  CHECK(w.breaks[0].reason.find("root/l") != std::string::npos);
}

TEST_CASE("an rb_node whose parent is not the node above is a break; the rest is walked", "[containers]") {
  SevenNodes t;
  rb_node(t.m, t.g, t.none, t.none, t.b);  // g claims b as its parent
  RbResult in = rbtree(t.m, t.d, RbOrder::InOrder);
  CHECK(in.nodes == std::vector<VirtAddr>{t.a, t.b, t.c, t.d, t.e, t.f});
  REQUIRE(in.breaks.size() == 1);
  CHECK(in.breaks[0].at == t.g);
  CHECK(in.breaks[0].position == 6);
  RbResult pre = rbtree(t.m, t.d, RbOrder::Preorder);
  CHECK(pre.nodes == std::vector<VirtAddr>{t.d, t.b, t.a, t.c, t.f, t.e});
  REQUIRE(pre.breaks.size() == 1);
  CHECK(pre.breaks[0].position == 6);
}

TEST_CASE("an rbtree whose child points back up is a break, not an endless walk", "[containers]") {
  SevenNodes t;
  rb_node(t.m, t.g, t.d, t.none, t.f);  // g's left child is the root again
  for (RbOrder order : {RbOrder::Preorder, RbOrder::InOrder}) {
    RbResult r = rbtree(t.m, t.d, order);
    CHECK(r.nodes.size() == 7);
    REQUIRE(r.breaks.size() == 1);
    CHECK(r.breaks[0].at == t.d);
    CHECK(r.breaks[0].reason.find("reached before") != std::string::npos);
  }
  Walked<VirtAddr> w = kdive::walk_rbtree_entries(t.m.memory(), t.root, 0);
  CHECK(w.entries.size() == 7);
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].describe().find(fmt::format("{:x}", t.d.value())) != std::string::npos);
}

TEST_CASE("an unreadable rbtree child is a break; its sibling is walked", "[containers]") {
  SevenNodes t;
  VirtAddr wild = t.m.addr(0x7770000);  // never written: not in the dump
  rb_node(t.m, t.b, wild, t.c, t.d);
  RbResult pre = rbtree(t.m, t.d, RbOrder::Preorder);
  CHECK(pre.nodes == std::vector<VirtAddr>{t.d, t.b, t.c, t.f, t.e, t.g});
  REQUIRE(pre.breaks.size() == 1);
  CHECK(pre.breaks[0].at == wild);
  CHECK(pre.breaks[0].position == 2);
  CHECK(pre.breaks[0].reason.find("unreadable") != std::string::npos);
}

TEST_CASE("a subtree walked from its own top (tree -N) does not check the top's parent", "[containers]") {
  SevenNodes t;
  CHECK(rbtree(t.m, t.f, RbOrder::InOrder, false).nodes == std::vector<VirtAddr>{t.e, t.f, t.g});
  RbResult as_root = rbtree(t.m, t.f, RbOrder::InOrder, true);
  CHECK(as_root.nodes.empty());
  REQUIRE(as_root.breaks.size() == 1);
}
