#include "tests/dumpgen/dumpgen.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>

#include "readers/byte_reader.hpp"
#include "readers/elf_core.hpp"
#include "readers/elf_dump.hpp"
#include "tests/dumpgen/flattened_writer.hpp"
#include "tests/dumpgen/page_content.hpp"

using namespace kdive;
using namespace kdive::dumpgen;

namespace {

std::string parse_error(std::string_view text) {
  try {
    parse_description(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

template <typename T>
T get(const std::vector<std::byte>& b, size_t at) {
  return ByteReader(b, "test").get<T>(at);
}

}  // namespace

TEST_CASE("descriptions parse into what they say", "[dumpgen]") {
  auto d = parse_description(R"(
    # a comment line
    format kdump          # trailing comment
    version 5
    compression snappy
    utsname version #1 SMP PREEMPT_DYNAMIC
    page 0x1000 fill 0xab
    page 0x2000-0x4000 random 9 codec zstd
    page 0x5000 zero
    page 0x6000 excluded
    page 0x7000 lost
    poke64 0x1008 0x1122334455667788
    split at 0x4
    flattened chunk 512 reverse
  )");
  CHECK(d.version == 5);
  CHECK(d.compression == PageCodec::Snappy);
  CHECK(d.utsname[3] == "#1 SMP PREEMPT_DYNAMIC");
  REQUIRE(d.pages.size() == 6);
  CHECK(d.pages.at(1).content == Content::Fill);
  CHECK(d.pages.at(1).fill == 0xab);
  CHECK(d.pages.at(2).content == Content::Random);
  CHECK(d.pages.at(3).seed == 9);
  CHECK(d.pages.at(3).codec == PageCodec::Zstd);
  CHECK(d.pages.at(5).kind == PageKind::Zero);
  CHECK(d.pages.at(6).kind == PageKind::Excluded);
  CHECK(d.pages.at(7).kind == PageKind::Lost);
  CHECK(d.split_bounds == std::vector<uint64_t>{4});
  CHECK(d.flattened.enabled);
  CHECK(d.flattened.chunk == 512);
  CHECK(d.flattened.reverse);
  auto page = page_bytes(d, 1);
  CHECK(get<uint64_t>(page, 8) == 0x1122334455667788);
  CHECK(page[0] == std::byte{0xab});
  CHECK(page[16] == std::byte{0xab});
}

TEST_CASE("bad descriptions name the line", "[dumpgen]") {
  CHECK(parse_error("format kdump\nfrobnicate 1\n") == "line 2: unknown keyword 'frobnicate'");
  CHECK(parse_error("page 0x1001\n") == "line 1: page address not aligned to the page size 4096");
  CHECK(parse_error("page 0x1000 fill 0x100\n") == "line 1: fill byte above 0xff");
  CHECK(parse_error("page 0x1000 codec lz4\n") == "line 1: unknown codec 'lz4'");
  CHECK(parse_error("\n\ncpu 0 rip\n") == "line 3: missing register value");
  CHECK(parse_error("cpu 0 rpi 1\n") == "line 1: unknown register 'rpi'");
  CHECK(parse_error("version 0x\n") == "line 1: bad version '0x'");
  CHECK(parse_error("version 6 7\n") == "line 1: unexpected '7'");
  CHECK(parse_error("corrupt 0 abc\n") == "line 1: bytes: need an even number of hex digits");
  CHECK(parse_error("set foo 1\n") == "line 1: set header.FIELD or sub.FIELD");
}

TEST_CASE("numbers are decimal or 0x hex, never octal", "[dumpgen]") {
  CHECK(parse_description("dump_level 010\n").dump_level == 10);
  CHECK(parse_description("dump_level 0x1f\n").dump_level == 31);
  CHECK(parse_description("phys_base -0x1000\n").phys_base == static_cast<uint64_t>(-0x1000));
}

TEST_CASE("kdump output has the on-disk layout", "[dumpgen]") {
  auto g = generate(R"(
    version 6
    compression zstd
    incomplete
    timestamp 1234
    nr_cpus 2
    vmcoreinfo OSRELEASE=1
    page 0x1000 fill 1
    page 0x3000 zero
    page 0x4000 excluded
    max_mapnr 0x10
  )");
  const auto& f = g.files[0].bytes;
  const auto& L = g.files[0].layout;
  CHECK(std::memcmp(f.data(), "KDUMP   ", 8) == 0);
  CHECK(get<int32_t>(f, 8) == 6);
  CHECK(std::string(reinterpret_cast<const char*>(f.data()) + 12 + 4 * 65) == "x86_64");
  CHECK(get<int64_t>(f, 408) == 1234);
  CHECK(get<uint32_t>(f, 424) == (0x20u | 0x8u));  // zstd | incomplete
  CHECK(get<int32_t>(f, 428) == 4096);
  CHECK(get<int32_t>(f, 432) == 1);
  CHECK(get<uint32_t>(f, 436) == 2);
  CHECK(get<uint32_t>(f, 440) == 0x10);
  CHECK(get<int32_t>(f, 460) == 2);
  // Sub-header: notes right after it, VMCOREINFO's text inside the notes.
  CHECK(L.notes == 4096 + 104);
  CHECK(get<uint64_t>(f, 4096 + 48) == L.notes);
  CHECK(get<uint64_t>(f, 4096 + 32) == L.vmcoreinfo);
  CHECK(std::string(reinterpret_cast<const char*>(f.data()) + L.vmcoreinfo, 11) == "OSRELEASE=1");
  CHECK(get<uint64_t>(f, 4096 + 96) == 0x10);
  // Bitmaps: PFNs 1, 3, 4 valid; 1 and 3 dumpable.
  CHECK(L.bitmap1 == 2 * 4096);
  CHECK(L.bitmap2 == 3 * 4096);
  CHECK(f[L.bitmap1] == std::byte{0x1a});
  CHECK(f[L.bitmap2] == std::byte{0x0a});
  // Descriptors: PFN 1 compressed after the zero page, PFN 3 at the zero page.
  CHECK(L.descs == 4 * 4096);
  CHECK(L.data == L.descs + 2 * 24);
  CHECK(get<int64_t>(f, L.desc_at.at(1)) == static_cast<int64_t>(L.data + 4096));
  CHECK(get<uint32_t>(f, L.desc_at.at(1) + 12) == 0x20);
  CHECK(get<int64_t>(f, L.desc_at.at(3)) == static_cast<int64_t>(L.data));
  CHECK(get<uint32_t>(f, L.desc_at.at(3) + 8) == 4096);
  CHECK(get<uint32_t>(f, L.desc_at.at(3) + 12) == 0);
}

TEST_CASE("older header versions leave newer fields zero", "[dumpgen]") {
  auto f = make_dump("version 2\nsplit 1\nvmcoreinfo A=1\ncpu 0\npage 0x1000\n");
  CHECK(get<int32_t>(f, 4096 + 12) == 1);   // split
  CHECK(get<uint64_t>(f, 4096 + 24) == 2);  // end_pfn
  CHECK(get<uint64_t>(f, 4096 + 32) == 0);  // no offset_vmcoreinfo before v3
  CHECK(get<uint64_t>(f, 4096 + 48) == 0);  // no notes before v4
  CHECK(get<uint64_t>(f, 4096 + 96) == 0);  // no max_mapnr_64 before v6
}

TEST_CASE("flattened output: big-endian records and an end marker", "[dumpgen]") {
  auto s = flatten_records({{0x1000, std::vector<std::byte>(3, std::byte{7}), {}}});
  REQUIRE(s.size() == 4096 + 16 + 3 + 16);
  CHECK(std::memcmp(s.data(), "makedumpfile\0\0\0\0", 16) == 0);
  CHECK(ByteReader(s, "t").get_be<int64_t>(16) == 1);
  CHECK(ByteReader(s, "t").get_be<int64_t>(24) == 1);
  CHECK(ByteReader(s, "t").get_be<int64_t>(4096) == 0x1000);
  CHECK(ByteReader(s, "t").get_be<int64_t>(4104) == 3);
  CHECK(s[4112] == std::byte{7});
  CHECK(ByteReader(s, "t").get_be<int64_t>(4115) == -1);
  CHECK(ByteReader(s, "t").get_be<int64_t>(4123) == -1);
}

TEST_CASE("split output: one file per part", "[dumpgen]") {
  auto g = generate("split 4\npage 0x0-0x8000\n");
  REQUIRE(g.files.size() == 4);
  CHECK(g.files[1].layout.start_pfn == 2);
  CHECK(g.files[1].layout.end_pfn == 4);
  CHECK(g.files[1].layout.desc_at.size() == 2);
  CHECK_THROWS_AS(make_dump("split 2\npage 0x1000\n"), std::invalid_argument);
  auto sources = make_sources("split 2\npage 0x0-0x2000\n", "x");
  CHECK(sources[1]->name() == "x.2");
}

TEST_CASE("damage applies to the output bytes", "[dumpgen]") {
  auto f = make_dump("page 0x1000\ntruncate 5000\ncorrupt 0 41\n");
  CHECK(f.size() == 5000);
  CHECK(f[0] == std::byte{'A'});
  CHECK_THROWS_AS(make_dump("page 0x1000\ncorrupt 0x1000000 00\n"), std::invalid_argument);
  CHECK_THROWS_AS(make_dump("page 0x1000 zero\npoke 0x1000 01\n"), std::invalid_argument);
}

TEST_CASE("ELF cores read back through the ELF readers", "[dumpgen][elf]") {
  auto bytes = make_dump(R"(
    format elf
    vmcoreinfo OSRELEASE=6.12.0
    cpu 0 pid 100 rip 0xffffffff81000000
    qemu 0 rip 0xffffffff81000000 cr3 0x1000
    note LINUX 0x200 0102
    load 0x100000 0x2000 vaddr 0xffffffff81000000 memsz 0x3000
    page 0x101000 fill 0xee
    load 0x0 0x1000
    page 0x0 zero
  )");
  MemorySource src(bytes, "core");
  auto core = ElfCore::parse(src);
  REQUIRE(core.loads.size() == 2);
  CHECK(core.loads[0].paddr == 0x100000);
  CHECK(core.loads[0].vaddr == 0xffffffff81000000);
  CHECK(core.loads[0].filesz == 0x2000);
  CHECK(core.loads[0].memsz == 0x3000);
  CHECK(core.loads[0].offset % 4096 == 0);

  auto dump = open_elf_dump(std::make_unique<MemorySource>(bytes, "core"));
  const DumpNotes& n = dump->notes();
  CHECK(n.vmcoreinfo == "OSRELEASE=6.12.0\n");
  REQUIRE(n.cpus.size() == 1);
  CHECK(n.cpus[0].prstatus->pid == 100);
  CHECK(n.cpus[0].qemu->cr3 == 0x1000);

  std::vector<std::byte> page(4096);
  CHECK(dump->read_phys(PhysAddr{0x100000}, page) == PageState::Present);
  CHECK(page == pattern_page(0x100000,
                             4096));  // inside a load, no page line: the pattern
  CHECK(dump->read_phys(PhysAddr{0x101000}, page) == PageState::Present);
  CHECK(page == fill_page(0xee, 4096));
  CHECK(dump->read_phys(PhysAddr{0x102000}, page) == PageState::Excluded);  // memsz > filesz
  CHECK(dump->read_phys(PhysAddr{0x0}, page) == PageState::Present);
  CHECK(page == fill_page(0, 4096));
}

TEST_CASE("ELF loads follow runs of pages when none are given", "[dumpgen][elf]") {
  auto bytes = make_dump("format elf\npage 0x1000-0x3000 pattern\npage 0x8000 fill 1\n");
  MemorySource src(bytes, "core");
  auto core = ElfCore::parse(src);
  REQUIRE(core.loads.size() == 2);
  CHECK(core.loads[0].paddr == 0x1000);
  CHECK(core.loads[0].filesz == 0x2000);
  CHECK(core.loads[1].paddr == 0x8000);
  CHECK_THROWS_AS(make_dump("format elf\npage 0x1000 excluded\n"), std::invalid_argument);
}
