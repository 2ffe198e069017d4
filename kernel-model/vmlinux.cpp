#include "kernel-model/vmlinux.hpp"

#include <elf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>

#include "kernel-model/errors.hpp"

namespace kdive {

char elf_symbol_type(const GElf_Sym& sym, const GElf_Shdr* section) {
  char c = '?';
  if (sym.st_shndx == SHN_ABS) {
    c = 'a';
  } else if (section != nullptr) {
    if (section->sh_flags & SHF_EXECINSTR) {
      c = 't';
    } else if (section->sh_type == SHT_NOBITS) {
      c = 'b';
    } else if (section->sh_flags & SHF_WRITE) {
      c = 'd';
    } else {
      c = 'r';
    }
  }
  // Weak definitions: 'V' for objects, 'W' otherwise, as nm and kallsyms show them.
  if (GELF_ST_BIND(sym.st_info) == STB_WEAK && c != '?') return GELF_ST_TYPE(sym.st_info) == STT_OBJECT ? 'V' : 'W';
  if (GELF_ST_BIND(sym.st_info) != STB_LOCAL && c != '?') c = static_cast<char>(c - 'a' + 'A');
  return c;
}

namespace {

constexpr size_t kMaxBanner = 512;

}  // namespace

Vmlinux::Vmlinux(std::filesystem::path path, std::shared_ptr<ElfFile> file)
    : path_(std::move(path)), file_(std::move(file)) {}

std::unique_ptr<Vmlinux> Vmlinux::open(const std::filesystem::path& path) {
  std::shared_ptr<ElfFile> file = ElfFile::open(path, "a vmlinux");
  const GElf_Ehdr& eh = file->header();
  if (gelf_getclass(file->elf()) != ELFCLASS64 || eh.e_type != ET_EXEC || eh.e_machine != EM_X86_64) {
    throw Error(Error::Kind::BadData, fmt::format("{}: not an x86_64 kernel image (ELF type {}, machine {})",
                                                  path.string(), eh.e_type, eh.e_machine));
  }
  std::unique_ptr<Vmlinux> vm(new Vmlinux(path, std::move(file)));
  vm->load_symbols();
  if (auto addr = vm->symbols_.address("linux_banner")) {
    if (auto bytes = vm->read_static(addr->value(), kMaxBanner)) {
      const char* p = reinterpret_cast<const char*>(bytes->data());
      vm->banner_.assign(p, strnlen(p, bytes->size()));
    }
  }
  return vm;
}

void Vmlinux::load_symbols() {
  const std::vector<ElfSection>& sections = file_->sections();
  for (const ElfSection& symtab : sections) {
    if (symtab.header.sh_type != SHT_SYMTAB) continue;
    ::Elf_Data* data = elf_getdata(elf_getscn(elf(), symtab.index), nullptr);
    ::Elf_Data* strings = elf_getdata(elf_getscn(elf(), symtab.header.sh_link), nullptr);
    if (data == nullptr || strings == nullptr || data->d_type != ELF_T_SYM || strings->d_buf == nullptr) continue;
    // The mapped table itself, not a gelf_getsym copy per symbol: ~150k of them.
    const auto* syms = static_cast<const Elf64_Sym*>(data->d_buf);
    size_t n = data->d_size / sizeof(Elf64_Sym);
    const char* names = static_cast<const char*>(strings->d_buf);
    size_t names_size = strings->d_size;
    symbols_.reserve(n);  // growing by doubling costs more than the reading
    for (size_t i = 0; i < n; ++i) {
      const Elf64_Sym& sym = syms[i];
      int type = ELF64_ST_TYPE(sym.st_info);
      if (type == STT_SECTION || type == STT_FILE || sym.st_shndx == SHN_UNDEF || sym.st_name >= names_size) continue;
      const char* name = names + sym.st_name;
      size_t len = strnlen(name, names_size - sym.st_name);
      if (len == 0 || len == names_size - sym.st_name) continue;  // empty, or runs off the table
      const GElf_Shdr* section = sym.st_shndx < sections.size() ? &sections[sym.st_shndx].header : nullptr;
      symbols_.add(
          {std::string_view(name, len), VirtAddr{sym.st_value}, sym.st_size, elf_symbol_type(sym, section), {}});
    }
  }
  if (symbols_.all().empty()) {
    throw Error(Error::Kind::BadData, fmt::format("{}: no symbol table (stripped?)", path_.string()));
  }
  symbols_.finish();
}

std::string Vmlinux::release() const {
  // "Linux version RELEASE (builder) ..."
  constexpr std::string_view prefix = "Linux version ";
  if (banner_.compare(0, prefix.size(), prefix) != 0) return "";
  size_t end = banner_.find(' ', prefix.size());
  return banner_.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
}

std::optional<std::vector<std::byte>> Vmlinux::read_static(uint64_t link_address, size_t length) const {
  for (const ElfSection& s : file_->sections()) {
    const GElf_Shdr& shdr = s.header;
    if (!(shdr.sh_flags & SHF_ALLOC) || shdr.sh_type != SHT_PROGBITS) continue;
    if (link_address < shdr.sh_addr || link_address - shdr.sh_addr >= shdr.sh_size) continue;
    std::span<const uint8_t> bytes = file_->contents(s);
    if (bytes.size() != shdr.sh_size) return std::nullopt;  // the section runs past the end of the file
    uint64_t in_section = link_address - shdr.sh_addr;
    size_t n = static_cast<size_t>(std::min<uint64_t>(length, shdr.sh_size - in_section));
    const auto* from = reinterpret_cast<const std::byte*>(bytes.data() + in_section);
    return std::vector<std::byte>(from, from + n);
  }
  return std::nullopt;
}

const DwarfHandle& Vmlinux::dwarf() const {
  if (!dwarf_tried_) {
    dwarf_tried_ = true;
    dwarf_ = open_dwarf(file_);
  }
  return dwarf_;
}

}  // namespace kdive
