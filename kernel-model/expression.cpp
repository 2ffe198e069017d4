#include "kernel-model/expression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type_scope.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

// ---------------------------------------------------------------- contexts

TypeSystem& KernelEvalContext::types() const { return kernel_.types(); }

bool is_per_cpu_symbol(const Kernel& kernel, const Symbol& s) {
  auto start = kernel.symbols().address("__per_cpu_start");
  auto end = kernel.symbols().address("__per_cpu_end");
  // x86_64 links the per-CPU section at 0, so its symbols are small offsets
  // that KASLR does not move.
  return start && end && *start < kStartKernelMap && s.address >= *start && s.address < *end;
}

std::optional<uint64_t> KernelEvalContext::symbol_address(std::string_view name) const {
  // A variable the text scope (set scope) defines at a fixed place — a static
  // of that file, or of that function — before the symbol table, which keeps
  // one of several local symbols of a name.
  if (const TypeScope* scope = kernel_.types().scope()) {
    if (auto at = scope->variable_address(name)) {
      if (scope->id_base() != 0) return *at;  // a module's DWARF, relocated to where it was loaded
      auto start = kernel_.symbols().address("__per_cpu_start");
      auto end = kernel_.symbols().address("__per_cpu_end");
      const bool per_cpu = start && end && *start < kStartKernelMap && *at >= start->value() &&
                           *at < end->value();  // see is_per_cpu_symbol
      if (!per_cpu) return *at + kernel_.symbols().relocation();
      if (!cpu_) {
        throw Error(Error::Kind::Lookup, fmt::format("'{}' is a per-CPU variable: name a CPU, as in {}:0", name, name));
      }
      return *at + kernel_.per_cpu_offset(*cpu_);
    }
  }
  // The vmlinux's symbols, then the modules' (and kallsyms as the last resort).
  const Symbol* s = kernel_.find_symbol(name);
  if (s == nullptr) return std::nullopt;
  if (!is_per_cpu_symbol(kernel_, *s)) return s->address.value();
  if (!cpu_) {
    throw Error(Error::Kind::Lookup, fmt::format("'{}' is a per-CPU variable: name a CPU, as in {}:0", name, name));
  }
  return (s->address + kernel_.per_cpu_offset(*cpu_)).value();
}

void KernelEvalContext::read(VirtAddr address, std::span<std::byte> out) const { kernel_.memory().read(address, out); }

TypeSystem& NumbersEvalContext::types() const {
  // Holds no program, so one for the whole process serves every evaluation.
  static TypeSystem numbers;
  return numbers;
}

void NumbersEvalContext::read(VirtAddr address, std::span<std::byte>) const {
  throw Fault(address, "no memory to read: no dump is open");
}

// ---------------------------------------------------------------- parsing

