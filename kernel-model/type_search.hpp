// Type search: the named types (struct, union and enum tags, typedefs, base
// types) whose size lies in a range, and with a member type the structs and
// unions whose members (or the members of the structs and unions embedded in
// them) have a type whose name contains a given text — what crash's
// `whatis -r SIZE|LOW-HIGH -m TYPE` answers ("which structures of 192 bytes
// hold a task_struct pointer?").
//
//   TypeSearch q{.min_size = 256, .max_size = 512, .member_type = "task_struct"};
//   for (const FoundType& s : search_types(kernel.types(), q)) ...   // {256, "file"}, ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kdive {

class TypeSystem;

struct TypeSearch {
  uint64_t min_size = 0;
  uint64_t max_size = UINT64_MAX;
  // A piece of a member's type as C spells it ("task_struct" matches
  // "struct task_struct *"); nullopt: any type in the size range.
  std::optional<std::string> member_type;
};

struct FoundType {
  uint64_t size;
  std::string name;
};

// Every named type of the DWARF that matches, by size then name. Reads the
// type of each name in the size range (and, with member_type, its members):
// a few seconds on a distribution vmlinux.
std::vector<FoundType> search_types(TypeSystem& types, const TypeSearch& query);

}  // namespace kdive
