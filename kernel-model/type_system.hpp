// TypeSystem: the kernel's types and global variables from the vmlinux's DWARF
// (libdw), found by name through the DwarfIndex and built into Type objects on
// first use. Owns every Type it hands out; pointers stay valid for its lifetime.
// Single-threaded (the index builds on its own thread, reading section bytes
// only). Reads the DWARF through the vmlinux's one libdw handle.
//
//   TypeSystem types(vmlinux.file(), vmlinux.dwarf(), vmlinux.build_id());
//   TypeSystem program_types("a.out", "");   // opens a file of its own; "": no index cache
//   const Type* task = types.lookup("struct task_struct");   // nullptr if unknown
//   const Type* t = types.variable_type("jiffies");           // volatile unsigned long
//   types.enumerator("PIDTYPE_TGID");                         // optional<int64_t>
#pragma once

#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kernel-model/debug_object.hpp"
#include "kernel-model/dwarf_index.hpp"
#include "kernel-model/elf_file.hpp"
#include "kernel-model/type.hpp"

struct Dwarf;

namespace kdive {

class TypeScope;

class TypeSystem {
 public:
  // `dwarf` is libdw over `file` (open_dwarf; nullptr: begin one here);
  // `build_id` keys the index cache ("" for none). Throws Error(Unsupported)
  // when there is no DWARF.
  TypeSystem(std::shared_ptr<ElfFile> file, DwarfHandle dwarf, const std::string& build_id);
  TypeSystem(const std::filesystem::path& file, const std::string& build_id);
  // No program at all: no names to look up, only void, pointers and the C
  // integer types made to measure — what evaluating plain numbers needs
  // (`eval` with no dump open).
  TypeSystem();
  ~TypeSystem();

  // Blocks until the background name index is complete (and, when it was
  // built rather than loaded, saved to its on-disk cache).
  void wait_for_index() const;
  TypeSystem(const TypeSystem&) = delete;
  TypeSystem& operator=(const TypeSystem&) = delete;

  // A type by its C spelling: "struct task_struct", "task_struct" (struct,
  // union, typedef, enum or base type, in that order), "unsigned long",
  // "struct page *", "u64". nullptr when unknown.
  const Type* lookup(std::string_view spelling);
  const Type* find(NameKind kind, std::string_view name);
  // Like lookup() but throws Error(Lookup) naming the type.
  const Type& require(std::string_view spelling);

  // The declared type of a global variable (or function).
  const Type* variable_type(std::string_view name);
  std::optional<int64_t> enumerator(std::string_view name);

  const Type* void_type();
  const Type* pointer_to(const Type* target);
  // A C integer type for computed values ("int", "long unsigned int"): the
  // DWARF base type of that name when there is one, else one made to measure
  // (a small program's DWARF need not mention `long`).
  const Type* integer_type(std::string_view dwarf_name, uint64_t size, bool is_signed);

  // Created on first use from a DIE id: the .debug_info offset for the
  // vmlinux; module DIEs carry their source in the high bits (find_die()).
  const Type* resolve(uint64_t die);
  void load_children(const Type& type);

  // The vmlinux's name index (not for a TypeSystem made without a program).
  const DwarfIndex& index() const { return *index_; }

  // A module's debug info (mod -s): its types, variables and enumerators join
  // the lookups, after the vmlinux's. `object_bytes` is the .ko file's content.
  // Throws Error when it has no usable DWARF.
  void add_module(std::string name, std::vector<char> object_bytes);
  // Stops looking names up in a module's debug info (mod -d).
  void drop_module(std::string_view name);
  // The DIE id that defines a name, in the vmlinux or a module (see resolve()).
  std::optional<uint64_t> find_die(NameKind kind, std::string_view name,
                                   const DwarfIndex::Entry** entry = nullptr) const;

  // `set scope` (type_scope.hpp): while set, every lookup by name (lookup,
  // find, variable_type, enumerator, find_die) asks the compilation unit and
  // function holding a text address first. `address` is in the addresses of
  // `addresses`, a libdw handle with the same .debug_info offsets as the
  // types' DWARF: the vmlinux's own (nullptr, link-time addresses) or, for
  // `module` (its debug info added by add_module), the copy relocated to where
  // the kernel loaded it. Throws Error(Lookup) when no unit covers the address
  // or the module has no debug info here; the scope is then as it was.
  void set_scope(uint64_t address, std::string_view module = {}, ::Dwarf* addresses = nullptr);
  void clear_scope();
  // The scope in force; nullptr when none is set.
  const TypeScope* scope() const;

 private:
  struct ModuleSource {
    std::unique_ptr<DebugObject> object;
    std::unique_ptr<DwarfIndex> index;
    bool active;
  };
  Type* make(TypeKind kind);
  const Type* complete(const Type* declaration);
  // The libdw handle of the file a DIE id belongs to (nullptr: none).
  ::Dwarf* dwarf_of(uint64_t id) const;

  DwarfHandle dwarf_;
  std::unique_ptr<DwarfIndex> index_;
  std::vector<ModuleSource> modules_;  // source n + 1 of a DIE id
  // Forgets the declarations completed under another scope (see resolve()).
  void scope_changed();

  std::unique_ptr<TypeScope> scope_;
  std::unordered_map<uint64_t, Type*> by_die_;
  std::vector<uint64_t> completed_;  // declaration DIEs by_die_ maps to a definition
  std::unordered_map<const Type*, const Type*> pointers_;
  std::unordered_map<std::string, const Type*> made_integers_;
  std::deque<std::unique_ptr<Type>> storage_;
  Type* void_ = nullptr;
};

}  // namespace kdive
