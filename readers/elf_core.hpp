// ElfCore: the layout of an ELF64 core file — the shape shared by the kernel's
// /proc/vmcore (kexec dumps), QEMU's dump-guest-memory ELF output and /proc/kcore.
// It knows program headers and notes, not what the segments mean: the ELF dump
// reader indexes them by physical address, the kcore reader by virtual address.
//
//   ElfCore core = ElfCore::parse(source);      // throws FormatError
//   for (const auto& seg : core.loads) ...      // PT_LOAD segments
//   parse_elf_notes(core.notes, notes);
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "readers/byte_source.hpp"

namespace kdive {

// p_paddr of a /proc/kcore segment that has no physical address.
constexpr uint64_t kNoPhysicalAddress = ~0ull;

struct ElfSegment {
  uint64_t offset;  // p_offset
  uint64_t vaddr;   // p_vaddr (0 in QEMU dumps taken without paging)
  uint64_t paddr;   // p_paddr (unreliable in /proc/kcore before 4.11)
  uint64_t filesz;  // bytes present in the file
  uint64_t memsz;   // bytes of memory described; the tail past filesz is not in the file
};

struct ElfCore {
  uint16_t machine = 0;
  std::vector<ElfSegment> loads;
  std::vector<std::byte> notes;  // all PT_NOTE segments, concatenated
  // Where each PT_NOTE segment's bytes start: {position in `notes`, p_offset}.
  std::vector<std::pair<uint64_t, uint64_t>> note_segments;

  // The file offset of the byte at `position` in `notes`.
  uint64_t note_file_offset(uint64_t position) const;

  static ElfCore parse(ByteSource& source);
};

// True for the first bytes of an ELF64 little-endian core file.
bool probe_elf_core(std::span<const std::byte> head);

}  // namespace kdive
