// bt -e / -E (the search of whole stacks for saved pt_regs blocks) and bt -F
// (frame data with symbol addresses named) on real crashed kernels, against
// the unwinder's own register blocks, the console's "RIP:" lines and pt_regs
// blocks written into a copy of the dump.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
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

constexpr uint64_t kThreadSize = 16384;  // x86_64 THREAD_SIZE: no Debian kernel enables KASAN, which doubles it
constexpr uint64_t kPtRegsSize = 21 * 8;

nlohmann::json json_result(const std::string& command) { return json_result_of(suite(), command); }

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

uint64_t stack_base(int64_t pid) {
  const kdive::VirtAddr task = task_address(suite(), pid);
  return print_value(suite(), fmt::format("((struct task_struct *){:#x})->stack", task.value()));
}

// The frame of `bt` that carries a register block of the given mode.
std::optional<nlohmann::json> register_frame(const nlohmann::json& trace, bool user_mode) {
  for (const auto& f : trace["frames"]) {
    if (f.contains("registers") && f["user_mode"] == user_mode) return f;
  }
  return std::nullopt;
}

// Every frame of a trace with a register block of that mode, innermost first.
std::vector<nlohmann::json> register_frames(const nlohmann::json& trace, bool user_mode) {
  std::vector<nlohmann::json> out;
  for (const auto& f : trace["frames"]) {
    if (f.contains("registers") && f["user_mode"] == user_mode) out.push_back(f);
  }
  return out;
}

// The console's "RIP: <cs>:..." lines' text after the selector, in order,
// e.g. "kdive_oops_inner+0xc/0x20 [kdive_oops]" or "0x47b7a0".
std::vector<std::string> console_rips(const std::string& cs) {
  std::vector<std::string> out;
  const std::string prefix = "RIP: " + cs + ":";
  for (const ConsoleLine& l : console_kernel_lines(fixture_dir(suite()))) {
    if (l.text.rfind(prefix, 0) == 0) out.push_back(l.text.substr(prefix.size()));
  }
  return out;
}

// The last of them.
std::optional<std::string> console_rip(const std::string& cs) {
  auto all = console_rips(cs);
  return all.empty() ? std::nullopt : std::optional<std::string>(all.back());
}

// "name+0xc/0x20 [module]" as kdive's exception RIP names it: "name+12".
std::string decimal_offset(const std::string& console) {
  static const std::regex kFunction(R"(^([A-Za-z0-9_.]+)\+0x([0-9a-f]+)/0x[0-9a-f]+.*)");
  std::smatch m;
  REQUIRE(std::regex_match(console, m, kFunction));
  return fmt::format("{}+{}", m[1].str(), std::stoull(m[2].str(), nullptr, 16));
}

}  // namespace

TEST_CASE("bt -e of a sleeping user task finds the user-mode pt_regs at the top of its stack",
          "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  const nlohmann::json found = json_result(fmt::format("bt -e {}", sleeper));
  REQUIRE(found.size() == 1);
  CHECK(found[0]["pid"] == sleeper);
  const nlohmann::json trace = json_result(fmt::format("bt {}", sleeper))[0];
  const auto user = register_frame(trace, true);
  REQUIRE(user);
  // The entry from user space saves its block at the very top of the task
  // stack (task_pt_regs()), and the unwinder's last frame shows the same registers.
  const std::string top = hex(stack_base(sleeper) + kThreadSize - kPtRegsSize);
  const nlohmann::json& frames = found[0]["exception_frames"];
  auto at_top = std::find_if(frames.begin(), frames.end(), [&](const auto& f) { return f["address"] == top; });
  INFO(found.dump());
  REQUIRE(at_top != frames.end());
  CHECK((*at_top)["user_mode"] == true);
  CHECK((*at_top)["stack"] == "task");
  CHECK((*at_top)["registers"] == (*user)["registers"]);
  CHECK((*at_top)["registers"]["cs"] == "0x33");
  // A sleeping task was not interrupted in the kernel: no kernel-mode block
  // whose rip is where it sleeps could be on its stack.
  for (const auto& f : frames) CHECK_FALSE(f.contains("error"));
}

