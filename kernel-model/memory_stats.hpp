// The kernel's memory bookkeeping as numbers: the NUMA nodes and their zones
// (pglist_data, zone), the vm_stat counters named by the kernel's own enums
// (zone_stat_item, node_stat_item, numa_stat_item, vm_event_item) with the
// per-CPU deltas added where the kernel keeps them, and the totals that
// /proc/meminfo and crash's `kmem -i` show. Read once per call; nothing here
// prints.
//
//   std::vector<MemoryNode> nodes = read_memory_nodes(k);
//   VmCounters c = read_vm_counters(k, nodes);
//   c.value("nr_free_pages");                    // global zone counter + per-CPU deltas
//   MemoryUsage u = read_memory_usage(k, nodes, c);
//   u.total_pages;                               // _totalram_pages: MemTotal in pages
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct MemoryZone {
  int node = 0;
  int index = 0;  // in the node's node_zones[]
  VirtAddr address;
  std::string name;  // zone->name: "DMA", "DMA32", "Normal", ...
  uint64_t start_pfn = 0;
  uint64_t spanned_pages = 0;
  uint64_t present_pages = 0;
  uint64_t managed_pages = 0;
  uint64_t watermark_min = 0, watermark_low = 0, watermark_high = 0;
  // zone->vm_stat[] plus every CPU's vm_stat_diff[], by zone_stat_item.
  std::vector<int64_t> vm_stat;
  std::vector<int64_t> cpu_deltas;  // the sum of the CPUs' vm_stat_diff[] alone
  // The page allocator's per-CPU free lists (struct per_cpu_pages): pages held
  // there are free but not in NR_FREE_PAGES, and move to and from the buddy
  // lists without any allocation. Summed over the possible CPUs: the pages on
  // the lists now, and the most they may hold (pcp->high, or high_max where
  // the kernel tunes high between high_min and high_max, 6.7 and later).
  int64_t pcp_pages = 0;
  int64_t pcp_high = 0;
};

struct MemoryNode {
  int id = 0;
  VirtAddr address;  // the struct pglist_data
  std::vector<MemoryZone> zones;
  // pgdat->vm_stat[] plus every CPU's vm_node_stat_diff[], by node_stat_item.
  std::vector<int64_t> vm_stat;
  std::vector<int64_t> cpu_deltas;  // the sum of the CPUs' vm_node_stat_diff[] alone
};

// One group of counters: the kernel enum's names (lower case, as /proc/vmstat
// prints them) and the values, in enum order.
struct CounterGroup {
  std::string title;  // "VM_ZONE_STAT", "VM_NODE_STAT", "VM_NUMA_STAT", "VM_EVENT_STATES"
  std::vector<std::string> names;
  std::vector<int64_t> values;
};

struct VmCounters {
  CounterGroup zone;    // vm_zone_stat[] + per-CPU zone deltas
  CounterGroup node;    // vm_node_stat[] + per-CPU node deltas
  CounterGroup numa;    // vm_numa_stat[] (to 5.13) or vm_numa_event[] (5.14+), + deltas; empty without NUMA
  CounterGroup events;  // the sum of every CPU's vm_event_states; empty without CONFIG_VM_EVENT_COUNTERS
  // A counter by its /proc/vmstat name, looked up in every group.
  std::optional<int64_t> find(std::string_view name) const;
  // The same; Error(Lookup) naming the counter when the kernel has none.
  int64_t value(std::string_view name) const;
};

// What `kmem -i` shows, in pages (as /proc/meminfo computes each, from the
// same kernel values).
struct MemoryUsage {
  uint64_t total_pages = 0;   // _totalram_pages (totalram_pages before 5.0)
  uint64_t free_pages = 0;    // nr_free_pages
  uint64_t shared_pages = 0;  // nr_shmem (meminfo's Shmem)
  uint64_t buffer_pages = 0;  // block devices' page cache (meminfo's Buffers)
  uint64_t swapcache_pages = 0;
  uint64_t cached_pages = 0;      // nr_file_pages - swap cache - buffers (meminfo's Cached)
  uint64_t slab_pages = 0;        // reclaimable + unreclaimable slab (meminfo's Slab)
  uint64_t huge_total_pages = 0;  // every hstate's nr_huge_pages, in base pages
  uint64_t huge_free_pages = 0;
  uint64_t swap_total_pages = 0;  // total_swap_pages
  uint64_t swap_free_pages = 0;   // nr_swap_pages
  uint64_t commit_limit_pages = 0;
  uint64_t committed_pages = 0;  // vm_committed_as with every CPU's share
};

// One hugetlb pool (struct hstate).
struct HugePool {
  VirtAddr address;
  std::string name;  // "hugepages-2048kB"
  uint64_t page_bytes = 0;
  uint64_t total = 0, free = 0, reserved = 0, surplus = 0;  // in huge pages
};

// The nodes the kernel has (node_data[], or contig_page_data without NUMA),
// each with its zones; throws Error/Fault when none can be read.
std::vector<MemoryNode> read_memory_nodes(const Kernel& k);
VmCounters read_vm_counters(const Kernel& k, const std::vector<MemoryNode>& nodes);
std::vector<HugePool> read_huge_pools(const Kernel& k);
MemoryUsage read_memory_usage(const Kernel& k, const VmCounters& counters);
// The base page size (PAGE_SIZE): 4096 on x86_64.
constexpr uint64_t kPageBytes = 4096;

}  // namespace kdive
