#include "readers/kdump_compressed.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <stdexcept>

#include "readers/byte_reader.hpp"
#include "readers/flattened.hpp"
#include "readers/page_codec.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/dumpgen/page_content.hpp"
#include "tests/unit/support/page_reads.hpp"

using namespace kdive;
using namespace kdive::test;

namespace {

constexpr uint64_t kPage = 4096;

std::unique_ptr<DumpSource> open_text(std::string_view text, KdumpOptions options = {}) {
  return open_kdump(dumpgen::make_sources(text), options);
}

std::unique_ptr<DumpSource> open_files(std::vector<std::vector<std::byte>> files,
                                       const std::string& name = "test.dump") {
  std::vector<std::unique_ptr<ByteSource>> parts;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string n = files.size() == 1 ? name : name + "." + std::to_string(i + 1);
    parts.push_back(std::make_unique<MemorySource>(std::move(files[i]), n));
  }
  return open_kdump(std::move(parts));
}

// The pattern page: each u64 holds its own physical address.
bool is_pattern(const std::vector<std::byte>& b, uint64_t paddr) {
  for (size_t i = 0; i + 8 <= b.size(); i += 8) {
    if (u64_at(b, i) != paddr + i) return false;
  }
  return true;
}

// Every error: "<file>: <cause>" on one line.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    std::string m = e.what();
    CHECK(m.find('\n') == std::string::npos);
    return m;
  }
  FAIL("no FormatError");
  return "";
}

std::string open_error(std::vector<std::vector<std::byte>> files) {
  return error_of([&] { open_files(std::move(files)); });
}

std::string open_error(std::string_view text) { return open_error(dumpgen::make_dumps(text)); }

void check_starts(const std::string& message, const std::string& prefix) {
  INFO(message);
  CHECK(message.rfind(prefix, 0) == 0);
}

constexpr const char* kBasic = R"(
  format kdump
  vmcoreinfo OSRELEASE=6.1.0-kdive
  vmcoreinfo PAGESIZE=4096
  cpu 0 pid 42 rip 0xffffffff81000010 rsp 0xffffc90000003f00
  page 0x1000 pattern
  page 0x2000 fill 0x5a
  page 0x3000 random 7
  page 0x4000 zero
  page 0x5000 excluded
  page 0x7000 lost
  page 0x8000-0xa000 pattern
)";

}  // namespace

TEST_CASE("probe_kdump", "[kdump]") {
  CHECK(probe_kdump(as_bytes("KDUMP   \x06")));
  CHECK(probe_kdump(as_bytes("DISKDUMP")));
  CHECK_FALSE(probe_kdump(as_bytes("KDUMP")));
  CHECK_FALSE(probe_kdump(as_bytes("makedumpfile\0\0\0\0")));
  auto flat = dumpgen::make_dump("flattened\npage 0x1000\n");
  CHECK_FALSE(probe_kdump(flat));  // a flattened stream is recognised by probe_flattened
  CHECK(probe_flattened(flat));
}

TEST_CASE("every codec reads back the exact bytes", "[kdump]") {
  auto codec = GENERATE(PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd, PageCodec::Raw);
  std::string name(to_string(codec));
  CAPTURE(name);
  std::string text = std::string(kBasic) + "compression " + name + "\n";
  auto gen = dumpgen::generate(text);
  // The generator stored what it was asked to: compressed pages carry the
  // codec's flag, the incompressible one is stored raw.
  const auto& layout = gen.files[0].layout;
  CHECK(layout.flags.at(1) == kdump_codec_flag(codec));
  CHECK(layout.flags.at(2) == kdump_codec_flag(codec));
  CHECK(layout.flags.at(3) == 0);

  auto d = open_text(text);
  CHECK(d->format() == "kdump-" + name);
  CHECK(d->page_size() == kPage);
  CHECK(d->files() == std::vector<std::string>{"test.dump"});
  CHECK(d->warnings().empty());

  auto p = read_page(*d, 0x1000);
  CHECK(p.state == PageState::Present);
  CHECK(is_pattern(p.bytes, 0x1000));
  p = read_page(*d, 0x2000);
  CHECK(p.state == PageState::Present);
  CHECK(all_are(p.bytes, 0x5a));
  p = read_page(*d, 0x3000);
  CHECK(p.state == PageState::Present);
  CHECK(p.bytes == dumpgen::random_page(7, 3, kPage));
  for (uint64_t a = 0x8000; a < 0xa000; a += kPage) CHECK(is_pattern(read_page(*d, a).bytes, a));
}

