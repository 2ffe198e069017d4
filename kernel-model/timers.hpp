// Pending timers, per CPU, as crash's `timer` shows them:
//  * the timer wheel: per_cpu(timer_bases)[] — BASE_STD and BASE_DEF with
//    CONFIG_NO_HZ_COMMON (4.8+, commit 500462a9de65), BASE_LOCAL, BASE_GLOBAL
//    and BASE_DEF from 6.9 (commit 83a665dc99a7) — each an array of hlist
//    buckets (`vectors`) of struct timer_list, with expiry in jiffies;
//  * hrtimers: per_cpu(hrtimer_bases).clock_base[] (HRTIMER_MAX_CLOCK_BASES
//    of them), each a timerqueue (an rb_root_cached of struct hrtimer's
//    node.node) keyed by expiry in ns of that clock.
// Reads only; each bucket and tree walk is bounded and cycle-safe, a damaged
// one a WalkBreak in its base, and a timer that cannot be read is one too.
//
//   TimerWheel w = read_timer_wheel(k, {});
//   for (const TimerBase& b : w.bases) for (const WheelTimer& t : b.timers) t.function;
//   std::vector<HrtimerCpu> hr = read_hrtimers(k, {1});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct WheelTimer {
  VirtAddr timer;        // struct timer_list
  uint64_t expires = 0;  // jiffies
  VirtAddr function;
};

struct TimerBase {
  int cpu = 0;
  std::string name;                // "BASE_STD", "BASE_DEF", "BASE_LOCAL", "BASE_GLOBAL"
  VirtAddr base;                   // struct timer_base
  std::vector<WheelTimer> timers;  // sorted by expiry (as crash prints them)
  std::vector<WalkBreak> breaks;   // positions: timers read before the break (walk order)
  std::string error;               // the base could not be read at all
};

struct TimerWheel {
  uint64_t jiffies = 0;
  std::vector<TimerBase> bases;  // per CPU, then per base
};

// The timer wheel of `cpus` (every possible CPU when empty). Throws
// Error(Lookup) when the kernel has no timer_bases (before 4.8).
TimerWheel read_timer_wheel(const Kernel& k, const std::vector<int>& cpus);

struct Hrtimer {
  VirtAddr timer;  // struct hrtimer
  int64_t softexpires = 0;
  int64_t expires = 0;
  VirtAddr function;
};

struct HrtimerClockBase {
  int index = 0;
  VirtAddr base;                // struct hrtimer_clock_base
  VirtAddr get_time;            // the clock's read function (ktime_get, ...); null from 6.18
  int64_t offset = 0;           // hrtimer_clock_base.offset: this clock minus CLOCK_MONOTONIC
  std::vector<Hrtimer> timers;  // in expiry order
  std::vector<WalkBreak> breaks;
  std::string error;
};

struct HrtimerCpu {
  int cpu = 0;
  VirtAddr cpu_base;  // per_cpu(hrtimer_bases, cpu)
  std::vector<HrtimerClockBase> clocks;
  std::string error;
};

// The hrtimer bases of `cpus` (every possible CPU when empty).
std::vector<HrtimerCpu> read_hrtimers(const Kernel& k, const std::vector<int>& cpus);

// The monotonic time crash calls "CURRENT" in timer -r: jiffies since
// INITIAL_JIFFIES times the tick (crash's uptime, not the clocksource's).
int64_t jiffies_uptime_ns(const Kernel& k);

}  // namespace kdive
