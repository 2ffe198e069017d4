// list and tree on real crashed kernels, against what the guest said about
// itself (truth.txt): the task list against its processes, pids, comms and
// parents; a process's VMA tree (maple tree, or the rbtree before it) against
// its /proc/PID/maps; the pid IDR against its pids; the module list against
// /proc/modules. The text and the JSON result of each walk are both checked.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;

namespace {

bool is_address_line(const std::string& line) { return std::regex_match(line, std::regex("[0-9a-f]{1,16}")); }

// list/tree text: each entry's address line and the lines under it.
struct Entry {
  std::string address;
  std::map<std::string, std::string> members;  // "pid" -> "1"
  std::string position;                        // the -p line, trimmed
};

std::vector<Entry> parse_entries(const std::string& out) {
  std::vector<Entry> entries;
  std::regex member(R"(^  ([A-Za-z_][A-Za-z0-9_.\[\]]*) = (.*?),?$)");
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    if (is_address_line(line)) {
      entries.push_back({line, {}, {}});
    } else if (!entries.empty() && std::regex_match(line, m, member)) {
      entries.back().members[m[1]] = m[2];
    } else if (!entries.empty() && line.rfind("  ", 0) == 0 && line.find("position: ") != std::string::npos) {
      entries.back().position = line.substr(2);
    }
  }
  return entries;
}

KdiveRun run_ok(const std::string& commands) {
  KdiveRun r = run_kdive(suite(), "elf", commands);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return r;
}

// The JSON result of one command, run with --json.
Json json_result(const std::string& command) {
  auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c '" + command + "' '" + (dir / "vmlinux").string() + "' '" +
                              (dir / "vmcore.kdump-zlib").string() + "'");
  INFO(command << "\n" << r.err);
  REQUIRE(r.status == 0);
  Json line = Json::parse(r.out);
  REQUIRE(line["command"] == command);
  REQUIRE(line.contains("result"));
  return line["result"];
}

uint64_t hex(const Json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// /proc shows a kworker's current work after a '-' or '+' ("kworker/0:1-events"),
// and a kernel thread's full name where task->comm keeps 15 characters.
// Kworkers also come and go between the guest's snapshot and the crash.
bool is_kworker(const std::string& comm) { return comm.rfind("kworker/", 0) == 0; }
bool same_comm(const std::string& dump, const std::string& proc) {
  if (dump == proc) return true;
  if (is_kworker(dump) && (proc.rfind(dump + "-", 0) == 0 || proc.rfind(dump + "+", 0) == 0)) return true;
  return dump.size() == 15 && proc.rfind(dump, 0) == 0;
}

// crash's text of a comm: the char array with gdb's escapes; the name is what
// comes before the first NUL (an older, longer name may follow it).
std::string comm_of_text(const std::string& quoted) {
  REQUIRE(quoted.size() >= 2);
  REQUIRE(quoted.front() == '"');
  std::string body = quoted.substr(1, quoted.rfind('"') - 1);
  return body.substr(0, body.find("\\000"));
}

const std::string kTasks = "list task_struct.tasks -H init_task.tasks";

}  // namespace

TEST_CASE("list over init_task.tasks gives the guest's processes with their pids, comms and parents", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  Json listed = json_result(kTasks + " -s task_struct.pid,tgid,comm,real_parent");
  REQUIRE(listed.size() > 10);
  // The list's head is init_task (pid 0), which the guest's kallsyms located.
  std::map<uint64_t, int64_t> tgid_at = {{t.ksym.at("init_task"), 0}};
  std::map<int64_t, Json> by_pid;
  for (const Json& e : listed) {
    const Json& task = e["task_struct"];
    INFO(e.dump());
    CHECK(task["pid"] == task["tgid"]);  // thread-group leaders only: threads hang off their leader
    tgid_at[hex(e["address"])] = task["tgid"].get<int64_t>();
    CHECK(by_pid.emplace(task["pid"].get<int64_t>(), task).second);
  }
  for (const TruthTask& task : t.tasks) {
    if (task.pid != task.tgid) continue;
    INFO("truth process " << task.pid << " " << task.comm);
    auto it = by_pid.find(task.pid);
    if (it == by_pid.end()) {
      CHECK(is_kworker(task.comm));  // only a kworker may have exited since the snapshot
      continue;
    }
    CHECK(same_comm(it->second["comm"], task.comm));
    // /proc's ppid is the real parent's thread group.
    auto parent = tgid_at.find(hex(it->second["real_parent"]));
    REQUIRE(parent != tgid_at.end());
    CHECK(parent->second == task.ppid);
  }
  for (const auto& [pid, task] : by_pid) {
    INFO("listed " << pid << " " << task["comm"]);
    if (!t.task(pid)) CHECK(is_kworker(task["comm"]));  // only a kworker may have appeared since
  }

  // The text shows the same entries in the same order, comm as crash prints it.
  std::vector<Entry> text = parse_entries(run_ok(kTasks + " -s task_struct.pid,comm").out);
  REQUIRE(text.size() == listed.size());
  for (size_t i = 0; i < text.size(); ++i) {
    INFO(text[i].address);
    CHECK(std::stoull(text[i].address, nullptr, 16) == hex(listed[i]["address"]));
    CHECK(text[i].members.at("pid") == std::to_string(listed[i]["task_struct"]["pid"].get<int64_t>()));
    CHECK(comm_of_text(text[i].members.at("comm")) == listed[i]["task_struct"]["comm"]);
  }
}

