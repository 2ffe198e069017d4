#include "kernel-model/tasks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "kernel-model/containers.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// include/linux/sched.h, stable since 4.14 (TASK_REPORT layout).
constexpr uint64_t kInterruptible = 0x1, kUninterruptible = 0x2, kStopped = 0x4, kTraced = 0x8;
constexpr uint64_t kExitDead = 0x10, kExitZombie = 0x20, kParked = 0x40, kDead = 0x80;
constexpr uint64_t kWaking = 0x200, kNoLoad = 0x400, kNew = 0x800;
constexpr uint32_t kPfKthread = 0x00200000;

// Offsets of the members read from each task_struct, found once by name.
struct TaskLayout {
  uint64_t size = 0;
  uint64_t tasks, pid, tgid, comm, comm_len, real_parent, state, state_size, exit_state, flags, cpu, mm, stack;
  std::optional<uint64_t> thread_sp, last_arrival, start_time, utime, stime, signal, thread_node, thread_group;
  std::optional<uint64_t> rss_stat;  // per-task rss deltas (SPLIT_RSS_COUNTING, before 6.2)
  std::optional<uint64_t> sig_thread_head;

  explicit TaskLayout(TypeSystem& types) {
    const Type& t = types.require("struct task_struct");
    size = t.size();
    auto need = [&](std::initializer_list<std::string_view> names) {
      for (auto n : names) {
        if (auto m = t.member(n)) return *m;
      }
      throw Error(Error::Kind::Lookup, fmt::format("struct task_struct has no member {}", *names.begin()));
    };
    auto maybe = [&](std::string_view n) -> std::optional<uint64_t> {
      if (auto m = t.member(n)) return m->offset;
      return std::nullopt;
    };
    tasks = need({"tasks"}).offset;
    pid = need({"pid"}).offset;
    tgid = need({"tgid"}).offset;
    Member c = need({"comm"});
    comm = c.offset;
    comm_len = c.type->size();
    real_parent = need({"real_parent"}).offset;
    // state became __state in 5.14 (commit 2f064a59a11f).
    Member st = need({"__state", "state"});
    state = st.offset;
    state_size = st.type->size();
    exit_state = need({"exit_state"}).offset;
    flags = need({"flags"}).offset;
    // cpu moved from thread_info to task_struct in 5.16 (commit bcf9033e5449).
    cpu = need({"cpu", "thread_info.cpu"}).offset;
    mm = need({"mm"}).offset;
    stack = need({"stack"}).offset;
    thread_sp = maybe("thread.sp");
    last_arrival = maybe("sched_info.last_arrival");
    start_time = maybe("start_time");
    utime = maybe("utime");
    stime = maybe("stime");
    signal = maybe("signal");
    // Threads hang off signal->thread_head since 6.7 (commit 8e1f385104ac);
    // before, off the leader's thread_group list.
    thread_node = maybe("thread_node");
    thread_group = maybe("thread_group");
    rss_stat = maybe("rss_stat.count");
    if (const Type* s = types.lookup("struct signal_struct")) {
      if (auto m = s->member("thread_head")) sig_thread_head = m->offset;
    }
  }
};

uint64_t field(const std::vector<std::byte>& buf, uint64_t off, uint64_t size) {
  uint64_t v = 0;
  if (off + size <= buf.size()) std::memcpy(&v, buf.data() + off, size);
  return v;
}

class TaskReader {
 public:
  explicit TaskReader(const Kernel& k) : k_(k), layout_(k.types()) { init_mm_layout(); }

