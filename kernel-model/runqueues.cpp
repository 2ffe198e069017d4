#include "kernel-model/runqueues.hpp"

#include <fmt/format.h>

#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/rbtree_walk.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

// Group scheduling nests one cfs_rq per task group level; the kernel's
// hierarchy is shallow, so anything deeper than this is a loop in the dump.
constexpr int kMaxGroupDepth = 32;

struct Offsets {
  const Type* task;
  const Type* se;
  uint64_t task_se;        // task_struct.se
  uint64_t task_rt;        // task_struct.rt (the run_list lives inside)
  uint64_t rt_run_list;    // sched_rt_entity.run_list
  uint64_t se_run_node;    // sched_entity.run_node
  bool has_my_q;           // CONFIG_FAIR_GROUP_SCHED
  bool has_rt_my_q;        // CONFIG_RT_GROUP_SCHED
  bool has_deadline;       // EEVDF
  bool has_sched_delayed;  // 6.12 delayed dequeue
};

Offsets offsets(const Kernel& k) {
  TypeSystem& ts = k.types();
  Offsets o{};
  o.task = &ts.require("struct task_struct");
  o.se = &ts.require("struct sched_entity");
  o.task_se = o.task->require_member("se").offset;
  o.task_rt = o.task->require_member("rt").offset;
  o.rt_run_list = ts.require("struct sched_rt_entity").require_member("run_list").offset;
  o.se_run_node = o.se->require_member("run_node").offset;
  o.has_my_q = o.se->member("my_q").has_value();
  o.has_rt_my_q = ts.require("struct sched_rt_entity").member("my_q").has_value();
  // sched_entity.deadline arrived with EEVDF (6.6, commit 147f3efaa241).
  o.has_deadline = o.se->member("deadline").has_value();
  // sched_entity.sched_delayed: delayed dequeue (6.12, commit 152e11f6df29).
  o.has_sched_delayed = o.se->member("sched_delayed").has_value();
  return o;
}

class CfsReader {
 public:
  CfsReader(const Kernel& k, const Offsets& o) : k_(k), o_(o) {}

  CfsQueue read(VirtAddr cfs_rq, int depth) {
    CfsQueue q;
    q.cfs_rq = cfs_rq;
    if (depth > kMaxGroupDepth || !seen_.insert(cfs_rq.value()).second) {
      q.breaks.push_back(
          {0, cfs_rq,
           depth > kMaxGroupDepth ? "group scheduling nested too deep (a loop)" : "cfs_rq reached twice (a loop)"});
      return q;
    }
    Object rq = k_.object(cfs_rq, "struct cfs_rq");
    try {
      if (rq.has_member("tg")) {
        q.task_group = rq["tg"].pointer();
        if (!q.task_group.is_null()) q.group_name = group_name(q.task_group);
      }
    } catch (const ModelError&) {
      // The name is decoration; the queue is still worth walking.
    }
    try {
      const VirtAddr curr = rq["curr"].pointer();
      if (!curr.is_null()) {
        CfsEntity e = entity(curr, depth);
        e.current = true;
        q.entities.push_back(std::move(e));
      }
    } catch (const ModelError& e) {
      q.breaks.push_back({q.entities.size(), rq.address(), fmt::format("cfs_rq.curr: {}", e.what())});
    }
    const VirtAddr root = rq["tasks_timeline"].address();
    Walked<VirtAddr> nodes = walk_rbtree_entries(k_.memory(), root, o_.se_run_node);
    for (size_t i = 0; i <= nodes.entries.size(); ++i) {
      for (const WalkBreak* b : nodes.breaks_at(i)) {
        WalkBreak moved = *b;  // renumbered: entities also holds curr and skips unreadable ones
        moved.position = q.entities.size();
        q.breaks.push_back(moved);
      }
      if (i == nodes.entries.size()) break;
      try {
        q.entities.push_back(entity(nodes.entries[i], depth));
      } catch (const ModelError& e) {
        q.breaks.push_back({q.entities.size(), nodes.entries[i], fmt::format("sched_entity: {}", e.what())});
      }
    }
    return q;
  }

 private:
  CfsEntity entity(VirtAddr se_addr, int depth) {
    Object se = Object(k_, se_addr, o_.se);
    CfsEntity e;
    e.se = se_addr;
    e.vruntime = se["vruntime"].as_u64();
    if (o_.has_deadline) e.deadline = se["deadline"].as_u64();
    if (o_.has_sched_delayed) e.delayed = se["sched_delayed"].as_u64() != 0;
    VirtAddr my_q;
    if (o_.has_my_q) my_q = se["my_q"].pointer();
    if (!my_q.is_null()) {
      e.group.push_back(read(my_q, depth + 1));
    } else {
      e.task = VirtAddr{se_addr.value() - o_.task_se};
      e.prio = static_cast<int>(Object(k_, e.task, o_.task)["prio"].as_i64());
    }
    return e;
  }

