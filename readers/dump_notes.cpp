#include "readers/dump_notes.hpp"

#include <algorithm>
#include <cstring>

#include "readers/byte_reader.hpp"

namespace kdive {
namespace {

constexpr uint32_t kNtPrstatus = 1;
constexpr uint32_t kNtTaskstruct = 4;
constexpr uint32_t kQemuNoteType = 0;
// include/uapi/linux/elf.h NT_VMCOREDD; include/uapi/linux/vmcore.h
// VMCOREDD_MAX_NAME_BYTES, the dump name that opens the descriptor.
constexpr uint32_t kNtVmcoredd = 0x700;
constexpr uint64_t kVmcoreddNameBytes = 44;

// struct elf_prstatus on x86_64: pr_pid at 32, pr_reg (27 × u64) at 112.
constexpr uint64_t kPrstatusPid = 32;
constexpr uint64_t kPrstatusRegs = 112;
constexpr uint64_t kPrstatusSize = 336;

// QEMUCPUState (QEMU's target/i386/arch_dump.c): version, size, 18 GPRs incl. rip
// and rflags, 8 segments (cs ds es fs gs ss ldt tr) of 24 bytes, gdt and idt
// (24 bytes each), cr[5], and since QEMU 5.0 kernel_gs_base.
constexpr uint64_t kQemuGprs = 8;
constexpr uint64_t kQemuSegments = kQemuGprs + 18 * 8;
constexpr uint64_t kQemuSegmentSize = 24;
constexpr uint64_t kQemuCrs = kQemuSegments + 10 * kQemuSegmentSize;
constexpr uint64_t kQemuKernelGsBase = kQemuCrs + 5 * 8;
constexpr uint64_t kQemuMinSize = kQemuKernelGsBase;  // up to cr4

// A CORE or QEMU note too short for its layout is skipped like an unknown one,
// not taken for a CPU: the other notes (VMCOREINFO above all) still count.

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t{3}; }

PrStatus parse_prstatus(const ByteReader& desc) {
  desc.require(0, kPrstatusSize);
  PrStatus p;
  p.pid = desc.get<int32_t>(kPrstatusPid);
  p.regs = desc.get<X86Registers>(kPrstatusRegs);
  return p;
}

QemuCpuState parse_qemu(const ByteReader& desc) {
  QemuCpuState q;
  q.version = desc.get<uint32_t>(0);
  uint32_t size = desc.get<uint32_t>(4);
  // GPR order: rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags.
  q.rsp = desc.get<uint64_t>(kQemuGprs + 6 * 8);
  q.rip = desc.get<uint64_t>(kQemuGprs + 16 * 8);
  q.rflags = desc.get<uint64_t>(kQemuGprs + 17 * 8);
  // Segment base is at +16 in each segment record; gs is the 5th segment.
  q.gs_base = desc.get<uint64_t>(kQemuSegments + 4 * kQemuSegmentSize + 16);
  q.cr0 = desc.get<uint64_t>(kQemuCrs);
  q.cr2 = desc.get<uint64_t>(kQemuCrs + 16);
  q.cr3 = desc.get<uint64_t>(kQemuCrs + 24);
  q.cr4 = desc.get<uint64_t>(kQemuCrs + 32);
  if (size >= kQemuKernelGsBase + 8 && desc.size() >= kQemuKernelGsBase + 8) {
    q.kernel_gs_base = desc.get<uint64_t>(kQemuKernelGsBase);
  }
  return q;
}

}  // namespace

void parse_elf_notes(std::span<const std::byte> notes, DumpNotes& out,
                     const std::function<uint64_t(uint64_t)>& file_offset) {
  ByteReader r(notes, "ELF notes");
  size_t prstatus_count = 0;
  size_t qemu_count = 0;
  uint64_t pos = 0;
  while (pos + 12 <= r.size()) {
    uint32_t namesz = r.get<uint32_t>(pos);
    uint32_t descsz = r.get<uint32_t>(pos + 4);
    uint32_t type = r.get<uint32_t>(pos + 8);
    if (namesz == 0 && descsz == 0 && type == 0) break;  // zero padding after the last note
    uint64_t name_at = pos + 12;
    uint64_t desc_at = name_at + align4(namesz);
    uint64_t next = desc_at + align4(descsz);
    r.require(name_at, align4(namesz));
    r.require(desc_at, descsz);
    std::string name = r.string_at(name_at, namesz);
    ByteReader desc = r.sub(desc_at, descsz, "note " + name);

    if (name == "VMCOREINFO") {
      auto text = desc.bytes(0, descsz);
      std::string s(reinterpret_cast<const char*>(text.data()), text.size());
      s.resize(strnlen(s.c_str(), s.size()));
      out.vmcoreinfo += s;
    } else if (name == "CORE" && type == kNtTaskstruct) {
      out.live = true;
    } else if (name == "CORE" && type == kNtPrstatus && descsz >= kPrstatusSize) {
      if (out.cpus.size() <= prstatus_count) out.cpus.resize(prstatus_count + 1);
      out.cpus[prstatus_count++].prstatus = parse_prstatus(desc);
    } else if (name == "LINUX" && type == kNtVmcoredd && descsz >= kVmcoreddNameBytes) {
      DeviceDump d;
      d.name = desc.string_at(0, kVmcoreddNameBytes);
      d.offset = file_offset ? file_offset(desc_at + kVmcoreddNameBytes) : desc_at + kVmcoreddNameBytes;
      auto data = desc.bytes(kVmcoreddNameBytes, descsz - kVmcoreddNameBytes);
      d.data.assign(data.begin(), data.end());
      out.device_dumps.push_back(std::move(d));
    } else if (name == "QEMU" && type == kQemuNoteType && descsz >= kQemuMinSize) {
      if (out.cpus.size() <= qemu_count) out.cpus.resize(qemu_count + 1);
      out.cpus[qemu_count++].qemu = parse_qemu(desc);
    }
    if (next > r.size()) {  // the last note's padding may be cut short
      pos = r.size();
      break;
    }
    pos = next;
  }
  out.elf_notes.insert(out.elf_notes.end(), notes.begin(), notes.begin() + std::min<uint64_t>(pos, notes.size()));
  // /proc/kcore's NT_PRSTATUS is an empty placeholder, not a CPU's registers.
  if (out.live) out.cpus.clear();
}

}  // namespace kdive