  Task read(VirtAddr addr) {
    std::vector<std::byte> buf(layout_.size);
    k_.memory().read(addr, buf);
    Task t;
    t.address = addr;
    t.pid = static_cast<int32_t>(field(buf, layout_.pid, 4));
    t.tgid = static_cast<int32_t>(field(buf, layout_.tgid, 4));
    const char* c = reinterpret_cast<const char*>(buf.data() + layout_.comm);
    t.comm.assign(c, strnlen(c, layout_.comm_len));
    t.parent = VirtAddr{field(buf, layout_.real_parent, 8)};
    t.state = field(buf, layout_.state, layout_.state_size);
    t.exit_state = field(buf, layout_.exit_state, 4);
    t.flags = static_cast<uint32_t>(field(buf, layout_.flags, 4));
    t.cpu = static_cast<int>(field(buf, layout_.cpu, 4));
    t.mm = VirtAddr{field(buf, layout_.mm, 8)};
    t.stack = VirtAddr{field(buf, layout_.stack, 8)};
    if (layout_.thread_sp) t.kernel_sp = field(buf, *layout_.thread_sp, 8);
    if (layout_.last_arrival) t.last_arrival = field(buf, *layout_.last_arrival, 8);
    if (layout_.start_time) t.start_time = field(buf, *layout_.start_time, 8);
    if (layout_.utime) t.utime = field(buf, *layout_.utime, 8);
    if (layout_.stime) t.stime = field(buf, *layout_.stime, 8);
    if (t.mm.value() != 0) read_mm(t, buf);
    return t;
  }

  std::vector<VirtAddr> threads_of(VirtAddr leader) {
    if (layout_.thread_node && layout_.sig_thread_head && layout_.signal) {
      uint64_t signal = k_.memory().read<uint64_t>(leader + *layout_.signal);
      return list_entries(k_, VirtAddr{signal + *layout_.sig_thread_head}, *layout_.thread_node);
    }
    std::vector<VirtAddr> out = {leader};
    if (layout_.thread_group) {
      for (VirtAddr t : list_entries(k_, leader + *layout_.thread_group, *layout_.thread_group)) out.push_back(t);
    }
    return out;
  }

  uint64_t tasks_offset() const { return layout_.tasks; }

  // Per-task RSS deltas not yet folded into the mm (SPLIT_RSS_COUNTING).
  int64_t pending_rss(VirtAddr task) {
    if (!layout_.rss_stat || mm_percpu_) return 0;
    int64_t sum = 0;
    for (int i : rss_counters_) sum += k_.memory().read<int32_t>(task + *layout_.rss_stat + i * 4);
    return sum;
  }

 private:
  void init_mm_layout() {
    const Type* mm = k_.types().lookup("struct mm_struct");
    if (mm == nullptr) return;
    if (auto m = mm->member("total_vm")) total_vm_ = m->offset;
    auto rss = mm->member("rss_stat");
    if (!rss) return;
    rss_stat_ = rss->offset;
    // 6.2 made rss_stat an array of percpu_counter (commit f1a7941243c1).
    mm_percpu_ = rss->type->strip().kind() == TypeKind::Array;
    for (const char* name : {"MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES"}) {
      if (auto v = k_.types().enumerator(name)) rss_counters_.push_back(static_cast<int>(*v));
    }
    if (mm_percpu_) {
      const Type& pc = rss->type->strip().target()->strip();
      percpu_size_ = pc.size();
      if (auto m = pc.member("count")) pc_count_ = m->offset;
      if (auto m = pc.member("counters")) pc_counters_ = m->offset;
    }
  }

  void read_mm(Task& t, const std::vector<std::byte>&) {
    try {
      if (total_vm_) t.total_vm_pages = k_.memory().read<uint64_t>(t.mm + *total_vm_);
      if (!rss_stat_) return;
      int64_t rss = 0;
      for (int i : rss_counters_) {
        if (mm_percpu_) {
          VirtAddr counter = t.mm + *rss_stat_ + i * percpu_size_;
          int64_t v = k_.memory().read<int64_t>(counter + pc_count_);
          uint64_t per_cpu = k_.memory().read<uint64_t>(counter + pc_counters_);
          for (int cpu = 0; cpu < cpus(); ++cpu) {
            v += k_.memory().read<int32_t>(VirtAddr{per_cpu + k_.per_cpu_offset(cpu)});
          }
          rss += v;
        } else {
          rss += k_.memory().read<int64_t>(t.mm + *rss_stat_ + i * 8);
        }
      }
      t.rss_pages = rss > 0 ? static_cast<uint64_t>(rss) : 0;
    } catch (const Fault&) {
      // An unreadable mm leaves VSZ/RSS at 0 for this task only.
    }
  }

