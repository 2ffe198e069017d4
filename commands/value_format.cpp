#include "commands/value_format.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>

#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// The most characters of a string any limit shows (print_max 0 is "all", but
// a char pointer into a damaged page must still stop somewhere).
constexpr uint64_t kStringCeiling = 1 << 16;

// A print_max/string_max limit as a count: 0 means no limit.
uint64_t limit_of(uint64_t max) { return max == 0 ? UINT64_MAX : max; }
// How far JSON follows an unsized char array (linux_banner[] as some
// kernels' DWARF declares it) to its NUL; text stops where gdb does.
constexpr size_t kJsonStringMax = 1 << 16;
// The largest integer a JSON number (an IEEE double) holds exactly.
constexpr uint64_t kJsonExactMax = 1ull << 53;

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
      const size_t max = std::min(limit_of(f.string_max), kStringCeiling);
      std::string str = v.pointed_string(max + 1);
      bool cut = str.size() > max;
      if (cut) str.resize(max);
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

std::string char_array(const Value& v, const ValueFormat& f) {
  auto b = v.bytes();
  std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const uint64_t max = limit_of(f.print_max);
  if (f.null_stop) {
    // With null-stop gdb counts the string up to its first NUL and cuts it at
    // the element limit exactly ("swap"... at print_max 4).
    s = s.substr(0, s.find('\0'));
    bool cut = s.size() > max;
    if (cut) s = s.substr(0, max);
    return fmt::format("\"{}\"{}", escape_c_string(s), cut ? "..." : "");
  }
  // gdb drops one trailing NUL: the terminator of a string that fills the array.
  if (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  // gdb takes the characters in runs of one repeated byte (crash prints no
  // "<repeats N times>", so a run is written out whole) and stops after the
  // run that reaches the element limit: 4096 NULs print whole, a 131072-byte
  // log buffer stops near 256 characters, with "..." when something is left
  // ("swapp"... at print_max 4: the run "pp" is written whole).
  size_t shown = 0;
  while (shown < s.size() && shown < max) {
    size_t run = 1;
    while (shown + run < s.size() && s[shown + run] == s[shown]) ++run;
    shown += run;
  }
  return fmt::format("\"{}\"{}", escape_c_string(s.substr(0, shown)), shown < s.size() ? "..." : "");
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
  if (is_char_array(t)) return char_array(v, f);
  uint64_t n = t.count().value_or(0);
  // A flexible array member (mm_struct.cpu_bitmap[]) has no elements to show:
  // gdb prints where it starts.
  if (n == 0 && v.is_lvalue()) return fmt::format("{:#x}", v.address().value());
  const uint64_t shown = std::min(n, limit_of(f.print_max));
  const char* more = n > shown ? "..." : "";
  if (f.print_array) {
    // gdb's "print array on": "{\n" then each element on its own line, two
    // columns deeper than the line the array starts on, "..." after the last
    // one shown, and "}" back at that line's column.
    std::string pad(static_cast<size_t>(indent + 2), ' ');
    std::string out = "{\n";
    for (uint64_t i = 0; i < shown; ++i) {
      if (i > 0) out += ",\n";
      out += pad + format_value(v.element(i), f, indent + 2);
    }
    return out + fmt::format("{}\n{}}}", more, std::string(static_cast<size_t>(indent), ' '));
  }
  std::string out = "{";
  for (uint64_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    out += format_value(v.element(i), f, indent + 2);
  }
  return out + more + "}";
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
  // After an octal escape a digit would read as part of it ("\0" then '0' is
  // not "\00"): gdb escapes that digit too, as in "sh\000kset\000\060".
  bool after_octal = false;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    bool octal = false;
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
        octal = true;
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (u < 0x20 || u >= 0x7f || (after_octal && std::isdigit(u))) {
          out += fmt::format("\\{:03o}", u);
          octal = true;
        } else {
          out += c;
        }
    }
    after_octal = octal;
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
      // In hex (struct -x, output-radix 16) gdb prints a bool and a char as
      // the number alone.
      if (t.name() == "_Bool") {
        uint64_t x = v.as_u64();
        if (f.radix == 16) return integer(v, f);
        return x == 0 ? "false" : x == 1 ? "true" : std::to_string(x);
      }
      if (t.name() == "float" || t.name() == "double" || t.name() == "long double") return floating(v);
      std::string n = integer(v, f);
      // gdb shows the character of a char bitfield too: sk_userlocks = 0 '\000'.
      if (t.is_char() && f.radix != 16) n += " " + char_literal(v.as_u64() & 0xff);
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

std::string format_instance(const Value& v, const ValueFormat& f) {
  const Type& t = v.type().strip();
  if (!t.is_struct_like()) throw Error(Error::Kind::Lookup, fmt::format("a {} is not a struct or union", t.spell()));
  if (v.is_lvalue()) v.bytes();  // unreadable: one error, not one per member
  return fmt::format("{} {}", t.spell(), format_value(v, f, 0));
}

namespace {

// One step of a member path: a member name and the subscripts after it.
struct PathStep {
  std::string_view name;
  std::vector<uint64_t> indices;
};

std::vector<PathStep> parse_member_path(std::string_view path) {
  std::vector<PathStep> steps;
  auto bad = [&]() { return Error(Error::Kind::Lookup, fmt::format("invalid member reference: '{}'", path)); };
  size_t at = 0;
  while (true) {
    size_t end = path.find_first_of(".[", at);
    PathStep step{path.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at), {}};
    if (step.name.empty()) throw bad();
    at = end;
    while (at != std::string_view::npos && path[at] == '[') {
      size_t close = path.find(']', at);
      if (close == std::string_view::npos) throw bad();
      std::string digits(path.substr(at + 1, close - at - 1));
      size_t used = 0;
      uint64_t i = 0;
      try {
        i = std::stoull(digits, &used, 0);
      } catch (const std::exception&) {
        throw bad();
      }
      if (used != digits.size() || digits.empty() || digits[0] == '-') throw bad();
      step.indices.push_back(i);
      at = close + 1 < path.size() ? close + 1 : std::string_view::npos;
    }
    steps.push_back(step);
    if (at == std::string_view::npos) break;
    if (path[at] != '.') throw bad();
    ++at;
  }
  return steps;
}

// The element type a subscript reaches (an array's, or a pointer's target).
const Type& subscripted(const Type& t, uint64_t i, std::string_view path) {
  const Type& s = t.strip();
  if (s.kind() == TypeKind::Array) {
    if (s.count() && i >= *s.count()) {
      throw Error(Error::Kind::Lookup, fmt::format("'{}': index {} is past the end of a {}", path, i, s.spell()));
    }
    return *s.target();
  }
  if (s.kind() == TypeKind::Pointer) return *s.target();
  throw Error(Error::Kind::Lookup, fmt::format("'{}': a {} cannot be subscripted", path, s.spell()));
}

// Whether `name` is the last member of the struct or union that holds it
// directly: `s` itself, or an anonymous struct or union inside it.
std::optional<bool> last_in(const Type& s, std::string_view name) {
  const auto& members = s.members();
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].name == name) return i + 1 == members.size();
    if (members[i].name.empty() && members[i].type->strip().is_struct_like()) {
      if (auto inner = last_in(members[i].type->strip(), name)) return inner;
    }
  }
  return std::nullopt;
}

}  // namespace

