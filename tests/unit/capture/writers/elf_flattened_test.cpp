// The ELF writer (-E), the flattened stream (-F) and its rearrangement (-R),
// each read back with kdive's readers and compared page by page.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "capture/writers/dump_copier.hpp"
#include "capture/writers/elf_writer.hpp"
#include "capture/writers/kdump_writer.hpp"
#include "capture/writers/rearrange.hpp"
#include "readers/elf_dump.hpp"
#include "readers/flattened.hpp"
#include "readers/kdump_compressed.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/unit/support/capture_sinks.hpp"

using namespace kdive;
using namespace kdive::capture;
using namespace kdive::test;

namespace {

// An ELF source, as /proc/vmcore is: two segments, zero pages inside.
constexpr std::string_view kElfSource = R"(
format elf
vmcoreinfo OSRELEASE=6.1.0-test
vmcoreinfo PAGESIZE=4096
cpu 0 pid 1 rip 0xffffffff81000010
page 0x1000-0x20000 pattern
page 0x3000 fill 0
page 0x1f000 fill 0
page 0x4000 random 9
page 0x100000-0x108000 pattern
page 0x107000 fill 0
)";

std::unique_ptr<DumpSource> elf_source() { return open_elf_dump(std::move(dumpgen::make_sources(kElfSource)[0])); }

CopyOptions options(int level, PageCodec codec, OutputFormat format = OutputFormat::Kdump) {
  CopyOptions o;
  o.dump_level = level;
  o.codec = codec;
  o.format = format;
  o.threads = 2;
  o.window_pages = 24;
  return o;
}

// A file descriptor in memory, for the flattened stream.
struct MemFd {
  int fd = ::memfd_create("stream", 0);
  ~MemFd() { ::close(fd); }
  std::vector<std::byte> bytes() const {
    std::vector<std::byte> b(static_cast<size_t>(::lseek(fd, 0, SEEK_END)));
    REQUIRE(::pread(fd, b.data(), b.size(), 0) == static_cast<ssize_t>(b.size()));
    return b;
  }
};

std::unique_ptr<DumpSource> open_bytes(std::vector<std::byte> bytes, const std::string& name) {
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<MemorySource>(std::move(bytes), name));
  return open_kdump(std::move(parts));
}

}  // namespace

TEST_CASE("ELF writer: kept runs become PT_LOADs, pages read back equal", "[capture][writers][elf]") {
  int level = GENERATE(0, 1);
  auto src = elf_source();
  // Frames 0x10-0x11 left out as free: the first segment splits in two.
  std::map<uint64_t, PageClass> chosen = {{0x10, PageClass::Free}, {0x11, PageClass::Free}};
  ClassifierFactory f = [&] { return std::make_unique<ChosenClassifier>(*src, chosen); };
  MemorySink sink;
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, f, sinks, options(level | 16, PageCodec::Raw, OutputFormat::Elf));
  REQUIRE(r.complete);
  auto out = open_elf_dump(std::make_unique<MemorySource>(sink.bytes, "out.elf"));
  CHECK(out->warnings().empty());
  CHECK(out->ranges().size() == 3);
  // ELF cannot say "zero page": zero pages are holes of the file and read as zeros.
  std::vector<std::byte> a(4096), b(4096);
  uint64_t compared = 0;
  for (const PhysRange& range : src->ranges()) {
    for (uint64_t p = range.start.value(); p < range.start.value() + range.size; p += 4096) {
      REQUIRE(src->read_phys(PhysAddr{p}, a) == PageState::Present);
      PageState s = out->read_phys(PhysAddr{p}, b);
      if (p / 4096 == 0x10 || p / 4096 == 0x11) {
        CHECK(s == PageState::Missing);
        continue;
      }
      CHECK(s == PageState::Present);
      CHECK(a == b);
      ++compared;
    }
  }
  CHECK(compared == 0x1f - 2 + 8);
  CHECK(r.counts[PageClass::Free] == 2);
  CHECK(out->notes().vmcoreinfo == src->notes().vmcoreinfo);
  REQUIRE(out->notes().cpus.size() == 1);
  CHECK(out->notes().cpus[0].prstatus->regs.rip == 0xffffffff81000010);
  // The zero pages take no room: the file is sparse where they are (at most
  // the page that makes the file reach its last segment's end is written).
  CHECK(sink.bytes.size() >= (compared * 4096));
}

