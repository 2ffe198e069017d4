// VmlinuxVmcoreinfo: the VMCOREINFO facts the page filter needs, taken from
// the kernel's vmlinux for a dump that lacks the VMCOREINFO note (a QEMU dump
// taken without -device vmcoreinfo, an ELF core written by another tool):
// `kdive-dump -x VMLINUX`. The kernel is located in the dump as kdive's
// analyzer locates it (Kernel::open: the KASLR offset from the QEMU CPU state
// or from the linux_banner in physical memory), then, in order:
//  1. the kernel's own VMCOREINFO text, which it builds at boot and keeps in
//     memory (vmcoreinfo_data, vmcoreinfo_size) whether or not a dump tool
//     ever exported it: taken when it reads whole and names the vmlinux's
//     release and KASLR offset;
//  2. otherwise the facts built from the vmlinux: symbols (mem_section,
//     init_top_pgt), DWARF sizes and offsets (struct page, struct
//     mem_section, struct zone), the enum pageflags bits, the page-type
//     values, PAGE_SIZE and the layout found (KASLR offset, phys_base, paging
//     levels, vmemmap and vmalloc bases).
// Either way the result is VMCOREINFO text, which the filter reads as it reads
// the note, so both paths share every later step.
//
//   auto kernel = Kernel::open("vmlinux", {"vmcore"});      // throws Error (wrong vmlinux)
//   VmlinuxVmcoreinfo v = vmcoreinfo_from_vmlinux(*kernel);
//   PageFilter filter(*source, 31, v.text);
//   v.source;    // "the kernel's VMCOREINFO in the dump's memory"
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kdive {
class Kernel;
}

namespace kdive::capture {

struct VmlinuxVmcoreinfo {
  std::string text;                // VMCOREINFO lines, "KEY=VALUE\n"
  std::string source;              // which of the two ways gave it
  std::vector<std::string> notes;  // why the first way was not taken, facts that could not be built
};

VmlinuxVmcoreinfo vmcoreinfo_from_vmlinux(const Kernel& kernel);

// Way 1 alone: the text the kernel keeps in memory, or nullopt with WHY set.
std::optional<std::string> vmcoreinfo_in_memory(const Kernel& kernel, std::string& why);

// Way 2 alone: the keys the page filter and its layout read, built from the
// vmlinux and the layout; NOTES receives each fact that could not be built.
std::string vmcoreinfo_from_debuginfo(const Kernel& kernel, std::vector<std::string>& notes);

}  // namespace kdive::capture
