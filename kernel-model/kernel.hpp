// Kernel: one crashed (or live) kernel as kdive sees it — the vmlinux with its
// symbols, the dump, VMCOREINFO, where the kernel sat in memory, and typed
// access to that memory. Everything in kernel-model/ hangs off it.
//
//   auto k = Kernel::open("vmlinux", {"vmcore"});     // throws Error / FormatError
//   k->symbol_address("jiffies");                      // VirtAddr, or Error(Lookup)
//   k->memory().read<uint64_t>(k->symbol_address("jiffies"));
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel-model/kallsyms.hpp"
#include "kernel-model/kernel_layout.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "kernel-model/module_lines.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/source_lines.hpp"
#include "kernel-model/struct_layout.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/vmlinux.hpp"
#include "readers/dump_source.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive {

struct KernelOptions {
  bool ignore_mismatch = false;
  size_t cache_pages = 4096;
};

class Kernel {
 public:
  static std::unique_ptr<Kernel> open(const std::filesystem::path& vmlinux, const std::vector<std::string>& dump_files,
                                      KernelOptions options = {});

  Vmlinux& vmlinux() const { return *vmlinux_; }
  const SymbolTable& symbols() const { return vmlinux_->symbols(); }
  DumpSource& dump() const { return *dump_; }
  const VmcoreInfo& vmcoreinfo() const { return vmcoreinfo_; }
  const KernelLayout& layout() const { return memory_->layout(); }
  const KernelMemory& memory() const { return *memory_; }
  // `set zero_excluded on|off` (KernelMemory::set_zero_excluded): reads made
  // after the change see filtered-out pages as zeros; what was already read
  // and kept (the task table) stays as it was read.
  void set_zero_excluded(bool on) { memory_->set_zero_excluded(on); }
  const StructLayout& structs() const { return *structs_; }
  // The vmlinux's DWARF types; the name index builds in the background from open().
  TypeSystem& types() const { return *types_; }

  // A global variable as a typed object (Error(Lookup) when unknown).
  Object object(std::string_view symbol) const;
  // Memory at `address` seen as the type spelled `type` ("struct task_struct").
  Object object(VirtAddr address, std::string_view type) const;
  // Symbol address plus the per-CPU offset of `cpu` (per_cpu(sym, cpu)).
  VirtAddr per_cpu(std::string_view symbol, int cpu) const;
  uint64_t per_cpu_offset(int cpu) const;

  // Things worth telling the user at start-up: reader warnings, and how the
  // kernel was located when the dump had no VMCOREINFO.
  std::vector<std::string> notices() const;

  // The address of a symbol, or Error(Lookup) naming it.
  VirtAddr symbol_address(std::string_view name) const;

  // Symbols of the whole kernel: the vmlinux's, then the loaded modules', then
  // the kernel's own kallsyms (a symbol the vmlinux lacks). nullptr if none.
  const Symbol* find_symbol(std::string_view name) const;
  // The symbol an address falls in, kernel image or module (what bt, dis and
  // rd print as "name+off [module]").
  std::optional<SymbolHit> symbol_at(VirtAddr address) const;
  // The vmlinux's text as crash's is_kernel_text counts it, as [begin, end)
  // pairs: [_text, _etext) and the init text [_sinittext, _einittext) (freed
  // after boot, but its ORC entries and DWARF still describe the functions).
  // A range whose symbols the vmlinux lacks is left out.
  std::vector<std::pair<VirtAddr, VirtAddr>> kernel_text_ranges() const;

  // The loaded modules, read on first use. A failure to read the list leaves it
  // empty and is reported in modules().problems.
  const ModuleTable& modules() const;
  ModuleTable& modules();
  // mod -s: a module's object file for its symbols and, when it carries DWARF,
  // its types and source lines (a DWARF problem leaves the symbols loaded and
  // is kept in Module::debuginfo_problem). Throws Error like
  // kdive::load_module_object.
  void load_module_object(Module& module, const std::filesystem::path& file, const ModuleLoadOptions& options = {});
  // mod -d: back to the kernel's own symbols; the module's types and source
  // lines leave the lookups.
  void unload_module_object(Module& module);
  // `set scope`: type and variable lookups prefer what the compilation unit
  // (and function) holding a text address defines (TypeSystem::set_scope).
  // Throws Error(Lookup), one line naming the address, when it is not kernel
  // or module text, or is a module's whose debuginfo mod -s has not loaded.
  // Returns the unit's name ("fs/readdir.c"). types().clear_scope() unsets it.
  std::string set_type_scope(VirtAddr address);
  // The kernel's kallsyms table from the dump, decoded on first use (throws
  // Error/Fault when it cannot be read).
  const Kallsyms& kallsyms() const;
  // The source file and line of a text address (run time), when the vmlinux
  // has line tables for it, or for module code, when the module's object file
  // with its DWARF was loaded (mod -s). Every command that names a source
  // line (sym, sys -c, bt -l, dis -l) asks here, so they name it alike.
  std::optional<SourceLine> source_line(uint64_t address) const;

  // Every task, read on first use and kept: a dump does not change. A live
  // kernel does, so there the table lasts one command (see begin_command).
  const TaskTable& tasks() const;
  // Called before each command: on a live kernel, forgets what was read from
  // memory that changes (the task table), so each command sees the present.
  // References from tasks() taken before the call become invalid on a live
  // kernel; hold task addresses across commands, not Task references.
  void begin_command() const;
  // The task commands act on until `set` picks another: the task that was
  // running on the panic CPU; on a live kernel, kdive's own task (or init).
  const Task& default_task() const;

  // The CPU that called panic() (the kernel's panic_cpu), if it can be read.
  std::optional<int> panic_cpu() const;

 private:
  Kernel() = default;
  std::unique_ptr<Vmlinux> vmlinux_;
  std::unique_ptr<DumpSource> dump_;
  VmcoreInfo vmcoreinfo_;
  std::unique_ptr<KernelMemory> memory_;
  std::unique_ptr<StructLayout> structs_;
  std::unique_ptr<TypeSystem> types_;
  mutable std::unique_ptr<TaskTable> tasks_;
  mutable std::unique_ptr<ModuleTable> modules_;
  mutable std::unique_ptr<Kallsyms> kallsyms_;
  mutable bool kallsyms_failed_ = false;
  mutable std::unique_ptr<SourceLines> lines_;
  // By module name: the line tables of the object files mod -s loaded.
  std::map<std::string, std::unique_ptr<ModuleLines>, std::less<>> module_lines_;
  mutable std::vector<std::optional<uint64_t>> per_cpu_offsets_;
};

}  // namespace kdive
