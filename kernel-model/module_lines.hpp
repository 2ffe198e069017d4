// ModuleLines: source file and line of a module's code, from the line tables
// of the module's object file (.ko) that `mod -s` loaded. A .ko is a
// relocatable object: its .debug_line addresses are left to relocations
// against the sections (.text, .exit.text, ...), each of which the kernel
// placed somewhere of its own. libdwfl applies those relocations (the way
// systemtap and eu-addr2line --kernel handle modules): its section_address
// callback is asked where each section went, and answers from the module's
// in-memory layout, so the line table holds run-time addresses and a lookup
// needs no arithmetic. Sections the kernel did not keep (.init.text after
// the module's init ran) are reported as not loaded.
//
//   ModuleLines lines(module, std::move(ko_bytes));   // module: a Module after load_module_object
//   auto where = lines.find(0xffffffffc043000c);      // {"/.../kdive_oops.c", 38, ...}
//   lines.problem();                                  // why there are no lines ("" if there are)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/modules.hpp"
#include "kernel-model/source_lines.hpp"

struct Dwfl;         // libdwfl
struct Dwfl_Module;  // libdwfl

namespace kdive {

class ModuleLines {
 public:
  // `module` gives the name and where each of the object's sections sits
  // (Module::object_sections); `bytes` is the object file, decompressed.
  ModuleLines(const Module& module, std::vector<char> bytes);
  ~ModuleLines();
  ModuleLines(const ModuleLines&) = delete;
  ModuleLines& operator=(const ModuleLines&) = delete;

  // The line of a run-time address in the module's code, or nullopt.
  std::optional<SourceLine> find(uint64_t address);
  // Why the object's line tables cannot be used ("" when they can, or before
  // the first find()).
  const std::string& problem() const { return problem_; }
  // The object's DWARF relocated to run-time addresses (nullptr, with
  // problem() set, when it cannot be): its .debug_info offsets are the
  // object file's own, so a unit found here by address is the same unit in
  // the type system's copy (set scope).
  ::Dwarf* dwarf();

 private:
  friend struct ModuleLinesCallbacks;

  std::string name_;
  std::vector<char> bytes_;  // the image libelf reads and libdwfl relocates in place
  // Section index in the object -> where the kernel put it (absent: not loaded).
  std::map<size_t, uint64_t> placed_;
  ::Dwfl* dwfl_ = nullptr;
  ::Dwfl_Module* module_ = nullptr;
  ::Dwarf* dwarf_ = nullptr;
  bool opened_ = false;
  std::string problem_;
};

}  // namespace kdive
