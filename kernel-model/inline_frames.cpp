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

// A file table name as SourceLines names a line-table row's file: a relative
// name joined to the unit's build directory.
std::string unit_path(Dwarf_Die* cu, const char* file) {
  std::string path = file;
  Dwarf_Attribute attr;
  const char* dir = path.front() != '/' ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)) : nullptr;
  if (dir != nullptr && *dir != '\0') path = std::string(dir) + "/" + path;
  return path;
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
  if (file != nullptr && *file != '\0') where.file = unit_path(cu, file);
  return where;
}

// Where the address is inside the innermost inlined function. Where several
// zero-length line-table rows start at the address (the views of an inlined
// call's first instruction), the row Kernel::source_line names (the last
// statement, as gdb) may be a line of the caller; the row in the inlined
// function's own file is where the address is in it (trixie: native_halt at
// stop_this_cpu's hlt is irqflags.h:55, not process.c:857). nullopt when
// there is no such choice.
std::optional<SourceLine> row_in_own_file(SourceLines& lines, Dwarf_Die* inlined, Dwarf_Die* cu,
                                          uint64_t link_address) {
  const char* decl = dwarf_decl_file(inlined);
  if (decl == nullptr || *decl == '\0') return std::nullopt;
  const std::string own = unit_path(cu, decl);
  std::vector<SourceLine> rows = lines.rows_at(link_address);
  if (rows.size() < 2) return std::nullopt;
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    if (row->file == own) return *row;
  }
  return std::nullopt;
}

}  // namespace

InlineFrames::InlineFrames(const Kernel& kernel) : kernel_(kernel), lines_(kernel.vmlinux()) {}

const InlineChain& InlineFrames::at(VirtAddr address) const {
  auto it = chains_.find(address.value());
  if (it == chains_.end()) it = chains_.emplace(address.value(), lookup(address)).first;
  return it->second;
}

InlineChain InlineFrames::lookup(VirtAddr address) const {
  InlineChain chain;
  if (!kernel_.layout().in_image(address)) return chain;
  ::Dwarf* dwarf = kernel_.vmlinux().dwarf().get();
  if (dwarf == nullptr) return chain;
  const uint64_t link_address = address.value() - kernel_.symbols().relocation();
  Dwarf_Die cu;
  if (dwarf_addrdie(dwarf, link_address, &cu) == nullptr) return chain;
  // The scopes that cover the address, innermost first: lexical blocks,
  // inlined subroutines, then the subprogram that owns the code, then the unit.
  // Past the innermost inlined subroutine dwarf_getscopes follows that
  // function's own definition (the scopes its names resolve in), not the code
  // it was inlined into; dwarf_getscopes_die gives the latter, the DIEs that
  // physically enclose it, as elfutils' addr2line -i does.
  Dwarf_Die* scopes = nullptr;
  int count = dwarf_getscopes(&cu, link_address, &scopes);
  if (count <= 0) return chain;
  for (int i = 0; i < count; ++i) {
    if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine) continue;
    Dwarf_Die innermost = scopes[i];
    std::free(scopes);
    scopes = nullptr;
    count = dwarf_getscopes_die(&innermost, &scopes);
    if (count <= 0) return chain;
    break;
  }
  std::optional<SourceLine> next_location;  // where the address is in the next function out
  for (int i = 0; i < count; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_inlined_subroutine && chain.inlined.empty()) {
      next_location = row_in_own_file(lines_, &scopes[i], &cu, link_address);
      if (!next_location) next_location = kernel_.source_line(address.value());
    }
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
