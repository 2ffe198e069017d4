// list and tree on real crashed kernels: the task list against ps, a process's
// VMA tree (maple tree, or the rbtree before it) against the guest's
// /proc/PID/maps, the pid IDR against ps, and an rbtree against the list that
// links the same objects.
#include <fmt/format.h>

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

bool is_address_line(const std::string& line) { return std::regex_match(line, std::regex("[0-9a-f]{1,16}")); }

// list/tree output: each entry's address line and the lines under it.
struct Entry {
  std::string address;
  std::map<std::string, std::string> members;  // "pid" -> "1"
  std::string position;                        // the -p line, trimmed
};

std::vector<Entry> parse_entries(const std::string& out) {
  std::vector<Entry> entries;
  std::regex member(R"(^  ([A-Za-z_][A-Za-z0-9_.\[\]]*) = (.*)$)");
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

struct PsRow {
  int64_t pid;
  std::string task;
  std::string comm;
};

std::vector<PsRow> parse_ps(const std::string& out) {
  std::vector<PsRow> rows;
  std::regex re(R"(^[ >] +(\d+) +\d+ +\d+ +([0-9a-f]{16}) +[A-Z?]{2} +[0-9.]+ +\d+ +\d+ +(.*)$)");
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    if (!std::regex_match(line, m, re)) continue;
    std::string comm = m[3];
    if (comm.size() > 2 && comm.front() == '[' && comm.back() == ']') comm = comm.substr(1, comm.size() - 2);
    rows.push_back({std::stoll(m[1]), m[2], comm});
  }
  return rows;
}

std::string strip_zeros(const std::string& hex) {
  size_t i = hex.find_first_not_of('0');
  return i == std::string::npos ? "0" : hex.substr(i);
}

KdiveRun run_ok(const std::string& commands) {
  KdiveRun r = run_kdive(suite(), "elf", commands);
  INFO(r.err);
  REQUIRE(r.status == 0);
  return r;
}

const std::string kTasks = "list task_struct.tasks -H init_task.tasks";

}  // namespace

