// kdive-kexec --recommend: the estimate's terms and a measured capture.
#include "capture/kexec/crashkernel_advice.hpp"

#include <catch2/catch.hpp>

#include "capture/kexec/kexec_command_line.hpp"
#include "capture/kexec/kexec_error.hpp"
#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using kdive::test::fake_bzimage;
using kdive::test::FakeTree;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

const AdviceTerm* term(const CrashkernelAdvice& advice, std::string_view what) {
  for (const auto& t : advice.estimate) {
    if (t.what == what) return &t;
  }
  return nullptr;
}

// A gzip member's framing around nothing real: unpacked_initramfs_size reads
// only the magic and the ISIZE trailer.
std::string fake_gzip(uint32_t packed, uint32_t isize) {
  std::string data(packed, '\0');
  data[0] = '\x1f';
  data[1] = '\x8b';
  for (int i = 0; i < 4; ++i) data[packed - 4 + i] = char((isize >> (8 * i)) & 0xff);
  return data;
}

}  // namespace

TEST_CASE("the estimate adds the kernel's init_size, the initramfs packed and unpacked, and fixed terms", "[kexec]") {
  FakeTree tree;
  tree.write_state({.crash_size = "0\n", .meminfo = "MemTotal:         786432 kB\nMemFree:   1000 kB\n"});
  tree.write("/proc/sys/kernel/osrelease", "6.1.0-test\n");
  tree.write("/boot/vmlinuz-6.1.0-test", fake_bzimage(52 * kMiB));
  tree.write("/var/lib/kdive/capture-initrd.img", fake_gzip(4 * kMiB, 11 * kMiB));
  const auto advice = advise_crashkernel(tree.root(), {});
  CHECK(advice.ram == 768 * kMiB);
  REQUIRE(term(advice, "capture kernel"));
  CHECK(term(advice, "capture kernel")->bytes == 52 * kMiB);
  REQUIRE(term(advice, "initramfs, packed"));
  CHECK(term(advice, "initramfs, packed")->bytes == 4 * kMiB);
  REQUIRE(term(advice, "initramfs, unpacked"));
  CHECK(term(advice, "initramfs, unpacked")->bytes == 11 * kMiB);
  REQUIRE(term(advice, "page bitmaps"));
  CHECK(term(advice, "page bitmaps")->bytes == 768 * kMiB / 4096 / 4);
  uint64_t sum = 0;
  for (const auto& t : advice.estimate) sum += t.bytes;
  CHECK(advice.estimate_total == sum);
  CHECK(advice.recommended % (16 * kMiB) == 0);
  CHECK(advice.recommended >= sum);
  CHECK(advice.recommended < sum + 17 * kMiB + sum / 63);
  CHECK_FALSE(advice.measured.has_value());
  CHECK(advice.distribution_default == "256M");
  CHECK(advice.current == 0u);

  const auto text = format_advice(advice);
  CHECK_THAT(text, Catch::StartsWith("recommended: crashkernel=" + crashkernel_size(advice.recommended) + "\n"));
  CHECK_THAT(text, Catch::Contains("a default, not a measurement"));
  CHECK_THAT(text, Catch::Contains("its init_size"));
}

