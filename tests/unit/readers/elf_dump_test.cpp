#include "readers/elf_dump.hpp"

#include <elf.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "readers/byte_reader.hpp"
#include "readers/elf_core.hpp"
#include "readers/open_dump.hpp"
#include "readers/vmcoreinfo.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/unit/support/page_reads.hpp"

using namespace kdive;
using namespace kdive::test;

namespace {

constexpr uint64_t kPage = 4096;
// Where dumpgen's ELF writer puts things: the ELF header, then the program
// headers (PT_NOTE first, then one per PT_LOAD).
constexpr uint64_t kPhdrs = sizeof(Elf64_Ehdr);
constexpr uint64_t kPhdrSize = sizeof(Elf64_Phdr);

std::unique_ptr<DumpSource> open_bytes(std::vector<std::byte> bytes) {
  return open_elf_dump(std::make_unique<MemorySource>(std::move(bytes), "test.elf"));
}

std::unique_ptr<DumpSource> open_text(std::string_view text) { return open_bytes(dumpgen::make_dump(text)); }

// dumpgen's default content: each u64 holds its own physical address.
bool is_pattern(const std::vector<std::byte>& b, uint64_t paddr) {
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    if (u64_at(b, i) != paddr + i) return false;
  }
  return true;
}

// Little-endian hex of a u64, for dumpgen's `corrupt` lines.
std::string le_hex(uint64_t v, int bytes = 8) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += fmt::format("{:02x}", (v >> (8 * i)) & 0xff);
  return s;
}

std::string corrupt(uint64_t offset, uint64_t value, int bytes = 8) {
  return fmt::format("corrupt {:#x} {}\n", offset, le_hex(value, bytes));
}

// Every error: "test.elf: <cause>" on one line.
std::string open_error(std::vector<std::byte> bytes) {
  try {
    open_bytes(std::move(bytes));
  } catch (const FormatError& e) {
    std::string m = e.what();
    CHECK(m.find('\n') == std::string::npos);
    CHECK(m.rfind("test.elf: ", 0) == 0);
    return m;
  }
  FAIL("no FormatError");
  return "";
}

std::string open_error(std::string_view text) { return open_error(dumpgen::make_dump(text)); }

bool contains(const std::string& s, std::string_view part) {
  INFO(s);
  return s.find(part) != std::string::npos;
}

// Two PT_LOADs and one page of RAM, the base the damage tests start from.
constexpr const char* kTwoLoads = R"(
  format elf
  vmcoreinfo OSRELEASE=6.1.0
  load 0x0 0x2000
  load 0x100000 0x1000
)";
// Offsets of the two PT_LOAD headers in kTwoLoads.
constexpr uint64_t kLoad1 = kPhdrs + kPhdrSize;
constexpr uint64_t kLoad2 = kPhdrs + 2 * kPhdrSize;

}  // namespace

