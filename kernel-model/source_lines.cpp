#include "kernel-model/source_lines.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "kernel-model/vmlinux.hpp"

namespace kdive {

namespace {

// A row's file as gdb names it: a relative name joined to the unit's build
// directory (as gdb, and so crash, does); and its path from the build
// directory, for finding it under a source tree (dis -s).
SourceLine source_line_of(Dwarf_Die* cu, const char* file, int number) {
  std::string path = file;
  std::string from_build_dir = path;
  Dwarf_Attribute attr;
  const char* dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
  std::string build_dir = dir != nullptr ? dir : "";
  while (build_dir.size() > 1 && build_dir.back() == '/') build_dir.pop_back();
  if (!build_dir.empty()) {
    if (path.front() != '/') {
      path = build_dir + "/" + path;
    } else if (path.size() > build_dir.size() + 1 && path.compare(0, build_dir.size(), build_dir) == 0 &&
               path[build_dir.size()] == '/') {
      from_build_dir = path.substr(build_dir.size() + 1);
    }
  }
  return SourceLine{path, number, from_build_dir};
}

}  // namespace

std::vector<SourceLine> SourceLines::rows_at(uint64_t address) {
  std::vector<SourceLine> rows;
  ::Dwarf* dwarf = vmlinux_.dwarf().get();
  Dwarf_Die cu;
  Dwarf_Lines* lines = nullptr;
  size_t count = 0;
  if (dwarf == nullptr || dwarf_addrdie(dwarf, address, &cu) == nullptr ||
      dwarf_getsrclines(&cu, &lines, &count) != 0) {
    return rows;
  }
  // Two passes: where the covering row starts, then the rows starting there
  // (names are only built for those).
  Dwarf_Addr best = 0;
  bool found = false;
  auto start_of = [&](size_t i, Dwarf_Addr& at) {
    Dwarf_Line* row = dwarf_onesrcline(lines, i);
    bool end = false;
    if (row == nullptr || dwarf_lineaddr(row, &at) != 0 || at > address) return static_cast<Dwarf_Line*>(nullptr);
    dwarf_lineendsequence(row, &end);
    return end ? nullptr : row;
  };
  for (size_t i = 0; i < count; ++i) {
    Dwarf_Addr at;
    if (start_of(i, at) == nullptr || (found && at <= best)) continue;
    found = true;
    best = at;
  }
  for (size_t i = 0; found && i < count; ++i) {
    Dwarf_Addr at;
    Dwarf_Line* row = start_of(i, at);
    if (row == nullptr || at != best) continue;
    const char* file = dwarf_linesrc(row, nullptr, nullptr);
    int number = 0;
    if (file != nullptr && *file != '\0' && dwarf_lineno(row, &number) == 0)
      rows.push_back(source_line_of(&cu, file, number));
  }
  return rows;
}

std::optional<SourceLine> find_source_line(::Dwarf* dwarf, uint64_t address) {
  if (dwarf == nullptr) return std::nullopt;
  Dwarf_Die cu;
  if (dwarf_addrdie(dwarf, address, &cu) == nullptr) return std::nullopt;
  // The row that covers the address: the highest start at or below it, even
  // when that row is not a statement start (addr2line, gdb and crash all
  // name a non-statement row's line for an address it starts), and among rows
  // starting there the last statement (for inlined code, the inlined
  // function's line), else the last row.
  Dwarf_Lines* lines = nullptr;
  size_t count = 0;
  if (dwarf_getsrclines(&cu, &lines, &count) != 0) return std::nullopt;
  Dwarf_Line* line = nullptr;
  Dwarf_Addr best = 0;
  bool best_stmt = false;
  for (size_t i = 0; i < count; ++i) {
    Dwarf_Line* row = dwarf_onesrcline(lines, i);
    Dwarf_Addr at;
    bool end = false, stmt = false;
    if (row == nullptr || dwarf_lineaddr(row, &at) != 0 || at > address) continue;
    dwarf_lineendsequence(row, &end);
    dwarf_linebeginstatement(row, &stmt);
    if (end || (line != nullptr && at < best) || (at == best && best_stmt && !stmt)) continue;
    best = at;
    best_stmt = stmt;
    line = row;
  }
  if (line == nullptr) return std::nullopt;
  const char* file = dwarf_linesrc(line, nullptr, nullptr);
  int number = 0;
  if (file == nullptr || *file == '\0' || dwarf_lineno(line, &number) != 0) return std::nullopt;
  return source_line_of(&cu, file, number);
}

std::optional<SourceLine> SourceLines::find(uint64_t address) {
  return find_source_line(vmlinux_.dwarf().get(), address);
}

}  // namespace kdive
