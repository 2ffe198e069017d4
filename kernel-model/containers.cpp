#include "kernel-model/containers.hpp"

#include <fmt/format.h>

#include <unordered_set>
#include <utility>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// list_head { next; prev; } and hlist_node { next; pprev; } start with next.
constexpr uint64_t kPrev = 8;

}  // namespace

namespace {}  // namespace

std::vector<VirtAddr> list_entries(const KernelMemory& mem, VirtAddr head, uint64_t member_offset, bool reverse,
                                   size_t limit) {
  if (!reverse) return walk_list(mem, head, member_offset, limit).all_or_throw("list", head);
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
  return walk_hlist(k.memory(), head, member_offset, limit).all_or_throw("hlist", head);
}

size_t walk_chain(const KernelMemory& mem, const ChainWalk& w, const std::function<bool(VirtAddr)>& visit,
                  const std::function<void(const WalkBreak&)>& on_break) {
  const uint64_t start = w.start.value();
  std::unordered_set<uint64_t> seen;
  size_t count = 0;
  auto is_end = [&](uint64_t link) { return w.end && (link == *w.end || link - w.entry_bias == *w.end); };
  auto stop = [&](uint64_t at, std::string reason) {
    on_break(WalkBreak{count, VirtAddr{at}, std::move(reason)});
    return count;
  };
  uint64_t link = start;
  if (w.start_is_entry) {
    if (is_end(link)) return 0;
    seen.insert(link);
    ++count;
    if (!visit(VirtAddr{link - w.entry_bias})) return count;
  }
  std::optional<uint64_t> first;
  while (true) {
    const uint64_t pointer = link + w.next_offset;
    uint64_t next;
    try {
      next = mem.read<uint64_t>(VirtAddr{pointer});
    } catch (const Fault& f) {
      return stop(pointer, fmt::format("pointer unreadable: {}", f.what()));
    }
    if (next == 0) {
      if (w.null_is_error) return stop(pointer, "pointer is NULL");
      break;
    }
    if (next == start || is_end(next)) break;
    if (w.singly_linked && (next == link || (first && next == *first))) break;
    if (!first) first = next;
    if (!seen.insert(next).second) {
      return stop(pointer, fmt::format("pointer is {:x}: entry {:x} comes again, a loop", next, next - w.entry_bias));
    }
    if (count >= w.limit) return stop(pointer, fmt::format("no end within {} entries", w.limit));
    ++count;
    if (!visit(VirtAddr{next - w.entry_bias})) break;
    link = next;
  }
  return count;
}

size_t walk_chain(const KernelMemory& mem, const ChainWalk& w, const std::function<bool(VirtAddr)>& visit) {
  return walk_chain(mem, w, visit, [&](const WalkBreak& b) {
    throw Error(Error::Kind::BadData, fmt::format("list at {:x}: {}", w.start.value(), b.describe()));
  });
}

}  // namespace kdive
