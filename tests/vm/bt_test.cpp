// bt on real crashed kernels, against what the guest's console printed at the
// panic and what every task must look like.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "console_log.hpp"
#include "dump_edit.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;

namespace {

nlohmann::json json_result(const std::string& command) { return json_result_of(suite(), command); }

std::vector<std::string> frame_names(const nlohmann::json& trace) {
  std::vector<std::string> names;
  for (const auto& f : trace["frames"]) names.push_back(f["symbol"].get<std::string>());
  return names;
}

// The console's last Call Trace (the panic's; after an Oops with
// panic_on_oops, the Oops's own), from `panic` (or vpanic) down when it holds
// it, without the "? " entries the kernel's own unwinder only guessed. The
// trace may cross stacks (<IRQ> ... </IRQ>) and hold a register block.
std::vector<std::string> console_call_trace() {
  std::vector<std::string> names;
  bool in_trace = false;
  static const std::regex frame(R"(^ ([A-Za-z0-9_.]+)\+0x[0-9a-f]+/0x[0-9a-f]+( \[.*\])?$)");
  static const std::regex registers(R"(^(RIP|RSP|RAX|RDX|RBP|R10|R13|Code): .*)");
  for (const ConsoleLine& l : console_kernel_lines(fixture_dir(suite()))) {
    if (l.text == "Call Trace:") {
      in_trace = true;
      names.clear();
      continue;
    }
    if (!in_trace) continue;
    if (l.text == " </TASK>") {
      in_trace = false;
      continue;
    }
    if (l.text.rfind(" <", 0) == 0) continue;  // <IRQ>, </IRQ>, <TASK>: where the stacks change
    if (l.text.rfind(" ? ", 0) == 0) continue;
    if (std::regex_match(l.text, registers)) continue;
    std::smatch m;
    if (std::regex_match(l.text, m, frame)) {
      names.push_back(m[1]);
    } else if (!names.empty()) {
      in_trace = false;
    }
  }
  for (const char* start : {"vpanic", "panic"}) {
    auto at = std::find(names.begin(), names.end(), start);
    if (at != names.end()) return {at, names.end()};
  }
  return names;
}

bool is_subsequence(const std::vector<std::string>& small, const std::vector<std::string>& big) {
  size_t i = 0;
  for (const auto& b : big) {
    if (i < small.size() && small[i] == b) ++i;
  }
  return i == small.size();
}

}  // namespace

TEST_CASE("bt of the panic task holds the console's Call Trace from panic down", "[bt]") {
  const std::vector<std::string> console = console_call_trace();
  REQUIRE(console.size() >= 5);
  nlohmann::json traces = json_result("bt -p");
  REQUIRE(traces.size() == 1);
  const std::vector<std::string> ours = frame_names(traces[0]);
  INFO("console: " << nlohmann::json(console).dump() << "\nkdive: " << nlohmann::json(ours).dump());
  CHECK(is_subsequence(console, ours));
  CHECK_FALSE(traces[0].contains("error"));
  REQUIRE_FALSE(traces[0]["frames"].empty());
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (t.panic_idle_cpu) return;  // a keyboard interrupt of the idle task: no user context behind it
  // It ends at the entry from user space, with the user-mode registers.
  const auto& last = traces[0]["frames"].back();
  CHECK(last["user_mode"] == true);
  CHECK(last["registers"]["cs"] == "0x33");
}

TEST_CASE("bt of a module oops: the exception frame, the module's functions by name, the syscall path", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module to oops in");
  nlohmann::json trace = json_result("bt -p")[0];
  const nlohmann::json& frames = trace["frames"];
  // The register block of the page fault, inside the module's innermost function.
  auto exception = std::find_if(frames.begin(), frames.end(), [](const nlohmann::json& f) {
    return f.contains("registers") && f["user_mode"] == false;
  });
  REQUIRE(exception != frames.end());
  const std::string& module = t.test_module;
  const std::vector<std::string>& chain = t.test_module_chain;  // innermost first
  REQUIRE_FALSE(chain.empty());
  // Then the module's functions, innermost first, each named with its module.
  std::vector<std::string> module_frames;
  for (auto f = exception + 1; f != frames.end(); ++f) {
    if ((*f)["module"] == module) module_frames.push_back((*f)["symbol"].get<std::string>());
  }
  INFO(trace.dump());
  CHECK(module_frames == chain);
  const std::vector<std::string> names = frame_names(trace);
  CHECK(is_subsequence({"vfs_write", "ksys_write", "do_syscall_64"}, names));
  CHECK(frames.back()["user_mode"] == true);
}

