#include "tests/dumpgen/elf_writer.hpp"

#include <elf.h>
#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

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

  size_t phnum = 1 + loads.size();
  uint64_t notes_at = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
  uint64_t at = (notes_at + notes.bytes.size() + kPage - 1) / kPage * kPage;
  std::vector<Elf64_Phdr> ph(phnum);
  ph[0] = Elf64_Phdr{PT_NOTE, 0, notes_at, 0, 0, notes.bytes.size(), notes.bytes.size(), 4};
  for (size_t i = 0; i < loads.size(); ++i) {
    const LoadSpec& l = loads[i];
    if (l.filesz > l.memsz) throw std::invalid_argument("load: size larger than memsz");
    ph[i + 1] = Elf64_Phdr{PT_LOAD, PF_R | PF_W | PF_X, at, l.vaddr, l.paddr, l.filesz, l.memsz, 0};
    at += (l.filesz + kPage - 1) / kPage * kPage;
  }

  std::vector<std::byte> out(at);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_CORE;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = static_cast<Elf64_Half>(phnum);
  std::memcpy(out.data(), &eh, sizeof eh);
  std::memcpy(out.data() + sizeof eh, ph.data(), phnum * sizeof(Elf64_Phdr));
  if (!notes.bytes.empty()) std::memcpy(out.data() + notes_at, notes.bytes.data(), notes.bytes.size());

  for (size_t i = 1; i < phnum; ++i) {
    const Elf64_Phdr& p = ph[i];
    // Page by page: a load need not start on a page boundary.
    for (uint64_t off = 0; off < p.p_filesz;) {
      uint64_t a = p.p_paddr + off;
      uint64_t pfn = a / kPage;
      uint64_t in_page = a % kPage;
      uint64_t n = std::min(kPage - in_page, p.p_filesz - off);
      auto page = page_bytes(d, pfn);
      std::memcpy(out.data() + p.p_offset + off, page.data() + in_page, n);
      off += n;
    }
  }
  return out;
}

}  // namespace kdive::dumpgen
