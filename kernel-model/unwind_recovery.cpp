// Recovery of a backtrace's first frames on kexec-style dumps; see
// unwind_recovery.hpp.
#include "kernel-model/unwind_recovery.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <cstring>

namespace kdive {

std::optional<BorrowedCaller> caller_by_preceding_entry(const OrcTable& table, const OrcLayout& layout,
                                                        const OrcFrameRegs& st, VirtAddr function_start,
                                                        const StackWordReader& word,
                                                        const ReturnAddressCheck& is_return_address, std::string& why,
                                                        size_t max_entries) {
  const VirtAddr ip{st.ip};
  auto at = table.index_of(ip);
  if (!at) {
    why = fmt::format("no ORC entry for {:x}", ip);
    return std::nullopt;
  }
  why = fmt::format("no earlier ORC entry of the function at {:x} finds a return address", function_start);
  size_t tried = 0;
  // Walk back from the entry before the one covering ip (that one is the
  // undefined entry) while the entries still belong to the function.
  for (size_t i = *at; i-- > 0 && tried < max_entries;) {
    const VirtAddr from = table.ip_at(i);
    if (from < function_start) break;
    OrcEntry e = decode(table.entry_at(i), layout);
    if (e.type != OrcType::Call) continue;
    ++tried;
    std::string unused;
    auto cfa = orc_caller_sp(e, st, word, unused);
    // The caller's frame lies above this one: a CFA at or below sp is not it.
    if (!cfa || *cfa <= st.sp) continue;
    auto ret = word(VirtAddr{*cfa - 8}, unused);
    if (!ret || !is_return_address(*ret)) continue;
    return BorrowedCaller{.entry_ip = from, .entry = e, .cfa = *cfa, .return_address = *ret};
  }
  return std::nullopt;
}

std::optional<VirtAddr> first_matching_slot(VirtAddr begin, VirtAddr end, const StackWordReader& word,
                                            const std::function<bool(VirtAddr, uint64_t)>& accept) {
  std::string why;
  for (VirtAddr a = begin.align_down(8); a + 8 <= end; a += 8) {
    auto w = word(a, why);
    if (!w) return std::nullopt;
    if (accept(a, *w)) return a;
  }
  return std::nullopt;
}

std::optional<uint64_t> direct_call_target(std::span<const uint8_t, 5> code_before, uint64_t ret) {
  if (code_before[0] != 0xe8) return std::nullopt;
  int32_t rel;
  std::memcpy(&rel, code_before.data() + 1, 4);
  return ret + static_cast<uint64_t>(static_cast<int64_t>(rel));
}

bool same_pt_regs(const X86Registers& a, const X86Registers& b) {
  static_assert(offsetof(X86Registers, ss) == 20 * 8, "pt_regs order: r15 first, ss last");
  return std::memcmp(&a, &b, kPtRegsSize) == 0;
}

}  // namespace kdive
