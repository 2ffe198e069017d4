// runq: each CPU's runqueue — the running task, the RT priority queues and
// the CFS tree — in crash's layout, with -t/-T/-m timestamps and -g groups.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/cpu_list.hpp"
#include "commands/offline_cpus.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/runqueues.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

// "PID: 139    TASK: ffff8da6026a5dc0  COMMAND: \"sh\"", or the bare task
// address when the task table does not know it.
std::string task_text(const Kernel& k, VirtAddr task) {
  if (const Task* t = k.tasks().by_address(task)) {
    return fmt::format("PID: {:<5}  TASK: {:x}  COMMAND: \"{}\"", t->pid, task.value(), t->comm);
  }
  return fmt::format("{:x}", task.value());
}

Json task_json(const Kernel& k, VirtAddr task) {
  Json j = {{"task", json_hex(task)}};
  if (const Task* t = k.tasks().by_address(task)) {
    j["pid"] = t->pid;
    j["comm"] = t->comm;
  } else {
    j["pid"] = nullptr;
    j["comm"] = nullptr;
  }
  return j;
}

void print_break(Output& out, int indent, const WalkBreak& b) {
  out.print("{}(damaged: {})\n", std::string(indent, ' '), b.describe());
  out.data_lost(b.describe());
}

std::string eevdf_suffix(const CfsEntity& e) {
  if (!e.deadline) return "";
  return fmt::format("  deadline: {}  vruntime: {}{}", *e.deadline, e.vruntime, e.delayed ? "  [DELAYED]" : "");
}

// crash's plain runq: the tasks waiting in the tree, groups flattened; the
// running task (cfs_rq.curr) is not waiting, but a running group's queue is.
int print_cfs_flat(const Kernel& k, Output& out, const CfsQueue& q) {
  int total = 0;
  for (size_t i = 0; i <= q.entities.size(); ++i) {
    for (const WalkBreak& b : q.breaks) {
      if (b.position == i) print_break(out, 5, b);
    }
    if (i == q.entities.size()) break;
    const CfsEntity& e = q.entities[i];
    if (!e.group.empty()) {
      total += print_cfs_flat(k, out, e.group.front());
    } else if (!e.current) {
      out.print("     [{:3}] {}{}\n", e.prio, task_text(k, e.task), eevdf_suffix(e));
      ++total;
    }
  }
  return total;
}

// runq -g: the task group hierarchy, each group's queue under its header.
int print_cfs_groups(const Kernel& k, Output& out, const CfsQueue& q, int depth, VirtAddr running) {
  int total = 0;
  if (depth > 0) {
    out.print("{}TASK_GROUP: {:x}  CFS_RQ: {:x} {}\n", std::string(2 + 3 * depth, ' '), q.task_group.value(),
              q.cfs_rq.value(), q.group_name.empty() ? "" : fmt::format(" <{}>", q.group_name));
  }
  const std::string indent(5 + 3 * depth, ' ');
  for (size_t i = 0; i <= q.entities.size(); ++i) {
    for (const WalkBreak& b : q.breaks) {
      if (b.position == i) print_break(out, 5 + 3 * depth, b);
    }
    if (i == q.entities.size()) break;
    const CfsEntity& e = q.entities[i];
    if (!e.group.empty()) {
      ++total;
      total += print_cfs_groups(k, out, e.group.front(), depth + 1, running);
    } else if (!e.current || e.task == running) {
      out.print("{}[{:3}] {}{}{}\n", indent, e.prio, task_text(k, e.task), e.current ? " [CURRENT]" : "",
                eevdf_suffix(e));
      ++total;
    }
  }
  if (total == 0) out.print("{}[no tasks queued]\n", indent);
  return total;
}

Json cfs_json(const Kernel& k, const CfsQueue& q) {
  Json entities = Json::array();
  for (const CfsEntity& e : q.entities) {
    Json j = {{"sched_entity", json_hex(e.se)}, {"vruntime", json_hex(e.vruntime)}, {"current", e.current}};
    if (e.deadline) j["deadline"] = json_hex(*e.deadline);
    if (e.delayed) j["delayed"] = true;
    if (!e.group.empty()) {
      j["group"] = cfs_json(k, e.group.front());
    } else {
      j.update(task_json(k, e.task));
      j["prio"] = e.prio;
    }
    entities.push_back(std::move(j));
  }
  Json breaks = Json::array();
  for (const WalkBreak& b : q.breaks) breaks.push_back(b.describe());
  Json j = {{"cfs_rq", json_hex(q.cfs_rq)}, {"entities", std::move(entities)}, {"breaks", std::move(breaks)}};
  if (!q.task_group.is_null()) j["task_group"] = json_hex(q.task_group);
  if (!q.group_name.empty()) j["group_name"] = q.group_name;
  return j;
}