TEST_CASE("list's spellings of the task walk: -o, -h, -e, -r", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  std::vector<Entry> listed = parse_entries(run_ok(kTasks).out);
  REQUIRE(listed.size() > 10);
  // The three spellings of the same walk agree: -o, the positional offset, -h.
  std::vector<Entry> with_o = parse_entries(run_ok("list -H init_task.tasks -o task_struct.tasks").out);
  CHECK(with_o.size() == listed.size());
  std::vector<Entry> from_entry = parse_entries(run_ok("list task_struct.tasks -h init_task").out);
  REQUIRE(from_entry.size() == listed.size() + 1);
  // -h shows the start entry first: init_task, where the guest's kallsyms put it.
  CHECK(std::stoull(from_entry[0].address, nullptr, 16) == t.ksym.at("init_task"));
  CHECK(from_entry[1].address == listed[0].address);
  // -e stops before the entry it names.
  REQUIRE(listed.size() > 3);
  std::vector<Entry> ended = parse_entries(run_ok(kTasks + " -e " + listed[3].address).out);
  REQUIRE(ended.size() == 3);
  CHECK(ended[2].address == listed[2].address);
  // -r walks the same entries backwards.
  std::vector<Entry> reversed = parse_entries(run_ok(kTasks + " -r").out);
  REQUIRE(reversed.size() == listed.size());
  CHECK(reversed.front().address == listed.back().address);
  CHECK(reversed.back().address == listed.front().address);
}

TEST_CASE("list -l shows links and the members of the structures holding them", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // Starting at init_task.tasks itself, as a plain chain of next pointers, the
  // links shown are the list_heads, and -l finds each task around its one.
  std::vector<Entry> links = parse_entries(run_ok("list init_task.tasks -l task_struct.tasks -s task_struct.pid").out);
  REQUIRE(links.size() > 10);
  CHECK(links[0].members.at("pid") == "0");  // the head: init_task's own list_head
  int known = 0;
  for (size_t i = 1; i < links.size(); ++i) {
    int64_t pid = std::stoll(links[i].members.at("pid"));
    if (t.task(pid)) ++known;
  }
  // Every process but a kworker born after the snapshot is one the guest listed.
  CHECK(known >= static_cast<int>(links.size()) - 1 - 3);
}

TEST_CASE("list -h -O walks a list headed in another structure", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  // init_css_set heads the list of task_structs (linked by cg_list) of the root
  // cgroup: here every task, threads included.
  Json headed = json_result("list task_struct.cg_list -H init_css_set.tasks -s task_struct.pid");
  std::string with_o = run_ok("list -O css_set.tasks -o task_struct.cg_list -h init_css_set").out;
  std::string plain = run_ok("list task_struct.cg_list -H init_css_set.tasks").out;
  CHECK(with_o == plain);
  REQUIRE(!headed.empty());
  std::set<int64_t> pids;
  for (const Json& e : headed) pids.insert(e["task_struct"]["pid"].get<int64_t>());
  for (const TruthTask& task : t.tasks) {
    INFO(task.pid << " " << task.comm);
    if (!pids.count(task.pid)) CHECK(is_kworker(task.comm));
  }
}

