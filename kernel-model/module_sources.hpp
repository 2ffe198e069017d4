// Finding every loaded module's struct module in a dump that may be damaged.
// The kernel keeps two independent records of its modules: the `modules` list
// (struct module.list) and the module address tree, `mod_tree`, a latched
// rbtree of each module's memory regions by address (kernel/module/tree_lookup.c;
// CONFIG_MODULES_TREE_LOOKUP, set wherever perf or tracing is). The list is
// walked forwards and, behind a break, backwards from its head; the tree is
// walked too; a module either reaches is found, and every break in either is
// kept with where and why.
//
//   ModuleSources s = find_module_sources(k);
//   for (const FoundModule& f : s.modules) ... f.address, f.on_list, f.in_tree
//   s.list.breaks;  // {position 1, at ffff..., "next is 4141..., unreadable (...)"}
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;

// One struct module, and which record of the kernel holds it.
struct FoundModule {
  VirtAddr address;
  bool on_list = false;  // reached through the `modules` list
  bool in_tree = false;  // reached through the module address tree
};

struct ModuleSources {
  Walked<VirtAddr> list;                 // the struct modules on the `modules` list
  std::optional<Walked<VirtAddr>> tree;  // those in mod_tree; unset when the kernel has no tree
  std::vector<FoundModule> modules;      // every module either reached, list order first
};

// Walks the list and the tree of the dumped kernel. Nothing here throws for
// damage; Error(Lookup) only when struct module itself is unknown.
ModuleSources find_module_sources(const Kernel& k);

// The pieces of find_module_sources, over memory alone (for unit tests).

// Where things sit in the tree. Each module region carries a struct
// mod_tree_node { struct module *mod; struct latch_tree_node node; }, and a
// latch tree keeps two copies of itself: copy i links node.node[i].
struct ModTreeLayout {
  uint64_t node_offset = 0;  // the copy's rb_node in struct mod_tree_node
  uint64_t mod_offset = 0;   // mod_tree_node.mod
  // Where a mod_tree_node may sit inside struct module: one per region
  // (mem[i].mtn since 6.4, core_layout.mtn and init_layout.mtn before). A
  // node whose module pointer does not hold it there is damage, not a module.
  std::vector<uint64_t> node_homes;
};

// The distinct struct modules of the tree copy whose struct rb_root is at
// `root`, in address order of their first region.
Walked<VirtAddr> mod_tree_modules(const KernelMemory& mem, VirtAddr root, const ModTreeLayout& layout);

// One entry per distinct module: those on the list in list order, then those
// only the tree has, in tree order.
std::vector<FoundModule> merge_module_sources(const std::vector<VirtAddr>& list, const std::vector<VirtAddr>* tree);

}  // namespace kdive
