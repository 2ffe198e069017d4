#include "commands/taint_letters.hpp"

#include <fmt/format.h>

namespace kdive {

namespace {
constexpr char kLetters[] = "PFSRMBUDAWCIOELKXTN";
// The kernel's TAINT_* names for the same bits (include/linux/panic.h).
constexpr const char* kNames[] = {"TAINT_PROPRIETARY_MODULE",
                                  "TAINT_FORCED_MODULE",
                                  "TAINT_CPU_OUT_OF_SPEC",
                                  "TAINT_FORCED_RMMOD",
                                  "TAINT_MACHINE_CHECK",
                                  "TAINT_BAD_PAGE",
                                  "TAINT_USER",
                                  "TAINT_DIE",
                                  "TAINT_OVERRIDDEN_ACPI_TABLE",
                                  "TAINT_WARN",
                                  "TAINT_CRAP",
                                  "TAINT_FIRMWARE_WORKAROUND",
                                  "TAINT_OOT_MODULE",
                                  "TAINT_UNSIGNED_MODULE",
                                  "TAINT_SOFTLOCKUP",
                                  "TAINT_LIVEPATCH",
                                  "TAINT_AUX",
                                  "TAINT_RANDSTRUCT",
                                  "TAINT_TEST"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == sizeof(kLetters) - 1);
}  // namespace

std::vector<TaintFlag> taint_flags(uint64_t taints) {
  std::vector<TaintFlag> out;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(taints >> bit & 1)) continue;
    if (static_cast<size_t>(bit) < sizeof(kLetters) - 1) {
      out.push_back({bit, kLetters[bit], kNames[bit]});
    } else {
      out.push_back({bit, '?', fmt::format("bit {}", bit)});
    }
  }
  return out;
}

std::string taint_letters(uint64_t taints) {
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
