#include "commands/type_layout.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

std::string number(uint64_t v, int radix) { return radix == 16 ? fmt::format("{:#x}", v) : std::to_string(v); }

// An anonymous struct/union type: printed inline, where it is declared.
bool is_anonymous_aggregate(const Type* t) {
  return t != nullptr && t->kind() != TypeKind::Typedef && t->strip().is_struct_like() && t->strip().name().empty();
}

// The element type of an array of an anonymous struct/union ("struct {...}
// irq[4]", arch/x86/pci/irq.c's struct irq_info), else nullptr.
const Type* anonymous_array_element(const Type* t) {
  if (t == nullptr || t->strip().kind() != TypeKind::Array) return nullptr;
  const Type* e = t;
  while (e != nullptr && e->strip().kind() == TypeKind::Array) e = e->strip().target();
  return is_anonymous_aggregate(e) ? e : nullptr;
}

const char* keyword(const Type& t) {
  return t.kind() == TypeKind::Union ? "union" : t.kind() == TypeKind::Enum ? "enum" : "struct";
}

class LayoutWriter {
 public:
  LayoutWriter(const Type& top, const TypeLayoutOptions& o) : o_(o) {
    // crash right-aligns "[offset]" to the width of "[SIZE]" plus two.
    width_ = number(top.size(), o.radix).size() + 4;
  }

  // `offsets`: whether these members' lines carry their offsets. crash shows
  // the members of a named member of anonymous type ("struct {...} b;")
  // without them and puts the member's own offset on its closing line.
  void members(const Type& t, uint64_t base, int depth, bool offsets = true) {
    for (const Member& m : t.members()) {
      uint64_t off = base + m.offset;
      if (is_anonymous_aggregate(m.type)) {
        const Type& inner = m.type->strip();
        const bool named = !m.name.empty();
        line(std::nullopt, depth, fmt::format("{} {{", keyword(inner)));
        members(inner, off, depth + 1, offsets && !named);
        line(named && offsets ? std::optional(off) : std::nullopt, depth, named ? fmt::format("}} {};", m.name) : "};");
        continue;
      }
      if (const Type* element = anonymous_array_element(m.type); element != nullptr && !m.name.empty()) {
        // Written out as crash does, like a named member of anonymous type,
        // the dimensions after the closing brace: "} irq[4];".
        const Type& inner = element->strip();
        const std::string spelled = m.type->spell(m.name);  // "struct {...} irq[4]"
        const size_t at = spelled.rfind(" " + m.name);
        line(std::nullopt, depth, fmt::format("{} {{", keyword(inner)));
        members(inner, off, depth + 1, false);
        line(offsets ? std::optional(off) : std::nullopt, depth,
             fmt::format("}} {};", at == std::string::npos ? m.name : spelled.substr(at + 1)));
        continue;
      }
      line(offsets ? std::optional(off) : std::nullopt, depth, declaration(m));
    }
  }

  void line(std::optional<uint64_t> offset, int depth, const std::string& text) {
    std::string indent(static_cast<size_t>(depth) * 4, ' ');
    if (!o_.offsets) {
      out_ += fmt::format("    {}{}\n", indent, text);
    } else if (offset) {
      out_ += fmt::format("{:>{}} {}{}\n", fmt::format("[{}]", number(*offset, o_.radix)), width_, indent, text);
    } else {
      out_ += fmt::format("{:{}} {}{}\n", "", width_, indent, text);
    }
  }

  static std::string declaration(const Member& m) {
    std::string d = m.type->spell(m.name);
    if (m.bit_size != 0) d += fmt::format(" : {}", m.bit_size);
    return d + ";";
  }

  std::string& text() { return out_; }

 private:
  const TypeLayoutOptions& o_;
  size_t width_;
  std::string out_;
};

std::string enum_layout(const Type& t, const TypeLayoutOptions& o) {
  if (o.gdb_style) {
    std::string names;
    int64_t expected = 0;
    for (const Enumerator& e : t.enumerators()) {
      if (!names.empty()) names += ", ";
      names += e.name;
      // gdb shows a value only where it breaks the 0, 1, 2 ... sequence.
      if (e.value != expected) names += fmt::format(" = {}", e.value);
      expected = e.value + 1;
    }
    return fmt::format("type = {} {{{}}}\n", layout_heading(t), names);
  }
  // crash lists enumerators one per line, without commas or a SIZE line.
  std::string out = fmt::format("{} {{\n", layout_heading(t));
  for (const Enumerator& e : t.enumerators()) out += fmt::format("  {} = {}\n", e.name, e.value);
  return out + "};\n";
}

}  // namespace

