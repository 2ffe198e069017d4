// Writes ELF note streams the way kernels and QEMU lay them out: NT_PRSTATUS
// ("CORE", x86_64 struct elf_prstatus), QEMU's CPU state ("QEMU", QEMUCPUState
// version 1 with kernel_gs_base) and VMCOREINFO ("VMCOREINFO", the text).
// Both the ELF and the kdump writer use it (kdump keeps the same notes in its
// sub-header).
//
//   NoteStream notes = write_notes(desc, /*with_vmcoreinfo=*/true);
//   notes.bytes;              // the stream
//   notes.vmcoreinfo_text;    // offset of VMCOREINFO's text inside it, if any
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tests/dumpgen/description.hpp"

namespace kdive::dumpgen {

struct NoteStream {
  std::vector<std::byte> bytes;
  std::optional<uint64_t> vmcoreinfo_text;  // offset of the VMCOREINFO descriptor
  uint64_t vmcoreinfo_size = 0;
};

// The description's notes in order, then (if wanted and non-empty) VMCOREINFO.
NoteStream write_notes(const DumpDescription& d, bool with_vmcoreinfo);

// One note: header, NUL-terminated name and descriptor, each padded to 4 bytes.
void append_note(std::vector<std::byte>& out, std::string_view name, uint32_t type, std::span<const std::byte> desc);

}  // namespace kdive::dumpgen
