// Slot arithmetic of a SLUB slab (see slab_geometry.hpp). Kept apart from the
// walkers so the red-zone offsets are tested without a dump.
#include "kernel-model/slab_geometry.hpp"

namespace kdive {

uint32_t red_left_pad(uint64_t flags, uint32_t pad_member, uint64_t red_zone_flag) {
  return (flags & red_zone_flag) != 0 ? pad_member : 0;
}

std::optional<uint64_t> SlabGeometry::slot_of_pointer(uint64_t p) const {
  // A pointer below the pad would wrap: it cannot name an object.
  if (size == 0 || p < red_left_pad) return std::nullopt;
  const uint64_t slot_start = p - red_left_pad;
  if (slot_start < memory || slot_start >= end() || (slot_start - memory) % size != 0) return std::nullopt;
  return slot_start;
}

std::optional<uint64_t> SlabGeometry::slot_holding(uint64_t address) const {
  if (size == 0 || address < memory || address >= end()) return std::nullopt;
  return memory + (address - memory) / size * size;
}

}  // namespace kdive
