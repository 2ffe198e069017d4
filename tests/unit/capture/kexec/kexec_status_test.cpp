// kdive-kexec --status: parsing fake /proc and /sys files.
#include "capture/kexec/kexec_status.hpp"

#include <catch2/catch.hpp>

#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using kdive::test::FakeTree;

namespace {

constexpr const char* kIomem = R"(00000000-00000fff : Reserved
00001000-0009fbff : System RAM
00100000-2fffdfff : System RAM
  01000000-01e03a16 : Kernel code
  1b000000-1fffffff : Crash kernel
2fffe000-2fffffff : Reserved
100000000-13fffffff : System RAM
  138000000-13fffffff : Crash kernel
fee00000-fee00fff : Local APIC
)";

}  // namespace

TEST_CASE("Crash kernel ranges of /proc/iomem, nested at any depth", "[kexec]") {
  const auto ranges = parse_crash_ranges(kIomem);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].start == 0x1b000000);
  CHECK(ranges[0].end == 0x1fffffff);
  CHECK(ranges[0].size() == (80ull << 20));
  CHECK(ranges[1].start == 0x138000000);
  CHECK(ranges[1].size() == (128ull << 20));
  CHECK(parse_crash_ranges("00100000-2fffdfff : System RAM\n").empty());
}

TEST_CASE("the active lockdown mode is the bracketed one", "[kexec]") {
  CHECK(active_lockdown("none [integrity] confidentiality\n") == "integrity");
  CHECK(active_lockdown("[none] integrity confidentiality\n") == "none");
  CHECK_FALSE(active_lockdown("none integrity").has_value());
}

TEST_CASE("kdive-kexec --status reads what is loaded, the reservation, its ranges and crashkernel=", "[kexec]") {
  FakeTree tree;
  tree.write_state({.kexec_loaded = "0\n",
                    .crash_loaded = "1\n",
                    .crash_size = "83886080\n",
                    .iomem = kIomem,
                    .cmdline = "BOOT_IMAGE=/vmlinuz root=/dev/vda crashkernel=80M quiet\n"});
  const auto status = read_kexec_status(tree.root());
  CHECK(status.kexec_loaded == false);
  CHECK(status.crash_loaded == true);
  CHECK(status.crash_size == (80ull << 20));
  CHECK(status.crash_ranges.size() == 2);
  CHECK_FALSE(status.iomem_addresses_hidden);
  CHECK(status.crashkernel == "crashkernel=80M");
  CHECK_FALSE(status.lockdown.has_value());

  const auto text = format_kexec_status(status);
  CHECK_THAT(text, Catch::Contains("crash kernel (-p):    loaded"));
  CHECK_THAT(text, Catch::Contains("kexec kernel (-l):    not loaded"));
  CHECK_THAT(text, Catch::Contains("80 MiB (83886080 bytes)"));
  CHECK_THAT(text, Catch::Contains("0x000000001b000000-0x000000001fffffff 80 MiB"));
  CHECK_THAT(text, Catch::Contains("0x0000000138000000-0x000000013fffffff 128 MiB"));
  CHECK_THAT(text, Catch::Contains("crashkernel=80M"));

  // --json: the same facts, sizes and addresses as numbers.
  const auto json = kexec_status_json(status);
  CHECK(json["kexec_loaded"] == false);
  CHECK(json["crash_loaded"] == true);
  CHECK(json["crash_size"] == 83886080u);
  CHECK(json["iomem_readable"] == true);
  CHECK(json["iomem_addresses_hidden"] == false);
  REQUIRE(json["crash_ranges"].size() == 2);
  CHECK(json["crash_ranges"][0]["start"] == 0x1b000000u);
  CHECK(json["crash_ranges"][0]["end"] == 0x1fffffffu);
  CHECK(json["crash_ranges"][0]["size"] == (80u << 20));
  CHECK(json["crash_ranges"][1]["start"] == 0x138000000u);
  CHECK(json["crash_ranges"][1]["size"] == (128u << 20));
  CHECK(json["command_line"] == "BOOT_IMAGE=/vmlinuz root=/dev/vda crashkernel=80M quiet");
  CHECK(json["crashkernel"] == "crashkernel=80M");
  CHECK(json["lockdown"].is_null());
}

TEST_CASE("kdive-kexec --status without a reservation, with hidden addresses and missing files", "[kexec]") {
  FakeTree tree;
  tree.write_state({.crash_size = "0\n",
                    .iomem = "00000000-00000000 : System RAM\n  00000000-00000000 : Crash kernel\n",
                    .lockdown = "none [integrity] confidentiality\n"});
  const auto status = read_kexec_status(tree.root());
  CHECK(status.crash_size == 0u);
  CHECK(status.iomem_addresses_hidden);
  CHECK_FALSE(status.kexec_loaded.has_value());
  CHECK_FALSE(status.command_line.has_value());
  CHECK(status.lockdown == "integrity");
  const auto text = format_kexec_status(status);
  CHECK_THAT(text, Catch::Contains("none (boot with crashkernel=SIZE"));
  CHECK_THAT(text, Catch::Contains("addresses hidden (read as root)"));
  CHECK_THAT(text, Catch::Contains("kexec kernel (-l):    unknown"));
  CHECK_THAT(text, Catch::Contains("lockdown:             integrity"));

  // --json: what cannot be read is null, not a guess.
  const auto json = kexec_status_json(status);
  CHECK(json["crash_size"] == 0u);
  CHECK(json["iomem_addresses_hidden"] == true);
  CHECK(json["crash_ranges"].size() == 1);
  CHECK(json["kexec_loaded"].is_null());
  CHECK(json["crash_loaded"].is_null());
  CHECK(json["command_line"].is_null());
  CHECK(json["crashkernel"].is_null());
  CHECK(json["lockdown"] == "integrity");
}

TEST_CASE("kdive-kexec --status --json of an unreadable /proc/iomem", "[kexec]") {
  FakeTree tree;
  const auto json = kexec_status_json(read_kexec_status(tree.root()));
  CHECK(json["iomem_readable"] == false);
  CHECK(json["crash_ranges"].empty());
  CHECK(json["crash_size"].is_null());
}
