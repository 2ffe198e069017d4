#include "commands/container_args.hpp"

#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// Deep enough for task_struct's nesting, shallow enough to stop a cycle of
// embedded types (there are none in C, but a bad type graph should not hang).
constexpr int kMaxDepth = 12;
// Longer arrays print their first elements and "...".
constexpr uint64_t kMaxArrayElements = 32;

// "task_struct" names struct task_struct (or a union/typedef of that name).
const Type* find_type(const Kernel& k, std::string_view name) {
  if (name.empty()) return nullptr;
  if (const Type* t = k.types().lookup(std::string(name))) return t;
  return nullptr;
}

std::pair<std::string_view, std::string_view> split_first_dot(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return {text, {}};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

std::string format_integer(const Object& o, EntryMembers::Radix radix) {
  const Type& t = o.type().strip();
  if (t.kind() == TypeKind::Enum && radix == EntryMembers::Radix::Default) {
    int64_t v = o.as_i64();
    for (const auto& e : t.enumerators()) {
      if (e.value == v) return e.name;
    }
    return std::to_string(v);
  }
  if (radix == EntryMembers::Radix::Hex) return fmt::format("{:#x}", o.as_u64());
  return t.is_signed() ? std::to_string(o.as_i64()) : std::to_string(o.as_u64());
}

std::string format_value(const Kernel& k, const Object& o, EntryMembers::Radix radix, int indent);

std::string format_struct(const Kernel& k, const Object& o, EntryMembers::Radix radix, int indent) {
  if (indent / 2 > kMaxDepth) return "{...}";
  std::string out = "{\n";
  for (const Member& m : o.type().strip().members()) {
    Object member(k, o.address() + m.offset, m.type, m.bit_offset, m.bit_size);
    std::string value;
    try {
      value = format_value(k, member, radix, indent + 2);
    } catch (const Fault& f) {
      value = fmt::format("<{}>", f.what());
    }
    out += fmt::format("{:{}}{}{}\n", "", indent + 2, m.name.empty() ? "" : m.name + " = ", value);
  }
  out += fmt::format("{:{}}}}", "", indent);
  return out;
}

std::string format_array(const Kernel& k, const Object& o, EntryMembers::Radix radix, int indent) {
  const Type& t = o.type().strip();
  const Type& element = t.target()->strip();
  if (element.is_char()) return fmt::format("\"{}\"", o.string());
  uint64_t n = t.count().value_or(0);
  std::string out = "{";
  for (uint64_t i = 0; i < n && i < kMaxArrayElements; ++i) {
    out += (i ? ", " : "") + format_value(k, o.at(i), radix, indent);
  }
  if (n > kMaxArrayElements) out += ", ...";
  return out + "}";
}

std::string format_value(const Kernel& k, const Object& o, EntryMembers::Radix radix, int indent) {
  const Type& t = o.type().strip();
  switch (t.kind()) {
    case TypeKind::Struct:
    case TypeKind::Union:
      return format_struct(k, o, radix, indent);
    case TypeKind::Array:
      return format_array(k, o, radix, indent);
    case TypeKind::Pointer: {
      uint64_t p = o.pointer().value();
      const Type* target = t.target();
      if (p != 0 && target != nullptr && target->strip().is_char()) {
        try {
          return fmt::format("{:#x} \"{}\"", p, k.memory().read_cstring(VirtAddr{p}, 256));
        } catch (const Fault&) {
        }
      }
      return fmt::format("{:#x}", p);
    }
    case TypeKind::Base:
    case TypeKind::Enum:
      if (t.is_integer() || t.kind() == TypeKind::Enum) return format_integer(o, radix);
      return fmt::format("{:#x}", o.as_u64());  // floating point: the bits
    default:
      return fmt::format("<{}>", t.spell());
  }
}

// "member", "member.sub" or "member[3]" of the structure at `base`.
Object member_object(const Object& base, std::string_view path) {
  size_t bracket = path.find('[');
  if (bracket == std::string_view::npos) return base.member(path);
  size_t close = path.find(']', bracket);
  auto index = parse_number(path.substr(bracket + 1, close - bracket - 1), 10);
  if (close == std::string_view::npos || !index || close + 1 != path.size()) {
    throw CommandError(fmt::format("invalid member: '{}'", path));
  }
  return base.member(path.substr(0, bracket)).at(*index);
}

}  // namespace

bool is_type_member(const Kernel& k, std::string_view text) {
  auto [type, member] = split_first_dot(text);
  if (member.empty()) return false;
  const Type* t = find_type(k, type);
  return t != nullptr && t->strip().is_struct_like();
}

uint64_t parse_member_offset(const Kernel& k, std::string_view text) {
  auto [type, member] = split_first_dot(text);
  if (member.empty()) {
    auto n = parse_number(text, 10);
    if (!n) throw CommandError(fmt::format("invalid offset: '{}'", text));
    return *n;
  }
  const Type* t = find_type(k, type);
  if (t == nullptr) throw CommandError(fmt::format("unknown structure: '{}'", type));
  auto m = t->strip().member(member);
  if (!m) throw CommandError(fmt::format("{} has no member '{}'", t->strip().spell(), member));
  return m->offset;
}

uint64_t parse_start(const Kernel& k, std::string_view text) {
  auto [name, member] = split_first_dot(text);
  if (member.empty() || !k.symbols().address(name)) return parse_address(&k, text).value();
  const Type* t = k.types().variable_type(std::string(name));
  if (t == nullptr || !t->strip().is_struct_like()) {
    throw CommandError(fmt::format("'{}' is not a structure: no member '{}'", name, member));
  }
  auto m = t->strip().member(member);
  if (!m) throw CommandError(fmt::format("{} has no member '{}'", t->strip().spell(), member));
  return k.symbols().address(name)->value() + m->offset;
}

EntryMembers::EntryMembers(const Kernel& k, const std::vector<std::string>& specs, Radix radix) : k_(k), radix_(radix) {
  for (const std::string& spec : specs) {
    auto [type, members] = split_first_dot(spec);
    const Type* t = find_type(k, type);
    if (t == nullptr || !t->strip().is_struct_like()) {
      throw CommandError(fmt::format("unknown structure: '{}'", type));
    }
    Request r{t, {}};
    size_t at = 0;
    while (!members.empty() && at <= members.size()) {
      size_t comma = members.find(',', at);
      std::string name(members.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
      if (name.empty()) throw CommandError(fmt::format("invalid member list: '{}'", spec));
      std::string plain = name.substr(0, name.find('['));
      if (!t->strip().member(plain)) {
        throw CommandError(fmt::format("{} has no member '{}'", t->strip().spell(), plain));
      }
      r.members.push_back(std::move(name));
      if (comma == std::string_view::npos) break;
      at = comma + 1;
    }
    requests_.push_back(std::move(r));
  }
}

void EntryMembers::print(Output& out, VirtAddr entry) const {
  for (const Request& r : requests_) {
    Object base(k_, entry, r.type);
    if (r.members.empty()) {
      out.print("{} {}\n", r.type->strip().spell(), format_struct(k_, base, radix_, 0));
      continue;
    }
    for (const std::string& name : r.members) {
      std::string value;
      try {
        value = format_value(k_, member_object(base, name), radix_, 2);
      } catch (const Fault& f) {
        value = fmt::format("<{}>", f.what());
      }
      out.print("  {} = {}\n", name, value);
    }
  }
}

}  // namespace kdive
