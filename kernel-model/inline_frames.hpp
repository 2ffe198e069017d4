// InlineFrames: the functions the compiler inlined at a kernel text address,
// from the vmlinux's DWARF (the DW_TAG_inlined_subroutine scopes that cover
// the address, with their DW_AT_call_file / DW_AT_call_line), so a backtrace
// can show each physical frame as the chain of calls it stands for, innermost
// first, as gdb, drgn and `addr2line -i` do (bt --inline).
//
//   InlineFrames inlines(kernel);           // once per command
//   InlineChain c = inlines.at(frame.lookup_ip());
//   for (const InlinedCall& call : c.inlined)   // innermost first
//     print("{} (inlined) {}:{}", call.function, call.where.file, call.where.line);
//   if (c.call_site) print("{}:{}", c.call_site->file, c.call_site->line);  // in the frame's own function
//
// For `proc_reg_write` calling the inlined `pde_write` (5.10), at an address
// inside pde_write: inlined = [{pde_write, fs/proc/inode.c:345}], call_site =
// fs/proc/inode.c:357 (where proc_reg_write calls pde_write), function =
// "proc_reg_write" — addr2line -f -i's lines, in its order.
//
// Only the kernel image: a module address gives an empty chain (module DWARF
// is not read for line tables yet).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel-model/source_lines.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct InlinedCall {
  std::string function;  // the inlined function's name, as DWARF gives it
  // Where the address is inside that function: for the innermost one the
  // line table's row for the address (Kernel::source_line), for each outer
  // one the place where it calls the next inner one. Empty file when unknown.
  SourceLine where;
};

struct InlineChain {
  // The inlined functions at the address, innermost first; empty when the
  // address is in no inlined code (or has no DWARF).
  std::vector<InlinedCall> inlined;
  // With `inlined` not empty: where the function that owns the machine code
  // calls the outermost inlined one (addr2line -i's last line).
  std::optional<SourceLine> call_site;
  // The DWARF name of the function that owns the machine code ("" when no
  // DWARF covers the address): the ELF symbol's name without the compiler's
  // suffix (__handle_sysrq for __handle_sysrq.cold).
  std::string function;
};

class InlineFrames {
 public:
  explicit InlineFrames(const Kernel& kernel);

  // `address` is a run-time (relocated) text address: for a return address,
  // pass the address of the call (Frame::lookup_ip()). Kept per address:
  // the tasks of `foreach bt` share most of their frames (schedule, the
  // syscall entry), and each lookup walks a unit's DIE tree.
  const InlineChain& at(VirtAddr address) const;

 private:
  InlineChain lookup(VirtAddr address) const;

  const Kernel& kernel_;
  mutable SourceLines lines_;
  mutable std::unordered_map<uint64_t, InlineChain> chains_;
};

}  // namespace kdive
