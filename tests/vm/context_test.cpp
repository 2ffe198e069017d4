// The current context and the commands that act per task: set, files,
// foreach, alias — on real crashed kernels, against the guest's own /proc.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
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

// fd -> path of one `files` section (the rows after the FD header).
std::map<int, std::string> file_rows(const std::string& out) {
  std::map<int, std::string> rows;
  std::regex re(R"(^ *(\d+) [0-9a-f]{16} [0-9a-f]{16} [0-9a-f]{16} [A-Z?]+ +(.*)$)");
  for (const auto& line : lines_of(out)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) rows[std::stoi(m[1])] = m[2];
  }
  return rows;
}

std::set<int64_t> header_pids(const std::string& out) {
  std::set<int64_t> pids;
  std::regex re(R"(^PID: (\d+) +TASK: [0-9a-f]{16}  CPU: \d+ +COMMAND: ".*"$)");
  for (const auto& line : lines_of(out)) {
    std::smatch m;
    if (std::regex_match(line, m, re)) pids.insert(std::stoll(m[1]));
  }
  return pids;
}

}  // namespace

TEST_CASE("files shows each workload's descriptors as /proc/PID/fd does", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  std::map<int64_t, std::map<int, std::string>> expected;
  for (const auto& fd : t.fds) expected[fd.pid][fd.fd] = fd.target;
  REQUIRE(expected.size() >= 4);
  for (const std::string format : {"elf", "kdump-zlib"}) {
    for (const auto& [pid, fds] : expected) {
      KdiveRun r = run_kdive(suite(), format, "files " + std::to_string(pid));
      INFO(format << " pid " << pid << "\n" << r.out << r.err);
      CHECK(r.status == 0);
      CHECK(header_pids(r.out) == std::set<int64_t>{pid});
      CHECK(r.out.find("ROOT: /    CWD: /") != std::string::npos);
      CHECK(file_rows(r.out) == fds);
    }
  }
}

TEST_CASE("files -c counts page-cache pages and -d names a dentry", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t pid = t.role("files");
  KdiveRun r = run_kdive(suite(), "elf", "files -c " + std::to_string(pid));
  INFO(r.out << r.err);
  // known.txt holds a few bytes the workload wrote: one page in the page cache.
  std::regex known(R"(^ *3 [0-9a-f]{16} [0-9a-f]{16} +1 REG  /tmp/kdive/known.txt$)", std::regex::multiline);
  CHECK(std::regex_search(r.out, known));

  // The dentry of fd 1 is /dev/console's, found through the devtmpfs mount.
  KdiveRun f = run_kdive(suite(), "elf", "files " + std::to_string(pid));
  std::smatch m;
  std::string out = f.out;
  REQUIRE(std::regex_search(out, m, std::regex(R"(\n *1 [0-9a-f]{16} ([0-9a-f]{16}) ([0-9a-f]{16}) CHR)")));
  KdiveRun d = run_kdive(suite(), "elf", "files -d " + m[1].str());
  INFO(d.out << d.err);
  CHECK(d.out.find(m[1].str() + " " + m[2].str()) != std::string::npos);
  CHECK(d.out.find("CHR  /dev/console") != std::string::npos);
}

