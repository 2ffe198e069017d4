#include "capture/service/capture_save.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capture/service/dump_store.hpp"
#include "tests/unit/capture/service/service_test_support.hpp"

using namespace kdive::capture;
using kdive::capture::test::read_file;
using kdive::capture::test::ScratchDir;
using kdive::capture::test::write_file;
namespace fs = std::filesystem;

namespace {

// Stands in for kdive-dump: records each call, writes what it was asked to,
// and fails when the FAIL file exists beside it.
constexpr const char* kFakeDump = R"(#!/bin/sh
here=$(dirname "$0")
echo "$*" >> "$here/calls.log"
[ -e "$here/FAIL" ] && exit 3
if [ "$1" = --dump-dmesg ]; then echo "log of $2" > "$3"; exit 0; fi
flat=
for a in "$@"; do last=$a; [ "$a" = -F ] && flat=1; done
if [ -n "$flat" ]; then echo "flattened stream of $last"; exit 0; fi
echo "dump of $*" > "$last"
)";

struct Fixture {
  ScratchDir dir;
  CaptureConfig config;
  SaveOptions options;
  Fixture() {
    write_file(dir / "bin/kdive-dump", kFakeDump, true);
    write_file(dir / "proc/vmcore", "old memory");
    write_file(dir / "proc/meminfo", "MemTotal: 80000 kB\n");
    write_file(dir / "bin/hook", "#!/bin/sh\necho \"$1 $KDIVE_SAVE_RESULT\" >> \"$(dirname \"$0\")/hook.log\"\n", true);
    options.dump_program = dir / "bin/kdive-dump";
    options.vmcore = dir / "proc/vmcore";
    options.meminfo = dir / "proc/meminfo";
    options.savedir_root = dir / "target";
    options.now = 1796228078;
    options.hostname = "web1";
    config.savedir = "/var/crash";
    config.dump_level = 1;
    config.compression = "zstd";
    config.min_free_bytes = 0;
    config.post_save_hook = dir / "bin/hook";
  }
};

}  // namespace

TEST_CASE("save: vmcore, dmesg.txt and capture-meminfo.txt in <host>-<date>", "[capture_save]") {
  Fixture f;
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  REQUIRE(r.ok);
  std::string dir = f.dir / "target/var/crash/web1-2026-12-02-16:14:38";
  CHECK(r.dump_dir == dir);
  CHECK(read_file(dir + "/vmcore") == "dump of -d 1 -z " + f.options.vmcore + " " + dir + "/vmcore\n");
  CHECK(read_file(dir + "/dmesg.txt") == "log of " + f.options.vmcore + "\n");
  CHECK(read_file(dir + "/capture-meminfo.txt") == "MemTotal: 80000 kB\n");
  // dmesg first: it survives a dump that then fails.
  CHECK(read_file(f.dir / "bin/calls.log").starts_with("--dump-dmesg "));
  CHECK(read_file(f.dir / "bin/hook.log") == dir + " saved\n");
  CHECK(log.str().find("saved " + dir + "/vmcore") != std::string::npos);

  const auto json = save_result_json(r);
  CHECK(json["ok"] == true);
  CHECK(json["pipe"] == false);
  CHECK(json["source"] == f.options.vmcore);
  CHECK(json["target"] == "/var/crash");
  CHECK(json["dump_dir"] == dir);
  CHECK(json["files"] == nlohmann::json{"dmesg.txt", "capture-meminfo.txt", "vmcore"});
  CHECK(json["warnings"].empty());
  CHECK(json["error"].is_null());
}

TEST_CASE("save: keep_old_dumps prunes before saving", "[capture_save]") {
  Fixture f;
  f.config.keep_old_dumps = 1;
  for (const char* old : {"web1-2025-01-01-00:00:00", "web1-2025-06-01-00:00:00"}) {
    fs::create_directories(f.dir / ("target/var/crash/" + std::string(old)));
  }
  std::ostringstream log;
  REQUIRE(save_dump(f.config, f.options, log).ok);
  CHECK(DumpStore(f.dir / "target/var/crash").dumps() ==
        std::vector<std::string>{"web1-2025-06-01-00:00:00", "web1-2026-12-02-16:14:38"});
}

TEST_CASE("save: refused when min_free would not remain, nothing written", "[capture_save]") {
  Fixture f;
  f.config.min_free_bytes = 1ull << 60;
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("less than min_free") != std::string::npos);
  CHECK(DumpStore(f.dir / "target/var/crash").dumps().empty());
  CHECK_FALSE(fs::exists(f.dir / "bin/calls.log"));
  CHECK(read_file(f.dir / "bin/hook.log").ends_with(" failed\n"));
}

TEST_CASE("save: a failing kdive-dump is a failed save, reported", "[capture_save]") {
  Fixture f;
  write_file(f.dir / "bin/FAIL", "");
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("exit status 3") != std::string::npos);
  CHECK(log.str().find("the kernel log was not saved") != std::string::npos);
  CHECK(read_file(f.dir / "bin/hook.log") == r.dump_dir + " failed\n");

  // The JSON report: what was completed, what went wrong on the way, why it failed.
  const auto json = save_result_json(r);
  CHECK(json["ok"] == false);
  CHECK(json["files"] == nlohmann::json{"capture-meminfo.txt"});
  REQUIRE(json["warnings"].size() == 1);
  CHECK(json["warnings"][0].get<std::string>().starts_with("the kernel log was not saved"));
  CHECK(json["error"] == r.error);
}

