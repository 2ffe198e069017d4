#include "tests/dumpgen/notes_writer.hpp"

#include <cstring>

namespace kdive::dumpgen {
namespace {

constexpr uint32_t kNtPrstatus = 1;
constexpr uint32_t kQemuNoteType = 0;
// struct elf_prstatus on x86_64: pr_pid at 32, pr_reg at 112, 336 bytes in all.
constexpr size_t kPrstatusSize = 336;
constexpr size_t kPrstatusPid = 32;
constexpr size_t kPrstatusRegs = 112;
// QEMUCPUState: version, size, 16 GPRs + rip + rflags, 8 segments + gdt + idt
// of 24 bytes ({selector, limit, flags, pad: u32; base: u64}), cr[5],
// kernel_gs_base.
constexpr size_t kQemuGprs = 8;
constexpr size_t kQemuRip = kQemuGprs + 16 * 8;
constexpr size_t kQemuSegments = kQemuGprs + 18 * 8;
constexpr size_t kQemuSegmentSize = 24;
constexpr size_t kQemuCrs = kQemuSegments + 10 * kQemuSegmentSize;
constexpr size_t kQemuKernelGsBase = kQemuCrs + 5 * 8;
constexpr size_t kQemuSize = kQemuKernelGsBase + 8;
constexpr size_t kQemuGsSegment = 4;  // cs ds es fs gs ss ldt tr

template <typename T>
void put(std::vector<std::byte>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

std::vector<std::byte> prstatus_desc(const PrStatus& p) {
  std::vector<std::byte> b(kPrstatusSize);
  put<int32_t>(b, kPrstatusPid, p.pid);
  put(b, kPrstatusRegs, p.regs);
  return b;
}

std::vector<std::byte> qemu_desc(const NoteSpec& n) {
  std::vector<std::byte> b(kQemuSize);
  const QemuCpuState& q = n.qemu;
  put<uint32_t>(b, 0, q.version);
  put<uint32_t>(b, 4, kQemuSize);
  for (size_t i = 0; i < n.qemu_gprs.size(); ++i) put<uint64_t>(b, kQemuGprs + i * 8, n.qemu_gprs[i]);
  put<uint64_t>(b, kQemuGprs + 6 * 8, q.rsp);
  put<uint64_t>(b, kQemuRip, q.rip);
  put<uint64_t>(b, kQemuRip + 8, q.rflags);
  put<uint64_t>(b, kQemuSegments + kQemuGsSegment * kQemuSegmentSize + 16, q.gs_base);
  put<uint64_t>(b, kQemuCrs, q.cr0);
  put<uint64_t>(b, kQemuCrs + 16, q.cr2);
  put<uint64_t>(b, kQemuCrs + 24, q.cr3);
  put<uint64_t>(b, kQemuCrs + 32, q.cr4);
  put<uint64_t>(b, kQemuKernelGsBase, q.kernel_gs_base);
  return b;
}

size_t align4(size_t v) { return (v + 3) & ~size_t{3}; }

}  // namespace

void append_note(std::vector<std::byte>& out, std::string_view name, uint32_t type, std::span<const std::byte> desc) {
  uint32_t namesz = static_cast<uint32_t>(name.size() + 1);
  uint32_t descsz = static_cast<uint32_t>(desc.size());
  size_t at = out.size();
  out.resize(at + 12 + align4(namesz) + align4(descsz));
  std::memcpy(out.data() + at, &namesz, 4);
  std::memcpy(out.data() + at + 4, &descsz, 4);
  std::memcpy(out.data() + at + 8, &type, 4);
  std::memcpy(out.data() + at + 12, name.data(), name.size());
  if (!desc.empty()) std::memcpy(out.data() + at + 12 + align4(namesz), desc.data(), desc.size());
}

NoteStream write_notes(const DumpDescription& d, bool with_vmcoreinfo) {
  NoteStream s;
  for (const NoteSpec& n : d.notes) {
    switch (n.kind) {
      case NoteSpec::Kind::Prstatus:
        append_note(s.bytes, "CORE", kNtPrstatus, prstatus_desc(n.prstatus));
        break;
      case NoteSpec::Kind::Qemu:
        append_note(s.bytes, "QEMU", kQemuNoteType, qemu_desc(n));
        break;
      case NoteSpec::Kind::Raw:
        append_note(s.bytes, n.name, n.type, n.desc);
        break;
    }
  }
  if (with_vmcoreinfo && !d.vmcoreinfo.empty()) {
    // The kernel's VMCOREINFO note has type 0 and no NUL at the end of the
    // text.
    constexpr std::string_view kName = "VMCOREINFO";
    s.vmcoreinfo_text = s.bytes.size() + 12 + align4(kName.size() + 1);
    s.vmcoreinfo_size = d.vmcoreinfo.size();
    append_note(s.bytes, kName, 0,
                std::span(reinterpret_cast<const std::byte*>(d.vmcoreinfo.data()), d.vmcoreinfo.size()));
  }
  return s;
}

}  // namespace kdive::dumpgen
