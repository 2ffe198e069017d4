// The JSON results of ps, sys, mod, files, log and sym on real crashed kernels,
// parsed with a real JSON parser and checked against the guest's own view
// (truth.txt) and its console, as a script reading `kdive --json` would use
// them.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "console_log.hpp"
#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct JsonRun {
  int status;
  std::vector<json> lines;  // one per command run
  std::string err;
};

// `kdive --json -b -c COMMANDS` on the suite's dump; every line of its output
// must parse as one JSON object.
JsonRun run_json(const std::string& commands, const std::string& format = "elf") {
  auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + quoted(commands) + " " + quoted((dir / "vmlinux").string()) + " " +
                              quoted((dir / ("vmcore." + format)).string()));
  JsonRun out{r.status, {}, r.err};
  for (const std::string& line : lines_of(r.out)) {
    INFO("not a JSON line: " << line);
    json j;
    REQUIRE_NOTHROW(j = json::parse(line));
    REQUIRE(j.is_object());
    out.lines.push_back(std::move(j));
  }
  return out;
}

// The result of a single command that must succeed.
json result_of(const std::string& command, const std::string& format = "elf") {
  JsonRun r = run_json(command, format);
  INFO(command << " stderr: " << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0]["command"] == command);
  REQUIRE(r.lines[0].contains("result"));
  return r.lines[0]["result"];
}

uint64_t hex(const json& j) {
  REQUIRE(j.is_string());
  const std::string s = j.get<std::string>();
  REQUIRE(s.rfind("0x", 0) == 0);
  return std::stoull(s, nullptr, 16);
}

// The same comparison rules as ps_test: /proc shows a kworker's current work
// after its name ("kworker/0:1-events", README: compare up to the first + or -
// after "kworker/"), and the full name of a kernel thread whose task->comm
// keeps 15 characters. Kworkers also come and go in the seconds before the
// crash.
bool is_kworker(const std::string& comm) { return comm.rfind("kworker/", 0) == 0; }
bool same_comm(const std::string& dump, const std::string& proc) {
  if (dump == proc) return true;
  if (dump.size() == 15 && proc.rfind(dump, 0) == 0) return true;
  auto kworker_name = [](const std::string& comm) { return comm.substr(0, comm.find_first_of("+-", 8)); };
  return is_kworker(proc) && kworker_name(dump) == kworker_name(proc);
}

}  // namespace

TEST_CASE("ps in JSON: every task of the guest with its parent, CPU, state and name", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  json ps = result_of("ps", "kdump-zlib");
  REQUIRE(ps.is_array());
  std::map<int64_t, json> by_pid;
  int idle = 0;
  for (const json& row : ps) {
    for (const char* key : {"pid", "ppid", "cpu", "task", "state", "comm", "active", "kernel_thread"})
      REQUIRE(row.contains(key));
    CHECK(hex(row["task"]) >= 0xff00000000000000ull);
    if (row["pid"] == 0) {
      ++idle;
      CHECK(row["comm"] == "swapper/" + std::to_string(row["cpu"].get<int>()));
    } else {
      CHECK(by_pid.emplace(row["pid"].get<int64_t>(), row).second);
    }
  }
  CHECK(idle == t.cpus);

  std::set<int64_t> settled_groups = {t.role("threaded"), t.role("sleeper"), t.role("busy"), t.role("files")};
  if (t.roles.count("panic")) settled_groups.insert(t.role("panic"));
  for (const TruthTask& task : t.tasks) {
    INFO("truth task " << task.pid << " " << task.comm << " " << task.state);
    auto it = by_pid.find(task.pid);
    if (it == by_pid.end()) {
      CHECK(is_kworker(task.comm));  // only a kworker may have exited since the snapshot
      continue;
    }
    const json& row = it->second;
    CHECK(same_comm(row["comm"], task.comm));
    CHECK(row["ppid"] == task.ppid);
    CHECK(row["kernel_thread"] == (task.ppid == 2 || task.pid == 2));
    // The snapshot is the panic shell's last act before the crash, and only
    // shell builtins run after it (README): the workloads and that shell keep
    // their state and CPU. Kernel threads may still wake and migrate in the
    // ~3 s the console drains, and on the OOM suite pid 1 prints the snapshot
    // before the allocation starts, so those are not compared.
    const bool settled = settled_groups.count(task.tgid) != 0;
    if (settled) {
      CHECK(row["state"] == ps_state_code(task.state));
      CHECK(row["cpu"] == t.task_cpu.at(task.pid));
    }
  }
  for (const auto& [pid, row] : by_pid) {
    INFO("ps task " << pid << " " << row["comm"]);
    if (!t.task(pid)) CHECK(is_kworker(row["comm"]));  // only a kworker may have appeared since
  }
  // kd-busy spins on CPU 1 when CPU 0 crashes: it was running there.
  CHECK(by_pid.at(t.role("busy"))["active"] == true);
}

