// Where the objects of one SLUB slab lie, with or without a left red zone.
// A slab of `objects` slots of `size` bytes starts at `memory`; under
// slub_debug=Z (SLAB_RED_ZONE) each slot opens with `red_left_pad` bytes of
// red zone, and the object the kernel hands out — what freelist heads, free
// pointers and callers hold — is `slot + red_left_pad` (mm/slub.c
// fixup_red_left; check_valid_pointer undoes it with restore_red_left before
// checking alignment). kdive names an object by its slot start (what crash
// prints with `set redzone on`); `object_of` adds the pad back.
//
//   SlabGeometry g{memory, size, objects, pad};
//   std::optional<uint64_t> slot = g.slot_of_pointer(free_pointer);  // nullopt: no object of the slab
//   std::optional<uint64_t> holding = g.slot_holding(address);       // red zone included
//   uint64_t handed_out = g.object_of(*slot);
//   uint64_t pad = red_left_pad(flags, red_left_pad_member, red_zone_flag);
#pragma once

#include <cstdint>
#include <optional>

namespace kdive {

// SLAB_RED_ZONE in kmem_cache.flags: 0x400 (include/linux/slab.h) up to 6.8;
// from 6.9 ("mm, slab: use an enum to define SLAB_ cache creation flags") the
// flags are bits numbered by enum _slab_flag_bits, and SLAB_RED_ZONE is
// 1 << _SLAB_RED_ZONE (the DWARF carries the enum).
constexpr uint64_t kSlabRedZoneBefore69 = 0x400;

// The left pad that applies: the member's value when `flags` has the red-zone
// bit, else 0 (a cache without SLAB_RED_ZONE has no left red zone, whatever
// the member holds; crash reads the pad under the same condition).
uint32_t red_left_pad(uint64_t flags, uint32_t pad_member, uint64_t red_zone_flag);

struct SlabGeometry {
  uint64_t memory = 0;        // the slab's first byte (its first slot)
  uint32_t size = 0;          // kmem_cache.size: one slot, red zones and metadata included
  uint32_t objects = 0;       // slots in the slab
  uint32_t red_left_pad = 0;  // left red zone at the start of each slot

  uint64_t end() const { return memory + uint64_t{objects} * size; }
  uint64_t slot(uint32_t index) const { return memory + uint64_t{index} * size; }
  // The pointer the kernel keeps for the object of a slot.
  uint64_t object_of(uint64_t slot_start) const { return slot_start + red_left_pad; }
  // The slot whose object a freelist pointer (or a CPU's freelist head)
  // names: p - red_left_pad must be a slot start of this slab.
  std::optional<uint64_t> slot_of_pointer(uint64_t p) const;
  // The slot an address lies in, its left red zone included; nullopt below
  // the slab or in its unused tail.
  std::optional<uint64_t> slot_holding(uint64_t address) const;
  // The index of a slot start (slot_of_pointer / slot_holding's answers).
  uint32_t index_of(uint64_t slot_start) const { return static_cast<uint32_t>((slot_start - memory) / size); }
};

}  // namespace kdive