TEST_CASE("save: no source, no kdive-dump", "[capture_save]") {
  Fixture f;
  std::ostringstream log;
  f.options.vmcore = f.dir / "proc/none";
  CHECK(save_dump(f.config, f.options, log).error.find("does not exist") != std::string::npos);
  f.options.dump_program.clear();
  CHECK(save_dump(f.config, f.options, log).error.find("kdive-dump not found") != std::string::npos);
}

TEST_CASE("save: a pipe: target gets kdive-dump -F's stream on its stdin", "[capture_save]") {
  Fixture f;
  write_file(f.dir / "bin/receiver", "#!/bin/sh\ncat > \"$1\"\necho \"$KDIVE_DUMP_NAME\" > \"$1.name\"\n", true);
  f.config.target = "pipe:" + (f.dir / "bin/receiver") + " " + (f.dir / "{name}.vmcore");
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  REQUIRE(r.ok);
  CHECK(r.dump_dir == "web1-2026-12-02-16:14:38");
  std::string received = f.dir / "web1-2026-12-02-16:14:38.vmcore";
  CHECK(read_file(received) == "flattened stream of " + f.options.vmcore + "\n");
  CHECK(read_file(received + ".name") == "web1-2026-12-02-16:14:38\n");
  CHECK(read_file(f.dir / "bin/calls.log") == "-d 1 -z -F " + f.options.vmcore + "\n");
  CHECK(save_result_json(r)["pipe"] == true);
  CHECK(save_result_json(r)["target"] == f.config.pipe_command());
  // Nothing is written to the local save directory.
  CHECK_FALSE(fs::exists(f.dir / "target"));

  SECTION("a receiver that fails fails the save") {
    write_file(f.dir / "bin/receiver", "#!/bin/sh\ncat > /dev/null\nexit 5\n", true);
    SaveResult bad = save_dump(f.config, f.options, log);
    CHECK_FALSE(bad.ok);
    CHECK(bad.error.find("exit status 5") != std::string::npos);
  }
}

TEST_CASE("save: a copy_target gets a second stream after the disk save, at its own level", "[capture_save]") {
  Fixture f;
  write_file(f.dir / "bin/receiver", "#!/bin/sh\ncat > \"$1\"\n", true);
  f.config.copy_target = "pipe:" + (f.dir / "bin/receiver") + " " + (f.dir / "{name}.copy");
  f.config.copy_dump_level = 31;
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  REQUIRE(r.ok);
  CHECK(r.copy_tried);
  CHECK(r.copy_error.empty());
  std::string dir = f.dir / "target/var/crash/web1-2026-12-02-16:14:38";
  CHECK(read_file(dir + "/vmcore").starts_with("dump of -d 1 -z"));
  CHECK(read_file(f.dir / "web1-2026-12-02-16:14:38.copy") == "flattened stream of " + f.options.vmcore + "\n");
  // dmesg, the level-1 dump to disk, then the level-31 stream: in that order.
  CHECK(read_file(f.dir / "bin/calls.log") == "--dump-dmesg " + f.options.vmcore + " " + dir + "/dmesg.txt\n" +
                                                  "-d 1 -z " + f.options.vmcore + " " + dir + "/vmcore\n" +
                                                  "-d 31 -z -F " + f.options.vmcore + "\n");
  CHECK(log.str().find("streamed web1-2026-12-02-16:14:38 through") != std::string::npos);
  // The hook runs once, about the disk save.
  CHECK(read_file(f.dir / "bin/hook.log") == dir + " saved\n");

  SECTION("without copy_dump_level the copy takes dump_level") {
    f.config.copy_dump_level = -1;
    fs::remove(f.dir / "bin/calls.log");
    REQUIRE(save_dump(f.config, f.options, log).ok);
    CHECK(read_file(f.dir / "bin/calls.log").ends_with("-d 1 -z -F " + f.options.vmcore + "\n"));
  }
  SECTION("a failing copy is reported apart from the save") {
    write_file(f.dir / "bin/receiver", "#!/bin/sh\ncat > /dev/null\nexit 4\n", true);
    SaveResult bad = save_dump(f.config, f.options, log);
    CHECK(bad.ok);
    CHECK(bad.copy_error.find("exit status 4") != std::string::npos);
  }
  SECTION("a refused disk save still sends the copy") {
    f.config.min_free_bytes = 1ull << 62;
    fs::remove(f.dir / "web1-2026-12-02-16:14:38.copy");
    SaveResult refused = save_dump(f.config, f.options, log);
    CHECK_FALSE(refused.ok);
    CHECK(refused.copy_error.empty());
    CHECK(fs::exists(f.dir / "web1-2026-12-02-16:14:38.copy"));
  }
}

TEST_CASE("save: no copy_target, no copy", "[capture_save]") {
  Fixture f;
  std::ostringstream log;
  SaveResult r = save_dump(f.config, f.options, log);
  REQUIRE(r.ok);
  CHECK_FALSE(r.copy_tried);
  // -F as a word of its own: the scratch directory's random name may hold "-F".
  std::istringstream words(read_file(f.dir / "bin/calls.log"));
  for (std::string word; words >> word;) CHECK(word != "-F");
}
