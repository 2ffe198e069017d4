#include "kernel-model/disassembler.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using kdive::Disassembler;
using kdive::Instruction;

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

constexpr uint64_t kAt = 0xffffffff816a89f0;

}  // namespace

TEST_CASE("the ftrace five-byte NOP decodes as gdb prints it") {
  Disassembler dis;
  auto code = bytes({0x0f, 0x1f, 0x44, 0x00, 0x00});
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->address == kAt);
  CHECK(insn->length == 5);
  CHECK(insn->text == "nopl   0x0(%rax,%rax,1)");
}

TEST_CASE("a call target is an absolute address followed by the namer's name") {
  // e8 rel32: the target is the next instruction (kAt + 5) plus rel32 = 0x100.
  auto code = bytes({0xe8, 0x00, 0x01, 0x00, 0x00});
  std::vector<uint64_t> asked;
  Disassembler dis([&](uint64_t a) {
    asked.push_back(a);
    return std::string("<panic>");
  });
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->length == 5);
  CHECK(insn->text == "call   0xffffffff816a8af5 <panic>");
  CHECK(asked == std::vector<uint64_t>{kAt + 5 + 0x100});
}

TEST_CASE("an address the namer does not know is printed bare") {
  Disassembler dis([](uint64_t) { return std::string(); });
  auto code = bytes({0xeb, 0xfe});  // jmp to itself
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->length == 2);
  CHECK(insn->text == "jmp    0xffffffff816a89f0");
}

TEST_CASE("a RIP-relative operand gets gdb's comment with the address it reads") {
  // mov 0x10(%rip),%rax: reads kAt + 7 + 0x10.
  auto code = bytes({0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00});
  Disassembler dis([](uint64_t a) { return a == kAt + 7 + 0x10 ? std::string("<jiffies>") : std::string(); });
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->length == 7);
  CHECK(insn->text == "mov    0x10(%rip),%rax        # 0xffffffff816a8a07 <jiffies>");
}

TEST_CASE("one instruction is decoded from a longer buffer, with no trailing blanks") {
  Disassembler dis;
  auto code = bytes({0xc3, 0xcc, 0xcc, 0xcc});  // ret; int3 ...
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->length == 1);
  CHECK(insn->text == "ret");
  auto next = dis.decode(kAt + 1, std::span(code).subspan(1));
  REQUIRE(next);
  CHECK(next->text == "int3");
}

TEST_CASE("bytes that end inside an instruction give no instruction") {
  Disassembler dis;
  auto code = bytes({0xe8, 0x00, 0x01});  // a call missing two bytes of its offset
  CHECK_FALSE(dis.decode(kAt, code));
  CHECK_FALSE(dis.decode(kAt, std::span<const std::byte>{}));
  // The same decoder still works afterwards.
  auto whole = bytes({0x90});
  auto insn = dis.decode(kAt, whole);
  REQUIRE(insn);
  CHECK(insn->text == "nop");
}

TEST_CASE("a byte that is no x86_64 instruction decodes as (bad), as gdb shows it") {
  Disassembler dis;
  auto code = bytes({0x06, 0x90});  // push %es does not exist in 64-bit mode
  auto insn = dis.decode(kAt, code);
  REQUIRE(insn);
  CHECK(insn->length == 1);
  CHECK(insn->text == "(bad)");
}
