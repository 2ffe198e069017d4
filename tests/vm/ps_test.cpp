// ps on real crashed kernels against the guest's own task list (/proc), taken
// moments before the crash.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;

namespace {

struct PsRow {
  bool active;
  int64_t pid, ppid;
  int cpu;
  std::string task, state;
  double mem;
  uint64_t vsz, rss;
  std::string comm;
  bool kernel_thread;
};

std::vector<PsRow> parse_ps(const std::string& out) {
  std::vector<PsRow> rows;
  std::istringstream in(out);
  std::string line;
  std::regex re(R"(^([ >]) +(\d+) +(\d+) +(\d+) +([0-9a-f]{16}) +([A-Z?]{2}) +([0-9.]+) +(\d+) +(\d+) +(.*)$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, re)) continue;
    std::string comm = m[10];
    bool kthread = comm.size() > 2 && comm.front() == '[' && comm.back() == ']';
    if (kthread) comm = comm.substr(1, comm.size() - 2);
    rows.push_back({m[1] == ">", std::stoll(m[2]), std::stoll(m[3]), std::stoi(m[4]), m[5], m[6], std::stod(m[7]),
                    std::stoull(m[8]), std::stoull(m[9]), comm, kthread});
  }
  return rows;
}

// /proc shows a kworker's current work after a '-' ("kworker/0:1-events"),
// and a kernel thread's full name where task->comm keeps 15 characters
// ("rcu_tasks_kthread" vs "rcu_tasks_kthre"). Kworkers also come and go.
bool is_kworker(const std::string& comm) { return comm.rfind("kworker/", 0) == 0; }
bool same_comm(const std::string& dump, const std::string& proc) {
  if (dump == proc) return true;
  if (is_kworker(dump) && proc.rfind(dump + "-", 0) == 0) return true;
  return dump.size() == 15 && proc.rfind(dump, 0) == 0;
}

}  // namespace

TEST_CASE("ps lists exactly the guest's tasks", "[ps]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  KdiveRun r = run_kdive(suite(), "elf", "ps");
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  auto rows = parse_ps(r.out);
  std::map<int64_t, const PsRow*> by_pid;
  int idle = 0;
  for (const auto& row : rows) {
    if (row.pid == 0) {
      ++idle;
      CHECK(row.comm == "swapper/" + std::to_string(row.cpu));
    } else {
      CHECK(by_pid.emplace(row.pid, &row).second);
    }
  }
  CHECK(idle == t.cpus);

  for (const auto& task : t.tasks) {
    INFO("truth task " << task.pid << " " << task.comm);
    auto it = by_pid.find(task.pid);
    if (it == by_pid.end()) {
      CHECK(is_kworker(task.comm));  // only a kworker may have exited since the snapshot
      continue;
    }
    CHECK(same_comm(it->second->comm, task.comm));
    CHECK(it->second->ppid == task.ppid);
  }
  for (const auto& [pid, row] : by_pid) {
    INFO("ps task " << pid << " " << row->comm);
    if (!t.task(pid)) CHECK(is_kworker(row->comm));  // only a kworker may have appeared since
  }
}

TEST_CASE("ps shows the workload's threads, states, CPUs and memory", "[ps]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  KdiveRun r = run_kdive(suite(), "elf", "ps");
  auto rows = parse_ps(r.out);
  auto row = [&](int64_t pid) -> const PsRow& {
    for (const auto& x : rows) {
      if (x.pid == pid) return x;
    }
    FAIL("pid " << pid << " not in ps output");
    throw;
  };

  const int64_t threaded = t.role("threaded");
  int threads = 0;
  for (const auto& x : rows) threads += x.comm.rfind("kd-worker-", 0) == 0 || x.pid == threaded;
  CHECK(threads == t.threads.at(threaded));
  KdiveRun g = run_kdive(suite(), "elf", "ps -g " + std::to_string(threaded));
  CHECK(std::count(g.out.begin(), g.out.end(), '\n') == t.threads.at(threaded));

  for (const char* role : {"threaded", "sleeper", "busy", "files"}) {
    int64_t pid = t.role(role);
    INFO(role << " " << pid);
    const PsRow& x = row(pid);
    CHECK(x.state == ps_state_code(t.task(pid)->state));
    CHECK(x.cpu == t.task_cpu.at(pid));
    CHECK_FALSE(x.kernel_thread);
    if (!t.status.empty()) {
      CHECK(x.vsz == t.status.at(pid).at("VmSize"));
      // The page-table walk of smaps_rollup, not the lagging VmRSS counter: kdive
      // folds in the per-thread RSS deltas (crash 8.0.2 does not and shows far less).
      CHECK(x.rss == t.status.at(pid).at("SmapsRss"));
    }
  }
  // The busy loop runs on CPU 1 when the other CPU crashes; the crashing shell on CPU 0.
  CHECK(row(t.role("busy")).active);
  CHECK(row(t.role("busy")).cpu == 1);
  if (suite() == "bookworm-oom") {
    const PsRow& oom = row(t.role("oom"));
    CHECK(oom.comm == "kd-oom");
    CHECK(oom.mem > 50.0);        // the culprit holds most of memory
  } else if (t.panic_idle_cpu) {  // bookworm-irq: that CPU's idle task was interrupted and panicked
    const auto idle = std::find_if(rows.begin(), rows.end(),
                                   [&](const PsRow& x) { return x.pid == 0 && x.cpu == *t.panic_idle_cpu; });
    REQUIRE(idle != rows.end());
    CHECK(idle->active);
    CHECK(idle->comm == "swapper/" + std::to_string(*t.panic_idle_cpu));
  } else {
    CHECK(row(t.role("panic")).active);
    CHECK(row(t.role("panic")).cpu == 0);
  }
  CHECK(row(2).kernel_thread);
  CHECK(row(2).comm == "kthreadd");
}

TEST_CASE("ps selectors and summaries", "[ps]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  KdiveRun byname = run_kdive(suite(), "elf", "ps kd-sleeper");
  auto rows = parse_ps(byname.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].pid == sleeper);

  KdiveRun bytask = run_kdive(suite(), "elf", "ps " + rows[0].task);
  REQUIRE(parse_ps(bytask.out).size() == 1);
  CHECK(parse_ps(bytask.out)[0].pid == sleeper);

  KdiveRun user = run_kdive(suite(), "elf", "ps -u");
  for (const auto& x : parse_ps(user.out)) CHECK_FALSE(x.kernel_thread);
  KdiveRun kernel = run_kdive(suite(), "elf", "ps -k");
  for (const auto& x : parse_ps(kernel.out)) CHECK(x.kernel_thread);
  CHECK(parse_ps(user.out).size() + parse_ps(kernel.out).size() ==
        parse_ps(run_kdive(suite(), "elf", "ps").out).size());

  KdiveRun active = run_kdive(suite(), "elf", "ps -A");
  CHECK(parse_ps(active.out).size() == static_cast<size_t>(t.cpus));

  KdiveRun ancestry = run_kdive(suite(), "elf", "ps -p " + std::to_string(sleeper));
  CHECK(ancestry.out.find("PID: 0 ") != std::string::npos);
  CHECK(ancestry.out.find("  PID: " + std::to_string(sleeper)) != std::string::npos);

  KdiveRun args = run_kdive(suite(), "elf", "ps -a " + std::to_string(t.role("files")));
  CHECK(args.out.find("ARG: /bin/workload files") != std::string::npos);

  KdiveRun bad = run_kdive(suite(), "elf", "ps 99999");
  CHECK(bad.status == 1);
  CHECK(bad.err == "ps: no task matches '99999'\n");
}
