// ElfFile: one ELF file opened once, read-only, and shared: libelf's handle
// over a single mapping of the file (or over bytes already in memory, such as a
// decompressed .ko), with its section table and GNU build ID read up front.
// The vmlinux is opened this way once per session: its symbol table, its
// link-time data, its DWARF (types, source lines) and the DWARF index scan all
// read through this one handle and mapping.
//
//   std::shared_ptr<ElfFile> f = ElfFile::open("vmlinux", "a vmlinux");   // throws Error
//   f->build_id();                                      // "01d2640d3a13..." ("" if none)
//   const ElfSection* s = f->section(".debug_info");
//   std::span<const uint8_t> bytes = f->contents(*s);   // in the mapping, no copy
//   DwarfHandle dwarf = open_dwarf(f);                  // libdw over the same handle
//
// Threads: libelf and libdw are not thread-safe, so only one thread may call
// them on a file. What ElfFile read at open (sections(), contents(), bytes(),
// build_id()) is plain memory that any thread may read.
#pragma once

#include <gelf.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct Dwarf;

namespace kdive {

struct ElfSection {
  size_t index = 0;  // the section number (elf_getscn)
  std::string name;
  GElf_Shdr header{};
  bool compressed() const { return (header.sh_flags & SHF_COMPRESSED) != 0; }
};

class ElfFile {
 public:
  // Opens and maps `path`. Throws Error(Os) when it cannot be opened and
  // Error(BadData) when it is not ELF ("PATH: not an ELF file (WHAT is
  // expected)" when `what` is given).
  static std::shared_ptr<ElfFile> open(const std::filesystem::path& path, std::string_view what = "");
  // An ELF image in memory, owned from now on; `name` names it in messages.
  // Throws Error(BadData) when it is not ELF.
  static std::shared_ptr<ElfFile> from_bytes(std::vector<char> bytes, std::string name);
  ~ElfFile();
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  ::Elf* elf() const { return elf_; }
  const std::string& name() const { return name_; }
  const GElf_Ehdr& header() const { return header_; }
  // The whole file as mapped (or as handed to from_bytes).
  std::span<const uint8_t> bytes() const { return {bytes_, size_}; }
  // Bytes handed to from_bytes may be patched in place before libdw reads them
  // (a .ko's debug relocations); a mapped file's may not (empty span).
  std::span<char> writable_bytes() { return owned_.empty() ? std::span<char>() : std::span<char>(owned_); }

  // Every section, indexed by section number (index 0 is the null section).
  const std::vector<ElfSection>& sections() const { return sections_; }
  const ElfSection* section(std::string_view name) const;
  // A section's bytes as the file stores them (still compressed if it is);
  // empty for SHT_NOBITS or a section that runs past the end of the file.
  std::span<const uint8_t> contents(const ElfSection& section) const;

  // Lower-case hex of the GNU build ID note ("" when the file has none).
  const std::string& build_id() const { return build_id_; }

 private:
  ElfFile(std::string name, int fd, std::vector<char> owned);
  void load(::Elf* elf);

  std::string name_;
  int fd_ = -1;
  std::vector<char> owned_;
  ::Elf* elf_ = nullptr;
  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  GElf_Ehdr header_{};
  std::vector<ElfSection> sections_;
  std::string build_id_;
};

// The GNU build ID (an NT_GNU_BUILD_ID note owned by "GNU") among the ELF
// notes in `notes`, as lower-case hex; "" when there is none. Notes are padded
// to `align` bytes (4, or 8 in a section aligned so). The one reader of build
// IDs: ELF files' note sections, and a loaded module's note read from memory.
std::string gnu_build_id(std::span<const uint8_t> notes, size_t align = 4);

// libdw's view of an ElfFile's DWARF through the file's own libelf handle (no
// second open). The handle keeps the file alive; dwarf_end runs when the last
// holder lets go. nullptr when the file has no DWARF.
using DwarfHandle = std::shared_ptr<::Dwarf>;
DwarfHandle open_dwarf(const std::shared_ptr<ElfFile>& file);

}  // namespace kdive
