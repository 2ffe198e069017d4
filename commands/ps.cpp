// ps: the task list, with crash's flags and columns.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/task_details.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

std::string comm_column(const Task& t) { return t.is_kernel_thread() ? fmt::format("[{}]", t.comm) : t.comm; }

double pct_mem(const TaskTable& table, const Task& t) {
  return table.total_ram_pages ? 100.0 * static_cast<double>(t.rss_pages) / table.total_ram_pages : 0.0;
}

Json row_json(const TaskTable& table, const Task& t) {
  if (!t.damage.empty()) return task_header_json(t);
  // %MEM as printed (one decimal), so text and JSON agree.
  double pct = std::round(pct_mem(table, t) * 10) / 10;
  return {{"pid", t.pid},
          {"ppid", t.ppid},
          {"cpu", t.cpu},
          {"task", json_hex(t.address.value())},
          {"state", t.state_code()},
          {"pct_mem", pct},
          {"vsz", t.total_vm_pages * 4},
          {"rss", t.rss_pages * 4},
          {"comm", t.comm},
          {"active", t.active},
          {"kernel_thread", t.is_kernel_thread()},
          {"policy", t.policy},
          {"prio", t.prio},
          {"kstackp", json_hex(t.kernel_sp)}};
}

void print_table(const TaskTable& table, const std::vector<const Task*>& tasks, bool kstackp, bool header,
                 Output& out) {
  if (out.json()) {
    Json rows = Json::array();
    for (const Task* t : tasks) rows.push_back(row_json(table, *t));
    return out.result(std::move(rows));
  }
  if (header)
    out.print("{}\n", kstackp ? "      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM"
                              : "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM");
  for (const Task* t : tasks) {
    if (!t->damage.empty()) {
      out.print("{}{:>8}{:>8}{:>4}  {:016x}  {}\n", t->active ? '>' : ' ', t->pid, "-", "-", t->address.value(),
                damage_marker(*t));
      continue;
    }
    double mem = pct_mem(table, *t);
    out.print("{}{:>8}{:>8}{:>4}  {:016x}  {}{:>6.1f}{:>9}{:>9}  {}\n", t->active ? '>' : ' ', t->pid, t->ppid, t->cpu,
              kstackp ? t->kernel_sp : t->address.value(), t->state_code(), mem, t->total_vm_pages * 4,
              t->rss_pages * 4, comm_column(*t));
  }
}

// [days hh:mm:ss.mmm], crash's -m format.
std::string elapsed(uint64_t ns) {
  uint64_t ms = ns / 1000000;
  return fmt::format("[{} {:02}:{:02}:{:02}.{:03}]", ms / 86400000, ms / 3600000 % 24, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
}

void print_last_run(const std::vector<const Task*>& tasks, bool since, Output& out) {
  // Damaged tasks have no trustworthy timestamp: they follow the rest.
  std::vector<const Task*> sorted(tasks);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Task* a, const Task* b) {
    if (a->damage.empty() != b->damage.empty()) return a->damage.empty();
    return a->last_arrival > b->last_arrival;
  });
  uint64_t latest = sorted.empty() ? 0 : sorted.front()->last_arrival;
  if (out.json()) {
    Json rows = Json::array();
    for (const Task* t : sorted) {
      Json row = task_header_json(*t);
      if (!t->damage.empty()) {
        rows.push_back(std::move(row));
        continue;
      }
      row["state"] = t->state_code();
      row["last_arrival"] = t->last_arrival;
      if (since) row["since_latest_ns"] = latest - t->last_arrival;
      rows.push_back(std::move(row));
    }
    return out.result(std::move(rows));
  }
  for (const Task* t : sorted) {
    if (!t->damage.empty()) {
      out.print("{}\n", task_header(*t));
      continue;
    }
    std::string when = since ? elapsed(latest - t->last_arrival) : fmt::format("[{}]", t->last_arrival);
    out.print("{} [{}]  {}\n", when, t->state_code(), task_header(*t));
  }
}