Json cpu_json(const Kernel& k, const CpuRunqueue& r) {
  Json j = {{"cpu", r.cpu}, {"runqueue", json_hex(r.rq)}};
  if (!r.error.empty()) {
    j["error"] = r.error;
    return j;
  }
  Json current = task_json(k, r.curr);
  try {
    current["last_arrival"] = json_hex(task_last_arrival(k, r.curr));
  } catch (const ModelError&) {
    current["last_arrival"] = nullptr;
  }
  j["current"] = std::move(current);
  j["clock"] = json_hex(r.clock);
  Json rt = Json::array();
  for (const RtQueued& q : r.rt) {
    Json t = task_json(k, q.task);
    t["prio"] = q.prio;
    rt.push_back(std::move(t));
  }
  Json rt_breaks = Json::array();
  for (const WalkBreak& b : r.rt_breaks) rt_breaks.push_back(b.describe());
  j["rt_prio_array"] = json_hex(r.rt_array);
  j["rt"] = std::move(rt);
  j["rt_breaks"] = std::move(rt_breaks);
  j["cfs_rb_root"] = json_hex(r.cfs_root);
  j["cfs"] = cfs_json(k, r.cfs);
  return j;
}

// crash's "0 00:00:01.964": days, then h:m:s.ms.
std::string days_time(uint64_t ns) {
  uint64_t ms = ns / 1000000;
  const uint64_t msec = ms % 1000, secs = ms / 1000 % 60, mins = ms / 60000 % 60, hours = ms / 3600000 % 24,
                 days = ms / 86400000;
  return fmt::format("{} {:02}:{:02}:{:02}.{:03}", days, hours, mins, secs, msec);
}

size_t digits(uint64_t v) { return fmt::format("{}", v).size(); }

void print_timestamps(const Kernel& k, Output& out, const Runqueues& rqs, const OfflineCpus& offline) {
  for (const CpuRunqueue& r : rqs.cpus) {
    out.print("{}CPU {}: ", r.cpu < 10 ? " " : "", r.cpu);
    if (offline.hidden(r.cpu)) {
      out.print("[OFFLINE]\n");
      continue;
    }
    if (!r.error.empty()) {
      out.print("(damaged: {})\n", r.error);
      out.data_lost(fmt::format("runqueue of CPU {}", r.cpu));
      continue;
    }
    const std::string clock = fmt::format("{}", r.clock);
    out.print("{}\n", clock);
    const size_t indent = r.cpu < 100 ? 8 : r.cpu < 1000 ? 9 : 10;
    uint64_t last = 0;
    try {
      last = task_last_arrival(k, r.curr);
    } catch (const ModelError& e) {
      out.print("{}(damaged: {})\n", std::string(indent, ' '), e.what());
      out.data_lost(fmt::format("current task of CPU {}", r.cpu));
      continue;
    }
    out.print("{}{:0{}}  {}\n", std::string(indent, ' '), last, clock.size(), task_text(k, r.curr));
  }
}

void print_lag(Output& out, const Runqueues& rqs) {
  std::vector<const CpuRunqueue*> sorted;
  for (const CpuRunqueue& r : rqs.cpus) {
    if (r.error.empty()) sorted.push_back(&r);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const CpuRunqueue* a, const CpuRunqueue* b) { return a->clock > b->clock; });
  const size_t width = digits(rqs.cpus.size());
  for (const CpuRunqueue* r : sorted) {
    const double lag = (static_cast<double>(sorted.front()->clock) - static_cast<double>(r->clock)) / 1e9;
    out.print("{}CPU {}: {:.2f} secs\n", std::string(2 + width - digits(r->cpu), ' '), r->cpu, lag);
  }
  for (const CpuRunqueue& r : rqs.cpus) {
    if (r.error.empty()) continue;
    out.print("  CPU {}: (damaged: {})\n", r.cpu, r.error);
    out.data_lost(fmt::format("runqueue of CPU {}", r.cpu));
  }
}

