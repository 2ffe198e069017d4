// KdumpCompressed: makedumpfile's compressed dump format ("KDUMP   ", and the
// older diskdump "DISKDUMP"), also written by QEMU's dump-guest-memory -z, read
// as physical memory. Handles header versions 1-6, pages compressed with zlib,
// lzo, snappy or zstd (or stored raw), the shared zero page, filtered pages,
// incomplete and truncated dumps, split dumps (several files, each holding one
// PFN range) and the flattened stream format (parts are unflattened on open).
//
// Rules of this source (PFN = physical address / block_size):
// - PFN set in the 2nd bitmap: the page is in the file. Its descriptor is the
//   n-th of the page_desc array, n = set bits of the 2nd bitmap before it
//   (counted from the part's start PFN in a split dump). Data decompresses to
//   one page: Present; a descriptor pointing at the shared zero page: Zero.
// - PFN set in the 1st bitmap only: filtered out when the dump was taken
//   (makedumpfile -d): Excluded. Never zeros — the bytes were not recorded —
//   with one exception: at dump level 1 the only pages left out are zero
//   pages (and hwpoison/offline ones, which hold nothing to read), so there a
//   left-out page reads as Zero. Without that, a task_struct whose last page
//   happened to be all zeros would read as lost in every `-d 1` dump.
// - PFN clear in both bitmaps (a hole in RAM) or >= max_mapnr: Missing.
// - Data that was never written — descriptor offset 0 (makedumpfile's
//   incomplete dump after ENOSPC), or descriptor/data past the end of a
//   truncated file: Missing, with a warning at open.
// - Data that is there but does not decompress to exactly one page, or a
//   descriptor with impossible flags/sizes: read_phys throws FormatError naming
//   the file and the PFN. That is corruption, not absence.
//
// The shared zero page: makedumpfile and QEMU write one raw zero page first in
// the data area (right after the page_desc array) and point every zero page's
// descriptor at it. QEMU's dumps say dump_level 1 ("exclude zero pages") yet
// keep zero pages this way, with both bitmaps identical.
//
//   std::vector<std::unique_ptr<ByteSource>> parts;
//   parts.push_back(FileSource::open("vmcore"));
//   auto dump = open_kdump(std::move(parts));       // throws FormatError
//   dump->format();                                  // "kdump-zstd"
//
// Not thread-safe (the page cache and descriptor buffer are per reader).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "readers/byte_source.hpp"
#include "readers/dump_source.hpp"
#include "readers/page_cache.hpp"

namespace kdive {

// True for the first bytes of a kdump-compressed or diskdump file (not of a
// flattened stream: see probe_flattened).
bool probe_kdump(std::span<const std::byte> head);

struct KdumpOptions {
  size_t cache_pages = 4096;  // decompressed pages kept (16 MiB at 4 KiB)
  // Say "(flattened)" in format(). Parts that are flattened streams are
  // detected and unflattened whatever this says.
  bool flattened = false;
};

// parts: one file, or every part of a split dump in any order.
// Throws FormatError("<file>: <cause>").
std::unique_ptr<DumpSource> open_kdump(std::vector<std::unique_ptr<ByteSource>> parts, KdumpOptions options = {});

// The decompressed-page cache of a source open_kdump() returned (hit and miss
// counters for benchmarks, capacity changes); nullptr for any other source.
PageCache* kdump_page_cache(DumpSource& source);

}  // namespace kdive
