// Typed addresses: a physical and a virtual address are different types, so
// passing one where the other is meant fails to compile (rr's remote_ptr idea).
// An address plus a byte count is an address of the same kind; the distance
// between two addresses of one kind is a count. {fmt} prints an address like
// the number it holds ("{:x}", "{:016x}").
//
//   PhysAddr p{0x1000};
//   VirtAddr v{0xffffffff81000000};
//   p + 8;                     // PhysAddr
//   p.value();                 // uint64_t
//   fmt::format("{:x}", v);    // "ffffffff81000000"
//   // read_phys(v, ...), p == v, p - v: do not compile
#pragma once

#include <fmt/format.h>

#include <compare>
#include <cstdint>
#include <functional>

namespace kdive {

template <typename Tag>
class Address {
 public:
  constexpr Address() = default;
  constexpr explicit Address(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr bool is_null() const { return value_ == 0; }
  constexpr Address operator+(uint64_t n) const { return Address(value_ + n); }
  constexpr Address operator-(uint64_t n) const { return Address(value_ - n); }
  constexpr uint64_t operator-(Address other) const { return value_ - other.value_; }
  constexpr Address& operator+=(uint64_t n) {
    value_ += n;
    return *this;
  }
  constexpr auto operator<=>(const Address&) const = default;

  // The address rounded down to a multiple of `align` (a power of two).
  constexpr Address align_down(uint64_t align) const { return Address(value_ & ~(align - 1)); }
  constexpr uint64_t offset_in(uint64_t align) const { return value_ & (align - 1); }

 private:
  uint64_t value_ = 0;
};

struct PhysTag;
struct VirtTag;
using PhysAddr = Address<PhysTag>;
using VirtAddr = Address<VirtTag>;

}  // namespace kdive

template <typename Tag>
struct std::hash<kdive::Address<Tag>> {
  size_t operator()(kdive::Address<Tag> a) const noexcept { return std::hash<uint64_t>{}(a.value()); }
};

template <typename Tag>
struct fmt::formatter<kdive::Address<Tag>> : fmt::formatter<uint64_t> {
  template <typename FormatContext>
  auto format(kdive::Address<Tag> a, FormatContext& ctx) const {
    return fmt::formatter<uint64_t>::format(a.value(), ctx);
  }
};
