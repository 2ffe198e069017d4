// DumpNotes: what a dump says about the crash besides memory — the VMCOREINFO
// text, each CPU's registers (NT_PRSTATUS and QEMU's CPU state), and header
// facts of the kdump format. Parsed from ELF notes by parse_elf_notes(), which
// both the ELF and the kdump-compressed readers use (the latter stores the same
// notes in its sub-header).
//
//   DumpNotes n;
//   parse_elf_notes(note_bytes, n);
//   n.vmcoreinfo;           // "OSRELEASE=6.1.0-56-cloud-amd64\nPAGESIZE=4096\n..."
//   n.cpus[1].prstatus->rip;
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kdive {

// x86_64 user_regs_struct, the pr_reg of NT_PRSTATUS, in the kernel's order.
struct X86Registers {
  uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss,
      fs_base, gs_base, ds, es, fs, gs;
};
static_assert(sizeof(X86Registers) == 27 * 8);

struct PrStatus {
  int32_t pid = 0;  // the task that was running (0: idle)
  X86Registers regs{};
};

// QEMU's "QEMU" note (QEMUCPUState): registers as the hypervisor saw them,
// including control registers that NT_PRSTATUS lacks.
struct QemuCpuState {
  uint32_t version = 0;
  uint64_t rip = 0, rsp = 0, rflags = 0;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0;
  uint64_t gs_base = 0;         // the GS segment base: per-CPU area in the kernel
  uint64_t kernel_gs_base = 0;  // MSR_KERNEL_GS_BASE (0 when the note is older)
};

struct CpuNotes {
  std::optional<PrStatus> prstatus;
  std::optional<QemuCpuState> qemu;
};

// A device dump (Linux 4.18, CONFIG_PROC_VMCORE_DEVICE_DUMP, the vmcore
// device dump of fs/proc/vmcore.c): a driver's snapshot of its hardware, which the capture kernel adds to /proc/vmcore
// as an ELF note of type NT_VMCOREDD named "LINUX" whose descriptor is a 44-byte dump name and then the data (struct
// vmcoredd_header of include/uapi/linux/vmcore.h).
struct DeviceDump {
  std::string name;
  uint64_t offset = 0;  // where the data starts in the dump file
  std::vector<std::byte> data;
};

struct DumpNotes {
  std::string vmcoreinfo;                // raw KEY=value text; empty when absent
  std::vector<CpuNotes> cpus;            // in note order (CPU numbers as the dumper wrote them)
  std::vector<DeviceDump> device_dumps;  // in note order
  // From a kdump-compressed header (absent for ELF dumps).
  std::optional<uint64_t> phys_base;
  std::optional<int64_t> crash_time_sec;
  std::optional<std::string> utsname_release;
  std::optional<int> dump_level;
  // The ELF note stream as the dump holds it (every note, unknown ones too, up
  // to any damage): dump writers carry it into the dumps they make.
  std::vector<std::byte> elf_notes;
  // /proc/kcore of a running kernel (its notes carry NT_TASKSTRUCT, which crash
  // dumps never do). Live memory changes under the reader and has no crash.
  bool live = false;
};

// Adds what the ELF note stream `notes` holds (any number of notes, 4-byte
// aligned) to `out`. Unknown notes are skipped; a malformed stream throws
// FormatError. NT_PRSTATUS and QEMU notes are matched to CPUs in order.
// `file_offset` maps a position in `notes` to the dump file's offset (where
// a device dump's data lies); without it positions are offsets.
void parse_elf_notes(std::span<const std::byte> notes, DumpNotes& out,
                     const std::function<uint64_t(uint64_t)>& file_offset = {});

}  // namespace kdive
