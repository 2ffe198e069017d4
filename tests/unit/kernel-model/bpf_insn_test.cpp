// The eBPF instruction decoder on hand-assembled slots: each class's fields
// and shape, ld_imm64's two slots joined, calls, exits, a backward jump, and
// code that ends inside an instruction.
#include "kernel-model/bpf_insn.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using kdive::BpfInsn;
using kdive::BpfInsnKind;
using kdive::BpfProgram;
using kdive::decode_bpf_insns;
namespace op = kdive::bpf_op;

namespace {

// One slot as the kernel stores it: code, dst in the low nibble and src in
// the high one, off and imm little-endian.
void emit(std::vector<std::byte>& out, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  out.push_back(std::byte{code});
  out.push_back(std::byte(static_cast<uint8_t>(dst | (src << 4))));
  uint8_t raw[6];
  std::memcpy(raw, &off, 2);
  std::memcpy(raw + 2, &imm, 4);
  for (uint8_t b : raw) out.push_back(std::byte{b});
}

BpfInsn one(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  std::vector<std::byte> bytes;
  emit(bytes, code, dst, src, off, imm);
  BpfProgram p = decode_bpf_insns(bytes);
  REQUIRE(p.insns.size() == 1);
  REQUIRE_FALSE(p.error);
  return p.insns[0];
}

}  // namespace

TEST_CASE("bpf decoder: fields of a slot", "[bpf_insn]") {
  // 0x69: LDX | H | MEM, r7 = *(u16 *)(r6 + 192).
  const BpfInsn i = one(0x69, 7, 6, 192, 0);
  CHECK(i.kind == BpfInsnKind::Load);
  CHECK(i.cls() == op::kLdx);
  CHECK(i.dst == 7);
  CHECK(i.src == 6);
  CHECK(i.off == 192);
  CHECK(i.size_bytes() == 2);
  CHECK(i.bytes.size() == 8);
  CHECK(i.bytes[1] == std::byte{0x67});
  // A negative offset and immediate keep their signs.
  const BpfInsn st = one(0x62, 10, 0, -4, -7);
  CHECK(st.kind == BpfInsnKind::StoreImm);
  CHECK(st.off == -4);
  CHECK(st.imm == -7);
  CHECK(st.size_bytes() == 4);
}

TEST_CASE("bpf decoder: every class", "[bpf_insn]") {
  CHECK(one(op::kAlu64 | op::kAdd | op::kK, 2, 0, 0, -4).kind == BpfInsnKind::AluImm);
  CHECK(one(op::kAlu64 | op::kMov | op::kX, 6, 1, 0, 0).kind == BpfInsnKind::AluReg);
  const BpfInsn alu32 = one(op::kAlu | op::kMov | op::kK, 8, 0, 0, 0);
  CHECK(alu32.kind == BpfInsnKind::AluImm);
  CHECK(alu32.is_32bit());
  CHECK(one(op::kAlu64 | op::kNeg, 3, 0, 0, 0).kind == BpfInsnKind::Neg);
  CHECK(one(op::kAlu | op::kEnd | op::kX, 3, 0, 0, 16).kind == BpfInsnKind::Endian);
  CHECK(one(op::kAlu64 | op::kEnd, 3, 0, 0, 64).kind == BpfInsnKind::ByteSwap);
  CHECK(one(op::kLdx | op::kMemSx | op::kB, 1, 2, 0, 0).kind == BpfInsnKind::LoadSigned);
  CHECK(one(op::kStx | op::kMem | op::kDW, 10, 1, -8, 0).kind == BpfInsnKind::StoreReg);
  const BpfInsn atomic = one(op::kStx | op::kAtomic | op::kW, 1, 2, 0, op::kAdd);
  CHECK(atomic.kind == BpfInsnKind::Atomic);
  // Atomics exist in 4 and 8 bytes only.
  CHECK(one(op::kStx | op::kAtomic | op::kB, 1, 2, 0, op::kAdd).kind == BpfInsnKind::Unknown);
  CHECK(one(op::kLd | op::kAbs | op::kH, 0, 0, 0, 12).kind == BpfInsnKind::LoadAbs);
  CHECK(one(op::kLd | op::kInd | op::kB, 0, 3, 0, 1).kind == BpfInsnKind::LoadInd);
  CHECK(one(op::kJmp | op::kJne | op::kK, 7, 0, 14, 8).kind == BpfInsnKind::CondImm);
  const BpfInsn jmp32 = one(op::kJmp32 | op::kJgt | op::kX, 1, 2, 3, 0);
  CHECK(jmp32.kind == BpfInsnKind::CondReg);
  CHECK(jmp32.is_32bit());
  CHECK(one(op::kJmp32 | op::kJa, 0, 0, 0, 100).kind == BpfInsnKind::Jump);
  // CALL and EXIT exist in the 64-bit jump class only.
  CHECK(one(op::kJmp32 | op::kCall, 0, 0, 0, 1).kind == BpfInsnKind::Unknown);
  CHECK(one(op::kJmp32 | op::kExit, 0, 0, 0, 0).kind == BpfInsnKind::Unknown);
  // ALU op 0xe0 and jump op 0xf0 are no operation.
  CHECK(one(op::kAlu64 | 0xe0, 1, 0, 0, 0).kind == BpfInsnKind::Unknown);
  CHECK(one(op::kJmp | 0xf0, 1, 0, 0, 0).kind == BpfInsnKind::Unknown);
}

