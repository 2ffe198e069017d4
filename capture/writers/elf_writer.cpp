#include "capture/writers/elf_writer.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace kdive::capture {

uint64_t elf_core_notes_offset(size_t loads) { return sizeof(Elf64_Ehdr) + (loads + 1) * sizeof(Elf64_Phdr); }

std::vector<std::byte> elf_core_headers(std::span<const ElfLoad> loads, std::span<const std::byte> notes,
                                        uint64_t load_align) {
  const uint64_t notes_offset = elf_core_notes_offset(loads.size());
  std::vector<std::byte> out(notes_offset + notes.size());
  Elf64_Ehdr e{};
  std::memcpy(e.e_ident, ELFMAG, SELFMAG);
  e.e_ident[EI_CLASS] = ELFCLASS64;
  e.e_ident[EI_DATA] = ELFDATA2LSB;
  e.e_ident[EI_VERSION] = EV_CURRENT;
  e.e_ident[EI_OSABI] = ELFOSABI_NONE;
  e.e_type = ET_CORE;
  e.e_machine = EM_X86_64;
  e.e_version = EV_CURRENT;
  e.e_phoff = sizeof(Elf64_Ehdr);
  e.e_ehsize = sizeof(Elf64_Ehdr);
  e.e_phentsize = sizeof(Elf64_Phdr);
  e.e_phnum = static_cast<Elf64_Half>(loads.size() + 1);
  std::memcpy(out.data(), &e, sizeof e);

  std::vector<Elf64_Phdr> ph(loads.size() + 1);
  ph[0].p_type = PT_NOTE;
  ph[0].p_offset = notes_offset;
  ph[0].p_filesz = ph[0].p_memsz = notes.size();
  ph[0].p_align = 4;
  for (size_t i = 0; i < loads.size(); ++i) {
    Elf64_Phdr& p = ph[i + 1];
    p.p_type = PT_LOAD;
    p.p_flags = PF_R | PF_W | PF_X;
    p.p_offset = loads[i].offset;
    p.p_vaddr = loads[i].vaddr;
    p.p_paddr = loads[i].paddr;
    p.p_filesz = loads[i].filesz;
    p.p_memsz = loads[i].memsz;
    p.p_align = load_align;
  }
  std::memcpy(out.data() + sizeof e, ph.data(), ph.size() * sizeof(Elf64_Phdr));
  std::copy(notes.begin(), notes.end(), out.begin() + static_cast<ptrdiff_t>(notes_offset));
  return out;
}

ElfWriter::ElfWriter(OutputSink& sink, const DumpInfo& info, std::vector<PfnRun> runs)
    : sink_(sink), info_(info), runs_(std::move(runs)), notes_(notes_for_output(*info.notes)) {
  // PN_XNUM (0xffff) would move the count into a section header, which not
  // every reader follows: refuse instead.
  if (runs_.size() + 1 >= PN_XNUM) {
    throw std::invalid_argument(fmt::format(
        "{} runs of kept pages need more ELF program headers than fit (at most {}); write a kdump-compressed dump "
        "instead",
        runs_.size(), PN_XNUM - 2));
  }
  uint64_t bs = info_.page_size;
  notes_offset_ = elf_core_notes_offset(runs_.size());
  uint64_t at = (notes_offset_ + notes_.size() + bs - 1) / bs * bs;
  for (const PfnRun& r : runs_) {
    run_offset_.push_back(at);
    at += (r.end - r.start) * bs;
  }
}

std::vector<std::byte> ElfWriter::headers(bool complete) const {
  uint64_t bs = info_.page_size;
  std::vector<ElfLoad> loads(runs_.size());
  for (size_t i = 0; i < runs_.size(); ++i) {
    loads[i].offset = run_offset_[i];
    loads[i].paddr = runs_[i].start * bs;
    loads[i].memsz = (runs_[i].end - runs_[i].start) * bs;
    // Cut short: only what lies below the last page written whole is in the
    // file; the rest of the segment is memory the dump does not hold.
    uint64_t end = complete ? runs_[i].end : std::clamp(done_pfn_, runs_[i].start, runs_[i].end);
    loads[i].filesz = (end - runs_[i].start) * bs;
  }
  return elf_core_headers(loads, notes_, bs);
}

void ElfWriter::begin() { sink_.write_at(0, headers(false)); }

void ElfWriter::write_window(uint64_t first_pfn, std::span<const PageSlot> slots) {
  uint64_t bs = info_.page_size;
  // Consecutive stored pages of one run go out in one write.
  size_t i = 0;
  while (i < slots.size()) {
    uint64_t pfn = first_pfn + i;
    while (run_ < runs_.size() && runs_[run_].end <= pfn) ++run_;
    bool in_run = run_ < runs_.size() && runs_[run_].start <= pfn;
    if (!in_run || slots[i].state != SlotState::Stored) {
      if (in_run && slots[i].state == SlotState::Zero) ++pages_written_;  // a hole of the sparse file
      if (slots[i].state == SlotState::Stored) {
        throw std::logic_error(fmt::format("ELF writer: kept page {:#x} is in no segment", pfn));
      }
      done_pfn_ = pfn + 1;
      ++i;
      continue;
    }
    size_t j = i;
    std::vector<std::byte> buf;
    while (j < slots.size() && first_pfn + j < runs_[run_].end && slots[j].state == SlotState::Stored) {
      if (slots[j].codec != PageCodec::Raw || slots[j].size != bs) {
        throw std::logic_error("ELF writer: pages must be stored raw");
      }
      buf.insert(buf.end(), slots[j].data, slots[j].data + bs);
      ++j;
    }
    uint64_t at = run_offset_[run_] + (pfn - runs_[run_].start) * bs;
    try {
      sink_.write_at(at, buf);
    } catch (const WriteError& e) {
      uint64_t whole = e.written() / bs;
      pages_written_ += whole;
      done_pfn_ = pfn + whole;
      throw;
    }
    pages_written_ += j - i;
    file_end_ = std::max(file_end_, at + buf.size());
    done_pfn_ = first_pfn + j;
    i = j;
  }
}

void ElfWriter::finish(bool complete) {
  // Zero pages are holes: the file must still reach the end of the last
  // segment's file part, or readers take it for truncated.
  uint64_t end = 0;
  for (size_t i = 0; i < runs_.size(); ++i) {
    uint64_t last = complete ? runs_[i].end : std::clamp(done_pfn_, runs_[i].start, runs_[i].end);
    if (last > runs_[i].start) end = run_offset_[i] + (last - runs_[i].start) * info_.page_size;
  }
  if (end > file_end_) {
    std::byte zero{0};
    sink_.write_at(end - 1, std::span(&zero, 1));
  }
  sink_.write_at(0, headers(complete));
}

}  // namespace kdive::capture
