// Modules: the loaded kernel modules of the dumped kernel (the `modules` list of
// struct module, cross-checked against the module address tree:
// module_sources.hpp) with where their code and data sit and their symbols. A
// module's symbols come first from the kernel's own copy (mod->kallsyms: symtab,
// strtab, typetab); loading the module's object file (.ko, .ko.xz, .ko.zst)
// replaces them with the file's full symbol table, relocated to where the
// kernel put each section, and notes whether the file carries debug info.
//
//   const ModuleTable& mods = kernel.modules();
//   const Module* m = mods.find("qemu_fw_cfg");
//   m->text_base;                                  // /proc/modules' address
//   auto hit = mods.symbol_at(rip);                // {symbol, offset}; symbol->module
//   kernel.load_module_object(*m, "/lib/modules/.../qemu_fw_cfg.ko");   // mod -s
//   for (const Module& m : mods.all()) if (!m.damage.empty()) ...  // show a marker
//   mods.problems;   // breaks in the list or the tree, and where they disagree
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/symbol_table.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// One piece of memory the kernel allocated for a module (text, data, ...).
struct ModuleRegion {
  std::string kind;  // "text", "data", "rodata", "ro_after_init", "init_text", ... or "core"/"init"
  VirtAddr base;
  uint64_t size = 0;
  bool contains(VirtAddr a) const { return a >= base && a - base < size; }
};

struct Module {
  VirtAddr address;  // the struct module
  std::string name;
  VirtAddr text_base;  // the core text: the address /proc/modules shows
  uint64_t size = 0;   // the size /proc/modules shows (all memory still allocated)
  std::vector<ModuleRegion> regions;
  uint64_t taints = 0;
  // Where each loaded section sits (".text" -> address), from mod->sect_attrs.
  std::map<std::string, VirtAddr, std::less<>> sections;
  std::string build_id;       // lower-case hex, from its loaded .note.gnu.build-id ("" if unknown)
  bool has_kallsyms = false;  // the kernel kept a symbol table for it
  std::optional<std::filesystem::path> object_file;  // set once loaded
  bool object_has_debuginfo = false;
  std::string debuginfo_problem;  // why its DWARF could not be used ("" if it could, or has none)
  // With the object file loaded: where the kernel put each of its sections
  // still in memory (section index in the object -> address); the module's
  // line tables are relocated by it (module_lines.hpp).
  std::map<size_t, VirtAddr> object_sections;

  // What could not be read of this module ("" when all of it could). Without
  // `layout_known` the struct module itself is unreadable or its name is not
  // a module name: only `address` (and `name`, when it could be read) is known.
  std::string damage;
  bool layout_known = false;  // name, memory regions and taints were read
  bool on_list = false;       // reached through the `modules` list
  bool in_tree = false;       // reached through the module address tree

  // The symbols in use: the object file's when loaded, else the kernel's copy.
  const SymbolTable& symbols() const { return object_file ? object_symbols : kallsyms_symbols; }
  bool contains(VirtAddr a) const;
  // The end of the core memory (what crash prints as "MODULE END").
  VirtAddr core_end() const;

  SymbolTable kallsyms_symbols;
  SymbolTable object_symbols;
  // Owns the names the symbol tables point at (stable across moves).
  std::shared_ptr<std::deque<std::string>> names = std::make_shared<std::deque<std::string>>();
};

class ModuleTable {
 public:
  std::vector<Module>& all() { return modules_; }
  const std::vector<Module>& all() const { return modules_; }
  const Module* find(std::string_view name) const;
  Module* find(std::string_view name);
  // The module whose memory holds `address`.
  const Module* containing(VirtAddr address) const;
  // The module symbol at or below `address`, within that module's memory.
  std::optional<SymbolHit> symbol_at(VirtAddr address) const;
  // A module symbol by name (the first module that has it).
  const Symbol* find_symbol(std::string_view name) const;

  // Where the module list or the module address tree is broken, and where
  // the two disagree (one line each, saying where and why). A damaged module
  // is not repeated here: it carries its own `damage`.
  std::vector<std::string> problems;
  // How many modules carry damage.
  size_t damaged() const;

 private:
  std::vector<Module> modules_;
};

// Every module the `modules` list or the module address tree holds. A module
// whose struct cannot be read, or whose name is garbage, is still listed, by
// address, with its `damage`; nothing here throws for damage.
ModuleTable read_modules(const Kernel& k);

// A name the kernel could have given a module: printable characters, at least
// one, no blank, no '/' (the name array's NUL is checked by the reader).
bool plausible_module_name(std::string_view name);

// Replaces a module's symbols with those of its object file (decompressing
// .xz/.zst), placing each section where the kernel loaded it. Throws Error
// (Os, BadData) when the file cannot be used, or Mismatch when it is not that
// module. Returns the object's (decompressed) bytes.
struct ModuleLoadOptions {
  // crash's mod -g: add "_MODULE_SECTION_START [.text]" and
  // "_MODULE_SECTION_END [.text]" symbols (type 'S') around each placed section.
  bool section_symbols = false;
};
std::vector<char> load_module_object(Module& module, const std::filesystem::path& file,
                                     const ModuleLoadOptions& options = {});
// Forgets a loaded object file: the kernel's own symbols are used again.
void unload_module_object(Module& module);

// The module object files (*.ko, *.ko.xz, *.ko.zst) under the given directories,
// searched recursively, by module name: a file name's '-' reads as '_' as the
// kernel does. A file found under an earlier root wins (debug files first).
std::map<std::string, std::filesystem::path> index_module_objects(const std::vector<std::filesystem::path>& roots);
// Where distributions keep module files, debug files first:
// /usr/lib/debug/lib/modules/<release>, /lib/modules/<release> (and /usr forms).
std::vector<std::filesystem::path> default_module_roots(const std::string& release);

}  // namespace kdive