TEST_CASE("sys in JSON agrees with the guest", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  json sys = result_of("sys");
  REQUIRE(sys.is_object());

  CHECK(sys["release"] == t.release);
  REQUIRE(sys["version"].is_string());
  CHECK(t.version.find(sys["version"].get<std::string>()) != std::string::npos);
  // uname -a: "Linux <nodename> <release> ...".
  std::istringstream uname(t.uname);
  std::string sysname, nodename;
  uname >> sysname >> nodename;
  CHECK(sys["nodename"] == nodename);
  CHECK(sys["cpus"] == t.cpus);
  CHECK(sys["machine"] == "x86_64");
  CHECK(sys["live"] == false);
  REQUIRE(sys["dumpfile"].is_array());
  CHECK(sys["dumpfile"].size() == 1);

  // TASKS: every thread /proc listed plus one idle task per CPU (README);
  // kworkers may come and go in the seconds the console drains, so the count
  // may differ by at most the kworkers kdive's own ps lists, and equals its rows.
  json ps = result_of("ps");
  int64_t kworkers = 0;
  for (const json& row : ps) kworkers += is_kworker(row["comm"].get<std::string>());
  const int64_t tasks = sys["tasks"].get<int64_t>();
  CHECK(tasks == static_cast<int64_t>(ps.size()));
  const int64_t expected = static_cast<int64_t>(t.tasks.size()) + t.cpus;
  INFO("tasks " << tasks << ", truth task lines + CPUs " << expected << ", kworkers " << kworkers);
  CHECK(std::llabs(tasks - expected) <= kworkers);

  // MEMORY is the RAM the firmware gave; MemTotal is that less what the kernel
  // reserved for itself at boot (sys_test's bounds).
  const double memtotal = static_cast<double>(t.meminfo.at("MemTotal")) * 1024;
  const double memory = sys["memory"].get<double>();
  CHECK(memory >= memtotal);
  CHECK(memory <= memtotal * 1.25);

  // The panic message: the last panic line the console printed.
  std::string panic;
  for (const auto& c : console_kernel_lines(fixture_dir(suite()))) {
    if (c.text.rfind("Kernel panic - not syncing", 0) == 0) panic = c.text;
  }
  CHECK(sys["panic"] == panic);

  // Uptime and date against what the guest read before the crash: sys_test's
  // bounds. The panic came after the guest read its clocks, at the panic's
  // printk stamp: seconds later in the sysrq suites, but bookworm-oom
  // allocates until the OOM killer gives up, which takes as long as the host
  // lets it. The emulated clocks drift apart by up to 10% (trixie's wall clock
  // gains ~4 s on the printk clock in 57 s).
  REQUIRE(t.uptime_seconds);
  REQUIRE(t.date_epoch);
  const std::optional<double> panic_at = panic_stamp(fixture_dir(suite()));
  REQUIRE(panic_at);
  const double slack = std::max(3.0, *panic_at * 0.10);
  const double uptime = sys["uptime"].get<double>();
  INFO("uptime " << uptime << " s, the guest's " << *t.uptime_seconds << " s, panic stamp " << *panic_at << " s");
  CHECK(uptime >= std::floor(*t.uptime_seconds) - 1);
  CHECK(uptime <= *panic_at + slack);
  const double crash_time = sys["crash_time"].get<double>();
  INFO("crash_time " << crash_time << ", the guest's date " << *t.date_epoch);
  CHECK(crash_time >= static_cast<double>(*t.date_epoch) - 1);
  CHECK(crash_time <= static_cast<double>(*t.date_epoch) + (*panic_at - *t.uptime_seconds) + slack);
  // date is the same moment as text (the tests run in UTC, like the guest).
  std::tm tm{};
  const std::string date = sys["date"].get<std::string>();
  REQUIRE(strptime(date.c_str(), "%a %b %e %H:%M:%S %Z %Y", &tm) != nullptr);
  CHECK(static_cast<double>(timegm(&tm)) == crash_time);

  REQUIRE(sys["load_average"].is_array());
  CHECK(sys["load_average"].size() == 3);
}

