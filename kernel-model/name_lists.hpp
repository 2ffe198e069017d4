// NameLists: the kernel's names in sorted order, for prefix search — what the
// shell's Tab completion offers: symbols of the vmlinux (and of the loaded
// modules), and the struct, union, enum, typedef and base type names of the
// DWARF index. Each list is built on first use and kept, so the first Tab on a
// kind pays one sort and every later one a binary search (prepare() builds
// them all ahead, on another thread if the caller likes: the lists are built
// once whichever thread asks first, and read-only after). Also the member
// navigation completion needs: which struct a member path ends in, through
// pointers, arrays and typedefs, and the members a struct offers by name.
//
//   NameLists names(&kernel.symbols(), &kernel.types());
//   for (std::string_view s : names.symbols().with_prefix("init_t")) ...
//   names.types(NameKind::Struct).with_prefix("task_str");    // task_struct, ...
//   const Type* mm = struct_at_path(*types.variable_type("init_task"), "mm");
//   for (const MemberName& m : member_names(*mm)) ...           // mmap, mm_mt, ...
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"

namespace kdive {

class SymbolTable;
class ModuleTable;
class Type;
class TypeSystem;

// Names sorted and without repeats; the views point into storage the caller
// keeps alive (the vmlinux string table, the DWARF index).
class SortedNames {
 public:
  SortedNames() = default;
  explicit SortedNames(std::vector<std::string_view> names);
  // The names that start with `prefix`, in order.
  std::span<const std::string_view> with_prefix(std::string_view prefix) const;
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string_view> names_;
};

class NameLists {
 public:
  // Either may be null (no symbols, no DWARF): its lists are then empty.
  NameLists(const SymbolTable* symbols, TypeSystem* types) : symbols_(symbols), types_(types) {}

  // The vmlinux's symbols.
  const SortedNames& symbols();
  // Type names of one kind: Struct, Union, Enum, Typedef or Base (waits for
  // the DWARF index when it is still being built).
  const SortedNames& types(NameKind kind);
  // Builds every list now (the symbols and the type kinds completion asks for).
  void prepare();

 private:
  const SymbolTable* symbols_;
  TypeSystem* types_;
  std::once_flag symbols_once_;
  std::unique_ptr<SortedNames> symbol_list_;
  std::array<std::once_flag, kNameKinds> types_once_;
  std::array<std::unique_ptr<SortedNames>, kNameKinds> type_lists_;
};

// Module symbols that start with `prefix`, appended to `out` (unsorted; a
// module's table is small and changes with mod -s, so it is not kept).
void module_symbols_with_prefix(const ModuleTable& modules, std::string_view prefix, std::vector<std::string>& out);

// A member as completion offers it. `leads_to_struct`: the member is a struct
// or union, or points to one (directly or through an array), so a path can go
// on past it.
struct MemberName {
  std::string_view name;
  bool leads_to_struct;
};

// The members of a struct or union by name, members of anonymous structs and
// unions in place of their container (as C lets one name them). Empty for any
// other type.
std::vector<MemberName> member_names(const Type& type);

// The struct or union that `type` is, or holds through typedefs, qualifiers,
// pointers and arrays; nullptr when there is none.
const Type* struct_behind(const Type& type);

// The struct or union reached from `root` by a member path: names separated
// by '.' or "->", each optionally indexed ("grid[1]", ignored for the type),
// pointers followed whichever separator is used (gdb follows a pointer on '.'
// too). "" gives struct_behind(root). nullptr when a name is not a member or
// the path ends at a scalar.
const Type* struct_at_path(const Type& root, std::string_view path);

}  // namespace kdive
