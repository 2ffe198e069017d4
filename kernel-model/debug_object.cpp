#include "kernel-model/debug_object.hpp"

#include <elf.h>
#include <elfutils/libdw.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>

#include "kernel-model/errors.hpp"

namespace kdive {

namespace {

struct ElfView {
  ::Elf* elf;
  explicit ElfView(std::vector<char>& bytes) : elf(elf_memory(bytes.data(), bytes.size())) {}
  ~ElfView() {
    if (elf != nullptr) elf_end(elf);
  }
};

std::string section_name(::Elf* elf, size_t shstrndx, const GElf_Shdr& shdr) {
  const char* n = elf_strptr(elf, shstrndx, shdr.sh_name);
  return n != nullptr ? n : "";
}

}  // namespace

size_t relocate_debug_sections(std::vector<char>& bytes, const std::string& name) {
  elf_version(EV_CURRENT);
  ElfView view(bytes);
  GElf_Ehdr eh;
  size_t shstrndx = 0, count = 0;
  if (view.elf == nullptr || gelf_getehdr(view.elf, &eh) == nullptr || gelf_getclass(view.elf) != ELFCLASS64 ||
      eh.e_machine != EM_X86_64 || elf_getshdrstrndx(view.elf, &shstrndx) != 0 ||
      elf_getshdrnum(view.elf, &count) != 0) {
    throw Error(Error::Kind::BadData, fmt::format("{}: not an x86_64 ELF object", name));
  }
  if (eh.e_type != ET_REL) return 0;  // linked files carry their references resolved
  std::vector<GElf_Shdr> headers(count);
  for (size_t i = 0; i < count; ++i) {
    if (gelf_getshdr(elf_getscn(view.elf, i), &headers[i]) == nullptr) {
      throw Error(Error::Kind::BadData, fmt::format("{}: unreadable section header {}", name, i));
    }
  }
  // Writes go to the file bytes directly: the sections of a relocatable object
  // are at sh_offset, unconverted (little-endian ELF64 on a little-endian host).
  size_t applied = 0;
  for (size_t i = 0; i < count; ++i) {
    const GElf_Shdr& rela = headers[i];
    if (rela.sh_type != SHT_RELA || rela.sh_info >= count || rela.sh_link >= count) continue;
    const GElf_Shdr& target = headers[rela.sh_info];
    if (section_name(view.elf, shstrndx, target).rfind(".debug_", 0) != 0 || target.sh_type == SHT_NOBITS) continue;
    if (target.sh_flags & SHF_COMPRESSED) {
      throw Error(Error::Kind::Unsupported, fmt::format("{}: compressed debug sections in a relocatable object", name));
    }
    ::Elf_Data* relocs = elf_getdata(elf_getscn(view.elf, i), nullptr);
    ::Elf_Data* symbols = elf_getdata(elf_getscn(view.elf, rela.sh_link), nullptr);
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

DebugObject::DebugObject(std::vector<char> bytes, std::string name) : bytes_(std::move(bytes)), name_(std::move(name)) {
  relocate_debug_sections(bytes_, name_);
  elf_ = elf_memory(bytes_.data(), bytes_.size());
  if (elf_ != nullptr) dwarf_ = dwarf_begin_elf(elf_, DWARF_C_READ, nullptr);
  if (dwarf_ == nullptr) {
    if (elf_ != nullptr) elf_end(elf_);
    throw Error(Error::Kind::BadData, fmt::format("{}: no usable DWARF debug info", name_));
  }
  size_t shstrndx = 0;
  elf_getshdrstrndx(elf_, &shstrndx);
  for (::Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf_, scn)) != nullptr;) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
    std::string n = section_name(elf_, shstrndx, shdr);
    std::span<const uint8_t>* slot = sections_.slot(n);
    if (slot == nullptr) continue;
    ::Elf_Data* data = elf_getdata(scn, nullptr);
    if (data != nullptr && data->d_buf != nullptr) *slot = {static_cast<const uint8_t*>(data->d_buf), data->d_size};
  }
}

DebugObject::~DebugObject() {
  dwarf_end(dwarf_);
  elf_end(elf_);
}

}  // namespace kdive
