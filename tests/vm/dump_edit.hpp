// Damaged copies of a fixture's dump, for tests of what kdive does when part of
// the dump is missing.
//
//   copy_without_notes(dir / "vmcore.elf", tmp / "vmcore.elf", {"VMCOREINFO"});
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kdive::test {

// Copies an ELF dump and renames the given notes ("VMCOREINFO", "QEMU") so
// readers no longer recognize them: a QEMU dump taken without -device
// vmcoreinfo, or a dump with no CPU state at all.
void copy_without_notes(const std::filesystem::path& from, const std::filesystem::path& to,
                        const std::vector<std::string>& names);

}  // namespace kdive::test