namespace {

enum class Tok { End, Number, Char, Ident, Punct };

struct Token {
  Tok kind = Tok::End;
  std::string text;
  uint64_t number = 0;
  bool is_unsigned = false;
  bool is_long = false;
  bool is_hex = false;
};

Token word(Tok kind, std::string text) {
  Token t;
  t.kind = kind;
  t.text = std::move(text);
  return t;
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }
bool hex_char(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

[[noreturn]] void syntax(std::string_view what, std::string_view expr) {
  throw Error(Error::Kind::Unsupported, fmt::format("{} in '{}'", what, expr));
}

class Lexer {
 public:
  Lexer(std::string_view s, EvalOptions options) : s_(s), options_(options) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ >= s_.size()) break;
      out.push_back(next());
    }
    out.push_back(Token{});
    return out;
  }

 private:
  Token next() {
    char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || (options_.crash_eval && bare_hex())) return number();
    if (ident_start(c)) {
      size_t b = pos_;
      while (pos_ < s_.size() && ident_char(s_[pos_])) ++pos_;
      return word(Tok::Ident, std::string(s_.substr(b, pos_ - b)));
    }
    if (c == '\'') return character();
    static const char* const kPuncts[] = {"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||"};
    for (const char* p : kPuncts) {
      if (s_.substr(pos_, 2) == p) {
        pos_ += 2;
        return word(Tok::Punct, p);
      }
    }
    if (std::strchr("+-*/%&|^~!<>()[].,?:", c) != nullptr) {
      ++pos_;
      return word(Tok::Punct, std::string(1, c));
    }
    syntax(fmt::format("unexpected character '{}'", c), s_);
  }

  // crash's eval takes "ffffffff81000000" as hex: a word of hex digits that
  // holds a digit is a number, not a symbol ("deadbeef" alone is a name first:
  // see Parser::identifier()).
  bool bare_hex() const {
    size_t e = pos_;
    bool digit = false;
    for (; e < s_.size() && hex_char(s_[e]); ++e) {
      if (std::isdigit(static_cast<unsigned char>(s_[e]))) digit = true;
    }
    return digit && e > pos_ && (e == s_.size() || !ident_char(s_[e]));
  }

  Token number() {
    Token t;
    t.kind = Tok::Number;
    size_t b = pos_;
    int base = 10;
    if (s_.substr(pos_, 2) == "0x" || s_.substr(pos_, 2) == "0X") {
      base = 16;
      pos_ += 2;
      b = pos_;
    } else if (options_.crash_eval && bare_hex()) {
      size_t e = pos_;
      while (e < s_.size() && hex_char(s_[e])) ++e;
      bool all_decimal = true;
      for (size_t i = pos_; i < e; ++i) all_decimal = all_decimal && std::isdigit(static_cast<unsigned char>(s_[i]));
      if (!all_decimal) base = 16;
    } else if (s_[pos_] == '0' && pos_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_ + 1]))) {
      base = 8;
    }
    while (pos_ < s_.size() && (base == 16 ? hex_char(s_[pos_]) : std::isdigit(static_cast<unsigned char>(s_[pos_])))) {
      ++pos_;
    }
    std::string_view digits = s_.substr(b, pos_ - b);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.number, base);
    if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
      syntax(fmt::format("bad number '{}'", digits), s_);
    }
    t.is_hex = base != 10;
    while (pos_ < s_.size() && std::strchr("uUlL", s_[pos_]) != nullptr) {
      if (s_[pos_] == 'u' || s_[pos_] == 'U')
        t.is_unsigned = true;
      else
        t.is_long = true;
      ++pos_;
    }
    if (options_.crash_eval && pos_ < s_.size() && std::strchr("kKmMgG", s_[pos_]) != nullptr &&
        (pos_ + 1 == s_.size() || !ident_char(s_[pos_ + 1]))) {
      char unit = static_cast<char>(std::tolower(static_cast<unsigned char>(s_[pos_++])));
      t.number <<= unit == 'k' ? 10 : unit == 'm' ? 20 : 30;
    }
    if (pos_ < s_.size() && ident_char(s_[pos_])) syntax("bad number suffix", s_);
    t.text = std::string(s_.substr(b, pos_ - b));
    return t;
  }

  Token character() {
    ++pos_;  // opening quote
    if (pos_ >= s_.size()) syntax("unterminated character literal", s_);
    uint64_t v = 0;
    if (s_[pos_] == '\\') {
      ++pos_;
      if (pos_ >= s_.size()) syntax("unterminated character literal", s_);
      char e = s_[pos_++];
      switch (e) {
        case 'n':
          v = '\n';
          break;
        case 't':
          v = '\t';
          break;
        case 'r':
          v = '\r';
          break;
        case 'a':
          v = '\a';
          break;
        case 'b':
          v = '\b';
          break;
        case 'f':
          v = '\f';
          break;
        case 'v':
          v = '\v';
          break;
        case 'e':
          v = 27;
          break;
        case 'x': {
          size_t b = pos_;
          while (pos_ < s_.size() && hex_char(s_[pos_])) ++pos_;
          std::from_chars(s_.data() + b, s_.data() + pos_, v, 16);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            v = static_cast<uint64_t>(e - '0');
            for (int i = 0; i < 2 && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '7'; ++i) {
              v = v * 8 + static_cast<uint64_t>(s_[pos_++] - '0');
            }
          } else {
            v = static_cast<unsigned char>(e);
          }
      }
    } else {
      v = static_cast<unsigned char>(s_[pos_++]);
    }
    if (pos_ >= s_.size() || s_[pos_] != '\'') syntax("unterminated character literal", s_);
    ++pos_;
    Token t;
    t.kind = Tok::Char;
    t.number = v & 0xff;
    return t;
  }

  std::string_view s_;
  EvalOptions options_;
  size_t pos_ = 0;
};

