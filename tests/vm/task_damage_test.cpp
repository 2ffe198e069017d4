// Task enumeration over a damaged dump: one kernel object is broken on purpose
// in a copy of the fixture (dump_edit.hpp) and kdive must still list every
// other task the guest had, mark the damaged one, and say data was lost
// (batch exit status 3). Each case checks both halves against truth.txt.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "dump_edit.hpp"
#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Catch::Matchers::Contains;
using kdive::VirtAddr;

namespace {

struct PsJson {
  std::map<int64_t, nlohmann::json> sound;    // pid -> row (idle tasks left out: pid 0 repeats)
  std::map<int64_t, nlohmann::json> damaged;  // pid -> row with "error"
  nlohmann::json envelope;
};

PsJson ps_json(const KdiveRun& r) {
  PsJson p;
  p.envelope = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(p.envelope.is_discarded());
  REQUIRE(p.envelope.contains("result"));
  for (const auto& row : p.envelope["result"]) {
    const int64_t pid = row["pid"].get<int64_t>();
    if (row.contains("error")) {
      p.damaged[pid] = row;
    } else if (pid != 0) {
      p.sound[pid] = row;
    }
  }
  return p;
}

// Every task of the guest that is not `except` is listed soundly. Only a
// kworker may have exited between the guest's snapshot and the crash.
void check_every_other_task(const Truth& t, const PsJson& p, std::set<int64_t> except) {
  for (const auto& task : t.tasks) {
    if (except.count(task.pid)) continue;
    INFO("truth task " << task.pid << " " << task.comm);
    if (task.comm.rfind("kworker/", 0) == 0 && !p.sound.count(task.pid)) continue;
    REQUIRE(p.sound.count(task.pid) == 1);
    CHECK(p.sound.at(task.pid)["ppid"].get<int64_t>() == task.ppid);
  }
}

// The last worker thread of the "threaded" process: a thread, not its leader.
int64_t a_worker_thread(const Truth& t) {
  const int64_t leader = t.role("threaded");
  int64_t worker = 0;
  for (const auto& task : t.tasks) {
    if (task.tgid == leader && task.pid != leader) worker = task.pid;
  }
  REQUIRE(worker != 0);
  return worker;
}

// A copy of the fixture with one worker thread's whole task_struct zeroed.
struct ZeroedWorker {
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  int64_t pid = a_worker_thread(truth);
  VirtAddr task = task_address(suite(), pid);
  DamagedDump dump = DamagedDump::copy_of(suite());

  ZeroedWorker() { dump.zero(task, type_size(suite(), "struct task_struct")); }
};

}  // namespace

TEST_CASE("one zeroed worker task_struct: every other task is listed, that one marked", "[task_damage]") {
  ZeroedWorker z;
  const Truth& t = z.truth;
  const int64_t worker = z.pid;
  const VirtAddr task = z.task;
  DamagedDump& d = z.dump;

  KdiveRun r = d.run("ps", "--json");
  CHECK(r.status == kDataLost);
  PsJson p = ps_json(r);
  check_every_other_task(t, p, {worker});
  // The four undamaged threads of its process are all there.
  int threads = 0;
  for (const auto& [pid, row] : p.sound) threads += t.task(pid) && t.task(pid)->tgid == t.role("threaded");
  CHECK(threads == t.threads.at(t.role("threaded")) - 1);
  // The damaged one: its pid (from the PID IDR) and address, with the failed check.
  REQUIRE(p.damaged.count(worker) == 1);
  CHECK(p.damaged.at(worker)["task"] == fmt::format("{:#x}", task.value()));
  CHECK(p.damaged.at(worker)["error"] == fmt::format("pid 0 in task_struct, IDR says {}", worker));

  KdiveRun text = d.run("ps");
  CHECK(text.status == kDataLost);
  CHECK_THAT(text.out,
             Contains(fmt::format("{:016x}  (damaged: pid 0 in task_struct, IDR says {})", task.value(), worker)));
  CHECK_THAT(text.out + text.err, Contains("1 of"));
}

TEST_CASE("foreach files over a zeroed task covers every other task", "[task_damage]") {
  ZeroedWorker z;
  const Truth& t = z.truth;
  const int64_t worker = z.pid;
  DamagedDump& d = z.dump;

  KdiveRun r = d.run("foreach files", "--json");
  CHECK(r.status == kDataLost);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.contains("result"));
  std::map<int64_t, nlohmann::json> entries;
  for (const auto& e : j["result"]) {
    if (e["pid"].get<int64_t>() != 0) entries[e["pid"].get<int64_t>()] = e;
  }
  REQUIRE(entries.count(worker) == 1);
  CHECK(entries.at(worker).contains("error"));
  // Each truth fd of every other task is among its files.
  std::map<int64_t, std::set<int>> truth_fds;
  for (const auto& fd : t.fds) truth_fds[fd.pid].insert(fd.fd);
  for (const auto& [pid, fds] : truth_fds) {
    if (pid == worker) continue;
    INFO("pid " << pid);
    REQUIRE(entries.count(pid) == 1);
    REQUIRE(entries.at(pid).contains("result"));
    std::set<int> listed;
    for (const auto& f : entries.at(pid)["result"][0]["fds"]) listed.insert(f["fd"].get<int>());
    for (int fd : fds) CHECK(listed.count(fd) == 1);
  }
}