  int cpus() {
    if (cpus_ == 0) {
      cpus_ = 1;
      if (auto a = k_.symbols().address("nr_cpu_ids"))
        cpus_ = static_cast<int>(k_.memory().read<uint32_t>(VirtAddr{*a}));
    }
    return cpus_;
  }

  const Kernel& k_;
  TaskLayout layout_;
  std::optional<uint64_t> total_vm_, rss_stat_;
  bool mm_percpu_ = false;
  std::vector<int> rss_counters_;
  uint64_t percpu_size_ = 0, pc_count_ = 0, pc_counters_ = 0;
  int cpus_ = 0;
};

uint64_t total_ram_pages(const Kernel& k) {
  // _totalram_pages (atomic_long_t) since 5.0; totalram_pages before.
  for (const char* name : {"_totalram_pages", "totalram_pages"}) {
    if (auto a = k.symbols().address(name)) {
      try {
        return k.memory().read<uint64_t>(VirtAddr{*a});
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

TaskTable read_tasks(const Kernel& k) {
  TaskTable table;
  TaskReader reader(k);
  VirtAddr init{k.symbol_address("init_task")};

  std::vector<VirtAddr> addresses;
  std::vector<VirtAddr> leaders = {init};
  for (VirtAddr t : list_entries(k, init + reader.tasks_offset(), reader.tasks_offset())) leaders.push_back(t);
  for (VirtAddr leader : leaders) {
    try {
      for (VirtAddr t : reader.threads_of(leader)) addresses.push_back(t);
    } catch (const std::exception& e) {
      addresses.push_back(leader);
      table.problems.push_back(fmt::format("threads of task {:x}: {}", leader.value(), e.what()));
    }
  }

  // Each CPU's runqueue knows its idle task (not on any list) and what ran.
  std::vector<VirtAddr> idle;
  int cpus = 1;
  if (auto a = k.symbols().address("nr_cpu_ids")) cpus = static_cast<int>(k.memory().read<uint32_t>(VirtAddr{*a}));
  for (int cpu = 0; cpu < cpus; ++cpu) {
    try {
      Object rq = k.object(k.per_cpu("runqueues", cpu), "struct rq");
      table.active.push_back(VirtAddr{rq["curr"].pointer()});
      VirtAddr idle_task{rq["idle"].pointer()};
      idle.push_back(idle_task);
      if (idle_task != init) addresses.push_back(idle_task);
    } catch (const std::exception& e) {
      table.active.push_back(VirtAddr{});
      table.problems.push_back(fmt::format("runqueue of CPU {}: {}", cpu, e.what()));
    }
  }

  std::map<uint64_t, int64_t> pid_of;
  for (VirtAddr a : addresses) {
    try {
      Task t = reader.read(a);
      t.idle = std::find(idle.begin(), idle.end(), a) != idle.end();
      t.active = std::find(table.active.begin(), table.active.end(), a) != table.active.end();
      pid_of[a.value()] = t.pid;
      table.all.push_back(std::move(t));
    } catch (const std::exception& e) {
      table.problems.push_back(fmt::format("task {:x}: {}", a.value(), e.what()));
    }
  }
  // SPLIT_RSS_COUNTING: each thread's unfolded deltas belong to its mm.
  std::map<uint64_t, int64_t> pending;
  for (const Task& t : table.all) {
    if (t.mm.value() == 0) continue;
    try {
      pending[t.mm.value()] += reader.pending_rss(t.address);
    } catch (const Fault&) {
      // Without the deltas RSS is slightly low; the task is still listed.
    }
  }
  for (Task& t : table.all) {
    // Idle tasks count as children of nobody (crash shows PPID 0 for every
    // swapper/N, though secondary CPUs' idle tasks were forked by init).
    t.ppid = !t.idle && pid_of.count(t.parent.value()) ? pid_of[t.parent.value()] : 0;
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

}  // namespace kdive
