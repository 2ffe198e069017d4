// The kdump-compressed writer through the copier: synthetic sources from
// dumpgen, written, read back with kdive's own readers, every page compared.
#include "capture/writers/kdump_writer.hpp"

#include <signal.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "capture/writers/dump_copier.hpp"
#include "readers/kdump_compressed.hpp"
#include "readers/kdump_format.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/unit/support/capture_sinks.hpp"

using namespace kdive;
using namespace kdive::capture;
using namespace kdive::test;

namespace {

// Data, zero pages (stored zero and zero content), an incompressible page, a
// page the source already left out, a hole, a second range.
constexpr std::string_view kSource = R"(
format kdump
compression zlib
vmcoreinfo OSRELEASE=6.1.0-test
vmcoreinfo PAGESIZE=4096
vmcoreinfo NUMBER(phys_base)=-346030080
vmcoreinfo CRASHTIME=1700000000
cpu 0 pid 1 rip 0xffffffff81000010 rsp 0xffffc90000003f00
cpu 1 pid 0 rip 0xffffffff81000020
note XENIX 7 0102030405
page 0x0-0x30000 pattern
page 0x5000 zero
page 0x6000 fill 0
page 0x7000 random 3
page 0x8000 excluded
page 0x9000 fill 0xab
page 0x40000-0x48000 pattern
page 0x41000 random 4
page 0x42000 fill 0
)";

std::unique_ptr<DumpSource> source_dump() { return open_kdump(dumpgen::make_sources(kSource, "source.dump")); }

std::unique_ptr<DumpSource> read_back(std::vector<std::byte> bytes, const std::string& name = "out.dump") {
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<MemorySource>(std::move(bytes), name));
  return open_kdump(std::move(parts));
}

CopyOptions options(int level, PageCodec codec) {
  CopyOptions o;
  o.dump_level = level;
  o.codec = codec;
  o.threads = 3;
  o.window_pages = 16;  // several windows over the small source
  return o;
}

auto zero_left_out(int level) {
  return [level](uint64_t, const std::vector<std::byte>& b) { return (level & 1) && is_zero_page(b); };
}

}  // namespace

TEST_CASE("kdump writer: every codec at levels 0 and 1 reads back page for page", "[capture][writers][kdump]") {
  auto codec = GENERATE(PageCodec::Raw, PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  int level = GENERATE(0, 1);
  CAPTURE(to_string(codec), level);
  auto src = source_dump();
  MemorySink sink;
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, keep_all(*src), sinks, options(level, codec));
  REQUIRE(r.complete);
  REQUIRE(r.error.empty());

  auto out = read_back(sink.bytes);
  CHECK(out->warnings().empty());
  CHECK(out->format() == "kdump-" + std::string(to_string(codec)));
  PageCheck c = compare_pages(*src, *out, zero_left_out(level));
  CHECK(c.problems.empty());
  for (const auto& p : c.problems) UNSCOPED_INFO(p);
  // 0x30 + 8 pages, one already excluded in the source; 3 zero pages.
  uint64_t ram_pages = 0x30 + 8 - 1;
  CHECK(c.compared == (level & 1 ? ram_pages - 3 : ram_pages));
  CHECK(r.counts[PageClass::Kept] == c.compared);
  CHECK(r.counts[PageClass::Zero] == (level & 1 ? 3u : 0u));
  CHECK(r.source_excluded == 1);

  // The notes travel: VMCOREINFO, both CPUs' registers, the unknown note.
  const DumpNotes& n = out->notes();
  CHECK(n.vmcoreinfo == src->notes().vmcoreinfo);
  REQUIRE(n.cpus.size() == 2);
  CHECK(n.cpus[0].prstatus->regs.rip == 0xffffffff81000010);
  CHECK(n.cpus[1].prstatus->regs.rip == 0xffffffff81000020);
  CHECK(n.elf_notes == src->notes().elf_notes);
  // The source left pages out at its own level (31): the copy says so too.
  CHECK(n.dump_level == (level | 31));
  CHECK(n.phys_base == static_cast<uint64_t>(int64_t{-346030080}));
  CHECK(n.crash_time_sec == 1700000000);
  CHECK(n.utsname_release == "6.1.0-test");
}

