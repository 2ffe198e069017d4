// btop and ptob: bytes to page numbers and back (4 KiB pages), in hex as crash.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"

namespace kdive {
namespace {

constexpr int kPageShift = 12;

void convert(const ParsedArgs& args, Output& out, bool to_pages) {
  if (args.positional().empty()) throw CommandError(to_pages ? "an address is needed" : "a page number is needed");
  Json rows = Json::array();
  for (const std::string& word : args.positional()) {
    auto value = parse_number(word, 16);
    if (!value) throw CommandError(fmt::format("invalid number: '{}'", word));
    const uint64_t result = to_pages ? *value >> kPageShift : *value << kPageShift;
    out.print("{:x}: {:x}\n", *value, result);
    if (to_pages) {
      rows.push_back({{"address", json_hex(*value)}, {"page", json_hex(result)}});
    } else {
      rows.push_back({{"page", json_hex(*value)}, {"address", json_hex(result)}});
    }
  }
  out.result(std::move(rows));
}

const CommandRegistrar btop_registrar{
    {.name = "btop",
     .summary = "bytes to page number",
     .usage = "btop address ...",
     .description = "Shows the page number (the address shifted right by the 4 KiB page shift) of\n"
                    "each address. Numbers are hex, with or without 0x.",
     .examples = "  kdive> btop 55d0000 7f0000204000\n"
                 "  55d0000: 55d0\n"
                 "  7f0000204000: 7f0000204",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "page"},
              .notes = "One object per address: the address and its page number, both hex strings.",
              .example = "btop 55d0000"}},
    [](Session&, const ParsedArgs& args, Output& out) { convert(args, out, true); }};

const CommandRegistrar ptob_registrar{
    {.name = "ptob",
     .summary = "page number to bytes",
     .usage = "ptob page-number ...",
     .description = "Shows the address of the start of each page number (shifted left by the\n"
                    "4 KiB page shift). Numbers are hex, with or without 0x.",
     .examples = "  kdive> ptob 55d0\n"
                 "  55d0: 55d0000",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"page", "address"},
              .notes = "One object per page number: the page number and its address, both hex strings.",
              .example = "ptob 55d0"}},
    [](Session&, const ParsedArgs& args, Output& out) { convert(args, out, false); }};

}  // namespace
}  // namespace kdive
