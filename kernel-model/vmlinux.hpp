// Vmlinux: the kernel image with debug info, opened once per session (one
// ElfFile: one open, one mapping, one libelf handle) and shared by everything
// that reads it. Gives the symbol table, the build ID, the link-time contents
// of initialized kernel data (e.g. the linux_banner string) — which is how
// kdive checks that a vmlinux belongs to a dump and finds the kernel in a dump
// without VMCOREINFO — and the one libdw handle over its DWARF, which the type
// system and the source-line lookups share.
//
//   auto vm = Vmlinux::open("vmlinux-6.1.0-56-cloud-amd64");   // throws Error
//   vm->symbols().address("_stext");
//   vm->banner();                 // "Linux version 6.1.0-56-cloud-amd64 (...) ...\n"
//   vm->dwarf();                  // nullptr when it has no DWARF
#pragma once

#include <gelf.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/elf_file.hpp"
#include "kernel-model/symbol_table.hpp"

namespace kdive {

// nm's letter for an ELF symbol: 't' text, 'd' data, 'r' read-only, 'b' bss,
// 'a' absolute, upper case when not local ('?' when the section is unknown).
char elf_symbol_type(const GElf_Sym& sym, const GElf_Shdr* section);

class Vmlinux {
 public:
  static std::unique_ptr<Vmlinux> open(const std::filesystem::path& path);
  Vmlinux(const Vmlinux&) = delete;
  Vmlinux& operator=(const Vmlinux&) = delete;

  const std::filesystem::path& path() const { return path_; }
  SymbolTable& symbols() { return symbols_; }
  const SymbolTable& symbols() const { return symbols_; }
  // Lower-case hex of the GNU build ID note ("" when the image has none).
  const std::string& build_id() const { return file_->build_id(); }
  // The linux_banner string as linked (with its trailing newline).
  const std::string& banner() const { return banner_; }
  // The kernel release named by the banner ("6.1.0-56-cloud-amd64").
  std::string release() const;

  // Link-time bytes of an initialized, allocated section at a link-time address.
  // nullopt when the range is not in such a section (bss, absent, out of range).
  std::optional<std::vector<std::byte>> read_static(uint64_t link_address, size_t length) const;

  const std::shared_ptr<ElfFile>& file() const { return file_; }
  ::Elf* elf() const { return file_->elf(); }
  // libdw over the image's DWARF, begun on first use (nullptr: no DWARF).
  const DwarfHandle& dwarf() const;

 private:
  Vmlinux(std::filesystem::path path, std::shared_ptr<ElfFile> file);
  void load_symbols();

  std::filesystem::path path_;
  std::shared_ptr<ElfFile> file_;
  SymbolTable symbols_;
  std::string banner_;
  mutable DwarfHandle dwarf_;
  mutable bool dwarf_tried_ = false;
};

}  // namespace kdive
