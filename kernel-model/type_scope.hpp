// TypeScope: the text scope of name lookups (crash's `set scope`). The kernel
// defines some names differently in different .c files: a struct private to
// one file (`struct getdents_callback` in fs/readdir.c and in
// fs/exportfs/expfs.c), a static variable of the same name in two files. The
// name index keeps one definition per name; a scope is one text address, and
// while it is set, the compilation unit whose code holds that address — and
// the function (and nested blocks) there — answer first, as GDB answers from
// the block of a PC. The unit's top-level names are read on first use and
// kept per unit; nothing is read while no scope is set.
//
//   TypeScope scope;
//   scope.set(dwarf, 0xffffffff81345670, /*id_base=*/0);   // throws Error(Lookup)
//   const DwarfIndexEntry* e = scope.find(NameKind::Struct, "getdents_callback");
//   scope.unit_name();   // "fs/readdir.c"
//   scope.clear();
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kernel-model/dwarf_index_image.hpp"

struct Dwarf;

namespace kdive {

class TypeScope {
 public:
  // Scopes lookups to the unit of `dwarf` whose code covers `address` (in the
  // DWARF's own addresses) and to the function blocks holding it. DIE ids
  // handed out are `id_base | offset`: `dwarf` must have the same
  // .debug_info offsets as the DWARF the ids are resolved in (a module's
  // line-table copy and its type copy are the same object file). Throws
  // Error(Lookup) when no unit covers the address; the scope is then as it was.
  void set(::Dwarf* dwarf, uint64_t address, uint64_t id_base);
  void clear();
  bool active() const { return unit_ != nullptr; }

  // The definition the scope sees of a name of that kind, innermost block
  // first, then the unit; nullptr when the scope does not define it (the
  // index answers then). entry->die is a full DIE id; enumerators carry their
  // value, as in the index.
  const DwarfIndexEntry* find(NameKind kind, std::string_view name) const;
  // The link-time address of a variable the scope defines at a fixed place
  // (DW_OP_addr: a static or global variable, a function's static local).
  std::optional<uint64_t> variable_address(std::string_view name) const;

  // The unit's name as the compiler recorded it ("fs/readdir.c"), and the
  // function holding the address ("" when it is in none).
  const std::string& unit_name() const { return unit_name_; }
  const std::string& function_name() const { return function_name_; }
  // The unit's DIE id, for telling scopes apart, and the source part of it
  // (0: the vmlinux, whose addresses are link-time; else a module's, whose
  // addresses are where the kernel loaded it).
  uint64_t unit_id() const { return unit_id_; }
  uint64_t id_base() const { return id_base_; }

  // Names one unit defines, by kind (exposed for tests).
  struct Names {
    std::unordered_map<std::string, DwarfIndexEntry> by_kind[kNameKinds];
    std::unordered_map<std::string, uint64_t> addresses;  // variables at a fixed place
  };

 private:
  std::map<uint64_t, std::unique_ptr<Names>> units_;  // by unit DIE id: read once
  const Names* unit_ = nullptr;
  Names blocks_;  // the function's and its covering blocks' names, innermost winning
  std::string unit_name_, function_name_;
  uint64_t unit_id_ = 0, id_base_ = 0;
};

}  // namespace kdive