TEST_CASE("kexec-style: PT_LOADs with virtual and physical addresses", "[elf]") {
  // /proc/vmcore describes the kernel text in a segment of its own (with its
  // virtual address) and again inside the RAM range that holds it.
  auto d = open_text(R"(
    format elf
    vmcoreinfo OSRELEASE=6.1.0
    cpu 0 pid 42 rip 0xffffffff81000010 rsp 0xffffc90000003f00
    cpu 1 pid 0 rip 0xffffffff81000020
    load 0x1000 0x2000 vaddr 0xffffffff81000000
    load 0x0 0x8000 vaddr 0xffff888000000000
    load 0x100000 0x3000 vaddr 0xffff888000100000
    page 0x2000 fill 0x5a
  )");
  CHECK(d->format() == "elf");
  CHECK(d->warnings().empty());

  auto text = read_page(*d, 0x1000);
  CHECK(text.state == PageState::Present);
  CHECK(is_pattern(text.bytes, 0x1000));
  auto filled = read_page(*d, 0x2000);
  CHECK(filled.state == PageState::Present);
  CHECK(all_are(filled.bytes, 0x5a));
  auto ram = read_page(*d, 0x7000);
  CHECK(ram.state == PageState::Present);
  CHECK(is_pattern(ram.bytes, 0x7000));
  auto part = read_page(*d, 0x101ff8, 8);  // the last u64 of a page
  CHECK(part.state == PageState::Present);
  CHECK(u64_at(part.bytes, 0) == 0x101ff8);

  auto hole = read_page(*d, 0x8000);
  CHECK(hole.state == PageState::Missing);
  CHECK(all_are(hole.bytes, 0));
  CHECK(read_page(*d, 0x103000).state == PageState::Missing);

  auto ranges = d->ranges();  // the text segment merges into its RAM range
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].start.value() == 0);
  CHECK(ranges[0].size == 0x8000);
  CHECK(ranges[1].start.value() == 0x100000);
  CHECK(ranges[1].size == 0x3000);

  const DumpNotes& n = d->notes();
  CHECK_FALSE(n.live);
  REQUIRE(n.cpus.size() == 2);
  REQUIRE(n.cpus[0].prstatus);
  CHECK(n.cpus[0].prstatus->pid == 42);
  CHECK(n.cpus[0].prstatus->regs.rip == 0xffffffff81000010);
  CHECK(n.cpus[0].prstatus->regs.rsp == 0xffffc90000003f00);
  CHECK(n.cpus[1].prstatus->regs.rip == 0xffffffff81000020);
  CHECK_FALSE(n.cpus[0].qemu);
  CHECK(VmcoreInfo(n.vmcoreinfo).get("OSRELEASE") == "6.1.0");
  // Header facts of the kdump format do not exist in an ELF dump.
  CHECK_FALSE(n.phys_base);
  CHECK_FALSE(n.dump_level);
}

TEST_CASE("ELF read_phys refuses to cross a page", "[elf]") {
  auto d = open_text(kTwoLoads);
  std::vector<std::byte> buf(16);
  CHECK_THROWS_AS(d->read_phys(PhysAddr{0xff8}, buf), std::logic_error);
}

TEST_CASE("QEMU-style: physical addresses only, CORE and QEMU notes", "[elf]") {
  auto d = open_text(R"(
    format elf
    cpu 0 pid 1 rip 0xffffffff81000000
    qemu 0 rip 0xffffffff81000000 rsp 0xffffc90000000100 cr3 0x10a000 cr4 0x3006f0 gs_base 0xffff88801fc00000 kernel_gs_base 0x7f00
    cpu 1 pid 0
    qemu 1 cr3 0x10b000
    vmcoreinfo OSRELEASE=5.10.0
    page 0x0-0x4000 pattern
    page 0x10000-0x12000 fill 0x11
  )");
  CHECK(d->format() == "elf (qemu)");
  CHECK(is_pattern(read_page(*d, 0x3000).bytes, 0x3000));
  CHECK(all_are(read_page(*d, 0x11000).bytes, 0x11));
  CHECK(read_page(*d, 0x4000).state == PageState::Missing);
  REQUIRE(d->ranges().size() == 2);

  const DumpNotes& n = d->notes();
  REQUIRE(n.cpus.size() == 2);
  REQUIRE(n.cpus[0].qemu);
  CHECK(n.cpus[0].qemu->rip == 0xffffffff81000000);
  CHECK(n.cpus[0].qemu->rsp == 0xffffc90000000100);
  CHECK(n.cpus[0].qemu->cr3 == 0x10a000);
  CHECK(n.cpus[0].qemu->cr4 == 0x3006f0);
  CHECK(n.cpus[0].qemu->gs_base == 0xffff88801fc00000);
  CHECK(n.cpus[0].qemu->kernel_gs_base == 0x7f00);
  REQUIRE(n.cpus[1].qemu);
  CHECK(n.cpus[1].qemu->cr3 == 0x10b000);
  CHECK(n.cpus[0].prstatus->pid == 1);
  CHECK(VmcoreInfo(n.vmcoreinfo).get("OSRELEASE") == "5.10.0");
}

