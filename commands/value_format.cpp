#include "commands/value_format.hpp"

#include <fmt/format.h>

#include <cstring>

#include "commands/api/output.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// How far gdb follows a char pointer to show its string.
constexpr size_t kPointedStringMax = 200;
// How many elements of an array (or chars of a char array) crash's gdb shows
// before "...".
constexpr uint64_t kArrayElementsMax = 256;

std::string integer(const Value& v, const ValueFormat& f) {
  const Type& t = v.type().strip();
  if (f.radix == 16) {
    uint64_t x = v.as_u64();
    unsigned bits = v.is_bitfield() ? v.bit_size() : static_cast<unsigned>(std::min<uint64_t>(t.size(), 8) * 8);
    if (bits < 64) x &= (1ull << bits) - 1;
    return fmt::format("{:#x}", x);
  }
  return t.is_signed() ? std::to_string(v.as_i64()) : std::to_string(v.as_u64());
}

std::string char_literal(uint64_t c) {
  if (c == '\'') return "'\\''";
  std::string s = escape_c_string(std::string(1, static_cast<char>(c)));
  if (s == "\\\"") s = "\"";
  return fmt::format("'{}'", s);
}

std::string enumerated(const Value& v, const ValueFormat& f) {
  const Type& t = v.type().strip();
  int64_t x = v.as_i64();
  for (const Enumerator& e : t.enumerators()) {
    if (e.value == x) return e.name;
  }
  return f.radix == 16 ? fmt::format("{:#x}", v.as_u64()) : std::to_string(x);
}

std::string floating(const Value& v) {
  auto b = v.bytes();
  if (b.size() == 4) {
    float x;
    std::memcpy(&x, b.data(), 4);
    return fmt::format("{}", x);
  }
  if (b.size() == 8) {
    double x;
    std::memcpy(&x, b.data(), 8);
    return fmt::format("{}", x);
  }
  return "<long double>";
}

std::string symbol_suffix(uint64_t address, const ValueFormat& f) {
  if (!f.symbolize) return "";
  auto s = f.symbolize(address);
  return s ? fmt::format(" <{}>", *s) : "";
}

std::string pointer(const Value& v, const ValueFormat& f) {
  uint64_t p = v.as_u64();
  std::string s = fmt::format("{:#x}", p);
  const Type* target = v.type().strip().target();
  if (p != 0 && target != nullptr && target->is_char() && target->strip().kind() == TypeKind::Base) {
    try {
      std::string str = v.pointed_string(kPointedStringMax + 1);
      bool cut = str.size() > kPointedStringMax;
      if (cut) str.resize(kPointedStringMax);
      return fmt::format("{}{} \"{}\"{}", s, symbol_suffix(p, f), escape_c_string(str), cut ? "..." : "");
    } catch (const Fault&) {
      return fmt::format("{} <error: Cannot access memory at address {:#x}>", s, p);
    }
  }
  return s + symbol_suffix(p, f);
}

bool is_char_array(const Type& t) {
  return t.kind() == TypeKind::Array && t.target() != nullptr && t.target()->is_char() &&
         t.target()->strip().kind() == TypeKind::Base;
}

std::string char_array(const Value& v) {
  auto b = v.bytes();
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  // gdb drops one trailing NUL: the terminator of a string that fills the array.
  if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  if (s.size() > kArrayElementsMax) return fmt::format("\"{}\"...", escape_c_string(s.substr(0, kArrayElementsMax)));
  return fmt::format("\"{}\"", escape_c_string(s));
}

std::string array(const Value& v, const ValueFormat& f, int indent) {
  const Type& t = v.type().strip();
  if (is_char_array(t) && t.count().value_or(0) == 0 && v.is_lvalue()) {
    // gdb shows a zero-length or flexible char array as the string at its
    // address, like a char pointer.
    uint64_t a = v.address().value();
    Value p = Value::scalar(v.context(), v.context().types().pointer_to(t.target()), a);
    std::string s = pointer(p, f);
    return s;
  }
  if (is_char_array(t)) return char_array(v);
  uint64_t n = t.count().value_or(0);
  std::string out = "{";
  for (uint64_t i = 0; i < std::min(n, kArrayElementsMax); ++i) {
    if (i > 0) out += ", ";
    out += format_value(v.element(i), f, indent + 2);
  }
  return out + (n > kArrayElementsMax ? "...}" : "}");
}

