// DebugObject: the DWARF of a relocatable object file (a kernel module's .ko)
// made readable. In a .ko, every reference from .debug_info to another section
// (a name in .debug_str, a line table, an address) is left to a relocation in
// .rela.debug_*; libdw reads the raw bytes and would see every name at offset
// 0. DebugObject applies the x86_64 relocations of the debug sections to its
// own copy of the file (an ElfFile over those bytes) and opens that with libdw.
//
//   DebugObject obj(std::move(ko_bytes), "qemu_fw_cfg.ko");   // throws Error
//   obj.dwarf();       // Dwarf* over the relocated copy
//   obj.sections();    // the same bytes for the raw name scan
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"
#include "kernel-model/elf_file.hpp"

namespace kdive {

class DebugObject {
 public:
  DebugObject(std::vector<char> bytes, std::string name);
  DebugObject(const DebugObject&) = delete;
  DebugObject& operator=(const DebugObject&) = delete;

  ::Dwarf* dwarf() const { return dwarf_.get(); }
  const DwarfSections& sections() const { return sections_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::shared_ptr<ElfFile> file_;  // the relocated copy libdw and the sections point into
  DwarfHandle dwarf_;
  DwarfSections sections_;
};

// Applies, in place, the relocations of an x86_64 ELF relocatable object that
// target its .debug_* sections (the file's writable_bytes(): made with
// ElfFile::from_bytes, before libdw reads it). Returns how many were applied;
// 0 for a linked file. Throws Error on a malformed file.
size_t relocate_debug_sections(ElfFile& file);

}  // namespace kdive
