#include "kernel-model/debug_object.hpp"

#include <elf.h>
#include <elfutils/libdw.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>

#include "kernel-model/errors.hpp"

namespace kdive {

size_t relocate_debug_sections(ElfFile& file) {
  const std::string& name = file.name();
  const GElf_Ehdr& eh = file.header();
  if (gelf_getclass(file.elf()) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
    throw Error(Error::Kind::BadData, fmt::format("{}: not an x86_64 ELF object", name));
  }
  if (eh.e_type != ET_REL) return 0;  // linked files carry their references resolved
  const std::vector<ElfSection>& sections = file.sections();
  const size_t count = sections.size();
  std::span<char> bytes = file.writable_bytes();
  if (bytes.empty()) throw Error(Error::Kind::Unsupported, fmt::format("{}: relocating needs a copy in memory", name));
  // Writes go to the file bytes directly: the sections of a relocatable object
  // are at sh_offset, unconverted (little-endian ELF64 on a little-endian host).
  size_t applied = 0;
  for (size_t i = 0; i < count; ++i) {
    const GElf_Shdr& rela = sections[i].header;
    if (rela.sh_type != SHT_RELA || rela.sh_info >= count || rela.sh_link >= count) continue;
    const GElf_Shdr& target = sections[rela.sh_info].header;
    if (sections[rela.sh_info].name.rfind(".debug_", 0) != 0 || target.sh_type == SHT_NOBITS) continue;
    if (target.sh_flags & SHF_COMPRESSED) {
      throw Error(Error::Kind::Unsupported, fmt::format("{}: compressed debug sections in a relocatable object", name));
    }
    ::Elf_Data* relocs = elf_getdata(elf_getscn(file.elf(), i), nullptr);
    ::Elf_Data* symbols = elf_getdata(elf_getscn(file.elf(), rela.sh_link), nullptr);
    if (relocs == nullptr || symbols == nullptr) continue;
    size_t n = rela.sh_entsize != 0 ? rela.sh_size / rela.sh_entsize : 0;
    for (size_t j = 0; j < n; ++j) {
      GElf_Rela r;
      GElf_Sym sym;
      if (gelf_getrela(relocs, static_cast<int>(j), &r) == nullptr ||
          gelf_getsym(symbols, static_cast<int>(GELF_R_SYM(r.r_info)), &sym) == nullptr) {
        throw Error(Error::Kind::BadData, fmt::format("{}: bad relocation {} of section {}", name, j, i));
      }
      // In a relocatable object a symbol's value is its offset in its section;
      // debug references want exactly that (a .debug_str offset, say).
      uint64_t value = sym.st_value + static_cast<uint64_t>(r.r_addend);
      unsigned size;
      switch (GELF_R_TYPE(r.r_info)) {
        case R_X86_64_64:
          size = 8;
          break;
        case R_X86_64_32:
        case R_X86_64_32S:
          size = 4;
          break;
        case R_X86_64_NONE:
          continue;
        default:
          throw Error(Error::Kind::Unsupported,
                      fmt::format("{}: relocation type {} in a debug section", name, GELF_R_TYPE(r.r_info)));
      }
      if (r.r_offset > target.sh_size || size > target.sh_size - r.r_offset ||
          target.sh_offset + target.sh_size > bytes.size()) {
        throw Error(Error::Kind::BadData, fmt::format("{}: relocation {} of section {} is out of bounds", name, j, i));
      }
      std::memcpy(bytes.data() + target.sh_offset + r.r_offset, &value, size);
      ++applied;
    }
  }
  return applied;
}

DebugObject::DebugObject(std::vector<char> bytes, std::string name) : name_(std::move(name)) {
  file_ = ElfFile::from_bytes(std::move(bytes), name_);
  relocate_debug_sections(*file_);
  dwarf_ = open_dwarf(file_);
  if (dwarf_ == nullptr) throw Error(Error::Kind::BadData, fmt::format("{}: no usable DWARF debug info", name_));
  // Through libelf rather than the raw bytes: libdw has inflated any
  // compressed section by now.
  for (const ElfSection& s : file_->sections()) {
    std::span<const uint8_t>* slot = sections_.slot(s.name);
    if (slot == nullptr || s.header.sh_type == SHT_NOBITS) continue;
    ::Elf_Data* data = elf_getdata(elf_getscn(file_->elf(), s.index), nullptr);
    if (data != nullptr && data->d_buf != nullptr) *slot = {static_cast<const uint8_t*>(data->d_buf), data->d_size};
  }
}

}  // namespace kdive
