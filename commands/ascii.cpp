// ascii: the characters of a 64-bit value as it lies in memory (least
// significant byte first), or, with no argument, the ASCII chart — like crash.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

constexpr const char* kControlNames[32] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS",  "HT",  "LF",
                                           "VT",  "FF",  "CR",  "SO",  "SI",  "DLE", "DC1", "DC2", "DC3", "DC4", "NAK",
                                           "SYN", "ETB", "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};

// A byte as crash shows it: the character, <NAME> for control characters, <hex> above 0x7f.
std::string shown(uint8_t c) {
  if (c < 32) return fmt::format("<{}>", kControlNames[c]);
  if (c == 0x7f) return "<DEL>";
  if (c > 0x7f) return fmt::format("<{:02x}>", c);
  return std::string(1, static_cast<char>(c));
}

std::string chart_name(uint8_t c) {
  if (c < 32) return kControlNames[c];
  if (c == 0x7f) return "DEL";
  if (c == ' ') return "SP";
  return std::string(1, static_cast<char>(c));
}

void print_chart(Output& out) {
  Json chart = Json::array();
  for (int c = 0; c < 128; ++c) chart.push_back({{"code", c}, {"name", chart_name(static_cast<uint8_t>(c))}});
  out.result(std::move(chart));
  out.print("\n      0    1   2   3   4   5   6   7\n    +{}\n", std::string(31, '-'));
  for (int row = 0; row < 16; ++row) {
    std::string line = fmt::format("  {:X} |", row);
    for (int col = 0; col < 8; ++col) {
      std::string name = chart_name(static_cast<uint8_t>(col * 16 + row));
      line += name.size() >= 2 ? fmt::format("{:>4}", name) : fmt::format("  {:<2}", name);
    }
    while (line.back() == ' ') line.pop_back();
    out.print("{}\n", line);
  }
}

void run(Session&, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) return print_chart(out);
  Json values = Json::array();
  for (const auto& word : args.positional()) {
    std::string_view digits = word;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
    auto v = digits.size() <= 16 ? parse_number(digits, 16) : std::nullopt;
    if (!v) throw CommandError(fmt::format("invalid input: \"{}\" (up to 16 hexadecimal digits)", word));
    std::string text;
    for (int i = 0; i < 8; ++i) text += shown(static_cast<uint8_t>(*v >> (8 * i)));
    out.print("{:016x}: {}\n", *v, text);
    values.push_back({{"value", json_hex(*v)}, {"text", text}});
  }
  out.result(std::move(values));
}

const CommandRegistrar registrar{
    {.name = "ascii",
     .summary = "translate hexadecimal values to ASCII",
     .usage = "ascii [value ...]",
     .description = "Shows the eight bytes of each hexadecimal value (0x optional) as\n"
                    "characters, in the order they lie in memory on x86_64: least significant\n"
                    "byte first. Control characters appear as <NAME> (<NUL>, <LF>, ...),\n"
                    "bytes above 0x7f as <hex>. Without a value, prints the ASCII chart:\n"
                    "the column is the high digit of a character's code, the row the low one.",
     .examples = "  kdive> ascii 62696c2f7273752f\n"
                 "  62696c2f7273752f: /usr/lib\n"
                 "\n"
                 "  kdive> ascii 41424344\n"
                 "  0000000041424344: DCBA<NUL><NUL><NUL><NUL>",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"value", "text"},
              .notes = "One object per value: the value as \"0x...\" and its bytes as the text shows\n"
                       "them (<NUL>, <LF>, <ff>, ...). Without a value, the chart: a list of\n"
                       "{code, name} for the codes 0 to 127 (\"NUL\", \"SP\", \"A\", \"DEL\", ...).",
              .example = "ascii 62696c2f7273752f"}},
    run};

}  // namespace
}  // namespace kdive
