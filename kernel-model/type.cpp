#include "kernel-model/type.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

uint64_t Type::size() const {
  if (has_size_) return size_;
  switch (kind_) {
    case TypeKind::Typedef:
    case TypeKind::Const:
    case TypeKind::Volatile:
      return target() != nullptr ? target()->size() : 0;
    case TypeKind::Array: {
      const Type* e = target();
      return e != nullptr && count_ ? e->size() * *count_ : 0;
    }
    case TypeKind::Pointer:
      return 8;
    default:
      return 0;
  }
}

bool Type::is_signed() const {
  const Type& t = strip();
  return t.signed_;
}

const Type* Type::target() const {
  if (!target_resolved_) {
    target_resolved_ = true;
    if (target_die_ != 0) {
      target_ = owner_->resolve(target_die_);
    } else if (kind_ == TypeKind::Pointer || kind_ == TypeKind::Typedef || kind_ == TypeKind::Const ||
               kind_ == TypeKind::Volatile || kind_ == TypeKind::Function) {
      target_ = owner_->void_type();  // DWARF omits DW_AT_type for void
    }
  }
  return target_;
}

const std::vector<Member>& Type::members() const {
  if (!children_loaded_) owner_->load_children(*this);
  return members_;
}

const std::vector<Enumerator>& Type::enumerators() const {
  if (!children_loaded_) owner_->load_children(*this);
  return enumerators_;
}

const std::vector<const Type*>& Type::parameters() const {
  if (!children_loaded_) owner_->load_children(*this);
  return parameters_;
}

const Type& Type::strip() const {
  const Type* t = this;
  while ((t->kind_ == TypeKind::Typedef || t->kind_ == TypeKind::Const || t->kind_ == TypeKind::Volatile) &&
         t->target() != nullptr) {
    t = t->target();
  }
  return *t;
}

bool Type::is_integer() const {
  const Type& t = strip();
  return (t.kind_ == TypeKind::Base && t.name_ != "float" && t.name_ != "double" && t.name_ != "long double") ||
         t.kind_ == TypeKind::Enum;
}

bool Type::is_char() const {
  const Type& t = strip();
  return t.kind_ == TypeKind::Base && t.size() == 1 && t.name_.find("char") != std::string::npos;
}

std::optional<Member> Type::member(std::string_view path) const {
  const Type* current = &strip();
  Member found{"", 0, 0, 0, nullptr};
  uint64_t base = 0;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view name = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (!current->is_struct_like()) return std::nullopt;
    // Search direct members, then the members of anonymous structs/unions.
    std::optional<Member> hit;
    std::vector<std::pair<const Type*, uint64_t>> pending = {{current, 0}};
    while (!pending.empty() && !hit) {
      auto [type, offset] = pending.front();
      pending.erase(pending.begin());
      for (const Member& m : type->members()) {
        if (m.name == name) {
          hit = m;
          hit->offset += offset;
          break;
        }
        if (m.name.empty() && m.type != nullptr && m.type->strip().is_struct_like()) {
          pending.push_back({&m.type->strip(), offset + m.offset});
        }
      }
    }
    if (!hit) return std::nullopt;
    base += hit->offset;
    found = *hit;
    found.offset = base;
    current = &hit->type->strip();
  }
  return found;
}

Member Type::require_member(std::string_view path) const {
  const Type& t = strip();
  if (!t.is_struct_like()) {
    throw Error(Error::Kind::Lookup, fmt::format("'{}' is not a struct or union: no member '{}'", t.spell(), path));
  }
  auto m = t.member(path);
  if (!m) throw Error(Error::Kind::Lookup, fmt::format("{} has no member '{}'", t.spell(), path));
  return *m;
}

uint64_t scalar_bytes(const Type& type, uint32_t bit_offset, uint32_t bit_size) {
  const Type& t = type.strip();
  TypeKind k = t.kind();
  uint64_t size = t.size();
  if ((k != TypeKind::Base && k != TypeKind::Enum && k != TypeKind::Pointer) || size == 0 || size > 8) {
    throw Error(Error::Kind::Lookup, fmt::format("a {} is not a scalar value", t.spell()));
  }
  if (bit_size == 0) return size;
  if (bit_size > 64 || bit_offset > 7) {
    throw Error(Error::Kind::BadData,
                fmt::format("a bitfield of {} bits at bit {} cannot be read as an integer", bit_size, bit_offset));
  }
  return (bit_offset + bit_size + 7) / 8;
}

