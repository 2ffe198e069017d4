// DebugObject: the DWARF of a relocatable object file (a kernel module's .ko)
// made readable. In a .ko, every reference from .debug_info to another section
// (a name in .debug_str, a line table, an address) is left to a relocation in
// .rela.debug_*; libdw reads the raw bytes and would see every name at offset
// 0. DebugObject applies the x86_64 relocations of the debug sections to its
// own copy of the file and opens that with libdw.
//
//   DebugObject obj(std::move(ko_bytes), "qemu_fw_cfg.ko");   // throws Error
//   obj.dwarf();       // Dwarf* over the relocated copy
//   obj.sections();    // the same bytes for the raw name scan
#pragma once

#include <string>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"

struct Dwarf;
struct Elf;

namespace kdive {

class DebugObject {
 public:
  DebugObject(std::vector<char> bytes, std::string name);
  ~DebugObject();
  DebugObject(const DebugObject&) = delete;
  DebugObject& operator=(const DebugObject&) = delete;

  ::Dwarf* dwarf() const { return dwarf_; }
  const DwarfSections& sections() const { return sections_; }
  const std::string& name() const { return name_; }

 private:
  std::vector<char> bytes_;  // the relocated copy libdw and the sections point into
  std::string name_;
  ::Elf* elf_ = nullptr;
  ::Dwarf* dwarf_ = nullptr;
  DwarfSections sections_;
};

// Applies, in place, the relocations of an x86_64 ELF relocatable object that
// target its .debug_* sections. Returns how many were applied. Throws Error on
// a malformed file.
size_t relocate_debug_sections(std::vector<char>& elf_bytes, const std::string& name);

}  // namespace kdive
