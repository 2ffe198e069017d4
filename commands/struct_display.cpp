#include "commands/struct_display.hpp"

#include <fmt/format.h>

#include <cctype>
#include <sstream>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/type_layout.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

std::vector<std::string> split_members(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view m = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (m.empty()) throw CommandError(fmt::format("empty member name in '{}'", list));
    out.emplace_back(m);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

char printable(std::byte b) {
  auto c = static_cast<unsigned char>(b);
  return std::isprint(c) ? static_cast<char>(c) : '.';
}

// The text after "->" for a pointer member crash's -p follows, and its JSON.
struct Followed {
  std::string text;  // may span lines: continuation lines already indented
  Json json;
};

bool readable(const EvalContext& ctx, uint64_t address) {
  std::byte b;
  try {
    ctx.read(VirtAddr{address}, {&b, 1});
    return true;
  } catch (const Fault&) {
    return false;
  }
}

// What `pointer` (a member of type `ptr_type`, already known to be a pointer)
// points at, as crash's -p prints it.
Followed follow_pointer(const EvalContext& ctx, const Type& ptr_type, uint64_t target, const ValueFormat& f) {
  const Type* pointee = ptr_type.target();
  const Type* stripped = pointee != nullptr ? &pointee->strip() : nullptr;
  std::optional<std::string> sym = f.symbolize ? f.symbolize(target) : std::nullopt;
  std::string sym_prefix = sym ? fmt::format("<{}> ", *sym) : "";
  auto symbol_only = [&](std::string_view otherwise) -> Followed {
    if (sym) return {fmt::format("<{}>", *sym), Json{{"symbol", *sym}}};
    return {target == 0 ? "NULL" : std::string(otherwise), nullptr};
  };
  if (stripped != nullptr && stripped->kind() == TypeKind::Function) return symbol_only("(unknown)");
  if (stripped == nullptr || stripped->kind() == TypeKind::Void) return symbol_only("(unknown target type)");
  if (target == 0) return {"NULL", nullptr};
  if (!readable(ctx, target)) return {"(not accessible)", Json{{"error", "not accessible"}}};
  Value v = Value::in_memory(ctx, VirtAddr{target}, pointee);
  if (stripped->is_char()) {
    std::string s = Value::scalar(ctx, &ptr_type, target).pointed_string(4096);
    return {fmt::format("{}\"{}\"", sym_prefix, escape_c_string(s)), Json(s)};
  }
  if (stripped->kind() == TypeKind::Pointer) {
    uint64_t next = v.as_u64();
    return {fmt::format("{}{:x}", sym_prefix, next), json_hex(next)};
  }
  // A struct, union or scalar: gdb's print of *pointer, later lines under "->".
  std::string text = format_value(v, f, 0);
  std::string indented;
  for (char c : text) {
    indented += c;
    if (c == '\n') indented += "     ";
  }
  return {sym_prefix + indented, value_json(v)};
}

}  // namespace

StructTarget parse_struct_target(TypeSystem& types, std::string_view spec, std::string_view keyword) {
  if (!spec.empty() && (spec.back() == ',' || spec.back() == '.')) {
    throw CommandError(fmt::format("invalid format: {}", spec));
  }
  size_t dot = spec.find('.');
  std::string name(spec.substr(0, dot));
  const Type* t = nullptr;
  if (keyword.empty()) {
    // `*`: whichever of struct or union the name is.
    t = types.lookup("struct " + name);
    if (t == nullptr) t = types.lookup("union " + name);
  } else {
    t = types.lookup(fmt::format("{} {}", keyword, name));
  }
  if (t == nullptr) {
    // A typedef naming a struct ("struct spinlock_t") is accepted too.
    const Type* td = types.lookup(name);
    TypeKind kind = td != nullptr ? td->strip().kind() : TypeKind::Void;
    bool wanted = keyword.empty() ? (kind == TypeKind::Struct || kind == TypeKind::Union)
                                  : kind == (keyword == "union" ? TypeKind::Union : TypeKind::Struct);
    if (wanted) t = td;
  }
  if (t == nullptr) throw CommandError(fmt::format("invalid data structure reference: {}", spec));
  StructTarget target{t, {}};
  if (dot != std::string_view::npos) {
    target.members = split_members(spec.substr(dot + 1));
    for (const auto& m : target.members) {
      try {
        member_type_at_path(*t, m);
      } catch (const Error&) {
        throw CommandError(fmt::format("invalid data structure reference: {}.{}", name, m));
      }
    }
  }
  return target;
}

