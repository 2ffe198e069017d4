// dumpgen: synthetic crash dumps from text descriptions, for tests (in memory)
// and by hand (the kdive-mkdump CLI). Makes kdump-compressed files (any header
// version, any codec per page, zero/excluded/lost pages, holes, split,
// flattened) and ELF64 cores (notes, PT_LOADs with memsz > filesz), then
// damages them on request. Syntax: tests/dumpgen/README.md.
//
//   auto bytes = dumpgen::make_dump(R"(
//     format kdump
//     version 6
//     compression zlib
//     vmcoreinfo OSRELEASE=6.1.0
//     page 0x1000 fill 0xab
//     page 0x3000 zero
//     page 0x4000 excluded
//   )");
//   auto parts = dumpgen::make_dumps("split 2\npage 0-0x10000 pattern\n");  //
//   split: one per part
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "readers/byte_source.hpp"
#include "tests/dumpgen/description.hpp"
#include "tests/dumpgen/kdump_writer.hpp"

namespace kdive::dumpgen {

struct GeneratedDump {
  DumpDescription description;
  std::vector<GeneratedFile> files;  // one, or one per split part; bytes as output
};

// Parses, writes, flattens and damages as the description says.
// Throws std::invalid_argument for a bad description.
GeneratedDump generate(std::string_view description);
GeneratedDump generate(const DumpDescription& description);

// The single output file (throws std::invalid_argument for a split dump).
std::vector<std::byte> make_dump(std::string_view description);
// Every output file.
std::vector<std::vector<std::byte>> make_dumps(std::string_view description);

// Output files as in-memory sources named "<name>" or "<name>.N" (1-based) for
// split parts, ready for the readers.
std::vector<std::unique_ptr<ByteSource>> make_sources(std::string_view description,
                                                      const std::string& name = "test.dump");

}  // namespace kdive::dumpgen
