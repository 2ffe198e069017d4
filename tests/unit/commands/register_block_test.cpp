// The user-mode register block, laid out as crash 8.0.2 prints it under a
// task's entry_SYSCALL_64 frame (values from the bullseye fixture's panic task).
#include "commands/register_block.hpp"

#include <catch2/catch.hpp>

TEST_CASE("register_block lays registers out as crash does", "[register_block]") {
  kdive::X86Registers r{};
  r.rip = 0x47b7a0, r.rsp = 0x7ffd603f4a68, r.eflags = 0x202;
  r.rax = 0xffffffffffffffda, r.rbx = 1, r.rcx = 0x47b7a0;
  r.rdx = 2, r.rsi = 0xa67310, r.rdi = 1;
  r.rbp = 0xa67310, r.r8 = 0, r.r9 = 0;
  r.r10 = 0x1b6, r.r11 = 0x202, r.r12 = 2;
  r.r13 = 0xa603a0, r.r14 = 1, r.r15 = 0x7ffd603f4ad0;
  r.orig_rax = 1, r.cs = 0x33, r.ss = 0x2b;
  CHECK(kdive::register_block(r) ==
        "    RIP: 000000000047b7a0  RSP: 00007ffd603f4a68  RFLAGS: 00000202\n"
        "    RAX: ffffffffffffffda  RBX: 0000000000000001  RCX: 000000000047b7a0\n"
        "    RDX: 0000000000000002  RSI: 0000000000a67310  RDI: 0000000000000001\n"
        "    RBP: 0000000000a67310   R8: 0000000000000000   R9: 0000000000000000\n"
        "    R10: 00000000000001b6  R11: 0000000000000202  R12: 0000000000000002\n"
        "    R13: 0000000000a603a0  R14: 0000000000000001  R15: 00007ffd603f4ad0\n"
        "    ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b\n");
  kdive::Json j = kdive::register_block_json(r);
  CHECK(j["rsp"] == "0x7ffd603f4a68");
  CHECK(j["cs"] == "0x33");
  CHECK(j.size() == 21);
}
