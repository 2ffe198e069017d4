// The ORC rules on a made-up stack: each sp_reg and bp_reg the kernel's
// unwind_next_frame() knows, the register blocks of REGS and REGS_PARTIAL
// entries, and the damage each can meet (an unreadable word, a register block
// that was never passed, a corrupt register number). No crash fixture has an
// entry using the indirect registers or REGS_PARTIAL at a point a backtrace
// passes, so these are the tests that hold them.
#include "kernel-model/orc_rules.hpp"

#include <catch2/catch.hpp>
#include <map>

using namespace kdive;

namespace {

// A stack of 8-byte words; any other address is unreadable.
struct MadeUpStack {
  std::map<uint64_t, uint64_t> words;
  StackWordReader reader() const {
    return [this](VirtAddr a, std::string& why) -> std::optional<uint64_t> {
      auto it = words.find(a.value());
      if (it == words.end()) {
        why = fmt::format("no word at {:x}", a.value());
        return std::nullopt;
      }
      return it->second;
    };
  }
};

OrcEntry entry(OrcReg sp_reg, int16_t sp_offset, OrcReg bp_reg = OrcReg::Undefined, int16_t bp_offset = 0) {
  OrcEntry e;
  e.sp_reg = static_cast<uint8_t>(sp_reg);
  e.sp_offset = sp_offset;
  e.bp_reg = static_cast<uint8_t>(bp_reg);
  e.bp_offset = bp_offset;
  e.type = OrcType::Call;
  return e;
}

constexpr uint64_t kSp = 0xffffc90000013e00;
constexpr uint64_t kBp = 0xffffc90000013f00;
constexpr uint64_t kIp = 0xffffffff81234567;

}  // namespace

TEST_CASE("the caller's stack pointer from each sp_reg", "[orc-rules]") {
  MadeUpStack stack;
  stack.words[kSp] = 0xffffc90000013f80;         // what SP_INDIRECT points through
  stack.words[kBp + 0x10] = 0xffffc90000013fa0;  // what BP_INDIRECT reads
  OrcFrameRegs st{.ip = kIp, .sp = kSp, .bp = kBp, .signal = false, .regs = std::nullopt};
  std::string why;

  CHECK(orc_caller_sp(entry(OrcReg::Sp, 0x18), st, stack.reader(), why) == kSp + 0x18);
  CHECK(orc_caller_sp(entry(OrcReg::Bp, 0x10), st, stack.reader(), why) == kBp + 0x10);
  // Since 5.12 SP_INDIRECT is *(sp) + offset, not *(sp + offset).
  CHECK(orc_caller_sp(entry(OrcReg::SpIndirect, 8), st, stack.reader(), why) == 0xffffc90000013f88);
  CHECK(orc_caller_sp(entry(OrcReg::BpIndirect, 0x10), st, stack.reader(), why) == 0xffffc90000013fa0);
  CHECK(why.empty());
}

TEST_CASE("an sp_reg taken from a register block needs one", "[orc-rules]") {
  MadeUpStack stack;
  OrcFrameRegs st{.ip = kIp, .sp = kSp, .bp = kBp, .signal = false, .regs = std::nullopt};
  std::string why;
  CHECK_FALSE(orc_caller_sp(entry(OrcReg::R10, 8), st, stack.reader(), why));
  CHECK(why.find("needs register r10 from a register block") != std::string::npos);
  CHECK(why.find("ffffffff81234567") != std::string::npos);

  X86Registers regs{};
  regs.r10 = 0xffffc90000017000;
  regs.rdi = 0xffffc90000018000;
  regs.rdx = 0xffffc90000019000;
  regs.r13 = 0xffffc9000001a000;
  st.regs = regs;
  why.clear();
  CHECK(orc_caller_sp(entry(OrcReg::R10, 8), st, stack.reader(), why) == regs.r10 + 8);
  CHECK(orc_caller_sp(entry(OrcReg::Di, 0), st, stack.reader(), why) == regs.rdi);
  CHECK(orc_caller_sp(entry(OrcReg::Dx, -8), st, stack.reader(), why) == regs.rdx - 8);
  CHECK(orc_caller_sp(entry(OrcReg::R13, 16), st, stack.reader(), why) == regs.r13 + 16);
  CHECK(why.empty());
}

