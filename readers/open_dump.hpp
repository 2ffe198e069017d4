// open_dump: opens a dump of any supported format, found by probing the content
// (never the file name) against one ordered table of readers in open_dump.cpp.
//
//   auto dump = open_dump({"vmcore"});                 // throws FormatError
//   auto split = open_dump({"dump.1", "dump.2"});      // a split kdump dump
//   dump->format();                                    // "kdump-zlib (flattened)"
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "readers/dump_source.hpp"

namespace kdive {

struct OpenDumpOptions {
  size_t cache_pages = 4096;  // decompressed-page cache of compressed formats (16 MiB)
};

std::unique_ptr<DumpSource> open_dump(const std::vector<std::string>& paths, OpenDumpOptions options = {});

}  // namespace kdive
