// SourceLines: the source file and line of a kernel text address, from the
// vmlinux's DWARF line tables (what crash's `sym` prints after a text symbol).
// Reads through the vmlinux's one libdw handle (Vmlinux::dwarf()); the
// address ranges index (.debug_aranges) is read once, then each lookup decodes
// one compile unit's line table.
//
//   SourceLines lines(vmlinux);
//   auto where = lines.find(link_address);   // {"kernel/sched/core.c", 4620}
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kdive {

class Vmlinux;

struct SourceLine {
  std::string file;
  int line = 0;
};

class SourceLines {
 public:
  explicit SourceLines(const Vmlinux& vmlinux) : vmlinux_(vmlinux) {}

  // `address` is a link-time (unrelocated) address.
  std::optional<SourceLine> find(uint64_t address);

 private:
  const Vmlinux& vmlinux_;
};

}  // namespace kdive
