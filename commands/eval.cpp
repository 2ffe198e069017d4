// eval: an integer expression shown in hexadecimal, decimal, octal and binary,
// like crash's eval — but with full C precedence over any number of operators.
// The parser is this file's own: a small recursive descent over 64-bit values.
#include <fmt/format.h>

#include <cctype>
#include <string>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

class Evaluator {
 public:
  Evaluator(const Kernel* k, std::string text) : k_(k), text_(std::move(text)) {}

  uint64_t run() {
    uint64_t v = bit_or();
    skip_space();
    if (pos_ != text_.size()) fail(fmt::format("unexpected '{}'", text_.substr(pos_)));
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw CommandError(fmt::format("invalid expression: {}: {}", text_, why));
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool take(std::string_view op) {
    skip_space();
    if (text_.compare(pos_, op.size(), op) != 0) return false;
    // '<' is not '<<', '|' is not '||'.
    if (op.size() == 1 && pos_ + 1 < text_.size() && text_[pos_ + 1] == op[0] && (op == "<" || op == ">")) {
      return false;
    }
    pos_ += op.size();
    return true;
  }

  uint64_t bit_or() {
    uint64_t v = bit_xor();
    while (take("|")) v |= bit_xor();
    return v;
  }
  uint64_t bit_xor() {
    uint64_t v = bit_and();
    while (take("^")) v ^= bit_and();
    return v;
  }
  uint64_t bit_and() {
    uint64_t v = shift();
    while (take("&")) v &= shift();
    return v;
  }
  uint64_t shift() {
    uint64_t v = sum();
    for (;;) {
      if (take("<<")) {
        uint64_t n = sum();
        v = n >= 64 ? 0 : v << n;
      } else if (take(">>")) {
        uint64_t n = sum();
        v = n >= 64 ? 0 : v >> n;
      } else {
        return v;
      }
    }
  }
  uint64_t sum() {
    uint64_t v = product();
    for (;;) {
      if (take("+")) {
        v += product();
      } else if (take("-")) {
        v -= product();
      } else {
        return v;
      }
    }
  }
  uint64_t product() {
    uint64_t v = unary();
    for (;;) {
      char op = 0;
      if (take("*"))
        op = '*';
      else if (take("/"))
        op = '/';
      else if (take("%"))
        op = '%';
      else
        return v;
      uint64_t r = unary();
      if (op == '*') {
        v *= r;
      } else {
        if (r == 0) throw CommandError("divide by zero");
        v = op == '/' ? v / r : v % r;
      }
    }
  }
  uint64_t unary() {
    if (take("-")) return -unary();
    if (take("~")) return ~unary();
    if (take("+")) return unary();
    return primary();
  }
  uint64_t primary() {
    if (take("(")) {
      uint64_t v = bit_or();
      if (!take(")")) fail("missing ')'");
      return v;
    }
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' || text_[pos_] == '.')) {
      ++pos_;
    }
    if (start == pos_) fail(pos_ < text_.size() ? fmt::format("unexpected '{}'", text_[pos_]) : "a value is missing");
    return value(text_.substr(start, pos_ - start));
  }

  // A number (decimal, 0x-hex, or hex when it has hex letters), with an optional
  // k/m/g multiplier, or a symbol's address.
  uint64_t value(const std::string& word) const {
    if (auto v = number(word)) return *v;
    char last = static_cast<char>(std::tolower(static_cast<unsigned char>(word.back())));
    int shift = last == 'k' ? 10 : last == 'm' ? 20 : last == 'g' ? 30 : 0;
    if (shift != 0 && word.size() > 1) {
      if (auto v = number(word.substr(0, word.size() - 1))) return *v << shift;
    }
    if (k_ != nullptr) {
      if (const Symbol* s = k_->find_symbol(word)) return s->address.value();
    }
    if (auto v = parse_number(word, 16)) return *v;
    fail(fmt::format("'{}' is neither a number nor a symbol", word));
  }
  std::optional<uint64_t> number(const std::string& word) const {
    bool decimal = !word.empty() && word.find_first_not_of("0123456789") == std::string::npos;
    if (decimal) return parse_number(word, 10);
    if (word.size() > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) return parse_number(word, 16);
    return std::nullopt;
  }

  const Kernel* k_;
  std::string text_;
  size_t pos_ = 0;
};

// "(4KB)" when the value is a whole number of kilo-, mega- or gigabytes.
std::string size_note(uint64_t v) {
  if (v == 0) return "";
  if (v % (1ull << 30) == 0) return fmt::format("  ({}GB)", v >> 30);
  if (v % (1ull << 20) == 0) return fmt::format("  ({}MB)", v >> 20);
  if (v % (1ull << 10) == 0) return fmt::format("  ({}KB)", v >> 10);
  return "";
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) throw CommandError("an expression is needed (see 'help eval')");
  std::string text;
  for (const auto& w : args.positional()) text += (text.empty() ? "" : " ") + w;
  uint64_t v = Evaluator(session.has_kernel() ? &session.kernel() : nullptr, text).run();
  out.print("hexadecimal: {:x}{}\n", v, size_note(v));
  if (static_cast<int64_t>(v) < 0) {
    out.print("    decimal: {}  ({})\n", v, static_cast<int64_t>(v));
  } else {
    out.print("    decimal: {}\n", v);
  }
  out.print("      octal: {:o}\n", v);
  out.print("     binary: {:064b}\n", v);
  if (args.has('b')) {
    std::string bits;
    for (int bit = 63; bit >= 0; --bit) {
      if (v >> bit & 1) bits += fmt::format(" {}", bit);
    }
    out.print("   bits set:{}\n", bits);
  }
}

const CommandRegistrar registrar{
    {.name = "eval",
     .summary = "evaluate an integer expression",
     .usage = "eval [-b] [-l] expression",
     .description = "Computes a 64-bit integer expression and shows the result in hexadecimal,\n"
                    "decimal, octal and binary. A result that is a whole number of gigabytes,\n"
                    "megabytes or kilobytes is also shown that way; a result with the top bit\n"
                    "set is also shown as a signed decimal.\n"
                    "\n"
                    "Operands are numbers or symbols (a symbol stands for its address).\n"
                    "Numbers are decimal, hexadecimal with a 0x prefix, or hexadecimal without\n"
                    "one when they have a digit a-f; a k, m or g suffix multiplies by 1024, 1M\n"
                    "or 1G. Operators, with C's precedence and parentheses:\n"
                    "  unary - ~ +,  * / %,  + -,  << >>,  &,  ^,  |\n"
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
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
