// crash's `set` variables on real kernels: print_max, print_array and
// null-stop change what p and struct print of real arrays (init_task's comm
// and its CPU mask), zero_excluded reads a page a filtered dump left out as
// zeros, and `set -v` lists what crash 8.0.2 lists on the one fixture it reads.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>

#include "crash_compare.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "readers/open_dump.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

Truth truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

// p's value: from the line "$N = VALUE" on (the lines `set` printed before
// it dropped), that line reduced to VALUE.
std::vector<std::string> p_lines(const std::string& out) {
  std::vector<std::string> lines = lines_of(out);
  auto first = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.starts_with("$"); });
  REQUIRE(first != lines.end());
  lines.erase(lines.begin(), first);
  std::smatch m;
  REQUIRE(std::regex_match(lines[0], m, std::regex(R"(\$\d+ = (.*))")));
  lines[0] = m[1];
  return lines;
}

// The elements of a one-line "{a, b, c}" (or "{a, b...}") array.
std::vector<std::string> elements(std::string text) {
  REQUIRE(text.starts_with("{"));
  REQUIRE(text.ends_with("}"));
  text = text.substr(1, text.size() - 2);
  if (text.ends_with("...")) text.resize(text.size() - 3);
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    size_t comma = text.find(", ", at);
    out.push_back(text.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("set print_max, print_array, null-stop change what p and struct print", "[set_vars]") {
  // CPU 0's idle task is named "swapper/0" on every kernel (init_idle); its
  // comm[16] holds that and 7 NULs.
  CHECK(p_lines(kdive_ok("p init_task.comm"))[0] == R"("swapper/0\000\000\000\000\000\000")");
  CHECK(p_lines(kdive_ok("set null-stop on; p init_task.comm"))[0] == R"("swapper/0")");
  // Characters go in runs of one byte: at 4 the run "pp" is shown whole; with
  // null-stop the string is cut at 4 exactly.
  CHECK(p_lines(kdive_ok("set print_max 4; p init_task.comm"))[0] == R"("swapp"...)");
  CHECK(p_lines(kdive_ok("set print_max 4 null-stop on; p init_task.comm"))[0] == R"("swap"...)");

  // cpus_mask.bits: NR_CPUS/64 longs (Debian: 8192 CPUs, 128 longs), fewer
  // than the default 256 shown, so all of them, then only 3 at print_max 3.
  const std::vector<std::string> all = elements(p_lines(kdive_ok("p init_task.cpus_mask.bits"))[0]);
  REQUIRE(all.size() > 3);
  CHECK(all.size() < 256);
  CHECK(elements(p_lines(kdive_ok("set print_max 0; p init_task.cpus_mask.bits"))[0]) == all);
  const std::string three = p_lines(kdive_ok("set print_max 3; p init_task.cpus_mask.bits"))[0];
  CHECK(three == fmt::format("{{{}, {}, {}...}}", all[0], all[1], all[2]));
  // One element per line, two columns in; "..." after the last one shown.
  const auto per_line = p_lines(kdive_ok("set print_array on print_max 3; p init_task.cpus_mask.bits"));
  CHECK(per_line ==
        std::vector<std::string>{"{", "  " + all[0] + ",", "  " + all[1] + ",", "  " + all[2] + "...", "}"});

  // struct prints through the same settings (a member line, and a whole
  // struct cpumask with its array nested two columns deeper).
  const uint64_t init_task = truth().ksym.at("init_task");
  CHECK(kdive_ok(fmt::format("set print_max 2; struct task_struct.comm {:x}", init_task)) ==
        "print_max: 2\n  comm = \"sw\"...,\n");
  CHECK(kdive_ok(fmt::format("set null-stop on; struct task_struct.comm {:x}", init_task)) ==
        "null-stop: on\n  comm = \"swapper/0\",\n");
  const std::string mask = p_lines(kdive_ok("p &init_task.cpus_mask"))[0];
  std::smatch m;
  REQUIRE(std::regex_search(mask, m, std::regex(R"(0x([0-9a-f]+))")));
  CHECK(lines_of(kdive_ok("set print_array on print_max 2; struct cpumask " + std::string(m[1]))) ==
        std::vector<std::string>{"print_array: on", "print_max: 2", "struct cpumask {", "  bits = {",
                                 "    " + all[0] + ",", "    " + all[1] + "...", "  }", "}"});

  // The JSON of a set names each variable it set.
  Json j = json_result_of(suite(), "set print_max 3 print_array on null-stop on");
  CHECK(j == Json{{"print_max", 3}, {"print_array", "on"}, {"null-stop", "on"}});
}

TEST_CASE("set: bad values are one line naming the variable, and the next command runs", "[set_vars]") {
  KdiveRun r = run_kdive(suite(), "elf", "set print_max lots; set hash maybe; set unwind on; p init_task.pid");
  CHECK(r.status != 0);
  CHECK(r.err ==
        "set: print_max must be a number (decimal, or hex with 0x), not 'lots'\n"
        "set: hash must be on or off, not 'maybe'\n"
        "set: unwind on: kdive's bt has no DWARF unwinder to turn on (it reads the ORC tables)\n");
  CHECK(r.out.find(" = 0\n") != std::string::npos);
}

TEST_CASE("set zero_excluded reads the pages a filtered dump left out as zeros", "[set_vars]") {
  // A dump without free and user pages (makedumpfile -d 31): the kdump suite
  // has one; for the others kdive-dump makes one from the ELF dump.
  TempDir tmp("set-vars");
  fs::path fixture = fixture_dir(suite());
  fs::path filtered = fixture / "vmcore.kdump-d31";
  if (!fs::exists(filtered)) {
    filtered = tmp.path / "vmcore.d31";
    std::string cmd = quoted(KDIVE_DUMP_BINARY) + " -d 31 -c " + quoted(fixture / "vmcore.elf") + " " +
                      quoted(filtered) + " > " + quoted(tmp.path / "dump.log") + " 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  // A page the filtered dump says it left out: free pages lie mostly at the
  // top of memory, so the search goes down from there.
  std::optional<uint64_t> excluded;
  {
    auto dump = kdive::open_dump({filtered.string()});
    std::array<std::byte, 8> probe{};
    auto ranges = dump->ranges();
    for (auto r = ranges.rbegin(); r != ranges.rend() && !excluded; ++r) {
      const uint64_t page = dump->page_size();
      for (uint64_t off = r->size / page * page; off >= page && !excluded; off -= page) {
        kdive::PhysAddr at = r->start + (off - page);
        if (dump->read_phys(at, probe) == kdive::PageState::Excluded) excluded = at.value();
      }
    }
  }
  REQUIRE(excluded);
  const std::string files = quoted(fixture / "vmlinux") + " " + quoted(filtered);
  const std::string rd = fmt::format("rd -p {:x} 2", *excluded);
  KdiveRun off = run_kdive_args("-b -c " + quoted(fs::path(rd)) + " " + files);
  CHECK(off.status != 0);
  CHECK(off.err.find("excluded") != std::string::npos);
  KdiveRun on = run_kdive_args("-b -c " + quoted(fs::path("set zero_excluded on; " + rd)) + " " + files);
  INFO(on.err);
  CHECK(on.status == 0);
  const auto lines = lines_of(on.out);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "zero_excluded: on");
  // One line of two zero quadwords at the page's address (rd's columns).
  CHECK(std::regex_match(
      lines[1], std::regex(fmt::format(R"( *0*{:x}:  0000000000000000 0000000000000000 +\.{{16}})", *excluded))));
  // Off again: the error is back.
  KdiveRun again =
      run_kdive_args("-b -c " + quoted(fs::path("set zero_excluded on; set zero_excluded off; " + rd)) + " " + files);
  CHECK(again.status != 0);
  CHECK(again.err.find("excluded") != std::string::npos);
}

TEST_CASE("set -v lists crash's variables with crash's values", "[set_vars]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  const std::vector<std::string> commands = {
      "set -v",           "set print_max 4",    "p init_task.comm",           "set null-stop on",
      "p init_task.comm", "set print_array on", "p init_task.cpus_mask.bits", "set redzone off",
      "set redzone",      "set redzone 1"};
  const auto crash = crash_outputs(commands);
  const auto kdive = kdive_outputs(commands);
  // Deliberate differences in `set -v`:
  //  - scroll: crash -s on a pipe says "off (none)"; kdive's scroll stays on
  //    (it pages only at an interactive prompt) and names its pager.
  //  - silent: the test runs crash with -s, kdive without.
  //  - edit: crash's default is vi; kdive leaves readline's (~/.inputrc).
  //  - namelist, dumpfile: each names the files as it was given them.
  //  - output, srcdir: kdive's own, after crash's.
  const std::set<std::string> differ = {"scroll", "silent", "edit", "namelist", "dumpfile", "output", "srcdir"};
  std::map<std::string, std::string> ours, theirs;
  std::vector<std::string> our_order, their_order;
  auto read = [](const std::vector<std::string>& lines, auto& map, auto& order) {
    for (const auto& l : lines) {
      auto colon = l.find(": ");
      REQUIRE(colon != std::string::npos);
      std::string name = l.substr(0, colon);
      name.erase(0, name.find_first_not_of(' '));
      REQUIRE(l.substr(0, colon).size() == 14);  // right-aligned in 14 columns
      map[name] = l;
      order.push_back(name);
    }
  };
  read(crash[0], theirs, their_order);
  read(kdive[0], ours, our_order);
  // crash's variables in crash's order, then kdive's own.
  REQUIRE(our_order.size() == their_order.size() + 2);
  CHECK(std::vector<std::string>(our_order.begin(), our_order.begin() + their_order.size()) == their_order);
  for (const auto& [name, line] : theirs) {
    if (differ.contains(name)) continue;
    CHECK(ours[name] == line);
  }
  // Setting and printing: the same lines but p's "$N = ".
  auto strip = [](std::vector<std::string> lines) {
    for (auto& l : lines) l = std::regex_replace(l, std::regex(R"(^\$\d+ = )"), "");
    return lines;
  };
  for (size_t c = 1; c < crash.size(); ++c) {
    INFO("command " << c);
    CHECK(strip(kdive[c]) == strip(crash[c]));
  }
}

namespace {

// The JSON result of `command` run after `set offline hide` (the second JSON
// line: the first is set's).
Json hidden_result(const std::string& command) {
  const fs::path dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c 'set offline hide; " + command + "' '" + (dir / "vmlinux").string() +
                              "' '" + (dir / "vmcore.elf").string() + "'");
  INFO(command << "\n" << r.out << r.err);
  REQUIRE(r.status == 0);
  std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(lines.size() >= 2);
  Json j = Json::parse(lines[1], nullptr, false);
  REQUIRE(j.contains("result"));
  return j["result"];
}

// The CPUs a result list marks offline ({cpu, offline: true} elements).
std::set<int> marked_offline(const Json& list) {
  std::set<int> cpus;
  for (const Json& e : list) {
    if (e.value("offline", false)) cpus.insert(e["cpu"].get<int>());
  }
  return cpus;
}

}  // namespace