TEST_CASE("one dump may mix codecs page by page", "[kdump]") {
  auto d = open_text(R"(
    compression zstd
    page 0x1000 fill 1 codec zlib
    page 0x2000 fill 2 codec lzo
    page 0x3000 fill 3 codec snappy
    page 0x4000 fill 4
    page 0x5000 fill 5 raw
  )");
  CHECK(d->format() == "kdump-zstd");
  for (int i = 1; i <= 5; ++i) {
    auto p = read_page(*d, i * kPage);
    CHECK(p.state == PageState::Present);
    CHECK(all_are(p.bytes, i));
  }
}

TEST_CASE("page states: zero, excluded, hole, lost, beyond max_mapnr", "[kdump]") {
  auto d = open_text(kBasic);
  auto p = read_page(*d, 0x4000);
  CHECK(p.state == PageState::Zero);
  CHECK(all_are(p.bytes, 0));
  p = read_page(*d, 0x5000);
  CHECK(p.state == PageState::Excluded);
  CHECK(all_are(p.bytes, 0));
  p = read_page(*d, 0x6000);  // hole: clear in both bitmaps
  CHECK(p.state == PageState::Missing);
  CHECK(all_are(p.bytes, 0));
  p = read_page(*d, 0x0);
  CHECK(p.state == PageState::Missing);
  p = read_page(*d, 0x7000);  // descriptor offset 0: data never written
  CHECK(p.state == PageState::Missing);
  CHECK(all_are(p.bytes, 0));
  p = read_page(*d, 0xa000);  // max_mapnr is 0xa
  CHECK(p.state == PageState::Missing);
  p = read_page(*d, uint64_t{1} << 50);
  CHECK(p.state == PageState::Missing);
}

TEST_CASE("read_phys reads parts of a page and refuses to cross one", "[kdump]") {
  auto d = open_text(kBasic);
  auto p = read_page(*d, 0x1ff8, 8);
  CHECK(p.state == PageState::Present);
  CHECK(u64_at(p.bytes, 0) == 0x1ff8);
  p = read_page(*d, 0x1234, 0);
  CHECK(p.state == PageState::Present);
  std::vector<std::byte> buf(16);
  CHECK_THROWS_AS(d->read_phys(PhysAddr{0x1ff8}, buf), std::logic_error);
}

TEST_CASE("ranges are the runs of the 1st bitmap, excluded pages included", "[kdump]") {
  auto d = open_text(kBasic);
  auto r = d->ranges();
  REQUIRE(r.size() == 2);
  CHECK(r[0].start == PhysAddr{0x1000});
  CHECK(r[0].size == 0x5000);  // 0x1000-0x6000: data, zero and excluded pages
  CHECK(r[1].start == PhysAddr{0x7000});
  CHECK(r[1].size == 0x3000);
}

TEST_CASE("every header version", "[kdump]") {
  int version = GENERATE(1, 2, 3, 4, 5, 6);
  CAPTURE(version);
  auto d =
      open_text(std::string(kBasic) + "version " + std::to_string(version) + "\nphys_base 0x2a00000\ndump_level 31\n");
  CHECK(is_pattern(read_page(*d, 0x1000).bytes, 0x1000));
  CHECK(read_page(*d, 0x4000).state == PageState::Zero);
  CHECK(read_page(*d, 0x5000).state == PageState::Excluded);
  const DumpNotes& n = d->notes();
  CHECK(n.phys_base == 0x2a00000u);
  CHECK(n.dump_level == 31);
  // VMCOREINFO: as text from version 3, inside the notes from version 4; CPU
  // notes need version 4.
  if (version >= 3) {
    CHECK(n.vmcoreinfo == "OSRELEASE=6.1.0-kdive\nPAGESIZE=4096\n");
  } else {
    CHECK(n.vmcoreinfo.empty());
  }
  if (version >= 4) {
    REQUIRE(n.cpus.size() == 1);
    REQUIRE(n.cpus[0].prstatus);
    CHECK(n.cpus[0].prstatus->pid == 42);
    CHECK(n.cpus[0].prstatus->regs.rip == 0xffffffff81000010);
    CHECK(n.cpus[0].prstatus->regs.rsp == 0xffffc90000003f00);
  } else {
    CHECK(n.cpus.empty());
  }
}

