#include "kernel-model/elf_file.hpp"

#include <elf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kernel-model/errors.hpp"

namespace kdive {

namespace {

// The x86 boot protocol's setup header carries "HdrS" at offset 0x202.
bool is_bzimage(int fd) {
  char magic[4];
  return ::pread(fd, magic, sizeof magic, 0x202) == static_cast<ssize_t>(sizeof magic) &&
         std::memcmp(magic, "HdrS", sizeof magic) == 0;
}

uint32_t u32_at(std::span<const uint8_t> bytes, size_t offset) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + offset, 4);
  return v;
}

size_t padded(size_t n, size_t align) { return (n + align - 1) / align * align; }

}  // namespace

std::string gnu_build_id(std::span<const uint8_t> notes, size_t align) {
  if (align != 8) align = 4;
  // Each note: namesz, descsz, type (4 bytes each), then the name, then the
  // descriptor where the note's first `align` boundary after the name falls,
  // then the next note at the boundary after that.
  size_t at = 0;
  while (notes.size() - at >= 12) {
    uint64_t namesz = u32_at(notes, at), descsz = u32_at(notes, at + 4);
    uint32_t type = u32_at(notes, at + 8);
    uint64_t name_at = at + 12;
    uint64_t desc_at = at + padded(12 + namesz, align);
    uint64_t next = at + padded(desc_at - at + descsz, align);
    if (desc_at > notes.size() || descsz > notes.size() - desc_at) return "";  // truncated
    if (type == NT_GNU_BUILD_ID && namesz == 4 && std::memcmp(notes.data() + name_at, "GNU", 4) == 0) {
      std::string id;
      for (uint64_t i = 0; i < descsz; ++i) id += fmt::format("{:02x}", notes[desc_at + i]);
      return id;
    }
    if (next > notes.size()) return "";
    at = next;
  }
  return "";
}

ElfFile::ElfFile(std::string name, int fd, std::vector<char> owned)
    : name_(std::move(name)), fd_(fd), owned_(std::move(owned)) {}

ElfFile::~ElfFile() {
  if (elf_ != nullptr) elf_end(elf_);
  if (fd_ >= 0) ::close(fd_);
}

std::shared_ptr<ElfFile> ElfFile::open(const std::filesystem::path& path, std::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(Error::Kind::Os, fmt::format("{}: {}", path.string(), std::strerror(errno)));
  std::shared_ptr<ElfFile> f(new ElfFile(path.string(), fd, {}));
  elf_version(EV_CURRENT);
  // libelf maps the whole file once (read-only, private); every reader of it
  // works on that one mapping.
  ::Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    if (elf != nullptr) elf_end(elf);
    // A vmlinuz given for the vmlinux is the common mistake: name it.
    const char* kind = is_bzimage(fd) ? "a bzImage (compressed boot image), not an ELF file" : "not an ELF file";
    throw Error(Error::Kind::BadData, what.empty() ? fmt::format("{}: {}", path.string(), kind)
                                                   : fmt::format("{}: {} ({} is expected)", path.string(), kind, what));
  }
  f->load(elf);
  return f;
}

std::shared_ptr<ElfFile> ElfFile::from_bytes(std::vector<char> bytes, std::string name) {
  std::shared_ptr<ElfFile> f(new ElfFile(std::move(name), -1, std::move(bytes)));
  elf_version(EV_CURRENT);
  ::Elf* elf = elf_memory(f->owned_.data(), f->owned_.size());
  if (elf == nullptr || elf_kind(elf) != ELF_K_ELF) {
    if (elf != nullptr) elf_end(elf);
    throw Error(Error::Kind::BadData, fmt::format("{}: not an ELF file", f->name_));
  }
  f->load(elf);
  return f;
}

void ElfFile::load(::Elf* elf) {
  elf_ = elf;
  size_t size = 0;
  const char* raw = elf_rawfile(elf_, &size);
  bytes_ = reinterpret_cast<const uint8_t*>(raw);
  size_ = raw != nullptr ? size : 0;
  size_t count = 0, shstrndx = 0;
  if (gelf_getehdr(elf_, &header_) == nullptr || elf_getshdrnum(elf_, &count) != 0 ||
      elf_getshdrstrndx(elf_, &shstrndx) != 0) {
    throw Error(Error::Kind::BadData, fmt::format("{}: unreadable ELF headers", name_));
  }
  sections_.resize(count);
  for (size_t i = 0; i < count; ++i) {
    ElfSection& s = sections_[i];
    s.index = i;
    if (gelf_getshdr(elf_getscn(elf_, i), &s.header) == nullptr) {
      throw Error(Error::Kind::BadData, fmt::format("{}: unreadable section header {}", name_, i));
    }
    const char* n = elf_strptr(elf_, shstrndx, s.header.sh_name);
    s.name = n != nullptr ? n : "";
  }
  for (const ElfSection& s : sections_) {
    if (s.header.sh_type != SHT_NOTE || !build_id_.empty()) continue;
    build_id_ = gnu_build_id(contents(s), s.header.sh_addralign == 8 ? 8 : 4);
  }
}

const ElfSection* ElfFile::section(std::string_view name) const {
  for (const ElfSection& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::span<const uint8_t> ElfFile::contents(const ElfSection& s) const {
  const GElf_Shdr& h = s.header;
  if (h.sh_type == SHT_NOBITS || h.sh_offset > size_ || h.sh_size > size_ - h.sh_offset) return {};
  return {bytes_ + h.sh_offset, static_cast<size_t>(h.sh_size)};
}

DwarfHandle open_dwarf(const std::shared_ptr<ElfFile>& file) {
  ::Dwarf* dwarf = dwarf_begin_elf(file->elf(), DWARF_C_READ, nullptr);
  if (dwarf == nullptr) return nullptr;
  // The deleter holds the file: libdw's handle must end before libelf's.
  return DwarfHandle(dwarf, [file](::Dwarf* d) { dwarf_end(d); });
}

}  // namespace kdive
