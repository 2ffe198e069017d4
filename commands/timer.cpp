// timer: the pending timers of each CPU — the timer wheel (timer_list, in
// jiffies) or, with -r, the hrtimers of each clock base (in ns) — in crash's
// layout, each callback symbolized.
#include <fmt/format.h>

#include <cstdlib>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/cpu_list.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/symbol_text.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/timers.hpp"

namespace kdive {
namespace {

std::string right(std::string_view s, size_t width) {
  return s.size() >= width ? std::string(s) : std::string(width - s.size(), ' ') + std::string(s);
}
std::string left(std::string_view s, size_t width) {
  return s.size() >= width ? std::string(s) : std::string(s) + std::string(width - s.size(), ' ');
}

void print_breaks(Output& out, const std::vector<WalkBreak>& breaks, size_t position) {
  for (const WalkBreak& b : breaks) {
    if (b.position != position) continue;
    out.print("  (damaged: {})\n", b.describe());
    out.data_lost(b.describe());
  }
}

Json wheel(const Kernel& k, Output& out, const std::vector<int>& cpus, const OfflineCpus& offline) {
  TimerWheel w;
  try {
    w = read_timer_wheel(k, cpus);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("this kernel has no timer wheel kdive can read ({})", e.what()));
  }
  const std::string jiffies = fmt::format("{}", w.jiffies);
  const size_t flen = std::max<size_t>(jiffies.size(), 7);
  out.print("{}\n{}\n\n", left("JIFFIES", flen), right(jiffies, flen));
  Json bases = Json::array();
  int last_cpu = -1;
  for (const TimerBase& b : w.bases) {
    if (offline.hidden(b.cpu)) {
      // One line for the CPU, whatever its bases; crash puts no blank line
      // before it.
      if (b.cpu != last_cpu) {
        out.print("TIMER_BASES[{}]: [OFFLINE]\n", b.cpu);
        bases.push_back({{"cpu", b.cpu}, {"offline", true}});
      }
      last_cpu = b.cpu;
      continue;
    }
    if (last_cpu != -1 && b.cpu != last_cpu) out.print("\n");
    last_cpu = b.cpu;
    out.print("TIMER_BASES[{}][{}]: {:x}\n", b.cpu, b.name, b.base.value());
    Json row = {{"cpu", b.cpu}, {"base", b.name}, {"timer_base", json_hex(b.base)}};
    if (!b.error.empty()) {
      out.print("  (damaged: {})\n", b.error);
      out.data_lost(fmt::format("timer base {} of CPU {}", b.name, b.cpu));
      row["error"] = b.error;
      bases.push_back(std::move(row));
      continue;
    }
    uint64_t highest = 0;
    for (const WheelTimer& t : b.timers) {
      const int64_t tte = static_cast<int64_t>(t.expires - w.jiffies);
      highest = std::max<uint64_t>(highest, static_cast<uint64_t>(std::llabs(tte)));
    }
    // One more for a possible '-' sign, as crash sizes it.
    const size_t tlen = std::max<size_t>(fmt::format("{}", highest).size() + 1, 3);
    out.print("  {}     {}     TIMER_LIST     FUNCTION\n", left("EXPIRES", flen), left("TTE", tlen));
    Json timers = Json::array();
    for (const WheelTimer& t : b.timers) {
      const int64_t tte = static_cast<int64_t>(t.expires - w.jiffies);
      const std::string sym = symbol_text(k, t.function);
      out.print("  {}  {}  {:16x}  {:16x}  <{}>\n", right(fmt::format("{}", t.expires), flen),
                right(fmt::format("{}", tte), tlen), t.timer.value(), t.function.value(), sym);
      timers.push_back({{"timer_list", json_hex(t.timer)},
                        {"expires", t.expires},
                        {"tte", tte},
                        {"function", json_hex(t.function)},
                        {"symbol", sym}});
    }
    if (b.timers.empty() && b.breaks.empty()) out.print("  (none)\n");
    print_breaks(out, b.breaks, b.timers.size());
    Json breaks = Json::array();
    for (const WalkBreak& wb : b.breaks) breaks.push_back(wb.describe());
    row["timers"] = std::move(timers);
    row["breaks"] = std::move(breaks);
    bases.push_back(std::move(row));
  }
  return {{"jiffies", w.jiffies}, {"bases", std::move(bases)}, {"hrtimers", Json::array()}};
}

void print_clock(const Kernel& k, Output& out, const HrtimerClockBase& c, int64_t now, Json& row) {
  const std::string clock_name = symbol_text(k, c.get_time);
  out.print("  CLOCK: {}  HRTIMER_CLOCK_BASE: {:x}{}\n", c.index, c.base.value(),
            c.get_time.is_null() ? "" : fmt::format("  [{}]", clock_name));
  row = {{"clock", c.index},
         {"hrtimer_clock_base", json_hex(c.base)},
         {"get_time", c.get_time.is_null() ? Json(nullptr) : Json(clock_name)},
         {"now", json_hex(static_cast<uint64_t>(now))}};
  if (!c.error.empty()) {
    out.print("  (damaged: {})\n", c.error);
    out.data_lost(fmt::format("hrtimer clock base {:x}", c.base.value()));
    row["error"] = c.error;
    return;
  }
  Json timers = Json::array();
  Json breaks = Json::array();
  for (const WalkBreak& b : c.breaks) breaks.push_back(b.describe());
  row["breaks"] = breaks;
  if (c.timers.empty()) {
    if (c.breaks.empty()) out.print("  (empty)\n");
    print_breaks(out, c.breaks, 0);
    row["timers"] = std::move(timers);
    return;
  }
  // crash sizes the columns by the last timer, the one that expires last.
  const Hrtimer& last = c.timers.back();
  const size_t soft_len = std::max<size_t>(fmt::format("{}", last.softexpires).size(), 11);
  const size_t exp_len = std::max<size_t>(fmt::format("{}", last.expires).size(), 7);
  const size_t tte_len = fmt::format("{}", last.expires - now).size();
  out.print("  {}\n", centered("CURRENT", soft_len, true));
  out.print("  {}\n", centered(fmt::format("{}", now), soft_len, true));
  out.print("  {}  {}  {}  {}  {}\n", centered("SOFTEXPIRES", soft_len, true), centered("EXPIRES", exp_len, true),
            centered("TTE", tte_len, true), centered("HRTIMER", 16), centered("FUNCTION", 16));
  for (size_t i = 0; i < c.timers.size(); ++i) {
    print_breaks(out, c.breaks, i);
    const Hrtimer& t = c.timers[i];
    const std::string sym = symbol_text(k, t.function);
    out.print("  {}  {}  {}  {:x}  {:x}  <{}>\n", centered(fmt::format("{}", t.softexpires), soft_len, true),
              centered(fmt::format("{}", t.expires), exp_len, true), right(fmt::format("{}", t.expires - now), tte_len),
              t.timer.value(), t.function.value(), sym);
    timers.push_back({{"hrtimer", json_hex(t.timer)},
                      {"softexpires", json_hex(static_cast<uint64_t>(t.softexpires))},
                      {"expires", json_hex(static_cast<uint64_t>(t.expires))},
                      {"tte", t.expires - now},
                      {"function", json_hex(t.function)},
                      {"symbol", sym}});
  }
  print_breaks(out, c.breaks, c.timers.size());
  row["timers"] = std::move(timers);
}

Json hrtimers(const Kernel& k, Output& out, const std::vector<int>& cpus, const OfflineCpus& offline) {
  std::vector<HrtimerCpu> all;
  try {
    all = read_hrtimers(k, cpus);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-r: this kernel has no hrtimer bases ({})", e.what()));
  }
  const int64_t uptime = jiffies_uptime_ns(k);
  Json rows = Json::array();
  bool first = true;
  for (const HrtimerCpu& h : all) {
    if (!first) out.print("\n");
    first = false;
    if (offline.hidden(h.cpu)) {
      out.print("CPU: {}  [OFFLINE]\n", h.cpu);
      rows.push_back({{"cpu", h.cpu}, {"offline", true}});
      continue;
    }
    out.print("CPU: {}  HRTIMER_CPU_BASE: {:x}\n", h.cpu, h.cpu_base.value());
    Json row = {{"cpu", h.cpu}, {"hrtimer_cpu_base", json_hex(h.cpu_base)}};
    if (!h.error.empty()) {
      out.print("  (damaged: {})\n", h.error);
      out.data_lost(fmt::format("hrtimer bases of CPU {}", h.cpu));
      row["error"] = h.error;
      rows.push_back(std::move(row));
      continue;
    }
    Json clocks = Json::array();
    for (size_t i = 0; i < h.clocks.size(); ++i) {
      if (i) out.print("\n");
      Json c;
      print_clock(k, out, h.clocks[i], uptime + h.clocks[i].offset, c);
      clocks.push_back(std::move(c));
    }
    row["clocks"] = std::move(clocks);
    rows.push_back(std::move(row));
  }
  return {{"jiffies", nullptr}, {"bases", Json::array()}, {"hrtimers", std::move(rows)}};
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  std::vector<int> cpus;
  if (auto spec = args.value('C')) cpus = parse_cpu_list(*spec, possible_cpus(k));
  const OfflineCpus offline(session);
  out.result(args.has('r') ? hrtimers(k, out, cpus, offline) : wheel(k, out, cpus, offline));
}

const CommandRegistrar registrar{
    {.name = "timer",
     .summary = "pending timers: the timer wheel, or hrtimers",
     .usage = "timer [-r] [-C cpu(s)]",
     .description = "Lists each CPU's pending timer_list timers from the timer wheel: per CPU and\n"
                    "base (BASE_STD and BASE_DEF, or BASE_LOCAL, BASE_GLOBAL and BASE_DEF from 6.9)\n"
                    "the struct timer_base, then each timer in expiry order: when it expires\n"
                    "(jiffies), how many jiffies that is after the crash's jiffies (TTE, negative\n"
                    "when overdue), the struct timer_list and its function.\n"
                    "\n"
                    "With -r, the hrtimers instead: per CPU the struct hrtimer_cpu_base, and per\n"
                    "clock base (monotonic, realtime, boottime, tai, then their soft-interrupt\n"
                    "twins) its timerqueue in expiry order: the soft and hard expiry (ns of that\n"
                    "clock), the time to expiry from CURRENT, the struct hrtimer and its function.\n"
                    "CURRENT is crash's: the jiffies since boot in ns plus the clock's offset, so\n"
                    "it can lag the clock by a tick or so. A task sleeping in nanosleep or poll\n"
                    "shows here as an hrtimer_wakeup timer.\n"
                    "\n"
                    "A damaged bucket or tree is marked where the walk stopped; the timers\n"
                    "reached are still listed.",
     .examples = "  kdive> timer -C 1\n"
                 "  JIFFIES\n"
                 "  4294895913\n"
                 "\n"
                 "  TIMER_BASES[1][BASE_STD]: ffff8da61f524480\n"
                 "    EXPIRES        TTE           TIMER_LIST     FUNCTION\n"
                 "    4294922747      26834  ffffffffa2a36c00  ffffffffa12a2150  <delayed_work_timer_fn>\n"
                 "  kdive> timer -r -C 0 | grep hrtimer_wakeup",
     .options = {{'r', "", "the hrtimers of each clock base instead of the timer wheel"},
                 {'C', "cpu", "only these CPUs: 1, 1,3, 0-3, all"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"jiffies", "bases", "hrtimers"},
              .notes = "The timer wheel: jiffies, and bases: one object per CPU and base {cpu, base,\n"
                       "timer_base, timers [{timer_list, expires, tte, function, symbol}], breaks};\n"
                       "hrtimers is empty. With -r: jiffies is null, bases empty, and hrtimers one\n"
                       "object per CPU {cpu, hrtimer_cpu_base, clocks [{clock, hrtimer_clock_base,\n"
                       "get_time, now, timers [{hrtimer, softexpires, expires, tte, function,\n"
                       "symbol}], breaks}]}; ns values are \"0x...\" strings, tte a number. A base\n"
                       "that could not be read carries error. Under `set offline hide` an offline\n"
                       "CPU is one {cpu, offline: true} in bases or hrtimers.",
              .example = "timer"}},
    run};

}  // namespace
}  // namespace kdive