TEST_CASE("set starts on the panic task and follows set PID, -c and -p", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The task that called panic(): the shell that wrote to sysrq-trigger, the
  // process whose allocation made the OOM killer panic, or (bookworm-irq) the
  // idle task, pid 0, that the keyboard interrupt interrupted.
  const int64_t panic_pid = t.panic_idle_cpu ? 0 : t.roles.contains("panic") ? t.role("panic") : t.role("oom");
  KdiveRun r = run_kdive(suite(), "elf", "set; set 1; set; set 999999; set -p; files");
  INFO(r.out << r.err);
  CHECK(r.status != 0);  // set 999999 failed, the rest still ran
  CHECK(r.err.find("set: no task matches '999999'") != std::string::npos);
  auto blocks = lines_of(r.out);
  REQUIRE(blocks.size() >= 20);
  CHECK(blocks[0] == "    PID: " + std::to_string(panic_pid));
  CHECK(blocks[4] == "  STATE: TASK_RUNNING (PANIC)");
  CHECK(blocks[5] == "    PID: 1");
  CHECK(blocks[6] == "COMMAND: \"init\"");
  CHECK(blocks[10] == "    PID: 1");  // plain `set` shows the context set before
  CHECK(blocks[15] == "    PID: " + std::to_string(panic_pid));
  // files with no argument acts on the context: the panic task again.
  CHECK(header_pids(r.out) == std::set<int64_t>{panic_pid});

  // set -c: the task running on each CPU is marked ACTIVE or PANIC.
  for (int cpu = 0; cpu < t.cpus; ++cpu) {
    KdiveRun c = run_kdive(suite(), "elf", "set -c " + std::to_string(cpu));
    INFO(c.out << c.err);
    CHECK(c.status == 0);
    CHECK(std::regex_search(c.out, std::regex(R"(  STATE: TASK_RUNNING \((ACTIVE|PANIC)\))")));
    CHECK(c.out.find("    CPU: " + std::to_string(cpu)) != std::string::npos);
  }
}

TEST_CASE("foreach selects tasks like crash and runs the command on each", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // Every task that has known.txt open: the files workload only.
  KdiveRun r = run_kdive(suite(), "elf", "foreach files -R known.txt");
  INFO(r.out << r.err);
  CHECK(header_pids(r.out) == std::set<int64_t>{t.role("files")});

  // gleader ps: exactly the thread-group leaders of the guest, plus the idle tasks.
  std::set<int64_t> leaders{0};
  for (const auto& task : t.tasks) {
    if (task.pid == task.tgid) leaders.insert(task.pid);
  }
  KdiveRun g = run_kdive(suite(), "elf", "foreach gleader ps");
  std::set<int64_t> shown;
  std::regex row(R"(^[ >] +(\d+) +\d+ +\d+ +[0-9a-f]{16} +[A-Z]{2} )");
  for (const auto& line : lines_of(g.out)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) shown.insert(std::stoll(m[1]));
  }
  CHECK(shown == leaders);

  // A name pattern and a state: the workload threads that sleep.
  KdiveRun w = run_kdive(suite(), "elf", "foreach 'kd-worker.*' IN set");
  INFO(w.out << w.err);
  int workers = 0;
  for (const auto& task : t.tasks) workers += task.comm.rfind("kd-worker", 0) == 0;
  CHECK(workers >= 3);
  size_t blocks = 0;
  for (size_t at = 0; (at = w.out.find("COMMAND: \"kd-worker", at)) != std::string::npos; ++at) ++blocks;
  CHECK(blocks == static_cast<size_t>(workers));

  KdiveRun bad = run_kdive(suite(), "elf", "foreach files -R; foreach nosuchcmd; echo still-running");
  CHECK(bad.err.find("foreach: no command given") != std::string::npos);
  CHECK(bad.out.find("still-running") != std::string::npos);
}

TEST_CASE("aliases expand to their command strings", "[context]") {
  KdiveRun r = run_kdive(suite(), "elf", "alias pp ps -p; pp 1; alias; alias pp \"\"; pp 1; dmesg | head -1");
  INFO(r.out << r.err);
  CHECK(r.out.find("runtime  pp       ps -p") != std::string::npos);
  CHECK(r.out.find("PID: 1        TASK:") != std::string::npos);
  CHECK(r.out.find("builtin  dmesg    log") != std::string::npos);
  CHECK(r.out.find("alias deleted: pp") != std::string::npos);
  CHECK(r.err.find("command not found: pp") != std::string::npos);
}

