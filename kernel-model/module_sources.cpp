#include "kernel-model/module_sources.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/rbtree_walk.hpp"

namespace kdive {
namespace {

// Where the tree's pieces sit, from DWARF; unset when this kernel keeps no
// module address tree (CONFIG_MODULES_TREE_LOOKUP off: no mod_tree_node, or
// no mtn in the module's regions).
std::optional<ModTreeLayout> tree_layout(const Kernel& k, const Type& module, int copy) {
  const Type* node_type = k.types().lookup("struct mod_tree_node");
  if (node_type == nullptr) return std::nullopt;
  auto links = node_type->member("node.node");  // struct rb_node node[2] of the latch_tree_node
  auto mod = node_type->member("mod");
  if (!links || !mod) return std::nullopt;
  const Type* rb_node = links->type->strip().target();
  if (rb_node == nullptr) return std::nullopt;
  ModTreeLayout layout;
  layout.node_offset = links->offset + static_cast<uint64_t>(copy) * rb_node->size();
  layout.mod_offset = mod->offset;
  // Since 6.4 (commit ac3b43283923, "module: replace module_layout with
  // module_memory") every kind of module memory has its own tree node.
  if (auto mem = module.member("mem")) {
    const Type& array = mem->type->strip();
    const Type* region = array.target();
    auto mtn = region != nullptr ? region->strip().member("mtn") : std::nullopt;
    if (!mtn || !array.count()) return std::nullopt;
    for (uint64_t i = 0; i < *array.count(); ++i) {
      layout.node_homes.push_back(mem->offset + i * region->size() + mtn->offset);
    }
  } else {
    for (const char* home : {"core_layout.mtn", "init_layout.mtn"}) {
      if (auto m = module.member(home)) layout.node_homes.push_back(m->offset);
    }
  }
  if (layout.node_homes.empty()) return std::nullopt;
  return layout;
}

// mod_tree.root.tree[copy]: a struct rb_root.
VirtAddr tree_root(const Kernel& k, VirtAddr mod_tree, int copy) {
  Object root(k, mod_tree, &k.types().require("struct mod_tree_root"));
  return root["root"]["tree"].at(static_cast<uint64_t>(copy)).address();
}

// Both copies of the latch tree link the same nodes: the second is walked
// only when the first breaks, to reach what the first could not.
std::optional<Walked<VirtAddr>> walk_mod_tree(const Kernel& k, const Type& module) {
  auto mod_tree = k.symbols().address("mod_tree");
  auto first = tree_layout(k, module, 0);
  if (!mod_tree || !first || k.types().lookup("struct mod_tree_root") == nullptr) return std::nullopt;
  Walked<VirtAddr> w = mod_tree_modules(k.memory(), tree_root(k, *mod_tree, 0), *first);
  if (w.complete()) return w;
  Walked<VirtAddr> second = mod_tree_modules(k.memory(), tree_root(k, *mod_tree, 1), *tree_layout(k, module, 1));
  std::unordered_set<uint64_t> known;
  for (VirtAddr a : w.entries) known.insert(a.value());
  size_t added = 0;
  for (VirtAddr a : second.entries) {
    if (known.insert(a.value()).second) {
      w.entries.push_back(a);
      ++added;
    }
  }
  if (added > 0) {
    w.breaks.front().reason +=
        fmt::format("; {} module{} more reached through the tree's second copy", added, added == 1 ? "" : "s");
  }
  for (WalkBreak& b : second.breaks) {
    b.reason = "second copy: " + b.reason;
    b.position = w.entries.size();
    w.breaks.push_back(std::move(b));
  }
  return w;
}

}  // namespace

Walked<VirtAddr> mod_tree_modules(const KernelMemory& mem, VirtAddr root, const ModTreeLayout& layout) {
  Walked<VirtAddr> nodes = walk_rbtree_entries(mem, root, layout.node_offset);
  Walked<VirtAddr> out;
  std::unordered_set<uint64_t> seen;
  auto carry_breaks = [&](size_t i) {
    for (const WalkBreak* b : nodes.breaks_at(i)) out.breaks.push_back({out.entries.size(), b->at, b->reason});
  };
  for (size_t i = 0; i < nodes.entries.size(); ++i) {
    carry_breaks(i);
    const VirtAddr node = nodes.entries[i];
    uint64_t mod = 0;
    try {
      mod = mem.read<uint64_t>(node + layout.mod_offset);
    } catch (const Fault& f) {
      out.breaks.push_back({out.entries.size(), node, fmt::format("mod_tree_node's module pointer {}", f.what())});
      continue;
    }
    // The node must sit in its module at one of a region's node places.
    const uint64_t home = node.value() - mod;
    if (mod == 0 || std::find(layout.node_homes.begin(), layout.node_homes.end(), home) == layout.node_homes.end()) {
      out.breaks.push_back(
          {out.entries.size(), node, fmt::format("mod_tree_node names module {:x}, which does not hold it", mod)});
      continue;
    }
    if (seen.insert(mod).second) out.entries.push_back(VirtAddr{mod});
  }
  carry_breaks(nodes.entries.size());
  return out;
}

std::vector<FoundModule> merge_module_sources(const std::vector<VirtAddr>& list, const std::vector<VirtAddr>* tree) {
  std::vector<FoundModule> out;
  std::unordered_set<uint64_t> in_tree;
  if (tree != nullptr) {
    for (VirtAddr a : *tree) in_tree.insert(a.value());
  }
  std::unordered_set<uint64_t> listed;
  for (VirtAddr a : list) {
    if (!listed.insert(a.value()).second) continue;
    out.push_back({a, true, in_tree.count(a.value()) != 0});
  }
  if (tree != nullptr) {
    for (VirtAddr a : *tree) {
      if (listed.insert(a.value()).second) out.push_back({a, false, true});
    }
  }
  return out;
}

ModuleSources find_module_sources(const Kernel& k) {
  ModuleSources s;
  auto head = k.symbols().address("modules");
  if (!head) return s;  // a kernel built without module support
  const Type& module = k.types().require("struct module");
  // `modules` is a static LIST_HEAD (kernel/module/main.c): seen as one by type.
  Object modules(k, *head, &k.types().require("struct list_head"));
  Walked<Object> list = walk_list_objects(k, modules, module, "list");
  for (const Object& m : list.entries) s.list.entries.push_back(m.address());
  s.list.breaks = std::move(list.breaks);
  s.tree = walk_mod_tree(k, module);
  s.modules = merge_module_sources(s.list.entries, s.tree ? &s.tree->entries : nullptr);
  return s;
}

}  // namespace kdive
