// Text centred in a column, the way crash centres its column values (the MM
// line of vm, the swap PTE lines, kmem -n's columns).
//
//   centered("7f00", 8)          // "  7f00  "
//   centered("PTE", 6)           // " PTE  "   (an odd spare space goes right)
//   centered("PTE", 6, true)     // "  PTE "   (... or left)
#pragma once

#include <string>
#include <string_view>

namespace kdive {

inline std::string centered(std::string_view text, size_t width, bool odd_space_left = false) {
  if (text.size() >= width) return std::string(text);
  const size_t spare = width - text.size();
  const size_t left = odd_space_left ? (spare + 1) / 2 : spare / 2;
  return std::string(left, ' ') + std::string(text) + std::string(spare - left, ' ');
}

}  // namespace kdive
