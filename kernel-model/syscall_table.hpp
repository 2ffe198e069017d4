// The system call table (sys_call_table): for each number, the handler the
// kernel dispatched to — or, if something patched the table (a rootkit, a
// tracing hack), whatever the dump says is there — and where its source is.
//
//   for (const SyscallEntry& e : read_syscall_table(kernel, true)) e.number, e.symbol, e.file, e.line;
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct SyscallEntry {
  int number = 0;
  VirtAddr handler;    // run-time address read from the table
  std::string symbol;  // "__x64_sys_read", "name+0x10", or "" outside any symbol
  std::string file;    // source file as Kernel::source_line names it (as sym shows it); "" if unknown
  int line = 0;
};

// Every slot of sys_call_table. With `source_lines`, each handler's source
// file and line come from Kernel::source_line (slower: one line table per
// compilation unit). Throws Error(Lookup) without the symbol.
std::vector<SyscallEntry> read_syscall_table(const Kernel& kernel, bool source_lines);

}  // namespace kdive
