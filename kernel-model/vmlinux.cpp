#include "kernel-model/vmlinux.hpp"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
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

Vmlinux::Vmlinux(std::filesystem::path path, int fd, ::Elf* elf) : path_(std::move(path)), fd_(fd), elf_(elf) {}

Vmlinux::~Vmlinux() {
  elf_end(elf_);
  ::close(fd_);
}

std::unique_ptr<Vmlinux> Vmlinux::open(const std::filesystem::path& path) {
  elf_version(EV_CURRENT);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(Error::Kind::Os, fmt::format("{}: {}", path.string(), std::strerror(errno)));
  ::Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    if (elf != nullptr) elf_end(elf);
    ::close(fd);
    throw Error(Error::Kind::BadData, fmt::format("{}: not an ELF file (a vmlinux is expected)", path.string()));
  }
  std::unique_ptr<Vmlinux> vm(new Vmlinux(path, fd, elf));
  GElf_Ehdr eh;
  if (gelf_getehdr(elf, &eh) == nullptr || gelf_getclass(elf) != ELFCLASS64 || eh.e_type != ET_EXEC ||
      eh.e_machine != EM_X86_64) {
    throw Error(Error::Kind::BadData, fmt::format("{}: not an x86_64 kernel image (ELF type {}, machine {})",
                                                  path.string(), eh.e_type, eh.e_machine));
  }
  vm->load_symbols();
  vm->load_build_id();
  if (auto addr = vm->symbols_.address("linux_banner")) {
    if (auto bytes = vm->read_static(addr->value(), kMaxBanner)) {
      const char* p = reinterpret_cast<const char*>(bytes->data());
      vm->banner_.assign(p, strnlen(p, bytes->size()));
    }
  }
  return vm;
}

void Vmlinux::load_symbols() {
  ::Elf_Scn* scn = nullptr;
  std::vector<GElf_Shdr> headers;
  size_t count = 0;
  elf_getshdrnum(elf_, &count);
  headers.resize(count);
  for (size_t i = 0; i < count; ++i) gelf_getshdr(elf_getscn(elf_, i), &headers[i]);

  while ((scn = elf_nextscn(elf_, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_SYMTAB) continue;
    ::Elf_Data* data = elf_getdata(scn, nullptr);
    ::Elf_Data* strings = elf_getdata(elf_getscn(elf_, shdr.sh_link), nullptr);
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
      const GElf_Shdr* section = sym.st_shndx < headers.size() ? &headers[sym.st_shndx] : nullptr;
      symbols_.add(
          {std::string_view(name, len), VirtAddr{sym.st_value}, sym.st_size, elf_symbol_type(sym, section), {}});
    }
  }
  if (symbols_.all().empty()) {
    throw Error(Error::Kind::BadData, fmt::format("{}: no symbol table (stripped?)", path_.string()));
  }
  symbols_.finish();
}

void Vmlinux::load_build_id() {
  ::Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf_, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) continue;
    ::Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    size_t offset = 0;
    GElf_Nhdr nhdr;
    size_t name_off, desc_off;
    while ((offset = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
      const char* name = static_cast<const char*>(data->d_buf) + name_off;
      if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        const auto* desc = static_cast<const unsigned char*>(data->d_buf) + desc_off;
        for (size_t i = 0; i < nhdr.n_descsz; ++i) build_id_ += fmt::format("{:02x}", desc[i]);
        return;
      }
    }
  }
}

std::string Vmlinux::release() const {
  // "Linux version RELEASE (builder) ..."
  constexpr std::string_view prefix = "Linux version ";
  if (banner_.compare(0, prefix.size(), prefix) != 0) return "";
  size_t end = banner_.find(' ', prefix.size());
  return banner_.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
}

std::optional<std::vector<std::byte>> Vmlinux::read_static(uint64_t link_address, size_t length) const {
  ::Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf_, scn)) != nullptr) {
    GElf_Shdr shdr;
    if (gelf_getshdr(scn, &shdr) == nullptr) continue;
    if (!(shdr.sh_flags & SHF_ALLOC) || shdr.sh_type != SHT_PROGBITS) continue;
    if (link_address < shdr.sh_addr || link_address - shdr.sh_addr >= shdr.sh_size) continue;
    uint64_t in_section = link_address - shdr.sh_addr;
    size_t n = static_cast<size_t>(std::min<uint64_t>(length, shdr.sh_size - in_section));
    std::vector<std::byte> out(n);
    ssize_t got = ::pread(fd_, out.data(), n, static_cast<off_t>(shdr.sh_offset + in_section));
    if (got != static_cast<ssize_t>(n)) return std::nullopt;
    return out;
  }
  return std::nullopt;
}

}  // namespace kdive
