// The register block crash prints under a frame that saved the registers (an
// exception or interrupt inside the kernel, or the entry from user space),
// and the same registers in JSON.
//
//   out.print("{}", register_block(frame.regs));
//   //     RIP: 000000000047b7a0  RSP: 00007ffd603f4a68  RFLAGS: 00000202
//   //     RAX: ffffffffffffffda  RBX: 0000000000000001  RCX: 000000000047b7a0
//   //     ...
//   //     ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b
#pragma once

#include <string>

#include "commands/api/json_values.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

// Seven lines, each indented four spaces and ending in a newline.
std::string register_block(const X86Registers& regs);
// {"rip": "0x...", "rsp": ..., ..., "orig_rax", "cs", "ss"}: every value a hex string.
Json register_block_json(const X86Registers& regs);

}  // namespace kdive