bool is_last_member(const Type& type, std::string_view path) {
  std::vector<PathStep> steps = parse_member_path(path);
  const Type* t = &type;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const Type& s = t->strip();
    t = (s.kind() == TypeKind::Pointer ? s.target()->strip() : s).require_member(steps[i].name).type;
    for (uint64_t n : steps[i].indices) t = &subscripted(*t, n, path);
  }
  const Type& s = t->strip();
  const Type& holder = s.kind() == TypeKind::Pointer ? s.target()->strip() : s;
  return last_in(holder, steps.back().name).value_or(false);
}

const Type& member_type_at_path(const Type& type, std::string_view path) {
  const Type* t = &type;
  for (const PathStep& step : parse_member_path(path)) {
    const Type& s = t->strip();
    // A pointer on the way is followed, as the value's member() does.
    const Type& base = s.kind() == TypeKind::Pointer ? s.target()->strip() : s;
    t = base.require_member(step.name).type;
    for (uint64_t i : step.indices) t = &subscripted(*t, i, path);
  }
  return *t;
}

Value member_at_path(const Value& instance, std::string_view path) {
  member_type_at_path(instance.type(), path);
  Value v = instance;
  for (const PathStep& step : parse_member_path(path)) {
    v = v.member(step.name);
    for (uint64_t i : step.indices) v = v.element(i);
  }
  return v;
}

