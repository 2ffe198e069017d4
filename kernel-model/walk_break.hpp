// Where a walk over kernel memory could not go on, and why. A dump comes from
// a kernel that just failed, so damaged lists and trees are normal: walkers
// return every entry they could reach together with one WalkBreak for each
// place they stopped, and commands print a marker there and go on. Nothing
// reached before or after a break is thrown away.
//
//   Walked<VirtAddr> w = walk_list(k.memory(), head, offset);
//   for (size_t i = 0; i <= w.entries.size(); ++i) {
//     for (const WalkBreak& b : w.breaks_at(i)) print("(damaged: {})", b.describe());
//     if (i < w.entries.size()) print(w.entries[i]);
//   }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

struct WalkBreak {
  size_t position = 0;  // how many of the walk's entries come before the break
  VirtAddr at;          // the link, node or pointer that could not be followed
  std::string reason;   // what was wrong there: "next is NULL", "unreadable: ..."

  // "<at>: <reason>", the text of a marker.
  std::string describe() const;
};

// Throws Error(BadData) "<what> at <where>: <the break>".
[[noreturn]] void throw_walk_break(const WalkBreak& b, std::string_view what, VirtAddr where);

template <class Entry>
struct Walked {
  std::vector<Entry> entries;
  std::vector<WalkBreak> breaks;

  bool complete() const { return breaks.empty(); }
  // The breaks that sit just before entry i (i == entries.size(): after the last).
  std::vector<const WalkBreak*> breaks_at(size_t i) const {
    std::vector<const WalkBreak*> out;
    for (const WalkBreak& b : breaks) {
      if (b.position == i) out.push_back(&b);
    }
    return out;
  }
  // The strict form, for callers that cannot go on past damage: every entry,
  // or the first break as an error naming `what` (a "list", an "rbtree") at `where`.
  std::vector<Entry> all_or_throw(std::string_view what, VirtAddr where) && {
    if (!breaks.empty()) throw_walk_break(breaks.front(), what, where);
    return std::move(entries);
  }
};

}  // namespace kdive
