// DwarfIndexImage: the DWARF name index as one flat block of bytes — per kind a
// hash table over fixed-size entries, and the names in one string area — so the
// cache file is used where it lies (mmap), with nothing to rebuild at start-up.
// A freshly scanned index is built into the same form, so one lookup path
// serves both. Every offset read from the bytes is checked: a damaged cache
// file gives "not found" or is refused, never a wild read.
//
//   std::vector<uint64_t> bytes = DwarfIndexImage::build(name_set);
//   auto image = DwarfIndexImage::view(as_bytes(bytes));    // nullopt if malformed
//   const DwarfIndexEntry* e = image->find(NameKind::Struct, "task_struct");
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"

namespace kdive {

class DwarfNameSet;

struct DwarfIndexEntry {
  uint64_t die;                               // DIE offset in .debug_info (an enumerator's: its enum)
  int64_t value = 0;                          // enumerators: the constant
  uint32_t name_offset = 0, name_length = 0;  // in the string area
};

class DwarfIndexImage {
 public:
  // The bytes of the index for `names` (uint64_t words keep the entries aligned).
  static std::vector<uint64_t> build(const DwarfNameSet& names);
  // A view over bytes laid out by build(); nullopt when they are not (wrong magic
  // or version, sizes that do not add up). The bytes must outlive the view.
  static std::optional<DwarfIndexImage> view(std::span<const uint8_t> bytes);

  const DwarfIndexEntry* find(NameKind kind, std::string_view name) const;
  std::span<const DwarfIndexEntry> entries(NameKind kind) const;
  std::string_view name(const DwarfIndexEntry& e) const;

 private:
  struct Table {
    std::span<const DwarfIndexEntry> entries;
    std::span<const uint32_t> buckets;  // 0: empty, else entry index + 1
  };
  std::array<Table, kNameKinds> tables_;
  std::string_view strings_;
};

}  // namespace kdive
