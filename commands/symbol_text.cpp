#include "commands/symbol_text.hpp"

#include <fmt/format.h>

#include "kernel-model/kernel.hpp"

namespace kdive {

std::string symbol_text(const Kernel& k, VirtAddr address) {
  if (address.is_null()) return "";
  auto hit = k.symbol_at(address);
  if (!hit) return "";
  if (hit->offset == 0) return std::string(hit->symbol->name);
  return fmt::format("{}+{}", hit->symbol->name, hit->offset);
}

}  // namespace kdive
