// libFuzzer target: the DWARF name scan over arbitrary .debug_abbrev and
// .debug_info bytes (input: a 4-byte little-endian abbrev length, the abbrev
// bytes, then .debug_info; the string sections alias the input), the index
// image built from what it found, and arbitrary bytes taken for a cache file.
// Any exception other than DwarfFormatError, or any sanitizer report, is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel-model/dwarf_index_image.hpp"
#include "kernel-model/dwarf_name_scan.hpp"
#include "kernel-model/dwarf_name_set.hpp"

using namespace kdive;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  uint32_t abbrev_len;
  std::memcpy(&abbrev_len, data, 4);
  std::span<const uint8_t> rest(data + 4, size - 4);
  if (abbrev_len > rest.size()) abbrev_len = static_cast<uint32_t>(rest.size());
  DwarfSections s;
  s.abbrev = rest.subspan(0, abbrev_len);
  s.info = rest.subspan(abbrev_len);
  s.str = s.line_str = s.info;
  s.str_offsets = s.abbrev;

  DwarfNameSet names;
  DwarfUnitScanner scanner(s);
  for (uint64_t unit : dwarf_unit_offsets(s.info)) {
    try {
      scanner.scan(unit, names);
    } catch (const DwarfFormatError&) {
    }
  }
  std::vector<uint64_t> words = DwarfIndexImage::build(names);
  auto image = DwarfIndexImage::view({reinterpret_cast<const uint8_t*>(words.data()), words.size() * 8});
  if (!image) __builtin_trap();  // a freshly built image must always be valid
  names.for_each(NameKind::Struct, [&](const DwarfNameSet::Entry& e) {
    if (image->find(NameKind::Struct, e.name()) == nullptr) __builtin_trap();
  });

  // The same bytes as a (damaged) cache file; view() wants 8-byte alignment.
  std::vector<uint64_t> aligned((size + 7) / 8);
  std::memcpy(aligned.data(), data, size);
  if (auto cached = DwarfIndexImage::view({reinterpret_cast<const uint8_t*>(aligned.data()), size})) {
    for (size_t k = 0; k < kNameKinds; ++k) {
      (void)cached->find(static_cast<NameKind>(k), "task_struct");
      for (const auto& e : cached->entries(static_cast<NameKind>(k))) (void)cached->name(e);
    }
  }
  return 0;
}