namespace {

// The mm of the task with this pid, from the task list's JSON.
uint64_t mm_of(int64_t pid) {
  for (const Json& e : json_result(kTasks + " -s task_struct.pid,mm")) {
    if (e["task_struct"]["pid"] == pid) {
      uint64_t mm = hex(e["task_struct"]["mm"]);
      REQUIRE(mm != 0);
      return mm;
    }
  }
  FAIL("pid " << pid << " is not on the task list");
  return 0;
}

std::set<std::pair<uint64_t, uint64_t>> truth_vmas(const Truth& t, int64_t pid) {
  std::set<std::pair<uint64_t, uint64_t>> out;
  auto [from, to] = t.maps.equal_range(pid);
  for (auto it = from; it != to; ++it) {
    uint64_t start = 0, end = 0;
    REQUIRE(std::sscanf(it->second.c_str(), "%lx-%lx", &start, &end) == 2);
    if (start >= 0xffff800000000000ull) continue;  // [vsyscall]: not a VMA
    out.insert({start, end});
  }
  return out;
}

}  // namespace

TEST_CASE("tree over a process's VMA tree gives the guest's /proc/PID/maps", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const char* role : {"threaded", "sleeper", "mmap"}) {
    const int64_t pid = t.role(role);
    INFO(role << " pid " << pid);
    const std::string mm = fmt::format("{:x}", mm_of(pid));
    const std::string members = " -s vm_area_struct.vm_start,vm_end -x";
    // Kernels since 6.1 keep VMAs in mm->mm_mt; before, in the mm->mm_rb rbtree.
    // kdive decides from DWARF; the test takes whichever the kernel has.
    KdiveRun maple = run_kdive(suite(), "elf", "tree -t maple -r mm_struct.mm_mt " + mm + members);
    std::string command = "tree -t maple -r mm_struct.mm_mt " + mm + members;
    std::string out = maple.out;
    if (maple.out.empty()) {
      INFO(maple.err);
      REQUIRE(maple.err.find("no maple trees") != std::string::npos);
      command = "tree -t rbtree -l -r mm_struct.mm_rb -o vm_area_struct.vm_rb " + mm + members;
      out = run_ok(command).out;
    }
    std::vector<std::pair<uint64_t, uint64_t>> vmas;
    for (const Entry& e : parse_entries(out)) {
      vmas.push_back(
          {std::stoull(e.members.at("vm_start"), nullptr, 16), std::stoull(e.members.at("vm_end"), nullptr, 16)});
    }
    CHECK(std::is_sorted(vmas.begin(), vmas.end()));  // both walks are in address order
    CHECK(std::set<std::pair<uint64_t, uint64_t>>(vmas.begin(), vmas.end()) == truth_vmas(t, pid));
    CHECK(std::set<std::pair<uint64_t, uint64_t>>(vmas.begin(), vmas.end()).size() == vmas.size());

    // The JSON result: the same VMAs, with positions; maple entries with the range they cover.
    Json json = json_result(command);
    REQUIRE(json.size() == vmas.size());
    for (size_t i = 0; i < vmas.size(); ++i) {
      // User addresses stay below 2^53: JSON numbers, whatever -x does to the text.
      CHECK(json[i]["vm_area_struct"]["vm_start"] == vmas[i].first);
      CHECK(json[i]["vm_area_struct"]["vm_end"] == vmas[i].second);
      CHECK(json[i].contains("position"));
      if (json[i].contains("first")) {
        // A maple entry covers [vm_start, vm_end - 1].
        CHECK(hex(json[i]["first"]) == vmas[i].first);
        CHECK(hex(json[i]["last"]) == vmas[i].second - 1);
      }
    }
  }
}