bool is_type_keyword(std::string_view w) {
  static const char* const kWords[] = {"struct", "union", "enum",  "unsigned", "signed", "int",      "long",  "short",
                                       "char",   "void",  "_Bool", "bool",     "const",  "volatile", "float", "double"};
  for (const char* k : kWords) {
    if (w == k) return true;
  }
  return false;
}

// Recursive descent over the token list, evaluating as it goes (values in
// memory are read only when their contents are needed, so `&x` and
// `sizeof x` touch no memory).
class Parser {
 public:
  Parser(const EvalContext& ctx, std::string_view expr, EvalOptions options)
      : ctx_(ctx), types_(ctx.types()), expr_(expr), options_(options), tokens_(Lexer(expr, options).run()) {}

  Value parse() {
    Value v = conditional();
    if (peek().kind != Tok::End) syntax(fmt::format("unexpected '{}'", peek().text), expr_);
    return v;
  }

 private:
  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  bool at(std::string_view punct) const { return peek().kind == Tok::Punct && peek().text == punct; }
  bool accept(std::string_view punct) {
    if (!at(punct)) return false;
    ++pos_;
    return true;
  }
  void expect(std::string_view punct) {
    if (!accept(punct)) {
      syntax(peek().kind == Tok::End ? fmt::format("missing '{}'", punct)
                                     : fmt::format("expected '{}' before '{}'", punct, peek().text),
             expr_);
    }
  }

  // ---- types
  const Type* int_type(bool is_signed, bool is_long) {
    if (is_long) return types_.integer_type(is_signed ? "long int" : "long unsigned int", 8, is_signed);
    return types_.integer_type(is_signed ? "int" : "unsigned int", 4, is_signed);
  }
  const Type* int_t() { return int_type(true, false); }
  const Type* long_t() { return int_type(true, true); }
  const Type* ulong_t() { return int_type(false, true); }

  // At a '(' : is what follows a type name? Returns the type and moves past
  // the ')' when it is.
  const Type* try_type_in_parens() {
    if (!at("(") || peek(1).kind != Tok::Ident) return nullptr;
    size_t save = pos_;
    ++pos_;
    const Type* t = try_type_name();
    if (t != nullptr && accept(")")) return t;
    pos_ = save;
    return nullptr;
  }

  // A type name at the cursor: words then '*'s. A lone identifier is a type
  // only when no variable of that name exists (gdb's rule too).
  const Type* try_type_name() {
    size_t save = pos_;
    std::string words;
    bool keyword = false;
    auto add = [&](const std::string& w) {
      if (!words.empty()) words += ' ';
      words += w;
      ++pos_;
    };
    const std::string& first = peek().text;
    if (peek().kind == Tok::Ident && (first == "struct" || first == "union" || first == "enum")) {
      keyword = true;
      add(first);
      if (peek().kind != Tok::Ident) syntax(fmt::format("expected a name after '{}'", words), expr_);
      add(peek().text);
    } else {
      while (peek().kind == Tok::Ident && is_type_keyword(peek().text)) {
        keyword = true;
        add(peek().text);
      }
      if (!keyword && peek().kind == Tok::Ident) add(peek().text);
    }
    if (words.empty()) return nullptr;
    if (!keyword && (ctx_.symbol_address(words).has_value() || types_.enumerator(words).has_value())) {
      pos_ = save;
      return nullptr;
    }
    const Type* t = parse_type_name(types_, words);
    if (t == nullptr) {
      if (keyword && (words.starts_with("struct ") || words.starts_with("union ") || words.starts_with("enum "))) {
        throw Error(Error::Kind::Lookup, fmt::format("no type '{}' in the debug info", words));
      }
      pos_ = save;
      return nullptr;
    }
    while (accept("*")) t = types_.pointer_to(t);
    return t;
  }

  // ---- grammar, lowest precedence first
  Value conditional() {
    Value c = binary(0);
    if (!accept("?")) return c;
    Value a = conditional();
    expect(":");
    Value b = conditional();
    return truth(c) ? a : b;
  }