TEST_CASE("task prints task_struct members of the tasks it is given", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t threaded = t.role("threaded");
  // Every thread of the multi-threaded workload: pid, tgid and comm from the
  // task_struct agree with the guest's /proc.
  std::string pids;
  int threads = 0;
  for (const auto& task : t.tasks) {
    if (task.tgid != threaded) continue;
    pids += " " + std::to_string(task.pid);
    ++threads;
  }
  REQUIRE(threads == t.threads.at(threaded));
  KdiveRun r = run_kdive(suite(), "elf", "task -R pid,tgid,comm" + pids);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  for (const auto& task : t.tasks) {
    if (task.tgid != threaded) continue;
    std::string block = "  pid = " + std::to_string(task.pid) + ",\n  tgid = " + std::to_string(task.tgid) +
                        ",\n  comm = \"" + task.comm;
    CHECK(r.out.find(block) != std::string::npos);
  }

  // Without -R: the whole struct, whose pid member is the context's pid; -x
  // prints it in hexadecimal.
  KdiveRun whole = run_kdive(suite(), "elf", "set 1; task; task -x -R pid");
  INFO(whole.err);
  CHECK(whole.out.find("\nstruct task_struct {\n") != std::string::npos);
  CHECK(whole.out.find("\n  pid = 1,\n") != std::string::npos);
  CHECK(whole.out.find("\n  pid = 0x1,\n") != std::string::npos);

  KdiveRun bad = run_kdive(suite(), "elf", "task -R pid,nosuch 1; echo next");
  CHECK(bad.err == "task: invalid task_struct member: nosuch\n");
  CHECK(bad.out == "next\n");
}

TEST_CASE("rd -u reads the current context's user memory", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(!t.patterns.empty());
  for (const auto& p : t.patterns) {
    // The workload filled this mapping with its text, repeated.
    std::string expected;
    while (expected.size() < 64) expected += p.text;
    expected.resize(64);
    char addr[32];
    std::snprintf(addr, sizeof addr, "%llx", static_cast<unsigned long long>(p.address));
    KdiveRun r = run_kdive(suite(), "elf", "set " + std::to_string(p.pid) + " > /dev/null; rd -u -a " + addr + " 64");
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(rd_ascii_text(r.out) == expected);
  }
  // A kernel thread has no user memory to read.
  KdiveRun k = run_kdive(suite(), "elf", "set 2 > /dev/null; rd -u 7f0000000000");
  CHECK(k.err.find("rd: PID 2 (kthreadd) is a kernel thread") == 0);
}

namespace {

// Whether one of `pid`'s /proc/PID/maps lines covers `address`.
bool mapped_in(const Truth& t, int64_t pid, uint64_t address) {
  auto [lo, hi] = t.maps.equal_range(pid);
  for (auto it = lo; it != hi; ++it) {
    uint64_t start = 0, end = 0;
    if (std::sscanf(it->second.c_str(), "%lx-%lx", &start, &end) == 2 && address >= start && address < end) {
      return true;
    }
  }
  return false;
}

struct VtopBlock {
  int64_t pid = -1;       // from foreach's task line, -1 without one
  std::string physical;   // hex, or "(not mapped)"
  std::string top_entry;  // where the first level's entry sits (the task's page table)
  std::vector<std::string> levels;
  std::string flags;
};

// The vtop sections of an output, in order.
std::vector<VtopBlock> vtop_blocks(const std::string& out) {
  std::vector<VtopBlock> blocks;
  int64_t pid = -1;
  const std::regex header(R"(^PID: (\d+) +TASK: )");
  const std::regex address(R"(^[0-9a-f]+ +([0-9a-f]+|\(not mapped\)) *$)");
  const std::regex level(R"(^ +(PGD|P4D|PUD|PMD|PTE): ([0-9a-f]+) => [0-9a-f]+$)");
  const std::regex flags(R"(^ *[0-9a-f]+ +[0-9a-f]+  \(([A-Z|]+)\)$)");
  auto lines = lines_of(out);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    if (std::regex_search(lines[i], m, header)) {
      pid = std::stoll(m[1]);
    } else if (lines[i].rfind("VIRTUAL ", 0) == 0 && i + 1 < lines.size() &&
               std::regex_match(lines[i + 1], m, address)) {
      blocks.push_back({pid, m[1], "", {}, ""});
      ++i;
    } else if (!blocks.empty() && std::regex_match(lines[i], m, level)) {
      if (blocks.back().levels.empty()) blocks.back().top_entry = m[2];
      blocks.back().levels.push_back(m[1]);
    } else if (!blocks.empty() && std::regex_match(lines[i], m, flags)) {
      blocks.back().flags = m[1];
    }
  }
  return blocks;
}

}  // namespace

