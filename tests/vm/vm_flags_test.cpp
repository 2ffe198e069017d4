// vm's other views against the guest's own /proc: -f names the bits of each
// VMA's FLAGS as /proc/PID/maps' permission letters say, -m shows the
// mm_struct whose counters /proc/PID/status read, -v one vm_area_struct per
// VMA, -P one VMA's pages as -p shows them, -M reads the map from a given
// mm_struct; bad addresses and flags are one-line errors. On bullseye, -f, -m
// and -v are compared with crash line by line.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

Truth load_truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// The workload processes with maps in the truth (the panic shell's map is
// printed by itself, while it runs).
std::set<int64_t> workload_pids(const Truth& t) {
  std::set<int64_t> pids;
  for (const auto& [role, pid] : t.roles) {
    if (role != "panic" && t.maps.count(pid)) pids.insert(pid);
  }
  return pids;
}

struct MapLine {
  uint64_t start;
  std::string perms;
};

std::vector<MapLine> truth_maps(const Truth& t, int64_t pid) {
  std::vector<MapLine> out;
  auto [from, to] = t.maps.equal_range(pid);
  for (auto it = from; it != to; ++it) {
    std::istringstream in(it->second);
    std::string range, perms;
    in >> range >> perms;
    out.push_back({std::stoull(range.substr(0, range.find('-')), nullptr, 16), perms});
  }
  return out;
}

std::string dump_args(const std::string& format) {
  const auto dir = fixture_dir(suite());
  return shell_quote((dir / "vmlinux").string()) + " " + shell_quote((dir / ("vmcore." + format)).string());
}

// Several commands in one kdive --json run (JSON Lines, one object per
// command, in order); every one must have a result.
std::vector<json> run_json_lines(const std::vector<std::string>& commands) {
  std::string script;
  for (const std::string& c : commands) script += c + "; ";
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(script) + " " + dump_args("kdump-zlib"));
  INFO(script << "\n" << r.err);
  REQUIRE(r.status == 0);
  std::vector<json> out;
  for (const std::string& line : lines_of(r.out)) {
    json j = json::parse(line, nullptr, false);
    REQUIRE(!j.is_discarded());
    INFO(line);
    REQUIRE(j.contains("result"));
    out.push_back(std::move(j["result"]));
  }
  REQUIRE(out.size() == commands.size());
  return out;
}

// One kdive run of a command that must fail: its status and stderr.
KdiveRun run_failing(const std::string& command) {
  KdiveRun r = run_kdive(suite(), "elf", command);
  INFO(command << "\n" << r.out << r.err);
  CHECK(r.status != 0);
  CHECK(r.status != kDataLost);
  return r;
}

// A CommandError is one line on stderr naming the flag.
void check_one_line_error(const KdiveRun& r, const std::string& flag) {
  INFO(r.err);
  CHECK(lines_of(r.err).size() == 1);
  CHECK(r.err.find(flag) != std::string::npos);
}

bool has(const json& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The memory workload's VMAs (vm PID) and its mm_struct (vm -m PID), read once.
struct MemoryWorkload {
  int64_t pid;
  json vm, mm;
};

MemoryWorkload memory_workload(const Truth& t) {
  const int64_t pid = t.role("memory");
  auto r = run_json_lines({fmt::format("vm {}", pid), fmt::format("vm -m {}", pid)});
  REQUIRE(r[0].size() == 1);
  REQUIRE(r[1].size() == 1);
  return {pid, r[0][0], r[1][0]};
}

// The anonymous mapping the memory workload pages out (truth `pagemap`).
constexpr uint64_t kPagedMapping = 0x7f0000200000;

}  // namespace

