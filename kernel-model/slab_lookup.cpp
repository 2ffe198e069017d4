#include "kernel-model/slab_lookup.hpp"

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;  // x86_64: every word of one page shares its page struct

}  // namespace

std::optional<SlabHit> SlabLookup::find(VirtAddr address) {
  const uint64_t page = address.value() & ~(kPageSize - 1);
  auto it = pages_.find(page);
  if (it == pages_.end()) {
    std::optional<SlabSlot> slot;
    try {
      slot = slub_.slab_slot(address);
    } catch (const ModelError&) {
      slot = std::nullopt;
    }
    it = pages_.emplace(page, slot).first;
  }
  if (!it->second) return std::nullopt;
  const SlabSlot& slot = *it->second;
  auto name = names_.find(slot.cache);
  if (name == names_.end()) {
    std::string text;
    try {
      text = slub_.cache_name(slot.cache);
    } catch (const ModelError&) {
      return std::nullopt;
    }
    name = names_.emplace(slot.cache, std::move(text)).first;
  }
  return SlabHit{slot.cache, name->second, slot.object_of(address), slot.red_left_pad};
}

}  // namespace kdive
