// Recovery of a backtrace's start on made-up stacks and ORC tables: the caller
// of a frame whose saved rip has an undefined ORC entry (the panic CPU of a
// kexec dump, saved by crash_setup_regs()), found with an earlier entry of the
// same function and only when it leads to a return address; the stack scan
// for the slot a resynchronised unwind starts from; and the pt_regs
// comparison that ties a register block on the stack to an NT_PRSTATUS note.
#include "kernel-model/unwind_recovery.hpp"

#include <fmt/format.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <set>
#include <vector>

using namespace kdive;

namespace {

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

// One row of a table in the 6.4+ layout (type: 0 undefined, 2 call).
struct Row {
  uint64_t ip;
  int16_t sp_offset;
  uint8_t type;
};

// An ORC table of rows, every CALL row sp-based.
struct Table {
  std::vector<uint8_t> ip_bytes, entry_bytes;
  VirtAddr base{0xffffffff82000000};
  OrcTable table;
  explicit Table(const std::vector<Row>& rows) {
    for (size_t i = 0; i < rows.size(); ++i) {
      int32_t rel = static_cast<int32_t>(static_cast<int64_t>(rows[i].ip - (base.value() + 4 * i)));
      uint8_t b[4];
      std::memcpy(b, &rel, 4);
      ip_bytes.insert(ip_bytes.end(), b, b + 4);
      uint8_t e[kOrcEntrySize] = {};
      std::memcpy(e, &rows[i].sp_offset, 2);
      e[4] = rows[i].type == 2 ? static_cast<uint8_t>(OrcReg::Sp) : 0;
      e[5] = rows[i].type;
      entry_bytes.insert(entry_bytes.end(), e, e + kOrcEntrySize);
    }
    table = OrcTable::in_place(ip_bytes, entry_bytes, base);
  }
};

constexpr uint64_t kPrev = 0xffffffff810fffe0;  // the function before
constexpr uint64_t kFn = 0xffffffff81100000;    // like __crash_kexec
constexpr uint64_t kNext = 0xffffffff81100060;  // the function after
constexpr uint64_t kSp = 0xffffc90000103e00;    // the saved rsp
constexpr uint64_t kRet = 0xffffffff81200123;   // a return address into the caller

// Prologue push and sub, a pushf/pop pair, then the label whose entry objtool
// left undefined: the layout crash_setup_regs() has.
const std::vector<Row> kRows = {{kPrev, 0x20, 2},      {kFn, 8, 2},           {kFn + 0x05, 0x10, 2},
                                {kFn + 0x0c, 0xc0, 2}, {kFn + 0x40, 0xc8, 2}, {kFn + 0x41, 0xc0, 2},
                                {kFn + 0x48, 0, 0},    {kNext, 8, 2}};

ReturnAddressCheck only(std::set<uint64_t> returns) {
  return [returns](uint64_t w) { return returns.count(w) != 0; };
}

}  // namespace

TEST_CASE("The caller of an undefined ORC entry comes from the nearest entry of its function that finds one",
          "[unit][orc][unwind_recovery]") {
  Table t(kRows);
  const OrcLayout layout = OrcLayout::since_6_4();
  OrcFrameRegs st;
  st.ip = kFn + 0x4a;
  st.sp = kSp;
  st.signal = true;
  std::string why;

  SECTION("the nearest defined entry: its CFA holds the return address") {
    MadeUpStack stack;
    stack.words[kSp + 0xc0 - 8] = kRet;
    auto c = caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why);
    REQUIRE(c);
    CHECK(c->entry_ip == VirtAddr{kFn + 0x41});
    CHECK(c->cfa == kSp + 0xc0);
    CHECK(c->return_address == kRet);
    CHECK(c->entry.type == OrcType::Call);
  }
  SECTION("an entry whose CFA holds no return address is passed over for an earlier one") {
    MadeUpStack stack;
    stack.words[kSp + 0xc0 - 8] = 0x1234;  // a local, not a return address
    stack.words[kSp + 0xc8 - 8] = kRet;
    auto c = caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why);
    REQUIRE(c);
    CHECK(c->entry_ip == VirtAddr{kFn + 0x40});
    CHECK(c->cfa == kSp + 0xc8);
  }
  SECTION("never an entry of the function before") {
    MadeUpStack stack;
    // Only the previous function's rule (sp + 0x20) would find a return address.
    stack.words[kSp + 0x20 - 8] = kRet;
    CHECK_FALSE(caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why));
    CHECK(why.find("finds a return address") != std::string::npos);
  }
  SECTION("an unreadable stack finds nothing") {
    MadeUpStack stack;
    CHECK_FALSE(caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why));
  }
  SECTION("an address below the table has no entry") {
    MadeUpStack stack;
    OrcFrameRegs low;
    low.ip = kPrev - 0x100;
    low.sp = kSp;
    CHECK_FALSE(
        caller_by_preceding_entry(t.table, layout, low, VirtAddr{kPrev - 0x200}, stack.reader(), only({kRet}), why));
    CHECK(why.find("no ORC entry") != std::string::npos);
  }
  SECTION("a bound on the entries tried") {
    MadeUpStack stack;
    stack.words[kSp + 0x10 - 8] = kRet;  // found by the entry at kFn + 5, the fourth back
    CHECK(caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why, 4));
    CHECK_FALSE(caller_by_preceding_entry(t.table, layout, st, VirtAddr{kFn}, stack.reader(), only({kRet}), why, 3));
  }
}