TEST_CASE("memsz > filesz: the tail was filtered out, not zeros", "[elf]") {
  auto d = open_text(R"(
    format elf
    load 0x0 0x2000 memsz 0x6000
    load 0x100000 0x1000 memsz 0x1000
  )");
  CHECK(read_page(*d, 0x1000).state == PageState::Present);
  for (uint64_t a : {0x2000, 0x5000}) {
    auto r = read_page(*d, a);
    CHECK(r.state == PageState::Excluded);
    CHECK(all_are(r.bytes, 0));
  }
  CHECK(read_page(*d, 0x6000).state == PageState::Missing);
  auto ranges = d->ranges();  // the excluded tail is still part of the range
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].size == 0x6000);
  CHECK(d->warnings().empty());
}

TEST_CASE("ELF truncated files: what is there reads, the rest is missing", "[elf][damage]") {
  // Notes take the first page, the loads follow: 0x1000 + 0x2000 + 0x1000 bytes.
  auto full = dumpgen::make_dump(kTwoLoads);
  REQUIRE(full.size() == 0x4000);

  SECTION("cut inside the second segment's data") {
    auto d = open_text(std::string(kTwoLoads) + "truncate 0x3800\n");
    CHECK(read_page(*d, 0x1000).state == PageState::Present);
    auto cut = read_page(*d, 0x100000);
    CHECK(cut.state == PageState::Missing);
    CHECK(all_are(cut.bytes, 0));
    CHECK(read_page(*d, 0x100000, 0x800).state == PageState::Present);  // the part still there
    REQUIRE(d->warnings().size() == 1);
    CHECK(contains(d->warnings()[0], "test.elf: truncated"));
  }
  SECTION("cut before any data") {
    auto d = open_text(std::string(kTwoLoads) + "truncate 0x1000\n");
    CHECK(read_page(*d, 0).state == PageState::Missing);
    CHECK(d->warnings().size() == 1);
  }
  SECTION("cut inside the program headers or the notes") {
    CHECK(contains(open_error(std::string(kTwoLoads) + "truncate 100\n"), "truncated"));
    CHECK(contains(open_error(std::string(kTwoLoads) + "truncate 40\n"), "too short"));
    CHECK(contains(open_error(std::string(kTwoLoads) + fmt::format("truncate {}\n", kLoad2 + kPhdrSize + 4)), "notes"));
  }
}

TEST_CASE("ELF notes: VMCOREINFO, NT_PRSTATUS, QEMU state, unknown notes skipped", "[elf][notes]") {
  auto d = open_text(R"(
    format elf
    note LINUX 0x200 0102030405060708
    cpu 0 pid 7 rbx 0x1234 rip 0xffffffff81234567 gs_base 0xffff88801fa00000
    note GNU 3 deadbeef
    qemu 0 cr3 0x2000
    vmcoreinfo OSRELEASE=6.12.0
    vmcoreinfo SYMBOL(_stext)=ffffffff81000000
    vmcoreinfo NUMBER(phys_base)=-2097152
    vmcoreinfo KERNELOFFSET=1e000000
    page 0x1000 pattern
  )");
  const DumpNotes& n = d->notes();
  REQUIRE(n.cpus.size() == 1);
  CHECK(n.cpus[0].prstatus->pid == 7);
  CHECK(n.cpus[0].prstatus->regs.rbx == 0x1234);
  CHECK(n.cpus[0].prstatus->regs.rip == 0xffffffff81234567);
  CHECK(n.cpus[0].prstatus->regs.gs_base == 0xffff88801fa00000);
  CHECK(n.cpus[0].qemu->cr3 == 0x2000);
  VmcoreInfo info(n.vmcoreinfo);
  CHECK(info.get("OSRELEASE") == "6.12.0");
  CHECK(info.symbol("_stext") == 0xffffffff81000000);
  CHECK(info.number("phys_base") == -2097152);
  CHECK(info.kernel_offset() == 0x1e000000);
}

