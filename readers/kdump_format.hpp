// The on-disk layout of the kdump-compressed format (makedumpfile's
// diskdump_mod.h, QEMU's dump.h; LP64), shared by the reader
// (kdump_compressed.cpp) and the writer kdive-dump uses
// (capture/writers/kdump_writer.cpp), so the two cannot drift apart.
//
// File layout: block 0 the disk_dump_header; blocks 1.. (sub_hdr_size of
// them) the kdump_sub_header, then ELF notes and VMCOREINFO; bitmap_blocks
// blocks of two bitmaps (1st: RAM, 2nd: dumped); one PageDesc per dumped page;
// page data. A block is the page size (block_size).
//
//   DiskDumpHeader h = ByteReader(raw, "kdump header").get<DiskDumpHeader>(0);
//   if (std::memcmp(h.signature, kKdumpSignature, 8) == 0) ...
//   if (h.status & kKdumpStatusIncomplete) ...
#pragma once

#include <cstddef>
#include <cstdint>

namespace kdive {

inline constexpr char kKdumpSignature[8] = {'K', 'D', 'U', 'M', 'P', ' ', ' ', ' '};
// The older diskdump format's signature: the same header, no sub-header fields.
inline constexpr char kDiskdumpSignature[8] = {'D', 'I', 'S', 'K', 'D', 'U', 'M', 'P'};

// The header's status word: DUMP_DH_COMPRESSED_* (page_codec.hpp's
// kdump_codec_flag) or'ed with these.
inline constexpr uint32_t kKdumpStatusIncomplete = 0x8;  // ENOSPC or a stop cut the dump short

// struct disk_dump_header up to nr_cpus; tasks[nr_cpus] follows and is unused.
struct DiskDumpHeader {
  char signature[8];
  int32_t header_version;
  // sysname, nodename, release, version, machine, domainname
  char utsname[6][65];
  char pad[6];  // struct timeval is 8-byte aligned
  int64_t tv_sec;
  int64_t tv_usec;
  uint32_t status;
  int32_t block_size;
  int32_t sub_hdr_size;  // in blocks
  uint32_t bitmap_blocks;
  // Truncated to 32 bits; header_version 6 adds max_mapnr_64.
  uint32_t max_mapnr;
  uint32_t total_ram_blocks;
  uint32_t device_blocks;
  uint32_t written_blocks;
  uint32_t current_cpu;
  int32_t nr_cpus;
};
static_assert(sizeof(DiskDumpHeader) == 464);
static_assert(offsetof(DiskDumpHeader, tv_sec) == 408);
static_assert(offsetof(DiskDumpHeader, status) == 424);
static_assert(offsetof(DiskDumpHeader, nr_cpus) == 460);

// struct kdump_sub_header, at block 1; which fields are meaningful depends on
// header_version.
struct KdumpSubHeader {
  uint64_t phys_base;
  int32_t dump_level;  // v1+
  int32_t split;       // v2+
  uint64_t start_pfn;  // v2+ (unsigned long: 64 bits on LP64)
  uint64_t end_pfn;
  uint64_t offset_vmcoreinfo;  // v3+: the note's text, not its header
  uint64_t size_vmcoreinfo;
  uint64_t offset_note;  // v4+
  uint64_t size_note;
  uint64_t offset_eraseinfo;  // v5+
  uint64_t size_eraseinfo;
  uint64_t start_pfn_64;  // v6+
  uint64_t end_pfn_64;
  uint64_t max_mapnr_64;
};
static_assert(sizeof(KdumpSubHeader) == 104);

// struct page_desc: one per page set in the 2nd bitmap, in PFN order.
struct PageDesc {
  int64_t offset;  // of the (compressed) data in the file; 0: never written
  uint32_t size;
  uint32_t flags;  // compression: DUMP_DH_COMPRESSED_* or 0 for raw
  uint64_t page_flags;
};
static_assert(sizeof(PageDesc) == 24);

}  // namespace kdive
