// The embedded GDB on real crashed kernels, forced with `gdb CMD`: its answers
// against the guest's ground truth (truth.txt), kdive's native engine, the
// host's own gdb run on the vmlinux file, and (bullseye) the crash utility.
// Also that the native paths (ptype of a struct, dis) never start GDB: the
// observable is `gdb` with no argument, whose JSON says whether GDB was
// initialised or loaded in the process. All of it in two kdive runs per suite
// (GDB loads once per run: seconds). Skipped when kdive was built without GDB.
//
// Naming a struct type makes GDB expand the DWARF of every compilation unit
// that defines it (~25 s and ~1.9 GB on the bookworm vmlinux): the checks that
// do (sizeof, casts to struct task_struct *, ptype) run on the suites with a
// kernel of their own; the others boot bookworm's kernel again.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;

namespace {

struct JsonRun {
  int status = 0;
  std::string err;
  std::vector<Json> lines;  // one object per command, in order
};

JsonRun run_json(const std::string& commands) {
  auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + kdive::test::quoted(std::filesystem::path(commands)) + " " +
                              quoted(dir / "vmlinux") + " " + quoted(dir / "vmcore.elf"));
  JsonRun out{r.status, r.err, {}};
  for (const std::string& line : lines_of(r.out)) {
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) out.lines.push_back(std::move(j));
  }
  return out;
}

// The result of the line whose "command" is `command` (the first such).
const Json& result_of(const JsonRun& run, const std::string& command) {
  for (const Json& j : run.lines) {
    if (j.value("command", "") == command) {
      INFO(command << ": " << j.dump());
      REQUIRE(j.contains("result"));
      return j["result"];
    }
  }
  FAIL("no output line for '" << command << "'\n" << run.err);
  static Json none;
  return none;
}

bool built_with_gdb() {
  static const std::optional<bool> built = [] {
    JsonRun r = run_json("gdb");
    if (r.lines.empty() || !r.lines[0].contains("result")) return std::optional<bool>();
    return std::optional<bool>(r.lines[0]["result"]["built_in"].get<bool>());
  }();
  REQUIRE(built.has_value());
  return *built;
}

#define SKIP_WITHOUT_GDB()                                                              \
  do {                                                                                  \
    if (!built_with_gdb()) KDIVE_SKIP("kdive was built without GDB (-DKDIVE_GDB=OFF)"); \
  } while (false)

uint64_t hex_of(const Json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

// "$1 = 42" -> "42".
std::string value_of(const std::string& gdb_output) {
  static const std::regex value(R"(^\$[0-9]+ = ([\s\S]*?)\n?$)");
  std::smatch m;
  if (std::regex_match(gdb_output, m, value)) return m[1];
  return gdb_output;
}

// The comm of a task as GDB prints a char[16]: the text up to its first NUL
// ("\"bash\", '\\000' <repeats 11 times>" -> "bash").
std::string comm_of(const std::string& printed) {
  if (printed.size() < 2 || printed[0] != '"') return printed;
  size_t end = printed.find('"', 1);
  std::string text = printed.substr(1, end - 1);
  size_t nul = text.find("\\000");
  return nul == std::string::npos ? text : text.substr(0, nul);
}

// The functions of GDB's bt lines, in order: "#3  0x... in panic (fmt=...) at ..."
// and "#0  crash_setup_regs (...) at ..." both give the name.
std::vector<std::string> gdb_bt_functions(const std::string& text) {
  static const std::regex frame(R"(^#[0-9]+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][A-Za-z0-9_.]*) )");
  std::vector<std::string> names;
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_search(line, m, frame)) names.push_back(m[1]);
  }
  return names;
}

// The whole GDB session of this file, run once per suite: the native
// questions first (GDB must not start for them), then the GDB ones.
struct Session {
  JsonRun native;  // ps, sym init_task: the addresses the GDB questions use
  JsonRun gdb;
  std::vector<TruthTask> tasks;            // truth tasks asked about
  std::map<int64_t, std::string> task_of;  // pid -> "0x..." task address
  uint64_t init_task = 0;
};

