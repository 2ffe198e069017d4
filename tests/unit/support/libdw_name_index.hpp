// The DWARF name index computed the slow, obvious way — libdw walking every
// unit's top-level DIEs — as the reference the fast raw scan (DwarfIndex) is
// compared with, on the test programs and on real vmlinux files. Same rules:
// a definition beats a declaration, then the lowest DIE offset wins.
#pragma once

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "kernel-model/dwarf_name_scan.hpp"

namespace kdive::test {

struct ReferenceEntry {
  uint64_t die;
  int64_t value;
  bool declaration;
};
using ReferenceIndex = std::array<std::map<std::string, ReferenceEntry>, kNameKinds>;

inline std::optional<NameKind> reference_kind(int tag) {
  switch (tag) {
    case DW_TAG_structure_type:
      return NameKind::Struct;
    case DW_TAG_union_type:
      return NameKind::Union;
    case DW_TAG_enumeration_type:
      return NameKind::Enum;
    case DW_TAG_typedef:
      return NameKind::Typedef;
    case DW_TAG_base_type:
      return NameKind::Base;
    case DW_TAG_variable:
      return NameKind::Variable;
    case DW_TAG_subprogram:
      return NameKind::Function;
    default:
      return std::nullopt;
  }
}

inline void reference_add(ReferenceIndex& index, NameKind kind, const std::string& name, ReferenceEntry e) {
  auto [it, inserted] = index[static_cast<size_t>(kind)].try_emplace(name, e);
  if (!inserted && it->second.declaration && !e.declaration) it->second = e;  // DIEs come in offset order
}

inline ReferenceIndex reference_name_index(const std::filesystem::path& file) {
  ReferenceIndex index;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  Dwarf* dw = fd >= 0 ? dwarf_begin(fd, DWARF_C_READ) : nullptr;
  if (dw == nullptr) {
    if (fd >= 0) ::close(fd);
    return index;
  }
  Dwarf_Off off = 0, next;
  size_t header_size;
  while (dwarf_nextcu(dw, off, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu, die;
    if (dwarf_offdie(dw, off + header_size, &cu) != nullptr && dwarf_child(&cu, &die) == 0) {
      do {
        auto kind = reference_kind(dwarf_tag(&die));
        if (!kind) continue;
        if (*kind == NameKind::Enum) {
          Dwarf_Die child;
          if (dwarf_child(&die, &child) == 0) {
            do {
              Dwarf_Attribute attr;
              const char* name = dwarf_diename(&child);
              if (dwarf_tag(&child) != DW_TAG_enumerator || name == nullptr ||
                  dwarf_attr(&child, DW_AT_const_value, &attr) == nullptr) {
                continue;
              }
              int64_t value;
              if (dwarf_whatform(&attr) == DW_FORM_sdata) {
                Dwarf_Sword v;
                dwarf_formsdata(&attr, &v);
                value = v;
              } else {
                Dwarf_Word u;
                if (dwarf_formudata(&attr, &u) != 0) continue;
                value = static_cast<int64_t>(u);
              }
              reference_add(index, NameKind::Enumerator, name, {dwarf_dieoffset(&die), value, false});
            } while (dwarf_siblingof(&child, &child) == 0);
          }
        }
        const char* name = dwarf_diename(&die);
        if (name == nullptr || *name == '\0') continue;
        bool declaration = dwarf_hasattr(&die, DW_AT_declaration) ||
                           (*kind == NameKind::Variable && !dwarf_hasattr(&die, DW_AT_location)) ||
                           (*kind == NameKind::Function && !dwarf_hasattr(&die, DW_AT_low_pc));
        reference_add(index, *kind, name, {dwarf_dieoffset(&die), 0, declaration});
      } while (dwarf_siblingof(&die, &die) == 0);
    }
    off = next;
  }
  dwarf_end(dw);
  ::close(fd);
  return index;
}

}  // namespace kdive::test