uint64_t extract_scalar(const Type& type, std::span<const std::byte> bytes, uint32_t bit_offset, uint32_t bit_size) {
  uint64_t n = scalar_bytes(type, bit_offset, bit_size);
  if (bytes.size() < n) {
    throw Error(Error::Kind::BadData,
                fmt::format("{} bytes given for a {} of {} bytes", bytes.size(), type.strip().spell(), n));
  }
  uint64_t v = 0;
  std::memcpy(&v, bytes.data(), std::min<uint64_t>(n, 8));
  if (bit_size == 0) return v;
  v >>= bit_offset;
  // A field that starts mid-byte and reaches into a ninth byte.
  if (n > 8) v |= static_cast<uint64_t>(std::to_integer<uint8_t>(bytes[8])) << (64 - bit_offset);
  if (bit_size < 64) v &= (uint64_t{1} << bit_size) - 1;
  return v;
}

int64_t extract_signed_scalar(const Type& type, std::span<const std::byte> bytes, uint32_t bit_offset,
                              uint32_t bit_size) {
  uint64_t v = extract_scalar(type, bytes, bit_offset, bit_size);
  if (!type.is_signed()) return static_cast<int64_t>(v);
  unsigned bits = bit_size != 0 ? bit_size : static_cast<unsigned>(type.strip().size() * 8);
  if (bits < 64 && ((v >> (bits - 1)) & 1)) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

namespace {

std::string join(std::string_view left, std::string_view declarator) {
  if (declarator.empty()) return std::string(left);
  return fmt::format("{} {}", left, declarator);
}

// GCC names base types "long unsigned int"; people (and crash) write
// "unsigned long".
std::string_view base_spelling(const std::string& name) {
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"long int", "long"},           {"long unsigned int", "unsigned long"},
      {"short int", "short"},         {"short unsigned int", "unsigned short"},
      {"long long int", "long long"}, {"long long unsigned int", "unsigned long long"},
  };
  for (const auto& [dwarf, c] : kNames) {
    if (name == dwarf) return c;
  }
  return name;
}

std::string tag_name(std::string_view keyword, const std::string& name) {
  return name.empty() ? fmt::format("{} {{...}}", keyword) : fmt::format("{} {}", keyword, name);
}

}  // namespace

std::string Type::spell(std::string_view declarator) const {
  switch (kind_) {
    case TypeKind::Void:
      return join("void", declarator);
    case TypeKind::Base:
      return join(base_spelling(name_), declarator);
    case TypeKind::Typedef:
      return join(name_, declarator);
    case TypeKind::Struct:
      return join(tag_name("struct", name_), declarator);
    case TypeKind::Union:
      return join(tag_name("union", name_), declarator);
    case TypeKind::Enum:
      return join(tag_name("enum", name_), declarator);
    case TypeKind::Pointer: {
      const Type* t = target();
      std::string inner = fmt::format("*{}", declarator);
      TypeKind tk = t->kind();
      if (tk == TypeKind::Array || tk == TypeKind::Function) inner = fmt::format("({})", inner);
      return t->spell(inner);
    }
    case TypeKind::Array: {
      std::string dims = count_ ? fmt::format("[{}]", *count_) : "[]";
      return target()->spell(fmt::format("{}{}", declarator, dims));
    }
    case TypeKind::Function: {
      std::string params;
      for (const Type* p : parameters()) params += fmt::format("{}{}", params.empty() ? "" : ", ", p->spell());
      if (variadic_) params += params.empty() ? "..." : ", ...";
      if (params.empty()) params = "void";
      return target()->spell(fmt::format("{}({})", declarator, params));
    }
    case TypeKind::Const:
    case TypeKind::Volatile: {
      const char* q = kind_ == TypeKind::Const ? "const" : "volatile";
      const Type* t = target();
      // A qualified pointer puts the qualifier after the '*': char *const p.
      if (t->kind() == TypeKind::Pointer) return t->spell(fmt::format("{} {}", q, declarator));
      // C puts an array's qualifier on its elements, and GCC's DWARF often says
      // so twice (const array of const char): say it once.
      if (t->kind() == TypeKind::Array) {
        std::string inner = t->spell(declarator);
        if (inner.starts_with(q) && inner.size() > std::strlen(q) && inner[std::strlen(q)] == ' ') return inner;
        return fmt::format("{} {}", q, inner);
      }
      return fmt::format("{} {}", q, t->spell(declarator));
    }
  }
  return std::string(declarator);
}

std::string Type::display_name() const {
  std::string s = spell("");
  return s;
}

}  // namespace kdive
