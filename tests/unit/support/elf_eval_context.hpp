// An EvalContext over a small compiled program instead of a kernel dump: its
// DWARF through the kernel's TypeSystem, its ELF symbol table for addresses,
// and the initialized bytes of its loadable segments for memory (.bss reads as
// zero). Lets the type engine and the expression evaluator be tested against
// what the C compiler laid out.
//
//   ElfEvalContext ctx(KDIVE_TYPEPROG_DIR "/types-dwarf5");
//   evaluate(ctx, "the_task.pid").as_u64();
#pragma once

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive::test {

class ElfEvalContext : public EvalContext {
 public:
  explicit ElfEvalContext(const std::filesystem::path& program) : types_(program, "") {
    std::ifstream in(program, std::ios::binary);
    file_.assign(std::istreambuf_iterator<char>(in), {});
    elf_version(EV_CURRENT);
    int fd = ::open(program.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + program.string());
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    size_t phnum = 0;
    elf_getphdrnum(elf, &phnum);
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD) segments_.push_back(ph);
    }
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(elf, scn)) != nullptr) {
      GElf_Shdr sh;
      gelf_getshdr(scn, &sh);
      if (sh.sh_type != SHT_SYMTAB) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
        GElf_Sym sym;
        gelf_getsym(data, static_cast<int>(i), &sym);
        const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
        if (name != nullptr && *name != '\0' && sym.st_shndx != SHN_UNDEF) symbols_[name] = sym.st_value;
      }
    }
    elf_end(elf);
    ::close(fd);
  }

  TypeSystem& types() const override { return types_; }
  std::optional<uint64_t> symbol_address(std::string_view name) const override {
    auto it = symbols_.find(std::string(name));
    if (it == symbols_.end()) return std::nullopt;
    return it->second;
  }
  void read(VirtAddr address, std::span<std::byte> out) const override {
    uint64_t a = address.value();
    for (const GElf_Phdr& ph : segments_) {
      if (a < ph.p_vaddr || a + out.size() > ph.p_vaddr + ph.p_memsz) continue;
      for (size_t i = 0; i < out.size(); ++i) {
        uint64_t off = a + i - ph.p_vaddr;
        out[i] = off < ph.p_filesz ? static_cast<std::byte>(file_[ph.p_offset + off]) : std::byte{0};
      }
      return;
    }
    throw Fault(address, "not in the program's loadable segments");
  }

  // A global's value as the compiler stored it: for the expect_* globals.
  uint64_t global_u64(std::string_view name) const {
    uint64_t v = 0;
    read(VirtAddr{*symbol_address(name)}, {reinterpret_cast<std::byte*>(&v), 8});
    return v;
  }

 private:
  mutable TypeSystem types_;
  std::vector<char> file_;
  std::vector<GElf_Phdr> segments_;
  std::map<std::string, uint64_t> symbols_;
};

}  // namespace kdive::test