  static int precedence(const std::string& op) {
    static const std::pair<const char*, int> kTable[] = {
        {"||", 1}, {"&&", 2}, {"|", 3},  {"^", 4},  {"&", 5}, {"==", 6}, {"!=", 6}, {"<", 7},  {"<=", 7},
        {">", 7},  {">=", 7}, {"<<", 8}, {">>", 8}, {"+", 9}, {"-", 9},  {"*", 10}, {"/", 10}, {"%", 10}};
    for (auto& [o, p] : kTable) {
      if (op == o) return p;
    }
    return -1;
  }

  Value binary(int min_prec) {
    Value left = unary();
    while (peek().kind == Tok::Punct) {
      std::string op = peek().text;
      int prec = precedence(op);
      if (prec < 0 || prec < min_prec) break;
      ++pos_;
      Value right = binary(prec + 1);
      left = apply(op, left, right);
    }
    return left;
  }

  Value unary() {
    if (accept("-")) return arith_unary('-', unary());
    if (accept("+")) return unary();
    if (accept("~")) return arith_unary('~', unary());
    if (accept("!")) return Value::scalar(ctx_, int_t(), truth(unary()) ? 0 : 1);
    if (accept("*")) {
      Value v = unary();
      const Type& t = v.type().strip();
      if (t.kind() == TypeKind::Pointer && t.target()->strip().kind() == TypeKind::Void) {
        throw Error(Error::Kind::Lookup, "attempt to take contents of a void pointer");
      }
      return v.deref();
    }
    if (accept("&")) {
      Value v = unary();
      if (v.is_bitfield()) throw Error(Error::Kind::Lookup, "cannot take the address of a bitfield");
      if (!v.is_lvalue()) throw Error(Error::Kind::Lookup, "cannot take the address of a value not in memory");
      return Value::scalar(ctx_, types_.pointer_to(&v.type()), v.address().value());
    }
    if (peek().kind == Tok::Ident && peek().text == "sizeof") {
      ++pos_;
      if (const Type* t = try_type_in_parens()) return Value::scalar(ctx_, ulong_t(), t->size());
      Value v = unary();
      return Value::scalar(ctx_, ulong_t(), v.type().size());
    }
    if (const Type* t = try_type_in_parens()) return cast(unary(), t);
    return postfix(primary());
  }

  Value postfix(Value v) {
    while (true) {
      if (accept(".")) {
        v = member_of(v, member_name(), false);
      } else if (accept("->")) {
        v = member_of(v, member_name(), true);
      } else if (accept("[")) {
        Value i = conditional();
        expect("]");
        const Type& t = v.type().strip();
        if (t.kind() != TypeKind::Array && t.kind() != TypeKind::Pointer) {
          throw Error(Error::Kind::Lookup, fmt::format("cannot subscript a {}", t.spell()));
        }
        v = v.element(static_cast<uint64_t>(i.as_i64()));
      } else {
        return v;
      }
    }
  }

  std::string member_name() {
    if (peek().kind != Tok::Ident) syntax("expected a member name", expr_);
    return tokens_[pos_++].text;
  }

  Value member_of(const Value& v, const std::string& name, bool arrow) {
    const Type& t = v.type().strip();
    if (arrow && t.kind() != TypeKind::Pointer) {
      throw Error(Error::Kind::Lookup, fmt::format("'->' applied to a {}, not a pointer", t.spell()));
    }
    // gdb (and so crash) lets '.' follow a pointer too: init_task.signal.rlim.
    const Type& s = t.kind() == TypeKind::Pointer ? t.target()->strip() : t;
    if (!s.is_struct_like()) {
      throw Error(Error::Kind::Lookup, fmt::format("'{}' is not a struct or union: no member '{}'", s.spell(), name));
    }
    return v.member(name);
  }

  Value primary() {
    const Token& t = peek();
    if (accept("(")) {
      Value v = conditional();
      expect(")");
      return v;
    }
    if (t.kind == Tok::Number) {
      ++pos_;
      return literal(t);
    }
    if (t.kind == Tok::Char) {
      ++pos_;
      return Value::scalar(ctx_, types_.integer_type("char", 1, true), t.number);
    }
    if (t.kind == Tok::Ident) {
      ++pos_;
      return identifier(t.text);
    }
    if (t.kind == Tok::End) syntax("incomplete expression", expr_);
    syntax(fmt::format("unexpected '{}'", t.text), expr_);
  }