TEST_CASE("max_mapnr_64 counts from version 6 only", "[kdump]") {
  const char* pages = "page 0x10000 fill 9\nset header.max_mapnr 4\n";
  auto v6 = open_text(std::string("version 6\n") + pages);
  CHECK(read_page(*v6, 0x10000).state == PageState::Present);
  auto v5 = open_text(std::string("version 5\n") + pages);
  CHECK(read_page(*v5, 0x10000).state == PageState::Missing);  // PFN 16 >= the 32-bit max_mapnr 4
  CHECK(read_page(*v5, 0x3000).state == PageState::Missing);

  // A field the version does not define is ignored, whatever it holds.
  auto v5_junk = open_text("version 5\npage 0x1000\nset sub.max_mapnr_64 0xffffffffffff\n");
  CHECK(read_page(*v5_junk, 0x1000).state == PageState::Present);
  auto m = open_error("version 6\npage 0x1000\nset sub.max_mapnr_64 0xffffffffffff\n");
  check_starts(m,
               "test.dump: bitmap_blocks 2 (4096 bytes per bitmap) cannot hold "
               "max_mapnr 0xffffffffffff bits");
}

TEST_CASE("notes: CPU registers, QEMU state, VMCOREINFO, header facts", "[kdump]") {
  auto d = open_text(R"(
    timestamp 1700000000
    utsname release 6.1.0-56-cloud-amd64
    utsname version #1 SMP PREEMPT_DYNAMIC
    cpu 0 pid 1 rip 0x1111 gs_base 0xffff888007a00000
    cpu 1 pid 0 rip 0x2222
    qemu 0 rip 0x1111 cr3 0x1c7e000 gs_base 0xffff888007a00000 kernel_gs_base 0x77
    qemu 1 rip 0x2222 cr3 0x2000 rsp 0xffffc90000013e00
    vmcoreinfo OSRELEASE=6.1.0-56-cloud-amd64
    vmcoreinfo NUMBER(phys_base)=-39845888
    page 0x1000
  )");
  const DumpNotes& n = d->notes();
  REQUIRE(n.cpus.size() == 2);
  CHECK(n.cpus[0].prstatus->regs.gs_base == 0xffff888007a00000);
  CHECK(n.cpus[1].prstatus->regs.rip == 0x2222);
  REQUIRE(n.cpus[0].qemu);
  CHECK(n.cpus[0].qemu->cr3 == 0x1c7e000);
  CHECK(n.cpus[0].qemu->kernel_gs_base == 0x77);
  CHECK(n.cpus[1].qemu->rsp == 0xffffc90000013e00);
  CHECK(n.vmcoreinfo == "OSRELEASE=6.1.0-56-cloud-amd64\nNUMBER(phys_base)=-39845888\n");
  CHECK(n.crash_time_sec == 1700000000);
  CHECK(n.utsname_release == "6.1.0-56-cloud-amd64");
}

TEST_CASE("QEMU-style blank header facts are absent, not empty", "[kdump]") {
  auto d = open_text("utsname release\npage 0x1000\n");
  CHECK_FALSE(d->notes().utsname_release);
  CHECK_FALSE(d->notes().crash_time_sec);
}

TEST_CASE("VMCOREINFO outside the notes comes from offset_vmcoreinfo", "[kdump]") {
  auto text =
      "vmcoreinfo_in text\nvmcoreinfo OSRELEASE=9.9\ncpu 0 pid 3\npage "
      "0x1000\n";
  auto gen = dumpgen::generate(text);
  CHECK(gen.files[0].layout.vmcoreinfo != 0);
  auto d = open_text(text);
  CHECK(d->notes().vmcoreinfo == "OSRELEASE=9.9\n");
  CHECK(d->notes().cpus.size() == 1);

  // In the notes only (offset_vmcoreinfo 0) works as well.
  auto n = open_text("vmcoreinfo_in note\nvmcoreinfo OSRELEASE=9.8\npage 0x1000\n");
  CHECK(n->notes().vmcoreinfo == "OSRELEASE=9.8\n");
}

