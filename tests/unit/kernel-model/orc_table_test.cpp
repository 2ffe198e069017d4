// ORC tables: the binary search over position-relative addresses, and
// orc_entry decoding in both layouts (up to 6.3 with `end`, 6.4 on with the
// 3-bit type), including the corrupt values a damaged table may hold.
#include "kernel-model/orc_table.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using namespace kdive;

namespace {

// A table placed at `base` whose entry i covers `ips[i]`; entry i's sp_offset is i.
struct Synthetic {
  std::vector<uint8_t> ip_bytes, entry_bytes;
  VirtAddr base{0xffffffff82000000};
  Synthetic(const std::vector<uint64_t>& ips) {
    for (size_t i = 0; i < ips.size(); ++i) {
      int32_t rel = static_cast<int32_t>(static_cast<int64_t>(ips[i] - (base.value() + 4 * i)));
      uint8_t b[4];
      std::memcpy(b, &rel, 4);
      ip_bytes.insert(ip_bytes.end(), b, b + 4);
      uint8_t e[kOrcEntrySize] = {static_cast<uint8_t>(i), 0, 0, 0, 0x05, 0x00};  // sp_reg SP
      entry_bytes.insert(entry_bytes.end(), e, e + kOrcEntrySize);
    }
  }
};

std::array<uint8_t, kOrcEntrySize> entry(int16_t sp_off, int16_t bp_off, uint8_t sp_reg, uint8_t bp_reg,
                                         uint8_t byte5) {
  std::array<uint8_t, kOrcEntrySize> b{};
  std::memcpy(&b[0], &sp_off, 2);
  std::memcpy(&b[2], &bp_off, 2);
  b[4] = static_cast<uint8_t>(sp_reg | (bp_reg << 4));
  b[5] = byte5;
  return b;
}

}  // namespace

TEST_CASE("OrcTable finds the last entry at or below an address", "[unit][orc]") {
  // Text both below and above the table itself: offsets of either sign.
  Synthetic s({0xffffffff81000000, 0xffffffff81000010, 0xffffffff81000020, 0xffffffff83000000});
  OrcTable t = OrcTable::in_place(s.ip_bytes, s.entry_bytes, s.base);
  REQUIRE(t.size() == 4);
  CHECK(t.ip_at(3) == VirtAddr{0xffffffff83000000});
  CHECK_FALSE(t.find(VirtAddr{0xffffffff80ffffff}));
  auto sp_offset_of = [&](uint64_t ip) { return (*t.find(VirtAddr{ip}))[0]; };
  CHECK(sp_offset_of(0xffffffff81000000) == 0);
  CHECK(sp_offset_of(0xffffffff8100000f) == 0);
  CHECK(sp_offset_of(0xffffffff81000010) == 1);
  CHECK(sp_offset_of(0xffffffff82ffffff) == 2);
  CHECK(sp_offset_of(0xffffffff83000005) == 3);
}

TEST_CASE("An owned OrcTable stays valid when moved", "[unit][orc]") {
  Synthetic s({0xffffffff81001000, 0xffffffff81002000});
  OrcTable a = OrcTable::owned(s.ip_bytes, s.entry_bytes, s.base);
  OrcTable b = std::move(a);
  REQUIRE(b.size() == 2);
  CHECK(b.ip_at(1) == VirtAddr{0xffffffff81002000});
  CHECK((*b.find(VirtAddr{0xffffffff81002004}))[0] == 1);
  CHECK((*b.find(VirtAddr{0xffffffff81001fff}))[0] == 0);
}

TEST_CASE("orc_entry before 6.4: end bit, types CALL 0 REGS 1 REGS_PARTIAL 2", "[unit][orc]") {
  OrcLayout l = OrcLayout::before_6_3();
  OrcEntry call = decode(entry(16, -16, 5, 1, 0x00), l);
  CHECK(call.type == OrcType::Call);
  CHECK(call.sp_offset == 16);
  CHECK(call.bp_offset == -16);
  CHECK(call.sp_reg == static_cast<uint8_t>(OrcReg::Sp));
  CHECK(call.bp_reg == static_cast<uint8_t>(OrcReg::PrevSp));
  CHECK(decode(entry(0, 0, 5, 0, 0x01), l).type == OrcType::Regs);
  CHECK(decode(entry(0, 0, 5, 0, 0x02), l).type == OrcType::RegsPartial);
  CHECK(decode(entry(0, 0, 5, 0, 0x03), l).type == OrcType::Invalid);
  // sp_reg UNDEFINED: the end of the stack with `end` (bit 2 of byte 5), an error without.
  CHECK(decode(entry(0, 0, 0, 0, 0x04), l).type == OrcType::EndOfStack);
  CHECK(decode(entry(0, 0, 0, 0, 0x00), l).type == OrcType::Undefined);
}

TEST_CASE("orc_entry from 6.4: 3-bit type renumbered, signal bit", "[unit][orc]") {
  OrcLayout l = OrcLayout::since_6_4();
  CHECK_FALSE(l.has_end_bit());
  CHECK(decode(entry(0, 0, 0, 0, 0x00), l).type == OrcType::Undefined);
  CHECK(decode(entry(0, 0, 0, 0, 0x01), l).type == OrcType::EndOfStack);
  CHECK(decode(entry(8, 0, 5, 0, 0x02), l).type == OrcType::Call);
  CHECK(decode(entry(0, 0, 5, 0, 0x03), l).type == OrcType::Regs);
  OrcEntry partial = decode(entry(0, 0, 5, 0, 0x04 | 0x08), l);
  CHECK(partial.type == OrcType::RegsPartial);
  CHECK(partial.signal);
  CHECK(decode(entry(0, 0, 5, 0, 0x05), l).type == OrcType::Invalid);
  CHECK(decode(entry(0, 0, 5, 0, 0x07), l).type == OrcType::Invalid);
}