  Value literal(const Token& t) {
    uint64_t n = t.number;
    // crash's eval computes in unsigned 64 bits whatever the number.
    if (options_.crash_eval) return Value::scalar(ctx_, ulong_t(), n);
    bool fits_int = n <= 0x7fffffff, fits_uint = n <= 0xffffffff, fits_long = n <= 0x7fffffffffffffffull;
    const Type* type;
    if (!t.is_long && !t.is_unsigned && fits_int)
      type = int_t();
    else if (!t.is_long && (t.is_unsigned || t.is_hex) && fits_uint)
      type = int_type(false, false);
    else if (!t.is_unsigned && fits_long)
      type = long_t();
    else
      type = ulong_t();
    return Value::scalar(ctx_, type, n);
  }

  Value identifier(const std::string& name) {
    if (auto addr = ctx_.symbol_address(name)) {
      if (options_.crash_eval) return Value::scalar(ctx_, ulong_t(), *addr);
      const Type* type = types_.variable_type(name);
      if (type == nullptr) {
        // A linker or assembler symbol: it has an address but no C type.
        type = types_.void_type();
      }
      return Value::in_memory(ctx_, VirtAddr{*addr}, type);
    }
    const DwarfIndex::Entry* e = nullptr;
    if (auto die = types_.find_die(NameKind::Enumerator, name, &e)) {
      return Value::scalar(ctx_, types_.resolve(*die), static_cast<uint64_t>(e->value));
    }
    // crash's eval: a word of hex letters that names nothing is a number.
    if (options_.crash_eval && name.size() <= 16 && std::all_of(name.begin(), name.end(), hex_char)) {
      return Value::scalar(ctx_, ulong_t(), std::stoull(name, nullptr, 16));
    }
    throw Error(Error::Kind::Lookup, fmt::format("no symbol \"{}\" in current context", name));
  }

  // ---- operators
  static bool is_pointerish(const Value& v) {
    TypeKind k = v.type().strip().kind();
    return k == TypeKind::Pointer || k == TypeKind::Array || k == TypeKind::Function;
  }

  void require_scalar(const Value& v) {
    const Type& t = v.type().strip();
    if (t.kind() == TypeKind::Void) throw Error(Error::Kind::Lookup, "a symbol with no type information has no value");
    if (!t.is_integer() && !is_pointerish(v)) {
      throw Error(Error::Kind::Lookup, fmt::format("a {} cannot be used in arithmetic", t.spell()));
    }
  }

  bool truth(const Value& v) {
    require_scalar(v);
    return v.as_u64() != 0;
  }

  // The usual arithmetic conversions, for the four integer types kdive keeps.
  const Type* common_type(const Value& a, const Value& b) {
    auto rank = [](const Value& v) {
      const Type& t = v.type().strip();
      bool wide = t.size() > 4 || is_pointerish(v);
      bool uns = !t.is_signed() && (t.size() >= 4 || is_pointerish(v));
      return std::pair<bool, bool>{wide, uns};
    };
    auto [wa, ua] = rank(a);
    auto [wb, ub] = rank(b);
    bool wide = wa || wb;
    bool uns = (wa == wide && ua) || (wb == wide && ub);
    return int_type(!uns, wide);
  }

  static uint64_t truncate(const Type* t, uint64_t v) {
    return t->size() >= 8 ? v : v & ((1ull << (t->size() * 8)) - 1);
  }

  Value arith_unary(char op, const Value& v) {
    require_scalar(v);
    const Type* t = v.type().strip().size() > 4 ? int_type(v.type().is_signed(), true) : int_t();
    if (!v.type().is_signed() && v.type().strip().size() == 4) t = int_type(false, false);
    uint64_t x = v.type().is_signed() ? static_cast<uint64_t>(v.as_i64()) : v.as_u64();
    return Value::scalar(ctx_, t, truncate(t, op == '-' ? (0 - x) : ~x));
  }