TEST_CASE("a corrupt or unreadable sp rule says why", "[orc-rules]") {
  MadeUpStack stack;  // empty: nothing readable
  OrcFrameRegs st{.ip = kIp, .sp = kSp, .bp = kBp, .signal = false, .regs = std::nullopt};
  std::string why;
  OrcEntry bad = entry(OrcReg::Sp, 0);
  bad.sp_reg = 13;  // no such ORC_REG_*
  CHECK_FALSE(orc_caller_sp(bad, st, stack.reader(), why));
  CHECK(why == "corrupt ORC entry for ffffffff81234567: sp_reg 13");
  // PREV_SP and UNDEFINED say nothing about where the caller's stack is.
  why.clear();
  CHECK_FALSE(orc_caller_sp(entry(OrcReg::PrevSp, 0), st, stack.reader(), why));
  CHECK(why.find("sp_reg 1") != std::string::npos);
  why.clear();
  CHECK_FALSE(orc_caller_sp(entry(OrcReg::SpIndirect, 0), st, stack.reader(), why));
  CHECK(why == fmt::format("no word at {:x}", kSp));
}

TEST_CASE("the caller's frame pointer from each bp_reg", "[orc-rules]") {
  MadeUpStack stack;
  const uint64_t cfa = kSp + 0x20;
  stack.words[cfa - 0x10] = 0x1111;  // PREV_SP: where `push %rbp` left it
  stack.words[kBp + 8] = 0x2222;     // BP: relative to the current rbp
  OrcFrameRegs st{.ip = kIp, .sp = kSp, .bp = kBp, .signal = false, .regs = std::nullopt};
  std::string why;
  CHECK(orc_caller_bp(entry(OrcReg::Sp, 0x20), cfa, st, stack.reader(), why) == kBp);  // undefined: unchanged
  CHECK(orc_caller_bp(entry(OrcReg::Sp, 0x20, OrcReg::PrevSp, -0x10), cfa, st, stack.reader(), why) == 0x1111);
  CHECK(orc_caller_bp(entry(OrcReg::Sp, 0x20, OrcReg::Bp, 8), cfa, st, stack.reader(), why) == 0x2222);
  CHECK(why.empty());
  CHECK_FALSE(orc_caller_bp(entry(OrcReg::Sp, 0x20, OrcReg::Bp, 16), cfa, st, stack.reader(), why));
  CHECK(why == fmt::format("no word at {:x}", kBp + 16));
  CHECK_FALSE(orc_caller_bp(entry(OrcReg::Sp, 0x20, OrcReg::R10, 0), cfa, st, stack.reader(), why));
  CHECK(why == "corrupt ORC entry for ffffffff81234567: bp_reg 6");
}

TEST_CASE("a full register block is read whole, a partial one from its iret frame", "[orc-rules]") {
  MadeUpStack stack;
  const uint64_t cfa = 0xffffc90000013f58;  // where a REGS entry says pt_regs begins
  for (uint64_t i = 0; i < 21; ++i) stack.words[cfa + 8 * i] = 0x100 + i;
  std::string why;
  auto full = orc_register_block(false, cfa, stack.reader(), why);
  REQUIRE(full);
  CHECK(full->r15 == 0x100);  // pt_regs begins with r15
  CHECK(full->rbp == 0x104);
  CHECK(full->rip == 0x110);
  CHECK(full->cs == 0x111);
  CHECK(full->ss == 0x114);

  // REGS_PARTIAL: the CFA is the iret frame (pt_regs.ip); only it exists,
  // the general registers below were never saved.
  MadeUpStack iret;
  const uint64_t iret_at = 0xffffc90000013fd8;
  const uint64_t words[] = {0xffffffff81000010, 0x10, 0x246, 0xffffc90000013ff0, 0x18};
  for (uint64_t i = 0; i < 5; ++i) iret.words[iret_at + 8 * i] = words[i];
  CHECK(orc_register_block_address(true, iret_at).value() == iret_at - 16 * 8);
  auto partial = orc_register_block(true, iret_at, iret.reader(), why);
  REQUIRE(partial);
  CHECK(partial->rip == 0xffffffff81000010);
  CHECK(partial->cs == 0x10);
  CHECK(partial->eflags == 0x246);
  CHECK(partial->rsp == 0xffffc90000013ff0);
  CHECK(partial->ss == 0x18);
  CHECK(partial->rax == 0);

  // A full block with one unreadable word, or an iret frame cut short, is none.
  stack.words.erase(cfa + 8 * 3);
  CHECK_FALSE(orc_register_block(false, cfa, stack.reader(), why));
  CHECK(why == fmt::format("no word at {:x}", cfa + 24));
  iret.words.erase(iret_at + 8 * 4);
  CHECK_FALSE(orc_register_block(true, iret_at, iret.reader(), why));
  CHECK(why == fmt::format("no word at {:x}", iret_at + 32));
}
