// p, struct, whatis and ptype on real crashed kernels: values agree with ps,
// with the guest's own truth, and offsets with the kernel's VMCOREINFO.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <tuple>

#include "kernel-model/dwarf_index.hpp"
#include "run_kdive.hpp"
#include "tests/unit/support/libdw_name_index.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;

namespace {

struct PsTask {
  int64_t pid;
  std::string task, comm;
};

// User tasks from `ps -u` (their comm is not bracketed).
std::vector<PsTask> user_tasks(const std::string& ps) {
  std::vector<PsTask> out;
  std::regex re(R"(^[ >] +(\d+) +\d+ +\d+ +([0-9a-f]{16}) +[A-Z?]{2} +[0-9.]+ +\d+ +\d+ +(.*)$)");
  for (const auto& l : lines_of(ps)) {
    std::smatch m;
    if (std::regex_match(l, m, re)) out.push_back({std::stoll(m[1]), m[2], m[3]});
  }
  return out;
}

}  // namespace

TEST_CASE("struct task_struct.pid,comm agrees with ps", "[types]") {
  std::string s = suite();
  auto ps = run_kdive(s, "elf", "ps -u");
  REQUIRE(ps.status == 0);
  auto tasks = user_tasks(ps.out);
  REQUIRE(tasks.size() >= 3);
  std::string cmds;
  for (const auto& t : tasks) cmds += "struct task_struct.pid,comm " + t.task + "; ";
  auto r = run_kdive(s, "elf", cmds);
  REQUIRE(r.status == 0);
  std::regex pid_re(R"(^  pid = (\d+),$)"), comm_re(R"re(^  comm = "(.*)",$)re");
  std::vector<int64_t> pids;
  std::vector<std::string> comms;
  for (const auto& l : lines_of(r.out)) {
    std::smatch m;
    if (std::regex_match(l, m, pid_re)) pids.push_back(std::stoll(m[1]));
    // The array holds the name up to its NUL, then whatever an older, longer
    // name left behind: gdb shows all of it.
    if (std::regex_match(l, m, comm_re)) comms.push_back(m[1].str().substr(0, m[1].str().find("\\000")));
  }
  REQUIRE(pids.size() == tasks.size());
  REQUIRE(comms.size() == tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    CAPTURE(tasks[i].task);
    CHECK(pids[i] == tasks[i].pid);
    CHECK(comms[i] == tasks[i].comm);
  }
}

TEST_CASE("p reads init_task, jiffies and linux_banner", "[types]") {
  std::string s = suite();
  Truth truth = Truth::load(fixture_dir(s) / "truth.txt");
  auto r = run_kdive(s, "elf", "p init_task.comm; p jiffies; p linux_banner; whatis linux_banner; p init_task.pid");
  REQUIRE(r.status == 0);
  auto out = lines_of(r.out);
  REQUIRE(out.size() >= 5);
  CHECK(std::regex_match(out[0], std::regex(R"re(^\$\d+ = "swapper/0(\\000)*"$)re")));
  CHECK(std::regex_match(out[1], std::regex(R"(^jiffies = \$\d+ = \d+$)")));
  // The banner names the release the guest reported with uname.
  CHECK(out[2].find("linux_banner = $") == 0);
  CHECK(out[2].find("\"Linux version " + truth.release + " ") != std::string::npos);
  CHECK(std::regex_match(out[3], std::regex(R"(^const char linux_banner\[\d*\];$)")));
  CHECK(std::regex_match(out[4], std::regex(R"(^\$\d+ = 0$)")));
}

