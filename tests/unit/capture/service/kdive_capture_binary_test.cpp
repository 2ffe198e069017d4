// The kdive-capture program's --json as a script sees it: one JSON object on
// stdout, the exit status unchanged. `save --vmcore` runs the real kdive-dump
// (found on PATH) on a synthetic dump into a scratch save directory.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/dumpgen/dumpgen.hpp"
#include "tests/unit/capture/service/service_test_support.hpp"

namespace fs = std::filesystem;
using kdive::capture::test::read_file;
using kdive::capture::test::ScratchDir;
using kdive::capture::test::write_file;

namespace {

struct Run {
  int status = -1;
  std::string out;
  std::string err;
};

Run kdive_capture(const ScratchDir& dir, const std::string& args) {
  // kdive-dump is found on PATH (in the build tree it is not beside kdive-capture).
  const std::string path = fs::path(KDIVE_DUMP_BINARY).parent_path().string();
  const std::string cmd = "PATH='" + path + "':\"$PATH\" '" KDIVE_CAPTURE_BINARY "' " + args + " > '" + (dir / "out") +
                          "' 2> '" + (dir / "err") + "'";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(dir / "out"), read_file(dir / "err")};
}

}  // namespace

TEST_CASE("kdive-capture save --json: the save's result as one JSON object", "[capture_save]") {
  ScratchDir dir;
  auto bytes = kdive::dumpgen::make_dump(R"(
format elf
vmcoreinfo OSRELEASE=6.1.0-test
vmcoreinfo PAGESIZE=4096
cpu 0 pid 1 rip 0xffffffff81000010
page 0x1000-0x20000 pattern
)");
  std::ofstream(dir / "vmcore", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  write_file(dir / "capture.conf",
             "savedir = " + (dir / "crash") + "\ndump_level = 1\ncompression = none\nmin_free = 0\nhostname = web1\n");

  const Run r =
      kdive_capture(dir, "--config '" + (dir / "capture.conf") + "' save --vmcore '" + (dir / "vmcore") + "' --json");
  INFO(r.err);
  CHECK(r.status == 0);
  // kdive-dump's report went to stderr: stdout is the JSON line alone.
  CHECK_THAT(r.err, Catch::Contains("Pages written:"));
  REQUIRE(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  const auto json = nlohmann::json::parse(r.out);
  CHECK(json["command"] == "kdive-capture save");
  const auto& result = json["result"];
  CHECK(result["ok"] == true);
  CHECK(result["pipe"] == false);
  CHECK(result["error"].is_null());
  CHECK(result["source"] == dir / "vmcore");
  CHECK(result["target"] == dir / "crash");
  const std::string dump_dir = result["dump_dir"];
  CHECK(dump_dir.starts_with(dir / "crash/web1-"));
  // Every file listed is there, complete; the dump itself is written last.
  REQUIRE_FALSE(result["files"].empty());
  CHECK(result["files"].back() == "vmcore");
  for (const auto& f : result["files"]) CHECK(fs::is_regular_file(fs::path(dump_dir) / f.get<std::string>()));
  // A file not saved is a warning, not a silent gap.
  CHECK(result["files"].size() + result["warnings"].size() >= 3);
}

TEST_CASE("kdive-capture status --json: armed or not, as the exit status says", "[capture_status]") {
  ScratchDir dir;
  write_file(dir / "capture.conf", "savedir = " + (dir / "crash") + "\n");
  const Run r = kdive_capture(dir, "--config '" + (dir / "capture.conf") + "' status --json");
  REQUIRE((r.status == 0 || r.status == 1));
  const auto json = nlohmann::json::parse(r.out);
  CHECK(json["command"] == "kdive-capture status");
  CHECK(json["result"]["armed"] == (r.status == 0));
  CHECK(json["result"]["target"] == dir / "crash");
  // The scratch save directory does not exist: that is one of the problems.
  CHECK(json["result"]["armed"] == false);
  bool missing = false;
  for (const auto& p : json["result"]["problems"])
    missing |= p.get<std::string>().find("is missing") != std::string::npos;
  CHECK(missing);
}

TEST_CASE("kdive-capture --json: a bad config is an error object; --json elsewhere is a usage error",
          "[capture_status]") {
  ScratchDir dir;
  write_file(dir / "capture.conf", "dump_level = 99\n");
  Run r = kdive_capture(dir, "--config '" + (dir / "capture.conf") + "' status --json");
  CHECK(r.status == 2);
  const auto json = nlohmann::json::parse(r.out);
  CHECK(json["command"] == "kdive-capture status");
  CHECK_FALSE(json.contains("result"));
  CHECK_THAT(json["error"].get<std::string>(), Catch::Contains("dump_level"));

  r = kdive_capture(dir, "load --json");
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("--json goes with status or save"));
}