void print_minutes(const Kernel& k, Output& out, const Runqueues& rqs, int cpu_count, const OfflineCpus& offline) {
  const int max_indent = cpu_count < 10 ? 1 : cpu_count < 100 ? 2 : cpu_count < 1000 ? 3 : 4;
  size_t max_days = 0;
  for (const CpuRunqueue& r : rqs.cpus) {
    const int indent = r.cpu < 10     ? max_indent
                       : r.cpu < 100  ? max_indent - 1
                       : r.cpu < 1000 ? max_indent - 2
                                      : max_indent - 3;
    const std::string pad(static_cast<size_t>(std::max(indent, 0)), ' ');
    if (offline.hidden(r.cpu)) {
      out.print("{}CPU {}: [OFFLINE]\n", pad, r.cpu);
      continue;
    }
    if (!r.error.empty()) {
      out.print("{}CPU {}: (damaged: {})\n", pad, r.cpu, r.error);
      out.data_lost(fmt::format("runqueue of CPU {}", r.cpu));
      continue;
    }
    if (max_days == 0) max_days = days_time(r.clock).find(' ');
    uint64_t last = 0;
    try {
      last = task_last_arrival(k, r.curr);
    } catch (const ModelError&) {
      out.print("{}CPU {}: [unknown]\n", pad, r.cpu);
      continue;
    }
    const std::string ran = days_time(r.clock > last ? r.clock - last : 0);
    const size_t days = ran.find(' ');
    out.print("{}CPU {}: [{}{}]  {}\n", pad, r.cpu, std::string(max_days > days ? max_days - days : 0, ' '), ran,
              task_text(k, r.curr));
  }
}

void print_queues(const Kernel& k, Output& out, const Runqueues& rqs, bool groups, const OfflineCpus& offline) {
  bool first = true;
  for (const CpuRunqueue& r : rqs.cpus) {
    out.print("{}CPU {}", first ? "" : "\n", r.cpu);
    first = false;
    if (offline.hidden(r.cpu)) {
      out.print(" [OFFLINE]\n");
      continue;
    }
    if (!r.error.empty()) {
      out.print(" (damaged: {})\n", r.error);
      out.data_lost(fmt::format("runqueue of CPU {}", r.cpu));
      continue;
    }
    if (groups) {
      out.print("\n");
    } else {
      out.print(" RUNQUEUE: {:x}\n", r.rq.value());
    }
    out.print("  CURRENT: {}\n", task_text(k, r.curr));
    if (groups) {
      // crash shows RT queues under -g only with CONFIG_RT_GROUP_SCHED;
      // kdive shows a non-empty RT queue always, so no waiting task is hidden.
      if (!r.rt.empty() || !r.rt_breaks.empty()) out.print("  RT PRIO_ARRAY: {:x}\n", r.rt_array.value());
    } else {
      out.print("  RT PRIO_ARRAY: {:x}\n", r.rt_array.value());
    }
    for (size_t i = 0; i <= r.rt.size(); ++i) {
      for (const WalkBreak& b : r.rt_breaks) {
        if (b.position == i) print_break(out, 5, b);
      }
      if (i < r.rt.size()) out.print("     [{:3}] {}\n", r.rt[i].prio, task_text(k, r.rt[i].task));
    }
    if (groups) {
      out.print("  ROOT_TASK_GROUP: {:x}  CFS_RQ: {:x}\n", rqs.root_task_group.value(), r.cfs.cfs_rq.value());
      print_cfs_groups(k, out, r.cfs, 0, r.curr);
      continue;
    }
    if (r.rt.empty()) out.print("     [no tasks queued]\n");
    out.print("  CFS RB_ROOT: {:x}{}\n", r.cfs_root.value(),
              !rqs.eevdf        ? ""
              : rqs.by_deadline ? "  (EEVDF: in deadline order; each task's deadline and vruntime shown)"
                                : "  (EEVDF: in vruntime order; each task's deadline and vruntime shown)");
    if (print_cfs_flat(k, out, r.cfs) == 0) out.print("     [no tasks queued]\n");
  }
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  std::vector<int> cpus;
  if (auto spec = args.value('c')) cpus = parse_cpu_list(*spec, possible_cpus(k));
  Runqueues rqs;
  try {
    // -T compares every CPU's clock with the most advanced one, whatever -c says.
    rqs = read_cpu_runqueues(k, args.has('T') ? std::vector<int>{} : cpus);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("this kernel has no per-CPU runqueues ({})", e.what()));
  }
  if (args.has('g') && rqs.root_task_group.is_null()) {
    throw NotInKernel("-g: this kernel has no task groups (CONFIG_FAIR_GROUP_SCHED is off)");
  }
  // -T shows every CPU's lag whatever `set offline` says, as crash does.
  const OfflineCpus offline(session);
  Json rows = Json::array();
  for (const CpuRunqueue& r : rqs.cpus) {
    rows.push_back(offline.hidden(r.cpu) ? Json{{"cpu", r.cpu}, {"offline", true}} : cpu_json(k, r));
  }
  if (args.has('t')) {
    print_timestamps(k, out, rqs, offline);
  } else if (args.has('T')) {
    print_lag(out, rqs);
  } else if (args.has('m')) {
    print_minutes(k, out, rqs, possible_cpus(k), offline);
  } else {
    print_queues(k, out, rqs, args.has('g'), offline);
  }
  out.result({{"eevdf", rqs.eevdf},
              {"by_deadline", rqs.by_deadline},
              {"root_task_group", rqs.root_task_group.is_null() ? Json(nullptr) : Json(json_hex(rqs.root_task_group))},
              {"cpus", std::move(rows)}});
}

