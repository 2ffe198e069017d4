#include "kernel-model/timers.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/rbtree_walk.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

std::vector<int> all_or(const Kernel& k, const std::vector<int>& cpus) {
  if (!cpus.empty()) return cpus;
  std::vector<int> all;
  for (int c = 0; c < possible_cpus(k); ++c) all.push_back(c);
  return all;
}

// The bases' names are #defines in kernel/time/timer.c, not in the DWARF; the
// count of the per-CPU array tells which set the kernel has.
std::vector<std::string> base_names(uint64_t count) {
  if (count == 1) return {"BASE_STD"};
  if (count == 2) return {"BASE_STD", "BASE_DEF"};
  if (count == 3) return {"BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"};
  std::vector<std::string> names;
  for (uint64_t i = 0; i < count; ++i) names.push_back(fmt::format("BASE_{}", i));
  return names;
}

void read_base(const Kernel& k, TimerBase& b, uint64_t entry_offset) {
  Object base = k.object(b.base, "struct timer_base");
  Object vectors = base["vectors"];
  const uint64_t buckets = vectors.type().strip().count().value_or(0);
  const uint64_t head_size = vectors.type().strip().target()->size();
  const Type& timer_type = k.types().require("struct timer_list");
  for (uint64_t i = 0; i < buckets; ++i) {
    Walked<VirtAddr> w = walk_hlist(k.memory(), VirtAddr{vectors.address().value() + i * head_size}, entry_offset);
    for (size_t j = 0; j <= w.entries.size(); ++j) {
      for (const WalkBreak* wb : w.breaks_at(j)) {
        WalkBreak moved = *wb;
        moved.position = b.timers.size();
        moved.reason = fmt::format("vectors[{}]: {}", i, wb->reason);
        b.breaks.push_back(moved);
      }
      if (j == w.entries.size()) break;
      try {
        Object t(k, w.entries[j], &timer_type);
        b.timers.push_back({w.entries[j], t["expires"].as_u64(), t["function"].pointer()});
      } catch (const ModelError& e) {
        b.breaks.push_back({b.timers.size(), w.entries[j], fmt::format("timer_list: {}", e.what())});
      }
    }
  }
  // Each break's position counted timers in walk order; sorting moves
  // timers, so the breaks say where they were found, and the command puts
  // them after the list.
  std::stable_sort(b.timers.begin(), b.timers.end(),
                   [](const WheelTimer& x, const WheelTimer& y) { return x.expires < y.expires; });
  for (WalkBreak& wb : b.breaks) wb.position = b.timers.size();
}

void read_clock_base(const Kernel& k, HrtimerClockBase& c) {
  Object base = k.object(c.base, "struct hrtimer_clock_base");
  if (base.has_member("get_time")) c.get_time = base["get_time"].pointer();
  if (base.has_member("offset")) c.offset = base["offset"].as_i64();
  const Type& hr = k.types().require("struct hrtimer");
  // hrtimer.node is a struct timerqueue_node whose rb_node `node` comes first.
  const uint64_t node_offset =
      hr.require_member("node").offset + k.types().require("struct timerqueue_node").require_member("node").offset;
  // timerqueue_head.rb_root: an rb_root_cached since 4.20 (commit
  // 511885d7061e), whose rb_root is its first member; `head` before it.
  Object active = base["active"];
  const VirtAddr root = active.has_member("rb_root") ? active["rb_root"].address() : active["head"].address();
  Walked<VirtAddr> w = walk_rbtree_entries(k.memory(), root, node_offset);
  for (size_t i = 0; i <= w.entries.size(); ++i) {
    for (const WalkBreak* wb : w.breaks_at(i)) {
      WalkBreak moved = *wb;
      moved.position = c.timers.size();
      c.breaks.push_back(moved);
    }
    if (i == w.entries.size()) break;
    try {
      Object t(k, w.entries[i], &hr);
      Hrtimer h;
      h.timer = w.entries[i];
      h.expires = t["node"]["expires"].as_i64();
      h.softexpires = t.has_member("_softexpires") ? t["_softexpires"].as_i64() : h.expires;
      h.function = t["function"].pointer();
      c.timers.push_back(h);
    } catch (const ModelError& e) {
      c.breaks.push_back({c.timers.size(), w.entries[i], fmt::format("hrtimer: {}", e.what())});
    }
  }
}

}  // namespace

