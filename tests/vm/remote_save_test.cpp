// The remote save, proven in the bookworm-kdump run: after saving a level-1
// dump to its disk, the capture kernel streamed a level-31 copy through its
// `copy_target = pipe:kdive-capture write /dev/vport0p1` (kdive-dump -F into a
// virtio-serial port), and the host's `kdive-dump -R` rebuilt it as
// vmcore.remote (tests/vm/fixtures.py). Here: kdive opens that copy, it holds
// exactly the pages of a level-31 filtering of the disk copy, with the same
// bytes, and the capture console says the stream went through.
#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "readers/open_dump.hpp"
#include "tests/vm/run_kdive.hpp"
#include "tests/vm/skip.hpp"
#include "tests/vm/truth.hpp"
#include "tests/vm/vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;

namespace {

// The two page bitmaps of a kdump-compressed file (the 1st: not a hole, the
// 2nd: in the file), read with the disk_dump_header offsets of FORMATS.md.
struct Bitmaps {
  uint32_t max_mapnr = 0;
  std::string first, second;
};

Bitmaps bitmaps_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::string header(4096, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header.size()));
  REQUIRE(header.compare(0, 8, "KDUMP   ") == 0);
  auto i32 = [&](size_t at) {
    int32_t v;
    std::memcpy(&v, header.data() + at, 4);
    return v;
  };
  int32_t block_size = i32(428), sub_hdr_size = i32(432);
  uint32_t bitmap_blocks = static_cast<uint32_t>(i32(436));
  REQUIRE(block_size == 4096);
  Bitmaps b;
  b.max_mapnr = static_cast<uint32_t>(i32(440));
  std::string both(static_cast<size_t>(bitmap_blocks) * block_size, '\0');
  in.seekg(static_cast<std::streamoff>(1 + sub_hdr_size) * block_size);
  in.read(both.data(), static_cast<std::streamsize>(both.size()));
  REQUIRE(in.gcount() == static_cast<std::streamsize>(both.size()));
  b.first = both.substr(0, both.size() / 2);
  b.second = both.substr(both.size() / 2);
  return b;
}

}  // namespace

TEST_CASE("the remote copy equals a level-31 filtering of the disk copy, page for page", "[remote_save]") {
  if (suite() != "bookworm-kdump") KDIVE_SKIP("only the bookworm-kdump run saves remotely, not " + suite());
  fs::path dir = fixture_dir(suite());
  fs::path remote = dir / "vmcore.remote";
  // What is comparable: vmcore.remote is `kdive-dump -d 31` of /proc/vmcore in
  // the capture kernel; vmcore.kdump-zlib (the disk copy) is `-d 1` of the
  // same /proc/vmcore, and vmcore.kdump-d31 is `kdive-dump -d 31` of that disk
  // copy on the host. Level 1 leaves out only zero pages, and a reader of a
  // level-1 dump knows a left-out page held zeros: the disk copy reads as the
  // same memory as /proc/vmcore. So the level-31 decisions, made from the same
  // struct pages over the same memory, must come out the same: the same
  // bitmaps (zero pages kept at 31 as references to one shared zero page in
  // both), and the same bytes in every kept page. makedumpfile's own -d 31
  // (capture_interop_test) is not the reference here: it reads an ELF copy.
  fs::path refiltered = dir / "vmcore.kdump-d31";
  fs::path disk = dir / "vmcore.kdump-zlib";
  REQUIRE(fs::is_regular_file(remote));

  Bitmaps r = bitmaps_of(remote), d = bitmaps_of(refiltered);
  CHECK(r.max_mapnr == d.max_mapnr);
  CHECK(r.first == d.first);
  CHECK(r.second == d.second);

  auto a = open_dump({remote.string()});
  auto b = open_dump({refiltered.string()});
  auto src = open_dump({disk.string()});
  CHECK(a->notes().dump_level == 31);
  CHECK(b->notes().dump_level == 31);
  CHECK(src->notes().dump_level == 1);
  std::vector<std::byte> x(4096), y(4096), s(4096);
  uint64_t compared = 0, left_out = 0;
  std::vector<std::string> differences;
  for (const PhysRange& range : src->ranges()) {
    for (uint64_t p = range.start.value() & ~0xfffull; p < range.start.value() + range.size; p += 4096) {
      PageState sa = a->read_phys(PhysAddr{p}, x);
      PageState sb = b->read_phys(PhysAddr{p}, y);
      if (sa != sb) {
        if (differences.size() < 20)
          differences.push_back(
              fmt::format("pfn {:#x}: remote {}, refiltered {}", p / 4096, to_string(sa), to_string(sb)));
        continue;
      }
      if (sa == PageState::Present || sa == PageState::Zero) {
        PageState ss = src->read_phys(PhysAddr{p}, s);
        if (x != y) differences.push_back(fmt::format("pfn {:#x}: remote and refiltered bytes differ", p / 4096));
        if ((ss != PageState::Present && ss != PageState::Zero) || x != s)
          differences.push_back(fmt::format("pfn {:#x}: remote bytes differ from the disk copy", p / 4096));
        ++compared;
      } else if (sa == PageState::Excluded) {
        ++left_out;
      }
    }
  }
  for (const auto& line : differences) UNSCOPED_INFO(line);
  CHECK(differences.empty());
  // Not vacuous: pages were kept, and level 31 left most of a mostly idle
  // 768 MB guest out.
  CHECK(compared > 1000);
  CHECK(left_out > compared);
}

TEST_CASE("kdive opens the remote copy; the capture console shows the stream went through", "[remote_save]") {
  if (suite() != "bookworm-kdump") KDIVE_SKIP("only the bookworm-kdump run saves remotely, not " + suite());
  fs::path dir = fixture_dir(suite());
  Truth truth = Truth::load(dir / "truth.txt");
  KdiveRun run = run_kdive(suite(), "remote", "sys");
  INFO(run.err);
  REQUIRE(run.status == 0);
  CHECK(run.out.find(truth.release) != std::string::npos);
  CHECK(run.out.find("sysrq triggered crash") != std::string::npos);
  // The task list lives in kernel memory, which level 31 keeps: the same as
  // on the level-1 disk copy.
  KdiveRun remote_ps = run_kdive(suite(), "remote", "ps");
  KdiveRun disk_ps = run_kdive(suite(), "kdump-zlib", "ps");
  REQUIRE(remote_ps.status == 0);
  REQUIRE(disk_ps.status == 0);
  CHECK(lines_of(remote_ps.out).size() > 10);
  CHECK(remote_ps.out == disk_ps.out);

  std::string console = slurp(dir / "capture-console.log");
  INFO(console);
  // The disk save came first, then the copy at its own level, through the
  // pipe: command, which exited 0 (else "copy failed").
  size_t saved = console.find("kdive-capture: saved ");
  size_t streaming =
      console.find("kdive-capture: streaming /proc/vmcore at level 31 to 'kdive-capture write /dev/vport0p1");
  size_t streamed = console.find("kdive-capture: streamed ");
  REQUIRE(saved != std::string::npos);
  REQUIRE(streaming != std::string::npos);
  REQUIRE(streamed != std::string::npos);
  CHECK(saved < streaming);
  CHECK(streaming < streamed);
  CHECK(console.find("copy failed") == std::string::npos);
}
