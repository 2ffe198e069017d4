#include "kernel-model/tasks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/mm_usage.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

// include/linux/sched.h, stable since 4.14 (TASK_REPORT layout).
constexpr uint64_t kInterruptible = 0x1, kUninterruptible = 0x2, kStopped = 0x4, kTraced = 0x8;
constexpr uint64_t kExitDead = 0x10, kExitZombie = 0x20, kParked = 0x40, kDead = 0x80;
constexpr uint64_t kWaking = 0x200, kNoLoad = 0x400, kNew = 0x800;
constexpr uint32_t kPfKthread = 0x00200000;

// A member of a struct read from a copy of its bytes: where it is and how wide,
// both from DWARF.
struct Field {
  uint64_t offset = 0;
  uint64_t size = 0;

  static Field of(const Member& m) { return {m.offset, m.type->size()}; }
  // The member's value (little-endian, zero-extended), or 0 if it lies outside the copy.
  uint64_t in(const std::vector<std::byte>& buf) const {
    uint64_t v = 0;
    if (size <= sizeof v && offset + size <= buf.size()) std::memcpy(&v, buf.data() + offset, size);
    return v;
  }
};

// The members read from each task_struct, found once by name. A task is read
// with one copy of the whole struct (a few KiB) rather than a read per member:
// a busy machine has tens of thousands of tasks.
struct TaskLayout {
  uint64_t size = 0;
  Field pid, tgid, comm, real_parent, state, exit_state, flags, cpu, mm, stack, policy, prio;
  std::optional<Field> thread_sp, last_arrival, start_time, utime, stime;
  bool rss_stat = false;  // per-task rss deltas (SPLIT_RSS_COUNTING, before 6.2)

  explicit TaskLayout(TypeSystem& types) {
    const Type& t = types.require("struct task_struct");
    size = t.size();
    auto need = [&](std::initializer_list<std::string_view> names) {
      for (auto n : names) {
        if (auto m = t.member(n)) return *m;
      }
      throw Error(Error::Kind::Lookup, fmt::format("struct task_struct has no member {}", *names.begin()));
    };
    auto maybe = [&](std::string_view n) -> std::optional<Field> {
      if (auto m = t.member(n)) return Field::of(*m);
      return std::nullopt;
    };
    pid = Field::of(need({"pid"}));
    tgid = Field::of(need({"tgid"}));
    comm = Field::of(need({"comm"}));
    real_parent = Field::of(need({"real_parent"}));
    // state became __state in 5.14 (commit 2f064a59a11f).
    state = Field::of(need({"__state", "state"}));
    exit_state = Field::of(need({"exit_state"}));
    flags = Field::of(need({"flags"}));
    // cpu moved from thread_info to task_struct in 5.16 (commit bcf9033e5449).
    cpu = Field::of(need({"cpu", "thread_info.cpu"}));
    mm = Field::of(need({"mm"}));
    stack = Field::of(need({"stack"}));
    policy = Field::of(need({"policy"}));
    prio = Field::of(need({"prio"}));
    thread_sp = maybe("thread.sp");
    last_arrival = maybe("sched_info.last_arrival");
    start_time = maybe("start_time");
    utime = maybe("utime");
    stime = maybe("stime");
    rss_stat = t.member("rss_stat.count").has_value();
  }
};

class TaskReader {
 public:
  explicit TaskReader(const Kernel& k)
      : k_(k), layout_(k.types()), task_type_(&k.types().require("struct task_struct")), usage_(k) {}

  Task read(VirtAddr addr) {
    std::vector<std::byte> buf(layout_.size);
    k_.memory().read(addr, buf);
    Task t;
    t.address = addr;
    t.pid = static_cast<int32_t>(layout_.pid.in(buf));  // pid_t
    t.tgid = static_cast<int32_t>(layout_.tgid.in(buf));
    const char* c = reinterpret_cast<const char*>(buf.data() + layout_.comm.offset);
    t.comm.assign(c, strnlen(c, layout_.comm.size));
    t.parent = VirtAddr{layout_.real_parent.in(buf)};
    t.state = layout_.state.in(buf);
    t.exit_state = layout_.exit_state.in(buf);
    t.flags = static_cast<uint32_t>(layout_.flags.in(buf));
    t.cpu = static_cast<int>(layout_.cpu.in(buf));
    t.mm = VirtAddr{layout_.mm.in(buf)};
    t.stack = VirtAddr{layout_.stack.in(buf)};
    t.policy = static_cast<uint32_t>(layout_.policy.in(buf));
    t.prio = static_cast<int32_t>(layout_.prio.in(buf));
    if (layout_.thread_sp) t.kernel_sp = layout_.thread_sp->in(buf);
    if (layout_.last_arrival) t.last_arrival = layout_.last_arrival->in(buf);
    if (layout_.start_time) t.start_time = layout_.start_time->in(buf);
    if (layout_.utime) t.utime = layout_.utime->in(buf);
    if (layout_.stime) t.stime = layout_.stime->in(buf);
    if (!t.mm.is_null()) read_mm(t);
    return t;
  }

