#include "kernel-model/mm_usage.hpp"

#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

MmUsageReader::MmUsageReader(const Kernel& k) : k_(k) {
  mm_type_ = k_.types().lookup("struct mm_struct");
  if (mm_type_ == nullptr) return;
  has_total_vm_ = mm_type_->member("total_vm").has_value();
  auto rss = mm_type_->member("rss_stat");
  if (!rss) return;
  has_rss_stat_ = true;
  percpu_ = rss->type->strip().kind() == TypeKind::Array;
  for (const char* name : {"MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES"}) {
    if (auto v = k_.types().enumerator(name)) rss_counters_.push_back(static_cast<int>(*v));
  }
}

// A percpu_counter's value as percpu_counter_sum() computes it: the shared
// count plus every CPU's pending delta.
int64_t MmUsageReader::percpu_counter_sum(const Object& counter) {
  if (cpus_ == 0) cpus_ = possible_cpus(k_);
  int64_t v = counter["count"].as_i64();
  Object deltas = counter["counters"];  // s32 __percpu *
  const Type* delta_type = deltas.type().strip().target();
  for (int cpu = 0; cpu < cpus_; ++cpu) {
    v += Object(k_, deltas.pointer() + k_.per_cpu_offset(cpu), delta_type).as_i64();
  }
  return v;
}

MmUsage MmUsageReader::read(VirtAddr mm_address) {
  MmUsage u;
  if (mm_type_ == nullptr) return u;
  Object mm(k_, mm_address, mm_type_);
  if (has_total_vm_) u.total_vm_pages = mm["total_vm"].as_u64();
  if (!has_rss_stat_) return u;
  for (int i : rss_counters_) {
    const auto index = static_cast<uint64_t>(i);
    u.rss_pages +=
        percpu_ ? percpu_counter_sum(mm["rss_stat"].at(index)) : mm["rss_stat"]["count"].at(index)["counter"].as_i64();
  }
  return u;
}

}  // namespace kdive