std::string layout_heading(const Type& type) {
  const Type& t = type.strip();
  if (t.name().empty()) return keyword(t);
  return fmt::format("{} {}", keyword(t), t.name());
}

std::string format_layout(const Type& type, const TypeLayoutOptions& o) {
  const Type& t = type.strip();
  if (t.kind() == TypeKind::Enum) return enum_layout(t, o);
  if (!t.is_struct_like()) {
    throw Error(Error::Kind::Lookup, fmt::format("{} is not a struct, union or enum", type.spell()));
  }
  LayoutWriter w(t, o);
  w.members(t, 0, 0);
  std::string out = fmt::format("{}{} {{\n", o.gdb_style ? "type = " : "", layout_heading(t));
  out += w.text();
  out += "}\n";
  if (o.size_line && !o.gdb_style) out += fmt::format("SIZE: {}\n", number(t.size(), o.radix));
  return out;
}

std::string format_member_layout(const Type& type, const std::vector<std::string>& paths, const TypeLayoutOptions& o) {
  const Type& t = type.strip();
  TypeLayoutOptions with_offsets = o;
  with_offsets.offsets = true;
  LayoutWriter w(t, with_offsets);
  for (const std::string& p : paths) {
    auto m = t.member(p);
    if (!m) throw Error(Error::Kind::Lookup, fmt::format("invalid data structure reference: {}.{}", t.name(), p));
    w.line(m->offset, 0, LayoutWriter::declaration(*m));
  }
  return fmt::format("{} {{\n{}}}\n", layout_heading(t), w.text());
}

namespace {

Json member_json(const Member& m, std::string_view name, uint64_t offset, std::optional<uint64_t> base) {
  Json j = {{"member", name}, {"offset", offset}, {"size", m.type->size()}, {"type", m.type->spell()}};
  if (m.bit_size != 0) {
    j["bit_offset"] = m.bit_offset;
    j["bit_size"] = m.bit_size;
  }
  if (base) j["address"] = json_hex(*base + offset);
  return j;
}

void add_members(const Type& t, uint64_t offset, std::optional<uint64_t> base, Json& out) {
  for (const Member& m : t.members()) {
    if (is_anonymous_aggregate(m.type) && m.name.empty()) {
      add_members(m.type->strip(), offset + m.offset, base, out);
    } else {
      out.push_back(member_json(m, m.name, offset + m.offset, base));
    }
  }
}

const char* kind_name(const Type& t) {
  switch (t.kind()) {
    case TypeKind::Struct:
      return "struct";
    case TypeKind::Union:
      return "union";
    case TypeKind::Enum:
      return "enum";
    case TypeKind::Pointer:
      return "pointer";
    case TypeKind::Array:
      return "array";
    case TypeKind::Function:
      return "function";
    case TypeKind::Void:
      return "void";
    default:
      return "base";
  }
}

}  // namespace

Json layout_json(const Type& type, std::optional<uint64_t> base) {
  const Type& t = type.strip();
  if (!t.is_struct_like()) throw Error(Error::Kind::Lookup, fmt::format("{} is not a struct or union", type.spell()));
  Json out = Json::array();
  add_members(t, 0, base, out);
  return out;
}

Json member_layout_json(const Type& type, const std::vector<std::string>& paths, std::optional<uint64_t> base) {
  Json out = Json::array();
  for (const std::string& p : paths) {
    Member m = type.require_member(p);
    out.push_back(member_json(m, p, m.offset, base));
  }
  return out;
}

Json type_json(const Type& type) {
  const Type& t = type.strip();
  Json j = {{"kind", kind_name(t)}, {"type", type.spell()}, {"size", type.size()}};
  if (t.is_struct_like()) j["members"] = layout_json(t);
  if (t.kind() == TypeKind::Enum) {
    Json values = Json::array();
    for (const Enumerator& e : t.enumerators()) values.push_back({{"name", e.name}, {"value", e.value}});
    j["enumerators"] = std::move(values);
  }
  return j;
}

}  // namespace kdive