TEST_CASE("mod in JSON: every module of /proc/modules with its size and address", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE_FALSE(t.modules.empty());
  json mods = result_of("mod", "kdump-zlib");
  REQUIRE(mods.is_array());
  CHECK(mods.size() == t.modules.size());
  std::map<std::string, json> by_name;
  for (const json& m : mods) by_name[m["name"].get<std::string>()] = m;
  for (const TruthModule& tm : t.modules) {
    INFO("module " << tm.name);
    REQUIRE(by_name.count(tm.name));
    const json& m = by_name[tm.name];
    CHECK(m["size"] == tm.size);
    CHECK(hex(m["base"]) == tm.address);
    // struct module is in the module's own memory, in the module mapping
    // space [MODULES_VADDR, MODULES_END) (arch/x86/include/asm/pgtable_64_types.h:
    // right above the 1 GiB kernel image mapping, up to the fixmap).
    CHECK(hex(m["module"]) >= 0xffffffffc0000000ull);
    CHECK(hex(m["module"]) < 0xffffffffff000000ull);
    CHECK(m["objfile"].is_null());  // nothing loaded yet: the kernel's own symbols
  }
}

TEST_CASE("files in JSON: each workload's descriptors and their paths", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  std::map<int64_t, std::map<int, std::string>> expected;
  for (const TruthFd& fd : t.fds) expected[fd.pid][fd.fd] = fd.target;
  REQUIRE(expected.count(t.role("files")));
  for (const auto& [pid, fds] : expected) {
    INFO("pid " << pid);
    json files = result_of("files " + std::to_string(pid));
    REQUIRE(files.is_array());
    REQUIRE(files.size() == 1);
    const json& task = files[0];
    CHECK(task["pid"] == pid);
    CHECK(task["comm"] == t.task(pid)->comm);
    CHECK(task["root"] == "/");
    CHECK(task["cwd"] == "/");
    std::map<int, std::string> got;
    for (const json& f : task["fds"]) {
      CHECK(f["error"].is_null());
      got[f["fd"].get<int>()] = f["path"].get<std::string>();
    }
    CHECK(got == fds);
  }
  // -R keeps the matching file and leaves out the tasks without one.
  json known = result_of("files -R known.txt 1 " + std::to_string(t.role("files")));
  REQUIRE(known.size() == 1);
  CHECK(known[0]["pid"] == t.role("files"));
  REQUIRE(known[0]["fds"].size() == 1);
  CHECK(known[0]["fds"][0]["fd"] == 3);
  CHECK(known[0]["fds"][0]["type"] == "REG");
  CHECK(known[0]["fds"][0]["nrpages"] == 1);  // the few bytes the workload wrote: one page in the page cache
}

