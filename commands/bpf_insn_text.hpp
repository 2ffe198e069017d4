// The text of a decoded eBPF instruction (kernel-model/bpf_insn.hpp) in the
// notation of the kernel's verifier log and bpftool's "xlated" dump, which
// crash's `bpf -t` prints: "(bf) r6 = r1", "(61) r0 = *(u32 *)(r2 +0)",
// "(85) call bpf_map_lookup_elem#73760", "(18) r1 = map[id:1]". Where crash
// 8.0.2 knows the instruction its form is kept (ALU32 as "(u32) r8 = (u32) 0",
// as the kernel printed it until 5.1); instructions it predates (JMP32,
// atomics, sign-extending loads and moves, bswap, gotol) read as the kernel's
// disassembler prints them today.
//
//   BpfInsnNames names{.call = [&](const BpfInsn& i) { return bpf_helper_name(k, i); },
//                      .map_id = [&](uint64_t a) { return id_of_map_at(a); }};
//   bpf_insn_text(insn, names);   // "(85) call bpf_map_lookup_elem#73760"
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "kernel-model/bpf_insn.hpp"

namespace kdive {

struct BpfInsnNames {
  // The function a Call reaches ("" when unknown: printed as "unknown").
  std::function<std::string(const BpfInsn&)> call;
  // The id of the map whose struct bpf_map is at this address, if one is.
  std::function<std::optional<uint32_t>(uint64_t)> map_id;
};

// One instruction: "(code) text", without index or newline.
std::string bpf_insn_text(const BpfInsn& insn, const BpfInsnNames& names);

// The slot a jump or a call of the program's own function goes to (the
// next slot plus the offset), if the instruction is one.
std::optional<int64_t> bpf_jump_target(const BpfInsn& insn);

// The class name of an opcode: "alu64", "jmp32", "ldx", ...
std::string_view bpf_class_name(uint8_t code);

}  // namespace kdive
