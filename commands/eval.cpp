// eval: an integer expression shown in hexadecimal, decimal, octal and binary,
// like crash's eval. The expression goes through the kernel-model expression
// engine in crash's eval dialect (EvalOptions::crash_eval): unsigned 64-bit
// numbers, symbols as addresses, bare hex and k/m/g suffixes — with C's
// operators and precedence over any number of operands, where crash takes two.
#include <fmt/format.h>

#include <string>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"

namespace kdive {
namespace {

// crash wraps the bit list so that no line passes this column.
constexpr size_t kBitsLineWidth = 80;

uint64_t evaluate_integer(const EvalContext& ctx, const std::string& text) {
  try {
    Value v = evaluate(ctx, text, {.crash_eval = true});
    const Type& t = v.type().strip();
    if (!t.is_integer() && t.kind() != TypeKind::Pointer) {
      throw CommandError(fmt::format("invalid expression: {}: a {} is not a number", text, v.type().spell()));
    }
    // Comparisons give a C int: 64 bits of it, sign-extended.
    return t.is_signed() ? static_cast<uint64_t>(v.as_i64()) : v.as_u64();
  } catch (const Error& e) {
    throw CommandError(fmt::format("invalid expression: {}: {}", text, e.what()));
  }
}

// "12KB" when the value is a whole number of gigabytes, megabytes or
// kilobytes (the largest unit that divides it), else "".
std::string size_in_units(uint64_t v) {
  if (v == 0) return "";
  if (v % (1ull << 30) == 0) return fmt::format("{}GB", v >> 30);
  if (v % (1ull << 20) == 0) return fmt::format("{}MB", v >> 20);
  if (v % (1ull << 10) == 0) return fmt::format("{}KB", v >> 10);
  return "";
}

std::vector<int> bits_set(uint64_t v) {
  std::vector<int> bits;
  for (int bit = 63; bit >= 0; --bit) {
    if ((v >> bit) & 1) bits.push_back(bit);
  }
  return bits;
}

// "   bits set: 63 62 ...", continued under the first number when it grows
// past the line width.
std::string bits_lines(const std::vector<int>& bits) {
  const std::string label = "   bits set:";
  std::string out = label;
  size_t line_start = 0;
  for (int bit : bits) {
    std::string word = fmt::format(" {}", bit);
    if (out.size() - line_start + word.size() > kBitsLineWidth - 1) {
      out += "\n";
      line_start = out.size();
      out += std::string(label.size(), ' ');
    }
    out += word;
  }
  return out + "\n";
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) throw CommandError("an expression is needed (see 'help eval')");
  std::string text;
  for (const auto& w : args.positional()) text += (text.empty() ? "" : " ") + w;
  NumbersEvalContext numbers;
  std::optional<KernelEvalContext> kernel;
  if (session.has_kernel()) kernel.emplace(session.kernel());
  const uint64_t v = evaluate_integer(kernel ? static_cast<const EvalContext&>(*kernel) : numbers, text);
  const auto sv = static_cast<int64_t>(v);
  const std::string units = size_in_units(v);

  out.print("hexadecimal: {:x}{}\n", v, units.empty() ? "" : fmt::format("  ({})", units));
  // With the top bit set, the value read as signed too.
  out.print("    decimal: {}{}\n", v, sv < 0 ? fmt::format("  ({})", sv) : "");
  out.print("      octal: {:o}\n", v);
  out.print("     binary: {:064b}\n", v);
  if (args.has('b')) out.write(bits_lines(bits_set(v)));

  Json result = {{"value", json_hex(v)},
                 {"decimal", std::to_string(v)},
                 {"signed", std::to_string(sv)},
                 {"octal", fmt::format("{:o}", v)},
                 {"binary", fmt::format("{:064b}", v)},
                 {"size", units.empty() ? Json(nullptr) : Json(units)}};
  if (args.has('b')) result["bits_set"] = bits_set(v);
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "eval",
     .summary = "evaluate an integer expression",
     .usage = "eval [-b] [-l] expression",
     .description = "Computes an expression in unsigned 64-bit integers and shows the result in\n"
                    "hexadecimal, decimal, octal and binary. A result that is a whole number of\n"
                    "gigabytes, megabytes or kilobytes is also shown that way; a result with the\n"
                    "top bit set is also shown as a signed decimal.\n"
                    "\n"
                    "Operands are numbers or symbols (a symbol stands for its address).\n"
                    "Numbers are decimal (a leading 0 too), hexadecimal with a 0x prefix, or\n"
                    "hexadecimal without one when they have a digit a-f or name no symbol; a k, m\n"
                    "or g suffix multiplies by 1024, 1M or 1G. Operators, with C's precedence\n"
                    "and parentheses, over any number of operands:\n"
                    "  unary - ~ + !,  * / %,  + -,  << >>,  < <= > >=,  == !=,  &,  ^,  |,\n"
                    "  &&,  ||,  ?:\n"
                    "Quote an expression that uses '|' or '>>' (the shell would take them as a\n"
                    "pipe or a redirection).\n"
                    "\n"
                    "  -b  also list the numbers of the bits that are set\n"
                    "  -l  64-bit values (always the case on x86_64; accepted for crash)",
     .examples = "  kdive> eval 128m\n"
                 "  hexadecimal: 8000000  (128MB)\n"
                 "      decimal: 134217728\n"
                 "        octal: 1000000000\n"
                 "       binary: 0000000000000000000000000000000000001000000000000000000000000000\n"
                 "\n"
                 "  kdive> eval -b \"(1 << 36) | 0x5\"\n"
                 "  hexadecimal: 1000000005\n"
                 "      decimal: 68719476741\n"
                 "        octal: 1000000000005\n"
                 "       binary: 0000000000000000000000000001000000000000000000000000000000000101\n"
                 "     bits set: 36 2 0",
     .options = {{'b', "", "show the bits that are set"}, {'l', "", "64-bit values (no effect on x86_64)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"value", "decimal", "signed", "octal", "binary", "size"},
              .notes = "value is the result as a \"0x...\" string; decimal, signed (the same bits read\n"
                       "as a signed number), octal and binary are texts, as a 64-bit value does not\n"
                       "fit a JSON number; size is \"128MB\"-style or null. -b adds bits_set, the set\n"
                       "bits' numbers, highest first.",
              .example = "eval -b 4k * 3"}},
    run};

}  // namespace
}  // namespace kdive