TEST_CASE("kcore's notes mark a live source", "[elf][notes]") {
  // /proc/kcore: an empty NT_PRSTATUS placeholder, NT_TASKSTRUCT, VMCOREINFO.
  auto d = open_text(R"(
    format elf
    note CORE 1 00
    note CORE 4 0000000000000000
    vmcoreinfo OSRELEASE=6.1.0
    load 0x1000 0x1000 vaddr 0xffff888000001000
  )");
  CHECK(d->format() == "kcore (live)");
  CHECK(d->notes().live);
  CHECK(d->notes().cpus.empty());  // the placeholder is no CPU's registers
  CHECK(is_pattern(read_page(*d, 0x1000).bytes, 0x1000));
}

TEST_CASE("ELF: a note too short for its type is skipped", "[elf][notes][damage]") {
  auto d = open_text(R"(
    format elf
    note CORE 1 00
    note QEMU 0 01000000
    cpu 0 pid 9 rip 0x1234
    vmcoreinfo OSRELEASE=6.1.0
    page 0x1000 pattern
  )");
  CHECK(d->warnings().empty());
  CHECK(VmcoreInfo(d->notes().vmcoreinfo).get("OSRELEASE") == "6.1.0");
  REQUIRE(d->notes().cpus.size() == 1);  // the short ones are no CPU's
  CHECK(d->notes().cpus[0].prstatus->pid == 9);
  CHECK_FALSE(d->notes().cpus[0].qemu);
}

TEST_CASE("ELF: damaged notes keep the memory readable", "[elf][notes][damage]") {
  // The PT_NOTE's first note claims a 1 GiB name: the notes are unusable, the
  // memory is fine, and the user is told.
  uint64_t notes_at = kPhdrs + 3 * kPhdrSize;
  auto d = open_text(std::string(kTwoLoads) + corrupt(notes_at, 0x40000000, 4));
  CHECK(d->notes().vmcoreinfo.empty());
  CHECK(read_page(*d, 0).state == PageState::Present);
  REQUIRE(d->warnings().size() == 1);
  CHECK(contains(d->warnings()[0], "test.elf: damaged notes"));
}

TEST_CASE("ELF: garbage and other ELF files are FormatErrors naming the file", "[elf][damage]") {
  SECTION("random bytes") {
    std::vector<std::byte> junk(8192);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
    CHECK(contains(open_error(junk), "not an ELF64"));
    CHECK(contains(open_error(std::vector<std::byte>(10)), "too short"));
    CHECK(contains(open_error(std::vector<std::byte>{}), "too short"));
  }
  SECTION("an executable, not a core") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(16, ET_EXEC, 2)), "not an ELF64"));
  }
  SECTION("another machine") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(18, EM_AARCH64, 2)), "not x86_64"));
  }
  SECTION("a program header size that is not Elf64_Phdr's") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(54, 32, 2)), "program header size"));
  }
  SECTION("no program headers, or no PT_LOAD") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(56, 0, 2)), "no program headers"));
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(kLoad1, PT_NULL, 4) + corrupt(kLoad2, PT_NULL, 4)),
                   "no PT_LOAD"));
  }
  SECTION("p_filesz larger than p_memsz") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(kLoad1 + 40, 0x1000)), "p_filesz larger"));
  }
  SECTION("a segment that wraps around the address space") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(kLoad2 + 24, 0xfffffffffffff000) +
                              corrupt(kLoad2 + 40, 0x2000) + corrupt(kLoad2 + 32, 0x2000)),
                   "wraps"));
  }
}

