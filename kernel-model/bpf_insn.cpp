#include "kernel-model/bpf_insn.hpp"

#include <fmt/format.h>

#include <cstring>

#include "kernel-model/kernel.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

constexpr size_t kSlot = 8;  // sizeof(struct bpf_insn)

// The slot's fields: code, then dst_reg in the low and src_reg in the high
// nibble (the bitfield order on little-endian), off (s16), imm (s32).
BpfInsn read_slot(std::span<const std::byte> slot, size_t index) {
  BpfInsn i;
  i.index = index;
  i.code = static_cast<uint8_t>(slot[0]);
  const auto regs = static_cast<uint8_t>(slot[1]);
  i.dst = regs & 0x0f;
  i.src = regs >> 4;
  uint16_t off = 0;
  uint32_t imm = 0;
  std::memcpy(&off, slot.data() + 2, sizeof off);
  std::memcpy(&imm, slot.data() + 4, sizeof imm);
  i.off = static_cast<int16_t>(off);
  i.imm = static_cast<int32_t>(imm);
  i.bytes.assign(slot.begin(), slot.begin() + kSlot);
  return i;
}

BpfInsnKind alu_kind(const BpfInsn& i) {
  using namespace bpf_op;
  switch (i.op()) {
    case kNeg:
      return BpfInsnKind::Neg;
    case kEnd:
      return i.cls() == kAlu ? BpfInsnKind::Endian : BpfInsnKind::ByteSwap;
    case kAdd:
    case kSub:
    case kMul:
    case kDiv:
    case kOr:
    case kAnd:
    case kLsh:
    case kRsh:
    case kMod:
    case kXor:
    case kMov:
    case kArsh:
      return i.src_is_reg() ? BpfInsnKind::AluReg : BpfInsnKind::AluImm;
    default:
      return BpfInsnKind::Unknown;
  }
}

BpfInsnKind jmp_kind(const BpfInsn& i) {
  using namespace bpf_op;
  switch (i.op()) {
    case kJa:
      return i.src_is_reg() ? BpfInsnKind::Unknown : BpfInsnKind::Jump;
    case kCall:
      return i.cls() == kJmp ? BpfInsnKind::Call : BpfInsnKind::Unknown;
    case kExit:
      return i.cls() == kJmp ? BpfInsnKind::Exit : BpfInsnKind::Unknown;
    case kJeq:
    case kJgt:
    case kJge:
    case kJset:
    case kJne:
    case kJsgt:
    case kJsge:
    case kJlt:
    case kJle:
    case kJslt:
    case kJsle:
      return i.src_is_reg() ? BpfInsnKind::CondReg : BpfInsnKind::CondImm;
    default:
      return BpfInsnKind::Unknown;
  }
}

BpfInsnKind kind_of(const BpfInsn& i) {
  using namespace bpf_op;
  switch (i.cls()) {
    case kAlu:
    case kAlu64:
      return alu_kind(i);
    case kJmp:
    case kJmp32:
      return jmp_kind(i);
    case kLdx:
      // PROBE_MEM shares ABS's mode bits and PROBE_MEMSX IND's: on LDX
      // they can only be the verifier's probing loads.
      if (i.mode() == kMem || i.mode() == kAbs) return BpfInsnKind::Load;
      if (i.mode() == kMemSx || i.mode() == kInd) return BpfInsnKind::LoadSigned;
      return BpfInsnKind::Unknown;
    case kSt:
      return i.mode() == kMem ? BpfInsnKind::StoreImm : BpfInsnKind::Unknown;
    case kStx:
      if (i.mode() == kMem) return BpfInsnKind::StoreReg;
      if (i.mode() == kAtomic && (i.size() == kW || i.size() == kDW)) return BpfInsnKind::Atomic;
      return BpfInsnKind::Unknown;
    case kLd:
      if (i.mode() == kAbs) return BpfInsnKind::LoadAbs;
      if (i.mode() == kInd) return BpfInsnKind::LoadInd;
      if (i.mode() == kImm && i.size() == kDW) return BpfInsnKind::LoadImm64;
      return BpfInsnKind::Unknown;
  }
  return BpfInsnKind::Unknown;
}

}  // namespace

int BpfInsn::size_bytes() const {
  switch (size()) {
    case bpf_op::kW:
      return 4;
    case bpf_op::kH:
      return 2;
    case bpf_op::kB:
      return 1;
    default:
      return 8;
  }
}

BpfProgram decode_bpf_insns(std::span<const std::byte> bytes) {
  BpfProgram p;
  const size_t slots = bytes.size() / kSlot;
  for (size_t n = 0; n < slots; ++n) {
    BpfInsn i = read_slot(bytes.subspan(n * kSlot, kSlot), n);
    i.kind = kind_of(i);
    if (i.kind == BpfInsnKind::LoadImm64) {
      // The second slot holds only the upper 32 bits of the immediate.
      if (n + 1 >= slots) {
        p.error = fmt::format("the ld_imm64 at instruction {} has no second slot: the code ends there", n);
        i.kind = BpfInsnKind::Unknown;
        p.insns.push_back(std::move(i));
        break;
      }
      const BpfInsn high = read_slot(bytes.subspan((n + 1) * kSlot, kSlot), n + 1);
      i.imm64 = (static_cast<uint64_t>(static_cast<uint32_t>(high.imm)) << 32) | static_cast<uint32_t>(i.imm);
      i.bytes.insert(i.bytes.end(), high.bytes.begin(), high.bytes.end());
      ++n;
    }
    p.insns.push_back(std::move(i));
  }
  if (bytes.size() % kSlot != 0 && !p.error) {
    p.error = fmt::format("{} bytes after the last whole instruction", bytes.size() % kSlot);
  }
  return p;
}

std::string bpf_helper_name(const Kernel& k, const BpfInsn& call) {
  if (call.kind != BpfInsnKind::Call || call.src == bpf_op::kPseudoCall) return "";
  // A helper call still carrying its id (include/uapi/linux/bpf.h's enum
  // bpf_func_id, whose last enumerator __BPF_FUNC_MAX_ID bounds it).
  if (call.src != bpf_op::kPseudoKfuncCall && call.imm >= 0) {
    if (const Type* t = k.types().lookup("enum bpf_func_id")) {
      constexpr std::string_view kPrefix = "BPF_FUNC_";
      int64_t max_id = -1;
      for (const Enumerator& e : t->strip().enumerators()) {
        if (e.name == "__BPF_FUNC_MAX_ID") max_id = e.value;
      }
      if (call.imm < max_id) {
        for (const Enumerator& e : t->strip().enumerators()) {
          std::string_view n = e.name;
          if (e.value == call.imm && n.starts_with(kPrefix)) return "bpf_" + std::string(n.substr(kPrefix.size()));
        }
      }
    }
  }
  // The verifier's fixup (kernel/bpf/verifier.c, do_misc_fixups) rewrites a
  // helper's id, and a kfunc's BTF id, into the function's distance from
  // __bpf_call_base, which the interpreter and the JIT add back.
  const Symbol* base = k.find_symbol("__bpf_call_base");
  if (base == nullptr) return "";
  const VirtAddr target{base->address.value() + static_cast<uint64_t>(static_cast<int64_t>(call.imm))};
  std::optional<SymbolHit> hit = k.symbol_at(target);
  if (!hit || hit->offset != 0) return "";
  return std::string(hit->symbol->name);
}

}  // namespace kdive
