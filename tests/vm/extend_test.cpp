// Extensions on real crashed kernels: the openfiles sample, loaded with extend
// in text and JSON mode, against the open fds the guest listed in its truth.
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;

namespace {

const std::string kOpenfiles = KDIVE_OPENFILES_EXTENSION;

// pid -> number of open fds, from the truth's `fd` records (the workload
// processes: their fds do not change after the truth is printed).
std::map<int64_t, int> truth_fd_counts(const Truth& truth) {
  std::map<int64_t, int> counts;
  for (const TruthFd& fd : truth.fds) ++counts[fd.pid];
  return counts;
}

struct Row {
  std::string comm;
  int files;
};

}  // namespace

TEST_CASE("openfiles, loaded with extend, counts each task's open files as /proc did", "[extend]") {
  const std::string s = suite();
  Truth truth = Truth::load(fixture_dir(s) / "truth.txt");
  auto expected = truth_fd_counts(truth);
  REQUIRE(expected.count(truth.role("files")) == 1);
  REQUIRE(expected.at(truth.role("files")) > 3);  // the files workload holds more than stdio

  KdiveRun r = run_kdive(s, "kdump-zlib", "extend " + kOpenfiles + "; openfiles -u; extend -u openfiles");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() >= 3);
  CHECK(lines.front() == kOpenfiles + ": shared object loaded");
  CHECK(lines.back() == kOpenfiles + ": shared object unloaded");
  CHECK(std::regex_match(lines[1], std::regex(R"( +PID +COMM +FILES)")));

  std::map<int64_t, Row> rows;
  std::regex row_re(R"( *(\d+) +(\S+) +(\d+))");
  for (const auto& line : lines) {
    std::smatch m;
    if (std::regex_match(line, m, row_re)) rows[std::stoll(m[1])] = {m[2], std::stoi(m[3])};
  }
  for (const auto& [pid, count] : expected) {
    INFO("pid " << pid);
    REQUIRE(rows.count(pid) == 1);
    CHECK(rows[pid].files == count);
    CHECK(rows[pid].comm == truth.task(pid)->comm);
  }
  // Threads share their process's files_struct: each shows the leader's count.
  const int64_t threaded = truth.role("threaded");
  int threads = 0;
  for (const TruthTask& t : truth.tasks) {
    if (t.tgid != threaded) continue;
    INFO("thread " << t.pid);
    REQUIRE(rows.count(t.pid) == 1);
    CHECK(rows[t.pid].files == expected.at(threaded));
    ++threads;
  }
  CHECK(threads == truth.threads.at(threaded));
  // -u: no kernel thread (kthreadd, pid 2, is one on every kernel).
  CHECK(rows.count(2) == 0);
}

TEST_CASE("openfiles in JSON, loaded by name from beside the kdive binary", "[extend]") {
  const std::string s = suite();
  Truth truth = Truth::load(fixture_dir(s) / "truth.txt");
  auto expected = truth_fd_counts(truth);

  std::string pids;
  for (const auto& [pid, count] : expected) pids += " " + std::to_string(pid);
  KdiveRun r =
      run_kdive_args("--json -b -c 'extend openfiles.so; openfiles" + pids + "; extend' '" +
                     (fixture_dir(s) / "vmlinux").string() + "' '" + (fixture_dir(s) / "vmcore.elf").string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 3);
  auto loaded = nlohmann::json::parse(lines[0]);
  auto counted = nlohmann::json::parse(lines[1]);
  auto listed = nlohmann::json::parse(lines[2]);

  REQUIRE(loaded["result"].size() == 1);
  const auto& extension = loaded["result"][0];
  CHECK(std::filesystem::equivalent(extension["file"].get<std::string>(), kOpenfiles));
  CHECK(extension["name"] == "openfiles");
  CHECK(extension["api_version"].is_number_unsigned());
  CHECK(extension["commands"] == nlohmann::json::array({"openfiles"}));
  CHECK(listed["result"] == loaded["result"]);

  CHECK(counted["command"] == "openfiles" + pids);
  REQUIRE(counted.contains("result"));
  REQUIRE(counted["result"].size() == expected.size());
  for (const auto& row : counted["result"]) {
    int64_t pid = row["pid"];
    INFO("pid " << pid);
    REQUIRE(expected.count(pid) == 1);
    CHECK(row["files"] == expected.at(pid));
    CHECK(row["comm"] == truth.task(pid)->comm);
    // A CPU, not the truth's: a task may migrate after the truth is printed
    // (bookworm-oom's allocation phase runs after it).
    CHECK(row["cpu"].get<int>() >= 0);
    CHECK(row["cpu"].get<int>() < truth.cpus);
    CHECK(std::regex_match(row["task"].get<std::string>(), std::regex("0x[0-9a-f]{16}")));
  }
}

TEST_CASE("a refused shared object is one line on stderr, and the batch goes on", "[extend]") {
  const std::string s = suite();
  const auto dir = fixture_dir(s);
  const std::string text_file = (dir / "truth.txt").string();
  const std::string wrong = KDIVE_WRONG_VERSION_EXTENSION;
  const std::string executable = (dir / "vmlinux").string();
  KdiveRun r = run_kdive(s, "elf",
                         "extend " + text_file + "; extend " + wrong + "; extend " + executable +
                             "; extend openfiles.so; openfiles 1; extend");
  CHECK(r.status == 1);  // batch: a command failed
  auto errors = lines_of(r.err);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "extend: " + text_file + ": not an ELF shared object");
  // The test extension says it was built for the version after kdive's.
  std::smatch version;
  REQUIRE(std::regex_match(errors[1], version,
                           std::regex("extend: (.*): built for extension API version (\\d+); this kdive has "
                                      "version (\\d+) \\(rebuild it\\)")));
  CHECK(version[1] == wrong);
  CHECK(std::stoi(version[2]) == std::stoi(version[3]) + 1);
  // An ELF executable: the cause is dlopen's own words, which vary with the C library.
  CHECK(errors[2].rfind("extend: " + executable + ": ", 0) == 0);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == kOpenfiles + ": shared object loaded");
  CHECK(std::regex_match(lines[2], std::regex(R"( +1 +\S+ +\d+)")));
  CHECK(std::regex_match(
      lines[4],
      std::regex(std::regex_replace(kOpenfiles, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + " +openfiles")));
}
