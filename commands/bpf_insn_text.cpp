#include "commands/bpf_insn_text.hpp"

#include <fmt/format.h>

#include <array>

namespace kdive {
namespace {

using namespace bpf_op;

std::string_view alu_operator(const BpfInsn& i) {
  // 6.6 ("bpf: Support new signed div/mod instructions"): off 1 on DIV and MOD makes them signed.
  const bool is_signed = i.off == 1;
  switch (i.op()) {
    case kAdd:
      return "+=";
    case kSub:
      return "-=";
    case kMul:
      return "*=";
    case kDiv:
      return is_signed ? "s/=" : "/=";
    case kOr:
      return "|=";
    case kAnd:
      return "&=";
    case kLsh:
      return "<<=";
    case kRsh:
      return ">>=";
    case kMod:
      return is_signed ? "s%=" : "%=";
    case kXor:
      return "^=";
    case kMov:
      return "=";
    case kArsh:
      return "s>>=";
  }
  return "?";
}

std::string_view jump_operator(uint8_t op) {
  switch (op) {
    case kJeq:
      return "==";
    case kJgt:
      return ">";
    case kJge:
      return ">=";
    case kJset:
      return "&";
    case kJne:
      return "!=";
    case kJsgt:
      return "s>";
    case kJsge:
      return "s>=";
    case kJlt:
      return "<";
    case kJle:
      return "<=";
    case kJslt:
      return "s<";
    case kJsle:
      return "s<=";
  }
  return "?";
}

std::string_view size_name(const BpfInsn& i) {
  switch (i.size()) {
    case kW:
      return "u32";
    case kH:
      return "u16";
    case kB:
      return "u8";
    default:
      return "u64";
  }
}

// "(r2 +0)": crash and the kernel print the offset with its sign always.
std::string memory_operand(uint8_t reg, int16_t off) { return fmt::format("(r{} {:+d})", reg, off); }

std::string alu_text(const BpfInsn& i) {
  const bool alu32 = i.cls() == kAlu;
  const std::string_view cast = alu32 ? "(u32) " : "";
  // 6.6 ("bpf: Support new sign-extension mov insns"): MOV with off 8, 16 or 32 sign-extends that many low bits of the
  // source.
  if (i.op() == kMov && i.kind == BpfInsnKind::AluReg && (i.off == 8 || i.off == 16 || i.off == 32)) {
    return fmt::format("{}r{} = (s{}) {}r{}", cast, i.dst, i.off, cast, i.src);
  }
  if (i.kind == BpfInsnKind::AluReg) return fmt::format("{}r{} {} {}r{}", cast, i.dst, alu_operator(i), cast, i.src);
  return fmt::format("{}r{} {} {}{}", cast, i.dst, alu_operator(i), cast, i.imm);
}

std::string atomic_text(const BpfInsn& i) {
  const std::string where = fmt::format("({} *){}", size_name(i), memory_operand(i.dst, i.off));
  const std::string_view width = i.size() == kDW ? "64" : "";
  std::string_view name;
  std::string_view assign;
  switch (i.imm & ~kFetch) {
    case kAdd:
      name = "add", assign = "+=";
      break;
    case kOr:
      name = "or", assign = "|=";
      break;
    case kAnd:
      name = "and", assign = "&=";
      break;
    case kXor:
      name = "xor", assign = "^=";
      break;
  }
  if (i.imm == kXchg) return fmt::format("r{} = atomic{}_xchg({}, r{})", i.src, width, where, i.src);
  if (i.imm == kCmpXchg) return fmt::format("r0 = atomic{}_cmpxchg({}, r0, r{})", width, where, i.src);
  if (name.empty()) return fmt::format("BUG_atomic_{:02x}", i.imm);
  if ((i.imm & kFetch) != 0) return fmt::format("r{} = atomic{}_fetch_{}({}, r{})", i.src, width, name, where, i.src);
  return fmt::format("lock *{} {} r{}", where, assign, i.src);
}

std::string load_imm64_text(const BpfInsn& i, const BpfInsnNames& names) {
  if (names.map_id) {
    if (std::optional<uint32_t> id = names.map_id(i.imm64)) return fmt::format("r{} = map[id:{}]", i.dst, *id);
  }
  return fmt::format("r{} = 0x{:x}", i.dst, i.imm64);
}

std::string call_text(const BpfInsn& i, const BpfInsnNames& names) {
  if (i.src == kPseudoCall) return fmt::format("call pc{:+d}", i.imm);
  std::string name = names.call ? names.call(i) : std::string();
  return fmt::format("call {}#{}", name.empty() ? "unknown" : name, i.imm);
}

std::string cond_text(const BpfInsn& i) {
  const char reg = i.cls() == kJmp32 ? 'w' : 'r';
  if (i.kind == BpfInsnKind::CondReg) {
    return fmt::format("if {}{} {} {}{} goto pc{:+d}", reg, i.dst, jump_operator(i.op()), reg, i.src, i.off);
  }
  return fmt::format("if {}{} {} 0x{:x} goto pc{:+d}", reg, i.dst, jump_operator(i.op()), static_cast<uint32_t>(i.imm),
                     i.off);
}

std::string body(const BpfInsn& i, const BpfInsnNames& names) {
  switch (i.kind) {
    case BpfInsnKind::AluImm:
    case BpfInsnKind::AluReg:
      return alu_text(i);
    case BpfInsnKind::Neg:
      return fmt::format("r{} = {}-r{}", i.dst, i.cls() == kAlu ? "(u32) " : "", i.dst);
    case BpfInsnKind::Endian:
      return fmt::format("r{} = {}{} r{}", i.dst, i.src_is_reg() ? "be" : "le", i.imm, i.dst);
    case BpfInsnKind::ByteSwap:
      return fmt::format("r{} = bswap{} r{}", i.dst, i.imm, i.dst);
    case BpfInsnKind::Load:
      return fmt::format("r{} = *({} *){}", i.dst, size_name(i), memory_operand(i.src, i.off));
    case BpfInsnKind::LoadSigned:
      return fmt::format("r{} = *(s{} *){}", i.dst, i.size_bytes() * 8, memory_operand(i.src, i.off));
    case BpfInsnKind::StoreImm:
      return fmt::format("*({} *){} = {}", size_name(i), memory_operand(i.dst, i.off), i.imm);
    case BpfInsnKind::StoreReg:
      return fmt::format("*({} *){} = r{}", size_name(i), memory_operand(i.dst, i.off), i.src);
    case BpfInsnKind::Atomic:
      return atomic_text(i);
    case BpfInsnKind::LoadAbs:
      return fmt::format("r0 = *({} *)skb[{}]", size_name(i), i.imm);
    case BpfInsnKind::LoadInd:
      return fmt::format("r0 = *({} *)skb[r{} + {}]", size_name(i), i.src, i.imm);
    case BpfInsnKind::LoadImm64:
      return load_imm64_text(i, names);
    case BpfInsnKind::Call:
      return call_text(i, names);
    case BpfInsnKind::Jump:
      // 6.6 ("bpf: Support new 32bit offset jmp instruction"): JMP32 | JA jumps by the 32-bit immediate.
      if (i.cls() == kJmp32) return fmt::format("gotol pc{:+d}", i.imm);
      return fmt::format("goto pc{:+d}", i.off);
    case BpfInsnKind::Exit:
      return "exit";
    case BpfInsnKind::CondImm:
    case BpfInsnKind::CondReg:
      return cond_text(i);
    case BpfInsnKind::Unknown:
      break;
  }
  return fmt::format("unknown {} instruction", bpf_class_name(i.code));
}

}  // namespace

std::string_view bpf_class_name(uint8_t code) {
  static constexpr std::array<std::string_view, 8> kNames = {"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64"};
  return kNames[code & 0x07];
}

std::string bpf_insn_text(const BpfInsn& insn, const BpfInsnNames& names) {
  return fmt::format("({:02x}) {}", insn.code, body(insn, names));
}

std::optional<int64_t> bpf_jump_target(const BpfInsn& insn) {
  const auto next = static_cast<int64_t>(insn.index) + 1;
  switch (insn.kind) {
    case BpfInsnKind::Jump:
      return next + (insn.cls() == kJmp32 ? insn.imm : insn.off);
    case BpfInsnKind::CondImm:
    case BpfInsnKind::CondReg:
      return next + insn.off;
    case BpfInsnKind::Call:
      if (insn.src == kPseudoCall) return next + insn.imm;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace kdive
