// eBPF instructions decoded from the bytes of a loaded program (its
// verifier-translated "xlated" code, bpf_prog.insnsi): each 8-byte slot's
// opcode, registers, offset and immediate, classified into the shapes the
// kernel's own disassembler (kernel/bpf/disasm.c) prints — an ALU operation on
// a register or an immediate, a load, a store, an atomic, a conditional jump,
// a call, an exit — with ld_imm64 taking two slots and its 64-bit immediate
// joined. Decoding only: the text is the command's (commands/bpf_insn_text),
// names of helpers and maps come from the kernel (bpf_helper_name below).
//
//   BpfProgram code = decode_bpf_insns(bytes);   // bytes: len * 8 of insnsi
//   for (const BpfInsn& i : code.insns)
//     if (i.kind == BpfInsnKind::Call) bpf_helper_name(k, i);  // "bpf_map_lookup_elem"
//   code.error;   // set when the bytes end inside an ld_imm64
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kdive {

class Kernel;

// include/uapi/linux/bpf_common.h and bpf.h: the opcode's fields.
namespace bpf_op {
// Classes (code & 0x07).
constexpr uint8_t kLd = 0x00, kLdx = 0x01, kSt = 0x02, kStx = 0x03, kAlu = 0x04, kJmp = 0x05, kJmp32 = 0x06,
                  kAlu64 = 0x07;
// Sizes (code & 0x18): 4, 2, 1 and 8 bytes.
constexpr uint8_t kW = 0x00, kH = 0x08, kB = 0x10, kDW = 0x18;
// Modes (code & 0xe0). PROBE_MEM (0x20 on LDX, 5.5) and PROBE_MEMSX (0x40 on
// LDX, 6.6) are the verifier's rewrites of loads from kernel memory that may
// fault: they load as MEM and MEMSX do.
constexpr uint8_t kImm = 0x00, kAbs = 0x20, kInd = 0x40, kMem = 0x60, kMemSx = 0x80, kAtomic = 0xc0;
// ALU operations (code & 0xf0).
constexpr uint8_t kAdd = 0x00, kSub = 0x10, kMul = 0x20, kDiv = 0x30, kOr = 0x40, kAnd = 0x50, kLsh = 0x60, kRsh = 0x70,
                  kNeg = 0x80, kMod = 0x90, kXor = 0xa0, kMov = 0xb0, kArsh = 0xc0, kEnd = 0xd0;
// Jump operations (code & 0xf0).
constexpr uint8_t kJa = 0x00, kJeq = 0x10, kJgt = 0x20, kJge = 0x30, kJset = 0x40, kJne = 0x50, kJsgt = 0x60,
                  kJsge = 0x70, kCall = 0x80, kExit = 0x90, kJlt = 0xa0, kJle = 0xb0, kJslt = 0xc0, kJsle = 0xd0;
// The source bit (code & 0x08): an immediate or a register; on END, to
// little or to big endian.
constexpr uint8_t kK = 0x00, kX = 0x08;
// Atomic operations (the immediate of an atomic STX, 5.12): BPF_ADD, OR,
// AND, XOR, optionally | FETCH, and XCHG, CMPXCHG (which always fetch).
constexpr int32_t kFetch = 0x01, kXchg = 0xe0 | kFetch, kCmpXchg = 0xf0 | kFetch;
// src_reg of a call: another function of the program, or a kernel
// function (kfunc, 5.13); of an ld_imm64: what the immediate is.
constexpr uint8_t kPseudoCall = 1, kPseudoKfuncCall = 2;
constexpr uint8_t kPseudoMapFd = 1, kPseudoMapValue = 2;
}  // namespace bpf_op

enum class BpfInsnKind {
  AluImm,      // dst op= imm (32-bit for ALU, 64 for ALU64)
  AluReg,      // dst op= src
  Neg,         // dst = -dst
  Endian,      // dst = be16/le32... dst (ALU | END)
  ByteSwap,    // dst = bswap16/32/64 dst (ALU64 | END, 6.6)
  Load,        // dst = *(size *)(src + off)  (LDX MEM, PROBE_MEM)
  LoadSigned,  // dst = *(s8/16/32 *)(src + off)  (LDX MEMSX, 6.6)
  StoreImm,    // *(size *)(dst + off) = imm  (ST MEM)
  StoreReg,    // *(size *)(dst + off) = src  (STX MEM)
  Atomic,      // STX ATOMIC (XADD before 5.12): imm says which operation
  LoadAbs,     // r0 = *(size *)skb[imm]  (classic BPF's packet loads)
  LoadInd,     // r0 = *(size *)skb[src + imm]
  LoadImm64,   // dst = imm64, two slots
  Call,        // a helper, a kfunc or (src_reg 1) a function of the program
  Jump,        // goto pc+off  (JMP | JA; JMP32 | JA is gotol pc+imm, 6.6)
  Exit,
  CondImm,  // if dst op imm goto pc+off
  CondReg,  // if dst op src goto pc+off
  Unknown,  // an opcode no kernel uses: printed by its code alone
};

struct BpfInsn {
  size_t index = 0;  // the slot number (an ld_imm64's second slot has none of its own)
  uint8_t code = 0;
  uint8_t dst = 0, src = 0;
  int16_t off = 0;
  int32_t imm = 0;
  uint64_t imm64 = 0;  // LoadImm64: both slots' immediates joined
  BpfInsnKind kind = BpfInsnKind::Unknown;
  std::vector<std::byte> bytes;  // as in memory: 8 bytes, 16 for ld_imm64

  uint8_t cls() const { return code & 0x07; }
  uint8_t op() const { return code & 0xf0; }
  uint8_t size() const { return code & 0x18; }
  uint8_t mode() const { return code & 0xe0; }
  bool src_is_reg() const { return (code & 0x08) != 0; }
  // The size in bytes named by size(): 4, 2, 1, 8.
  int size_bytes() const;
  // JMP32 compares and ALU operates on the low 32 bits.
  bool is_32bit() const { return cls() == bpf_op::kAlu || cls() == bpf_op::kJmp32; }
};

struct BpfProgram {
  std::vector<BpfInsn> insns;
  // Set when the bytes do not end on an instruction: a trailing partial slot,
  // or an ld_imm64 whose second slot is missing.
  std::optional<std::string> error;
};

// Decodes `bytes` (a whole number of 8-byte slots, little-endian as on x86_64).
BpfProgram decode_bpf_insns(std::span<const std::byte> bytes);

// The name of the function a Call reaches, as bpftool and crash name it:
// a helper id the verifier left (imm below __BPF_FUNC_MAX_ID) by its enum
// bpf_func_id name ("BPF_FUNC_map_lookup_elem" is "bpf_map_lookup_elem");
// otherwise the kernel symbol at __bpf_call_base + imm, where the verifier's
// fixup points a helper or kfunc call. "" when neither names it, and for calls
// of the program's own functions (src_reg 1: their target is pc+imm).
std::string bpf_helper_name(const Kernel& k, const BpfInsn& call);

}  // namespace kdive
