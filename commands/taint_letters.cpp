#include "commands/taint_letters.hpp"

#include <fmt/format.h>

namespace kdive {

std::string taint_letters(uint64_t taints) {
  static constexpr char kLetters[] = "PFSRMBUDAWCIOELKXTN";
  std::string out;
  for (size_t bit = 0; bit < 64; ++bit) {
    if (!(taints >> bit & 1)) continue;
    if (bit < sizeof(kLetters) - 1) {
      out += kLetters[bit];
    } else {
      return fmt::format("{:x}", taints);
    }
  }
  return out;
}

}  // namespace kdive