TEST_CASE("flattened dumps read like the file they encode", "[kdump][flattened]") {
  std::string option = GENERATE("", "reverse", "sparse", "rewrite-header", "chunk 1000", "chunk 100000 reverse");
  CAPTURE(option);
  auto text = std::string(kBasic) + "flattened " + option + "\n";
  auto d = open_text(text);
  CHECK(d->format() == "kdump-zlib (flattened)");
  auto plain = open_text(kBasic);
  for (uint64_t a = 0; a < 0xb000; a += kPage) {
    auto x = read_page(*d, a);
    auto y = read_page(*plain, a);
    CHECK(x.state == y.state);
    CHECK(x.bytes == y.bytes);
  }
  CHECK(d->notes().vmcoreinfo == plain->notes().vmcoreinfo);
  CHECK(d->warnings().empty());
}

TEST_CASE("a flattened kdump stream cut short says so", "[kdump][flattened][incomplete]") {
  auto stream = dumpgen::make_dump("flattened\npage 0x1000-0x5000 random 1\n");
  SECTION("only the end marker missing") {
    stream.resize(stream.size() - 16);  // the end marker is one 16-byte record header
    auto d = open_files({stream});
    CHECK(read_page(*d, 0x4000).state == PageState::Present);
    REQUIRE(d->warnings().size() == 1);
    check_starts(d->warnings()[0], "test.dump: the flattened stream ends without its end marker");
  }
  SECTION("cut inside the page data") {
    stream.resize(stream.size() - 16 - 2 * kPage);
    auto d = open_files({stream});
    CHECK(read_page(*d, 0x1000).state == PageState::Present);
    CHECK(read_page(*d, 0x4000).state == PageState::Missing);
    REQUIRE_FALSE(d->warnings().empty());
    check_starts(d->warnings()[0], "test.dump: the flattened stream ends without its end marker");
  }
}

TEST_CASE("flattened: given already unflattened, or named by the option", "[kdump][flattened]") {
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(open_flattened(std::make_unique<MemorySource>(dumpgen::make_dump("flattened\npage 0x1000\n"))));
  auto d = open_kdump(std::move(parts), {.cache_pages = 16, .flattened = true});
  CHECK(d->format() == "kdump-zlib (flattened)");
  auto plain = open_text("page 0x1000\n", {.flattened = true});
  CHECK(plain->format() == "kdump-zlib (flattened)");
}

TEST_CASE("split dumps: parts in any order", "[kdump][split]") {
  const char* text = R"(
    compression lzo
    split 3
    page 0x0-0x30000 pattern
    page 0x5000 zero
    page 0x6000 excluded
    page 0x21000 fill 0x21
    vmcoreinfo OSRELEASE=split
  )";
  auto files = dumpgen::make_dumps(text);
  REQUIRE(files.size() == 3);
  std::vector<std::vector<std::byte>> shuffled = {files[2], files[0], files[1]};
  auto d = open_files(shuffled);
  CHECK(d->format() == "kdump-lzo (split, 3 files)");
  // Sorted by PFN range: .2 held the first third after the shuffle.
  CHECK(d->files() == std::vector<std::string>{"test.dump.2", "test.dump.3", "test.dump.1"});
  for (uint64_t a = 0; a < 0x30000; a += kPage) {
    auto p = read_page(*d, a);
    if (a == 0x5000) {
      CHECK(p.state == PageState::Zero);
    } else if (a == 0x6000) {
      CHECK(p.state == PageState::Excluded);
    } else if (a == 0x21000) {
      CHECK(all_are(p.bytes, 0x21));
    } else {
      INFO(a);
      CHECK(p.state == PageState::Present);
      CHECK(is_pattern(p.bytes, a));
    }
  }
  CHECK(d->notes().vmcoreinfo == "OSRELEASE=split\n");
  auto r = d->ranges();
  REQUIRE(r.size() == 1);
  CHECK(r[0].size == 0x30000);
}