TEST_CASE("set offline hide: the CPUs out of cpu_online_mask show as [OFFLINE], the rest as before", "[set_vars]") {
  // Which CPUs were offline, read through the expression evaluator (not the
  // cpumask reader the commands use): panic's stop of the other CPUs clears
  // their bits on the QEMU-made fixtures; the kexec capture's NMI stop does not.
  const int cpus = json_result_of(suite(), "mach")["cpus"].get<int>();
  const Json mask = json_result_of(suite(), "p __cpu_online_mask.bits[0]");
  const uint64_t bits = std::stoull(mask[0]["value"].is_string() ? mask[0]["value"].get<std::string>()
                                                                 : std::to_string(mask[0]["value"].get<uint64_t>()),
                                    nullptr, 0);
  std::set<int> offline;
  for (int c = 0; c < cpus; ++c) {
    if (!(bits & (1ull << c))) offline.insert(c);
  }
  CAPTURE(bits, cpus);

  CHECK(marked_offline(hidden_result("runq")["cpus"]) == offline);
  CHECK(marked_offline(hidden_result("timer -r")["hrtimers"]) == offline);
  CHECK(marked_offline(hidden_result("kmem -o")["per_cpu_offsets"]) == offline);
  CHECK(marked_offline(hidden_result("mach -c")) == offline);
  CHECK(marked_offline(hidden_result("p this_cpu_off:a")) == offline);
  CHECK(marked_offline(hidden_result("struct rq.cpu runqueues:a")) == offline);
  // Online CPUs keep their data; with offline show (the default) none is marked.
  for (const Json& cpu : hidden_result("runq")["cpus"]) {
    if (!offline.contains(cpu["cpu"].get<int>())) CHECK(cpu.contains("current"));
  }
  CHECK(marked_offline(json_result_of(suite(), "runq")["cpus"]).empty());

  // Text: one " CPU n: [OFFLINE]" line per offline CPU in runq -t, nothing else.
  KdiveRun t = run_kdive(suite(), "elf", "set offline hide; runq -t");
  REQUIRE(t.status == 0);
  std::set<int> text_offline;
  std::smatch m;
  for (const std::string& l : lines_of(t.out)) {
    if (std::regex_match(l, m, std::regex(R"(\s*CPU (\d+): \[OFFLINE\])"))) text_offline.insert(std::stoi(m[1]));
  }
  CHECK(text_offline == offline);

  // Choosing an offline CPU's task is refused, in one line.
  for (int c : offline) {
    KdiveRun s = run_kdive(suite(), "elf", fmt::format("set offline hide; set -c {}", c));
    CHECK(s.status == 1);
    CHECK_THAT(s.err, Catch::Contains(fmt::format("set: invalid cpu number: cpu {} is OFFLINE", c)));
    KdiveRun b = run_kdive(suite(), "elf", fmt::format("set offline hide; bt -c {}", c));
    CHECK(b.status == 1);
    CHECK_THAT(b.err, Catch::Contains(fmt::format("bt: CPU {} is OFFLINE", c)));
  }
}