TEST_CASE("kdump writer: zero pages kept at level 0 share one zero page", "[capture][writers][kdump]") {
  // With and without unused descriptor slots before the zero page (the source
  // lacks a page the classifier kept: its slot stays unused).
  std::string text = GENERATE(std::string(kSource), std::string("page 0-0x10000 pattern\npage 0x5000 zero\n"
                                                                "page 0x6000 fill 0\n"));
  auto src = open_kdump(dumpgen::make_sources(text));
  MemorySink sink;
  OutputSink* sinks[] = {&sink};
  REQUIRE(copy_dump(*src, keep_all(*src), sinks, options(0, PageCodec::Zstd)).complete);
  auto out = read_back(sink.bytes);
  for (uint64_t p : {0x5000, 0x6000}) {
    std::vector<std::byte> b(4096, std::byte{1});
    CHECK(out->read_phys(PhysAddr{p}, b) == PageState::Zero);
    CHECK(is_zero_page(b));
  }
  // A page of data is not taken for the zero page.
  std::vector<std::byte> b(4096);
  CHECK(out->read_phys(PhysAddr{0x7000}, b) == PageState::Present);
}

TEST_CASE("kdump writer: frames the classifier leaves out are excluded, holes stay holes",
          "[capture][writers][kdump]") {
  auto src = source_dump();
  std::map<uint64_t, PageClass> chosen = {
      {0x10, PageClass::Free},     {0x11, PageClass::Free},  {0x12, PageClass::User}, {0x13, PageClass::Cache},
      {0x44, PageClass::Hwpoison}, {0x45, PageClass::Cache},  // level 16|8|1 does not exclude cache: kept
  };
  ClassifierFactory f = [&] { return std::make_unique<ChosenClassifier>(*src, chosen); };
  MemorySink sink;
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, f, sinks, options(25, PageCodec::Lzo));
  REQUIRE(r.complete);
  auto out = read_back(sink.bytes);
  // Level 25 is more than zero pages: they stay, as the shared zero page, so
  // they read as zeros and not as lost.
  PageCheck c = compare_pages(*src, *out, [](uint64_t pfn, const std::vector<std::byte>&) {
    return pfn == 0x10 || pfn == 0x11 || pfn == 0x12 || pfn == 0x44;
  });
  CHECK(c.problems.empty());
  for (const auto& p : c.problems) UNSCOPED_INFO(p);
  CHECK(r.counts[PageClass::Free] == 2);
  CHECK(r.counts[PageClass::User] == 1);
  CHECK(r.counts[PageClass::Hwpoison] == 1);
  CHECK(r.counts[PageClass::Cache] == 0);
  CHECK(r.counts[PageClass::Zero] == 0);
  std::vector<std::byte> b(4096);
  CHECK(out->read_phys(PhysAddr{0x35000}, b) == PageState::Missing);  // the hole
  CHECK(out->read_phys(PhysAddr{0x5000}, b) == PageState::Zero);      // a zero page of the source
}

TEST_CASE("kdump writer: a split dump opens as one", "[capture][writers][kdump][split]") {
  auto src = source_dump();
  std::vector<MemorySink> sinks(3);
  std::vector<OutputSink*> ptrs;
  for (auto& s : sinks) ptrs.push_back(&s);
  CopyResult r = copy_dump(*src, keep_all(*src), ptrs, options(1, PageCodec::Zlib));
  REQUIRE(r.complete);
  REQUIRE(r.parts.size() == 3);
  CHECK(r.parts.front().first == 0);
  CHECK(r.parts.back().second == 0x48);
  for (size_t i = 1; i < 3; ++i) CHECK(r.parts[i].first == r.parts[i - 1].second);

  std::vector<std::unique_ptr<ByteSource>> parts;
  // In any order, as the reader promises.
  for (size_t i : {2, 0, 1}) {
    parts.push_back(std::make_unique<MemorySource>(sinks[i].bytes, "out." + std::to_string(i + 1)));
  }
  auto out = open_kdump(std::move(parts));
  PageCheck c = compare_pages(*src, *out, zero_left_out(1));
  CHECK(c.problems.empty());
  for (const auto& p : c.problems) UNSCOPED_INFO(p);
  CHECK(c.compared == r.counts[PageClass::Kept]);
  // Each part holds pages: the split follows the kept pages, not the PFN space.
  std::vector<std::byte> b(4096);
  for (size_t i = 0; i < 3; ++i) {
    uint64_t present = 0;
    for (uint64_t pfn = r.parts[i].first; pfn < r.parts[i].second; ++pfn) {
      present += out->read_phys(PhysAddr{pfn * 4096}, b) == PageState::Present;
    }
    CHECK(present > 0);
  }
}