TEST_CASE("split dumps: explicit bounds, flattened and version 2", "[kdump][split]") {
  auto d =
      open_files(dumpgen::make_dumps("version 2\nsplit at 0x3 0x10\nflattened\npage "
                                     "0x1000-0x20000 pattern\n"));
  CHECK(d->format() == "kdump-zlib (flattened) (split, 3 files)");
  CHECK(is_pattern(read_page(*d, 0x2000).bytes, 0x2000));
  CHECK(is_pattern(read_page(*d, 0x3000).bytes, 0x3000));
  CHECK(is_pattern(read_page(*d, 0x1f000).bytes, 0x1f000));
}

TEST_CASE("split dumps: parts that do not belong together", "[kdump][split]") {
  auto files = dumpgen::make_dumps("split 3\npage 0x0-0x30000\n");
  SECTION("a part missing in the middle") {
    auto m = open_error({files[0], files[2]});
    check_starts(m,
                 "test.dump.2: split dump parts leave PFNs 0x10-0x20 "
                 "uncovered: a part is missing");
  }
  SECTION("the last part missing") {
    auto m = open_error({files[0], files[1]});
    check_starts(m,
                 "test.dump.2: split dump parts end at PFN 0x20, short of "
                 "max_mapnr 0x30");
  }
  SECTION("one part alone") {
    auto m = open_error({files[1]});
    check_starts(m,
                 "test.dump: one part of a split dump (PFNs 0x10-0x20 of "
                 "0x30): give all parts");
  }
  SECTION("the same part twice") {
    auto m = open_error({files[0], files[1], files[1], files[2]});
    CHECK(m.find("overlapping") != std::string::npos);
  }
  SECTION("a part of another crash") {
    auto other = dumpgen::make_dumps("split 3\ntimestamp 5\npage 0x0-0x30000\n");
    auto m = open_error({files[0], other[1], files[2]});
    check_starts(m,
                 "test.dump.2: not a part of the same split dump as "
                 "test.dump.1: timestamp differs (5 here, 0 there)");
  }
  SECTION("a whole dump among parts") {
    auto whole = dumpgen::make_dump("page 0x0-0x30000\n");
    auto m = open_error({files[0], whole});
    check_starts(m, "test.dump.2: not a split dump part, but 2 files were given");
  }
}

TEST_CASE("incomplete dumps: lost pages read as missing", "[kdump][incomplete]") {
  auto d = open_text("incomplete\npage 0x1000 fill 1\npage 0x2000 lost\npage 0x3000 lost\n");
  CHECK(read_page(*d, 0x1000).state == PageState::Present);
  CHECK(read_page(*d, 0x2000).state == PageState::Missing);
  CHECK(read_page(*d, 0x3000).state == PageState::Missing);
  REQUIRE(d->warnings().size() == 1);
  check_starts(d->warnings()[0], "test.dump: incomplete dump");
}

TEST_CASE("truncated files: what is there reads, the rest is missing", "[kdump][incomplete]") {
  const char* text = "page 0x1000-0x9000 random 1\n";  // raw pages: 4 KiB of data each
  auto gen = dumpgen::generate(text);
  const auto& L = gen.files[0].layout;
  auto bytes = gen.files[0].bytes;

  SECTION("in the page data") {
    auto cut = bytes;
    cut.resize(L.data_at.at(5) + 100);  // PFN 5's data cut short
    auto d = open_files({cut});
    for (uint64_t pfn = 1; pfn < 5; ++pfn) {
      auto p = read_page(*d, pfn * kPage);
      CHECK(p.state == PageState::Present);
      CHECK(p.bytes == dumpgen::random_page(1, pfn, kPage));
    }
    for (uint64_t pfn = 5; pfn < 9; ++pfn) CHECK(read_page(*d, pfn * kPage).state == PageState::Missing);
    REQUIRE(d->warnings().size() == 1);
    check_starts(d->warnings()[0], "test.dump: truncated: page data runs to offset");
  }
  SECTION("in the page data, with unused slots or zero pages after the last page written") {
    // kdive-dump and makedumpfile's cyclic mode leave zeroed slots at the end
    // of the table, and high zero pages all point back at the shared zero
    // page: the check must look past both to the last page with data.
    std::string tail = GENERATE("lost", "zero");
    auto slots = dumpgen::generate(std::string(text) + "page 0x9000-0xc000 " + tail + "\n");
    auto cut = slots.files[0].bytes;
    cut.resize(slots.files[0].layout.data_at.at(5) + 100);
    auto d = open_files({cut});
    CHECK(read_page(*d, 0x4000).state == PageState::Present);
    CHECK(read_page(*d, 0x5000).state == PageState::Missing);
    REQUIRE(d->warnings().size() == 1);
    check_starts(d->warnings()[0], "test.dump: truncated: page data runs to offset");
  }
  SECTION("in the descriptor table") {
    auto cut = bytes;
    cut.resize(L.desc_at.at(4) + 10);
    auto d = open_files({cut});
    CHECK(read_page(*d, 0x4000).state == PageState::Missing);
    CHECK(read_page(*d, 0x1000).state == PageState::Missing);  // its data is gone too
    REQUIRE(d->warnings().size() == 1);
    check_starts(d->warnings()[0],
                 "test.dump: truncated: page descriptors of 5 of 8 dumped "
                 "pages are missing");
  }
  SECTION("in the bitmaps") {
    auto cut = bytes;
    cut.resize(L.bitmap2 + 10);
    check_starts(open_error({cut}),
                 "test.dump: truncated or corrupt: bitmaps (2 blocks after 1 "
                 "sub-header blocks)");
  }
  SECTION("in the header") {
    auto cut = bytes;
    cut.resize(100);
    CHECK(open_error({cut}) ==
          "test.dump: truncated: the kdump header (464 bytes at offset 0) ends "
          "past the end of the file (size 100)");
  }
  SECTION("empty file") {
    check_starts(open_error(std::vector<std::vector<std::byte>>{{}}), "test.dump: truncated: the kdump header");
  }
}