// The per-task views (-t -a -r -p -c -g): each gives one JSON object per task,
// the task's identity plus the view's own keys, and the text crash prints.
Json times_of(const Kernel& k, const Task& t, Output& out) {
  TaskTimes times = task_times(k, t);
  uint64_t s = times.run_time_ns / 1000000000;
  out.print("{}\n", task_header(t));
  out.print("    RUN TIME: {:02}:{:02}:{:02}\n", s / 3600, s / 60 % 60, s % 60);
  out.print("  START TIME: {}\n", times.start_time_ns);
  out.print("       UTIME: {}\n", times.utime_ns);
  out.print("       STIME: {}\n", times.stime_ns);
  Json j = task_header_json(t);
  j["run_time_ns"] = times.run_time_ns;
  j["start_time_ns"] = times.start_time_ns;
  j["utime_ns"] = times.utime_ns;
  j["stime_ns"] = times.stime_ns;
  return j;
}

Json arguments_of(const Kernel& k, const Task& t, Output& out) {
  out.print("{}\n", task_header(t));
  Json j = task_header_json(t);
  if (t.is_kernel_thread()) {
    out.print("(kernel thread: no arguments)\n");
    j["args"] = nullptr;
    j["env"] = nullptr;
    return j;
  }
  TaskArguments a = task_arguments(k, t);
  std::string args;
  for (const auto& w : a.args) args += w + " ";
  out.print("ARG: {}\n", args);
  for (size_t i = 0; i < a.env.size(); ++i) out.print("{}{}\n", i == 0 ? "ENV: " : "     ", a.env[i]);
  j["args"] = a.args;
  j["env"] = a.env;
  return j;
}

Json rlimits_of(const Kernel& k, const Task& t, Output& out) {
  out.print("{}\n", task_header(t));
  out.print("      RLIMIT     CURRENT       MAXIMUM\n");
  auto value = [](uint64_t v) { return v == ~0ull ? std::string("(unlimited)") : std::to_string(v); };
  // RLIM_INFINITY is all ones: null in JSON, where it would not fit a double.
  auto json_value = [](uint64_t v) { return v == ~0ull ? Json(nullptr) : Json(v); };
  Json limits = Json::array();
  for (const auto& r : task_rlimits(k, t)) {
    out.print("{:>12}   {:<11}   {}\n", r.name, value(r.current), value(r.maximum));
    limits.push_back({{"name", r.name}, {"current", json_value(r.current)}, {"maximum", json_value(r.maximum)}});
  }
  Json j = task_header_json(t);
  j["rlimits"] = std::move(limits);
  return j;
}

Json ancestry_of(const TaskTable& table, const Task& t, Output& out) {
  std::vector<const Task*> chain = {&t};
  while (chain.back()->pid != 0 && chain.size() < 4096) {
    const Task* parent = table.by_address(chain.back()->parent);
    if (parent == nullptr || parent == chain.back()) break;
    chain.push_back(parent);
  }
  Json ancestors = Json::array();  // from the oldest down to the task
  for (size_t i = chain.size(); i-- > 0;) {
    out.print("{:{}}{}\n", "", chain.size() - 1 - i, task_header(*chain[i]));
    ancestors.push_back(task_header_json(*chain[i]));
  }
  Json j = task_header_json(t);
  j["ancestry"] = std::move(ancestors);
  return j;
}

Json children_of(const TaskTable& table, const Task& t, Output& out) {
  out.print("{}\n", task_header(t));
  Json children = Json::array();
  for (const Task& c : table.all) {
    if (c.parent == t.address && c.is_group_leader() && &c != &t) {
      out.print("  {}\n", task_header(c));
      children.push_back(task_header_json(c));
    }
  }
  if (children.empty()) out.print("  (no children)\n");
  Json j = task_header_json(t);
  j["children"] = std::move(children);
  return j;
}

Json group_of(const TaskTable& table, const Task& t, Output& out) {
  const Task* leader = table.by_pid(t.tgid);
  if (leader == nullptr) leader = &t;
  out.print("{}\n", task_header(*leader));
  Json threads = Json::array();
  for (const Task& c : table.all) {
    if (c.tgid == leader->pid && &c != leader && !c.idle) {
      out.print("  {}\n", task_header(c));
      threads.push_back(task_header_json(c));
    }
  }
  Json j = task_header_json(*leader);
  j["threads"] = std::move(threads);
  return j;
}

void print_summary(const std::vector<const Task*>& tasks, Output& out) {
  std::map<std::string, int> counts;
  for (const Task* t : tasks) ++counts[t->damage.empty() ? t->state_code() : "damaged"];
  Json result = Json::object();
  for (const char* code : {"RU", "IN", "UN", "ST", "TR", "ZO", "DE", "PA", "ID", "NE", "WA", "??", "damaged"}) {
    if (counts.count(code)) {
      out.print("  {}: {}\n", code, counts[code]);
      result[code] = counts[code];
    }
  }
  out.result(std::move(result));
}

