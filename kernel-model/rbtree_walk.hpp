// Walking a red-black tree (struct rb_root / struct rb_node) over memory that
// may be damaged. Each node is checked before its subtree is taken: it must be
// readable, not reached before, and name the node above it as its parent
// (rb_node.__rb_parent_color without its two colour bits). A node that fails
// is a WalkBreak at the place its subtree would have been; that subtree is
// skipped and the rest of the tree is walked. Nothing here throws for damage.
//
//   // the module address tree, in key order: each struct module's mtn node
//   Walked<VirtAddr> w = walk_rbtree_entries(k.memory(), root, mtn_offset);
//
//   // crash's `tree -t rbtree -p`: root first, each node with its path
//   RbWalk walk{.top = mem.read<uint64_t>(root)};
//   walk_rbtree(mem, walk, [&](const RbVisit& v) { print(v.node, v.position); return true; },
//               [&](const WalkBreak& b) { print("(damaged: {})", b.describe()); });
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel-model/list_walk.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;

enum class RbOrder {
  Preorder,  // a node, then its left subtree, then its right (crash's default)
  InOrder,   // left to right: sorted by the tree's key (crash's -l)
};

struct RbVisit {
  VirtAddr node;         // the struct rb_node
  std::string position;  // "root", "root/l", "root/l/r", ...
};

struct RbWalk {
  uint64_t top = 0;  // the top rb_node (rb_root.rb_node's value); 0 is an empty tree
  // The top node hangs from an rb_root, so its parent is NULL. False when the
  // top is a node somewhere inside a tree (tree -N), whose parent is not known.
  bool top_is_root = true;
  RbOrder order = RbOrder::Preorder;
  size_t limit = kMaxListEntries;  // more nodes than this stops the walk, with a break
};

// Calls visit() for each node in `walk.order` until it returns false, and
// on_break() where a node is damaged (its subtree is skipped) or the walk
// stops; a break's position is the number of nodes visited before it.
// Returns the number of nodes visited.
size_t walk_rbtree(const KernelMemory& mem, const RbWalk& walk, const std::function<bool(const RbVisit&)>& visit,
                   const std::function<void(const WalkBreak&)>& on_break);

// The nodes of the rbtree whose struct rb_root is at `root`, in key order,
// each minus `member_offset` (the structure the rb_node is embedded in).
// An unreadable root is one break with no entries.
Walked<VirtAddr> walk_rbtree_entries(const KernelMemory& mem, VirtAddr root, uint64_t member_offset,
                                     size_t limit = kMaxListEntries);

// The strict form: the entries, or Error(BadData) naming the first break.
std::vector<VirtAddr> rbtree_entries(const Kernel& k, VirtAddr root, uint64_t member_offset,
                                     size_t limit = kMaxListEntries);

}  // namespace kdive
