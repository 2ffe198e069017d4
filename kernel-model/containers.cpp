#include "kernel-model/containers.hpp"

#include <fmt/format.h>

#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// list_head { next; prev; } and hlist_node { next; pprev; } start with next;
// rb_node is { __rb_parent_color; rb_right; rb_left; } — kernel ABI since 2.6.
constexpr uint64_t kNext = 0;
constexpr uint64_t kPrev = 8;
constexpr uint64_t kRbRight = 8;
constexpr uint64_t kRbLeft = 16;

std::vector<VirtAddr> walk_list(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit,
                                uint64_t link) {
  const KernelMemory& mem = k.memory();
  std::vector<VirtAddr> out;
  uint64_t node = mem.read<uint64_t>(head + link);
  while (node != head.value()) {
    if (node == 0) throw Error(Error::Kind::BadData, fmt::format("list at {:x}: NULL link after {} entries", head.value(), out.size()));
    if (out.size() >= limit) {
      throw Error(Error::Kind::BadData,
                  fmt::format("list at {:x} does not return to its head after {} entries", head.value(), limit));
    }
    out.push_back(VirtAddr{node - member_offset});
    node = mem.read<uint64_t>(VirtAddr{node + link});
  }
  return out;
}

}  // namespace

std::vector<VirtAddr> list_entries(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  return walk_list(k, head, member_offset, limit, kNext);
}

std::vector<VirtAddr> list_entries_reverse(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  return walk_list(k, head, member_offset, limit, kPrev);
}

std::vector<VirtAddr> hlist_entries(const Kernel& k, VirtAddr head, uint64_t member_offset, size_t limit) {
  const KernelMemory& mem = k.memory();
  std::vector<VirtAddr> out;
  std::unordered_set<uint64_t> seen;
  for (uint64_t node = mem.read<uint64_t>(head); node != 0; node = mem.read<uint64_t>(VirtAddr{node + kNext})) {
    if (out.size() >= limit || !seen.insert(node).second) {
      throw Error(Error::Kind::BadData, fmt::format("hlist at {:x} loops", head.value()));
    }
    out.push_back(VirtAddr{node - member_offset});
  }
  return out;
}

std::vector<VirtAddr> rbtree_entries(const Kernel& k, VirtAddr root, uint64_t member_offset, size_t limit) {
  const KernelMemory& mem = k.memory();
  std::vector<VirtAddr> out;
  std::vector<uint64_t> stack;
  uint64_t node = mem.read<uint64_t>(root);  // rb_root.rb_node
  while (node != 0 || !stack.empty()) {
    while (node != 0) {
      if (stack.size() > 256) throw Error(Error::Kind::BadData, fmt::format("rbtree at {:x} is too deep", root.value()));
      stack.push_back(node);
      node = mem.read<uint64_t>(VirtAddr{node + kRbLeft});
    }
    node = stack.back();
    stack.pop_back();
    if (out.size() >= limit) throw Error(Error::Kind::BadData, fmt::format("rbtree at {:x} loops", root.value()));
    out.push_back(VirtAddr{node - member_offset});
    node = mem.read<uint64_t>(VirtAddr{node + kRbRight});
  }
  return out;
}

}  // namespace kdive
