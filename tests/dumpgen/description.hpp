// DumpDescription: the parsed form of a dumpgen text description — what dump to
// make (kdump-compressed or ELF core), its header fields, notes, pages and the
// damage to do to it. The syntax is documented in tests/dumpgen/README.md.
//
//   auto d = dumpgen::parse_description(R"(
//     format kdump
//     compression zstd
//     vmcoreinfo OSRELEASE=6.1.0
//     page 0x1000 fill 0xab
//     page 0x2000 zero
//   )");                               // throws std::invalid_argument("line 4:
//   ...")
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/dump_notes.hpp"
#include "readers/page_codec.hpp"

namespace kdive::dumpgen {

enum class Format { Kdump, Elf };

enum class PageKind {
  Data,      // bytes in the dump (content below)
  Zero,      // kdump: descriptor points at the shared zero page; ELF: zeros
  Excluded,  // kdump: 1st bitmap set, 2nd clear (filtered by dump level)
  Lost,      // kdump: in both bitmaps, descriptor all zero (incomplete dump)
};

enum class Content {
  Pattern,  // each aligned u64 holds its own physical address (little-endian)
  Fill,     // every byte = fill
  Random,   // xorshift bytes from (seed, pfn): incompressible, so stored raw
};

struct PageSpec {
  PageKind kind = PageKind::Data;
  Content content = Content::Pattern;
  uint8_t fill = 0;
  uint64_t seed = 0;
  std::optional<PageCodec> codec;  // overrides the dump's compression
};

struct Poke {
  uint64_t paddr;
  std::vector<std::byte> bytes;
};

// One ELF note, in description order.
struct NoteSpec {
  enum class Kind { Prstatus, Qemu, Raw } kind = Kind::Raw;
  int cpu = 0;
  PrStatus prstatus;                     // Prstatus
  QemuCpuState qemu;                     // Qemu (fields the reader knows)
  std::array<uint64_t, 16> qemu_gprs{};  // Qemu: rax rbx rcx rdx rsi rdi rsp rbp r8..r15
  std::string name;                      // Raw
  uint32_t type = 0;                     // Raw
  std::vector<std::byte> desc;           // Raw
};

struct LoadSpec {
  uint64_t paddr = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
};

struct FlattenSpec {
  bool enabled = false;
  uint64_t chunk = 4096;        // bytes per record
  bool reverse = false;         // records in reverse order
  bool sparse = false;          // skip all-zero chunks (never the last one)
  bool noend = false;           // no end marker
  bool rewrite_header = false;  // write garbage over block 0 first, the real header later
};

struct Damage {
  enum class Kind { Corrupt, Truncate } kind;
  std::optional<size_t> part;  // nullopt: every output file
  uint64_t offset = 0;         // Corrupt: where; Truncate: the new size
  std::vector<std::byte> bytes;
};

struct DescOverride {
  uint64_t pfn;
  std::string field;  // offset, size, flags, page_flags
  uint64_t value;
};

enum class VmcoreinfoPlace { Default, Note, Text };

struct DumpDescription {
  Format format = Format::Kdump;

  // kdump-compressed
  std::string signature = "KDUMP   ";
  int version = 6;
  uint32_t block_size = 4096;
  PageCodec compression = PageCodec::Zlib;
  bool incomplete = false;
  std::optional<uint64_t> max_mapnr;
  uint64_t phys_base = 0;
  // makedumpfile's usual level: its excluded pages may be of any class (at
  // level 1 readers take a left-out page for a zero page).
  int dump_level = 31;
  int64_t timestamp = 0;
  std::array<std::string, 6> utsname = {"Linux", "kdive-test", "6.1.0-kdive", "#1 SMP", "x86_64", "(none)"};
  int nr_cpus = 1;
  std::vector<uint64_t> split_bounds;  // PFN boundaries between parts (interior only)
  int split_parts = 0;                 // "split N": N equal parts
  VmcoreinfoPlace vmcoreinfo_place = VmcoreinfoPlace::Default;
  FlattenSpec flattened;
  std::map<std::string, uint64_t> header_sets;  // "header.bitmap_blocks", "sub.size_note" ...
  std::vector<DescOverride> desc_overrides;

  // Shared
  std::string vmcoreinfo;  // "KEY=value\n" lines
  std::vector<NoteSpec> notes;
  std::map<uint64_t, PageSpec> pages;  // by PFN
  std::vector<Poke> pokes;
  std::vector<LoadSpec> loads;  // ELF; empty: one PT_LOAD per run of pages
  std::vector<Damage> damage;
};

// Throws std::invalid_argument("line N: <what is wrong>").
DumpDescription parse_description(std::string_view text);

}  // namespace kdive::dumpgen