  // Per-task RSS deltas not yet folded into the mm (SPLIT_RSS_COUNTING, until
  // 6.2: task_struct.rss_stat.count[NR_MM_COUNTERS]).
  int64_t pending_rss(VirtAddr task) {
    if (!layout_.rss_stat || usage_.percpu()) return 0;
    Object counts = Object(k_, task, task_type_)["rss_stat.count"];
    int64_t sum = 0;
    for (int i : usage_.rss_counters()) sum += counts.at(static_cast<uint64_t>(i)).as_i64();
    return sum;
  }

 private:
  void read_mm(Task& t) {
    try {
      MmUsage u = usage_.read(t.mm);
      t.total_vm_pages = u.total_vm_pages;
      t.rss_pages = u.rss_pages > 0 ? static_cast<uint64_t>(u.rss_pages) : 0;
    } catch (const Fault&) {
      // An unreadable mm leaves VSZ/RSS at 0 for this task only.
    }
  }

  const Kernel& k_;
  TaskLayout layout_;
  const Type* task_type_;
  MmUsageReader usage_;
};

uint64_t total_ram_pages(const Kernel& k) {
  // _totalram_pages (atomic_long_t) since 5.0; totalram_pages before.
  for (const char* name : {"_totalram_pages", "totalram_pages"}) {
    if (auto a = k.symbols().address(name)) {
      try {
        return k.memory().read<uint64_t>(*a);
      } catch (const Fault&) {
      }
    }
  }
  return 0;
}

}  // namespace

bool Task::is_kernel_thread() const { return (flags & kPfKthread) != 0 || mm.value() == 0; }

std::string Task::state_code() const {
  if (exit_state & kExitZombie) return "ZO";
  if (exit_state & kExitDead) return "DE";
  if (state == 0) return "RU";
  if ((state & kUninterruptible) && (state & kNoLoad)) return "ID";
  if (state & kInterruptible) return "IN";
  if (state & kUninterruptible) return "UN";
  if (state & kStopped) return "ST";
  if (state & kTraced) return "TR";
  if (state & kParked) return "PA";
  if (state & kDead) return "DE";
  if (state & kWaking) return "WA";
  if (state & kNew) return "NE";
  return "??";
}

std::string Task::state_names() const {
  static constexpr std::pair<uint64_t, const char*> kStateBits[] = {{kInterruptible, "TASK_INTERRUPTIBLE"},
                                                                    {kUninterruptible, "TASK_UNINTERRUPTIBLE"},
                                                                    {kStopped, "__TASK_STOPPED"},
                                                                    {kTraced, "__TASK_TRACED"},
                                                                    {kParked, "TASK_PARKED"},
                                                                    {kDead, "TASK_DEAD"},
                                                                    {0x100, "TASK_WAKEKILL"},
                                                                    {kWaking, "TASK_WAKING"},
                                                                    {kNoLoad, "TASK_NOLOAD"},
                                                                    {kNew, "TASK_NEW"}};
  std::string out;
  auto add = [&](const char* name) {
    if (!out.empty()) out += '|';
    out += name;
  };
  for (auto [bit, name] : kStateBits) {
    if (state & bit) add(name);
  }
  if (exit_state & kExitZombie) add("EXIT_ZOMBIE");
  if (exit_state & kExitDead) add("EXIT_DEAD");
  if (out.empty()) out = state == 0 ? "TASK_RUNNING" : fmt::format("{:#x}", state);
  return out;
}

const Task* TaskTable::by_pid(int64_t pid) const {
  for (const auto& t : all) {
    if (t.pid == pid) return &t;
  }
  return nullptr;
}

const Task* TaskTable::by_address(VirtAddr task) const {
  for (const auto& t : all) {
    if (t.address == task) return &t;
  }
  return nullptr;
}

const Task* TaskTable::active_on(int cpu) const {
  if (cpu < 0 || static_cast<size_t>(cpu) >= active.size()) return nullptr;
  return by_address(active[cpu]);
}

