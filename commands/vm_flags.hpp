// vm -f: a vm_flags value and the names of its bits, as crash prints it
// ("8100073: (READ|WRITE|MAYREAD|...)"), and the same as JSON. The names come
// from kernel-model's VmaFlagNames (the kernel's own vmaflag_names[]); bits no
// name covers are shown as a hex number after the names, as the kernel's %pGv
// does, rather than dropped.
//
//   DecodedVmaFlags d = VmaFlagNames(kernel).describe(0x8100073);
//   out.print("{}\n", vm_flags_text(0x8100073, d));   // 8100073: (READ|WRITE|...)
//   Json j = vm_flags_json(0x8100073, d);              // {"flags", "names", "unknown"}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "commands/api/output.hpp"
#include "kernel-model/vma_flag_names.hpp"

namespace kdive {

// The FLAGS argument of -f: hexadecimal, with or without 0x, as vm prints
// FLAGS. Throws CommandError naming the text when it is not one.
uint64_t parse_vm_flags(std::string_view text);
std::string vm_flags_text(uint64_t flags, const DecodedVmaFlags& decoded);
Json vm_flags_json(uint64_t flags, const DecodedVmaFlags& decoded);

}  // namespace kdive