Json print_struct_members(Output& out, const Value& instance, const std::vector<std::string>& members,
                          const ValueFormat& f) {
  for (const std::string& m : members) member_type_at_path(instance.type(), m);
  // One read for the whole instance, shared by its members; when it cannot
  // all be read, each member on its own.
  bool whole = true;
  try {
    if (instance.is_lvalue()) instance.bytes();
  } catch (const Fault&) {
    whole = false;
  }
  std::vector<std::string> texts(members.size());
  std::vector<std::optional<Fault>> faults(members.size());
  Json json = Json::object();
  size_t readable = 0;
  for (size_t i = 0; i < members.size(); ++i) {
    try {
      Value v = member_at_path(instance, members[i]);
      texts[i] = format_value(v, f, 2);
      json[members[i]] = value_json(v);
      ++readable;
    } catch (const Fault& e) {
      faults[i] = e;
      json[members[i]] = nullptr;
    }
  }
  // Nothing readable at all is the address's fault: one error, nothing printed.
  if (readable == 0 && !members.empty() && !whole) throw *faults.front();
  for (size_t i = 0; i < members.size(); ++i) {
    // Each line ends as it would inside gdb's print of the struct that holds
    // the member: with a comma unless the member is that struct's last.
    const char* comma = is_last_member(instance.type(), members[i]) ? "" : ",";
    if (!faults[i]) {
      out.print("  {} = {}{}\n", members[i], texts[i], comma);
      continue;
    }
    out.print("  {} = <error: {}>{}\n", members[i], faults[i]->what(), comma);
    out.data_lost(fmt::format("{} of the {} at {:#x}: {}", members[i], instance.type().spell(),
                              instance.address().value(), faults[i]->what()));
  }
  return json;
}

Json json_integer(uint64_t v) {
  if (v <= kJsonExactMax) return Json(v);
  return Json(json_hex(v));
}

Json json_integer(int64_t v) {
  if (v >= -static_cast<int64_t>(kJsonExactMax) && v <= static_cast<int64_t>(kJsonExactMax)) return Json(v);
  return Json(json_hex(static_cast<uint64_t>(v)));
}

namespace {

Json scalar_json(const Value& v) {
  const Type& t = v.type().strip();
  if (t.kind() == TypeKind::Enum) {
    int64_t x = v.as_i64();
    for (const Enumerator& e : t.enumerators()) {
      if (e.value == x) return e.name;
    }
    return json_integer(x);
  }
  if (t.kind() == TypeKind::Base) {
    if (t.name() == "_Bool") return v.as_u64() != 0;
    if (t.name() == "float" || t.name() == "double") {
      auto b = v.bytes();
      if (b.size() == 4) {
        float x;
        std::memcpy(&x, b.data(), 4);
        return x;
      }
      double x;
      std::memcpy(&x, b.data(), 8);
      return x;
    }
    if (t.name() == "long double") return nullptr;  // no JSON number holds one
  }
  if (!t.is_signed()) return json_integer(v.as_u64());
  // A negative number beyond 2^53 is written as its bits in the field's width.
  int64_t x = v.as_i64();
  if (x >= -static_cast<int64_t>(kJsonExactMax)) return json_integer(x);
  unsigned bits = v.is_bitfield() ? v.bit_size() : static_cast<unsigned>(t.size() * 8);
  uint64_t u = static_cast<uint64_t>(x);
  if (bits < 64) u &= (1ull << bits) - 1;
  return json_hex(u);
}

void members_json(const Value& v, Json& object) {
  for (const Member& m : v.type().strip().members()) {
    if (m.name.empty()) {
      // An anonymous struct or union: C names its members as this one's.
      if (m.type->strip().is_struct_like()) members_json(v.member(m), object);
      continue;
    }
    try {
      object[m.name] = value_json(v.member(m));
    } catch (const Fault&) {
      object[m.name] = nullptr;
    }
  }
}

}  // namespace

Json value_json(const Value& v) {
  const Type& t = v.type().strip();
  switch (t.kind()) {
    case TypeKind::Struct:
    case TypeKind::Union: {
      Json object = Json::object();
      members_json(v, object);
      return object;
    }
    case TypeKind::Array: {
      uint64_t n = t.count().value_or(0);
      if (is_char_array(t)) {
        if (n == 0 && v.is_lvalue()) {
          // A flexible char array: the string at its address.
          Value p = Value::scalar(v.context(), v.context().types().pointer_to(t.target()), v.address().value());
          return p.pointed_string(kJsonStringMax);
        }
        auto b = v.bytes();
        std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
        return std::string(s.substr(0, s.find('\0')));
      }
      Json array = Json::array();
      for (uint64_t i = 0; i < std::min(n, kJsonArrayElementsMax); ++i) array.push_back(value_json(v.element(i)));
      return array;
    }
    case TypeKind::Pointer:
      return json_hex(v.as_u64());
    case TypeKind::Function:
      return json_hex(v.is_lvalue() ? v.address().value() : v.as_u64());
    case TypeKind::Void:
      return nullptr;
    default:
      return scalar_json(v);
  }
}

ValueFormat value_format_for(const Kernel& kernel, int radix, const SessionSettings& settings) {
  ValueFormat f = value_format_for(kernel, radix);
  f.print_max = settings.print_max;
  f.print_array = settings.print_array;
  f.null_stop = settings.null_stop;
  // crash's `set print_max` sets gdb's one limit, which strings pointed to
  // obey too; until then they stop at gdb's default 200.
  if (settings.print_max != kDefaultPrintMax) f.string_max = settings.print_max;
  return f;
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
