// Flattened: makedumpfile's stream format (`makedumpfile -F`, for writing a
// dump to a pipe) and QEMU's `dump-guest-memory -z`/`kdump-*` output, read in
// place as the kdump-compressed file it encodes — no rewrite to disk
// (`makedumpfile -R`).
//
// The stream is a 4096-byte header {char signature[16] = "makedumpfile";
// i64 type = 1; i64 version = 1} followed by records {i64 offset; i64 size;
// u8 data[size]}, all integers big-endian, ended by a record with offset and
// size both -1. The logical file is what writing each record's data at its
// offset, in stream order, produces.
//
// Rules of this source:
// - Records may come in any order (QEMU interleaves page descriptors and page
//   data) and may overlap: a later record wins, as it does when makedumpfile -R
//   replays the stream with lseek+write.
// - The logical size is the largest record end; bytes no record wrote read as
//   zero (alignment padding between the header blocks, in practice).
// - A stream cut short (no end marker, or a record whose data runs past the
// end)
//   keeps every byte that is present: the kdump reader then sees a file that
//   ends early, exactly like a truncated kdump file.
// - A stream whose logical file would be mostly unwritten is rejected as
// damaged
//   (real streams leave only padding unwritten); this keeps a few hostile bytes
//   from declaring a terabyte-sized file that readers then try to index.
//
//   auto logical = open_flattened(FileSource::open("vmcore.flat"));
//   auto dump = open_kdump(vector_of(std::move(logical)), {.flattened = true});
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "readers/byte_source.hpp"

namespace kdive {

// True for the first bytes of a flattened stream (signature and type 1).
bool probe_flattened(std::span<const std::byte> head);

// Indexes the records of `stream` (once, here) and returns the logical file.
// name() is the stream's name. Throws FormatError("<name>: <cause>").
std::unique_ptr<ByteSource> open_flattened(std::unique_ptr<ByteSource> stream);

// Facts about an opened flattened source, for messages and tests.
struct FlattenedStats {
  uint64_t records = 0;        // data records in the stream
  uint64_t pieces = 0;         // non-overlapping pieces after later-wins resolution
  uint64_t written_bytes = 0;  // logical bytes some record wrote
  bool complete = false;       // the end marker was found
};
// Stats of a source returned by open_flattened(); nullptr for any other source.
const FlattenedStats* flattened_stats(const ByteSource& source);

}  // namespace kdive
