#include "kernel-model/type_scope.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fmt/format.h>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

// How deep blocks nest inside a function before the walk stops: C code
// nests braces a few levels; a damaged or hostile DIE tree must not recurse
// without end.
constexpr int kMaxBlockDepth = 64;

const char* name_of(Dwarf_Die* die) {
  // A definition that completes a declaration elsewhere carries its name
  // through DW_AT_specification.
  Dwarf_Attribute attr;
  return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

// A variable at a fixed link-time address (DW_OP_addr), as a static or
// global variable is; a variable on the stack or in a register has none.
std::optional<uint64_t> fixed_address(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  Dwarf_Op* ops = nullptr;
  size_t n = 0;
  if (dwarf_attr(die, DW_AT_location, &attr) == nullptr || dwarf_getlocation(&attr, &ops, &n) != 0 || n != 1 ||
      ops[0].atom != DW_OP_addr) {
    return std::nullopt;
  }
  return ops[0].number;
}

int64_t enumerator_value(Dwarf_Die* die) {
  // As TypeSystem reads it: data1..data8 unsigned, sdata signed.
  Dwarf_Attribute attr;
  if (dwarf_attr(die, DW_AT_const_value, &attr) == nullptr) return 0;
  unsigned form = dwarf_whatform(&attr);
  if (form == DW_FORM_sdata || form == DW_FORM_implicit_const) {
    Dwarf_Sword v = 0;
    dwarf_formsdata(&attr, &v);
    return v;
  }
  Dwarf_Word u = 0;
  dwarf_formudata(&attr, &u);
  return static_cast<int64_t>(u);
}

void add(TypeScope::Names& names, NameKind kind, const char* name, uint64_t id, int64_t value = 0) {
  // insert_or_assign: within one scan a later DIE of the same name replaces an
  // earlier one, as an inner block's name hides an outer one (blocks are
  // scanned outermost first).
  names.by_kind[static_cast<size_t>(kind)].insert_or_assign(name, DwarfIndexEntry{id, value, 0, 0});
}

// Adds the names the children of `parent` define (one level: a unit's top
// level, or one block's own declarations).
void scan_children(Dwarf_Die* parent, uint64_t id_base, TypeScope::Names& names, bool top_level) {
  Dwarf_Die child;
  if (dwarf_child(parent, &child) != 0) return;
  do {
    const uint64_t id = id_base | dwarf_dieoffset(&child);
    const int tag = dwarf_tag(&child);
    const bool declaration = dwarf_hasattr(&child, DW_AT_declaration);
    const char* name = name_of(&child);
    switch (tag) {
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
        // A declaration (`struct foo;`) says nothing of the layout: the index
        // then finds the definition, as it does without a scope.
        if (name != nullptr && !declaration) {
          add(names, tag == DW_TAG_structure_type ? NameKind::Struct : NameKind::Union, name, id);
        }
        break;
      case DW_TAG_enumeration_type: {
        if (declaration) break;
        if (name != nullptr) add(names, NameKind::Enum, name, id);
        Dwarf_Die e;
        if (dwarf_child(&child, &e) == 0) {
          do {
            const char* en = dwarf_diename(&e);
            if (dwarf_tag(&e) == DW_TAG_enumerator && en != nullptr) {
              add(names, NameKind::Enumerator, en, id, enumerator_value(&e));
            }
          } while (dwarf_siblingof(&e, &e) == 0);
        }
        break;
      }
      case DW_TAG_typedef:
        if (name != nullptr) add(names, NameKind::Typedef, name, id);
        break;
      case DW_TAG_variable:
        // Only variables with a place of their own: an extern declaration
        // has the type of the definition the index finds, and a local on
        // the stack has no value without a frame (kdive's p could not read it).
        if (name == nullptr || declaration) break;
        // Address 0: the linker dropped its section (.modinfo strings of built-in code).
        if (auto address = fixed_address(&child); address && *address != 0) {
          add(names, NameKind::Variable, name, id);
          names.addresses.insert_or_assign(name, *address);
        }
        break;
      case DW_TAG_subprogram:
        if (top_level && name != nullptr && !declaration) add(names, NameKind::Function, name, id);
        break;
      default:
        break;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// The names of the blocks covering `address` below `die` (a function or a
// block that covers it), outermost first so inner ones win.
void scan_blocks(Dwarf_Die* die, uint64_t address, uint64_t id_base, TypeScope::Names& names, int depth) {
  if (depth > kMaxBlockDepth) return;
  scan_children(die, id_base, names, false);
  // The out-of-line copy of a function GCC also inlines (or a clone of it)
  // names its abstract instance, where the local types are declared.
  Dwarf_Attribute attr;
  Dwarf_Die origin;
  if (dwarf_attr(die, DW_AT_abstract_origin, &attr) != nullptr && dwarf_formref_die(&attr, &origin) != nullptr) {
    scan_children(&origin, id_base, names, false);
  }
  Dwarf_Die child;
  if (dwarf_child(die, &child) != 0) return;
  do {
    if (dwarf_tag(&child) == DW_TAG_lexical_block && dwarf_haspc(&child, address) == 1) {
      scan_blocks(&child, address, id_base, names, depth + 1);
      return;  // blocks at one level do not overlap
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

// The unit whose code covers `address`: the address ranges table first (one
// lookup), else each unit's own ranges (a table that leaves a unit out).
bool unit_at(::Dwarf* dwarf, uint64_t address, Dwarf_Die* cu) {
  if (dwarf_addrdie(dwarf, address, cu) != nullptr) return true;
  Dwarf_Off offset = 0, next;
  size_t header = 0;
  while (dwarf_nextcu(dwarf, offset, &next, &header, nullptr, nullptr, nullptr) == 0) {
    if (dwarf_offdie(dwarf, offset + header, cu) != nullptr && dwarf_haspc(cu, address) == 1) return true;
    offset = next;
  }
  return false;
}

}  // namespace

void TypeScope::set(::Dwarf* dwarf, uint64_t address, uint64_t id_base) {
  Dwarf_Die cu;
  if (dwarf == nullptr || !unit_at(dwarf, address, &cu)) {
    throw Error(Error::Kind::Lookup, fmt::format("no compilation unit in the debug info covers {:x}", address));
  }
  const uint64_t unit_id = id_base | dwarf_dieoffset(&cu);
  auto& names = units_[unit_id];
  if (!names) {
    names = std::make_unique<Names>();
    scan_children(&cu, id_base, *names, true);
  }
  Names blocks;
  std::string function;
  Dwarf_Die child;
  if (dwarf_child(&cu, &child) == 0) {
    do {
      if (dwarf_tag(&child) == DW_TAG_subprogram && dwarf_haspc(&child, address) == 1) {
        const char* n = name_of(&child);
        if (n == nullptr) {
          // An out-of-line instance names its function through its origin.
          Dwarf_Attribute attr;
          Dwarf_Die origin;
          if (dwarf_attr(&child, DW_AT_abstract_origin, &attr) != nullptr &&
              dwarf_formref_die(&attr, &origin) != nullptr) {
            n = name_of(&origin);
          }
        }
        function = n != nullptr ? n : "";
        scan_blocks(&child, address, id_base, blocks, 0);
        break;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
  }
  const char* unit_name = dwarf_diename(&cu);
  unit_ = names.get();
  blocks_ = std::move(blocks);
  unit_name_ = unit_name != nullptr ? unit_name : "";
  function_name_ = std::move(function);
  unit_id_ = unit_id;
  id_base_ = id_base;
}

void TypeScope::clear() {
  unit_ = nullptr;
  blocks_ = Names{};
  unit_name_.clear();
  function_name_.clear();
  unit_id_ = 0;
  id_base_ = 0;
}

const DwarfIndexEntry* TypeScope::find(NameKind kind, std::string_view name) const {
  if (unit_ == nullptr) return nullptr;
  const std::string key(name);
  for (const Names* names : {&blocks_, unit_}) {
    const auto& table = names->by_kind[static_cast<size_t>(kind)];
    if (auto it = table.find(key); it != table.end()) return &it->second;
  }
  return nullptr;
}

std::optional<uint64_t> TypeScope::variable_address(std::string_view name) const {
  if (unit_ == nullptr) return std::nullopt;
  const std::string key(name);
  for (const Names* names : {&blocks_, unit_}) {
    // A name the block defines hides the unit's even when the block's has no
    // fixed place (then there is no address to give).
    if (names->by_kind[static_cast<size_t>(NameKind::Variable)].contains(key)) {
      auto it = names->addresses.find(key);
      return it != names->addresses.end() ? std::optional<uint64_t>(it->second) : std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace kdive