// The view the flags ask for, over the selected tasks.
void show(const Kernel& k, const TaskTable& table, const std::vector<const Task*>& tasks, const ParsedArgs& args,
          Output& out) {
  if (args.has('S')) return print_summary(tasks, out);
  if (args.has('l') || args.has('m')) return print_last_run(tasks, args.has('m'), out);
  Json views = Json::array();
  auto each = [&](auto view) {
    for (const Task* t : tasks) {
      if (!views.empty()) out.print("\n");
      if (!t->damage.empty()) {
        out.print("{}\n", task_header(*t));
        views.push_back(task_header_json(*t));
        continue;
      }
      views.push_back(view(*t));
    }
    out.result(std::move(views));
  };
  if (args.has('p')) return each([&](const Task& t) { return ancestry_of(table, t, out); });
  if (args.has('c')) return each([&](const Task& t) { return children_of(table, t, out); });
  if (args.has('g')) return each([&](const Task& t) { return group_of(table, t, out); });
  if (args.has('t')) return each([&](const Task& t) { return times_of(k, t, out); });
  if (args.has('a')) return each([&](const Task& t) { return arguments_of(k, t, out); });
  if (args.has('r')) return each([&](const Task& t) { return rlimits_of(k, t, out); });
  print_table(table, tasks, args.has('s'), !args.has('H'), out);
}

// -y: scheduling policies by number or (any case) name, comma-separated.
std::set<uint32_t> parse_policies(const std::string& list) {
  static constexpr std::array<std::string_view, 7> kNames = {"NORMAL", "FIFO", "RR",      "BATCH",
                                                             "ISO",    "IDLE", "DEADLINE"};
  std::set<uint32_t> policies;
  std::stringstream words(list);
  std::string word;
  while (std::getline(words, word, ',')) {
    std::string upper;
    for (char c : word) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto named = std::find(kNames.begin(), kNames.end(), upper);
    if (named != kNames.end()) {
      policies.insert(static_cast<uint32_t>(named - kNames.begin()));
    } else if (auto n = parse_number(word, 10); n && *n < kNames.size()) {
      policies.insert(static_cast<uint32_t>(*n));
    } else {
      throw CommandError(fmt::format("invalid scheduling policy: '{}' (see 'help ps')", word));
    }
  }
  if (policies.empty()) throw CommandError("-y needs a scheduling policy");
  return policies;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  const TaskTable& table = k.tasks();
  std::vector<const Task*> tasks = select_tasks(k, table, args.positional());
  if (args.has('k') && args.has('u')) throw CommandError("-k and -u exclude each other");
  std::optional<std::set<uint32_t>> policies;
  if (auto y = args.value('y')) policies = parse_policies(*y);
  // A damaged task's flags, mm and CPU cannot be trusted: it stays in every
  // selection but -A (which the runqueues decide), shown with its marker.
  std::erase_if(tasks, [&](const Task* t) {
    if (!t->damage.empty()) return args.has('A') && !t->active;
    if (args.has('k') && !t->is_kernel_thread()) return true;
    if (args.has('u') && t->is_kernel_thread()) return true;
    if (args.has('G') && !t->is_group_leader() && !t->idle) return true;
    if (args.has('A') && !t->active) return true;
    if (args.has('I') && t->idle) return true;
    if (policies && !policies->contains(t->policy)) return true;
    return false;
  });
  if (auto cpu = args.value('C')) {
    if (!args.has('l') && !args.has('m')) throw CommandError("-C works with -l or -m");
    int c = static_cast<int>(parse_count(*cpu));
    std::erase_if(tasks, [&](const Task* t) { return t->damage.empty() && t->cpu != c; });
  }
  for (const auto& problem : table.problems) {
    out.warning(fmt::format("ps: warning: {}", problem));
    out.data_lost(problem);
  }
  show(k, table, tasks, args, out);
  // The count of damaged tasks closes the listing, where a reader looks last.
  const auto damaged =
      std::count_if(tasks.begin(), tasks.end(), [&](const Task* t) { return report_if_damaged(*t, out); });
  if (damaged > 0) out.warning(fmt::format("ps: {} of {} tasks damaged (marked above)", damaged, tasks.size()));
}

