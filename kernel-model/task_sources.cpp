#include "kernel-model/task_sources.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// A source that could not be walked at all: one break at its start.
template <class Entry>
Walked<Entry> unreadable(VirtAddr at, const ModelError& e) {
  Walked<Entry> w;
  w.breaks.push_back(WalkBreak{0, at, e.what()});
  return w;
}

}  // namespace

Walked<VirtAddr> walk_process_list(const Kernel& k) {
  VirtAddr init = k.symbol_address("init_task");
  try {
    const Type& task = k.types().require("struct task_struct");
    Walked<VirtAddr> w = walk_list(k.memory(), init + member_offset(task, "tasks"), member_offset(task, "tasks"));
    w.entries.insert(w.entries.begin(), init);
    for (WalkBreak& b : w.breaks) ++b.position;
    return w;
  } catch (const ModelError& e) {
    return unreadable<VirtAddr>(init, e);
  }
}

Walked<VirtAddr> walk_thread_group(const Kernel& k, VirtAddr member) {
  try {
    const Type& task = k.types().require("struct task_struct");
    const Type* signal = k.types().lookup("struct signal_struct");
    // Threads hang off signal->thread_head since 6.7 (commit 8e1f385104ac);
    // before, they are a ring through each thread's thread_group.
    if (task.member("thread_node") && signal != nullptr && signal->member("thread_head")) {
      Object head = Object(k, member, &task)["signal"]["thread_head"];
      return walk_list(k.memory(), head.address(), member_offset(task, "thread_node"));
    }
    const uint64_t offset = member_offset(task, "thread_group");
    Walked<VirtAddr> w = walk_list(k.memory(), member + offset, offset);
    w.entries.insert(w.entries.begin(), member);
    for (WalkBreak& b : w.breaks) ++b.position;
    return w;
  } catch (const ModelError& e) {
    return unreadable<VirtAddr>(member, e);
  }
}

Walked<PidIdrTask> walk_pid_idr(const Kernel& k) {
  Walked<PidIdrTask> out;
  VirtAddr ns;
  try {
    ns = k.symbol_address("init_pid_ns");
    const Type& pid_type = k.types().require("struct pid");
    const Type& task_type = k.types().require("struct task_struct");
    // pid_links[PIDTYPE_PID] (4.19+, commit 2c4704756cab): PIDTYPE_PID is 0.
    const uint64_t link_offset = member_offset(task_type, "pid_links");
    const uint64_t tasks_offset = member_offset(pid_type, "tasks");
    const uint64_t nr_offset =
        member_offset(pid_type, "numbers") + member_offset(k.types().require("struct upid"), "nr");
    Object idr = k.object(ns, "struct pid_namespace")["idr"];
    // A damaged IDR node loses only its own pids, named in its break; the
    // tasks behind them are still found through the lists.
    Walked<XarrayEntry> ids = walk_idr(k, idr.address());
    out.breaks = std::move(ids.breaks);
    for (const XarrayEntry& e : ids.entries) {
      PidIdrTask t;
      t.pid = static_cast<int64_t>(e.index);
      t.pid_struct = VirtAddr{e.value};
      try {
        // The struct pid must carry the number the IDR files it under.
        const auto nr = static_cast<int32_t>(k.memory().read<uint32_t>(t.pid_struct + nr_offset));
        if (nr != t.pid) {
          out.breaks.push_back(WalkBreak{out.entries.size(), t.pid_struct,
                                         fmt::format("struct pid of pid {} says it is pid {}", t.pid, nr)});
          continue;
        }
        const uint64_t first = k.memory().read<uint64_t>(t.pid_struct + tasks_offset);
        if (first != 0) t.task = VirtAddr{first - link_offset};
      } catch (const Fault& f) {
        out.breaks.push_back(
            WalkBreak{out.entries.size(), t.pid_struct, fmt::format("struct pid of pid {}: {}", t.pid, f.what())});
        continue;
      }
      out.entries.push_back(t);
    }
  } catch (const ModelError& e) {
    out.breaks.push_back(WalkBreak{out.entries.size(), ns, fmt::format("the PID IDR: {}", e.what())});
  }
  return out;
}

int possible_cpus(const Kernel& k) {
  try {
    if (auto a = k.symbols().address("nr_cpu_ids")) return static_cast<int>(k.memory().read<uint32_t>(*a));
  } catch (const Fault&) {
  }
  return 1;
}

RunqueueTasks read_runqueues(const Kernel& k) {
  RunqueueTasks out;
  for (int cpu = 0; cpu < possible_cpus(k); ++cpu) {
    try {
      Object rq = k.object(k.per_cpu("runqueues", cpu), "struct rq");
      out.curr.push_back(rq["curr"].pointer());
      out.idle.push_back(rq["idle"].pointer());
    } catch (const ModelError& e) {
      out.curr.emplace_back();
      out.idle.emplace_back();
      out.problems.push_back(fmt::format("runqueue of CPU {}: {}", cpu, e.what()));
    }
  }
  return out;
}

}  // namespace kdive