TEST_CASE("log in JSON holds every kernel line of the console, in order, with its timestamp", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  auto console = console_kernel_lines(fixture_dir(suite()));
  REQUIRE(console.size() > 100);
  json log = result_of("log");
  REQUIRE(log.is_array());
  // Each line of a record, as the console prints it: with the record's stamp.
  std::vector<ConsoleLine> lines;
  for (const json& r : log) {
    const uint64_t ns = r["timestamp_ns"].get<uint64_t>();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%5llu.%06llu", static_cast<unsigned long long>(ns / 1000000000),
                  static_cast<unsigned long long>(ns % 1000000000 / 1000));
    std::istringstream text(r["text"].get<std::string>());
    for (std::string line; std::getline(text, line);) lines.push_back({stamp, line, 0});
    CHECK(r["dict"].is_object());
  }
  size_t at = 0;
  for (const ConsoleLine& c : console) {
    size_t from = at;
    while (at < lines.size() && !(lines[at].stamp == c.stamp && lines[at].text == c.text)) ++at;
    INFO("console line [" << c.stamp << "] " << c.text << " not found in the JSON log after its line " << from);
    REQUIRE(at < lines.size());
    ++at;
  }
  // The panic record: logged at KERN_EMERG by the task that crashed the kernel
  // (the sysrq shell, or the allocating task on the OOM suite); in hard-IRQ
  // context (bookworm-irq) printk records the CPU instead ("C<cpu>").
  const std::string culprit = t.panic_idle_cpu
                                  ? "C" + std::to_string(*t.panic_idle_cpu)
                                  : "T" + std::to_string(t.roles.count("panic") ? t.role("panic") : t.role("oom"));
  const json* panic = nullptr;
  for (const json& r : log) {
    if (r["text"].get<std::string>().rfind("Kernel panic - not syncing", 0) == 0) panic = &r;
  }
  REQUIRE(panic != nullptr);
  CHECK((*panic)["level"] == 0);
  CHECK((*panic)["caller"] == culprit);
}

TEST_CASE("sym and sys -c name a source line alike", "[json]") {
  json table = result_of("sys -c");
  REQUIRE(table.size() > 300);
  // x86_64 system call 0 is read (the ABI).
  const json& read = table[0];
  CHECK(read["number"] == 0);
  CHECK(read["symbol"] == "__x64_sys_read");
  REQUIRE(read["file"].is_string());
  CHECK(read["file"].get<std::string>().find("fs/read_write.c") != std::string::npos);
  json sym = result_of("sym __x64_sys_read");
  REQUIRE(sym.size() == 1);
  CHECK(hex(sym[0]["address"]) == hex(read["handler"]));
  CHECK(sym[0]["type"] == "T");
  CHECK(sym[0]["module"].is_null());
  REQUIRE(sym[0]["source"].is_object());
  CHECK(sym[0]["source"]["file"] == read["file"]);
  CHECK(sym[0]["source"]["line"] == read["line"]);
}

TEST_CASE("what the kernel lacks is an answer, not a failure", "[json]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // Debian builds CONFIG_IKCONFIG as a module, and 5.15 removed the printk
  // safe buffers: on those kernels the commands answer "unavailable" with
  // exit status 0; where the kernel has them, they give a result.
  JsonRun r = run_json("sys config; log -s");
  INFO(r.err);
  CHECK(r.status == 0);
  REQUIRE(r.lines.size() == 2);
  const json& config = r.lines[0];
  if (config.contains("unavailable")) {
    CHECK(config["unavailable"].get<std::string>().find("kernel_config_data") != std::string::npos);
  } else {
    REQUIRE(config.contains("result"));
    CHECK(config["result"]["CONFIG_X86_64"] == "y");
  }
  const json& safe = r.lines[1];
  if (safe.contains("unavailable")) {
    CHECK(safe["unavailable"].get<std::string>().find("printk safe buffers") != std::string::npos);
  } else {
    REQUIRE(safe.contains("result"));
    CHECK(safe["result"].size() == static_cast<size_t>(2 * t.cpus));  // nmi and safe buffer per CPU
  }
  JsonRun bad = run_json("sys nonsense");
  CHECK(bad.status != 0);
  REQUIRE(bad.lines.size() == 1);
  CHECK(bad.lines[0].contains("error"));
}
