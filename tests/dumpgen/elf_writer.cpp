#include "tests/dumpgen/elf_writer.hpp"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

#include "capture/writers/elf_writer.hpp"
#include "tests/dumpgen/notes_writer.hpp"
#include "tests/dumpgen/page_content.hpp"

namespace kdive::dumpgen {
namespace {

constexpr uint64_t kPage = 4096;

std::vector<LoadSpec> loads_from_pages(const DumpDescription& d) {
  std::vector<LoadSpec> loads;
  for (const auto& [pfn, spec] : d.pages) {
    uint64_t a = pfn * kPage;
    if (!loads.empty() && loads.back().paddr + loads.back().filesz == a) {
      loads.back().filesz += kPage;
      loads.back().memsz += kPage;
    } else {
      loads.push_back({a, 0, kPage, kPage});
    }
  }
  return loads;
}

}  // namespace

std::vector<std::byte> write_elf(const DumpDescription& d) {
  for (const auto& [pfn, spec] : d.pages) {
    if (spec.kind == PageKind::Excluded || spec.kind == PageKind::Lost) {
      throw std::invalid_argument(
          fmt::format("page {:#x}: excluded/lost pages exist in kdump only (ELF drops a "
                      "segment's tail with memsz > filesz instead)",
                      pfn * kPage));
    }
  }
  std::vector<LoadSpec> loads = d.loads.empty() ? loads_from_pages(d) : d.loads;
  NoteStream notes = write_notes(d, true);

  // The production ELF writer's header layout: the notes right after the
  // program headers, each load's file part at a page-aligned offset.
  uint64_t at = (capture::elf_core_notes_offset(loads.size()) + notes.bytes.size() + kPage - 1) / kPage * kPage;
  std::vector<capture::ElfLoad> ph(loads.size());
  for (size_t i = 0; i < loads.size(); ++i) {
    const LoadSpec& l = loads[i];
    if (l.filesz > l.memsz) throw std::invalid_argument("load: size larger than memsz");
    ph[i] = {.offset = at, .vaddr = l.vaddr, .paddr = l.paddr, .filesz = l.filesz, .memsz = l.memsz};
    at += (l.filesz + kPage - 1) / kPage * kPage;
  }
  // p_align 0, as the generator always wrote its loads.
  std::vector<std::byte> out = capture::elf_core_headers(ph, notes.bytes, 0);
  out.resize(at);

  for (const capture::ElfLoad& p : ph) {
    // Page by page: a load need not start on a page boundary.
    for (uint64_t off = 0; off < p.filesz;) {
      uint64_t a = p.paddr + off;
      uint64_t pfn = a / kPage;
      uint64_t in_page = a % kPage;
      uint64_t n = std::min(kPage - in_page, p.filesz - off);
      auto page = page_bytes(d, pfn);
      std::memcpy(out.data() + p.offset + off, page.data() + in_page, n);
      off += n;
    }
  }
  return out;
}

}  // namespace kdive::dumpgen