TEST_CASE("bt -e of the module oops finds the fault's kernel-mode frame and the syscall's user-mode frame",
          "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module to oops in");
  const nlohmann::json trace = json_result("bt -p")[0];
  const auto fault = register_frame(trace, false);
  REQUIRE(fault);
  const nlohmann::json found = json_result("bt -e -p")[0]["exception_frames"];
  INFO(found.dump());
  auto kernel = std::find_if(found.begin(), found.end(), [](const auto& f) { return f["user_mode"] == false; });
  REQUIRE(kernel != found.end());
  CHECK((*kernel)["registers"] == (*fault)["registers"]);
  const auto console_kernel = console_rip("0010");
  REQUIRE(console_kernel);
  CHECK((*kernel)["exception_rip"] == decimal_offset(*console_kernel));
  // The oops also printed the user registers of the write() that led to it.
  const auto console_user = console_rip("0033");
  REQUIRE(console_user);
  auto user = std::find_if(found.begin(), found.end(), [](const auto& f) { return f["user_mode"] == true; });
  REQUIRE(user != found.end());
  CHECK((*user)["registers"]["rip"] == *console_user);
}

TEST_CASE("bt -E finds the frame the keyboard interrupt saved on the idle CPU", "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (!t.panic_idle_cpu) KDIVE_SKIP("this fixture's panic did not run in a keyboard interrupt");
  const int cpu = *t.panic_idle_cpu;
  const nlohmann::json all = json_result("bt -E");
  REQUIRE(all.size() == static_cast<size_t>(t.cpus));
  const nlohmann::json one = json_result(fmt::format("bt -E -c {}", cpu));
  REQUIRE(one.size() == 1);
  CHECK(one[0] == all[cpu]);
  CHECK(one[0]["cpu"] == cpu);
  const std::vector<std::string> searched = one[0]["searched"];
  CHECK(std::count(searched.begin(), searched.end(), "irq") == 1);
  CHECK(std::count(searched.begin(), searched.end(), "nmi") == 1);
  CHECK(std::count(searched.begin(), searched.end(), "task") == 1);
  // The keyboard interrupt may have come in on the idle task or on top of
  // an earlier interrupt's softirq work (then two blocks, one on each
  // stack): each kernel-mode block bt -p passes is a console "RIP: 0010:"
  // line, in the same order, and bt -E finds it once, with its registers.
  const auto blocks = register_frames(json_result("bt -p")[0], false);
  const auto rips = console_rips("0010");
  REQUIRE(!blocks.empty());
  REQUIRE(blocks.size() == rips.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    INFO(rips[i]);
    size_t matches = 0;
    for (const auto& f : one[0]["exception_frames"]) {
      INFO(f.dump());
      CHECK_FALSE(f.contains("error"));
      if (f["user_mode"] == true || f["registers"] != blocks[i]["registers"]) continue;
      ++matches;
      CHECK((f["stack"] == "task" || f["stack"] == "irq"));
      CHECK(f["exception_rip"] == decimal_offset(rips[i]));
    }
    CHECK(matches == 1);
  }
}

