// kdive-dump next to the tools users already have, both ways:
// - makedumpfile and kdive-dump filter the same kexec-style ELF vmcore (the
//   bookworm-kdump suite's; makedumpfile refuses QEMU's ELF dumps) at dump
//   levels 1 and 31: both keep the same page frames, and every kept page holds
//   the source's bytes. kdive reads makedumpfile's output to compare.
// - the Debian crash utility opens kdive-dump's output of the bullseye dump
//   (the one kernel crash 8.0.2 reads) and lists the same tasks as on the
//   original.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "readers/open_dump.hpp"
#include "tests/vm/host_tools.hpp"
#include "tests/vm/skip.hpp"
#include "tests/vm/truth.hpp"
#include "tests/vm/vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;

namespace {

// Runs a shell command; its stderr goes to `log`. Returns the exit status.
int run(const std::string& command, const fs::path& log) {
  int raw = std::system((command + " > " + quoted(log) + " 2>&1").c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

bool kept(PageState s) { return s == PageState::Present || s == PageState::Zero; }

}  // namespace

TEST_CASE("kdive-dump keeps the page frames makedumpfile keeps, with the source's bytes", "[capture_interop]") {
  if (suite() != "bookworm-kdump") {
    KDIVE_SKIP("makedumpfile reads only kexec-style ELF vmcores: the bookworm-kdump suite has one, " + suite() +
               " has QEMU's");
  }
  if (!have_tool("makedumpfile")) KDIVE_SKIP("makedumpfile is not installed (scripts/install-deps)");
  fs::path fixture = fixture_dir(suite());
  fs::path source = fixture / "vmcore.elf";
  int level = GENERATE(1, 31);
  CAPTURE(level);
  TempDir tmp("interop-vm");
  fs::path ours = tmp.path / "kdive-dump.out";
  fs::path theirs = tmp.path / "makedumpfile.out";
  std::string flags = fmt::format(" -d {} -c ", level);
  REQUIRE(run(quoted(KDIVE_DUMP_BINARY) + flags + quoted(source) + " " + quoted(ours), tmp.path / "ours.log") == 0);
  int status = run("makedumpfile" + flags + quoted(source) + " " + quoted(theirs), tmp.path / "theirs.log");
  INFO("makedumpfile said:\n" << slurp(tmp.path / "theirs.log"));
  REQUIRE(status == 0);

  auto src = open_dump({source.string()});
  auto a = open_dump({ours.string()});
  auto b = open_dump({theirs.string()});
  CHECK(a->notes().dump_level == level);
  CHECK(b->notes().dump_level == level);
  // Both bitmaps, page frame by page frame: in the file or left out. No
  // difference is expected, so none is explained here; each one is listed.
  std::vector<std::byte> s(4096), x(4096), y(4096);
  uint64_t compared = 0, left_out = 0;
  std::vector<std::string> differences;
  std::map<std::string, uint64_t> kinds;
  for (const PhysRange& r : src->ranges()) {
    for (uint64_t p = r.start.value() & ~0xfffull; p < r.start.value() + r.size; p += 4096) {
      PageState ss = src->read_phys(PhysAddr{p}, s);
      PageState sa = a->read_phys(PhysAddr{p}, x);
      PageState sb = b->read_phys(PhysAddr{p}, y);
      if (sa != sb) {
        ++kinds[fmt::format("kdive-dump {}, makedumpfile {}", to_string(sa), to_string(sb))];
        if (differences.size() < 20) {
          differences.push_back(
              fmt::format("pfn {:#x}: kdive-dump {}, makedumpfile {}", p / 4096, to_string(sa), to_string(sb)));
        }
      } else if (sa == PageState::Present) {
        if (!kept(ss) || x != s)
          differences.push_back(fmt::format("pfn {:#x}: bytes differ from the source", p / 4096));
        if (y != s) differences.push_back(fmt::format("pfn {:#x}: makedumpfile's bytes differ", p / 4096));
        ++compared;
      } else if (sa == PageState::Excluded || sa == PageState::Zero) {
        ++left_out;
      }
    }
  }
  for (const auto& d : differences) UNSCOPED_INFO(d);
  for (const auto& [kind, n] : kinds) UNSCOPED_INFO(n << " pages: " << kind);
  CHECK(differences.empty());
  // Not a vacuous comparison: pages were kept, and at 31 most were left out
  // (a 768 MB guest that ran a small workload is mostly free memory).
  CHECK(compared > 1000);
  if (level == 31) CHECK(left_out > compared);
  // The same pages kept, each zlib page written by libdeflate at the level
  // chosen to be no larger than zlib's Z_BEST_SPEED (makedumpfile's -c): the
  // file is no larger than makedumpfile's.
  INFO("kdive-dump " << fs::file_size(ours) << " bytes, makedumpfile " << fs::file_size(theirs));
  CHECK(fs::file_size(ours) <= fs::file_size(theirs));

  // makedumpfile itself reads kdive-dump's pages (zlib streams libdeflate
  // wrote, inflated by zlib): the kernel log it extracts from our file is the
  // one it extracts from its own. Level 31 only: at level 1 kdive-dump leaves
  // zero pages out of the bitmap, which makedumpfile's reader refuses (it
  // keeps them as references to the shared zero page).
  if (level == 31) {
    fs::path log_ours = tmp.path / "dmesg.ours", log_theirs = tmp.path / "dmesg.theirs";
    REQUIRE(run("makedumpfile --dump-dmesg " + quoted(ours) + " " + quoted(log_ours), tmp.path / "dmesg1.log") == 0);
    REQUIRE(run("makedumpfile --dump-dmesg " + quoted(theirs) + " " + quoted(log_theirs), tmp.path / "dmesg2.log") ==
            0);
    std::string a = slurp(log_ours), b = slurp(log_theirs);
    CHECK(a.find("Linux version") != std::string::npos);
    CHECK(a == b);
  }
}

TEST_CASE("crash opens kdive-dump's output and lists the tasks it lists on the original", "[capture_interop]") {
  if (std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  fs::path fixture = fixture_dir(suite());
  TempDir tmp("interop-vm");
  fs::path out = tmp.path / "vmcore.d31";
  REQUIRE(run(quoted(KDIVE_DUMP_BINARY) + " -d 31 -c " + quoted(fixture / "vmcore.elf") + " " + quoted(out),
              tmp.path / "dump.log") == 0);
  std::string theirs =
      shell_output("printf 'ps\\nquit\\n' | crash -s " + quoted(fixture / "vmlinux") + " " + quoted(out) + " 2>&1");
  std::string original = run_crash("ps");
  INFO("crash on kdive-dump's output:\n" << theirs);
  REQUIRE(theirs.find("PID") != std::string::npos);
  // Task lines of `ps` (the header and crash's own notes aside), the same.
  auto tasks = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.find(" ffff") != std::string::npos && line.find("PID") == std::string::npos) lines.push_back(line);
    }
    return lines;
  };
  CHECK(tasks(theirs).size() > 10);
  CHECK(tasks(theirs) == tasks(original));
}
