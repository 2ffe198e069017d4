#include "kernel-model/containers.hpp"

#include <fmt/format.h>

#include <unordered_set>
#include <utility>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// list_head { next; prev; } and hlist_node { next; pprev; } start with next;
// rb_node is { __rb_parent_color; rb_right; rb_left; } — kernel ABI since 2.6.
constexpr uint64_t kPrev = 8;
constexpr uint64_t kRbRight = 8;
constexpr uint64_t kRbLeft = 16;
// A red-black tree of n nodes is at most 2*log2(n+1) deep: 128 levels would
// need more nodes than memory holds, so anything deeper is a cycle or garbage.
constexpr size_t kMaxRbDepth = 128;

}  // namespace

namespace {

// The strict form of a recovering walk: its entries, or the first break as an error.
std::vector<VirtAddr> all_or_throw(Walked<VirtAddr> w, const char* what, VirtAddr head) {
  if (!w.complete()) {
    throw Error(Error::Kind::BadData, fmt::format("{} at {:x}: {}", what, head.value(), w.breaks.front().describe()));
  }
  return std::move(w.entries);
}

}  // namespace

std::vector<VirtAddr> list_entries(const KernelMemory& mem, VirtAddr head, uint64_t member_offset, bool reverse,
                                   size_t limit) {
  if (!reverse) return all_or_throw(walk_list(mem, head, member_offset, limit), "list", head);
  std::vector<VirtAddr> out;
  ChainWalk w;
  w.start = head;
  w.next_offset = kPrev;
  w.entry_bias = member_offset;
  w.start_is_entry = false;
  w.null_is_error = true;
  w.limit = limit;
  walk_chain(mem, w, [&](VirtAddr e) {
    out.push_back(e);
    return true;
  });
  return out;
}

std::vector<VirtAddr> list_entries(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  return list_entries(k.memory(), head, member_offset, false, limit);
}

std::vector<VirtAddr> list_entries_reverse(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  return list_entries(k.memory(), head, member_offset, true, limit);
}

std::vector<VirtAddr> hlist_entries(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  return all_or_throw(walk_hlist(k.memory(), head, member_offset, limit), "hlist", head);
}

std::vector<VirtAddr> rbtree_entries(const Kernel& k, VirtAddr root, uint64_t member_offset, size_t limit) {
  const KernelMemory& mem = k.memory();
  std::vector<VirtAddr> out;
  walk_rbtree(
      mem, mem.read<uint64_t>(root), RbOrder::InOrder,
      [&](const RbVisit& v) {
        out.push_back(VirtAddr{v.node.value() - member_offset});
        return true;
      },
      limit);
  return out;
}

size_t walk_chain(const KernelMemory& mem, const ChainWalk& w, const std::function<bool(VirtAddr)>& visit) {
  const uint64_t start = w.start.value();
  std::unordered_set<uint64_t> seen;
  size_t count = 0;
  auto is_end = [&](uint64_t link) { return w.end && (link == *w.end || link - w.entry_bias == *w.end); };
  uint64_t link = start;
  if (w.start_is_entry) {
    if (is_end(link)) return 0;
    seen.insert(link);
    ++count;
    if (!visit(VirtAddr{link - w.entry_bias})) return count;
  }
  std::optional<uint64_t> first;
  while (true) {
    uint64_t next = mem.read<uint64_t>(VirtAddr{link + w.next_offset});
    if (next == 0) {
      if (w.null_is_error) {
        throw Error(Error::Kind::BadData, fmt::format("list at {:x}: NULL pointer at {:x} after {} entries", start,
                                                      link + w.next_offset, count));
      }
      break;
    }
    if (next == start || is_end(next)) break;
    if (w.singly_linked && (next == link || (first && next == *first))) break;
    if (!first) first = next;
    if (!seen.insert(next).second) {
      throw Error(Error::Kind::BadData, fmt::format("list at {:x} loops: entry {:x} comes again after {} entries",
                                                    start, next - w.entry_bias, count));
    }
    if (count >= w.limit) {
      throw Error(Error::Kind::BadData, fmt::format("list at {:x} does not end within {} entries", start, w.limit));
    }
    ++count;
    if (!visit(VirtAddr{next - w.entry_bias})) break;
    link = next;
  }
  return count;
}

size_t walk_rbtree(const KernelMemory& mem, uint64_t top, RbOrder order,
                   const std::function<bool(const RbVisit&)>& visit, size_t limit) {
  struct Pending {
    uint64_t node;
    std::string position;
    bool expanded;  // in-order: its left subtree is already on the stack
  };
  std::unordered_set<uint64_t> seen;
  std::vector<Pending> stack;
  size_t count = 0;
  if (top != 0) stack.push_back({top, "root", false});
  auto check = [&](uint64_t node, const std::string& position) {
    if (!seen.insert(node).second) {
      throw Error(Error::Kind::BadData, fmt::format("rbtree node {:x} is reached twice (at {})", node, position));
    }
    // "root" plus "/x" per level.
    if ((position.size() - 4) / 2 > kMaxRbDepth) {
      throw Error(Error::Kind::BadData, fmt::format("rbtree under {:x} is deeper than {} levels", top, kMaxRbDepth));
    }
    if (count >= limit)
      throw Error(Error::Kind::BadData, fmt::format("rbtree under {:x} has over {} nodes", top, limit));
  };
  if (top != 0) check(top, "root");
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    uint64_t left = 0, right = 0;
    if (order == RbOrder::Preorder || !p.expanded) {
      left = mem.read<uint64_t>(VirtAddr{p.node + kRbLeft});
      right = mem.read<uint64_t>(VirtAddr{p.node + kRbRight});
    }
    if (order == RbOrder::Preorder) {
      ++count;
      if (!visit({VirtAddr{p.node}, p.position})) return count;
      if (right != 0) {
        check(right, p.position + "/r");
        stack.push_back({right, p.position + "/r", false});
      }
      if (left != 0) {
        check(left, p.position + "/l");
        stack.push_back({left, p.position + "/l", false});
      }
      continue;
    }
    if (!p.expanded) {
      // Visit order: left subtree, this node, right subtree (pushed reversed).
      if (right != 0) {
        check(right, p.position + "/r");
        stack.push_back({right, p.position + "/r", false});
      }
      stack.push_back({p.node, p.position, true});
      if (left != 0) {
        check(left, p.position + "/l");
        stack.push_back({left, p.position + "/l", false});
      }
      continue;
    }
    ++count;
    if (!visit({VirtAddr{p.node}, p.position})) return count;
  }
  return count;
}

}  // namespace kdive
