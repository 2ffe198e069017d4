// Value: a typed value of an expression, in the dump's memory or computed
// (declared in expression.hpp with the evaluator that makes them).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

Value Value::in_memory(const EvalContext& ctx, VirtAddr address, const Type* type) {
  Value v(ctx, type);
  v.address_ = address;
  return v;
}

Value Value::scalar(const EvalContext& ctx, const Type* type, uint64_t bits) {
  Value v(ctx, type);
  v.scalar_ = bits;
  return v;
}

VirtAddr Value::address() const {
  if (!address_) throw Error(Error::Kind::Lookup, "the value has no address (it is not in memory)");
  return *address_;
}

std::span<const std::byte> Value::bytes() const {
  if (!address_) {
    // A computed scalar: its bits, little-endian, in a buffer of its own.
    if (!buffer_) {
      auto b = std::make_shared<std::vector<std::byte>>(8);
      std::memcpy(b->data(), &scalar_, 8);
      buffer_ = std::move(b);
      buffer_offset_ = 0;
    }
    return {buffer_->data(), std::min<size_t>(8, type_->size())};
  }
  uint64_t size = type_->size();
  // A bitfield may reach past its declared type's bytes.
  if (bit_size_ != 0) size = std::max<uint64_t>(size, scalar_bytes(*type_, bit_offset_, bit_size_));
  if (!buffer_ || buffer_offset_ + size > buffer_->size()) {
    auto b = std::make_shared<std::vector<std::byte>>(size);
    ctx_->read(*address_, *b);
    buffer_ = std::move(b);
    buffer_offset_ = 0;
  }
  return {buffer_->data() + buffer_offset_, size};
}

uint64_t Value::as_u64() const {
  const Type& t = type_->strip();
  if (!address_) return scalar_;
  // An array or a function in an expression stands for its address, as in C.
  if (t.kind() == TypeKind::Array || t.kind() == TypeKind::Function) return address_->value();
  scalar_bytes(*type_, bit_offset_, bit_size_);  // a struct is no number: say so before reading it
  return extract_scalar(*type_, bytes(), bit_offset_, bit_size_);
}

int64_t Value::as_i64() const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Array || t.kind() == TypeKind::Function || (!address_ && t.kind() == TypeKind::Void)) {
    return static_cast<int64_t>(as_u64());
  }
  scalar_bytes(*type_, bit_offset_, bit_size_);
  return extract_signed_scalar(*type_, bytes(), bit_offset_, bit_size_);
}

Value Value::member(const Member& m) const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Pointer) return deref().member(m);
  if (!address_) throw Error(Error::Kind::Lookup, fmt::format("member '{}' of a value not in memory", m.name));
  Value v(*ctx_, m.type);
  v.address_ = *address_ + m.offset;
  v.bit_offset_ = m.bit_offset;
  v.bit_size_ = m.bit_size;
  if (buffer_) {
    // Share what the enclosing value already read.
    v.buffer_ = buffer_;
    v.buffer_offset_ = buffer_offset_ + m.offset;
  }
  return v;
}

Value Value::member(std::string_view path) const {
  if (type_->strip().kind() == TypeKind::Pointer) return deref().member(path);
  return member(type_->require_member(path));
}

Value Value::element(uint64_t i) const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Array) {
    const Type* e = t.target();
    Member m{"", i * e->size(), 0, 0, e};
    return member(m);
  }
  if (t.kind() == TypeKind::Pointer) {
    const Type* e = t.target();
    return in_memory(*ctx_, VirtAddr{as_u64() + i * e->size()}, e);
  }
  throw Error(Error::Kind::Lookup, fmt::format("cannot index a {}", t.spell()));
}

Value Value::deref() const {
  const Type& t = type_->strip();
  if (t.kind() == TypeKind::Array) return element(0);
  if (t.kind() != TypeKind::Pointer)
    throw Error(Error::Kind::Lookup, fmt::format("cannot dereference a {}", t.spell()));
  return in_memory(*ctx_, VirtAddr{as_u64()}, t.target());
}

std::string Value::pointed_string(size_t max_len) const {
  uint64_t p = as_u64();
  std::string s;
  // Page by page, so a string that ends just before unreadable memory reads.
  while (s.size() < max_len) {
    uint64_t chunk = std::min<uint64_t>(max_len - s.size(), 4096 - ((p + s.size()) & 4095));
    std::vector<std::byte> b(chunk);
    ctx_->read(VirtAddr{p + s.size()}, b);
    const char* c = reinterpret_cast<const char*>(b.data());
    size_t n = strnlen(c, chunk);
    s.append(c, n);
    if (n < chunk) break;
  }
  return s;
}

}  // namespace kdive
