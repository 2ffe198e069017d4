// Which slab cache an address points into, for looking up many addresses in
// a row (rd -S names the cache of every word that points into a slab): each
// page's answer and each cache's name are read once and kept, and the list of
// caches is walked once.
//
//   SlabLookup slabs(kernel);                        // Error(Unsupported) when not SLUB
//   if (auto hit = slabs.find(VirtAddr{word})) hit->name;   // "kmalloc-64"
//   hit->object;   // the object's slot start; unset in the slab's unused tail
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kernel-model/slab.hpp"

namespace kdive {

struct SlabHit {
  VirtAddr cache;
  std::string name;
  std::optional<VirtAddr> object;  // its slot start (left red zone included)
  uint32_t red_left_pad = 0;       // the kernel's pointer to the object is object + red_left_pad
};

class SlabLookup {
 public:
  explicit SlabLookup(const Kernel& k) : slub_(k) {}
  // nullopt when the address is in no slab of a listed cache, or when its page
  // struct or cache cannot be read (a word is only named when that is sure).
  std::optional<SlabHit> find(VirtAddr address);

 private:
  SlabAllocator slub_;
  std::map<uint64_t, std::optional<SlabSlot>> pages_;  // by the address's page
  std::map<VirtAddr, std::string> names_;
};

}  // namespace kdive
