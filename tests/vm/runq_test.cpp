// runq on real crashed kernels: each CPU's running task is the one ps marks
// active on that CPU (and the CPU the guest last saw it on), the busy workload
// is running or queued, the JSON result says the same, and on bullseye the
// text matches the crash utility line by line.
#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "crash_compare.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

struct Running {
  int64_t pid;
  uint64_t task;
};

// ps's active tasks: lines marked '>' (ST PID PPID CPU TASK ...), by CPU.
std::map<int, Running> ps_active() {
  static const std::regex row(R"(^> +(\d+) +\d+ +(\d+) +([0-9a-f]{16}) .*)");
  std::map<int, Running> out;
  for (const std::string& line : lines_of(kdive_ok("ps"))) {
    std::smatch m;
    if (std::regex_match(line, m, row)) {
      out[std::stoi(m[2])] = {std::stoll(m[1]), std::stoull(m[3], nullptr, 16)};
    }
  }
  return out;
}

// Every task pid in a runq JSON cfs queue, groups included.
void cfs_pids(const json& cfs, std::vector<int64_t>& out) {
  for (const json& e : cfs["entities"]) {
    if (e.contains("group")) {
      cfs_pids(e["group"], out);
    } else if (e["pid"].is_number()) {
      out.push_back(e["pid"].get<int64_t>());
    }
  }
}

}  // namespace

TEST_CASE("runq: each CPU's current task is the one ps marks running there", "[runq]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::map<int, Running> active = ps_active();
  REQUIRE(static_cast<int>(active.size()) == t.cpus);

  static const std::regex cpu_line(R"(^CPU (\d+) RUNQUEUE: ([0-9a-f]{16})$)");
  static const std::regex current(R"(^  CURRENT: PID: (\d+) +TASK: ([0-9a-f]{16})  COMMAND: ".*"$)");
  const std::vector<std::string> lines = lines_of(kdive_ok("runq"));
  int cpus_seen = 0;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch c, cur;
    if (!std::regex_match(lines[i], c, cpu_line)) continue;
    ++cpus_seen;
    const int cpu = std::stoi(c[1]);
    INFO(lines[i] << "\n" << lines[i + 1]);
    REQUIRE(std::regex_match(lines[i + 1], cur, current));
    REQUIRE(active.count(cpu) == 1);
    CHECK(std::stoll(cur[1]) == active.at(cpu).pid);
    CHECK(std::stoull(cur[2], nullptr, 16) == active.at(cpu).task);
    // The guest's own view: the CPU it last ran on (idle tasks are not in the truth).
    const int64_t pid = std::stoll(cur[1]);
    if (pid != 0 && t.task_cpu.count(pid)) CHECK(t.task_cpu.at(pid) == cpu);
  }
  CHECK(cpus_seen == t.cpus);

  // runq -c picks one CPU: the same runqueue and running task.
  const std::vector<std::string> one = lines_of(kdive_ok("runq -c " + std::to_string(t.cpus - 1)));
  REQUIRE(one.size() >= 2);
  std::smatch c, cur;
  REQUIRE(std::regex_match(one[0], c, cpu_line));
  CHECK(std::stoi(c[1]) == t.cpus - 1);
  REQUIRE(std::regex_match(one[1], cur, current));
  CHECK(std::stoll(cur[1]) == active.at(t.cpus - 1).pid);
}

TEST_CASE("runq: the busy workload is running or queued", "[runq]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t busy = t.role("busy");
  const json r = json_result_of(suite(), "runq");
  REQUIRE(r["cpus"].size() == static_cast<size_t>(t.cpus));
  bool found = false;
  for (const json& cpu : r["cpus"]) {
    REQUIRE_FALSE(cpu.contains("error"));
    if (cpu["current"]["pid"] == busy) found = true;
    std::vector<int64_t> pids;
    cfs_pids(cpu["cfs"], pids);
    for (const json& q : cpu["rt"]) pids.push_back(q["pid"].get<int64_t>());
    if (std::find(pids.begin(), pids.end(), busy) != pids.end()) found = true;
    CHECK(cpu["cfs"]["breaks"].empty());
    CHECK(cpu["rt_breaks"].empty());
  }
  CHECK(found);

  // The text says the same: the busy pid on a CURRENT line or a queue line.
  const std::regex busy_line(".*PID: " + std::to_string(busy) + " .*");
  bool in_text = false;
  for (const std::string& line : lines_of(kdive_ok("runq"))) {
    if (std::regex_match(line, busy_line)) in_text = true;
  }
  CHECK(in_text);
}

TEST_CASE("runq JSON: the same runqueues and running tasks as the text", "[runq]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const json r = json_result_of(suite(), "runq");
  for (const char* key : {"eevdf", "by_deadline", "root_task_group", "cpus"}) REQUIRE(r.contains(key));
  const std::map<int, Running> active = ps_active();
  for (const json& cpu : r["cpus"]) {
    for (const char* key : {"cpu", "runqueue", "current", "clock", "rt_prio_array", "rt", "cfs_rb_root", "cfs"}) {
      REQUIRE(cpu.contains(key));
    }
    const int n = cpu["cpu"].get<int>();
    CHECK(json_hex(cpu["current"]["task"]) == active.at(n).task);
    CHECK(cpu["current"]["pid"] == active.at(n).pid);
    // A CPU's clock is past the moment its running task went on it.
    CHECK(json_hex(cpu["clock"]) >= json_hex(cpu["current"]["last_arrival"]));
    // The tree's root sits in the runqueue's own cfs_rq.
    CHECK(json_hex(cpu["cfs_rb_root"]) > json_hex(cpu["runqueue"]));
  }
  // EEVDF from 6.6, the tree keyed by deadline from 6.8: trixie's 6.12 has
  // both, bullseye's 5.10 and bookworm's 6.1 neither.
  const bool eevdf_kernel = t.release.rfind("6.12", 0) == 0;
  CHECK(r["eevdf"] == eevdf_kernel);
  CHECK(r["by_deadline"] == eevdf_kernel);
}

// ---- crash, line by line (bullseye) ----

TEST_CASE("runq matches crash line by line", "[runq]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  compare_with_crash({"runq", "runq -t", "runq -T", "runq -m", "runq -g", "runq -c 1", "runq -t -c 0"});
}