TEST_CASE("tree over the init pid namespace's IDR gives the guest's pids", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const char* kind : {"xarray", "radix"}) {
    INFO(kind);
    std::string command = std::string("tree -t ") + kind + " -r pid_namespace.idr init_pid_ns -p -s pid.level";
    std::vector<Entry> entries = parse_entries(run_ok(command).out);
    std::set<int64_t> idr;
    std::regex index(R"(^index: (\d+)  position: root(/\d+)*$)");
    for (const Entry& e : entries) {
      std::smatch m;
      REQUIRE(std::regex_match(e.position, m, index));
      idr.insert(std::stoll(m[1]));
      CHECK(e.members.at("level") == "0");  // struct pid of the init namespace
    }
    // Every task's pid is allocated (a kworker may have exited since the
    // snapshot); a pid may outlive its task only while something still holds it
    // (a process group or session id), and kworkers may have been born: a few more.
    size_t missing = 0;
    for (const TruthTask& task : t.tasks) {
      if (idr.count(task.pid)) continue;
      CHECK(is_kworker(task.comm));
      ++missing;
    }
    CHECK(idr.size() + missing >= t.tasks.size());
    CHECK(idr.size() <= t.tasks.size() + 4);

    // JSON: the same entries, with their index (the pid) as a number.
    Json json = json_result(command);
    REQUIRE(json.size() == entries.size());
    std::set<int64_t> json_pids;
    for (const Json& e : json) {
      json_pids.insert(e["index"].get<int64_t>());
      CHECK(e["pid"]["level"] == 0);
    }
    CHECK(json_pids == idr);
  }
}

TEST_CASE("the module list holds the guest's modules at their addresses", "[containers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(!t.modules.empty());
  // The core text's base: module.mem[MOD_TEXT] since 6.4 (commit ac3b43283923),
  // module.core_layout before. MOD_TEXT is 0.
  Json listed;
  std::string base_member;
  for (std::string member : {"mem[0].base", "core_layout.base"}) {
    KdiveRun probe = run_kdive(suite(), "elf", "whatis module." + member.substr(0, member.find('[')));
    if (probe.status != 0) continue;
    base_member = member;
    listed = json_result("list module.list -H modules -s module.name," + member);
    break;
  }
  REQUIRE(!base_member.empty());
  std::map<std::string, uint64_t> base_of;
  for (const Json& e : listed) base_of[e["module"]["name"]] = hex(e["module"][base_member]);
  CHECK(base_of.size() == t.modules.size());
  for (const TruthModule& m : t.modules) {
    INFO(m.name);
    REQUIRE(base_of.count(m.name));
    CHECK(base_of[m.name] == m.address);
  }
}

TEST_CASE("an rbtree walk finds the nodes of the list that links the same objects", "[containers]") {
  // free_vmap_area_root and free_vmap_area_list hold the same vmap_areas
  // (mm/vmalloc.c keeps both since 5.2): two kernel structures that must agree.
  std::vector<Entry> tree = parse_entries(run_ok("tree -t rbtree -o vmap_area.rb_node free_vmap_area_root").out);
  std::vector<Entry> list = parse_entries(run_ok("list vmap_area.list -H free_vmap_area_list").out);
  REQUIRE(!tree.empty());
  CHECK(tree.size() == list.size());
  std::set<std::string> a, b;
  for (const Entry& e : tree) a.insert(e.address);
  for (const Entry& e : list) b.insert(e.address);
  CHECK(a == b);

  // In key order (-l), the areas come sorted by address, as the list keeps them.
  std::vector<Entry> sorted = parse_entries(
      run_ok("tree -t rbtree -l -o vmap_area.rb_node free_vmap_area_root -p -s vmap_area.va_start -x").out);
  REQUIRE(sorted.size() == tree.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    CHECK(sorted[i].address == list[i].address);
    CHECK(sorted[i].position.rfind("position: root", 0) == 0);
    if (i > 0) {
      CHECK(std::stoull(sorted[i - 1].members.at("va_start"), nullptr, 16) <
            std::stoull(sorted[i].members.at("va_start"), nullptr, 16));
    }
  }
}

TEST_CASE("list and tree reject bad input with one line", "[containers]") {
  KdiveRun r =
      run_kdive(suite(), "elf",
                "list -H no_such_symbol_here; tree -t nonsense init_pid_ns; list task_struct.nope -H init_task.tasks; "
                "list task_struct.tasks -s task_struct.nope -H init_task.tasks");
  auto err = lines_of(r.err);
  REQUIRE(err.size() == 4);
  CHECK(err[0].rfind("list: ", 0) == 0);
  CHECK(err[1].rfind("tree: ", 0) == 0);
  CHECK(err[2].find("nope") != std::string::npos);
  CHECK(err[3] == "list: struct task_struct has no member 'nope'");
  CHECK(r.out.empty());  // nothing printed before the error
}
