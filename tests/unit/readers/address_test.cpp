// Typed addresses: what must not compile is checked at compile time (a
// virtual address where a physical one is meant, and the reverse), what must
// compute is checked at run time.
#include "readers/address.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <span>
#include <type_traits>

#include "kernel-model/kernel_memory.hpp"

using kdive::KernelMemory;
using kdive::PhysAddr;
using kdive::VirtAddr;

namespace {

template <typename A, typename B>
concept Comparable = requires(A a, B b) {
  a == b;
};
template <typename A, typename B>
concept Subtractable = requires(A a, B b) {
  a - b;
};
template <typename A>
concept KernelReadable = requires(const KernelMemory& m, A a, std::span<std::byte> out) {
  m.read(a, out);
};
template <typename A>
concept PhysicallyReadable = requires(const KernelMemory& m, A a, std::span<std::byte> out) {
  m.read_phys(a, out);
};

// Mixing the two kinds does not compile.
static_assert(!Comparable<VirtAddr, PhysAddr>);
static_assert(!Subtractable<VirtAddr, PhysAddr>);
static_assert(!std::is_constructible_v<PhysAddr, VirtAddr>);
static_assert(!std::is_constructible_v<VirtAddr, PhysAddr>);
static_assert(!std::is_convertible_v<uint64_t, VirtAddr>);  // a number becomes an address only on purpose
static_assert(!std::is_convertible_v<VirtAddr, uint64_t>);
static_assert(KernelReadable<VirtAddr> && !KernelReadable<PhysAddr>);
static_assert(PhysicallyReadable<PhysAddr> && !PhysicallyReadable<VirtAddr>);
// Within one kind: an address plus a count, and the distance between two.
static_assert(std::is_same_v<decltype(VirtAddr{} + 8), VirtAddr>);
static_assert(std::is_same_v<decltype(VirtAddr{} - VirtAddr{}), uint64_t>);

}  // namespace

TEST_CASE("addresses compute within their kind and print as numbers", "[address]") {
  const VirtAddr v{0xffffffff81000010ull};
  CHECK((v + 0x10).value() == 0xffffffff81000020ull);
  CHECK(v - VirtAddr{0xffffffff81000000ull} == 0x10);
  CHECK(v.align_down(0x1000) == VirtAddr{0xffffffff81000000ull});
  CHECK(v.offset_in(0x1000) == 0x10);
  CHECK(VirtAddr{}.is_null());
  CHECK(PhysAddr{0x1000} < PhysAddr{0x2000});
  CHECK(fmt::format("{:x}", v) == "ffffffff81000010");
  CHECK(fmt::format("{:>8x}|{:#x}", PhysAddr{0x1000}, PhysAddr{0x1000}) == "    1000|0x1000");
  CHECK(std::hash<VirtAddr>{}(v) == std::hash<uint64_t>{}(v.value()));
}
