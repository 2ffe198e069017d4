// Disassembler: one x86_64 instruction at a time, from bytes, printed as gdb
// and objdump print it (AT&T syntax), by binutils' libopcodes — the decoder
// gdb itself uses, so `dis` reads the same as every other tool a kernel
// engineer has. Addresses an instruction refers to (branch and call targets,
// RIP-relative operands) are printed as "0x<hex>" followed by what the caller's
// namer says about them (" <panic>"), as gdb does.
//
//   Disassembler dis([&](uint64_t a) { return name_of(a); });   // "<schedule+42>" or ""
//   std::optional<Instruction> insn = dis.decode(0xffffffff816a89f0, bytes);
//   // insn->length == 5, insn->text == "nopl   0x0(%rax,%rax,1)"
//   // nullopt: the bytes ended before the instruction did (read more, or report)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace kdive {

// The longest x86 instruction: a decoder never needs more bytes than this.
constexpr size_t kMaxInstructionLength = 15;

struct Instruction {
  uint64_t address = 0;
  size_t length = 0;
  std::string text;  // mnemonic and operands, without trailing blanks
};

class Disassembler {
 public:
  // Names an address an instruction refers to: "<panic>", "<schedule+42>", or
  // "" to print the bare address.
  using AddressNamer = std::function<std::string(uint64_t address)>;

  explicit Disassembler(AddressNamer namer = {});
  ~Disassembler();
  Disassembler(const Disassembler&) = delete;
  Disassembler& operator=(const Disassembler&) = delete;

  // The instruction at `address`, whose bytes start at bytes[0]. nullopt when
  // `bytes` ends before the instruction does. Bytes that are no instruction
  // decode as libopcodes' "(bad)", as in gdb.
  std::optional<Instruction> decode(uint64_t address, std::span<const std::byte> bytes) const;

  // libopcodes' state and this decoder's callbacks (disassembler.cpp): public
  // only so the C callbacks there can name it.
  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace kdive