namespace {

TaskTable read_tasks_once(const Kernel& k) {
  TaskTable table;
  TaskReader reader(k);
  const VirtAddr init = k.symbol_address("init_task");
  auto report = [&]<class Entry>(const std::string& source, const Walked<Entry>& w) {
    for (const WalkBreak& b : w.breaks) table.problems.push_back(fmt::format("{}: {}", source, b.describe()));
  };

  // Every task any source names, with what the PID IDR says its pid is.
  struct Found {
    std::optional<int64_t> idr_pid;
  };
  std::map<uint64_t, Found> found;
  std::vector<uint64_t> order;  // first-found order, so reading follows the lists
  auto add = [&](VirtAddr task) -> Found& {
    auto [it, inserted] = found.try_emplace(task.value());
    if (inserted) order.push_back(task.value());
    return it->second;
  };

  Walked<VirtAddr> processes = walk_process_list(k);
  report("the process list (init_task.tasks)", processes);
  for (VirtAddr t : processes.entries) add(t);

  Walked<PidIdrTask> pids = walk_pid_idr(k);
  report("the PID IDR (init_pid_ns.idr)", pids);
  std::map<int64_t, uint64_t> idr_task;  // pid -> task
  for (const PidIdrTask& p : pids.entries) {
    if (p.task.is_null()) continue;
    add(p.task).idr_pid = p.pid;
    idr_task[p.pid] = p.task.value();
  }

  RunqueueTasks rqs = read_runqueues(k);
  for (auto& p : rqs.problems) table.problems.push_back(std::move(p));
  table.active = rqs.curr;
  for (size_t cpu = 0; cpu < rqs.curr.size(); ++cpu) {
    if (!rqs.curr[cpu].is_null()) add(rqs.curr[cpu]);
    if (!rqs.idle[cpu].is_null()) add(rqs.idle[cpu]);
  }

  // Read each task once; each thread group's list is walked from the first of
  // its threads read soundly, and the threads it names join the work list.
  std::set<int64_t> groups_walked;
  for (size_t i = 0; i < order.size(); ++i) {
    const VirtAddr a{order[i]};
    const Found f = found[a.value()];
    Task t;
    // task_structs come from their slab cache, in the direct map; only
    // init_task is a static in the kernel image. A pointer elsewhere is no task.
    if (a != init && !k.memory().in_direct_map(a)) {
      t.address = a;
      t.pid = f.idr_pid.value_or(0);
      t.damage = "not a task_struct address: outside the direct map, where task_structs are allocated";
      table.all.push_back(std::move(t));
      continue;
    }
    try {
      t = reader.read(a);
    } catch (const ModelError& e) {
      t.address = a;
      t.pid = f.idr_pid.value_or(0);
      t.damage = fmt::format("task_struct unreadable: {}", e.what());
      table.all.push_back(std::move(t));
      continue;
    }
    t.idle = std::find(rqs.idle.begin(), rqs.idle.end(), a) != rqs.idle.end();
    t.active = std::find(rqs.curr.begin(), rqs.curr.end(), a) != rqs.curr.end();
    if (f.idr_pid && *f.idr_pid != t.pid) {
      // The IDR found it under another number: one of the two is damaged,
      // and the struct pid the IDR holds is the more redundant witness.
      t.damage = fmt::format("pid {} in task_struct, IDR says {}", t.pid, *f.idr_pid);
      t.pid = *f.idr_pid;
    } else if (!f.idr_pid && !t.idle && pids.complete() && idr_task.count(t.pid)) {
      t.damage =
          fmt::format("pid {} in task_struct, but the IDR gives pid {} to task {:x}", t.pid, t.pid, idr_task[t.pid]);
    }
    if (t.damage.empty() && !t.idle && groups_walked.insert(t.tgid).second) {
      Walked<VirtAddr> threads = walk_thread_group(k, a);
      report(fmt::format("the threads of pid {}", t.tgid), threads);
      for (VirtAddr thread : threads.entries) add(thread);
    }
    table.all.push_back(std::move(t));
  }

  std::map<uint64_t, int64_t> pid_of;
  for (const Task& t : table.all) pid_of[t.address.value()] = t.pid;
  // SPLIT_RSS_COUNTING: each thread's unfolded deltas belong to its mm.
  std::map<uint64_t, int64_t> pending;
  for (const Task& t : table.all) {
    if (t.mm.value() == 0 || !t.damage.empty()) continue;
    try {
      pending[t.mm.value()] += reader.pending_rss(t.address);
    } catch (const Fault&) {
      // Without the deltas RSS is slightly low; the task is still listed.
    }
  }
  for (Task& t : table.all) {
    // Idle tasks count as children of nobody (crash shows PPID 0 for every
    // swapper/N, though secondary CPUs' idle tasks were forked by init).
    t.ppid = !t.idle && t.damage.empty() && pid_of.count(t.parent.value()) ? pid_of[t.parent.value()] : 0;
    if (t.mm.value() != 0) {
      int64_t r = static_cast<int64_t>(t.rss_pages) + pending[t.mm.value()];
      t.rss_pages = static_cast<uint64_t>(std::max<int64_t>(0, r));
    }
  }
  std::sort(table.all.begin(), table.all.end(),
            [](const Task& a, const Task& b) { return a.pid != b.pid ? a.pid < b.pid : a.cpu < b.cpu; });
  table.total_ram_pages = total_ram_pages(k);
  return table;
}

}  // namespace

TaskTable read_tasks(const Kernel& k) {
  // A running kernel changes its lists while they are read: a task that exits
  // mid-walk leaves a link that no longer points back. On a live system what
  // looks damaged is read again, and only damage that persists is reported.
  const int attempts = k.dump().notes().live ? 3 : 1;
  TaskTable table;
  for (int i = 0; i < attempts; ++i) {
    table = read_tasks_once(k);
    const bool damaged =
        std::any_of(table.all.begin(), table.all.end(), [](const Task& t) { return !t.damage.empty(); });
    if (table.problems.empty() && !damaged) break;
  }
  return table;
}

}  // namespace kdive
