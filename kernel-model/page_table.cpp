#include "kernel-model/page_table.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace kdive {
namespace {

struct Level {
  std::string_view name;
  int shift;
};

// Top to bottom. A 4-level walk starts at index 1 and calls its top level "PGD".
constexpr std::array<Level, 5> kLevels = {{{"PGD", 48}, {"P4D", 39}, {"PUD", 30}, {"PMD", 21}, {"PTE", 12}}};

}  // namespace

bool PageTableWalker::canonical(VirtAddr v) const {
  int top_bit = levels_ == 5 ? 56 : 47;
  uint64_t high = v.value() >> top_bit;
  uint64_t ones = (~0ull) >> top_bit;
  return high == 0 || high == ones;
}

std::optional<uint64_t> PageTableWalker::read_entry(PhysAddr at) const {
  std::array<std::byte, 8> buf{};
  PageState s = dump_.read_phys(at, buf);
  if (s != PageState::Present && s != PageState::Zero) return std::nullopt;
  uint64_t v;
  std::memcpy(&v, buf.data(), 8);
  return v;
}

Translation PageTableWalker::walk(PhysAddr top, VirtAddr v) const {
  Translation t;
  if (!canonical(v)) {
    t.fault = fmt::format("{:x} is not a canonical address ({}-level paging)", v.value(), levels_);
    return t;
  }
  uint64_t table = top.value() & kPteAddressMask;
  for (size_t i = levels_ == 5 ? 0 : 1; i < kLevels.size(); ++i) {
    const Level& level = kLevels[i];
    std::string_view name = (levels_ == 4 && i == 1) ? std::string_view("PGD") : level.name;
    uint64_t index = (v.value() >> level.shift) & 0x1ff;
    PhysAddr at{table + index * 8};
    auto entry = read_entry(at);
    if (!entry) {
      t.fault = fmt::format("{} page at {:x} is not in the dump", name, at.value() & ~0xfffull);
      return t;
    }
    t.levels.push_back({name, at, *entry});
    if (!(*entry & kPtePresent)) {
      t.fault = fmt::format("{} not present", name);
      return t;
    }
    uint64_t next = entry_address(*entry);
    bool huge = (*entry & kPteHuge) && (level.shift == 30 || level.shift == 21);
    if (huge || level.shift == 12) {
      uint64_t size = 1ull << level.shift;
      t.page_size = size;
      // A huge entry's address field has flag bits (PAT) below the page size.
      t.phys = PhysAddr{(next & ~(size - 1)) | (v.value() & (size - 1))};
      return t;
    }
    table = next;
  }
  return t;
}

}  // namespace kdive