  Value apply(const std::string& op, const Value& a, const Value& b) {
    require_scalar(a);
    require_scalar(b);
    if (op == "&&") return Value::scalar(ctx_, int_t(), a.as_u64() != 0 && b.as_u64() != 0);
    if (op == "||") return Value::scalar(ctx_, int_t(), a.as_u64() != 0 || b.as_u64() != 0);
    bool pa = is_pointerish(a), pb = is_pointerish(b);
    if ((op == "+" || op == "-") && (pa || pb) && !options_.crash_eval) {
      if (pa && pb) {
        if (op == "+") throw Error(Error::Kind::Lookup, "cannot add two pointers");
        uint64_t size = std::max<uint64_t>(1, element_size(a));
        return Value::scalar(
            ctx_, long_t(),
            static_cast<uint64_t>(static_cast<int64_t>(a.as_u64() - b.as_u64()) / static_cast<int64_t>(size)));
      }
      const Value& p = pa ? a : b;
      const Value& i = pa ? b : a;
      if (op == "-" && !pa) throw Error(Error::Kind::Lookup, "cannot subtract a pointer from an integer");
      int64_t n = i.as_i64();
      uint64_t step = element_size(p);
      uint64_t addr =
          op == "+" ? p.as_u64() + static_cast<uint64_t>(n) * step : p.as_u64() - static_cast<uint64_t>(n) * step;
      return Value::scalar(ctx_, pointer_type_of(p), addr);
    }
    const Type* t = common_type(a, b);
    bool is_signed = t->is_signed();
    uint64_t x = a.type().is_signed() ? static_cast<uint64_t>(a.as_i64()) : a.as_u64();
    uint64_t y = b.type().is_signed() ? static_cast<uint64_t>(b.as_i64()) : b.as_u64();
    x = truncate(t, x);
    y = truncate(t, y);
    auto sx = [&](uint64_t v) {
      return t->size() >= 8 ? static_cast<int64_t>(v)
                            : static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v)));
    };
    auto cmp = [&](auto f) {
      bool r = is_signed ? f(sx(x), sx(y)) : f(x, y);
      return Value::scalar(ctx_, int_t(), r ? 1 : 0);
    };
    if (op == "==") return cmp([](auto l, auto r) { return l == r; });
    if (op == "!=") return cmp([](auto l, auto r) { return l != r; });
    if (op == "<") return cmp([](auto l, auto r) { return l < r; });
    if (op == "<=") return cmp([](auto l, auto r) { return l <= r; });
    if (op == ">") return cmp([](auto l, auto r) { return l > r; });
    if (op == ">=") return cmp([](auto l, auto r) { return l >= r; });
    uint64_t r = 0;
    if (op == "+")
      r = x + y;
    else if (op == "-")
      r = x - y;
    else if (op == "*")
      r = x * y;
    else if (op == "&")
      r = x & y;
    else if (op == "|")
      r = x | y;
    else if (op == "^")
      r = x ^ y;
    else if (op == "<<" || op == ">>") {
      // The left operand's promoted type decides, not the common type.
      const Type* lt = a.type().strip().size() > 4 || pa
                           ? int_type(a.type().is_signed() && !pa, true)
                           : int_type(a.type().is_signed() || a.type().strip().size() < 4, false);
      uint64_t lx = truncate(lt, a.type().is_signed() ? static_cast<uint64_t>(a.as_i64()) : a.as_u64());
      unsigned bits = static_cast<unsigned>(lt->size() * 8);
      uint64_t s = y;
      if (s >= bits)
        return Value::scalar(ctx_, lt, op == ">>" && lt->is_signed() && (lx >> (bits - 1)) ? truncate(lt, ~0ull) : 0);
      if (op == "<<") return Value::scalar(ctx_, lt, truncate(lt, lx << s));
      if (lt->is_signed()) {
        int64_t v = lt->size() >= 8 ? static_cast<int64_t>(lx) : static_cast<int64_t>(static_cast<int32_t>(lx));
        return Value::scalar(ctx_, lt, truncate(lt, static_cast<uint64_t>(v >> s)));
      }
      return Value::scalar(ctx_, lt, lx >> s);
    } else if (op == "/" || op == "%") {
      if (y == 0) throw Error(Error::Kind::BadData, "division by zero");
      if (is_signed) {
        int64_t l = sx(x), rr = sx(y);
        r = static_cast<uint64_t>(op == "/" ? l / rr : l % rr);
      } else {
        r = op == "/" ? x / y : x % y;
      }
    }
    return Value::scalar(ctx_, t, truncate(t, r));
  }

  uint64_t element_size(const Value& p) {
    const Type& t = p.type().strip();
    if (t.kind() == TypeKind::Function) return 1;
    const Type* e = t.target();
    uint64_t size = e != nullptr ? e->size() : 1;
    return size == 0 ? 1 : size;  // gdb steps void pointers by one byte too
  }

  const Type* pointer_type_of(const Value& p) {
    const Type& t = p.type().strip();
    if (t.kind() == TypeKind::Pointer) return &p.type();
    if (t.kind() == TypeKind::Function) return types_.pointer_to(&p.type());
    return types_.pointer_to(t.target());
  }

  Value cast(const Value& v, const Type* to) {
    const Type& target = to->strip();
    if (target.is_struct_like() || target.kind() == TypeKind::Array) {
      // gdb allows viewing memory as a struct only through an lvalue.
      if (!v.is_lvalue()) throw Error(Error::Kind::Lookup, fmt::format("cannot cast a value to {}", to->spell()));
      return Value::in_memory(ctx_, v.address(), to);
    }
    if (target.kind() == TypeKind::Void) return Value::scalar(ctx_, to, 0);
    require_scalar(v);
    uint64_t x = v.type().is_signed() ? static_cast<uint64_t>(v.as_i64()) : v.as_u64();
    uint64_t size = target.size();
    if (size > 0 && size < 8) x &= (1ull << (size * 8)) - 1;
    if (target.kind() == TypeKind::Base && target.name() == "_Bool") x = x != 0;
    return Value::scalar(ctx_, to, x);
  }

  const EvalContext& ctx_;
  TypeSystem& types_;
  std::string_view expr_;
  EvalOptions options_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

