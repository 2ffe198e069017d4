// ElfWriter: writes an ELF64 core (makedumpfile -E): one PT_NOTE with the
// source's notes, one PT_LOAD per run of kept page frames (physical address in
// p_paddr, p_vaddr 0 as QEMU writes them), page data raw.
//
// The runs come from the filter's counting pass, so the program headers are
// final before the data. ELF cannot mark a page as zero: zero pages found while
// copying are left as holes of a sparse file (they read back as zeros), and so
// are kept frames the source itself lacks (a filtered kdump source): ELF has
// no "excluded" inside a segment, and splitting segments there would need the
// pages read before the headers are written. A dump
// cut short gets its segments trimmed to what was written (p_filesz <
// p_memsz: readers see the rest as not dumped).
//
//   ElfWriter w(sink, info, {{0x1, 0x9f}, {0x100, 0x8000}});   // PFN runs
//   w.begin(); w.write_window(0, slots); w.finish(true);
//
// elf_core_headers() is the header part alone (also what the test dump
// generator writes its ELF cores with):
//   auto head = elf_core_headers({{.offset = 0x2000, .paddr = 0x1000, .filesz = 0x1000, .memsz = 0x1000}},
//                                notes, 4096);
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "capture/writers/output_sink.hpp"
#include "capture/writers/page_writer.hpp"

namespace kdive::capture {

struct PfnRun {
  uint64_t start;  // first PFN
  uint64_t end;    // one past the last
};

// One PT_LOAD of an ELF core.
struct ElfLoad {
  uint64_t offset = 0;  // in the file
  uint64_t vaddr = 0;
  uint64_t paddr = 0;
  uint64_t filesz = 0;  // < memsz: the rest is memory the dump does not hold
  uint64_t memsz = 0;
};

// Where the notes of an ELF core with `loads` PT_LOADs start: after the ELF
// header and the program headers (the PT_NOTE, then the loads).
uint64_t elf_core_notes_offset(size_t loads);

// The first elf_core_notes_offset(loads.size()) + notes.size() bytes of an
// ELF64 x86_64 core: the ELF header, the PT_NOTE's program header, one per
// load (p_align `load_align`), then the notes themselves.
std::vector<std::byte> elf_core_headers(std::span<const ElfLoad> loads, std::span<const std::byte> notes,
                                        uint64_t load_align);

class ElfWriter : public PageWriter {
 public:
  // Throws std::invalid_argument when the runs need more program headers than
  // ELF's 16-bit count holds.
  ElfWriter(OutputSink& sink, const DumpInfo& info, std::vector<PfnRun> runs);
  void begin() override;
  void write_window(uint64_t first_pfn, std::span<const PageSlot> slots) override;
  void finish(bool complete) override;
  uint64_t pages_written() const override { return pages_written_; }

 private:
  std::vector<std::byte> headers(bool complete) const;

  OutputSink& sink_;
  DumpInfo info_;
  std::vector<PfnRun> runs_;
  std::vector<uint64_t> run_offset_;  // file offset of each run's data
  std::vector<std::byte> notes_;
  uint64_t notes_offset_ = 0;
  uint64_t done_pfn_ = 0;  // every kept page below this PFN is written
  uint64_t pages_written_ = 0;
  uint64_t file_end_ = 0;  // end of the data written so far
  size_t run_ = 0;         // the run the next page falls in (PFN order)
};

}  // namespace kdive::capture
