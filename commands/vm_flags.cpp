#include "commands/vm_flags.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"

namespace kdive {

uint64_t parse_vm_flags(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with("0x") || digits.starts_with("0X")) digits.remove_prefix(2);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) {
    throw CommandError(fmt::format("-f {}: not a hexadecimal vm_flags value", text));
  }
  return v;
}

std::string vm_flags_text(uint64_t flags, const DecodedVmaFlags& decoded) {
  std::string names;
  for (const std::string& n : decoded.names) names += (names.empty() ? "" : "|") + n;
  if (decoded.unknown != 0) names += fmt::format("{}{:#x}", names.empty() ? "" : "|", decoded.unknown);
  return fmt::format("{:x}: ({})", flags, names);
}

Json vm_flags_json(uint64_t flags, const DecodedVmaFlags& decoded) {
  return {{"flags", json_hex(flags)}, {"names", decoded.names}, {"unknown", json_hex(decoded.unknown)}};
}

}  // namespace kdive