TEST_CASE("corrupt headers are FormatErrors naming the file", "[kdump][corrupt]") {
  SECTION("signature") {
    check_starts(open_error("page 0x1000\ncorrupt 0 4b44554d5058\n"), "test.dump: not a kdump-compressed file");
  }
  SECTION("header_version") {
    CHECK(open_error("page 0x1000\nset header.header_version 7\n") ==
          "test.dump: unsupported kdump header_version 7 (known: 1 to 6)");
    CHECK(open_error("page 0x1000\nset header.header_version 0\n") ==
          "test.dump: unsupported kdump header_version 0 (known: 1 to 6)");
  }
  SECTION("block_size") {
    CHECK(open_error("page 0x1000\nset header.block_size 1000\n") ==
          "test.dump: block_size 1000 is not a page size (a power of two from "
          "4096 to 65536)");
    check_starts(open_error("page 0x1000\nset header.block_size -4096\n"), "test.dump: block_size -4096");
    check_starts(open_error("page 0x1000\nset header.block_size 0x40000000\n"), "test.dump: block_size 1073741824");
  }
  SECTION("sub_hdr_size") {
    CHECK(open_error("page 0x1000\nset header.sub_hdr_size -1\n") == "test.dump: bad sub_hdr_size -1");
    CHECK(open_error("page 0x1000\nset header.sub_hdr_size 0\n") == "test.dump: bad sub_hdr_size 0");
    check_starts(open_error("page 0x1000\nset header.sub_hdr_size 0x7fffffff\n"),
                 "test.dump: truncated or corrupt: bitmaps (2 blocks after 2147483647 "
                 "sub-header blocks) end past");
  }
  SECTION("bitmap_blocks") {
    check_starts(open_error("page 0x1000\nset header.bitmap_blocks 0xffffffff\n"),
                 "test.dump: truncated or corrupt: bitmaps (4294967295 blocks");
    check_starts(open_error("page 0x1000\nset header.bitmap_blocks 0\n"), "test.dump: bitmap_blocks 0 (0 bytes");
  }
  SECTION("max_mapnr") {
    check_starts(open_error("version 5\npage 0x1000\nset header.max_mapnr 0xffffffff\n"),
                 "test.dump: bitmap_blocks 2 (4096 bytes per bitmap) cannot hold "
                 "max_mapnr 0xffffffff bits");
  }
  SECTION("split range") {
    check_starts(open_error("split 2\npage 0x0-0x4000\nset sub.end_pfn_64 0x100\n"),
                 "test.dump.1: split part's PFN range 0x0-0x100 does not fit max_mapnr "
                 "0x4");
  }
  SECTION("notes") {
    check_starts(open_error("cpu 0\npage 0x1000\nset sub.size_note 0x10000000\n"),
                 "test.dump: implausible size_note 268435456");
    check_starts(open_error("cpu 0\npage 0x1000\nset sub.offset_note 0x100000\n"),
                 "test.dump: truncated: the ELF notes");
    check_starts(open_error("cpu 0\npage 0x1000\nset sub.offset_note 0xffffffffffffff00\n"),
                 "test.dump: truncated: the ELF notes");
    // A note header whose sizes run past the notes area.
    auto gen = dumpgen::generate("cpu 0\npage 0x1000\n");
    auto bytes = gen.files[0].bytes;
    bytes[gen.files[0].layout.notes + 4] = std::byte{0xff};  // descsz
    bytes[gen.files[0].layout.notes + 5] = std::byte{0xff};
    check_starts(open_error({bytes}), "test.dump: in the sub-header's notes: ");
  }
  SECTION("vmcoreinfo") {
    check_starts(open_error("vmcoreinfo_in text\nvmcoreinfo A=1\npage 0x1000\nset "
                            "sub.size_vmcoreinfo 0x7fffffffffffffff\n"),
                 "test.dump: implausible size_vmcoreinfo");
    check_starts(open_error("vmcoreinfo_in text\nvmcoreinfo A=1\npage "
                            "0x1000\nset sub.offset_vmcoreinfo 0x7fffffff\n"),
                 "test.dump: truncated: VMCOREINFO");
  }
}

