// ElfDump: an ELF64 vmcore read as physical memory — the kernel's /proc/vmcore
// (kexec: PT_LOADs carry physical and virtual addresses), QEMU's
// dump-guest-memory ELF output (physical addresses only, vaddr 0), and the live
// /proc/kcore (4.11+, whose RAM and text segments carry physical addresses;
// segments without one, p_paddr = -1, are vmalloc/module space and are skipped:
// the page tables reach them).
//
// Rules of this source:
// - An address inside a PT_LOAD's file part reads from the file: Present.
// - An address in [p_filesz, p_memsz) of a segment reads as Excluded: makedumpfile's
//   ELF output drops filtered pages that way, so the bytes were never recorded.
//   (crash shows them as zeros; kdive says they are not in the dump.)
// - A file part that runs past the end of a truncated file reads as Missing, and
//   opening such a file adds a warning.
// - Any other address is Missing.
// - Damaged notes (a size running past the segment) keep what was parsed before
//   the damage and add a warning; the memory stays readable. A CORE or QEMU
//   note too short for its layout is skipped like an unknown note.
//
//   auto dump = open_elf_dump(FileSource::open("vmcore"));
#pragma once

#include <memory>

#include "readers/byte_source.hpp"
#include "readers/dump_source.hpp"

namespace kdive {

std::unique_ptr<DumpSource> open_elf_dump(std::unique_ptr<ByteSource> file);

}  // namespace kdive
