// SourceLines: the source file and line of a kernel text address, from the
// vmlinux's DWARF line tables: what crash's `sym` prints after a text symbol,
// and the one lookup behind every command that names a source line (sym,
// sys -c, bt -l, dis -l), so they all name a line alike. Reads through the
// vmlinux's one libdw handle (Vmlinux::dwarf()); the address ranges index
// (.debug_aranges) is read once, then each lookup decodes one compile unit's
// line table. Module code is looked up the same way in the module's own line
// table (module_lines.hpp), through find_source_line().
//
//   SourceLines lines(vmlinux);
//   auto where = lines.find(link_address);
//   // {"debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c", 4620,
//   //  "kernel/sched/core.c"}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct Dwarf;  // libdw

namespace kdive {

class Vmlinux;

struct SourceLine {
  // As gdb names it: the line table's name, joined to the unit's compilation
  // directory when relative. Debian records that directory relative to the
  // source tree ("debian/build/build_amd64_none_cloud-amd64"), so the path is
  // relative too.
  std::string file;
  int line = 0;
  // The file's path from the unit's compilation directory: the line table's
  // name when relative, the part after the compilation directory when the name
  // is absolute below it, else the absolute name. What a source tree kept
  // elsewhere is searched by (dis -s with `set srcdir`).
  std::string from_build_dir;
};

// The line of `address` in one DWARF's line tables (addresses as that DWARF
// has them), or nullopt.
std::optional<SourceLine> find_source_line(::Dwarf* dwarf, uint64_t address);

class SourceLines {
 public:
  explicit SourceLines(const Vmlinux& vmlinux) : vmlinux_(vmlinux) {}

  // `address` is a link-time (unrelocated) address.
  std::optional<SourceLine> find(uint64_t address);
  // Every row that starts where the row covering `address` starts, in table
  // order: several where zero-length rows of inlined code share an address
  // (find() names the last statement of them; InlineFrames picks the one in
  // the inlined function's own file).
  std::vector<SourceLine> rows_at(uint64_t address);

 private:
  const Vmlinux& vmlinux_;
};

}  // namespace kdive