TEST_CASE("OrcTable walks back by index", "[unit][orc][unwind_recovery]") {
  Table t(kRows);
  auto i = t.table.index_of(VirtAddr{kFn + 0x4a});
  REQUIRE(i);
  CHECK(*i == 6);
  CHECK(t.table.ip_at(*i - 1) == VirtAddr{kFn + 0x41});
  CHECK(decode(t.table.entry_at(*i - 1), OrcLayout::since_6_4()).sp_offset == 0xc0);
  CHECK_FALSE(t.table.index_of(VirtAddr{kPrev - 1}));
}

TEST_CASE("The slot a resynchronised unwind starts from is the lowest one accepted", "[unit][unwind_recovery]") {
  MadeUpStack stack;
  const uint64_t base = 0xffffc90000100000;
  for (uint64_t a = base; a < base + 0x100; a += 8) stack.words[a] = a - base;
  auto accept_value = [](uint64_t v) { return [v](VirtAddr, uint64_t w) { return w == v; }; };
  auto slot = first_matching_slot(VirtAddr{base}, VirtAddr{base + 0x100}, stack.reader(), accept_value(0x40));
  REQUIRE(slot);
  CHECK(*slot == VirtAddr{base + 0x40});
  // Unaligned starts are aligned down; the end is exclusive.
  CHECK(first_matching_slot(VirtAddr{base + 3}, VirtAddr{base + 0x100}, stack.reader(), accept_value(0)));
  CHECK_FALSE(first_matching_slot(VirtAddr{base}, VirtAddr{base + 0x40}, stack.reader(), accept_value(0x40)));
  // The first unreadable word ends the scan: nothing above it is taken.
  stack.words.erase(base + 0x20);
  CHECK_FALSE(first_matching_slot(VirtAddr{base}, VirtAddr{base + 0x100}, stack.reader(), accept_value(0x40)));
  // Every slot offered to `accept` with its own address.
  std::vector<uint64_t> seen;
  first_matching_slot(VirtAddr{base}, VirtAddr{base + 0x18}, stack.reader(), [&](VirtAddr a, uint64_t w) {
    CHECK(w == a.value() - base);
    seen.push_back(a.value());
    return false;
  });
  CHECK(seen == std::vector<uint64_t>{base, base + 8, base + 16});
}

TEST_CASE("same_pt_regs compares the pt_regs words only", "[unit][unwind_recovery]") {
  X86Registers a{};
  a.rip = 0x7f0000001000;
  a.rsp = 0x7ffc00000000;
  a.cs = 0x33;
  a.ss = 0x2b;
  a.r15 = 15;
  X86Registers b = a;
  b.fs_base = 0x7f1234;  // in NT_PRSTATUS, not in a pt_regs
  b.gs = 1;
  CHECK(same_pt_regs(a, b));
  for (uint64_t X86Registers::*field :
       {&X86Registers::r15, &X86Registers::rip, &X86Registers::ss, &X86Registers::orig_rax, &X86Registers::rax}) {
    X86Registers c = a;
    c.*field += 1;
    CHECK_FALSE(same_pt_regs(a, c));
  }
}

TEST_CASE("direct_call_target names the function a direct call went to", "[unit][unwind_recovery]") {
  const uint64_t ret = 0xffffffff819cd06e;  // after "call __crash_kexec" in panic
  // e8 d2 75 79 ff: rel32 -0x868a2e from the return address.
  std::array<uint8_t, 5> call = {0xe8, 0xd2, 0x75, 0x79, 0xff};
  CHECK(direct_call_target(call, ret) == 0xffffffff81164640);
  std::array<uint8_t, 5> forward = {0xe8, 0x10, 0x00, 0x00, 0x00};
  CHECK(direct_call_target(forward, ret) == ret + 0x10);
  // "lea 0x0(%rip),%rax" ends in 05 00 00 00 00 (crash_setup_regs()'s
  // _THIS_IP_): no call; nor is an indirect call (ff 15 ...) a direct one.
  std::array<uint8_t, 5> lea = {0x05, 0x00, 0x00, 0x00, 0x00};
  CHECK_FALSE(direct_call_target(lea, ret));
  std::array<uint8_t, 5> indirect = {0x15, 0x44, 0x33, 0x22, 0x11};
  CHECK_FALSE(direct_call_target(indirect, ret));
}