TEST_CASE("bt of a panic in hard-IRQ context crosses from the IRQ stack to the interrupted task's", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (!t.panic_idle_cpu) KDIVE_SKIP("this fixture's panic did not run in a keyboard interrupt");
  nlohmann::json trace = json_result("bt -p")[0];
  std::vector<std::string> stacks;
  for (const auto& f : trace["frames"]) {
    if (stacks.empty() || stacks.back() != f["stack"]) stacks.push_back(f["stack"].get<std::string>());
  }
  INFO(trace.dump());
  CHECK(stacks == std::vector<std::string>{"irq", "task"});
  const std::vector<std::string> names = frame_names(trace);
  CHECK(is_subsequence(
      {"panic", "sysrq_handle_crash", "i8042_interrupt", "common_interrupt", "asm_common_interrupt", "do_idle"},
      names));
}

TEST_CASE("bt -a: the other CPU unwinds through stop_this_cpu into its interrupted user context", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  nlohmann::json traces = json_result("bt -a");
  REQUIRE(traces.size() == static_cast<size_t>(t.cpus));
  // A kexec dump's other CPUs were stopped by the crash NMI instead, whose
  // handler halts in crash_nmi_callback (no stop IPI: the capture kernel
  // starts from the panic CPU).
  const bool kexec = recipe(suite()).kexec;
  const std::string stop = kexec ? "crash_nmi_callback" : "stop_this_cpu";
  int stopped = 0;
  for (const auto& trace : traces) {
    const std::vector<std::string> names = frame_names(trace);
    INFO(trace.dump());
    CHECK_FALSE(trace.contains("error"));
    for (const auto& f : trace["frames"]) CHECK(f["guessed"] == false);
    if (std::find(names.begin(), names.end(), stop) == names.end()) continue;
    ++stopped;
    CHECK(trace["frames"].back()["user_mode"] == true);
    if (kexec) {
      // Found on the stack (the note holds the user-mode registers the NMI
      // interrupted), said so on that frame only; then the NMI's own frames.
      CHECK(names.front() == stop);
      CHECK(trace["frames"][0]["recovered"] == "found on the stack");
      for (size_t i = 1; i < trace["frames"].size(); ++i) CHECK(trace["frames"][i]["recovered"].is_null());
      CHECK(names.back() == "asm_exc_nmi");
      CHECK(std::find(names.begin(), names.end(), "exc_nmi") != names.end());
    }
  }
  // Every CPU but the one that panicked was stopped; here it ran user code.
  CHECK(stopped == t.cpus - 1);
}

TEST_CASE("bt of a kexec dump's panic task: exact frames from __crash_kexec to the system call", "[bt]") {
  if (!recipe(suite()).kexec) KDIVE_SKIP("only a kexec dump starts the panic CPU inside __crash_kexec");
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t pid = t.role("panic");
  nlohmann::json traces = json_result(fmt::format("bt {}", pid));
  REQUIRE(traces.size() == 1);
  const nlohmann::json& trace = traces[0];
  INFO(trace.dump());
  CHECK(trace["pid"] == pid);
  CHECK_FALSE(trace.contains("error"));
  const std::vector<std::string> names = frame_names(trace);
  const std::vector<std::string> top = {"__crash_kexec", "panic", "sysrq_handle_crash", "__handle_sysrq.cold",
                                        "write_sysrq_trigger"};
  REQUIRE(names.size() > top.size());
  CHECK(std::vector<std::string>(names.begin(), names.begin() + 5) == top);
  CHECK(names.back().starts_with("entry_SYSCALL_64"));
  CHECK(trace["frames"].back()["user_mode"] == true);
  // Nothing guessed; panic's frame says how it was found (ORC is undefined at
  // the saved rip: the unwind resynchronised there), every other is exact.
  for (size_t i = 0; i < trace["frames"].size(); ++i) {
    INFO("frame " << i);
    CHECK(trace["frames"][i]["guessed"] == false);
    CHECK(trace["frames"][i]["recovered"].is_null() == (i != 1));
  }
  // The text form: no damage marker, no guessed frame.
  KdiveRun r = run_kdive(suite(), "kdump-zlib", fmt::format("bt {}", pid));
  CHECK(r.status == 0);
  CHECK(r.out.find("guessed") == std::string::npos);
  CHECK(r.out.find("damaged") == std::string::npos);
}

