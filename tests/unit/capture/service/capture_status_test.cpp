#include "capture/service/capture_status.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/unit/capture/service/service_test_support.hpp"

using namespace kdive::capture;
using kdive::capture::test::ScratchDir;
using kdive::capture::test::write_file;

namespace {

// A /proc and /sys with the files status reads.
void machine(const ScratchDir& root, const char* crash_size, const char* loaded, const char* cmdline) {
  if (crash_size) write_file(root / "sys/kernel/kexec_crash_size", crash_size);
  if (loaded) write_file(root / "sys/kernel/kexec_crash_loaded", loaded);
  write_file(root / "proc/cmdline", cmdline);
}

bool mentions(const CaptureStatus& s, const std::string& what) {
  for (const auto& p : s.problems) {
    if (p.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("capture status: armed when reserved, loaded and the save directory has room", "[capture_status]") {
  ScratchDir root;
  machine(root, "100663296\n", "1\n", "root=/dev/vda crashkernel=96M\n");
  std::filesystem::create_directories(root / "var/crash");
  CaptureConfig c;
  c.min_free_bytes = 0;
  CaptureStatus s = read_capture_status(c, root.path());
  CHECK(s.armed());
  CHECK(s.reserved_bytes == 96u << 20);
  CHECK(s.loaded == true);
  CHECK(s.cmdline_has_crashkernel);
  CHECK(format_capture_status(s).starts_with("capture: armed\n"));
  CHECK(format_capture_status(s).find("reservation:   96 MiB") != std::string::npos);

  const auto json = capture_status_json(s);
  CHECK(json["armed"] == true);
  CHECK(json["reserved_bytes"] == 96u << 20);
  CHECK(json["loaded"] == true);
  CHECK(json["cmdline_has_crashkernel"] == true);
  CHECK(json["target"] == "/var/crash");
  CHECK(json["free_bytes"] == *s.free_bytes);
  CHECK(json["problems"].empty());
}

TEST_CASE("capture status --json: not armed, with every reason and unknowns as null", "[capture_status]") {
  ScratchDir root;
  machine(root, "0\n", nullptr, "root=/dev/vda\n");
  CaptureConfig c;
  const auto json = capture_status_json(read_capture_status(c, root.path()));
  CHECK(json["armed"] == false);
  CHECK(json["reserved_bytes"] == 0u);
  CHECK(json["loaded"].is_null());
  CHECK(json["cmdline_has_crashkernel"] == false);
  CHECK(json["free_bytes"].is_null());  // the save directory is missing
  REQUIRE(json["problems"].size() == 3);
  CHECK(json["problems"][0].get<std::string>().starts_with("no memory reserved for a capture kernel"));
  CHECK(json["problems"][1].get<std::string>().starts_with("cannot tell whether a capture kernel is loaded"));
  CHECK(json["problems"][2] == "save directory /var/crash is missing");
}

TEST_CASE("capture status: each reason it is not armed", "[capture_status]") {
  ScratchDir root;
  CaptureConfig c;
  c.min_free_bytes = 0;
  SECTION("no crashkernel= at all") {
    machine(root, "0\n", "0\n", "root=/dev/vda quiet\n");
    std::filesystem::create_directories(root / "var/crash");
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK_FALSE(s.armed());
    CHECK(mentions(s, "no memory reserved for a capture kernel: add crashkernel=SIZE"));
    CHECK(mentions(s, "no capture kernel loaded"));
    CHECK(s.problems.size() == 2);
    CHECK(format_capture_status(s).starts_with("capture: NOT armed\n"));
  }
  SECTION("crashkernel= given but not reserved") {
    machine(root, "0\n", "0\n", "crashkernel=99G\n");
    std::filesystem::create_directories(root / "var/crash");
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(mentions(s, "could not reserve it"));
  }
  SECTION("reserved, nothing loaded") {
    machine(root, "100663296\n", "0\n", "crashkernel=96M\n");
    std::filesystem::create_directories(root / "var/crash");
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(s.problems == std::vector<std::string>{"no capture kernel loaded: run kdive-capture load"});
  }
  SECTION("a kernel without crash support") {
    machine(root, nullptr, nullptr, "quiet\n");
    std::filesystem::create_directories(root / "var/crash");
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(mentions(s, "no kexec crash support"));
  }
  SECTION("save directory missing") {
    machine(root, "100663296\n", "1\n", "crashkernel=96M\n");
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(s.problems == std::vector<std::string>{"save directory /var/crash is missing"});
  }
  SECTION("save directory short of space") {
    machine(root, "100663296\n", "1\n", "crashkernel=96M\n");
    std::filesystem::create_directories(root / "var/crash");
    c.min_free_bytes = 1ull << 60;
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(mentions(s, "save directory /var/crash is short of space"));
    CHECK(s.problems.size() == 1);
  }
  SECTION("a pipe target needs no save directory") {
    machine(root, "100663296\n", "1\n", "crashkernel=96M\n");
    c.target = "pipe:ssh vault kdive-dump -R x";
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(s.armed());
    CHECK(s.target == "pipe:ssh vault kdive-dump -R x");
  }
  SECTION("a copy target is named") {
    machine(root, "100663296\n", "1\n", "crashkernel=96M\n");
    c.target = "pipe:ssh vault kdive-dump -R x";
    c.copy_target = "pipe:dd of=/dev/vport0p1";
    CaptureStatus s = read_capture_status(c, root.path());
    CHECK(s.armed());
    CHECK(std::any_of(s.notes.begin(), s.notes.end(),
                      [](const std::string& n) { return n.find("'dd of=/dev/vport0p1'") != std::string::npos; }));
  }
}
