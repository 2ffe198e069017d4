// The kdive-kexec program as a user runs it: arguments in, lines and an exit
// status out.
#include "capture/kexec/kexec_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "capture/kexec/kexec_command_line.hpp"
#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using namespace kdive::test;

namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run run(const FakeTree& tree, FakeKexecSystem& system, std::vector<std::string> args) {
  std::ostringstream out, err;
  const int status = run_kexec_cli(args, tree.root(), system, out, err);
  return {status, out.str(), err.str()};
}

}  // namespace

TEST_CASE("usage errors exit 2 with one line", "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "no action"},
      {{"-l"}, "-l needs one KERNEL file"},
      {{"-l", "a", "-p", "b"}, "give one action"},
      {{"-e", "--status"}, "give one action"},
      {{"--initrd"}, "--initrd needs a value"},
      {{"--status", "--append", "x"}, "--append, --reuse-cmdline and --command-line go with -l or -p"},
      {{"-p", "k", "--reuse-cmdline", "--command-line", "x"}, "exclude each other"},
      {{"-p", "k", "--force"}, "--force goes with -e"},
      {{"-e", "extra"}, "unexpected argument extra"},
      {{"--bogus"}, "unknown option --bogus"},
      {{"-u", "--initrd=x"}, "--initrd goes with"},
      {{"-u", "--json"}, "--json goes with --status or --recommend"},
  };
  for (const auto& [args, message] : cases) {
    const auto r = run(tree, system, args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("kdive-kexec: ") && Catch::Contains(message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(system.loads.empty());
}

TEST_CASE("kdive-kexec --help lists every action with examples", "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  const auto r = run(tree, system, {"--help"});
  CHECK(r.status == 0);
  for (const char* word : {"-l KERNEL", "-p KERNEL", "-p -u", "-e", "--status", "--recommend", "--force",
                           "--reuse-cmdline", "--command-line", "--append", "Examples:", "kdive-kexec -p /boot"}) {
    CHECK_THAT(r.out, Catch::Contains(word));
  }
}

TEST_CASE("kdive-kexec -p loads and says which command line; an error is one line and exit 1", "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  const auto kernel = tree.write("/boot/vmlinuz", fake_bzimage());
  tree.write_state({.crash_size = "83886080\n", .cmdline = "root=/dev/vda crashkernel=80M\n"});
  auto r = run(tree, system, {"-s", "-p", kernel, "--append=panic=1"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK_THAT(r.out, Catch::Contains("as the crash kernel; command line: root=/dev/vda irqpoll nr_cpus=1 "
                                    "reset_devices panic=1"));
  REQUIRE(system.loads.size() == 1);

  tree.write("/sys/kernel/kexec_crash_size", "0\n");
  r = run(tree, system, {"-p", kernel});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::StartsWith("kdive-kexec: error: -p ") && Catch::Contains("no memory is reserved"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(system.loads.size() == 1);
}

TEST_CASE("kdive-kexec --status, -p -u and -u run their actions", "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  tree.write("/sys/kernel/kexec_crash_size", "0\n");
  auto r = run(tree, system, {"--status"});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("crash reservation:    none"));
  CHECK(run(tree, system, {"-p", "-u"}).status == 0);
  CHECK(run(tree, system, {"-u"}).status == 0);
  REQUIRE(system.loads.size() == 2);
  CHECK(system.loads[0].flags == (kKexecFileUnload | kKexecFileOnCrash));
  CHECK(system.loads[1].flags == kKexecFileUnload);
}

TEST_CASE("kdive-kexec --status --json and --recommend --json print one JSON object; a failure is an error object",
          "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  tree.write_state({.crash_loaded = "1\n", .crash_size = "100663296\n"});
  auto r = run(tree, system, {"--status", "--json"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  REQUIRE(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  auto json = nlohmann::json::parse(r.out);
  CHECK(json["command"] == "kdive-kexec --status");
  CHECK(json["result"]["crash_size"] == 100663296u);
  CHECK(json["result"]["crash_loaded"] == true);

  // --recommend without /proc/meminfo fails: the error as JSON, the line on stderr.
  r = run(tree, system, {"--recommend", "--json"});
  CHECK(r.status == 1);
  json = nlohmann::json::parse(r.out);
  CHECK(json["command"] == "kdive-kexec --recommend");
  CHECK_THAT(json["error"].get<std::string>(), Catch::Contains("/proc/meminfo"));
  CHECK_FALSE(json.contains("result"));
  CHECK_THAT(r.err, Catch::StartsWith("kdive-kexec: error: "));

  tree.write_state({.meminfo = "MemTotal: 786432 kB\n"});
  r = run(tree, system, {"--recommend", "--json"});
  CHECK(r.status == 0);
  json = nlohmann::json::parse(r.out);
  CHECK(json["result"]["ram"] == 768u << 20);
  CHECK(json["result"]["current"] == 100663296u);
  CHECK(json["result"]["crashkernel"] == "crashkernel=" + crashkernel_size(json["result"]["recommended"]));
}