const CommandRegistrar registrar{
    {.name = "ps",
     .summary = "display process status information",
     .usage = "ps [-k|-u|-G|-I|-y policy] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A|-H] [-C cpu]\n"
              "   [pid | task | command] ...",
     .description = "Lists the tasks of the crashed kernel: every thread of every process and\n"
                    "each CPU's idle task (swapper/N). '>' marks the task that was running on\n"
                    "its CPU. Columns: PID, parent PID, CPU, task_struct address, state (RU\n"
                    "running, IN interruptible, UN uninterruptible, ID idle, ST stopped, TR\n"
                    "traced, ZO zombie, DE dead, PA parked, NE new, WA waking), memory share of\n"
                    "the RSS, virtual size and resident size in KiB, and the command (kernel\n"
                    "threads in brackets).\n"
                    "\n"
                    "Arguments select tasks by PID, by task_struct address, or by command\n"
                    "name; a name in single quotes is matched as a regular expression.\n"
                    "\n"
                    "Tasks are found through the process list, each thread group's list, the\n"
                    "PID IDR and the runqueues, so one damaged structure hides nothing else. A\n"
                    "task the sources disagree about is listed with its PID and address and\n"
                    "(damaged: the failed check); a list that could not be walked to its end is\n"
                    "a warning first; a closing line counts the damaged tasks.",
     .examples = "  kdive> ps kd-sleeper\n"
                 "        PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n"
                 "         86       1   0  ffff948b41e20000  IN   0.0     1176       48  kd-sleeper\n"
                 "\n"
                 "The running tasks only:\n"
                 "\n"
                 "  kdive> ps -A\n"
                 "\n"
                 "A thread's ancestors:\n"
                 "\n"
                 "  kdive> ps -p 90\n"
                 "  PID: 0        TASK: ffffffffacc13940  CPU: 0    COMMAND: \"swapper/0\"\n"
                 "   PID: 1        TASK: ffff948b411cddc0  CPU: 0    COMMAND: \"init\"\n"
                 "    PID: 90       TASK: ffff948b581a5dc0  CPU: 0    COMMAND: \"kd-worker-1\"\n"
                 "\n"
                 "The real-time tasks, without the header:\n"
                 "\n"
                 "  kdive> ps -H -y fifo,rr",
     .options = {{'k', "", "kernel threads only"},
                 {'u', "", "user tasks only"},
                 {'G', "", "thread group leaders only"},
                 {'s', "", "show the kernel stack pointer (KSTACKP) instead of the task address"},
                 {'p', "", "show each task's parental hierarchy"},
                 {'c', "", "show each task's children"},
                 {'g', "", "show each task's thread group"},
                 {'t', "", "show run time, start time and user/system time"},
                 {'l', "", "sort by the last-run timestamp (sched_info.last_arrival)"},
                 {'m', "", "like -l, as time elapsed since the most recent run"},
                 {'C', "cpu", "with -l or -m: only tasks of that CPU"},
                 {'a', "", "show command-line arguments and environment (user tasks)"},
                 {'r', "", "show resource limits"},
                 {'S', "", "count the tasks in each state"},
                 {'A', "", "active tasks only (running on a CPU)"},
                 {'I', "", "leave out the idle tasks (swapper/N)"},
                 {'y', "policy",
                  "only tasks of these scheduling policies: NORMAL (0), FIFO (1), RR (2), BATCH (3), "
                  "ISO (4), IDLE (5), DEADLINE (6), by name or number, comma-separated"},
                 {'H', "", "no header line"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "ppid", "cpu", "task", "state", "pct_mem", "vsz", "rss", "comm", "active",
                       "kernel_thread", "kstackp"},
              .notes = "One object per task: vsz and rss in KiB as in the text, pct_mem rounded as\n"
                       "printed, policy the scheduling policy's number and prio the kernel's\n"
                       "effective priority. With -p/-c/-g/-t/-a/-r one object per task holding pid, task, cpu,\n"
                       "comm and the view's key (ancestry, children, threads, run_time_ns, args and\n"
                       "env, rlimits; an unlimited rlimit is null); -l/-m add last_arrival (and\n"
                       "since_latest_ns); -S is an object of state counts, {\"IN\": 40, ...}, with\n"
                       "\"damaged\" counting the damaged tasks. A damaged task (its sources disagree,\n"
                       "or its task_struct cannot be read) is {pid, task, error} in every view: the\n"
                       "pid the PID IDR gives it, its address, and the failed check.",
              .example = "ps"}},
    run};

}  // namespace
}  // namespace kdive
