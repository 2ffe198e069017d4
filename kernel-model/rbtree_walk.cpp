#include "kernel-model/rbtree_walk.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>
#include <unordered_set>
#include <utility>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_memory.hpp"

namespace kdive {
namespace {

// rb_node { __rb_parent_color; rb_right; rb_left; } — kernel ABI since 2.6.19.
constexpr uint64_t kRbParentColor = 0;
constexpr uint64_t kRbRight = 8;
constexpr uint64_t kRbLeft = 16;
constexpr size_t kRbNodeSize = 24;
// The low two bits of __rb_parent_color are the colour (bit 0) and unused
// (rb_node is long-aligned): the rest is the parent's address.
constexpr uint64_t kRbColorBits = 3;
// A red-black tree of n nodes is at most 2*log2(n+1) deep: 128 levels would
// need more nodes than memory holds, so anything deeper is a cycle or garbage.
constexpr size_t kMaxRbDepth = 128;

struct Pending {
  uint64_t node;
  uint64_t parent;  // the node above; 0 for the top
  std::string position;
  size_t depth;
  bool expanded = false;  // in-order: its left subtree is already on the stack
  uint64_t left = 0, right = 0;
};

class Walker {
 public:
  Walker(const KernelMemory& mem, const RbWalk& walk, const std::function<bool(const RbVisit&)>& visit,
         const std::function<void(const WalkBreak&)>& on_break)
      : mem_(mem), walk_(walk), visit_(visit), on_break_(on_break) {}

  size_t run() {
    if (walk_.top == 0) return 0;
    stack_.push_back({walk_.top, 0, "root", 0});
    while (!stack_.empty()) {
      Pending p = std::move(stack_.back());
      stack_.pop_back();
      if (p.expanded) {
        if (!visit(p)) return count_;
        continue;
      }
      if (!check(p)) continue;
      if (walk_.order == RbOrder::Preorder) {
        if (!visit(p)) return count_;
        push(p.right, p, "/r");
        push(p.left, p, "/l");
      } else {
        // Visit order: left subtree, this node, right subtree (pushed reversed).
        push(p.right, p, "/r");
        Pending self = p;
        self.expanded = true;
        stack_.push_back(std::move(self));
        push(p.left, p, "/l");
      }
    }
    return count_;
  }

 private:
  void push(uint64_t child, const Pending& parent, const char* step) {
    if (child != 0) stack_.push_back({child, parent.node, parent.position + step, parent.depth + 1});
  }

  void lose(uint64_t at, std::string reason) { on_break_(WalkBreak{count_, VirtAddr{at}, std::move(reason)}); }

  // Reads and checks the node `p` before its subtree is taken; false when it
  // is damaged (a break was reported, the subtree is skipped).
  bool check(Pending& p) {
    const std::string where = fmt::format("at {}: its subtree not read", p.position);
    if (!seen_.insert(p.node).second) {
      lose(p.node, fmt::format("rb_node reached before ({})", where));
      return false;
    }
    if (p.depth > kMaxRbDepth) {
      lose(p.node, fmt::format("rb_node deeper than {} levels ({})", kMaxRbDepth, where));
      return false;
    }
    std::array<std::byte, kRbNodeSize> bytes;
    try {
      mem_.read(VirtAddr{p.node}, bytes);
    } catch (const Fault& f) {
      lose(p.node, fmt::format("rb_node unreadable: {} ({})", f.what(), where));
      return false;
    }
    auto word = [&](uint64_t offset) {
      uint64_t v;
      std::memcpy(&v, bytes.data() + offset, sizeof v);
      return v;
    };
    const uint64_t parent = word(kRbParentColor) & ~kRbColorBits;
    const bool parent_known = p.depth > 0 || walk_.top_is_root;
    if (parent_known && parent != p.parent) {
      lose(p.node, fmt::format("rb_node's parent is {:x}, not {:x} ({})", parent, p.parent, where));
      return false;
    }
    p.left = word(kRbLeft);
    p.right = word(kRbRight);
    return true;
  }

  bool visit(const Pending& p) {
    if (count_ >= walk_.limit) {
      lose(p.node, fmt::format("more than {} nodes: the walk stops here", walk_.limit));
      return false;
    }
    ++count_;
    return visit_(RbVisit{VirtAddr{p.node}, p.position});
  }

  const KernelMemory& mem_;
  const RbWalk& walk_;
  const std::function<bool(const RbVisit&)>& visit_;
  const std::function<void(const WalkBreak&)>& on_break_;
  std::vector<Pending> stack_;
  std::unordered_set<uint64_t> seen_;
  size_t count_ = 0;
};

}  // namespace

size_t walk_rbtree(const KernelMemory& mem, const RbWalk& walk, const std::function<bool(const RbVisit&)>& visit,
                   const std::function<void(const WalkBreak&)>& on_break) {
  return Walker(mem, walk, visit, on_break).run();
}

Walked<VirtAddr> walk_rbtree_entries(const KernelMemory& mem, VirtAddr root, uint64_t member_offset, size_t limit) {
  Walked<VirtAddr> out;
  RbWalk walk{.order = RbOrder::InOrder, .limit = limit};
  try {
    walk.top = mem.read<uint64_t>(root);  // rb_root.rb_node
  } catch (const Fault& f) {
    out.breaks.push_back(WalkBreak{0, root, fmt::format("rb_root unreadable: {}", f.what())});
    return out;
  }
  walk_rbtree(
      mem, walk,
      [&](const RbVisit& v) {
        out.entries.push_back(v.node - member_offset);
        return true;
      },
      [&](const WalkBreak& b) { out.breaks.push_back(b); });
  return out;
}

std::vector<VirtAddr> rbtree_entries(const Kernel& k, VirtAddr root, uint64_t member_offset, size_t limit) {
  return walk_rbtree_entries(k.memory(), root, member_offset, limit).all_or_throw("rbtree", root);
}

}  // namespace kdive
