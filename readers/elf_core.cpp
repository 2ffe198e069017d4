#include "readers/elf_core.hpp"

#include <elf.h>

#include <cstring>
#include <string>

#include "readers/byte_reader.hpp"

namespace kdive {
namespace {

// Notes are small (a few KiB per CPU plus VMCOREINFO); anything bigger is damage.
constexpr uint64_t kMaxNotesBytes = 64ull << 20;
// Program headers are one per memory range; tens of thousands would be absurd.
constexpr uint16_t kMaxProgramHeaders = 65535;

[[noreturn]] void fail(const ByteSource& s, const std::string& why) { throw FormatError(s.name() + ": " + why); }

}  // namespace

bool probe_elf_core(std::span<const std::byte> head) {
  if (head.size() < sizeof(Elf64_Ehdr)) return false;
  ByteReader r(head, "ELF header");
  auto eh = r.get<Elf64_Ehdr>(0);
  return std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
         eh.e_ident[EI_DATA] == ELFDATA2LSB && eh.e_type == ET_CORE;
}

ElfCore ElfCore::parse(ByteSource& source) {
  std::vector<std::byte> head(sizeof(Elf64_Ehdr));
  if (!source.read(0, head)) fail(source, "too short for an ELF header");
  if (!probe_elf_core(head)) fail(source, "not an ELF64 little-endian core file");
  auto eh = ByteReader(head, "ELF header").get<Elf64_Ehdr>(0);

  ElfCore core;
  core.machine = eh.e_machine;
  if (eh.e_machine != EM_X86_64) {
    fail(source, "ELF machine " + std::to_string(eh.e_machine) + " is not x86_64; only x86_64 dumps are supported");
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) fail(source, "bad program header size " + std::to_string(eh.e_phentsize));
  // e_phnum == PN_XNUM means the real count is in section 0's sh_info (many CPUs/ranges).
  uint64_t phnum = eh.e_phnum;
  if (phnum == PN_XNUM) {
    std::vector<std::byte> sh(sizeof(Elf64_Shdr));
    if (eh.e_shoff == 0 || !source.read(eh.e_shoff, sh)) fail(source, "PN_XNUM without a readable section header");
    phnum = ByteReader(sh, "section header 0").get<Elf64_Shdr>(0).sh_info;
  }
  if (phnum == 0) fail(source, "no program headers");
  if (phnum > kMaxProgramHeaders * 16ull) fail(source, "implausible program header count " + std::to_string(phnum));

  // Checked before allocating: a damaged header must not cost a big allocation.
  auto table_end = checked_add(eh.e_phoff, phnum * sizeof(Elf64_Phdr));
  if (!table_end || *table_end > source.size()) fail(source, "truncated: program headers end past the end of the file");
  std::vector<std::byte> table(phnum * sizeof(Elf64_Phdr));
  if (!source.read(eh.e_phoff, table)) fail(source, "truncated: program headers end past the end of the file");
  ByteReader phdrs(table, "program headers");
  for (uint64_t i = 0; i < phnum; ++i) {
    auto ph = phdrs.get<Elf64_Phdr>(i * sizeof(Elf64_Phdr));
    if (ph.p_type == PT_LOAD) {
      if (ph.p_filesz > ph.p_memsz) {
        fail(source, "PT_LOAD " + std::to_string(i) + " has p_filesz larger than p_memsz");
      }
      // /proc/kcore gives p_paddr = -1 for segments without a physical address
      // (vmalloc, modules, vmemmap); those are kept with kNoPhysicalAddress.
      bool no_paddr = ph.p_paddr == kNoPhysicalAddress;
      if ((!no_paddr && !checked_add(ph.p_paddr, ph.p_memsz)) || !checked_add(ph.p_offset, ph.p_filesz)) {
        fail(source, "PT_LOAD " + std::to_string(i) + " wraps around the address space");
      }
      core.loads.push_back({ph.p_offset, ph.p_vaddr, ph.p_paddr, ph.p_filesz, ph.p_memsz});
    } else if (ph.p_type == PT_NOTE) {
      if (ph.p_filesz > kMaxNotesBytes || core.notes.size() + ph.p_filesz > kMaxNotesBytes) {
        fail(source, "implausible PT_NOTE size " + std::to_string(ph.p_filesz));
      }
      auto notes_end = checked_add(ph.p_offset, ph.p_filesz);
      if (!notes_end || *notes_end > source.size()) {
        fail(source, "truncated: the notes segment ends past the end of the file");
      }
      size_t at = core.notes.size();
      core.note_segments.emplace_back(at, ph.p_offset);
      core.notes.resize(at + ph.p_filesz);
      if (!source.read(ph.p_offset, std::span(core.notes).subspan(at))) {
        fail(source, "truncated: the notes segment ends past the end of the file");
      }
    }
  }
  if (core.loads.empty()) fail(source, "no PT_LOAD segments: no memory in this dump");
  return core;
}

uint64_t ElfCore::note_file_offset(uint64_t position) const {
  uint64_t offset = position;
  for (const auto& [at, file_offset] : note_segments) {
    if (at <= position) offset = file_offset + (position - at);
  }
  return offset;
}

}  // namespace kdive
