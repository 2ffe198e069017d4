#include "commands/register_block.hpp"

#include <fmt/format.h>

namespace kdive {

std::string register_block(const X86Registers& r) {
  // crash's layout: three registers a line, names right-aligned to three
  // characters (" R8:"), then the original rax and the segment selectors.
  return fmt::format(
      "    RIP: {:016x}  RSP: {:016x}  RFLAGS: {:08x}\n"
      "    RAX: {:016x}  RBX: {:016x}  RCX: {:016x}\n"
      "    RDX: {:016x}  RSI: {:016x}  RDI: {:016x}\n"
      "    RBP: {:016x}   R8: {:016x}   R9: {:016x}\n"
      "    R10: {:016x}  R11: {:016x}  R12: {:016x}\n"
      "    R13: {:016x}  R14: {:016x}  R15: {:016x}\n"
      "    ORIG_RAX: {:016x}  CS: {:04x}  SS: {:04x}\n",
      r.rip, r.rsp, r.eflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
      r.r14, r.r15, r.orig_rax, r.cs, r.ss);
}

Json register_block_json(const X86Registers& r) {
  return {{"rip", json_hex(r.rip)},           {"rsp", json_hex(r.rsp)}, {"rflags", json_hex(r.eflags)},
          {"rax", json_hex(r.rax)},           {"rbx", json_hex(r.rbx)}, {"rcx", json_hex(r.rcx)},
          {"rdx", json_hex(r.rdx)},           {"rsi", json_hex(r.rsi)}, {"rdi", json_hex(r.rdi)},
          {"rbp", json_hex(r.rbp)},           {"r8", json_hex(r.r8)},   {"r9", json_hex(r.r9)},
          {"r10", json_hex(r.r10)},           {"r11", json_hex(r.r11)}, {"r12", json_hex(r.r12)},
          {"r13", json_hex(r.r13)},           {"r14", json_hex(r.r14)}, {"r15", json_hex(r.r15)},
          {"orig_rax", json_hex(r.orig_rax)}, {"cs", json_hex(r.cs)},   {"ss", json_hex(r.ss)}};
}

}  // namespace kdive