TEST_CASE("a capture-meminfo.txt beside a saved dump gives the measured need", "[kexec]") {
  FakeTree tree;
  tree.write_state({.crash_size = "0\n", .meminfo = "MemTotal:       50331648 kB\n"});  // 48 GiB
  // Two dumps under one save directory: the larger need wins.
  tree.write("/var/crash/host-1/capture-meminfo.txt",
             "MemTotal:  60000 kB\nMemFree: 30000 kB\nMemAvailable: 40960 kB\nCrashkernelSize: 81920 kB\n");
  tree.write("/var/crash/host-2/capture-meminfo.txt",
             "MemTotal:  60000 kB\nMemAvailable: 30720 kB\nCrashkernelSize: 81920 kB\nKdiveDumpPeak: 10240 kB\n");
  AdviceInputs inputs;
  inputs.dump_dirs = {tree.path("/var/crash")};
  const auto advice = advise_crashkernel(tree.root(), inputs);
  REQUIRE(advice.measured.has_value());
  CHECK(advice.measured->file == tree.path("/var/crash/host-2/capture-meminfo.txt"));
  // 80 MiB reserved - 30 MiB available + 10 MiB kdive-dump peak.
  CHECK(advice.measured_need == 60 * kMiB);
  CHECK(advice.recommended == 80 * kMiB);  // 60 MiB + 25% = 75 MiB, up to 16 MiB steps
  CHECK(advice.distribution_default == "512M");
  const auto text = format_advice(advice);
  CHECK_THAT(text, Catch::StartsWith("recommended: crashkernel=80M"));
  CHECK_THAT(text, Catch::Contains("it used 60 MiB"));
  CHECK_THAT(text, Catch::Contains("kdive-dump peaked at 10 MiB"));
  CHECK_THAT(text, Catch::Contains("no capture initramfs at"));

  // --json: the same facts, in bytes.
  const auto json = advice_json(advice);
  CHECK(json["recommended"] == 80 * kMiB);
  CHECK(json["crashkernel"] == "crashkernel=80M");
  CHECK(json["ram"] == 48ull << 30);
  CHECK(json["current"] == 0u);
  CHECK(json["measured"]["file"] == advice.measured->file);
  CHECK(json["measured"]["reservation"] == 80 * kMiB);
  CHECK(json["measured"]["mem_available"] == 30 * kMiB);
  CHECK(json["measured"]["dump_peak"] == 10 * kMiB);
  CHECK(json["measured_need"] == 60 * kMiB);
  CHECK(json["margin_percent"] == 25);
  CHECK(json["distribution_default"] == "512M");
  REQUIRE(json["estimate"].size() == advice.estimate.size());
  uint64_t sum = 0;
  for (const auto& t : json["estimate"]) sum += t["bytes"].get<uint64_t>();
  CHECK(json["estimate_sum"] == sum);
  CHECK(json["estimate_total"] == sum + sum / 63);
  bool noted = false;
  for (const auto& n : json["notes"])
    noted |= n.get<std::string>().find("no capture initramfs at") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("kdive-kexec --recommend --json without a measurement: measured is null", "[kexec]") {
  FakeTree tree;
  tree.write_state({.meminfo = "MemTotal: 786432 kB\n"});
  const auto json = advice_json(advise_crashkernel(tree.root(), {}));
  CHECK(json["measured"].is_null());
  CHECK(json["measured_need"].is_null());
  CHECK(json["current"].is_null());  // no kexec_crash_size
  CHECK(json["recommended"].get<uint64_t>() % (16 * kMiB) == 0);
}

TEST_CASE("a measurement without CrashkernelSize assumes the current reservation and says so", "[kexec]") {
  FakeTree tree;
  tree.write_state({.crash_size = "100663296\n", .meminfo = "MemTotal: 786432 kB\n"});  // 96 MiB
  tree.write("/dump/capture-meminfo.txt", "MemTotal: 70000 kB\nMemAvailable: 51200 kB\n");
  AdviceInputs inputs;
  inputs.dump_dirs = {tree.path("/dump"), tree.path("/nowhere")};
  const auto advice = advise_crashkernel(tree.root(), inputs);
  CHECK(advice.measured_need == 46 * kMiB);
  const auto text = format_advice(advice);
  CHECK_THAT(text, Catch::Contains("assuming the reservation then was the current one"));
  CHECK_THAT(text, Catch::Contains("/nowhere: not a directory"));
}

TEST_CASE("no /proc/meminfo: one error line", "[kexec]") {
  FakeTree tree;
  CHECK_THROWS_AS(advise_crashkernel(tree.root(), {}), KexecError);
}

TEST_CASE("unpacked initramfs sizes from gzip, zstd and plain cpio", "[kexec]") {
  FakeTree tree;
  CHECK(unpacked_initramfs_size(tree.write("/a.gz", fake_gzip(64, 123456))) == 123456u);
  CHECK(unpacked_initramfs_size(tree.write("/a.cpio", "070701" + std::string(994, '0'))) == 1000u);
  // zstd: single segment, 4-byte content size 0x00100000.
  CHECK(unpacked_initramfs_size(
            tree.write("/a.zst", std::string("\x28\xb5\x2f\xfd\xa0\x00\x00\x10\x00\x00\x00", 11))) == 0x100000u);
  CHECK_FALSE(unpacked_initramfs_size(tree.write("/a.xz",
                                                 "\xfd"
                                                 "7zXZ\0\0\0\0\0\0\0\0"))
                  .has_value());
  CHECK_FALSE(unpacked_initramfs_size(tree.path("/missing")).has_value());
}
