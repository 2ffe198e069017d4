#include "kernel-model/containers.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <optional>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::ChainWalk;
using kdive::Error;
using kdive::Fault;
using kdive::RbOrder;
using kdive::RbVisit;
using kdive::VirtAddr;
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

// Walks until the walk throws, keeping what it visited first.
template <typename Exception>
std::vector<VirtAddr> chain_until_throw(const SyntheticMemory& m, const ChainWalk& w, std::string* message) {
  std::vector<VirtAddr> out;
  try {
    walk_chain(m.memory(), w, [&](VirtAddr e) {
      out.push_back(e);
      return true;
    });
    FAIL("the walk did not throw");
  } catch (const Exception& e) {
    *message = e.what();
  }
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

TEST_CASE("a list that loops back to an entry (not its head) is an error naming the entry", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000);
  link_list(m, head, {a, b, c});
  m.put64(c + kListOffset, (b + kListOffset).value());  // c -> b instead of c -> head
  ChainWalk w = list_walk(head, false);
  std::string message;
  auto seen = chain_until_throw<Error>(m, w, &message);
  CHECK(seen == std::vector<VirtAddr>{a, b, c});
  CHECK(message.find(fmt::format("{:x}", b.value())) != std::string::npos);
  CHECK(message.find("loops") != std::string::npos);
}

TEST_CASE("a NULL next pointer ends a singly linked chain but is an error in a list_head list", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000);
  link_list(m, head, {a, b});
  m.put64(b + kListOffset, 0);
  ChainWalk w = list_walk(head, false);
  std::string message;
  CHECK(chain_until_throw<Error>(m, w, &message) == std::vector<VirtAddr>{a, b});
  CHECK(message.find("NULL") != std::string::npos);

  // struct pointers (crash's `list -o 8 ADDR`): NULL is the normal end.
  VirtAddr s1 = m.addr(0x4000), s2 = m.addr(0x5000), s3 = m.addr(0x6000);
  m.put64(s1 + 8, s2.value());
  m.put64(s2 + 8, s3.value());
  m.put64(s3 + 8, 0);
  ChainWalk s = singly(s1, 8);
  CHECK(chain(m, s) == std::vector<VirtAddr>{s1, s2, s3});
}

TEST_CASE("a corrupted next pointer faults after the entries before it", "[containers]") {
  SyntheticMemory m;
  VirtAddr head = m.addr(0x100);
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000);
  link_list(m, head, {a, b});
  VirtAddr wild = m.addr(0x7770000);  // never written: not in the dump
  m.put64(b + kListOffset, wild.value());
  ChainWalk w = list_walk(head, false);
  std::string message;
  auto seen = chain_until_throw<Fault>(m, w, &message);
  // The wild link is reported as an entry, then reading its next pointer faults.
  CHECK(seen == std::vector<VirtAddr>{a, b, wild - kListOffset});
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
    std::string message;
    CHECK(chain_until_throw<Error>(m, singly(s1), &message) == std::vector<VirtAddr>{s1, s2, s3, s4});
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

// rb_node { __rb_parent_color; rb_right; rb_left; }
void rb_node(SyntheticMemory& m, VirtAddr node, VirtAddr left, VirtAddr right) {
  m.put64(node, 0);
  m.put64(node + 8, right.value());
  m.put64(node + 16, left.value());
}

struct RbResult {
  std::vector<VirtAddr> nodes;
  std::vector<std::string> positions;
};

RbResult rbtree(const SyntheticMemory& m, VirtAddr top, RbOrder order) {
  RbResult r;
  walk_rbtree(m.memory(), top.value(), order, [&](const RbVisit& v) {
    r.nodes.push_back(v.node);
    r.positions.push_back(v.position);
    return true;
  });
  return r;
}

}  // namespace

TEST_CASE("rbtree walks in pre-order and in-order with positions", "[containers]") {
  SyntheticMemory m;
  //        d
  //      b   f
  //     a c e g
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000), d = m.addr(0x4000), e = m.addr(0x5000),
           f = m.addr(0x6000), g = m.addr(0x7000), none{0};
  rb_node(m, d, b, f);
  rb_node(m, b, a, c);
  rb_node(m, f, e, g);
  for (VirtAddr leaf : {a, c, e, g}) rb_node(m, leaf, none, none);

  RbResult pre = rbtree(m, d, RbOrder::Preorder);
  CHECK(pre.nodes == std::vector<VirtAddr>{d, b, a, c, f, e, g});
  CHECK(pre.positions ==
        std::vector<std::string>{"root", "root/l", "root/l/l", "root/l/r", "root/r", "root/r/l", "root/r/r"});

  RbResult in = rbtree(m, d, RbOrder::InOrder);
  CHECK(in.nodes == std::vector<VirtAddr>{a, b, c, d, e, f, g});
  CHECK(in.positions ==
        std::vector<std::string>{"root/l/l", "root/l", "root/l/r", "root", "root/r/l", "root/r", "root/r/r"});

  CHECK(rbtree(m, none, RbOrder::Preorder).nodes.empty());
}

TEST_CASE("an rbtree whose child points back up is an error", "[containers]") {
  SyntheticMemory m;
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000), c = m.addr(0x3000), none{0};
  rb_node(m, b, a, c);
  rb_node(m, a, none, none);
  rb_node(m, c, b, none);  // c's left child is the root again
  for (RbOrder order : {RbOrder::Preorder, RbOrder::InOrder}) {
    try {
      rbtree(m, b, order);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find(fmt::format("{:x}", b.value())) != std::string::npos);
    }
  }
}

TEST_CASE("an unreadable rbtree child faults", "[containers]") {
  SyntheticMemory m;
  VirtAddr a = m.addr(0x1000), wild = m.addr(0x7770000), none{0};
  rb_node(m, a, wild, none);
  CHECK_THROWS_AS(rbtree(m, a, RbOrder::Preorder), Fault);
}
