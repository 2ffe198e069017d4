// timer on real crashed kernels: the sleeper workload's nanosleep hrtimer is
// listed under timer -r with hrtimer_wakeup, its hrtimer_sleeper naming the
// sleeper's task; the timer wheel lists every CPU's bases with each timer's
// callback a kernel function; the JSON says the same; and on bullseye the
// text matches the crash utility line by line.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <climits>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "crash_compare.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

uint64_t task_of(int64_t pid) {
  for (const json& row : json_result_of(suite(), "ps")) {
    if (row["pid"] == pid) return json_hex(row["task"]);
  }
  FAIL("pid " << pid << " is not in ps");
  return 0;
}

}  // namespace

TEST_CASE("timer -r: the sleeper's nanosleep hrtimer, with hrtimer_wakeup", "[timer]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const uint64_t sleeper = task_of(t.role("sleeper"));
  const json r = json_result_of(suite(), "timer -r");
  REQUIRE(r["hrtimers"].size() == static_cast<size_t>(t.cpus));
  std::vector<uint64_t> wakeups;
  for (const json& cpu : r["hrtimers"]) {
    REQUIRE_FALSE(cpu.contains("error"));
    for (const json& clock : cpu["clocks"]) {
      REQUIRE_FALSE(clock.contains("error"));
      CHECK(clock["breaks"].empty());
      int64_t previous = INT64_MIN;
      for (const json& timer : clock["timers"]) {
        // A timerqueue is walked in order: expiry never goes down.
        const int64_t expires = static_cast<int64_t>(json_hex(timer["expires"]));
        CHECK(expires >= previous);
        previous = expires;
        CHECK(json_hex(timer["softexpires"]) <= json_hex(timer["expires"]));
        if (timer["symbol"] == "hrtimer_wakeup") wakeups.push_back(json_hex(timer["hrtimer"]));
      }
    }
  }
  REQUIRE_FALSE(wakeups.empty());
  // An hrtimer_wakeup timer is the `timer` of a struct hrtimer_sleeper whose
  // `task` is the sleeping task: one of them must be the sleeper's.
  std::string commands;
  for (uint64_t w : wakeups)
    commands += (commands.empty() ? "" : "; ") + fmt::format("struct hrtimer_sleeper.task {:x}", w);
  const std::string out = kdive_ok(commands);
  CHECK(out.find(fmt::format("{:x}", sleeper)) != std::string::npos);

  // The text lists it too, on its CPU's clock 0 (CLOCK_MONOTONIC: nanosleep's).
  const std::string text = kdive_ok("timer -r");
  bool listed = false;
  for (const std::string& line : lines_of(text)) {
    if (line.find("<hrtimer_wakeup>") == std::string::npos) continue;
    for (uint64_t w : wakeups) {
      if (line.find(fmt::format("  {:x}  ", w)) != std::string::npos) listed = true;
    }
  }
  CHECK(listed);
}

TEST_CASE("timer: every CPU's wheel bases, each timer's callback a kernel function", "[timer]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const json r = json_result_of(suite(), "timer");
  REQUIRE(r["jiffies"].is_number());
  std::set<int> cpus;
  size_t timers = 0;
  for (const json& base : r["bases"]) {
    REQUIRE_FALSE(base.contains("error"));
    cpus.insert(base["cpu"].get<int>());
    CHECK(base["breaks"].empty());
    uint64_t previous = 0;
    for (const json& timer : base["timers"]) {
      ++timers;
      CHECK(timer["expires"].get<uint64_t>() >= previous);
      previous = timer["expires"].get<uint64_t>();
      CHECK(timer["tte"].get<int64_t>() ==
            static_cast<int64_t>(timer["expires"].get<uint64_t>() - r["jiffies"].get<uint64_t>()));
      INFO(timer.dump());
      CHECK_FALSE(timer["symbol"].get<std::string>().empty());
    }
  }
  CHECK(static_cast<int>(cpus.size()) == t.cpus);
  // A booted kernel always has timers pending (the workqueues' delayed work,
  // the watchdogs); none at all would be a walk that read nothing.
  CHECK(timers > 0);

  // -C picks one CPU's bases.
  const json one = json_result_of(suite(), "timer -C 0");
  for (const json& base : one["bases"]) CHECK(base["cpu"] == 0);
  CHECK(one["bases"].size() * t.cpus == r["bases"].size());
}

TEST_CASE("timer matches crash line by line", "[timer]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  compare_with_crash({"timer", "timer -r", "timer -C 1", "timer -r -C 0"});
}