TEST_CASE("a tasks list pointer turned into a cycle: every task is still listed, the break reported", "[task_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The sleeper's tasks.next is pointed back at init's (pid 1) tasks link, an
  // earlier element: the list now loops without returning to its head.
  const uint64_t tasks_offset = member_offset(suite(), "struct task_struct", "tasks");
  const VirtAddr sleeper = task_address(suite(), t.role("sleeper"));
  const VirtAddr init = task_address(suite(), 1);
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(sleeper + tasks_offset, (init + tasks_offset).value());

  KdiveRun r = d.run("ps", "--json");
  CHECK(r.status == kDataLost);
  PsJson p = ps_json(r);
  check_every_other_task(t, p, {});
  CHECK(p.damaged.empty());
  REQUIRE(p.envelope.contains("warnings"));
  CHECK_THAT(p.envelope["warnings"].dump(), Contains("process list") && Contains("comes back to"));

  // list -B measures the loop: from init to the sleeper in the sound list's
  // order; before it come the head (where the walk starts; list -H does not
  // show it) and the entries before init.
  KdiveRun sound = run_kdive(suite(), "elf", "list -H init_task.tasks");
  REQUIRE(sound.status == 0);
  const auto links = lines_of(sound.out);
  auto index_of = [&](VirtAddr task) {
    auto at = std::find(links.begin(), links.end(), fmt::format("{:x}", (task + tasks_offset).value()));
    REQUIRE(at != links.end());
    return static_cast<uint64_t>(at - links.begin());
  };
  const uint64_t first = index_of(init);
  const uint64_t last = index_of(sleeper);
  REQUIRE(last > first);
  KdiveRun loop = d.run("list -B -H init_task.tasks");
  CHECK(loop.status == kDataLost);
  CHECK_THAT(loop.out, Contains(fmt::format("list: loop detected, loop length: {}; length from start to loop: {}",
                                            last - first + 1, first + 1)));
  // A sound list through its own head is no loop.
  KdiveRun whole = run_kdive(suite(), "elf", "list -B -H init_task.tasks");
  CHECK(whole.status == 0);
  CHECK(whole.out.find("loop") == std::string::npos);
}

TEST_CASE("one zeroed PID IDR node: every task is still listed through the lists, the damage reported",
          "[task_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The XArray node under init_pid_ns.idr holding the threaded workload's pid:
  // the root node's slot for it (an internal entry: node address | 2).
  const int64_t pid = t.role("threaded");
  const uint64_t head = print_value(suite(), "init_pid_ns.idr.idr_rt.xa_head");
  REQUIRE((head & 3) == 2);
  const uint64_t root = head - 2;
  const uint64_t shift = print_value(suite(), fmt::format("((struct xa_node *){:#x})->shift", root));
  REQUIRE(shift == 6);  // two levels: pids below 4096, as in every fixture
  const uint64_t slot = static_cast<uint64_t>(pid) >> shift;
  const uint64_t leaf = print_value(suite(), fmt::format("((struct xa_node *){:#x})->slots[{}]", root, slot)) - 2;
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(VirtAddr{leaf}, type_size(suite(), "struct xa_node"));

  KdiveRun r = d.run("ps", "--json");
  CHECK(r.status == kDataLost);
  PsJson p = ps_json(r);
  check_every_other_task(t, p, {});
  REQUIRE(p.envelope.contains("warnings"));
  CHECK_THAT(p.envelope["warnings"].dump(), Contains("PID IDR") && Contains(fmt::format("{:x}", leaf)));
}

TEST_CASE("a runqueue's curr pointing at kernel text is no task: marked, everything else listed", "[task_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const VirtAddr curr = per_cpu_address(suite(), "runqueues", 0) + member_offset(suite(), "struct rq", "curr");
  const VirtAddr banner = symbol_address(suite(), "linux_banner");  // readable, but no task_struct
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(curr, banner.value());

  KdiveRun r = d.run("ps", "--json");
  CHECK(r.status == kDataLost);
  PsJson p = ps_json(r);
  check_every_other_task(t, p, {});
  REQUIRE(p.damaged.size() == 1);
  const nlohmann::json& row = p.damaged.begin()->second;
  CHECK(row["task"] == fmt::format("{:#x}", banner.value()));
  CHECK_THAT(row["error"].get<std::string>(), Contains("not a task_struct address"));
}
