// kdive-dump on a real kernel's dump: the fixture's QEMU ELF vmcore copied at
// dump level 1 with zlib reads back, through kdive's readers, page-identical
// for every page it keeps, and says "excluded" for exactly the zero pages.
// (Level 31 needs the page filter's struct page classes; the filter's own
// tests compare kept pages with makedumpfile's.)
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "readers/open_dump.hpp"
#include "tests/vm/console_log.hpp"
#include "tests/vm/truth.hpp"
#include "tests/vm/vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;

namespace {

bool all_zero(const std::vector<std::byte>& b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

}  // namespace

TEST_CASE("kdive-dump -d 1 -c of the ELF vmcore keeps every non-zero page, byte for byte", "[kdive_dump]") {
  fs::path fixture = fixture_dir(suite());
  TempDir tmp("dump-vm");
  fs::path out = tmp.path / "vmcore.kdump";
  std::string cmd = std::string("'") + KDIVE_DUMP_BINARY + "' -d 1 -c --num-threads 2 '" +
                    (fixture / "vmcore.elf").string() + "' '" + out.string() + "' > '" +
                    (tmp.path / "report").string() + "' 2> '" + (tmp.path / "stderr").string() + "'";
  int status = std::system(cmd.c_str());
  INFO(slurp(tmp.path / "stderr"));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto src = open_dump({(fixture / "vmcore.elf").string()});
  auto dump = open_dump({out.string()});
  CHECK(dump->format() == "kdump-zlib");
  CHECK(dump->warnings().empty());
  CHECK(dump->notes().vmcoreinfo == src->notes().vmcoreinfo);
  CHECK(dump->notes().cpus.size() == src->notes().cpus.size());
  CHECK(dump->notes().dump_level == 1);

  std::vector<std::byte> a(4096), b(4096);
  uint64_t kept = 0, zero = 0;
  std::vector<std::string> problems;
  for (const PhysRange& r : src->ranges()) {
    for (uint64_t p = r.start.value() & ~0xfffull; p < r.start.value() + r.size; p += 4096) {
      PageState sa = src->read_phys(PhysAddr{p}, a);
      PageState sb = dump->read_phys(PhysAddr{p}, b);
      REQUIRE(sa == PageState::Present);
      if (all_zero(a)) {
        ++zero;
        // Left out; a level-1 dump's reader knows a left-out page was zeros.
        // That it was left out, not stored, the report's count says below.
        if (sb != PageState::Zero) problems.push_back(fmt::format("{:#x}: zero page reads {}", p, to_string(sb)));
      } else if (sb != PageState::Present || a != b) {
        problems.push_back(fmt::format("{:#x}: {} and {}", p, to_string(sb), a == b ? "same bytes" : "bytes differ"));
      } else {
        ++kept;
      }
      if (problems.size() > 20) break;
    }
  }
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  // The report counts what the readers see.
  std::string report = slurp(tmp.path / "report");
  std::smatch m;
  REQUIRE(std::regex_search(report, m, std::regex(R"(Pages written: (\d+))")));
  CHECK(std::stoull(m[1]) == kept);
  REQUIRE(std::regex_search(report, m, std::regex(R"(zero\s+(\d+))")));
  CHECK(std::stoull(m[1]) == zero);
}

TEST_CASE("kdive-dump --dump-dmesg writes the kernel log the console printed", "[kdive_dump]") {
  fs::path fixture = fixture_dir(suite());
  // The capture kernel's way (VMCOREINFO alone) and the one with a vmlinux.
  bool with_vmlinux = GENERATE(false, true);
  INFO((with_vmlinux ? "with -x vmlinux" : "VMCOREINFO alone"));
  TempDir tmp("dump-vm");
  fs::path out = tmp.path / "dmesg.txt";
  std::string vmlinux = with_vmlinux ? " -x '" + (fixture / "vmlinux").string() + "'" : "";
  std::string cmd = std::string("'") + KDIVE_DUMP_BINARY + "' --dump-dmesg" + vmlinux + " '" +
                    (fixture / "vmcore.elf").string() + "' '" + out.string() + "' 2> '" +
                    (tmp.path / "stderr").string() + "'";
  int status = std::system(cmd.c_str());
  INFO(slurp(tmp.path / "stderr"));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::vector<std::string> dmesg = lines_of(slurp(out));
  // Every kernel line of the console, in order (the ring holds more: lines
  // below the console's log level).
  size_t at = 0;
  size_t found = 0;
  auto console = console_kernel_lines(fixture);
  REQUIRE_FALSE(console.empty());
  for (const ConsoleLine& l : console) {
    std::string want = "[" + l.stamp + "] " + l.text;
    auto it = std::find(dmesg.begin() + static_cast<ptrdiff_t>(at), dmesg.end(), want);
    if (it == dmesg.end()) {
      UNSCOPED_INFO("not in dmesg.txt (or out of order): " << want);
      continue;
    }
    at = static_cast<size_t>(it - dmesg.begin()) + 1;
    ++found;
  }
  CHECK(found == console.size());
}
