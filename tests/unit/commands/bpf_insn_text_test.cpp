// eBPF instruction text: crash 8.0.2's forms (those of bpftool and the
// kernel's verifier log up to 5.1) for the instructions it knows, the
// kernel's current forms for those it predates, helpers and maps named
// through the callbacks.
#include "commands/bpf_insn_text.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using kdive::bpf_insn_text;
using kdive::bpf_jump_target;
using kdive::BpfInsn;
using kdive::BpfInsnNames;
using kdive::decode_bpf_insns;

namespace {

std::vector<std::byte> slot(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  std::vector<std::byte> out{std::byte{code}, std::byte(static_cast<uint8_t>(dst | (src << 4)))};
  uint8_t raw[6];
  std::memcpy(raw, &off, 2);
  std::memcpy(raw + 2, &imm, 4);
  for (uint8_t b : raw) out.push_back(std::byte{b});
  return out;
}

std::string text(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm, const BpfInsnNames& names = {}) {
  auto p = decode_bpf_insns(slot(code, dst, src, off, imm));
  REQUIRE(p.insns.size() == 1);
  return bpf_insn_text(p.insns[0], names);
}

}  // namespace

// The lines crash prints for the fixtures' socket filter and its own help's
// CGROUP_SKB program.
TEST_CASE("bpf text: the forms crash prints", "[bpf_insn]") {
  CHECK(text(0x62, 10, 0, -4, 0) == "(62) *(u32 *)(r10 -4) = 0");
  CHECK(text(0xbf, 2, 10, 0, 0) == "(bf) r2 = r10");
  CHECK(text(0x07, 2, 0, 0, -4) == "(07) r2 += -4");
  CHECK(text(0x61, 0, 2, 0, 0) == "(61) r0 = *(u32 *)(r2 +0)");
  CHECK(text(0x35, 0, 0, 3, 4) == "(35) if r0 >= 0x4 goto pc+3");
  CHECK(text(0x67, 0, 0, 0, 3) == "(67) r0 <<= 3");
  CHECK(text(0x0f, 0, 1, 0, 0) == "(0f) r0 += r1");
  CHECK(text(0x05, 0, 0, 1, 0) == "(05) goto pc+1");
  CHECK(text(0x95, 0, 0, 0, 0) == "(95) exit");
  CHECK(text(0xb4, 8, 0, 0, 0) == "(b4) (u32) r8 = (u32) 0");
  CHECK(text(0x44, 8, 0, 0, 2) == "(44) (u32) r8 |= (u32) 2");
  CHECK(text(0x55, 7, 0, 14, 0xdd86) == "(55) if r7 != 0xdd86 goto pc+14");
  CHECK(text(0x69, 7, 6, 192, 0) == "(69) r7 = *(u16 *)(r6 +192)");
  CHECK(text(0x7b, 10, 1, -8, 0) == "(7b) *(u64 *)(r10 -8) = r1");
  CHECK(text(0x87, 3, 0, 0, 0) == "(87) r3 = -r3");
  CHECK(text(0x84, 3, 0, 0, 0) == "(84) r3 = (u32) -r3");
  CHECK(text(0xdc, 3, 0, 0, 16) == "(dc) r3 = be16 r3");
  CHECK(text(0x28, 0, 0, 0, 12) == "(28) r0 = *(u16 *)skb[12]");
  CHECK(text(0x50, 0, 3, 0, 1) == "(50) r0 = *(u8 *)skb[r3 + 1]");
  CHECK(text(0xdb, 1, 2, 0, 0) == "(db) lock *(u64 *)(r1 +0) += r2");
  CHECK(text(0x2d, 1, 2, -3, 0) == "(2d) if r1 > r2 goto pc-3");
  CHECK(text(0x85, 0, 1, 0, 5) == "(85) call pc+5");
}

TEST_CASE("bpf text: instructions newer than crash read as the kernel prints them", "[bpf_insn]") {
  CHECK(text(0x26, 1, 0, 2, 7) == "(26) if w1 > 0x7 goto pc+2");
  CHECK(text(0x3e, 1, 2, -1, 0) == "(3e) if w1 >= w2 goto pc-1");
  CHECK(text(0x06, 0, 0, 0, -9) == "(06) gotol pc-9");
  CHECK(text(0xc3, 1, 2, 4, 0x01) == "(c3) r2 = atomic_fetch_add((u32 *)(r1 +4), r2)");
  CHECK(text(0xdb, 1, 2, 0, 0xe1) == "(db) r2 = atomic64_xchg((u64 *)(r1 +0), r2)");
  CHECK(text(0xdb, 1, 2, 0, 0xf1) == "(db) r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)");
  CHECK(text(0xc3, 1, 2, 0, 0x40) == "(c3) lock *(u32 *)(r1 +0) |= r2");
  CHECK(text(0x91, 1, 2, 4, 0) == "(91) r1 = *(s8 *)(r2 +4)");
  CHECK(text(0xbf, 1, 2, 16, 0) == "(bf) r1 = (s16) r2");
  CHECK(text(0x3f, 1, 2, 1, 0) == "(3f) r1 s/= r2");
  CHECK(text(0xd7, 1, 0, 0, 32) == "(d7) r1 = bswap32 r1");
  CHECK(text(0x8e, 1, 0, 0, 0) == "(8e) unknown jmp32 instruction");
}

TEST_CASE("bpf text: helpers and maps are named through the kernel's callbacks", "[bpf_insn]") {
  BpfInsnNames names{.call = [](const BpfInsn& i) { return i.imm == 73760 ? std::string("bpf_map_lookup_elem") : ""; },
                     .map_id = [](uint64_t a) -> std::optional<uint32_t> {
                       if (a == 0xffff9f5e41f2ba00ull) return 1;
                       return std::nullopt;
                     }};
  CHECK(text(0x85, 0, 0, 0, 73760, names) == "(85) call bpf_map_lookup_elem#73760");
  CHECK(text(0x85, 0, 0, 0, 99, names) == "(85) call unknown#99");
  std::vector<std::byte> ld = slot(0x18, 1, 0, 0, static_cast<int32_t>(0x41f2ba00));
  const std::vector<std::byte> high = slot(0, 0, 0, 0, static_cast<int32_t>(0xffff9f5e));
  ld.insert(ld.end(), high.begin(), high.end());
  CHECK(bpf_insn_text(decode_bpf_insns(ld).insns.at(0), names) == "(18) r1 = map[id:1]");
  ld[4] = std::byte{0x08};  // another address: no map there
  CHECK(bpf_insn_text(decode_bpf_insns(ld).insns.at(0), names) == "(18) r1 = 0xffff9f5e41f2ba08");
}

TEST_CASE("bpf text: jump targets are slots", "[bpf_insn]") {
  std::vector<std::byte> code;
  for (auto s : {slot(0xb7, 0, 0, 0, 0), slot(0x15, 0, 0, -2, 0), slot(0x06, 0, 0, 0, 3), slot(0x85, 0, 1, 0, -1)}) {
    code.insert(code.end(), s.begin(), s.end());
  }
  auto p = decode_bpf_insns(code);
  REQUIRE(p.insns.size() == 4);
  CHECK_FALSE(bpf_jump_target(p.insns[0]));
  CHECK(bpf_jump_target(p.insns[1]) == 0);
  CHECK(bpf_jump_target(p.insns[2]) == 6);
  CHECK(bpf_jump_target(p.insns[3]) == 3);
}
