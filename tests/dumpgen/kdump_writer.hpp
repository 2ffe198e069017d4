// Writes kdump-compressed files from a description, laid out as makedumpfile
// and QEMU do: header block, sub-header with the ELF notes right after it,
// both bitmaps, the page_desc array, then the shared zero page followed by page
// data in PFN order. A split description yields one file per PFN range, each
// with the full bitmaps and its own descriptors and data.
//
//   auto files = write_kdump(parse_description("format kdump\npage 0x1000 fill
//   1\n")); files[0].bytes;                   // the dump
//   files[0].layout.desc_at.at(1);    // file offset of PFN 1's descriptor
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "tests/dumpgen/description.hpp"

namespace kdive::dumpgen {

// Where things went, so tests can damage precisely what they mean to.
struct KdumpLayout {
  uint64_t sub_header = 0;
  uint64_t notes = 0;  // 0: none
  uint64_t notes_size = 0;
  uint64_t vmcoreinfo = 0;  // offset_vmcoreinfo as written (0: none)
  uint64_t bitmap1 = 0;
  uint64_t bitmap2 = 0;
  uint64_t descs = 0;
  uint64_t data = 0;  // the shared zero page is here
  uint64_t start_pfn = 0;
  uint64_t end_pfn = 0;
  std::map<uint64_t, uint64_t> desc_at;  // PFN -> offset of its page_desc
  std::map<uint64_t, uint64_t> data_at;  // PFN -> offset of its data (data pages)
  std::map<uint64_t, uint32_t> flags;    // PFN -> descriptor flags (codec actually used)
};

struct GeneratedFile {
  std::vector<std::byte> bytes;
  KdumpLayout layout;  // offsets in the (logical, unflattened) file
};

// Throws std::invalid_argument when the description cannot be written.
std::vector<GeneratedFile> write_kdump(const DumpDescription& d);

// Offset and width of a settable header field ("header.max_mapnr",
// "sub.size_note").
struct FieldPos {
  uint64_t offset;
  uint32_t size;
};
std::optional<FieldPos> kdump_field(const std::string& name, uint32_t block_size);

}  // namespace kdive::dumpgen