TimerWheel read_timer_wheel(const Kernel& k, const std::vector<int>& cpus) {
  if (k.find_symbol("timer_bases") == nullptr) throw Error(Error::Kind::Lookup, "no per-CPU symbol 'timer_bases'");
  const Type* array = k.types().variable_type("timer_bases");
  const uint64_t count =
      array != nullptr && array->strip().kind() == TypeKind::Array ? array->strip().count().value_or(1) : 1;
  const uint64_t base_size = k.types().require("struct timer_base").size();
  const uint64_t entry_offset = k.types().require("struct timer_list").require_member("entry").offset;
  const std::vector<std::string> names = base_names(count);
  TimerWheel w;
  w.jiffies = k.object("jiffies").as_u64();
  for (int cpu : all_or(k, cpus)) {
    VirtAddr first;
    std::string cpu_error;
    try {
      first = k.per_cpu("timer_bases", cpu);
    } catch (const ModelError& e) {
      cpu_error = e.what();
    }
    for (uint64_t i = 0; i < count; ++i) {
      TimerBase b;
      b.cpu = cpu;
      b.name = names[i];
      b.error = cpu_error;
      if (cpu_error.empty()) {
        b.base = VirtAddr{first.value() + i * base_size};
        try {
          read_base(k, b, entry_offset);
        } catch (const ModelError& e) {
          b.error = e.what();
        }
      }
      w.bases.push_back(std::move(b));
    }
  }
  return w;
}

std::vector<HrtimerCpu> read_hrtimers(const Kernel& k, const std::vector<int>& cpus) {
  if (k.find_symbol("hrtimer_bases") == nullptr) throw Error(Error::Kind::Lookup, "no per-CPU symbol 'hrtimer_bases'");
  const Type& cpu_base = k.types().require("struct hrtimer_cpu_base");
  const auto clocks = cpu_base.require_member("clock_base");
  const uint64_t n = clocks.type->strip().count().value_or(0);
  const uint64_t clock_size = k.types().require("struct hrtimer_clock_base").size();
  std::vector<HrtimerCpu> out;
  for (int cpu : all_or(k, cpus)) {
    HrtimerCpu h;
    h.cpu = cpu;
    try {
      h.cpu_base = k.per_cpu("hrtimer_bases", cpu);
      for (uint64_t i = 0; i < n; ++i) {
        HrtimerClockBase c;
        c.index = static_cast<int>(i);
        c.base = VirtAddr{h.cpu_base.value() + clocks.offset + i * clock_size};
        try {
          read_clock_base(k, c);
        } catch (const ModelError& e) {
          c.error = e.what();
        }
        h.clocks.push_back(std::move(c));
      }
    } catch (const ModelError& e) {
      h.error = e.what();
    }
    out.push_back(std::move(h));
  }
  return out;
}

int64_t jiffies_uptime_ns(const Kernel& k) {
  const uint64_t tick_nsec = k.object("tick_nsec").as_u64();
  if (tick_nsec == 0 || tick_nsec > 1000000000) throw Error(Error::Kind::BadData, "tick_nsec is out of range");
  const uint64_t hz = (1000000000ull + tick_nsec / 2) / tick_nsec;
  // INITIAL_JIFFIES is (unsigned long)(unsigned int)(-300 * HZ): the 32-bit
  // jiffies wrap five minutes after boot (include/linux/jiffies.h).
  const uint64_t initial = static_cast<uint32_t>(-300 * static_cast<int64_t>(hz));
  uint64_t jiffies = k.object(k.find_symbol("jiffies_64") ? "jiffies_64" : "jiffies").as_u64();
  return static_cast<int64_t>((jiffies - initial) * (1000000000ull / hz));
}

}  // namespace kdive
