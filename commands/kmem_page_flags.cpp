// kmem -g [VALUE...]: the page flag bits, named by the kernel's own enum
// pageflags (aliases such as PG_checked included, in the enum's order), in
// crash's PAGE-FLAG BIT VALUE table; with values, the flags each one holds.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/page_struct.hpp"

namespace kdive {
namespace {

std::string flag_line(const PageFlagNames::Entry& e) {
  return fmt::format("{:<15}{:>4}  {:07x}\n", e.name, e.bit, uint64_t{1} << e.bit);
}

Json flag_json(const PageFlagNames::Entry& e) {
  return {{"name", e.name}, {"bit", e.bit}, {"value", json_hex(uint64_t{1} << e.bit)}};
}

}  // namespace

void kmem_page_flags_report(Session& session, const ParsedArgs& args, Output& out) {
  const PageFlagNames names(session.kernel());
  if (names.entries().empty()) throw CommandError("-g: the kernel's DWARF has no enum pageflags");
  if (args.positional().empty()) {
    out.write("PAGE-FLAG       BIT  VALUE\n");
    Json flags = Json::array();
    for (const PageFlagNames::Entry& e : names.entries()) {
      out.write(flag_line(e));
      flags.push_back(flag_json(e));
    }
    out.result({{"flags", std::move(flags)}});
    return;
  }
  Json result = Json::array();
  bool first = true;
  for (const std::string& word : args.positional()) {
    // A flags word is hex, as crash and kmem -p print it, with or without 0x.
    const std::optional<uint64_t> value = parse_number(word, 16);
    if (!value) throw CommandError(fmt::format("-g: {}: not a hexadecimal flags value", word));
    if (!first) out.write("\n");
    first = false;
    out.print("FLAGS: {:x}\n  PAGE-FLAG       BIT  VALUE\n", *value);
    Json set = Json::array();
    for (const PageFlagNames::Entry& e : names.entries()) {
      if (((*value >> e.bit) & 1) == 0) continue;
      out.write("  " + flag_line(e));
      set.push_back(flag_json(e));
    }
    result.push_back({{"value", json_hex(*value)}, {"flags", std::move(set)}});
  }
  out.result(std::move(result));
}

}  // namespace kdive