TEST_CASE("set offline hide matches crash line by line", "[set_vars]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  // runq -T is left alone by both; bt -a is not hidden by crash either.
  const std::vector<std::string> commands = {"set offline hide", "runq",
                                             "runq -t",          "runq -m",
                                             "runq -g",          "timer",
                                             "timer -r",         "kmem -o",
                                             "mach -c",          "struct rq.cpu runqueues:a",
                                             "p cpu_number:a",   "p cpu_number",
                                             "ptov 0:a",         "irq -s"};
  const auto crash = crash_outputs(commands);
  const auto kdive = kdive_outputs(commands);
  // Deliberate difference: p's "$N = " history numbers (kdive numbers its own).
  auto strip = [](std::vector<std::string> lines) {
    for (auto& l : lines) l = std::regex_replace(l, std::regex(R"(\$\d+ = )"), "");
    return lines;
  };
  bool any_offline = false;
  for (size_t c = 0; c < commands.size(); ++c) {
    INFO(commands[c]);
    CHECK(strip(kdive[c]) == strip(crash[c]));
    for (const auto& l : kdive[c]) any_offline |= l.find("OFFLINE") != std::string::npos;
  }
  // The fixture has an offline CPU (panic's stop), or this compares nothing new.
  CHECK(any_offline);
}