TEST_CASE("vtop translates a process's address in the current context; rd -p reads the page", "[context]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t files = t.role("files");
  const int64_t sleeper = t.role("sleeper");
  // The anonymous mapping of the files workload (tests/vm/README.md).
  const uint64_t anon = 0x7f0000100000;
  const auto pattern = std::find_if(t.patterns.begin(), t.patterns.end(),
                                    [&](const TruthPattern& p) { return p.pid == files && p.address == anon; });
  REQUIRE(pattern != t.patterns.end());
  REQUIRE(pattern->text == "KDIVE-ANON-PATTERN");
  std::string expected;
  while (expected.size() < 64) expected += pattern->text;
  expected.resize(64);

  for (const std::string format : {"elf", "kdump-zlib"}) {
    INFO(format);
    KdiveRun v = run_kdive(suite(), format, "set " + std::to_string(files) + " > /dev/null; vtop 0x7f0000100000");
    INFO(v.out << v.err);
    REQUIRE(v.status == 0);
    auto blocks = vtop_blocks(v.out);
    REQUIRE(blocks.size() == 1);
    const VtopBlock& b = blocks[0];
    REQUIRE(b.physical != "(not mapped)");
    // A 4 KiB page of a process: every level down to the PTE, P4D only with 5-level paging.
    std::vector<std::string> levels{"PGD", "PUD", "PMD", "PTE"};
    if (t.la57) levels.insert(levels.begin() + 1, "P4D");
    CHECK(b.levels == levels);
    CHECK(b.flags.find("PRESENT|RW|USER") == 0);
    // The physical page holds what the process wrote at that virtual address.
    KdiveRun p = run_kdive(suite(), format, "rd -p -a " + b.physical + " 64");
    INFO(p.out << p.err);
    CHECK(p.status == 0);
    CHECK(rd_ascii_text(p.out) == expected);

    // JSON: the same translation, in the task's space.
    KdiveRun j = run_kdive(suite(), format,
                           "set output json; set " + std::to_string(files) + "; vtop 7f0000100000; set output text");
    INFO(j.out << j.err);
    CHECK(j.out.find("\"space\":\"user\",\"pid\":" + std::to_string(files) + ",") != std::string::npos);
    CHECK(j.out.find("\"physical\":\"0x" + b.physical + "\"") != std::string::npos);
    CHECK(j.out.find("\"flags\":[\"PRESENT\",\"RW\",\"USER\"") != std::string::npos);

    // foreach: each task's own page table. The files task maps the page; the
    // sleeper's table has the address only if one of its maps covers it.
    KdiveRun f = run_kdive(suite(), format,
                           "foreach " + std::to_string(files) + " " + std::to_string(sleeper) + " vtop 7f0000100000");
    INFO(f.out << f.err);
    CHECK(f.status == 0);
    auto each = vtop_blocks(f.out);
    REQUIRE(each.size() == 2);
    std::map<int64_t, VtopBlock> by_pid;
    for (const auto& e : each) by_pid[e.pid] = e;
    REQUIRE(by_pid.count(files) == 1);
    REQUIRE(by_pid.count(sleeper) == 1);
    CHECK(by_pid[files].physical == b.physical);
    CHECK(by_pid[files].top_entry == b.top_entry);
    if (mapped_in(t, sleeper, anon)) {
      CHECK(by_pid[sleeper].physical != "(not mapped)");
      CHECK(by_pid[sleeper].physical != b.physical);
    } else {
      CHECK(by_pid[sleeper].physical == "(not mapped)");
    }
    CHECK(by_pid[sleeper].top_entry != b.top_entry);
  }

  // A kernel thread has no user address space to translate in.
  KdiveRun k = run_kdive(suite(), "elf", "set 2 > /dev/null; vtop 7f0000100000");
  CHECK(k.err.find("vtop: PID 2 (kthreadd) is a kernel thread") == 0);
}
