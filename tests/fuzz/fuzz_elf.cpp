// libFuzzer target: ELF vmcores (kexec, QEMU, /proc/kcore shapes) from
// arbitrary bytes — the ELF header and program headers, the notes (VMCOREINFO,
// NT_PRSTATUS, QEMU CPU state, kcore's NT_TASKSTRUCT), VMCOREINFO parsing, then
// reads of a few pages of each range, including past filesz and at the edges.
// Any exception other than FormatError, any sanitizer report, or a huge
// allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "readers/byte_reader.hpp"
#include "readers/byte_source.hpp"
#include "readers/elf_dump.hpp"
#include "readers/vmcoreinfo.hpp"

using namespace kdive;

namespace {

// What the kernel model asks of VMCOREINFO first; the values are thrown away.
void query(const VmcoreInfo& info) {
  (void)info.get("OSRELEASE");
  (void)info.symbol("_stext");
  (void)info.number("phys_base");
  (void)info.offset("page.flags");
  (void)info.size("page");
  (void)info.length("mem_section");
  (void)info.kernel_offset();
  (void)info.page_size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  try {
    auto dump = open_elf_dump(std::make_unique<MemorySource>(std::move(bytes), "fuzz"));
    (void)dump->format();
    (void)dump->warnings();
    const DumpNotes& notes = dump->notes();
    query(VmcoreInfo(notes.vmcoreinfo));
    for (const CpuNotes& cpu : notes.cpus) {
      if (cpu.prstatus) (void)cpu.prstatus->regs.rip;
      if (cpu.qemu) (void)cpu.qemu->cr3;
    }
    const uint64_t ps = dump->page_size();
    std::vector<std::byte> page(ps);
    int budget = 64;
    auto touch = [&](uint64_t paddr) {
      dump->read_phys(PhysAddr{paddr}, page);
      dump->read_phys(PhysAddr{paddr + ps / 2 + 3}, std::span(page).first(ps / 2 - 3));
    };
    for (uint64_t pfn = 0; pfn < 4; ++pfn) touch(pfn * ps);
    for (const PhysRange& r : dump->ranges()) {
      // The first pages, the last one, and the page after: segment edges.
      uint64_t first = r.start.value() & ~(ps - 1);
      for (uint64_t off = 0; off < r.size && off < 4 * ps && budget > 0; off += ps, --budget) touch(first + off);
      uint64_t last = (r.start.value() + r.size - 1) & ~(ps - 1);
      touch(last);
      if (last + ps != 0) touch(last + ps);
      if (--budget <= 0) break;
    }
    touch(UINT64_MAX & ~(ps - 1));
  } catch (const FormatError&) {
    // not a (valid) ELF vmcore
  }
  return 0;
}