  // task_group.css.cgroup->kn->name: the cgroup directory of the group.
  std::string group_name(VirtAddr tg) {
    Object g = k_.object(tg, "struct task_group");
    Object cgroup = g["css"]["cgroup"];
    if (cgroup.is_null()) return "";
    Object kn = cgroup["kn"];
    if (kn.is_null()) return "";
    return kn["name"].string(256);
  }

  const Kernel& k_;
  const Offsets& o_;
  std::set<uint64_t> seen_;
};

void read_rt(const Kernel& k, const Offsets& o, VirtAddr rt_rq_addr, CpuRunqueue& out, int depth) {
  Object rt_rq = k.object(rt_rq_addr, "struct rt_rq");
  Object queues = rt_rq["active"]["queue"];
  const uint64_t n = queues.type().strip().count().value_or(0);
  const uint64_t head_size = queues.type().strip().target()->size();
  for (uint64_t prio = 0; prio < n; ++prio) {
    const VirtAddr head{queues.address().value() + prio * head_size};
    Walked<VirtAddr> w = walk_list(k.memory(), head, o.rt_run_list);
    for (size_t i = 0; i <= w.entries.size(); ++i) {
      for (const WalkBreak* b : w.breaks_at(i)) {
        WalkBreak moved = *b;
        moved.position = out.rt.size();
        out.rt_breaks.push_back(moved);
      }
      if (i == w.entries.size()) break;
      const VirtAddr rt_se = w.entries[i];
      try {
        if (o.has_rt_my_q) {
          const VirtAddr my_q = k.object(rt_se, "struct sched_rt_entity")["my_q"].pointer();
          if (!my_q.is_null()) {
            if (depth < kMaxGroupDepth) {
              read_rt(k, o, my_q, out, depth + 1);
            } else {
              out.rt_breaks.push_back({out.rt.size(), my_q, "RT group scheduling nested too deep (a loop)"});
            }
            continue;
          }
        }
        out.rt.push_back({static_cast<int>(prio), VirtAddr{rt_se.value() - o.task_rt}});
      } catch (const ModelError& e) {
        out.rt_breaks.push_back({out.rt.size(), rt_se, fmt::format("sched_rt_entity: {}", e.what())});
      }
    }
  }
}

}  // namespace

Runqueues read_cpu_runqueues(const Kernel& k, const std::vector<int>& cpus) {
  if (k.find_symbol("runqueues") == nullptr) throw Error(Error::Kind::Lookup, "no per-CPU symbol 'runqueues'");
  const Offsets o = offsets(k);
  Runqueues out;
  out.eevdf = o.has_deadline;
  out.by_deadline = o.has_deadline && o.se->member("min_vruntime").has_value();
  if (const Symbol* s = k.find_symbol("root_task_group"); s != nullptr && o.has_my_q) {
    out.root_task_group = k.symbol_address("root_task_group");
  }
  std::vector<int> which = cpus;
  if (which.empty()) {
    for (int c = 0; c < possible_cpus(k); ++c) which.push_back(c);
  }
  for (int cpu : which) {
    CpuRunqueue r;
    r.cpu = cpu;
    try {
      r.rq = k.per_cpu("runqueues", cpu);
      Object rq = k.object(r.rq, "struct rq");
      r.curr = rq["curr"].pointer();
      r.clock = rq["clock"].as_u64();
      Object rt = rq["rt"];
      r.rt_array = rt["active"].address();
      Object cfs = rq["cfs"];
      r.cfs_root = cfs["tasks_timeline"].address();
      try {
        read_rt(k, o, rt.address(), r, 0);
      } catch (const ModelError& e) {
        r.rt_breaks.push_back({r.rt.size(), r.rt_array, e.what()});
      }
      try {
        CfsReader reader(k, o);
        r.cfs = reader.read(cfs.address(), 0);
      } catch (const ModelError& e) {
        r.cfs.cfs_rq = cfs.address();
        r.cfs.breaks.push_back({r.cfs.entities.size(), cfs.address(), e.what()});
      }
    } catch (const ModelError& e) {
      r.error = e.what();
    }
    out.cpus.push_back(std::move(r));
  }
  return out;
}

uint64_t task_last_arrival(const Kernel& k, VirtAddr task) {
  return k.object(task, "struct task_struct")["sched_info"]["last_arrival"].as_u64();
}

}  // namespace kdive