namespace {

// After a cut, the written dump is valid: says incomplete, pages before the
// cut equal the source, nothing reads wrong bytes.
void check_incomplete(DumpSource& src, const std::vector<std::byte>& bytes, uint64_t min_kept) {
  auto out = read_back(bytes);
  auto w = out->warnings();
  REQUIRE_FALSE(w.empty());
  CHECK(w.front().find("incomplete") != std::string::npos);
  std::vector<std::byte> a(4096), b(4096);
  uint64_t same = 0;
  for (const PhysRange& r : src.ranges()) {
    for (uint64_t p = r.start.value(); p < r.start.value() + r.size; p += 4096) {
      PageState sa = src.read_phys(PhysAddr{p}, a);
      PageState sb = out->read_phys(PhysAddr{p}, b);
      if (sb == PageState::Present || sb == PageState::Zero) {
        CHECK(a == b);
        CHECK((sa == PageState::Present || sa == PageState::Zero));
        ++same;
      }
    }
  }
  CHECK(same >= min_kept);
}

}  // namespace

TEST_CASE("kdump writer: ENOSPC leaves a valid dump marked incomplete", "[capture][writers][kdump][incomplete]") {
  auto src = source_dump();
  // Room for the metadata and a few pages of data.
  MemorySink probe;
  OutputSink* p[] = {&probe};
  REQUIRE(copy_dump(*src, keep_all(*src), p, options(0, PageCodec::Raw)).complete);
  uint64_t data_start = probe.bytes.size() - (0x30 + 8 - 1 - 3) * 4096;  // raw: every non-zero page is 4096 bytes
  MemorySink sink;
  sink.capacity = data_start + 10 * 4096 + 100;  // the cut falls inside a page
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, keep_all(*src), sinks, options(0, PageCodec::Raw));
  CHECK_FALSE(r.complete);
  CHECK(r.error.find("No space") != std::string::npos);
  CHECK(r.counts[PageClass::Kept] >= 10);
  check_incomplete(*src, sink.bytes, 10);
}

TEST_CASE("kdump writer: an injected write error leaves a valid incomplete dump",
          "[capture][writers][kdump][incomplete]") {
  auto src = source_dump();
  MemorySink sink;
  sink.fail_write = 12;  // a data write some windows in
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, keep_all(*src), sinks, options(1, PageCodec::Zlib));
  CHECK_FALSE(r.complete);
  CHECK(r.error.find("Input/output error") != std::string::npos);
  check_incomplete(*src, sink.bytes, 1);
}

TEST_CASE("kdump writer: a stop request (SIGTERM) finishes the dump as incomplete",
          "[capture][writers][kdump][incomplete]") {
  auto src = source_dump();
  std::atomic<int> stop{0};
  MemorySink sink;
  // The request arrives while the second window is written (begin() writes
  // twice, each window up to four times), as a signal handler would set it.
  sink.after_write = [&] {
    if (sink.writes == 8) stop.store(SIGTERM);
  };
  OutputSink* sinks[] = {&sink};
  CopyOptions o = options(1, PageCodec::Zstd);
  o.stop = &stop;
  CopyResult r = copy_dump(*src, keep_all(*src), sinks, o);
  CHECK_FALSE(r.complete);
  CHECK(r.stopped_by == SIGTERM);
  CHECK(r.counts[PageClass::Kept] > 0);
  CHECK(r.counts[PageClass::Kept] < 0x30);
  check_incomplete(*src, sink.bytes, r.counts[PageClass::Kept]);
}