const Session& session() {
  static const Session s = [] {
    Session s;
    const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
    s.native = run_json("ps; sym init_task");
    for (const Json& row : result_of(s.native, "ps")) s.task_of[row["pid"].get<int64_t>()] = row["task"];
    s.init_task = hex_of(result_of(s.native, "sym init_task")[0]["address"]);
    // A few tasks the guest listed: its first, its last, and one in between.
    // Not workqueue workers: /proc shows their comm with the workqueue's name
    // added ("kworker/1:1-events"), task_struct.comm without it.
    std::vector<TruthTask> listed;
    for (const TruthTask& t : truth.tasks) {
      if (s.task_of.contains(t.pid) && !t.comm.starts_with("kworker/")) listed.push_back(t);
    }
    REQUIRE(listed.size() >= 3);
    s.tasks = {listed.front(), listed[listed.size() / 2], listed.back()};

    std::string script = "ptype struct list_head; dis schedule 4; gdb; p init_task.comm; gdb p init_task.comm; ";
    script += fmt::format("gdb info symbol {:#x}; info symbol {:#x}; bt; gdb bt; ", s.init_task + 8, s.init_task + 16);
    if (kernel_suite()) {
      script += "p sizeof(struct task_struct); gdb p sizeof(struct task_struct); p $; gdb ptype struct list_head; ";
      for (const TruthTask& t : s.tasks) {
        script += fmt::format("gdb p ((struct task_struct *){})->pid; gdb p ((struct task_struct *){})->comm; ",
                              s.task_of[t.pid], s.task_of[t.pid]);
      }
    }
    script += R"(gdb printf "<%s>\n", init_task.comm; p sizeof("swapper/0"); p 'A'; )";
    script += "set gdb on; p jiffies == jiffies; set gdb off; gdb";
    s.gdb = run_json(script);
    return s;
  }();
  return s;
}

}  // namespace

TEST_CASE("ptype of a struct and dis answer without starting GDB", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const JsonRun& run = session().gdb;
  const Json& ptype = result_of(run, "ptype struct list_head");
  CHECK(ptype["size"] == 16);
  CHECK_FALSE(result_of(run, "dis schedule 4").empty());
  // The status after them, before any GDB command: GDB not even initialised.
  const Json& status = run.lines.at(2);
  REQUIRE(status["command"] == "gdb");
  CHECK(status["result"]["built_in"] == true);
  CHECK(status["result"]["initialized"] == false);
  CHECK(status["result"]["loaded"] == false);
  // ... and loaded at the end, with what it cost.
  const Json& last = run.lines.back();
  REQUIRE(last["command"] == "gdb");
  CHECK(last["result"]["loaded"] == true);
  CHECK(last["result"]["load_seconds"].get<double>() > 0);
}

// Why a check that names a struct type does not run on this suite, or "".
std::string type_checks_skipped() {
  if (kernel_suite()) return "";
  return suite() + " boots bookworm's kernel: GDB's struct lookups over that vmlinux are checked on bookworm";
}

TEST_CASE("GDB reads the dump's memory: init_task.comm", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const Session& s = session();
  // init_task is the boot CPU's idle task, renamed swapper/0 when it became one.
  const std::string native_comm = result_of(s.gdb, "p init_task.comm")[0]["value"];
  const std::string gdb_comm = comm_of(value_of(result_of(s.gdb, "gdb p init_task.comm")["output"]));
  CHECK(native_comm == "swapper/0");
  CHECK(gdb_comm == native_comm);
}

TEST_CASE("GDB's struct values agree with kdive's, the host gdb's and the truth", "[gdb]") {
  SKIP_WITHOUT_GDB();
  if (std::string why = type_checks_skipped(); !why.empty()) KDIVE_SKIP(why);
  const Session& s = session();

  const uint64_t native_size = result_of(s.gdb, "p sizeof(struct task_struct)")[0]["value"];
  const std::string gdb_size = value_of(result_of(s.gdb, "gdb p sizeof(struct task_struct)")["output"]);
  CHECK(gdb_size == std::to_string(native_size));
  // The host's gdb reading the vmlinux file: a third, independent answer.
  if (have_tool("gdb")) {
    std::string host = shell_output("gdb -batch -nx -ex 'p sizeof(struct task_struct)' " +
                                    quoted(fixture_dir(suite()) / "vmlinux") + " 2>/dev/null");
    CHECK(value_of(host) == std::to_string(native_size));
  }
  // `p $`: kdive's evaluator has no value history, so GDB answers, with its last value.
  const Json& history = result_of(s.gdb, "p $");
  CHECK(history[0]["gdb"] == true);
  CHECK(history[0]["value"] == gdb_size);

  for (const TruthTask& t : s.tasks) {
    INFO("pid " << t.pid << " " << t.comm);
    const std::string task = s.task_of.at(t.pid);
    auto pid = result_of(s.gdb, fmt::format("gdb p ((struct task_struct *){})->pid", task))["output"];
    CHECK(value_of(pid) == std::to_string(t.pid));
    auto comm = result_of(s.gdb, fmt::format("gdb p ((struct task_struct *){})->comm", task))["output"];
    CHECK(comm_of(value_of(comm)) == t.comm);
  }
}

TEST_CASE("GDB names run-time addresses: the vmlinux is loaded at the KASLR offset", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const Session& s = session();
  const std::string named = result_of(s.gdb, fmt::format("gdb info symbol {:#x}", s.init_task + 8))["output"];
  CHECK(named.starts_with("init_task + 8 in section .data"));
  // A command kdive does not know goes to GDB, with a note.
  for (const Json& j : s.gdb.lines) {
    if (j["command"] != fmt::format("info symbol {:#x}", s.init_task + 16)) continue;
    CHECK(j["result"]["output"].get<std::string>().starts_with("init_task + 16 in section .data"));
    REQUIRE(j.contains("warnings"));
    CHECK(j["warnings"][0].get<std::string>().find("passed to GDB") != std::string::npos);
  }
}

