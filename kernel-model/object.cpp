#include "kernel-model/object.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

Object Object::member(std::string_view path) const {
  const Type* base = &type_->strip();
  VirtAddr at = address_;
  if (base->kind() == TypeKind::Pointer) {
    at = pointer();
    base = &base->target()->strip();
    if (at.is_null()) {
      throw Fault(at, fmt::format("NULL pointer followed to reach member '{}'", path));
    }
  }
  Member m = base->require_member(path);
  return Object(*kernel_, at + m.offset, m.type, m.bit_offset, m.bit_size);
}

bool Object::has_member(std::string_view path) const {
  const Type* base = &type_->strip();
  if (base->kind() == TypeKind::Pointer) base = &base->target()->strip();
  return base->is_struct_like() && base->member(path).has_value();
}

Object Object::deref() const {
  const Type& t = type_->strip();
  if (t.kind() != TypeKind::Pointer) {
    throw Error(Error::Kind::Lookup, fmt::format("cannot dereference a {}", t.spell()));
  }
  VirtAddr p = pointer();
  if (p.is_null()) throw Fault(p, "NULL pointer dereference");
  return Object(*kernel_, p, t.target());
}

Object Object::at(uint64_t i) const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Array) {
    const Type* e = t.target();
    return Object(*kernel_, address_ + i * e->size(), e);
  }
  if (t.kind() == TypeKind::Pointer) {
    const Type* e = t.target();
    return Object(*kernel_, pointer() + i * e->size(), e);
  }
  throw Error(Error::Kind::Lookup, fmt::format("cannot index a {}", t.spell()));
}

uint64_t Object::as_u64() const {
  std::array<std::byte, 16> buffer{};
  std::span<std::byte> held(buffer.data(), scalar_bytes(*type_, bit_offset_, bit_size_));
  kernel_->memory().read(address_, held);
  return extract_scalar(*type_, held, bit_offset_, bit_size_);
}

int64_t Object::as_i64() const {
  std::array<std::byte, 16> buffer{};
  std::span<std::byte> held(buffer.data(), scalar_bytes(*type_, bit_offset_, bit_size_));
  kernel_->memory().read(address_, held);
  return extract_signed_scalar(*type_, held, bit_offset_, bit_size_);
}

std::string Object::string(size_t max_len) const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Array) {
    uint64_t n = t.count().value_or(max_len) * t.target()->size();
    std::string s(std::min<uint64_t>(n, max_len), '\0');
    kernel_->memory().read(address_, {reinterpret_cast<std::byte*>(s.data()), s.size()});
    s.resize(strnlen(s.c_str(), s.size()));
    return s;
  }
  if (t.kind() == TypeKind::Pointer) {
    VirtAddr p = pointer();
    if (p.is_null()) return "";
    return kernel_->memory().read_cstring(p, max_len);
  }
  throw Error(Error::Kind::Lookup, fmt::format("a {} is not a string", t.spell()));
}

std::vector<std::byte> Object::bytes() const {
  std::vector<std::byte> out(type_->size());
  kernel_->memory().read(address_, out);
  return out;
}

}  // namespace kdive