std::string aggregate(const Value& v, const ValueFormat& f, int indent) {
  const Type& t = v.type().strip();
  std::string out = "{\n";
  std::string pad(static_cast<size_t>(indent + 2), ' ');
  bool first = true;
  for (const Member& m : t.members()) {
    if (!first) out += ",\n";
    first = false;
    out += pad;
    if (!m.name.empty()) out += m.name + " = ";
    Value mv = v.member(m);
    try {
      out += format_value(mv, f, indent + 2);
    } catch (const Fault& e) {
      out += fmt::format("<error: {}>", e.what());
    }
  }
  return out + fmt::format("\n{}}}", std::string(static_cast<size_t>(indent), ' '));
}

}  // namespace

std::string escape_c_string(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\033':
        out += "\\033";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (u < 0x20 || u >= 0x7f) {
          out += fmt::format("\\{:03o}", u);
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string format_value(const Value& v, const ValueFormat& f, int indent) {
  const Type& t = v.type().strip();
  switch (t.kind()) {
    case TypeKind::Struct:
    case TypeKind::Union:
      return aggregate(v, f, indent);
    case TypeKind::Array:
      return array(v, f, indent);
    case TypeKind::Pointer:
      return pointer(v, f);
    case TypeKind::Enum:
      return enumerated(v, f);
    case TypeKind::Function: {
      uint64_t a = v.is_lvalue() ? v.address().value() : v.as_u64();
      return fmt::format("{{{}}} {:#x}{}", v.type().spell(), a, symbol_suffix(a, f));
    }
    case TypeKind::Void:
      throw Error(Error::Kind::Lookup, "the symbol has no type information (cast it to a type)");
    case TypeKind::Base: {
      if (t.name() == "_Bool") {
        uint64_t x = v.as_u64();
        return x == 0 ? "false" : x == 1 ? "true" : std::to_string(x);
      }
      if (t.name() == "float" || t.name() == "double" || t.name() == "long double") return floating(v);
      std::string n = integer(v, f);
      if (t.is_char() && !v.is_bitfield()) n += " " + char_literal(v.as_u64() & 0xff);
      return n;
    }
    default:
      return integer(v, f);
  }
}

std::string format_top_level(const Value& v, const ValueFormat& f) {
  const Type& t = v.type().strip();
  // A value that cannot be read at all is one error, not one per member.
  if (v.is_lvalue() && (t.is_struct_like() || t.kind() == TypeKind::Array)) v.bytes();
  if (t.kind() == TypeKind::Pointer) {
    const Type* target = t.target();
    bool char_ptr = target != nullptr && target->is_char() && target->strip().kind() == TypeKind::Base;
    // gdb names the type of a pointer, except for strings, which speak for themselves.
    if (!char_ptr || v.as_u64() == 0) return fmt::format("({}) {}", v.type().spell(), pointer(v, f));
  }
  return format_value(v, f, 0);
}

void print_struct_members(Output& out, const Value& instance, const std::vector<std::string>& members,
                          const ValueFormat& f) {
  std::vector<Value> values;
  values.reserve(members.size());
  for (const std::string& m : members) values.push_back(instance.member(m));
  // One read for the whole instance, shared by the members.
  instance.bytes();
  for (size_t i = 0; i < members.size(); ++i) {
    Value v = instance.member(members[i]);
    out.print("  {} = {},\n", members[i], format_value(v, f, 2));
  }
}

ValueFormat value_format_for(const Kernel& kernel, int radix) {
  ValueFormat f;
  f.radix = radix;
  const Kernel* k = &kernel;
  f.symbolize = [k](uint64_t address) -> std::optional<std::string> {
    // Per-CPU symbols are offsets near zero: small numbers are not addresses.
    if (VirtAddr{address} < kStartKernelMap) return std::nullopt;
    auto hit = k->symbols().containing(VirtAddr{address});
    if (!hit) return std::nullopt;
    const Symbol& s = *hit->symbol;
    // gdb names an address after a symbol that covers it; a data symbol with
    // no size (a linker label) only when the address is the symbol itself.
    bool text = s.type == 'T' || s.type == 't' || s.type == 'W' || s.type == 'w';
    if (hit->offset >= s.size && !(text && s.size == 0) && hit->offset != 0) return std::nullopt;
    if (hit->offset != 0 && s.size == 0 && !text) return std::nullopt;
    if (s.size == 0 && !text) return std::nullopt;
    if (hit->offset == 0) return std::string(s.name);
    return fmt::format("{}+{}", s.name, hit->offset);
  };
  return f;
}

}  // namespace kdive
