// What a process's mm_struct counts of its memory: total_vm (pages mapped) and
// the resident pages (MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES of
// rss_stat), as ps's VSZ/RSS and vm's TOTAL_VM/RSS show them. The counter
// layout is probed once per reader: 6.2 made rss_stat an array of
// percpu_counter (commit f1a7941243c1), before it was struct mm_rss_stat
// { atomic_long_t count[]; } with per-task deltas not yet folded in
// (SPLIT_RSS_COUNTING), which tasks.cpp adds per task.
//
//   MmUsageReader usage(kernel);
//   MmUsage u = usage.read(task.mm);   // throws Fault when the mm is unreadable
//   u.total_vm_pages, u.rss_pages
#pragma once

#include <cstdint>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;
class Object;
class Type;

struct MmUsage {
  uint64_t total_vm_pages = 0;
  int64_t rss_pages = 0;  // may be below 0 before the per-task deltas are added
};

class MmUsageReader {
 public:
  explicit MmUsageReader(const Kernel& k);
  // Throws Fault when the mm_struct cannot be read.
  MmUsage read(VirtAddr mm);
  // The rss_stat indexes that count resident pages (enum values of
  // MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES).
  const std::vector<int>& rss_counters() const { return rss_counters_; }
  // Whether the mm's counters are percpu_counters (6.2+), with no per-task part.
  bool percpu() const { return percpu_; }

 private:
  int64_t percpu_counter_sum(const Object& counter);

  const Kernel& k_;
  const Type* mm_type_ = nullptr;
  bool has_total_vm_ = false, has_rss_stat_ = false, percpu_ = false;
  std::vector<int> rss_counters_;
  int cpus_ = 0;
};

}  // namespace kdive
