// SLUB slot arithmetic with and without a left red zone: which slot a free
// pointer names, which slot an address lies in, and when the pad applies.
#include "kernel-model/slab_geometry.hpp"

#include <catch2/catch.hpp>

namespace kdive {

TEST_CASE("red_left_pad applies only with the red-zone flag", "[slab]") {
  CHECK(red_left_pad(0x400, 8, kSlabRedZoneBefore69) == 8);
  CHECK(red_left_pad(0x400 | 0x800, 16, kSlabRedZoneBefore69) == 16);
  // Another flag set, red_left_pad left over: no red zone.
  CHECK(red_left_pad(0x800, 8, kSlabRedZoneBefore69) == 0);
  // 6.9+: the flag is bit _SLAB_RED_ZONE (1), 0x2.
  CHECK(red_left_pad(0x2, 8, uint64_t{1} << 1) == 8);
  CHECK(red_left_pad(0x400, 8, uint64_t{1} << 1) == 0);
}

TEST_CASE("slab geometry without a red zone: pointers are slot starts", "[slab]") {
  const SlabGeometry g{0x1000, 64, 4, 0};
  CHECK(g.end() == 0x1100);
  CHECK(g.slot_of_pointer(0x1000) == 0x1000);
  CHECK(g.slot_of_pointer(0x10c0) == 0x10c0);
  CHECK_FALSE(g.slot_of_pointer(0x1008));  // inside an object
  CHECK_FALSE(g.slot_of_pointer(0x1100));  // one past the last slot
  CHECK_FALSE(g.slot_of_pointer(0xfc0));   // the slot before the slab
  CHECK(g.slot_holding(0x103f) == 0x1000);
  CHECK(g.slot_holding(0x1040) == 0x1040);
  CHECK_FALSE(g.slot_holding(0x1100));
  CHECK_FALSE(g.slot_holding(0xfff));
  CHECK(g.index_of(0x10c0) == 3);
  CHECK(g.object_of(0x1040) == 0x1040);
}

TEST_CASE("slab geometry with a left red zone: pointers are slot + pad", "[slab]") {
  const SlabGeometry g{0x1000, 80, 3, 16};
  // The kernel's pointers (fixup_red_left) name slot + 16.
  CHECK(g.slot_of_pointer(0x1010) == 0x1000);
  CHECK(g.slot_of_pointer(0x1060) == 0x1050);
  CHECK(g.slot_of_pointer(0x10b0) == 0x10a0);
  // A slot start is no object pointer of a red-zoned cache.
  CHECK_FALSE(g.slot_of_pointer(0x1000));
  CHECK_FALSE(g.slot_of_pointer(0x1050));
  // The pad past the last slot: outside the slab.
  CHECK_FALSE(g.slot_of_pointer(0x1100));
  // A pointer smaller than the pad cannot wrap around into the slab.
  const SlabGeometry low{0, 80, 3, 16};
  CHECK_FALSE(low.slot_of_pointer(8));
  CHECK(low.slot_of_pointer(16) == 0);
  // An address in the left red zone belongs to its own slot, not the one before.
  CHECK(g.slot_holding(0x1050) == 0x1050);
  CHECK(g.slot_holding(0x105f) == 0x1050);
  CHECK(g.slot_holding(0x104f) == 0x1000);
  CHECK(g.object_of(0x1050) == 0x1060);
  CHECK(g.index_of(*g.slot_of_pointer(0x10b0)) == 2);
}

TEST_CASE("slab geometry of a zero-sized cache names nothing", "[slab]") {
  const SlabGeometry g{0x1000, 0, 4, 0};
  CHECK_FALSE(g.slot_of_pointer(0x1000));
  CHECK_FALSE(g.slot_holding(0x1000));
}

}  // namespace kdive