TEST_CASE("struct -o offsets agree with address arithmetic", "[types]") {
  std::string s = suite();
  auto r = run_kdive(s, "elf",
                     // '->' is kept out of the command line: the shell takes its '>' for a redirect.
                     "struct -o task_struct; p &(*(struct task_struct *)0).pid; "
                     "p &(*(struct task_struct *)0).comm; p sizeof(struct task_struct)");
  REQUIRE(r.status == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\n *\[(\d+)\] pid_t pid;\n)")));
  uint64_t pid_off = std::stoull(m[1]);
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\n *\[(\d+)\] char comm\[16\];\n)")));
  uint64_t comm_off = std::stoull(m[1]);
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\nSIZE: (\d+)\n)")));
  uint64_t size = std::stoull(m[1]);
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\(pid_t \*\) (0x[0-9a-f]+)\n)")));
  CHECK(std::stoull(m[1], nullptr, 16) == pid_off);
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\(char \(\*\)\[16\]\) (0x[0-9a-f]+)\n)")));
  CHECK(std::stoull(m[1], nullptr, 16) == comm_off);
  CHECK(std::regex_search(r.out, std::regex("\\$\\d+ = " + std::to_string(size) + "\n")));
}

// The kernel states some offsets and sizes itself in VMCOREINFO (in the dump's
// notes, near the start of the ELF file): each must match struct -o.
TEST_CASE("struct -o agrees with the kernel's VMCOREINFO offsets and sizes", "[types]") {
  std::string s = suite();
  std::ifstream in(fixture_dir(s) / "vmcore.elf", std::ios::binary);
  std::string head(4 << 20, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::regex entry(R"((OFFSET|SIZE)\(([A-Za-z_0-9]+)(?:\.([A-Za-z_0-9.]+))?\)=(\d+)\n)");
  std::vector<std::tuple<std::string, std::string, std::string, uint64_t>> facts;
  for (auto it = std::sregex_iterator(head.begin(), head.end(), entry); it != std::sregex_iterator(); ++it) {
    facts.emplace_back((*it)[1], (*it)[2], (*it)[3], std::stoull((*it)[4]));
  }
  REQUIRE(facts.size() >= 5);
  std::string cmds;
  for (const auto& [kind, type, member, value] : facts) {
    std::string what = member.empty() ? type : type + "." + member;
    cmds += "echo @" + kind + " " + what + "; " +
            (kind == "SIZE" ? "p sizeof(struct " + type + ")" : "struct -o " + what) + "; ";
  }
  auto r = run_kdive(s, "elf", cmds);
  int checked = 0;
  std::istringstream out(r.out);
  std::string l, current;
  std::regex offset_line(R"(^ *\[(\d+)\] .*;$)"), size_line(R"(^\$\d+ = (\d+)$)");
  std::map<std::string, uint64_t> seen;
  for (; std::getline(out, l);) {
    std::smatch m;
    if (l.rfind("@", 0) == 0)
      current = l.substr(1);
    else if (std::regex_match(l, m, offset_line) || std::regex_match(l, m, size_line))
      seen[current] = std::stoull(m[1]);
  }
  for (const auto& [kind, type, member, value] : facts) {
    std::string key = kind + " " + (member.empty() ? type : type + "." + member);
    if (!seen.count(key)) continue;  // a typedef or a name struct does not know (e.g. SIZE(long))
    CAPTURE(key);
    CHECK(seen[key] == value);
    ++checked;
  }
  CHECK(checked >= 5);
}

TEST_CASE("struct with an address, nested members, counts and hex", "[types]") {
  std::string s = suite();
  auto r = run_kdive(s, "elf",
                     "struct task_struct.se.on_rq init_task; struct -x task_struct.pid init_task; "
                     "struct list_head init_task+0 2; p init_task.tasks; ptype struct list_head");
  REQUIRE(r.status == 0);
  CHECK(std::regex_search(r.out, std::regex(R"(\n?  se\.on_rq = \d+( '.*')?,\n)")));
  CHECK(r.out.find("  pid = 0x0,\n") != std::string::npos);
  // Two consecutive list_heads, separated by a blank line.
  CHECK(std::regex_search(
      r.out,
      std::regex(R"(struct list_head \{\n  next = 0x[0-9a-f]+,\n  prev = 0x[0-9a-f]+\n\}\n\nstruct list_head \{)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\$\d+ = \{\n  next = 0x[0-9a-f]+,\n  prev = 0x[0-9a-f]+\n\}\n)")));
  CHECK(r.out.find("type = struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\n") !=
        std::string::npos);
}

TEST_CASE("bad member or symbol: one error line, the next command runs", "[types]") {
  std::string s = suite();
  auto r = run_kdive(s, "elf",
                     "struct task_struct.nosuch init_task; p nosuchsym; p init_task.nosuch; struct nosuchtype; "
                     "whatis nosuchsym; p init_task.pid");
  std::string all = r.out + r.err;
  auto err = lines_of(r.err);
  int errors = 0;
  for (const auto& l : lines_of(all)) {
    if (l.find("nosuch") != std::string::npos) ++errors;
  }
  CHECK(errors == 5);
  CHECK(std::regex_search(r.out, std::regex(R"(\$\d+ = 0\n)")));
  for (const auto& l : lines_of(all)) {
    if (l.find("nosuch") != std::string::npos) {
      CHECK(std::regex_match(l, std::regex(R"(^(struct|p|whatis): .*nosuch.*$)")));
    }
  }
}

TEST_CASE("per-CPU variables: each CPU's copy knows its CPU", "[types]") {
  std::string s = suite();
  auto r = run_kdive(s, "elf", "p runqueues");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("PER-CPU DATA TYPE:\n  struct rq runqueues;\nPER-CPU ADDRESSES:\n") == 0);
  std::regex addr(R"(\n  \[(\d+)\]: ([0-9a-f]{16}))");
  std::string cmds;
  std::vector<int> cpus;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), addr); it != std::sregex_iterator(); ++it) {
    cpus.push_back(std::stoi((*it)[1]));
    cmds += "struct rq.cpu " + (*it)[2].str() + "; ";
  }
  REQUIRE(cpus.size() >= 2);
  auto rq = run_kdive(s, "elf", cmds + "p runqueues:1");
  REQUIRE(rq.status == 0);
  std::vector<int> seen;
  std::regex cpu_line(R"(^  cpu = (\d+),$)");
  for (const auto& l : lines_of(rq.out)) {
    std::smatch m;
    if (std::regex_match(l, m, cpu_line)) seen.push_back(std::stoi(m[1]));
  }
  // struct rq.cpu prints one line per CPU; p runqueues:1 adds its own "cpu = 1,".
  REQUIRE(seen.size() == cpus.size() + 1);
  for (size_t i = 0; i < cpus.size(); ++i) CHECK(seen[i] == cpus[i]);
  CHECK(seen.back() == 1);
  CHECK(rq.out.find("per_cpu(runqueues, 1) = $") != std::string::npos);
}