TEST_CASE("ELF writer: a dump cut short trims its segments to what was written",
          "[capture][writers][elf][incomplete]") {
  auto src = elf_source();
  MemorySink sink;
  sink.fail_write = 4;  // the headers, then two windows of data, then a failure
  OutputSink* sinks[] = {&sink};
  CopyResult r = copy_dump(*src, keep_all(*src), sinks, options(0, PageCodec::Raw, OutputFormat::Elf));
  CHECK_FALSE(r.complete);
  auto out = open_elf_dump(std::make_unique<MemorySource>(sink.bytes, "out.elf"));
  std::vector<std::byte> a(4096), b(4096);
  uint64_t present = 0, not_dumped = 0;
  for (const PhysRange& range : src->ranges()) {
    for (uint64_t p = range.start.value(); p < range.start.value() + range.size; p += 4096) {
      src->read_phys(PhysAddr{p}, a);
      PageState s = out->read_phys(PhysAddr{p}, b);
      if (s == PageState::Present) {
        CHECK(a == b);
        ++present;
      } else {
        CHECK(s == PageState::Excluded);
        ++not_dumped;
      }
    }
  }
  CHECK(present > 0);
  CHECK(not_dumped > 0);
}

TEST_CASE("flattened stream: read directly, and rearranged into the same file -F|-R", "[capture][writers][flattened]") {
  auto src = elf_source();
  CopyOptions o = options(1, PageCodec::Zstd);
  MemorySink file;
  OutputSink* direct[] = {&file};
  REQUIRE(copy_dump(*src, keep_all(*src), direct, o).complete);

  MemFd stream;
  FlattenedSink flat(stream.fd, "stream");
  OutputSink* sinks[] = {&flat};
  REQUIRE(copy_dump(*src, keep_all(*src), sinks, o).complete);

  // kdive reads the stream as it is.
  auto logical = open_flattened(std::make_unique<MemorySource>(stream.bytes(), "stream"));
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::move(logical));
  auto from_stream = open_kdump(std::move(parts));
  PageCheck c =
      compare_pages(*src, *from_stream, [](uint64_t, const std::vector<std::byte>& b) { return is_zero_page(b); });
  CHECK(c.problems.empty());
  CHECK(c.compared == 0x1f + 8 - 3);

  // -R gives back byte for byte the file -F was made of.
  ::lseek(stream.fd, 0, SEEK_SET);
  MemorySink rearranged;
  RearrangeResult rr = rearrange_flattened(stream.fd, "stream", rearranged);
  CHECK(rr.complete);
  CHECK_FALSE(rr.dump_incomplete);
  CHECK(rearranged.bytes == file.bytes);
}

TEST_CASE("rearrange: a stream cut short gives a dump marked incomplete", "[capture][writers][flattened][incomplete]") {
  auto src = elf_source();
  MemFd stream;
  FlattenedSink flat(stream.fd, "stream");
  OutputSink* sinks[] = {&flat};
  REQUIRE(copy_dump(*src, keep_all(*src), sinks, options(0, PageCodec::Lzo)).complete);
  auto whole = stream.bytes();
  MemFd cut;
  // Cut inside the page data, well after the headers and the zero page.
  size_t keep = whole.size() * 2 / 3;
  REQUIRE(::write(cut.fd, whole.data(), keep) == static_cast<ssize_t>(keep));
  ::lseek(cut.fd, 0, SEEK_SET);
  MemorySink out;
  RearrangeResult rr = rearrange_flattened(cut.fd, "cut", out);
  CHECK_FALSE(rr.complete);
  CHECK(rr.dump_incomplete);
  CHECK_FALSE(rr.problem.empty());
  auto dump = open_bytes(out.bytes, "cut.dump");
  REQUIRE_FALSE(dump->warnings().empty());
  CHECK(dump->warnings().front().find("incomplete") != std::string::npos);
}

TEST_CASE("rearrange: input that is not a flattened stream is refused", "[capture][writers][flattened]") {
  MemFd junk;
  std::string text(5000, 'x');
  REQUIRE(::write(junk.fd, text.data(), text.size()) == 5000);
  ::lseek(junk.fd, 0, SEEK_SET);
  MemorySink out;
  CHECK_THROWS_WITH(rearrange_flattened(junk.fd, "junk", out), Catch::Contains("not a flattened dump stream"));
  CHECK(out.bytes.empty());
}
