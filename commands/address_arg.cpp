#include "commands/address_arg.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>

#include "commands/api/command.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::optional<uint64_t> parse_number(std::string_view text, int default_base) {
  int base = default_base;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

VirtAddr parse_address(const Kernel* kernel, std::string_view text) {
  // Split "base+offset" / "base-offset" at the last sign that is not the first char.
  size_t sign = text.find_last_of("+-");
  std::string_view base = text;
  std::optional<uint64_t> offset;
  bool negative = false;
  if (sign != std::string_view::npos && sign > 0) {
    base = text.substr(0, sign);
    negative = text[sign] == '-';
    offset = parse_number(text.substr(sign + 1), 16);
    if (!offset) throw CommandError(fmt::format("invalid offset in '{}'", text));
  }
  std::optional<uint64_t> value = parse_number(base, 16);
  if (!value && kernel != nullptr) {
    // The vmlinux first, then loaded modules and the kernel's own kallsyms.
    if (const Symbol* sym = kernel->find_symbol(base)) value = sym->address.value();
  }
  if (!value) {
    bool looks_symbolic = !base.empty() && (std::isalpha(static_cast<unsigned char>(base[0])) || base[0] == '_');
    throw CommandError(looks_symbolic && kernel != nullptr ? fmt::format("no symbol '{}'", base)
                                                           : fmt::format("invalid address: '{}'", text));
  }
  if (offset) *value = negative ? *value - *offset : *value + *offset;
  return VirtAddr{*value};
}

uint64_t parse_count(std::string_view text) {
  auto v = parse_number(text, 10);
  if (!v) throw CommandError(fmt::format("invalid count: '{}'", text));
  return *v;
}

}  // namespace kdive
