#include "kernel-model/module_lines.hpp"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <libelf.h>

#include <algorithm>

namespace kdive {

// libdwfl's callbacks, with the ModuleLines in the module's userdata slot.
struct ModuleLinesCallbacks {
  static ModuleLines& of(void** userdata) { return *static_cast<ModuleLines*>(*userdata); }

  // The object file: the bytes in memory (a decompressed .ko.xz has no file).
  static int find_elf(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, char** file_name, Elf** elf) {
    ModuleLines& self = of(userdata);
    *file_name = nullptr;
    *elf = elf_memory(self.bytes_.data(), self.bytes_.size());
    return -1;  // no descriptor: libdwfl owns *elf
  }

  // The object carries its own debug info; no separate file is looked for.
  static int find_debuginfo(Dwfl_Module*, void**, const char*, Dwarf_Addr, const char*, const char*, GElf_Word,
                            char**) {
    return -1;
  }

  static int section_address(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*, GElf_Word index,
                             const GElf_Shdr*, Dwarf_Addr* address) {
    const ModuleLines& self = of(userdata);
    auto it = self.placed_.find(index);
    *address = it != self.placed_.end() ? it->second : static_cast<Dwarf_Addr>(-1);  // -1: not loaded
    return 0;
  }

  static constexpr Dwfl_Callbacks callbacks{find_elf, find_debuginfo, section_address, nullptr};
};

ModuleLines::ModuleLines(const Module& module, std::vector<char> bytes) : name_(module.name), bytes_(std::move(bytes)) {
  for (const auto& [index, address] : module.object_sections) placed_[index] = address.value();
}

ModuleLines::~ModuleLines() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

::Dwarf* ModuleLines::dwarf() {
  if (opened_) return dwarf_;
  opened_ = true;
  elf_version(EV_CURRENT);
  dwfl_ = dwfl_begin(&ModuleLinesCallbacks::callbacks);
  if (dwfl_ == nullptr) {
    problem_ = dwfl_errmsg(-1);
    return nullptr;
  }
  // The reported range only has to hold the sections' addresses; libdwfl
  // relocates by section, not by this range.
  uint64_t low = UINT64_MAX, high = 0;
  for (const auto& [index, address] : placed_) {
    low = std::min(low, address);
    high = std::max(high, address + 1);
  }
  if (placed_.empty()) {
    problem_ = "none of its sections is placed in memory";
    return nullptr;
  }
  dwfl_report_begin(dwfl_);
  module_ = dwfl_report_module(dwfl_, name_.c_str(), low, high);
  dwfl_report_end(dwfl_, nullptr, nullptr);
  if (module_ == nullptr) {
    problem_ = dwfl_errmsg(-1);
    return nullptr;
  }
  void** slot = nullptr;
  dwfl_module_info(module_, &slot, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  *slot = this;
  Dwarf_Addr bias = 0;
  dwarf_ = dwfl_module_getdwarf(module_, &bias);
  if (dwarf_ == nullptr) {
    problem_ = dwfl_errmsg(-1);
  } else if (bias != 0) {
    // A relocatable object's sections are placed one by one: libdwfl gives
    // no bias for it. Anything else is not the object this was made for.
    problem_ = "the object's DWARF is not relocatable";
    dwarf_ = nullptr;
  }
  return dwarf_;
}

std::optional<SourceLine> ModuleLines::find(uint64_t address) { return find_source_line(dwarf(), address); }

}  // namespace kdive