TEST_CASE("bt -e applies its rules: a written pt_regs is found, one with a broken rflags is not; zeros are no frame",
          "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  const uint64_t base = stack_base(sleeper);
  const uint64_t sp = print_value(
      suite(), fmt::format("((struct task_struct *){:#x})->thread.sp", task_address(suite(), sleeper).value()));
  // Two blocks in the unused low part of the stack (above the STACK_END_MAGIC
  // word, below where the sleeping task's frames begin).
  const uint64_t good = base + 1024, bad = base + 2048;
  REQUIRE(bad + kPtRegsSize < sp);
  const uint64_t rip = symbol_address(suite(), "schedule").value() + 0x10;
  auto regs = [&](uint64_t at, uint64_t flags) {
    std::array<uint64_t, 21> w{};
    for (size_t i = 0; i < 15; ++i) w[i] = 0x1111111111111111ull * (i % 15 + 1);  // r15 ... rdi
    w[15] = ~0ull;                                                                // orig_ax: not a syscall
    w[16] = rip;
    w[17] = 0x10;  // __KERNEL_CS
    w[18] = flags;
    w[19] = at + kPtRegsSize + 64;  // the interrupted rsp, just above the block
    w[20] = 0x18;                   // __KERNEL_DS
    std::vector<std::byte> bytes(sizeof(w));
    std::memcpy(bytes.data(), w.data(), sizeof(w));
    return bytes;
  };
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write(kdive::VirtAddr{good}, regs(good, 0x246));
  d.write(kdive::VirtAddr{bad}, regs(bad, 0x244));  // bit 1 of rflags always reads as 1: no saved block lacks it
  KdiveRun r = d.run(fmt::format("bt -e {}", sleeper), "--json");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  nlohmann::json found = nlohmann::json::parse(r.out)["result"][0]["exception_frames"];
  size_t at_good = 0, at_bad = 0;
  for (const auto& f : found) {
    at_good += f["address"] == hex(good);
    at_bad += f["address"] == hex(bad);
  }
  CHECK(at_good == 1);
  CHECK(at_bad == 0);
  auto written = std::find_if(found.begin(), found.end(), [&](const auto& f) { return f["address"] == hex(good); });
  REQUIRE(written != found.end());
  CHECK((*written)["user_mode"] == false);
  CHECK((*written)["exception_rip"] == "schedule+16");
  CHECK((*written)["registers"]["rsp"] == hex(good + kPtRegsSize + 64));

  // The top page zeroed: the user-mode block is gone, the search still runs
  // over the whole stack and says it found nothing there.
  DamagedDump z = DamagedDump::copy_of(suite());
  z.zero(kdive::VirtAddr{base + kThreadSize - 4096}, 4096);
  KdiveRun text = z.run(fmt::format("bt -e {}", sleeper));
  INFO(text.out << text.err);
  CHECK(text.status == 0);  // zeros are readable memory, not lost data
  CHECK_THAT(text.out, Catch::Matchers::Contains("(no exception frames found)"));
  CHECK_THAT(text.out, !Catch::Matchers::Contains("USER-MODE"));
  // The next command still runs.
  KdiveRun two = z.run(fmt::format("bt -e {}; bt -e 1", sleeper), "--json");
  CHECK(two.status == 0);
  CHECK_THAT(two.out, Catch::Matchers::Contains("\"user_mode\":true"));
}

TEST_CASE("bt -F names each return address on the stack as the function it returns into",
          "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = t.role("sleeper");
  const nlohmann::json plain = json_result(fmt::format("bt -f {}", sleeper))[0]["frames"];
  const nlohmann::json named = json_result(fmt::format("bt -F {}", sleeper))[0]["frames"];
  REQUIRE(plain.size() == named.size());
  size_t checked = 0;
  for (size_t i = 0; i + 1 < named.size(); ++i) {
    if (!named[i].contains("data")) continue;
    INFO(named[i].dump());
    const nlohmann::json& words = named[i]["data"];
    REQUIRE(words.size() == plain[i]["data"].size());
    for (size_t w = 0; w < words.size(); ++w) {  // the same words as -f, numbers as hex strings
      CHECK(std::stoull(words[w]["value"].get<std::string>(), nullptr, 16) ==
            std::stoull(plain[i]["data"][w].get<std::string>(), nullptr, 16));
    }
    // The frame's last word is the next frame's return address: named as the
    // function it returns into, with the offset of that address in it.
    const nlohmann::json& last = words.back();
    if (last["value"] != named[i + 1]["ip"]) continue;
    REQUIRE(last["symbol"].is_string());
    const std::string symbol = last["symbol"];
    const std::string function = named[i + 1]["symbol"];
    CHECK(symbol.rfind(function + "+", 0) == 0);
    ++checked;
  }
  CHECK(checked >= 3);  // schedule, the sleep, the syscall at least
}

TEST_CASE("bt -E finds every register block that bt -a passes on each CPU", "[exception_frames][bt-exceptions]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const nlohmann::json searches = json_result("bt -E");
  const nlohmann::json traces = json_result("bt -a");
  REQUIRE(searches.size() == static_cast<size_t>(t.cpus));
  REQUIRE(traces.size() == searches.size());
  size_t blocks = 0;
  for (size_t cpu = 0; cpu < traces.size(); ++cpu) {
    CHECK(searches[cpu]["pid"] == traces[cpu]["pid"]);
    const nlohmann::json& found = searches[cpu]["exception_frames"];
    INFO("cpu " << cpu << ": " << found.dump());
    for (const auto& f : traces[cpu]["frames"]) {
      if (!f.contains("registers")) continue;
      INFO(f.dump());
      ++blocks;
      CHECK(std::any_of(found.begin(), found.end(), [&](const auto& e) {
        return e.contains("registers") && e["registers"] == f["registers"] && e["user_mode"] == f["user_mode"];
      }));
    }
  }
  // At least the user entry of the task the stop IPI interrupted on each
  // other CPU; the panicking CPU adds its own user entry or interrupt.
  CHECK(blocks >= static_cast<size_t>(t.cpus));
}
