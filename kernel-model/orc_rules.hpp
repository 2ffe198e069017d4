// What one orc_entry says about the caller of the code at an address, applied
// to that frame's registers: the caller's stack pointer (the CFA), its frame
// pointer, and the register block an interrupt or exception entry left. Pure
// functions over a stack-word reader, kept apart from the unwind loop (which
// owns the stack-range and direction checks) so each rule can be tested on a
// made-up stack, including the rules no crash fixture reaches (REGS_PARTIAL,
// the indirect registers, a register taken from a block).
//
//   OrcFrameRegs st{.ip = rip, .sp = rsp, .bp = rbp};
//   std::string why;
//   auto cfa = orc_caller_sp(entry, st, read_word, why);      // nullopt: why says
//   auto bp = orc_caller_bp(entry, *cfa, st, read_word, why);
//   auto block = orc_register_block(partial, *cfa, read_word, why);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kernel-model/orc_table.hpp"
#include "readers/address.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

inline constexpr uint64_t kPtRegsSize = 21 * 8;       // struct pt_regs: r15 ... ss
inline constexpr uint64_t kIretFrameOffset = 16 * 8;  // offsetof(struct pt_regs, ip)

// One frame's registers as the unwinder tracks them.
struct OrcFrameRegs {
  uint64_t ip = 0, sp = 0, bp = 0;
  bool signal = false;               // ip is exact (not a return address)
  std::optional<X86Registers> regs;  // the last full register block passed
};

// Reads the stack word at an address; nullopt with `why` when it cannot.
using StackWordReader = std::function<std::optional<uint64_t>(VirtAddr, std::string& why)>;

// The caller's stack pointer (the kernel's unwind_next_frame(): sp_reg plus
// sp_offset), or nullopt with `why`: a corrupt sp_reg, an unreadable indirect
// word, or a register (di, dx, r10, r13) the entry takes from a register
// block when none was passed.
std::optional<uint64_t> orc_caller_sp(const OrcEntry& e, const OrcFrameRegs& st, const StackWordReader& word,
                                      std::string& why);

// The caller's rbp: this frame's `st.bp` unchanged when the entry leaves it
// undefined, else read from the stack (PREV_SP: at cfa + bp_offset; BP: at
// st.bp + bp_offset). `st` is this frame's registers, before any register
// block the entry points at replaced them.
std::optional<uint64_t> orc_caller_bp(const OrcEntry& e, uint64_t cfa, const OrcFrameRegs& st,
                                      const StackWordReader& word, std::string& why);

// Where the register block of a REGS (at the CFA) or REGS_PARTIAL (only the
// hardware iret frame at the CFA) entry begins.
inline VirtAddr orc_register_block_address(bool partial, uint64_t cfa) {
  return VirtAddr{partial ? cfa - kIretFrameOffset : cfa};
}

// The register block of a REGS / REGS_PARTIAL entry. A partial block is only
// the iret frame (rip cs eflags rsp ss): the words below it are read when they
// can be and are zero otherwise; nullopt with `why` when even that is unread.
std::optional<X86Registers> orc_register_block(bool partial, uint64_t cfa, const StackWordReader& word,
                                               std::string& why);

}  // namespace kdive