TEST_CASE("bpf decoder: ld_imm64 takes two slots, call, exit, a backward jump", "[bpf_insn]") {
  std::vector<std::byte> code;
  emit(code, 0xb7, 0, 0, 0, 0);                                                // 0: r0 = 0
  emit(code, 0x18, 1, op::kPseudoMapFd, 0, static_cast<int32_t>(0x41f2ba00));  // 1-2: r1 = imm64
  emit(code, 0x00, 0, 0, 0, static_cast<int32_t>(0xffff9f5e));
  emit(code, 0x85, 0, 0, 0, 73760);  // 3: call
  emit(code, 0x05, 0, 0, -5, 0);     // 4: goto pc-5 (to 0)
  emit(code, 0x95, 0, 0, 0, 0);      // 5: exit
  const BpfProgram p = decode_bpf_insns(code);
  REQUIRE_FALSE(p.error);
  REQUIRE(p.insns.size() == 5);
  const BpfInsn& ld = p.insns[1];
  CHECK(ld.kind == BpfInsnKind::LoadImm64);
  CHECK(ld.index == 1);
  CHECK(ld.src == op::kPseudoMapFd);
  CHECK(ld.imm64 == 0xffff9f5e41f2ba00ull);
  CHECK(ld.bytes.size() == 16);
  CHECK(ld.bytes[15] == std::byte{0xff});
  // The slot after an ld_imm64 is its own second half, not an instruction.
  CHECK(p.insns[2].index == 3);
  CHECK(p.insns[2].kind == BpfInsnKind::Call);
  CHECK(p.insns[2].imm == 73760);
  CHECK(p.insns[3].kind == BpfInsnKind::Jump);
  CHECK(p.insns[3].off == -5);
  CHECK(p.insns[4].kind == BpfInsnKind::Exit);
  CHECK(p.insns[4].index == 5);
}

TEST_CASE("bpf decoder: code that ends inside an instruction says so", "[bpf_insn]") {
  std::vector<std::byte> code;
  emit(code, 0xb7, 0, 0, 0, 1);
  emit(code, 0x18, 1, 0, 0, 1);  // an ld_imm64 whose second slot is missing
  BpfProgram p = decode_bpf_insns(code);
  REQUIRE(p.error);
  CHECK(p.error->find("ld_imm64 at instruction 1") != std::string::npos);
  REQUIRE(p.insns.size() == 2);
  CHECK(p.insns[1].kind == BpfInsnKind::Unknown);

  code.resize(12);  // one whole slot and half of the next
  p = decode_bpf_insns(code);
  REQUIRE(p.error);
  CHECK(p.error->find("4 bytes after the last whole instruction") != std::string::npos);
  CHECK(p.insns.size() == 1);
}