TEST_CASE("ELF: huge declared sizes fail fast without allocating them", "[elf][damage]") {
  auto start = std::chrono::steady_clock::now();
  SECTION("65534 program headers in a small file") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(56, 0xfffe, 2)), "truncated"));
  }
  SECTION("PN_XNUM with a huge count in section 0") {
    // e_phnum = PN_XNUM: the count is sh_info of section header 0 (at e_shoff).
    std::string text =
        std::string(kTwoLoads) + corrupt(56, PN_XNUM, 2) + corrupt(40, 0x800) + corrupt(0x800 + 44, 0x7fffffff, 4);
    CHECK(contains(open_error(text), "implausible program header count"));
  }
  SECTION("a PT_NOTE of 2^60 bytes") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(kPhdrs + 32, 1ull << 60)), "PT_NOTE"));
  }
  SECTION("a PT_NOTE ending past the file") {
    CHECK(contains(open_error(std::string(kTwoLoads) + corrupt(kPhdrs + 32, 1 << 20)), "truncated"));
  }
  SECTION("a PT_LOAD of 2^50 bytes: opens, says what is missing, reads what is there") {
    auto d = open_text(std::string(kTwoLoads) + corrupt(kLoad2 + 32, 1ull << 50) + corrupt(kLoad2 + 40, 1ull << 50));
    CHECK(read_page(*d, 0x100000).state == PageState::Present);
    CHECK(read_page(*d, 0x200000).state == PageState::Missing);
    REQUIRE(d->warnings().size() == 1);
    CHECK(contains(d->warnings()[0], "truncated"));
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

namespace {

// A file in a fresh temp dir, removed with it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / fmt::format("kdive-elf-test-{}", ::getpid());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::vector<std::byte>& bytes) const {
    std::ofstream out(path / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return (path / name).string();
  }
};

}  // namespace

TEST_CASE("open_dump sniffs the format by content, never by name", "[elf][open_dump]") {
  TempDir dir;
  constexpr const char* kPages = "vmcoreinfo OSRELEASE=6.1.0\npage 0x1000 fill 0x42\n";
  // Each file named as if it were another format.
  auto elf = dir.write("vmcore.kdump-zlib", dumpgen::make_dump(std::string("format elf\n") + kPages));
  auto kdump = dir.write("vmcore.elf", dumpgen::make_dump(std::string("format kdump\ncompression zstd\n") + kPages));
  auto flat = dir.write("vmcore", dumpgen::make_dump(std::string("format kdump\nflattened\n") + kPages));
  auto diskdump = dir.write("core.elf", dumpgen::make_dump(std::string("signature DISKDUMP\n") + kPages));

  for (const auto& [path, format] : std::vector<std::pair<std::string, std::string>>{
           {elf, "elf"}, {kdump, "kdump-zstd"}, {flat, "kdump-zlib (flattened)"}, {diskdump, "diskdump-zlib"}}) {
    INFO(path);
    auto d = open_dump({path});
    CHECK(d->format() == format);
    std::vector<std::byte> page(kPage);
    CHECK(d->read_phys(PhysAddr{0x1000}, page) == PageState::Present);
    CHECK(all_are(page, 0x42));
    // The old diskdump format has no notes in its sub-header.
    if (path != diskdump) CHECK(VmcoreInfo(d->notes().vmcoreinfo).get("OSRELEASE") == "6.1.0");
  }

  std::vector<std::byte> text(5000, std::byte{'x'});
  auto junk = dir.write("vmcore.elf.junk", text);
  try {
    open_dump({junk});
    FAIL("no FormatError");
  } catch (const FormatError& e) {
    CHECK(contains(e.what(), "not a kernel dump"));
  }
  // A split kdump's parts must all be kdump; an ELF file is a single part.
  CHECK_THROWS_AS(open_dump({kdump, elf}), FormatError);
  CHECK_THROWS_AS(open_dump({elf, kdump}), FormatError);
}