TEST_CASE("kdump writer: one thread and many give the same file", "[capture][writers][kdump]") {
  auto codec = GENERATE(PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  CAPTURE(to_string(codec));
  auto src = source_dump();
  MemorySink one, many;
  OutputSink* a[] = {&one};
  OutputSink* b[] = {&many};
  CopyOptions o = options(1, codec);
  o.threads = 1;
  REQUIRE(copy_dump(*src, keep_all(*src), a, o).complete);
  o.threads = 4;
  REQUIRE(copy_dump(*src, keep_all(*src), b, o).complete);
  CHECK(one.bytes == many.bytes);
}

// crash and makedumpfile read zlib pages with zlib's uncompress(); kdive
// writes them with libdeflate. Walk the file by its on-disk structs (not
// through kdive's reader) and decompress every zlib page with zlib itself.
TEST_CASE("kdump writer: zlib pages decompress with zlib's uncompress", "[capture][writers][kdump][zlib]") {
  unsigned threads = GENERATE(1u, 3u);
  auto src = source_dump();
  MemorySink sink;
  OutputSink* sinks[] = {&sink};
  CopyOptions o = options(0, PageCodec::Zlib);
  o.threads = threads;
  REQUIRE(copy_dump(*src, keep_all(*src), sinks, o).complete);
  const auto& f = sink.bytes;

  DiskDumpHeader h;
  REQUIRE(f.size() >= sizeof h);
  std::memcpy(&h, f.data(), sizeof h);
  REQUIRE(std::memcmp(h.signature, kKdumpSignature, 8) == 0);
  CHECK(h.status == 0x1);  // zlib, complete
  const uint64_t bs = static_cast<uint64_t>(h.block_size);
  REQUIRE(bs == 4096);
  KdumpSubHeader sub;
  std::memcpy(&sub, f.data() + bs, sizeof sub);
  const uint64_t bitmap_at = (1 + static_cast<uint64_t>(h.sub_hdr_size)) * bs;
  const uint64_t half = uint64_t{h.bitmap_blocks} * bs / 2;
  const uint64_t desc_at = bitmap_at + 2 * half;

  uint64_t n = 0, zlib_pages = 0, raw_pages = 0;
  for (uint64_t pfn = 0; pfn < sub.max_mapnr_64; ++pfn) {
    auto byte = std::to_integer<unsigned>(f[bitmap_at + half + pfn / 8]);
    if (!(byte & (1u << (pfn % 8)))) continue;
    PageDesc d;
    std::memcpy(&d, f.data() + desc_at + n++ * sizeof d, sizeof d);
    CAPTURE(pfn, d.offset, d.size, d.flags);
    REQUIRE(d.offset > 0);
    REQUIRE(static_cast<uint64_t>(d.offset) + d.size <= f.size());
    std::vector<std::byte> want(bs);
    src->read_phys(PhysAddr{pfn * bs}, want);
    std::vector<std::byte> got(bs);
    if (d.flags == 0) {
      ++raw_pages;
      REQUIRE(d.size == bs);
      std::memcpy(got.data(), f.data() + d.offset, bs);
    } else {
      REQUIRE(d.flags == 0x1);
      ++zlib_pages;
      uLongf len = bs;
      REQUIRE(::uncompress(reinterpret_cast<unsigned char*>(got.data()), &len,
                           reinterpret_cast<const unsigned char*>(f.data() + d.offset), d.size) == Z_OK);
      CHECK(len == bs);
    }
    CHECK(got == want);
  }
  // 0x30 + 8 frames, one excluded in the source: two incompressible pages
  // stay raw, three zero pages point at the (raw) shared zero page.
  CHECK(n == 0x30 + 8 - 1);
  CHECK(raw_pages == 2 + 3);
  CHECK(zlib_pages == n - raw_pages);
}
