#include "kernel-model/orc_rules.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace kdive {

std::optional<uint64_t> orc_caller_sp(const OrcEntry& e, const OrcFrameRegs& st, const StackWordReader& word,
                                      std::string& why) {
  auto from_block = [&](uint64_t X86Registers::*reg) -> std::optional<uint64_t> {
    if (!st.regs) {
      why = fmt::format("the ORC entry for {:x} needs register {} from a register block; none was passed", st.ip,
                        orc_reg_name(e.sp_reg));
      return std::nullopt;
    }
    return (*st.regs).*reg + e.sp_offset;
  };
  switch (static_cast<OrcReg>(e.sp_reg)) {
    case OrcReg::Sp:
      return st.sp + e.sp_offset;
    case OrcReg::Bp:
      return st.bp + e.sp_offset;
    case OrcReg::SpIndirect: {
      // sp = *(sp) + offset since 5.12 ("x86/unwind/orc: Change
      // REG_SP_INDIRECT"; no entry used it before).
      auto v = word(VirtAddr{st.sp}, why);
      if (!v) return std::nullopt;
      return *v + e.sp_offset;
    }
    case OrcReg::BpIndirect:  // sp = *(bp + offset)
      return word(VirtAddr{st.bp + e.sp_offset}, why);
    case OrcReg::Di:
      return from_block(&X86Registers::rdi);
    case OrcReg::Dx:
      return from_block(&X86Registers::rdx);
    case OrcReg::R10:
      return from_block(&X86Registers::r10);
    case OrcReg::R13:
      return from_block(&X86Registers::r13);
    default:
      why = fmt::format("corrupt ORC entry for {:x}: sp_reg {}", st.ip, e.sp_reg);
      return std::nullopt;
  }
}

std::optional<uint64_t> orc_caller_bp(const OrcEntry& e, uint64_t cfa, const OrcFrameRegs& st,
                                      const StackWordReader& word, std::string& why) {
  switch (static_cast<OrcReg>(e.bp_reg)) {
    case OrcReg::Undefined:
      return st.bp;
    case OrcReg::PrevSp:
      return word(VirtAddr{cfa + e.bp_offset}, why);
    case OrcReg::Bp:
      return word(VirtAddr{st.bp + e.bp_offset}, why);
    default:
      why = fmt::format("corrupt ORC entry for {:x}: bp_reg {}", st.ip, e.bp_reg);
      return std::nullopt;
  }
}

std::optional<X86Registers> orc_register_block(bool partial, uint64_t cfa, const StackWordReader& word,
                                               std::string& why) {
  const VirtAddr block = orc_register_block_address(partial, cfa);
  std::array<uint64_t, 21> w{};
  for (size_t i = 0; i < w.size(); ++i) {
    std::string missing;
    auto v = word(block + 8 * i, missing);
    if (v) {
      w[i] = *v;
      continue;
    }
    // Below the iret frame only a full block must be readable: a partial
    // block's lower words are never meaningful, read or not.
    if (!partial || i >= kIretFrameOffset / 8) {
      why = missing;
      return std::nullopt;
    }
  }
  X86Registers r{};
  std::memcpy(&r, w.data(), sizeof(w));  // pt_regs and user_regs_struct agree on these 21
  return r;
}

}  // namespace kdive
