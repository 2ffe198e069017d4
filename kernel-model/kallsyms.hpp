// Kallsyms: the kernel's own symbol table (what /proc/kallsyms shows for the
// kernel image), decoded from the dump's memory. It needs no vmlinux symbols,
// only where the tables are, from VMCOREINFO (SYMBOL(kallsyms_names) and
// friends, 6.x kernels and backports) or else from the vmlinux symbols. It backs
// up the vmlinux symbol table (a symbol the vmlinux lacks) and checks it (a
// vmlinux whose symbols disagree with the running kernel's).
//
// The tables (scripts/kallsyms.c): kallsyms_names is one entry per symbol in
// address order, a length byte (two bytes when the first has bit 7 set, since
// 6.1, commit 73bbb94466fd) then that many token numbers; each token expands
// through kallsyms_token_index (u16 offsets) into kallsyms_token_table (NUL-
// terminated strings). The first character of the expansion is the nm type
// letter. Addresses are kallsyms_offsets (s32) from kallsyms_relative_base;
// with KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP) a non-negative offset is an
// absolute per-CPU value and a negative one counts down from base - 1. Kernels
// built without base-relative tables have kallsyms_addresses (u64) instead.
//
//   Kallsyms ks = read_kallsyms(kernel);     // throws Error/Fault when absent
//   ks.symbols().address("linux_banner");
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "kernel-model/symbol_table.hpp"

namespace kdive {

class Kernel;

struct Kallsyms {
  SymbolTable table;
  std::unique_ptr<std::deque<std::string>> names = std::make_unique<std::deque<std::string>>();
  std::string source;  // where the table addresses came from: "VMCOREINFO" or "vmlinux"

  const SymbolTable& symbols() const { return table; }
};

Kallsyms read_kallsyms(const Kernel& k);

}  // namespace kdive