// /proc/PID/maps prints r, w, x from VM_READ, VM_WRITE, VM_EXEC and 's' from
// VM_MAYSHARE (a read-only shared file mapping has VM_MAYSHARE without
// VM_SHARED), so the letters must agree with those names; VM_SHARED implies 's'.
TEST_CASE("vm -f names each VMA's flags as its maps line's permissions", "[vm_flags]") {
  const Truth t = load_truth();
  const auto pids = workload_pids(t);
  REQUIRE(!pids.empty());
  std::vector<std::string> commands;
  for (int64_t pid : pids) commands.push_back(fmt::format("vm {}", pid));
  const auto listings = run_json_lines(commands);
  std::map<uint64_t, std::map<uint64_t, uint64_t>> flags_of;  // pid -> start -> vm_flags
  std::set<uint64_t> distinct;
  size_t i = 0;
  for (int64_t pid : pids) {
    for (const json& v : listings[i][0]["vmas"]) {
      REQUIRE(!v.contains("error"));
      flags_of[pid][hex(v["start"])] = hex(v["flags"]);
      distinct.insert(hex(v["flags"]));
    }
    ++i;
  }
  commands.clear();
  for (uint64_t f : distinct) commands.push_back(fmt::format("vm -f {:x}", f));
  const auto decoded_list = run_json_lines(commands);
  std::map<uint64_t, json> decoded;
  i = 0;
  for (uint64_t f : distinct) {
    const json& d = decoded_list[i++];
    CHECK(hex(d["flags"]) == f);
    CHECK(hex(d["unknown"]) == 0);  // the kernel names every bit it sets
    decoded[f] = d["names"];
  }
  size_t checked = 0;
  for (int64_t pid : pids) {
    for (const MapLine& m : truth_maps(t, pid)) {
      // The vsyscall page is no VMA of the process (the gate VMA).
      if (!flags_of[pid].count(m.start)) continue;
      const json& names = decoded[flags_of[pid][m.start]];
      INFO(fmt::format("pid {} {:x} {} names {}", pid, m.start, m.perms, names.dump()));
      CHECK(has(names, "READ") == (m.perms[0] == 'r'));
      CHECK(has(names, "WRITE") == (m.perms[1] == 'w'));
      CHECK(has(names, "EXEC") == (m.perms[2] == 'x'));
      CHECK(has(names, "MAYSHARE") == (m.perms[3] == 's'));
      if (has(names, "SHARED")) CHECK(m.perms[3] == 's');
      ++checked;
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("vm -f: a value that is not hexadecimal is a one-line error", "[vm_flags]") {
  check_one_line_error(run_failing("vm -f zz"), "-f zz");
}

// /proc/PID/status prints VmSize from mm->total_vm and VmRSS from the mm's
// rss_stat counters (get_mm_counter: the atomic count before 6.2, the
// percpu_counter's shared count after — without the per-task or per-CPU
// parts vm's RSS adds, so 0 on a 6.1 process that never folded them), the
// same words -m shows; the workload sleeps from its truth to the crash, so
// they must be equal.
TEST_CASE("vm -m shows the mm_struct /proc read", "[vm_flags]") {
  const Truth t = load_truth();
  const MemoryWorkload w = memory_workload(t);
  const json& mm = w.mm["mm_struct"];
  INFO(w.mm.dump().substr(0, 2000));
  CHECK(w.mm["mm"] == w.vm["mm"]);
  CHECK(mm["map_count"].get<uint64_t>() == truth_maps(t, w.pid).size());
  CHECK(mm["map_count"].get<uint64_t>() == w.vm["vmas"].size());
  CHECK(mm["total_vm"].get<uint64_t>() * 4 == t.status.at(w.pid).at("VmSize"));
  CHECK(hex(mm["pgd"]) == hex(w.vm["pgd"]));
  // MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES: RSS counts all but
  // the swap entries (the third, stable since 4.5), each read as /proc reads
  // it: below 0 as 0 (a count whose per-task or per-CPU part is not folded in
  // yet may be negative). 6.2+: struct percpu_counter {count, ...}; before,
  // atomic_long_t {counter}.
  const json& stat = mm["rss_stat"];
  const json& counters = stat.is_array() ? stat : stat["count"];
  REQUIRE(counters.size() >= 4);
  int64_t rss = 0;
  for (size_t i : {0, 1, 3}) {
    const json& c = counters[i];
    rss += std::max<int64_t>(0, c.contains("count") ? c["count"].get<int64_t>() : c["counter"].get<int64_t>());
  }
  const auto vm_rss = static_cast<int64_t>(t.status.at(w.pid).at("VmRSS"));
  if (stat.is_array()) {
    // 6.12's /proc/PID/status sums each percpu_counter with its per-CPU parts
    // ("mm: fix the inaccurate memory statistics issue for users", 6.16, in
    // 6.12's stable releases), as vm's RSS does.
    CHECK(w.vm["rss"].get<int64_t>() == vm_rss);
  } else {
    CHECK(rss * 4 == vm_rss);
  }
}

TEST_CASE("vm -v shows one vm_area_struct per VMA", "[vm_flags]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  auto r = run_json_lines({fmt::format("vm {}", pid), fmt::format("vm -v {}", pid), fmt::format("vm -v -x {}", pid)});
  const json& rows = r[0][0]["vmas"];
  const json& structs = r[1][0]["vmas"];
  REQUIRE(structs.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO(structs[i].dump().substr(0, 1000));
    REQUIRE(structs[i].contains("vm_area_struct"));
    CHECK(structs[i]["vma"] == rows[i]["vma"]);
    CHECK(structs[i]["vm_area_struct"]["vm_start"].get<uint64_t>() == hex(rows[i]["start"]));
    CHECK(structs[i]["vm_area_struct"]["vm_end"].get<uint64_t>() == hex(rows[i]["end"]));
    CHECK(hex(structs[i]["vm_area_struct"]["vm_mm"]) == hex(r[0][0]["mm"]));
  }
  // -x changes only the text.
  CHECK(r[2] == r[1]);
  KdiveRun text = run_kdive(suite(), "elf", fmt::format("vm -v {}", pid));
  REQUIRE(text.status == 0);
  size_t heads = 0;
  for (const std::string& line : lines_of(text.out)) heads += line == "struct vm_area_struct {" ? 1 : 0;
  CHECK(heads == rows.size());
}

TEST_CASE("vm -P translates the one VMA as vm -p does", "[vm_flags]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  auto r = run_json_lines({fmt::format("vm -p -R {:x} {}", kPagedMapping, pid)});
  const json& vmas = r[0][0]["vmas"];
  REQUIRE(vmas.size() == 1);
  const std::string vma = vmas[0]["vma"];
  const std::string address = vma.substr(2);
  // JSON: the same VMA with the same pages; foreach passes -P to each task.
  auto p = run_json_lines({fmt::format("vm -P {} {}", address, pid), fmt::format("foreach {} vm -P {}", pid, address)});
  REQUIRE(p[0][0]["vmas"].size() == 1);
  CHECK(p[0][0]["vmas"][0] == vmas[0]);
  CHECK(p[1][0]["result"][0]["vmas"] == p[0][0]["vmas"]);
  // Text: -P's lines are vm -p's section for that VMA, after the task's line.
  KdiveRun all = run_kdive(suite(), "elf", fmt::format("vm -p {}; vm -P {} {}", pid, address, pid));
  REQUIRE(all.status == 0);
  const auto lines = lines_of(all.out);
  const std::string header = lines[0];
  auto second = std::find(lines.begin() + 1, lines.end(), header);
  REQUIRE(second != lines.end());
  std::vector<std::string> single(second + 1, lines.end());
  REQUIRE(single.size() > 3);
  CHECK(single[1].rfind(address, 0) == 0);
  auto start = std::search(lines.begin(), second, single.begin(), single.begin() + 2);
  REQUIRE(start != second);
  std::vector<std::string> section(start, start + static_cast<std::ptrdiff_t>(single.size()));
  CHECK(section == single);
  // The next line of -p's output starts the next VMA (or ends the task).
  auto after = start + static_cast<std::ptrdiff_t>(single.size());
  if (after != second) CHECK(after->find("VMA") != std::string::npos);
}

TEST_CASE("vm -P and -M: an address that is not a VMA or an mm_struct is a one-line error", "[vm_flags]") {
  const Truth t = load_truth();
  const MemoryWorkload w = memory_workload(t);
  const std::string mm = w.vm["mm"].get<std::string>().substr(2);
  const std::string task = w.vm["task"].get<std::string>().substr(2);
  // An mm_struct is not a VMA, a task_struct is not an mm_struct.
  check_one_line_error(run_failing(fmt::format("vm -P {} {}", mm, w.pid)), "-P " + mm);
  check_one_line_error(run_failing(fmt::format("vm -M {} {}", task, w.pid)), "-M " + task);
  check_one_line_error(run_failing(fmt::format("vm -m -v {}", w.pid)), "exclude");
}

TEST_CASE("vm -M with the task's own mm_struct gives vm's map", "[vm_flags]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  const int64_t files = t.role("files");
  auto plain = run_json_lines({fmt::format("vm {}", pid)});
  const std::string mm = plain[0][0]["mm"].get<std::string>().substr(2);
  // Through another task (the files workload) the map is still the mm's.
  auto given = run_json_lines({fmt::format("vm -M {} {}", mm, pid), fmt::format("vm -M {} {}", mm, files)});
  CHECK(given[0][0] == plain[0][0]);
  const json& other = given[1][0];
  CHECK(other["pid"] == files);
  CHECK(other["mm"] == plain[0][0]["mm"]);
  CHECK(other["vmas"] == plain[0][0]["vmas"]);
  CHECK(other["total_vm"] == plain[0][0]["total_vm"]);
}

// The paged-out anonymous VMA's vm_file pointed at a non-canonical address
// in a copy of the dump: -v marks that VMA (its file cannot be named), shows
// every other VMA's struct as before, and exits with the data-lost status.
TEST_CASE("vm -v over a VMA that cannot be read marks it and shows the rest", "[vm_flags]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  auto r = run_json_lines({fmt::format("vm {}", pid)});
  const json& rows = r[0][0]["vmas"];
  auto bad = std::find_if(rows.begin(), rows.end(), [](const json& v) { return hex(v["start"]) == kPagedMapping; });
  REQUIRE(bad != rows.end());
  DamagedDump d = DamagedDump::copy_of(suite(), "elf");
  d.write_u64(kdive::VirtAddr{hex((*bad)["vma"]) + member_offset(suite(), "struct vm_area_struct", "vm_file")},
              0xdead000000000000ull);
  KdiveRun damaged = d.run(fmt::format("vm -v {}", pid), "--json");
  INFO(damaged.out << damaged.err);
  CHECK(damaged.status == kDataLost);
  json j = json::parse(damaged.out, nullptr, false);
  REQUIRE(!j.is_discarded());
  // 6.1+ keeps the VMA in the maple tree: an entry with its error, its
  // struct still shown; 5.10's list walk stops at it (the rbtree gives back
  // the rest): a break at that VMA, its struct not shown.
  const json& vmas = j["result"][0]["vmas"];
  REQUIRE(vmas.size() == rows.size());
  bool bad_struct_shown = false;
  for (const json& row : rows) {
    auto v = std::find_if(vmas.begin(), vmas.end(), [&](const json& v) { return v["vma"] == row["vma"]; });
    REQUIRE(v != vmas.end());
    INFO(v->dump().substr(0, 500));
    if (row["vma"] == (*bad)["vma"]) {
      CHECK(v->contains("error"));
      bad_struct_shown = v->contains("vm_area_struct");
      if (bad_struct_shown) CHECK(hex((*v)["vm_area_struct"]["vm_file"]) == 0xdead000000000000ull);
      continue;
    }
    CHECK(!v->contains("error"));
    REQUIRE(v->contains("vm_area_struct"));
    CHECK((*v)["vm_area_struct"]["vm_start"].get<uint64_t>() == hex(row["start"]));
  }
  KdiveRun text = d.run(fmt::format("vm -v {}", pid));
  CHECK(text.status == kDataLost);
  CHECK(text.out.find("(damaged: ") != std::string::npos);
  size_t heads = 0;
  for (const std::string& line : lines_of(text.out)) heads += line == "struct vm_area_struct {" ? 1 : 0;
  CHECK(heads == rows.size() - (bad_struct_shown ? 0 : 1));
}

// Debian's crash 8.0.2 reads only the 5.10 fixture. Deliberate differences:
//  * -f: crash names the bits from its own table, written for older kernels:
//    it calls 0x8000000 CAN_NONLINEAR, which 5.10 uses for VM_SOFTDIRTY, and
//    names bits 5.10 no longer has. kdive takes the names from the kernel's
//    vmaflag_names, so only the value and the names of the permission bits
//    (READ ... MAYSHARE, the same in every kernel) must match.
//  * -m and -v print the structs exactly as crash does (gdb's layout).
TEST_CASE("vm -f, -m and -v match crash on bullseye", "[vm_flags][crash]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("crash is not installed");
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  auto r = run_json_lines({fmt::format("vm {}", pid)});
  std::set<std::string> values;
  for (const json& v : r[0][0]["vmas"]) values.insert(v["flags"].get<std::string>().substr(2));
  // One crash session and one kdive run for all the commands (crash takes
  // seconds to start).
  std::vector<std::string> commands;
  for (const std::string& value : values) commands.push_back("vm -f " + value);
  for (const char* flags : {"-m", "-v", "-x -m", "-d -v"}) commands.push_back(fmt::format("vm {} {}", flags, pid));
  std::string crash_input, kdive_input;
  for (const std::string& c : commands) {
    crash_input += (crash_input.empty() ? "" : "\n") + c;
    kdive_input += c + "; ";
  }
  const auto want = crash_lines(crash_input);
  KdiveRun run = run_kdive(suite(), "elf", kdive_input);
  REQUIRE(run.status == 0);
  auto got = lines_of(run.out);
  for (std::string& line : got) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
  }
  REQUIRE(got.size() == want.size());
  const std::set<std::string> permission_names = {"READ",    "WRITE",    "EXEC",    "SHARED",
                                                  "MAYREAD", "MAYWRITE", "MAYEXEC", "MAYSHARE"};
  auto permissions = [&](const std::string& names) {
    std::vector<std::string> out;
    std::istringstream in(names);
    for (std::string n; std::getline(in, n, '|');) {
      if (permission_names.count(n)) out.push_back(n);
    }
    return out;
  };
  static const std::regex flags_line(R"(^([0-9a-f]+): \((.*)\)$)");
  size_t flag_lines = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("line " << i << "\ncrash: " << want[i] << "\nkdive: " << got[i]);
    std::smatch w, g;
    if (std::regex_match(want[i], w, flags_line)) {
      REQUIRE(std::regex_match(got[i], g, flags_line));
      CHECK(g[1] == w[1]);
      CHECK(permissions(g[2]) == permissions(w[2]));
      ++flag_lines;
      continue;
    }
    if (got[i] == want[i]) continue;
    CHECK(got[i] == want[i]);
  }
  CHECK(flag_lines == values.size());
}
