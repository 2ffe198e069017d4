#include "kernel-model/list_walk.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_memory.hpp"

namespace kdive {
namespace {

// list_head { next; prev; } and hlist_node { next; pprev; }: kernel ABI since 2.6.
constexpr uint64_t kNext = 0;
constexpr uint64_t kPrev = 8;

std::optional<uint64_t> read_link(const KernelMemory& mem, uint64_t at, std::string* why) {
  try {
    return mem.read<uint64_t>(VirtAddr{at});
  } catch (const Fault& f) {
    *why = fmt::format("unreadable ({})", f.what());
    return std::nullopt;
  }
}

// One direction of a list_head walk. Forward, a link is accepted when its prev
// names the link before it; backward, when its next does.
struct Direction {
  uint64_t step;   // the pointer followed: next or prev
  uint64_t check;  // the pointer that must name where we came from
  const char* step_name;
  const char* check_name;
};
constexpr Direction kForward{kNext, kPrev, "next", "prev"};
constexpr Direction kBackward{kPrev, kNext, "prev", "next"};

struct HalfWalk {
  std::vector<uint64_t> links;
  std::optional<WalkBreak> stop;  // unset: came back to the head
  uint64_t refused = 0;           // the link whose back pointer did not match
  bool head_unreadable = false;   // the head itself could not be read: no way back either
};

// Walks from `head` in one direction until it returns to the head, reaches a
// link in `stop_at` (the other direction's links: the two halves have met),
// or finds damage. `budget` bounds the links taken.
HalfWalk walk_half(const KernelMemory& mem, uint64_t head, uint64_t member_offset, const Direction& d,
                   const std::unordered_set<uint64_t>& stop_at, size_t budget) {
  HalfWalk w;
  std::unordered_set<uint64_t> seen;
  uint64_t from = head;
  std::string why;
  // Breaks speak of entries (the addresses a user sees listed), not of the
  // list_heads inside them; the head is named as such.
  auto name = [&](uint64_t link) {
    if (link == 0) return std::string("NULL");
    return link == head ? fmt::format("the head {:x}", head) : fmt::format("entry {:x}", link - member_offset);
  };
  auto stop = [&](std::string reason) {
    w.stop = WalkBreak{0, VirtAddr{from == head ? head : from - member_offset}, std::move(reason)};
    return std::move(w);
  };
  std::optional<uint64_t> cur = read_link(mem, from + d.step, &why);
  w.head_unreadable = !cur;
  while (true) {
    if (!cur) return stop(fmt::format("its {} pointer is {}", d.step_name, why));
    if (*cur == head || stop_at.count(*cur)) return w;
    if (*cur == 0) return stop(fmt::format("its {} is NULL", d.step_name));
    if (!seen.insert(*cur).second) {
      return stop(fmt::format("its {} comes back to {}, reached before", d.step_name, name(*cur)));
    }
    if (w.links.size() >= budget) return stop(fmt::format("no end within {} entries", budget));
    std::optional<uint64_t> back = read_link(mem, *cur + d.check, &why);
    if (!back) {
      w.refused = *cur;
      return stop(fmt::format("its {} is {}: {}", d.step_name, name(*cur), why));
    }
    if (*back != from) {
      w.refused = *cur;
      return stop(fmt::format("its {} is {}, whose {} is {}", d.step_name, name(*cur), d.check_name, name(*back)));
    }
    w.links.push_back(*cur);
    from = *cur;
    cur = read_link(mem, from + d.step, &why);
  }
}

}  // namespace

Walked<VirtAddr> walk_list(const KernelMemory& mem, VirtAddr head, uint64_t member_offset, size_t limit) {
  Walked<VirtAddr> out;
  auto entry = [&](uint64_t link) { return VirtAddr{link - member_offset}; };
  HalfWalk fwd = walk_half(mem, head.value(), member_offset, kForward, {}, limit);
  for (uint64_t l : fwd.links) out.entries.push_back(entry(l));
  if (!fwd.stop) return out;
  if (fwd.head_unreadable) {
    out.breaks.push_back(*fwd.stop);
    return out;
  }

  WalkBreak first = *fwd.stop;
  first.position = out.entries.size();
  std::unordered_set<uint64_t> reached(fwd.links.begin(), fwd.links.end());
  HalfWalk back =
      walk_half(mem, head.value(), member_offset, kBackward, reached, limit - std::min(limit, fwd.links.size()));
  // Backward reached the link forward refused: that link's own back pointer
  // was the only damage, and it is now listed.
  auto met = std::find(back.links.begin(), back.links.end(), fwd.refused);
  if (fwd.refused != 0 && met != back.links.end()) {
    back.links.erase(met + 1, back.links.end());
    back.stop.reset();
  }
  for (auto it = back.links.rbegin(); it != back.links.rend(); ++it) out.entries.push_back(entry(*it));
  if (!back.links.empty()) {
    first.reason += fmt::format("; {} entr{} behind the break reached backwards through prev", back.links.size(),
                                back.links.size() == 1 ? "y" : "ies");
  }
  // Backward stopped at the entry forward refused: one damaged entry, one break.
  if (back.stop && (back.refused == 0 || back.refused != fwd.refused)) {
    WalkBreak second = *back.stop;
    second.position = first.position;
    second.reason = "walking back: " + second.reason;
    out.breaks.push_back(std::move(first));
    out.breaks.push_back(std::move(second));
  } else {
    if (back.stop) first.reason += " (nor does that entry's next lead back)";
    out.breaks.push_back(std::move(first));
  }
  return out;
}

Walked<VirtAddr> walk_hlist(const KernelMemory& mem, VirtAddr head, uint64_t member_offset, size_t limit) {
  Walked<VirtAddr> out;
  std::unordered_set<uint64_t> seen;
  std::string why;
  uint64_t from = head.value();  // where the pointer to the current node sits
  auto stop = [&](std::string reason) {
    // At the entry whose next pointer failed (or the head).
    VirtAddr at = from == head.value() ? head : VirtAddr{from - kNext - member_offset};
    out.breaks.push_back(WalkBreak{out.entries.size(), at, std::move(reason)});
    return out;
  };
  auto name = [&](uint64_t node) { return fmt::format("entry {:x}", node - member_offset); };
  std::optional<uint64_t> node = read_link(mem, from, &why);
  while (true) {
    if (!node) return stop(fmt::format("its next pointer is {}", why));
    if (*node == 0) return out;
    if (!seen.insert(*node).second) return stop(fmt::format("its next comes back to {}, reached before", name(*node)));
    if (out.entries.size() >= limit) return stop(fmt::format("no end within {} entries", limit));
    // hlist_node.pprev holds the address of the pointer that leads to it.
    std::optional<uint64_t> pprev = read_link(mem, *node + kPrev, &why);
    if (!pprev) return stop(fmt::format("its next is {}: {}", name(*node), why));
    if (*pprev != from)
      return stop(fmt::format("its next is {}, whose pprev is {:x}, not {:x}", name(*node), *pprev, from));
    out.entries.push_back(VirtAddr{*node - member_offset});
    from = *node + kNext;
    node = read_link(mem, from, &why);
  }
}

}  // namespace kdive