TEST_CASE("p/x and p/d are p -x and p -d, as in crash", "[types]") {
  KdiveRun r =
      run_kdive(suite(), "elf", "p/x init_task.pid; p -x init_task.pid; p/d init_task.prio; p -d init_task.prio");
  INFO(r.out << r.err);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].substr(lines[0].find(" = ")) == lines[1].substr(lines[1].find(" = ")));
  CHECK(lines[0].ends_with(" = 0x0"));
  CHECK(lines[2].substr(lines[2].find(" = ")) == lines[3].substr(lines[3].find(" = ")));
  CHECK(lines[2].ends_with(" = 120"));
}

TEST_CASE("the DWARF name index of a real vmlinux is what libdw sees", "[types]") {
  // The fast raw scan against a plain libdw walk of the same file: every name
  // of every kind, its DIE and (for enumerators) its value.
  auto vmlinux = fixture_dir(suite()) / "vmlinux";
  auto ref = reference_name_index(vmlinux);
  auto index = kdive::DwarfIndex::build(vmlinux);
  CHECK(index->problems().empty());
  REQUIRE(ref[static_cast<size_t>(kdive::NameKind::Struct)].count("task_struct") == 1);
  for (size_t k = 0; k < kdive::kNameKinds; ++k) {
    CAPTURE(k);
    auto kind = static_cast<kdive::NameKind>(k);
    CHECK(index->image().entries(kind).size() == ref[k].size());
    size_t wrong = 0;
    for (const auto& [name, e] : ref[k]) {
      const auto* got = index->find(kind, name);
      if (got == nullptr || got->die != e.die || got->value != e.value) {
        if (++wrong <= 5) UNSCOPED_INFO("differs: " << name);
      }
    }
    CHECK(wrong == 0);
  }
}
