// Recovering the start of a backtrace where exact ORC unwinding cannot begin
// from a CPU's saved registers, as on kexec-style dumps:
//  - the panic CPU's NT_PRSTATUS (crash_setup_regs() in __crash_kexec) holds
//    `_THIS_IP_`, a label address objtool gives an undefined ORC entry; the
//    stack pointer there is the function body's, so the nearest preceding
//    defined entry of the same function describes the frame. Its answer is
//    taken only when the return address it finds follows a call instruction.
//  - a CPU stopped by the crash NMI saved the registers the NMI interrupted
//    (user-mode ones when it came from user space) and halted inside the NMI
//    handler: its frames are found from a return address on the stack from
//    which exact unwinding reaches a register block equal to the saved one.
// Where a function has no ORC entries at all (objtool left __crash_kexec
// without any on 6.1), the unwinder resynchronises instead: the first
// return address above the saved stack pointer whose call went to that
// function, from which exact unwinding reaches the stack's natural end.
// Pure functions over a stack-word reader and an ORC table, so each rule is
// tested on made-up stacks; the unwinder (backtrace.cpp) decides when to use
// them and marks the frames they found.
//
//   auto c = caller_by_preceding_entry(table, layout, ip, fn_start, regs, read_word, is_return, why);
//   if (c) { /* c->cfa, c->return_address, c->entry_ip */ }
//   auto target = direct_call_target(bytes_before_ret, ret);   // e8 rel32 only
//   auto slot = first_matching_slot(begin, end, read_word, [&](VirtAddr a, uint64_t w) { ... });
//   bool same = same_pt_regs(prstatus_regs, block_regs);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "kernel-model/orc_rules.hpp"
#include "kernel-model/orc_table.hpp"
#include "readers/address.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

// The caller of a frame found with another ORC entry than its own.
struct BorrowedCaller {
  VirtAddr entry_ip;        // where the entry used begins
  OrcEntry entry;           // that entry (a CALL entry)
  uint64_t cfa = 0;         // the caller's stack pointer it gives
  uint64_t return_address;  // the word at cfa - 8
};

// Whether a stack word can be a return address (kernel text just after a
// call instruction): the caller's check, so tests need no kernel.
using ReturnAddressCheck = std::function<bool(uint64_t)>;

// For `st` (registers saved at `st.ip`, whose own entry is undefined): the
// nearest CALL entry before st.ip within its function (from function_start)
// whose caller stack pointer lies above st.sp and whose return address passes
// `is_return_address`; at most `max_entries` entries back. nullopt with `why`
// when none does.
std::optional<BorrowedCaller> caller_by_preceding_entry(const OrcTable& table, const OrcLayout& layout,
                                                        const OrcFrameRegs& st, VirtAddr function_start,
                                                        const StackWordReader& word,
                                                        const ReturnAddressCheck& is_return_address, std::string& why,
                                                        size_t max_entries = 64);

// The lowest 8-byte slot in [begin, end) whose word `accept` takes; the scan
// ends at the first unreadable word (nothing above it can be read either).
std::optional<VirtAddr> first_matching_slot(VirtAddr begin, VirtAddr end, const StackWordReader& word,
                                            const std::function<bool(VirtAddr, uint64_t)>& accept);

// The target of a direct call (e8 rel32) that ends just before `ret`, from
// the 5 code bytes before it; nullopt for any other instruction (an indirect
// call names no target). Ties a return address to the function it called.
std::optional<uint64_t> direct_call_target(std::span<const uint8_t, 5> code_before, uint64_t ret);

// Whether two register sets hold the same struct pt_regs (r15 ... ss): an
// NT_PRSTATUS note copies the pt_regs it was given, so a register block on
// the stack equal to it is the one the note was taken from. The segment
// bases and selectors past ss are not in a pt_regs and are not compared.
bool same_pt_regs(const X86Registers& a, const X86Registers& b);

}  // namespace kdive