TEST_CASE("list over init_task.tasks gives the thread-group leaders ps shows", "[containers]") {
  // ps -G: thread-group leaders, plus the per-CPU idle tasks which are not on
  // the list (pid 0: init_task is the list's head).
  std::vector<PsRow> ps = parse_ps(run_ok("ps -G").out);
  REQUIRE(ps.size() > 10);
  std::set<std::string> leaders;
  for (const PsRow& row : ps) {
    if (row.pid != 0) leaders.insert(strip_zeros(row.task));
  }
  std::vector<Entry> listed = parse_entries(run_ok(kTasks).out);
  std::multiset<std::string> addresses;
  for (const Entry& e : listed) addresses.insert(e.address);
  CHECK(addresses.size() == leaders.size());
  CHECK(std::set<std::string>(addresses.begin(), addresses.end()) == leaders);

  // The three spellings of the same walk agree: -o, the positional offset, -h.
  std::vector<Entry> with_o = parse_entries(run_ok("list -H init_task.tasks -o task_struct.tasks").out);
  CHECK(with_o.size() == listed.size());
  std::vector<Entry> from_entry = parse_entries(run_ok("list task_struct.tasks -h init_task").out);
  REQUIRE(from_entry.size() == listed.size() + 1);
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

TEST_CASE("list -s prints the pid and comm ps shows for each task", "[containers]") {
  std::map<std::string, PsRow> by_task;
  for (const PsRow& row : parse_ps(run_ok("ps").out)) by_task[strip_zeros(row.task)] = row;
  std::vector<Entry> listed = parse_entries(run_ok(kTasks + " -s task_struct.pid,comm").out);
  REQUIRE(listed.size() > 10);
  for (const Entry& e : listed) {
    INFO(e.address);
    REQUIRE(by_task.count(e.address));
    const PsRow& row = by_task[e.address];
    CHECK(e.members.at("pid") == std::to_string(row.pid));
    CHECK(e.members.at("comm") == "\"" + row.comm + "\"");
  }
}

TEST_CASE("list -l shows links and the members of the structures holding them", "[containers]") {
  // Starting at init_task.tasks itself, as a plain chain of next pointers,
  // the links shown are the list_heads, and -l finds each task around its one.
  std::vector<Entry> tasks = parse_entries(run_ok(kTasks + " -s task_struct.pid").out);
  std::vector<Entry> links = parse_entries(run_ok("list init_task.tasks -l task_struct.tasks -s task_struct.pid").out);
  REQUIRE(links.size() == tasks.size() + 1);  // the head, init_task's own list_head, comes first
  CHECK(links[0].members.at("pid") == "0");
  for (size_t i = 0; i < tasks.size(); ++i) CHECK(links[i + 1].members.at("pid") == tasks[i].members.at("pid"));
}

TEST_CASE("list -h -O walks a list headed in another structure", "[containers]") {
  // init_css_set heads a list of task_structs linked by cg_list.
  std::string headed = run_ok("list task_struct.cg_list -H init_css_set.tasks").out;
  std::string with_o = run_ok("list -O css_set.tasks -o task_struct.cg_list -h init_css_set").out;
  CHECK(!parse_entries(headed).empty());
  CHECK(with_o == headed);
}

namespace {

// The mm of the task with this pid, from the task list's -s output.
std::string mm_of(int64_t pid) {
  for (const Entry& e : parse_entries(run_ok(kTasks + " -s task_struct.pid,mm -x").out)) {
    if (e.members.count("pid") && e.members.at("pid") == fmt::format("{:#x}", pid)) {
      std::string mm = e.members.at("mm");
      REQUIRE(mm != "0x0");
      return mm;
    }
  }
  FAIL("pid " << pid << " is not on the task list");
  return {};
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
    const std::string mm = mm_of(pid);
    const std::string members = " -s vm_area_struct.vm_start,vm_end -x";
    // Kernels since 6.1 keep VMAs in mm->mm_mt; before, in the mm->mm_rb rbtree.
    // kdive decides from DWARF; the test takes whichever the kernel has.
    KdiveRun maple = run_kdive(suite(), "elf", "tree -t maple -r mm_struct.mm_mt " + mm + members);
    std::string out = maple.out;
    if (maple.out.empty()) {
      INFO(maple.err);
      REQUIRE(maple.err.find("no maple trees") != std::string::npos);
      out = run_ok("tree -t rbtree -l -r mm_struct.mm_rb -o vm_area_struct.vm_rb " + mm + members).out;
    }
    std::vector<std::pair<uint64_t, uint64_t>> vmas;
    for (const Entry& e : parse_entries(out)) {
      vmas.push_back(
          {std::stoull(e.members.at("vm_start"), nullptr, 16), std::stoull(e.members.at("vm_end"), nullptr, 16)});
    }
    CHECK(std::is_sorted(vmas.begin(), vmas.end()));  // both walks are in address order
    CHECK(std::set<std::pair<uint64_t, uint64_t>>(vmas.begin(), vmas.end()) == truth_vmas(t, pid));
    CHECK(std::set<std::pair<uint64_t, uint64_t>>(vmas.begin(), vmas.end()).size() == vmas.size());
  }
}

TEST_CASE("tree over the init pid namespace's IDR gives the pids ps shows", "[containers]") {
  std::set<int64_t> ps_pids;
  for (const PsRow& row : parse_ps(run_ok("ps").out)) {
    if (row.pid != 0) ps_pids.insert(row.pid);
  }
  for (const char* kind : {"xarray", "radix"}) {
    INFO(kind);
    std::vector<Entry> entries =
        parse_entries(run_ok(std::string("tree -t ") + kind + " -r pid_namespace.idr init_pid_ns -p -s pid.level").out);
    std::set<int64_t> idr;
    std::regex index(R"(^index: (\d+)  position: root(/\d+)*$)");
    for (const Entry& e : entries) {
      std::smatch m;
      REQUIRE(std::regex_match(e.position, m, index));
      idr.insert(std::stoll(m[1]));
      CHECK(e.members.at("level") == "0");  // struct pid of the init namespace
    }
    // Every task's pid is allocated; a pid may outlive its task only while
    // something still holds it (a process group or session id), so the IDR has
    // at most a few more.
    for (int64_t pid : ps_pids) CHECK(idr.count(pid));
    CHECK(idr.size() >= ps_pids.size());
    CHECK(idr.size() <= ps_pids.size() + 4);
  }
}

TEST_CASE("an rbtree walk finds the nodes of the list that links the same objects", "[containers]") {
  // free_vmap_area_root and free_vmap_area_list hold the same vmap_areas
  // (mm/vmalloc.c keeps both since 5.2).
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
  }
}

TEST_CASE("list and tree reject bad input with one line", "[containers]") {
  KdiveRun r =
      run_kdive(suite(), "elf",
                "list -H no_such_symbol_here; tree -t nonsense init_pid_ns; list task_struct.nope -H init_task.tasks");
  CHECK(r.err.find("list: ") != std::string::npos);
  CHECK(r.err.find("tree: ") != std::string::npos);
  CHECK(r.err.find("nope") != std::string::npos);
}