Json print_struct_instance(const EvalContext& ctx, const StructTarget& target, uint64_t address, const ValueFormat& f,
                           Output& out) {
  Value v = Value::in_memory(ctx, VirtAddr{address}, target.type);
  Json j = {{"address", json_hex(address)}, {"type", target.type->strip().spell()}};
  if (!target.members.empty()) {
    j["value"] = print_struct_members(out, v, target.members, f);
    return j;
  }
  out.print("{}\n", format_instance(v, f));
  j["value"] = value_json(v);
  return j;
}

Json print_member_addresses(const StructTarget& target, uint64_t address, Output& out) {
  const Type& t = target.type->strip();
  std::vector<std::string> names = target.members;
  if (names.empty()) {
    for (const Member& m : t.members()) {
      if (!m.name.empty()) names.push_back(m.name);
    }
  }
  out.print("{} {{\n", layout_heading(t));
  for (const auto& n : names) {
    Member m = t.require_member(n);
    std::string decl = m.type->spell(n);
    if (m.bit_size != 0) decl += fmt::format(" : {}", m.bit_size);
    out.print("  [{:x}] {};\n", address + m.offset, decl);
  }
  out.print("}}\n");
  if (target.members.empty()) out.print("SIZE: {}\n", t.size());
  return target.members.empty() ? layout_json(t, address) : member_layout_json(t, target.members, address);
}

Json print_raw_instance(const EvalContext& ctx, const StructTarget& target, uint64_t address, Output& out) {
  if (target.members.size() > 1) throw CommandError("only one structure member allowed with -r");
  uint64_t start = address;
  uint64_t size = target.type->size();
  if (!target.members.empty()) {
    Value m = member_at_path(Value::in_memory(ctx, VirtAddr{address}, target.type), target.members.front());
    start = m.address().value();
    size = m.type().size();
  }
  std::vector<std::byte> bytes(size);
  ctx.read(VirtAddr{start}, bytes);
  // One value of the member's own size when it is a small scalar, else words.
  const size_t width = size == 1 || size == 2 || size == 4 ? size : 8;
  const size_t per_line = 16 / width;
  const size_t words = (size + width - 1) / width;
  bytes.resize(words * width);  // a partial last word is shown zero-padded, as crash rounds up
  Json rows = Json::array();
  for (size_t w = 0; w < words; w += per_line) {
    const size_t n = std::min(per_line, words - w);
    std::string line = fmt::format("{:016x}:  ", start + w * width);
    std::string ascii;
    Json values = Json::array();
    for (size_t i = 0; i < n; ++i) {
      uint64_t v = 0;
      std::memcpy(&v, bytes.data() + (w + i) * width, width);
      line += fmt::format("{:0{}x} ", v, width * 2);
      values.push_back(json_hex(v));
      for (size_t b = 0; b < width; ++b) ascii += printable(bytes[(w + i) * width + b]);
    }
    line.append((per_line - n) * (width * 2 + 1), ' ');
    out.print("{}  {}\n", line, ascii);
    rows.push_back({{"address", json_hex(start + w * width)}, {"values", std::move(values)}, {"ascii", ascii}});
  }
  return {{"address", json_hex(start)}, {"type", target.type->strip().spell()}, {"size", size}, {"raw", rows}};
}

Json print_dereferenced_instance(const Kernel& k, const StructTarget& target, uint64_t address, const ValueFormat& f,
                                 Output& out) {
  KernelEvalContext ctx(k);
  Value v = Value::in_memory(ctx, VirtAddr{address}, target.type);
  const Type& t = target.type->strip();
  Json followed = Json::object();
  std::istringstream lines(format_instance(v, f));
  std::string line;
  // As crash: each line of the instance that is one of its own members (two
  // spaces in, no brace) and holds a pointer is replaced by the pointer and
  // what it points at; every other line prints as it is.
  while (std::getline(lines, line)) {
    size_t eq = line.find(" = ");
    bool own_member = line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ' &&
                      line.find_first_of("{}") == std::string::npos && eq != std::string::npos;
    std::optional<Member> m;
    if (own_member) {
      try {
        m = t.require_member(line.substr(2, eq - 2));
      } catch (const Error&) {
        m.reset();
      }
    }
    if (!m || m->type->strip().kind() != TypeKind::Pointer) {
      out.print("{}\n", line);
      continue;
    }
    uint64_t pointer = v.member(*m).as_u64();
    Followed to = follow_pointer(ctx, m->type->strip(), pointer, f);
    out.print("  {} = 0x{:x}\n  -> {}\n", m->type->spell(m->name), pointer, to.text);
    followed[m->name] = {{"pointer", json_hex(pointer)}, {"target", std::move(to.json)}};
  }
  return {{"address", json_hex(address)},
          {"type", t.spell()},
          {"value", value_json(v)},
          {"dereferenced", std::move(followed)}};
}

}  // namespace kdive