TEST_CASE("foreach bt: every task unwinds to its natural end", "[bt]") {
  nlohmann::json traces = json_result("foreach bt");
  nlohmann::json tasks = json_result("ps");
  CHECK(traces.size() == tasks.size());
  static const std::set<std::string> kThreadStarts = {"ret_from_fork", "ret_from_fork_asm"};
  static const std::set<std::string> kIdleStarts = {"secondary_startup_64",      "secondary_startup_64_no_verify",
                                                    "common_startup_64",         "start_kernel",
                                                    "x86_64_start_reservations", "x86_64_start_kernel"};
  size_t user = 0, kthreads = 0, idle = 0;
  for (const auto& entry : traces) {
    INFO(entry.dump());
    REQUIRE(entry.contains("result"));
    const nlohmann::json& trace = entry["result"][0];
    CHECK_FALSE(trace.contains("error"));
    REQUIRE_FALSE(trace["frames"].empty());
    const auto& last = trace["frames"].back();
    const std::string name = last["symbol"].get<std::string>();
    if (last.value("user_mode", false)) {
      ++user;
    } else if (kThreadStarts.count(name)) {
      ++kthreads;
    } else if (kIdleStarts.count(name)) {
      ++idle;
    } else {
      FAIL("a backtrace ends at " << name);
    }
  }
  CHECK(user + kthreads + idle == traces.size());
  CHECK(user > 0);
  CHECK(kthreads > 0);
  CHECK(idle > 0);
}

TEST_CASE("a zeroed stack ends that one backtrace with a marker; every other task still unwinds", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  const kdive::VirtAddr task = task_address(suite(), sleeper);
  const uint64_t sp = print_value(suite(), fmt::format("((struct task_struct *){:#x})->thread.sp", task.value()));
  // The frame schedule() left at thread.sp and what lies above it, up to the
  // end of that stack page: the unwinder finds nothing to follow.
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(kdive::VirtAddr{sp}, 4096 - sp % 4096);

  KdiveRun r = d.run("foreach bt", "--json");
  CHECK(r.status == kDataLost);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.contains("result"));
  size_t damaged = 0, sound = 0;
  for (const auto& entry : j["result"]) {
    INFO(entry.dump());
    const nlohmann::json& trace = entry["result"][0];
    if (entry["pid"] == sleeper) {
      CHECK(trace.contains("error"));
      ++damaged;
    } else {
      CHECK_FALSE(trace.contains("error"));
      ++sound;
    }
  }
  CHECK(damaged == 1);
  CHECK(sound + 1 == j["result"].size());
  KdiveRun text = d.run(fmt::format("bt {}", sleeper));
  CHECK(text.status == kDataLost);
  CHECK_THAT(text.out, Catch::Matchers::Contains("(damaged: "));
}

TEST_CASE("bt -r: the whole task stack, and each return address at the slot bt names", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  nlohmann::json raw = json_result(fmt::format("bt -r {}", sleeper))[0]["raw"];
  // x86_64's THREAD_SIZE is 16 KiB (no Debian kernel enables KASAN, which doubles it).
  REQUIRE(raw.size() == 16384 / 8);
  std::map<std::string, std::string> word_at;
  for (const auto& w : raw) word_at[w["address"].get<std::string>()] = w["value"].get<std::string>();
  nlohmann::json frames = json_result(fmt::format("bt {}", sleeper))[0]["frames"];
  size_t checked = 0;
  for (size_t i = 1; i < frames.size(); ++i) {
    if (frames[i - 1].contains("registers")) continue;  // this frame's ip came from a register block
    INFO(frames[i].dump());
    REQUIRE(word_at.count(frames[i]["sp"].get<std::string>()) == 1);
    CHECK(word_at[frames[i]["sp"].get<std::string>()] == frames[i]["ip"]);
    ++checked;
  }
  CHECK(checked >= 4);  // schedule, the sleep, the syscall, do_syscall_64 at least
}

TEST_CASE("bt -v: no stack overflow on the fixture; an overwritten stack end is found, and only it", "[bt]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  CHECK(json_result("bt -v").empty());
  const int64_t sleeper = t.role("sleeper");
  const kdive::VirtAddr task = task_address(suite(), sleeper);
  const kdive::VirtAddr stack_end{
      print_value(suite(), fmt::format("((struct task_struct *){:#x})->stack", task.value()))};
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(stack_end, 0x4141414141414141);  // what a runaway stack leaves over the magic
  KdiveRun r = d.run("bt -v", "--json");
  CHECK(r.status == 0);  // a finding, not lost data
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.contains("result"));
  REQUIRE(j["result"].size() == 1);
  CHECK(j["result"][0]["pid"] == sleeper);
  CHECK(j["result"][0]["stack_end"] == fmt::format("{:#x}", stack_end.value()));
  CHECK(j["result"][0]["value"] == "0x4141414141414141");
}
