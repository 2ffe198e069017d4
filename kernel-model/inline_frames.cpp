#include "kernel-model/inline_frames.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <cstdlib>

#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// A DIE's name, following DW_AT_abstract_origin / DW_AT_specification: an
// inlined instance or an out-of-line copy carries its name only in the
// abstract DIE it points to.
std::string die_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  const char* name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
  return name != nullptr ? name : "??";
}

// Where an inlined subroutine was called from: its DW_AT_call_file (an index
// into the unit's file table) and DW_AT_call_line. A relative file name is
// joined to the unit's build directory, as SourceLines does for line-table
// rows, so both name a file alike.
SourceLine call_site_of(Dwarf_Die* inlined, Dwarf_Die* cu) {
  SourceLine where;
  Dwarf_Attribute attr;
  Dwarf_Word file_index = 0, line = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &line) == 0) where.line = static_cast<int>(line);
  Dwarf_Files* files = nullptr;
  size_t count = 0;
  if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &file_index) != 0 ||
      dwarf_getsrcfiles(cu, &files, &count) != 0 || file_index >= count) {
    return where;
  }
  const char* file = dwarf_filesrc(files, file_index, nullptr, nullptr);
  if (file == nullptr) return where;
  where.file = file;
  const char* dir = where.file.front() != '/' ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)) : nullptr;
  if (dir != nullptr && *dir != '\0') where.file = std::string(dir) + "/" + where.file;
  return where;
}

}  // namespace

InlineChain InlineFrames::at(VirtAddr address) const {
  InlineChain chain;
  if (!kernel_.layout().in_image(address)) return chain;
  ::Dwarf* dwarf = kernel_.vmlinux().dwarf().get();
  if (dwarf == nullptr) return chain;
  const uint64_t link_address = address.value() - kernel_.symbols().relocation();
  Dwarf_Die cu;
  if (dwarf_addrdie(dwarf, link_address, &cu) == nullptr) return chain;
  // The scopes that cover the address, innermost first: lexical blocks,
  // inlined subroutines, then the subprogram that owns the code, then the unit.
  Dwarf_Die* scopes = nullptr;
  const int count = dwarf_getscopes(&cu, link_address, &scopes);
  if (count <= 0) return chain;
  std::optional<SourceLine> next_location = kernel_.source_line(address.value());
  for (int i = 0; i < count; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_inlined_subroutine) {
      chain.inlined.push_back({die_name(&scopes[i]), next_location.value_or(SourceLine{})});
      next_location = call_site_of(&scopes[i], &cu);
    } else if (tag == DW_TAG_subprogram) {
      chain.function = die_name(&scopes[i]);
      break;
    }
  }
  std::free(scopes);
  if (!chain.inlined.empty()) chain.call_site = next_location;
  return chain;
}

}  // namespace kdive
