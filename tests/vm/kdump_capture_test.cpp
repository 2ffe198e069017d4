// The bookworm-kdump fixture as the capture service left it: the guest's
// capture kernel ran kdive-capture save, which wrote a level-1 zlib
// kdump-compressed vmcore with the kexec-style notes (one NT_PRSTATUS per CPU
// from crash_notes, no QEMU notes), dmesg.txt with the panic, and the capture
// kernel's meminfo, which must fit the crashkernel= reservation it ran in.
// Other suites' dumps come from QEMU: these cases skip there.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "readers/open_dump.hpp"
#include "tests/vm/skip.hpp"
#include "tests/vm/truth.hpp"
#include "tests/vm/vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;

namespace {

constexpr const char* kKdumpSuite = "bookworm-kdump";

// The crashkernel=SIZE the guest booted with, in bytes (0 if none).
uint64_t crashkernel_bytes(const std::string& console) {
  std::smatch m;
  if (!std::regex_search(console, m, std::regex(R"(crashkernel=(\d+)([KMG]))"))) return 0;
  uint64_t v = std::stoull(m[1]);
  char unit = m[2].str()[0];
  return v << (unit == 'K' ? 10 : unit == 'M' ? 20 : 30);
}

}  // namespace

TEST_CASE("the capture service's dump: level 1, zlib, kexec-style notes for every CPU", "[kdump_capture]") {
  if (suite() != kKdumpSuite) KDIVE_SKIP("only bookworm-kdump's dump is taken by the capture service");
  fs::path dir = fixture_dir(suite());
  Truth truth = Truth::load(dir / "truth.txt");

  auto dump = open_dump({(dir / "vmcore.kdump-zlib").string()});
  INFO(dump->format());
  CHECK(dump->format().find("kdump") != std::string::npos);
  CHECK(dump->format().find("flattened") == std::string::npos);  // kdive-dump wrote a file, not a stream
  const DumpNotes& notes = dump->notes();
  CHECK(notes.dump_level == 1);
  CHECK(notes.utsname_release == truth.release);
  CHECK(notes.vmcoreinfo.find("OSRELEASE=" + truth.release + "\n") != std::string::npos);
  // The crashed kernel's crash_notes: one NT_PRSTATUS per CPU, and none of
  // QEMU's CPU-state notes (the dump did not come from QEMU).
  REQUIRE(notes.cpus.size() == static_cast<size_t>(truth.cpus));
  for (const auto& cpu : notes.cpus) {
    CHECK(cpu.prstatus.has_value());
    CHECK_FALSE(cpu.qemu.has_value());
  }

  auto d31 = open_dump({(dir / "vmcore.kdump-d31").string()});
  CHECK(d31->notes().dump_level == 31);
  // Level 31 leaves out free, cache and user pages that level 1 keeps.
  CHECK(fs::file_size(dir / "vmcore.kdump-d31") < fs::file_size(dir / "vmcore.kdump-zlib"));
}

TEST_CASE("the capture service's side files: dmesg.txt and the capture kernel's meminfo", "[kdump_capture]") {
  if (suite() != kKdumpSuite) KDIVE_SKIP("only bookworm-kdump's dump is taken by the capture service");
  fs::path dir = fixture_dir(suite());
  std::string console = slurp(dir / "console.log");
  std::string capture_console = slurp(dir / "capture-console.log");
  std::string dmesg = slurp(dir / "dmesg.txt");
  // The crashed kernel's log, extracted from its memory, ends in the panic
  // the console showed.
  CHECK(dmesg.find("Kernel panic - not syncing: sysrq triggered crash") != std::string::npos);

  // The capture kernel lived in the reservation: its MemTotal cannot exceed it.
  uint64_t reserved = crashkernel_bytes(console);
  REQUIRE(reserved > 0);
  std::smatch m;
  std::string meminfo = slurp(dir / "capture-meminfo.txt");
  REQUIRE(std::regex_search(meminfo, m, std::regex(R"(MemTotal:\s+(\d+) kB)")));
  uint64_t total = std::stoull(m[1]) << 10;
  CHECK(total > 0);
  CHECK(total <= reserved);

  // The service reported each step: arming on the first kernel's console,
  // saving on the capture kernel's.
  CHECK(console.find("kdive-capture: armed: ") != std::string::npos);
  CHECK(capture_console.find("kdive-capture: capture kernel started") != std::string::npos);
  CHECK(capture_console.find("kdive-capture: saved ") != std::string::npos);
  CHECK(capture_console.find("kdive-capture: poweroff (action)") != std::string::npos);
  // console.log is the crashed kernel's alone, as in the QEMU-dumped suites.
  CHECK(console.find("kdive-capture: capture kernel started") == std::string::npos);
}
