// Vmlinux: the kernel image with debug info, opened read-only with libelf. Gives
// the symbol table, the build ID, and the link-time contents of initialized
// kernel data (e.g. the linux_banner string) — which is how kdive checks that a
// vmlinux belongs to a dump and finds the kernel in a dump without VMCOREINFO.
//
//   Vmlinux vm = Vmlinux::open("vmlinux-6.1.0-56-cloud-amd64");   // throws Error
//   vm.symbols().address("_stext");
//   vm.banner();                 // "Linux version 6.1.0-56-cloud-amd64 (...) ...\n"
#pragma once

#include <gelf.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/symbol_table.hpp"

namespace kdive {

// nm's letter for an ELF symbol: 't' text, 'd' data, 'r' read-only, 'b' bss,
// 'a' absolute, upper case when not local ('?' when the section is unknown).
char elf_symbol_type(const GElf_Sym& sym, const GElf_Shdr* section);

class Vmlinux {
 public:
  static std::unique_ptr<Vmlinux> open(const std::filesystem::path& path);
  ~Vmlinux();
  Vmlinux(const Vmlinux&) = delete;
  Vmlinux& operator=(const Vmlinux&) = delete;

  const std::filesystem::path& path() const { return path_; }
  SymbolTable& symbols() { return symbols_; }
  const SymbolTable& symbols() const { return symbols_; }
  // Lower-case hex of the GNU build ID note ("" when the image has none).
  const std::string& build_id() const { return build_id_; }
  // The linux_banner string as linked (with its trailing newline).
  const std::string& banner() const { return banner_; }
  // The kernel release named by the banner ("6.1.0-56-cloud-amd64").
  std::string release() const;

  // Link-time bytes of an initialized, allocated section at a link-time address.
  // nullopt when the range is not in such a section (bss, absent, out of range).
  std::optional<std::vector<std::byte>> read_static(uint64_t link_address, size_t length) const;

  ::Elf* elf() const { return elf_; }
  int fd() const { return fd_; }

 private:
  Vmlinux(std::filesystem::path path, int fd, ::Elf* elf);
  void load_symbols();
  void load_build_id();

  std::filesystem::path path_;
  int fd_;
  ::Elf* elf_;
  SymbolTable symbols_;
  std::string build_id_;
  std::string banner_;
};

}  // namespace kdive