TEST_CASE("corrupt page data throws for that page only", "[kdump][corrupt]") {
  auto codec = GENERATE("zlib", "lzo", "snappy", "zstd");
  CAPTURE(codec);
  auto gen = dumpgen::generate(std::string("compression ") + codec + "\npage 0x1000 pattern\npage 0x2000 pattern\n");
  auto bytes = gen.files[0].bytes;
  const auto& L = gen.files[0].layout;
  // Overwrite the middle of PFN 1's compressed data.
  uint64_t at = L.data_at.at(1);
  uint64_t size = L.data_at.at(2) - at;
  for (uint64_t i = at + size / 3; i < at + size - 1; ++i) bytes[i] = std::byte{0xff};
  auto d = open_files({bytes});
  auto m = error_of([&] { read_page(*d, 0x1000); });
  check_starts(m, "test.dump: PFN 0x1: ");
  CHECK(m.find("does not decompress to a 4096-byte page") != std::string::npos);
  CHECK(is_pattern(read_page(*d, 0x2000).bytes, 0x2000));
  // Still an error the second time: nothing half-decoded was cached.
  CHECK_THROWS_AS(read_page(*d, 0x1000), FormatError);
}

TEST_CASE("impossible descriptors throw naming the PFN", "[kdump][corrupt]") {
  const std::string pages = "page 0x1000 pattern\npage 0x2000 fill 2\n";
  SECTION("size larger than the block size") {
    auto d = open_text(pages + "desc 0x1000 size 0x10000\n");
    CHECK(error_of([&] { read_page(*d, 0x1000); }) ==
          "test.dump: PFN 0x1: descriptor size 65536 is larger than the block "
          "size 4096");
    CHECK(all_are(read_page(*d, 0x2000).bytes, 2));
  }
  SECTION("unknown flags") {
    auto d = open_text(pages + "desc 0x1000 flags 0x9\n");
    CHECK(error_of([&] { read_page(*d, 0x1000); }) == "test.dump: PFN 0x1: unknown compression flags 0x9");
  }
  SECTION("raw data of the wrong size") {
    auto d = open_text(pages + "desc 0x1000 flags 0\n");
    check_starts(error_of([&] { read_page(*d, 0x1000); }), "test.dump: PFN 0x1: raw page of ");
  }
  SECTION("negative offset") {
    auto d = open_text(pages + "desc 0x1000 offset -4096\n");
    CHECK(error_of([&] { read_page(*d, 0x1000); }) == "test.dump: PFN 0x1: negative data offset -4096");
  }
  SECTION("offset past the end of the file: missing, as in a truncated dump") {
    auto d = open_text(pages + "desc 0x1000 offset 0x7fffffffffff0000\n");
    CHECK(read_page(*d, 0x1000).state == PageState::Missing);
  }
  SECTION("wrong codec for the data") {
    auto d = open_text(pages + "desc 0x1000 flags 0x20\n");
    check_starts(error_of([&] { read_page(*d, 0x1000); }), "test.dump: PFN 0x1: zstd data");
  }
}

