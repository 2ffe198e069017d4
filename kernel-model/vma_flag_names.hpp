// The names of vm_flags bits (VM_READ, VM_WRITE, ... without the prefix, in
// capitals as crash prints them), taken from the kernel itself: mm/debug.c's
// vmaflag_names[], the struct trace_print_flags {mask, name} table that
// printk's %pGv uses, ended by a NULL name. The kernel builds that table from
// the same VM_* definitions it uses (include/trace/events/mmflags.h), so the
// names follow each kernel's bits — VM_DENYWRITE went away in 5.15 (commit
// 8d0920bde5eb), VM_UFFD_MINOR, VM_SEALED and others came — where a table of
// ours would be wrong for some kernel (crash's is: it calls 0x8000000
// CAN_NONLINEAR, which 5.10 uses for VM_SOFTDIRTY). mm/debug.c is built into
// every kernel (it is what %pGv needs), and each fixture kernel's DWARF and
// symbols have the table, so there is no fallback to the kernel's sources.
//
//   VmaFlagNames names(kernel);            // throws Error(Lookup) without vmaflag_names
//   names.describe(0x8100073);             // {"READ", "WRITE", "MAYREAD", ...}, unknown bits apart
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kdive {

class Kernel;

struct VmaFlagName {
  uint64_t mask = 0;
  std::string name;  // upper case, "READ"
};

struct DecodedVmaFlags {
  std::vector<std::string> names;  // in the table's order
  uint64_t unknown = 0;            // bits set that no entry of the table names
};

class VmaFlagNames {
 public:
  // Reads the table once; throws Error(Lookup) when the kernel has no
  // vmaflag_names and Fault when it cannot be read.
  explicit VmaFlagNames(const Kernel& k);
  const std::vector<VmaFlagName>& table() const { return table_; }
  DecodedVmaFlags describe(uint64_t flags) const;

 private:
  std::vector<VmaFlagName> table_;
};

}  // namespace kdive