Value evaluate(const EvalContext& ctx, std::string_view expression, EvalOptions options) {
  return Parser(ctx, expression, options).parse();
}

const Type* parse_type_name(TypeSystem& types, std::string_view spelling) {
  // Drop qualifiers that do not change layout, collapse spaces.
  std::string words;
  int pointers = 0;
  size_t i = 0;
  while (i < spelling.size()) {
    if (std::isspace(static_cast<unsigned char>(spelling[i]))) {
      ++i;
      continue;
    }
    if (spelling[i] == '*') {
      ++pointers;
      ++i;
      continue;
    }
    size_t b = i;
    while (i < spelling.size() && ident_char(spelling[i])) ++i;
    if (b == i) return nullptr;
    std::string_view w = spelling.substr(b, i - b);
    if (w == "const" || w == "volatile") continue;
    if (pointers > 0) return nullptr;  // words after a '*'
    if (!words.empty()) words += ' ';
    words += w;
  }
  if (words.empty()) return nullptr;
  const Type* t = types.lookup(words);
  if (t == nullptr) {
    // GCC spells "unsigned long" as "long unsigned int", "short" as "short int".
    static const std::pair<const char*, const char*> kSpellings[] = {
        {"unsigned long int", "long unsigned int"},
        {"unsigned long long int", "long long unsigned int"},
        {"unsigned short", "short unsigned int"},
        {"unsigned short int", "short unsigned int"},
        {"signed char", "signed char"},
        {"long unsigned", "long unsigned int"},
        {"unsigned char", "unsigned char"},
        {"signed int", "int"},
        {"long long unsigned", "long long unsigned int"}};
    for (auto& [from, to] : kSpellings) {
      if (words == from) t = types.lookup(to);
    }
  }
  if (t == nullptr) {
    // Still unknown: the common integer spellings, made to measure.
    static const struct {
      const char* spelling;
      const char* dwarf;
      uint64_t size;
      bool is_signed;
    } kInts[] = {{"int", "int", 4, true},
                 {"unsigned int", "unsigned int", 4, false},
                 {"unsigned", "unsigned int", 4, false},
                 {"long", "long int", 8, true},
                 {"long int", "long int", 8, true},
                 {"unsigned long", "long unsigned int", 8, false},
                 {"long unsigned int", "long unsigned int", 8, false},
                 {"char", "char", 1, true},
                 {"unsigned char", "unsigned char", 1, false},
                 {"short", "short int", 2, true},
                 {"unsigned short", "short unsigned int", 2, false},
                 {"long long", "long long int", 8, true},
                 {"unsigned long long", "long long unsigned int", 8, false}};
    for (const auto& k : kInts) {
      if (words == k.spelling) t = types.integer_type(k.dwarf, k.size, k.is_signed);
    }
  }
  for (int p = 0; t != nullptr && p < pointers; ++p) t = types.pointer_to(t);
  return t;
}

}  // namespace kdive
