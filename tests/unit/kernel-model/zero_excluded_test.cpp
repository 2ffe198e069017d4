// `set zero_excluded on` (KernelMemory::set_zero_excluded) on truncated
// synthetic dumps: a page inside the dump's layout whose bytes the file lost
// reads as zeros, as crash zero-fills a short read of a segment; a hole
// between or past the dumped ranges still faults, and without the setting
// the lost page faults with the reader's message.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "readers/byte_source.hpp"
#include "readers/elf_dump.hpp"
#include "readers/kdump_compressed.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/dumpgen/page_content.hpp"
#include "tests/unit/support/page_reads.hpp"

using namespace kdive;
using namespace kdive::test;

namespace {

constexpr uint64_t kPage = 4096;

KernelLayout four_level() {
  KernelLayout l;
  l.levels = 4;
  return l;
}

std::unique_ptr<DumpSource> open_elf_text(const std::string& text) {
  return open_elf_dump(std::make_unique<MemorySource>(dumpgen::make_dump(text), "test.elf"));
}

// The Fault's message of a physical read, "" when it read.
std::string fault_of(const KernelMemory& m, uint64_t paddr, std::vector<std::byte>& out) {
  try {
    m.read_phys(PhysAddr{paddr}, out);
  } catch (const Fault& f) {
    return f.what();
  }
  return "";
}

}  // namespace

TEST_CASE("zero_excluded: an ELF segment cut short reads as zeros, a hole still faults", "[zero_excluded]") {
  // Notes take the first page of the file, then 0x2000 bytes of the first
  // segment, then the second: cut inside the second segment's data.
  auto d =
      open_elf_text("format elf\nvmcoreinfo OSRELEASE=6.1.0\nload 0x0 0x2000\nload 0x100000 0x2000\ntruncate 0x3800\n");
  REQUIRE(read_page(*d, 0x100000).state == PageState::Missing);
  CHECK(d->lost_from_file(PhysAddr{0x100000}));
  CHECK(d->lost_from_file(PhysAddr{0x101000}));
  // Between the segments and past them: holes, not lost bytes.
  CHECK_FALSE(d->lost_from_file(PhysAddr{0x3000}));
  CHECK_FALSE(d->lost_from_file(PhysAddr{0x102000}));
  CHECK(read_page(*d, 0x3000).state == PageState::Missing);

  KernelMemory m(*d, four_level());
  std::vector<std::byte> buf(kPage, std::byte{0xcc});
  CHECK(fault_of(m, 0x100000, buf).find("page not in the dump") != std::string::npos);
  m.set_zero_excluded(true);
  buf.assign(kPage, std::byte{0xcc});
  CHECK(fault_of(m, 0x101000, buf).empty());
  CHECK(all_are(buf, 0));
  // What the file still holds is read as it is, not zeroed.
  std::vector<std::byte> head(0x800);
  CHECK(fault_of(m, 0x100000, head).empty());
  CHECK(u64_at(head, 8) == 0x100008);  // dumpgen's pattern: each u64 its own address
  CHECK(fault_of(m, 0x3000, buf).find("page not in the dump") != std::string::npos);
  CHECK(fault_of(m, 0x102000, buf).find("page not in the dump") != std::string::npos);
}

TEST_CASE("zero_excluded: pages an incomplete kdump lost read as zeros, holes still fault", "[zero_excluded]") {
  auto gen = dumpgen::generate("page 0x1000-0x9000 random 1\npage 0xa000 excluded\n");
  const auto& layout = gen.files[0].layout;
  auto bytes = gen.files[0].bytes;
  bytes.resize(layout.data_at.at(5) + 100);  // PFN 5's data and the rest cut off
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<MemorySource>(std::move(bytes), "test.dump"));
  auto d = open_kdump(std::move(parts));
  REQUIRE(read_page(*d, 5 * kPage).state == PageState::Missing);
  for (uint64_t pfn = 5; pfn < 9; ++pfn) CHECK(d->lost_from_file(PhysAddr{pfn * kPage}));
  // PFN 9 is named by no page line (a hole); PFN 0 neither.
  CHECK_FALSE(d->lost_from_file(PhysAddr{9 * kPage}));
  CHECK_FALSE(d->lost_from_file(PhysAddr{0}));
  CHECK_FALSE(d->lost_from_file(PhysAddr{1ull << 40}));

  KernelMemory m(*d, four_level());
  std::vector<std::byte> buf(kPage, std::byte{0xcc});
  CHECK(fault_of(m, 6 * kPage, buf).find("page not in the dump") != std::string::npos);
  CHECK(fault_of(m, 0xa000, buf).find("excluded") != std::string::npos);
  m.set_zero_excluded(true);
  buf.assign(kPage, std::byte{0xcc});
  CHECK(fault_of(m, 6 * kPage, buf).empty());
  CHECK(all_are(buf, 0));
  CHECK(fault_of(m, 0xa000, buf).empty());  // filtered out: zeros, as before
  CHECK(fault_of(m, 9 * kPage, buf).find("page not in the dump") != std::string::npos);
  // The pages before the cut are the dump's.
  CHECK(fault_of(m, 4 * kPage, buf).empty());
  CHECK(buf == dumpgen::random_page(1, 4, kPage));
}
