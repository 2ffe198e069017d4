#include "commands/value_json.hpp"

#include <cstring>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

// Integers a double holds exactly: what a JSON reader can take as a number.
constexpr uint64_t kExactInDouble = 1ull << 53;

Json integer(const Value& v) {
  const Type& t = v.type().strip();
  if (t.is_signed()) {
    int64_t x = v.as_i64();
    uint64_t magnitude = x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
    if (magnitude <= kExactInDouble) return x;
  } else if (v.as_u64() <= kExactInDouble) {
    return v.as_u64();
  }
  uint64_t bits = v.as_u64();
  unsigned width = v.is_bitfield() ? v.bit_size() : static_cast<unsigned>(std::min<uint64_t>(t.size(), 8) * 8);
  if (width < 64) bits &= (1ull << width) - 1;
  return json_hex(bits);
}

Json floating(const Value& v) {
  auto b = v.bytes();
  if (b.size() == 4) {
    float x;
    std::memcpy(&x, b.data(), 4);
    return x;
  }
  if (b.size() == 8) {
    double x;
    std::memcpy(&x, b.data(), 8);
    return x;
  }
  return nullptr;  // long double: no JSON number holds it
}

bool is_char(const Type* t) { return t != nullptr && t->is_char() && t->strip().kind() == TypeKind::Base; }

Json guarded(const Value& v);

void add_members(const Value& v, Json& object) {
  for (const Member& m : v.type().strip().members()) {
    Value mv = v.member(m);
    if (!m.name.empty()) {
      object[m.name] = guarded(mv);
    } else if (mv.type().strip().is_struct_like()) {
      add_members(mv, object);
    }  // else: unnamed padding bits (int :3), which hold no value
  }
}

Json convert(const Value& v) {
  const Type& t = v.type().strip();
  switch (t.kind()) {
    case TypeKind::Struct:
    case TypeKind::Union: {
      Json object = Json::object();
      add_members(v, object);
      return object;
    }
    case TypeKind::Array: {
      if (is_char(t.target())) {
        auto b = v.bytes();
        std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
        return std::string(s.substr(0, s.find('\0')));
      }
      Json items = Json::array();
      for (uint64_t i = 0; i < t.count().value_or(0); ++i) items.push_back(guarded(v.element(i)));
      return items;
    }
    case TypeKind::Pointer:
      return json_hex(v.as_u64());
    case TypeKind::Function:
      return json_hex(v.is_lvalue() ? v.address().value() : v.as_u64());
    case TypeKind::Enum:
      for (const Enumerator& e : t.enumerators()) {
        if (e.value == v.as_i64()) return e.name;
      }
      return integer(v);
    case TypeKind::Void:
      throw Error(Error::Kind::Lookup, "the value has no type information");
    case TypeKind::Base:
      if (t.name() == "_Bool") return v.as_u64() != 0;
      if (t.name() == "float" || t.name() == "double" || t.name() == "long double") return floating(v);
      return integer(v);
    default:
      return integer(v);
  }
}

// One unreadable member is marked in place; its siblings are still read.
Json guarded(const Value& v) {
  try {
    return convert(v);
  } catch (const Fault& e) {
    return {{"error", e.what()}};
  }
}

}  // namespace

Json value_json(const Value& value) { return convert(value); }

}  // namespace kdive