TEST_CASE("corrupt bitmaps never crash the reader", "[kdump][corrupt]") {
  auto gen = dumpgen::generate(
      "page 0x1000 fill 1\npage 0x2000 fill 2\npage 0x3000 fill 3\nmax_mapnr "
      "0x40\n");
  const auto& L = gen.files[0].layout;
  SECTION("a 2nd-bitmap bit with no descriptor behind it") {
    auto bytes = gen.files[0].bytes;
    bytes[L.bitmap2 + 4] = std::byte{0x01};  // PFN 0x20: descriptor index 3, past the table
    auto d = open_files({bytes});
    // Its "descriptor" is the shared zero page's bytes: offset 0, i.e. lost.
    CHECK(read_page(*d, 0x20000).state == PageState::Missing);
    CHECK(all_are(read_page(*d, 0x3000).bytes, 3));
  }
  SECTION("an extra bit early shifts every later descriptor") {
    auto bytes = gen.files[0].bytes;
    bytes[L.bitmap2] |= std::byte{0x01};  // PFN 0 now takes descriptor 0
    auto d = open_files({bytes});
    // PFN 0 reads PFN 1's data; PFN 3's descriptor is past the table. Wrong but
    // well-defined: bytes or a clean state, never an overrun.
    CHECK(all_are(read_page(*d, 0x0).bytes, 1));
    CHECK(all_are(read_page(*d, 0x1000).bytes, 2));
    CHECK(read_page(*d, 0x3000).state == PageState::Missing);
  }
  SECTION("every bit set") {
    auto bytes = gen.files[0].bytes;
    for (uint64_t i = 0; i < 8; ++i) {
      bytes[L.bitmap1 + i] = std::byte{0xff};
      bytes[L.bitmap2 + i] = std::byte{0xff};
    }
    auto d = open_files({bytes});
    for (uint64_t a = 0; a < 0x40000; a += kPage) {
      try {
        read_page(*d, a);
      } catch (const FormatError& e) {
        check_starts(e.what(), "test.dump: PFN ");
      }
    }
    CHECK(d->ranges().size() == 1);
  }
}

TEST_CASE("the page cache serves repeated reads", "[kdump]") {
  auto d = open_text("page 0x1000 pattern\npage 0x2000 pattern\n", {.cache_pages = 1});
  PageCache* cache = kdump_page_cache(*d);
  REQUIRE(cache);
  CHECK(cache->capacity() == 1);
  read_page(*d, 0x1000);
  read_page(*d, 0x1008, 8);
  CHECK(cache->hits() == 1);
  CHECK(cache->misses() == 1);
  read_page(*d, 0x2000);  // evicts PFN 1
  CHECK(is_pattern(read_page(*d, 0x1000).bytes, 0x1000));
  CHECK(cache->misses() == 3);
}

TEST_CASE("diskdump signature and larger block sizes", "[kdump]") {
  SECTION("DISKDUMP") {
    auto d = open_text(
        "signature DISKDUMP\ncompression snappy\npage 0x1000 fill 7\npage "
        "0x2000 excluded\n");
    CHECK(d->format() == "diskdump-snappy");
    CHECK(all_are(read_page(*d, 0x1000).bytes, 7));
    CHECK(read_page(*d, 0x2000).state == PageState::Excluded);
    CHECK_FALSE(d->notes().phys_base);
  }
  SECTION("16 KiB pages") {
    auto d = open_text("block_size 16384\npage 0x4000 pattern\npage 0xc000 zero\n");
    CHECK(d->page_size() == 16384);
    auto p = read_page(*d, 0x4000, 16384);
    CHECK(p.state == PageState::Present);
    CHECK(is_pattern(p.bytes, 0x4000));
    CHECK(read_page(*d, 0xc000, 16384).state == PageState::Zero);
    CHECK(read_page(*d, 0x8000, 16384).state == PageState::Missing);
  }
}

TEST_CASE("no files", "[kdump]") { CHECK_THROWS_AS(open_kdump({}), FormatError); }
