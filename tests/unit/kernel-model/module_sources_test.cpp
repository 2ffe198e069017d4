// Finding modules when the dump is damaged: the module address tree read over
// synthetic memory, merged with the module list, and names told from garbage.
#include "kernel-model/module_sources.hpp"

#include <catch2/catch.hpp>

#include "kernel-model/modules.hpp"
#include "tests/unit/support/synthetic_memory.hpp"

using kdive::FoundModule;
using kdive::ModTreeLayout;
using kdive::VirtAddr;
using kdive::Walked;
using kdive::test::SyntheticMemory;

namespace {

// struct mod_tree_node { struct module *mod; struct latch_tree_node node; }:
// the module pointer first, then the two copies' rb_nodes
// { __rb_parent_color; rb_right; rb_left; }; the walk checks each node's parent.
constexpr uint64_t kModOffset = 0;
constexpr uint64_t kNodeOffset = 8;
constexpr uint64_t kRight = 8;
constexpr uint64_t kLeft = 16;
// Where a module's two regions keep their mod_tree_node (core and init).
constexpr uint64_t kCoreHome = 0x100;
constexpr uint64_t kInitHome = 0x140;

// Module A has its core and init regions in the tree, module B its core:
// A's core node is the root, B's its left child, A's init node its right.
struct TwoModuleTree {
  SyntheticMemory m;
  VirtAddr root = m.addr(0x80);  // struct rb_root
  VirtAddr a = m.addr(0x1000), b = m.addr(0x2000);
  VirtAddr a_core = a + kCoreHome, a_init = a + kInitHome, b_core = b + kCoreHome;
  ModTreeLayout layout{kNodeOffset, kModOffset, {kCoreHome, kInitHome}};

  TwoModuleTree() {
    for (auto [node, mod] : {std::pair{a_core, a}, {a_init, a}, {b_core, b}}) m.put64(node + kModOffset, mod.value());
    m.put64(root, rb(a_core).value());
    link(a_core, VirtAddr{}, rb(b_core), rb(a_init));
    link(b_core, rb(a_core), VirtAddr{}, VirtAddr{});
    link(a_init, rb(a_core), VirtAddr{}, VirtAddr{});
  }
  static VirtAddr rb(VirtAddr node) { return node + kNodeOffset; }
  void link(VirtAddr node, VirtAddr parent, VirtAddr left, VirtAddr right) {
    m.put64(rb(node), parent.value() | (parent.is_null() ? 1 : 0));  // the root is black (colour bit 1)
    m.put64(rb(node) + kLeft, left.value());
    m.put64(rb(node) + kRight, right.value());
  }
  Walked<VirtAddr> walk() const { return kdive::mod_tree_modules(m.memory(), root, layout); }
};

}  // namespace

TEST_CASE("the module address tree gives each module once, however many regions it has", "[modules]") {
  TwoModuleTree t;
  Walked<VirtAddr> w = t.walk();
  CHECK(w.entries == std::vector<VirtAddr>{t.b, t.a});
  CHECK(w.complete());
}

TEST_CASE("a tree node whose module pointer does not hold it is a break, not a module", "[modules]") {
  TwoModuleTree t;
  t.m.put64(t.b_core + kModOffset, 0x4141414141414141);
  Walked<VirtAddr> w = t.walk();
  CHECK(w.entries == std::vector<VirtAddr>{t.a});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 0);
  CHECK(w.breaks[0].at == t.b_core);
  CHECK_THAT(w.breaks[0].reason, Catch::Contains("4141414141414141") && Catch::Contains("does not hold it"));

  // A null module pointer, and one that points just beside the module.
  t.m.put64(t.b_core + kModOffset, 0);
  CHECK(t.walk().breaks.size() == 1);
  t.m.put64(t.b_core + kModOffset, t.b.value() + 8);
  CHECK(t.walk().entries == std::vector<VirtAddr>{t.a});
}

TEST_CASE("an unreadable tree link loses only its subtree, and the break says where", "[modules]") {
  TwoModuleTree t;
  t.m.put64(TwoModuleTree::rb(t.a_core) + kLeft, 0xdead0000);  // nothing is mapped there: B's node is lost
  Walked<VirtAddr> w = t.walk();
  CHECK(w.entries == std::vector<VirtAddr>{t.a});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 0);
  CHECK_THAT(w.breaks[0].reason, Catch::Contains("dead0000"));

  TwoModuleTree u;
  u.m.put64(TwoModuleTree::rb(u.a_core) + kRight, 0xdead0000);  // A's init node: A is still reached by its core
  w = u.walk();
  CHECK(w.entries == std::vector<VirtAddr>{u.b, u.a});
  REQUIRE(w.breaks.size() == 1);
  CHECK(w.breaks[0].position == 2);
}

TEST_CASE("an empty tree has no modules and no breaks", "[modules]") {
  TwoModuleTree t;
  t.m.put64(t.root, 0);
  Walked<VirtAddr> w = t.walk();
  CHECK(w.entries.empty());
  CHECK(w.complete());
}

TEST_CASE("list and tree merge: list order first, then what only the tree holds", "[modules]") {
  const VirtAddr a{0xffffffffc0001000}, b{0xffffffffc0002000}, c{0xffffffffc0003000};
  const std::vector<VirtAddr> list{a, b, a};  // a walk that met a twice keeps it once
  const std::vector<VirtAddr> tree{c, b};
  std::vector<FoundModule> merged = kdive::merge_module_sources(list, &tree);
  REQUIRE(merged.size() == 3);
  CHECK((merged[0].address == a && merged[0].on_list && !merged[0].in_tree));
  CHECK((merged[1].address == b && merged[1].on_list && merged[1].in_tree));
  CHECK((merged[2].address == c && !merged[2].on_list && merged[2].in_tree));

  // A kernel without the tree: the list alone, nothing claimed of the tree.
  merged = kdive::merge_module_sources(list, nullptr);
  REQUIRE(merged.size() == 2);
  CHECK((merged[0].on_list && !merged[0].in_tree && merged[1].address == b));
}

TEST_CASE("module names are told from garbage", "[modules]") {
  CHECK(kdive::plausible_module_name("qemu_fw_cfg"));
  CHECK(kdive::plausible_module_name("dm-mod"));
  CHECK(kdive::plausible_module_name("nf_conntrack_ipv4"));
  CHECK_FALSE(kdive::plausible_module_name(""));
  CHECK_FALSE(kdive::plausible_module_name("two words"));
  CHECK_FALSE(kdive::plausible_module_name("a/b"));
  CHECK_FALSE(kdive::plausible_module_name("ok\x01"));
  CHECK_FALSE(kdive::plausible_module_name("\xff\xfe"));
  CHECK_FALSE(kdive::plausible_module_name("tab\there"));
}
