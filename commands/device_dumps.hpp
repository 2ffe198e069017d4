// dev -V and dev -v: the device dumps a capture kernel added to the vmcore
// (readers/dump_notes.hpp DeviceDump) — crash's table of them, and one of
// them as a hex and ASCII dump or written to a file.
//
//   Json rows = list_device_dumps(session.kernel().dump(), out);      // dev -V
//   Json one = show_device_dump(session.kernel().dump(), 0, "", out);  // dev -v 0
//   show_device_dump(dump, 0, "nic.bin", out);                        // dev -v 0 nic.bin
#pragma once

#include <cstddef>
#include <string>

#include "commands/api/output.hpp"
#include "readers/dump_source.hpp"

namespace kdive {

// Prints the table (INDEX OFFSET SIZE NAME); throws CommandError when the
// dump has none, as crash refuses.
Json list_device_dumps(const DumpSource& dump, Output& out);

// Prints "DEVICE: name" and the data in 64-bit words with their file offsets
// and ASCII, or, given a file, writes the data there (under a temporary name
// in the same directory, renamed when complete; an existing file is never
// replaced) and says so.
Json show_device_dump(const DumpSource& dump, size_t index, const std::string& file, Output& out);

}  // namespace kdive