TEST_CASE("C strings and characters reach GDB and the evaluator with their quotes", "[gdb]") {
  SKIP_WITHOUT_GDB();
  // init_task's comm is "swapper/0" (checked above against kdive's own p):
  // GDB's printf takes its format as a C string.
  CHECK(result_of(session().gdb, R"(gdb printf "<%s>\n", init_task.comm)")["output"] == "<swapper/0>\n");
  // kdive's evaluator has no string literals: p hands the expression to GDB,
  // and a literal of 9 characters and its NUL is 10 bytes.
  const Json& fallback = result_of(session().gdb, R"(p sizeof("swapper/0"))");
  REQUIRE(fallback.is_array());
  CHECK(fallback[0]["value"] == "10");
  // A character literal stays one for kdive's own evaluator: 'A' is 65.
  CHECK(result_of(session().gdb, "p 'A'")[0]["value"] == 65);
}

TEST_CASE("set gdb on hands plain lines to GDB until set gdb off", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const Json& r = result_of(session().gdb, "p jiffies == jiffies");
  // GDB's answer (kdive's p would give a list of values, not GDB's text).
  REQUIRE(r.is_object());
  CHECK(value_of(r["output"]) == "1");
  CHECK(session().gdb.lines.back()["command"] == "gdb");  // kdive's again after set gdb off
}

TEST_CASE("GDB's bt of the panic task walks kdive's frames", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const Session& s = session();
  std::vector<std::string> native;
  for (const Json& f : result_of(s.gdb, "bt")[0]["frames"]) {
    // GDB names a function's split-off parts (__handle_sysrq.cold, foo.isra.0)
    // by the function's DWARF name.
    if (f["symbol"].is_string()) {
      std::string name = f["symbol"];
      native.push_back(name.substr(0, name.find('.')));
    }
  }
  const std::string text = result_of(s.gdb, "gdb bt")["output"];
  std::vector<std::string> gdb = gdb_bt_functions(text);
  INFO("gdb bt:\n" << text);
  REQUIRE(!native.empty());
  REQUIRE(!gdb.empty());
  // GDB starts where kdive starts (the registers it was given are the task's),
  // after the functions inlined there, which kdive's bt lists with --inline.
  const size_t first = static_cast<size_t>(std::find(gdb.begin(), gdb.end(), native.front()) - gdb.begin());
  CHECK(first < 3);
  // And every function kdive names in the first frames is in GDB's trace,
  // in the same order (GDB adds inlined frames in between).
  size_t at = 0;
  const size_t checked = std::min<size_t>(native.size(), 4);
  for (size_t i = 0; i < checked; ++i) {
    auto it = std::find(gdb.begin() + static_cast<long>(at), gdb.end(), native[i]);
    CHECK(it != gdb.end());
    if (it != gdb.end()) at = static_cast<size_t>(it - gdb.begin()) + 1;
  }
}

TEST_CASE("GDB's ptype of struct list_head", "[gdb]") {
  SKIP_WITHOUT_GDB();
  if (std::string why = type_checks_skipped(); !why.empty()) KDIVE_SKIP(why);
  const std::string text = result_of(session().gdb, "gdb ptype struct list_head")["output"];
  CHECK(text == "type = struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\n");
}

TEST_CASE("GDB's answers match the crash utility's GDB (bullseye)", "[gdb]") {
  SKIP_WITHOUT_GDB();
  if (std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  const Session& s = session();
  auto crash = crash_lines("p sizeof(struct task_struct)\np init_task.comm");
  REQUIRE(crash.size() >= 2);
  CHECK(value_of(crash[0]) == value_of(result_of(s.gdb, "gdb p sizeof(struct task_struct)")["output"]));
  CHECK(value_of(crash[1] + "\n") == value_of(result_of(s.gdb, "gdb p init_task.comm")["output"]));
}

TEST_CASE("after mod -s, GDB knows the module's functions where the kernel loaded them", "[gdb]") {
  SKIP_WITHOUT_GDB();
  const auto dir = fixture_dir(suite());
  const Truth t = Truth::load(dir / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module");
  REQUIRE(!t.test_module_chain.empty());
  const std::string& function = t.test_module_chain.front();
  auto run_time = t.test_module_symbols.find(function);
  REQUIRE(run_time != t.test_module_symbols.end());
  const std::string object = (dir / "modules" / (t.test_module + ".ko")).string();
  JsonRun r = run_json(fmt::format("mod -s {} {}; gdb info line {}", t.test_module, object, function));
  const std::string line = result_of(r, "gdb info line " + function)["output"];
  // The guest's own /proc/kallsyms says where the function was.
  CHECK(line.find(fmt::format("starts at address {:#x} <{}>", run_time->second, function)) != std::string::npos);
}