const CommandRegistrar registrar{
    {.name = "runq",
     .summary = "the tasks on each CPU's runqueue",
     .usage = "runq [-t | -T | -m | -g] [-c cpu(s)]",
     .description = "For each CPU: its runqueue (struct rq), the task running there, then the tasks\n"
                    "waiting on the RT priority queues (one list per priority, shown as [prio]) and\n"
                    "in the CFS red-black tree (cfs_rq.tasks_timeline, in the tree's order; each\n"
                    "task's [prio] is task_struct.prio). The running task is not in the tree.\n"
                    "Tasks of a task group (group scheduling) are listed with the rest; -g shows\n"
                    "the groups.\n"
                    "\n"
                    "CFS keys its tree by vruntime. From 6.6 (EEVDF) the scheduler picks the\n"
                    "eligible entity with the earliest virtual deadline, and from 6.8 the tree is\n"
                    "keyed by that deadline. On EEVDF kernels the CFS RB_ROOT line says which\n"
                    "order the tree has, each task line ends with its deadline and vruntime\n"
                    "(virtual ns), and a task whose dequeue is delayed (6.12+) is marked\n"
                    "[DELAYED].\n"
                    "\n"
                    "A damaged tree or list is marked where the walk stopped; the entries reached\n"
                    "around it are still listed.",
     .examples = "  kdive> runq -c 1\n"
                 "  CPU 1 RUNQUEUE: ffff8da61f533440\n"
                 "    CURRENT: PID: 94     TASK: ffff8da6020d1f40  COMMAND: \"kd-busy\"\n"
                 "    RT PRIO_ARRAY: ffff8da61f533680\n"
                 "       [no tasks queued]\n"
                 "    CFS RB_ROOT: ffff8da61f5334f0\n"
                 "       [120] PID: 95     TASK: ffff8da6020d3e80  COMMAND: \"kd-files\"\n"
                 "  kdive> runq -t\n"
                 "   CPU 0: 14703766273\n"
                 "          14703766273  PID: 139    TASK: ffff8da6026a5dc0  COMMAND: \"sh\"",
     .options = {{'t', "", "each CPU's runqueue clock, and when its running task last went on the CPU"},
                 {'T', "", "each CPU's lag: how far its runqueue clock is behind the most advanced one"},
                 {'m', "", "how long each CPU's running task has been running ([days hh:mm:ss.ms])"},
                 {'g', "", "the CFS queues by task group (group scheduling), the running task marked"},
                 {'c', "cpu", "only these CPUs: 1, 1,3, 0-3, all"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"eevdf", "by_deadline", "root_task_group", "cpus"},
              .notes = "The same object whatever the text flags: eevdf (entities have deadlines,\n"
                       "6.6+), by_deadline (the CFS tree is keyed by them, 6.8+; else by vruntime),\n"
                       "root_task_group, and cpus: one object per CPU {cpu, runqueue,\n"
                       "current {task, pid, comm, last_arrival}, clock, rt_prio_array, rt [{task,\n"
                       "pid, comm, prio}], rt_breaks, cfs_rb_root, cfs}. cfs is {cfs_rq, task_group,\n"
                       "group_name, entities, breaks}; each entity is {sched_entity, vruntime,\n"
                       "current, deadline (EEVDF), delayed} plus either {task, pid, comm, prio} or\n"
                       "group (a cfs object). Nanosecond values are \"0x...\" strings. A runqueue\n"
                       "that could not be read is {cpu, runqueue, error}; under `set offline hide`\n"
                       "an offline CPU is {cpu, offline: true}.",
              .example = "runq"}},
    run};

}  // namespace
}  // namespace kdive
