// kmem -h (the hugetlb pools, one line per struct hstate) and kmem -o (each
// CPU's per-CPU offset, __per_cpu_offset[]).
#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "commands/offline_cpus.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_stats.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

// A huge page size the way crash shows it: "2MB", "1GB".
std::string page_size_text(uint64_t bytes) {
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) return fmt::format("{}GB", bytes >> 30);
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return fmt::format("{}MB", bytes >> 20);
  return fmt::format("{}KB", bytes >> 10);
}

}  // namespace

void kmem_huge_report(Session& session, Output& out) {
  const std::vector<HugePool> pools = read_huge_pools(session.kernel());
  if (out.json()) {
    Json list = Json::array();
    for (const HugePool& p : pools) {
      list.push_back({{"hstate", json_hex(p.address)},
                      {"page_size", p.page_bytes},
                      {"free", p.free},
                      {"total", p.total},
                      {"reserved", p.reserved},
                      {"surplus", p.surplus},
                      {"name", p.name}});
    }
    return out.result(Json{{"pools", std::move(list)}});
  }
  out.print("{:^16}  {:>5}  {:>6}  {:>6}  NAME\n", "HSTATE", "SIZE", "FREE", "TOTAL");
  for (const HugePool& p : pools) {
    out.print("{:016x}  {:>5}  {:>6}  {:>6}  {}\n", p.address.value(), page_size_text(p.page_bytes), p.free, p.total,
              p.name);
  }
}

void kmem_percpu_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  const int cpus = possible_cpus(k);
  const OfflineCpus offline(session);
  if (out.json()) {
    Json list = Json::array();
    for (int cpu = 0; cpu < cpus; ++cpu) {
      Json row = {{"cpu", cpu}, {"offset", json_hex(k.per_cpu_offset(cpu))}};
      if (offline.hidden(cpu)) row["offline"] = true;
      list.push_back(std::move(row));
    }
    return out.result(Json{{"per_cpu_offsets", std::move(list)}});
  }
  out.print("PER-CPU OFFSET VALUES:\n");
  for (int cpu = 0; cpu < cpus; ++cpu) {
    out.print("  CPU {}: {:016x}{}\n", cpu, k.per_cpu_offset(cpu), offline.hidden(cpu) ? " [OFFLINE]" : "");
  }
}

}  // namespace kdive
