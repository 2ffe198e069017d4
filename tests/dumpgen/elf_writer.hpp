// Writes ELF64 x86_64 core files from a description, laid out like the kernel's
// /proc/vmcore and QEMU's ELF dumps: ELF header, program headers (one PT_NOTE
// first, then the PT_LOADs), the notes, then each PT_LOAD's file part at a
// page-aligned offset.
//
// Without `load` lines every run of consecutive `page` lines becomes a PT_LOAD
// (p_filesz == p_memsz, vaddr 0 as in QEMU's dumps). With them, each load's
// bytes come from the pages it covers: named pages as described, others with
// the pattern.
//
//   auto core = write_elf(parse_description("format elf\nload 0x1000 0x2000
//   memsz 0x3000\n"));
#pragma once

#include <cstddef>
#include <vector>

#include "tests/dumpgen/description.hpp"

namespace kdive::dumpgen {

// Throws std::invalid_argument when the description cannot be written as ELF.
std::vector<std::byte> write_elf(const DumpDescription& d);

}  // namespace kdive::dumpgen
