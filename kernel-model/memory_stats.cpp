// Nodes, zones, vm_stat counters and the meminfo totals (see memory_stats.hpp).
#include "kernel-model/memory_stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

bool has_symbol(const Kernel& k, std::string_view name) { return k.find_symbol(name) != nullptr; }

// An integer element of an array: a plain integer, or an atomic_t /
// atomic_long_t (a struct whose one member `counter` is the integer).
const Type& scalar_of(const Type& element) {
  const Type& t = element.strip();
  if (t.is_struct_like()) return scalar_of(*t.require_member("counter").type);
  return t;
}

// The first `n` integers of the array at `array` (an Object of array type),
// read in one piece: per-CPU diff arrays are read once for every CPU, so this
// is the hot path of `kmem -i`.
std::vector<int64_t> read_integers(const Kernel& k, const Object& array, size_t n) {
  const Type& type = array.type().strip();
  const Type* element = type.target();
  if (type.kind() != TypeKind::Array || element == nullptr) {
    throw Error(Error::Kind::BadData, fmt::format("{} is not an array", type.display_name()));
  }
  const uint64_t size = element->size();
  const Type& scalar = scalar_of(*element);
  const bool is_signed = scalar.is_signed();
  const uint64_t scalar_size = scalar.size();
  if (type.count()) n = std::min<size_t>(n, *type.count());
  std::vector<std::byte> bytes(n * size);
  k.memory().read(array.address(), bytes);
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes.data() + i * size, std::min<uint64_t>(scalar_size, 8));
    if (is_signed && scalar_size < 8 && (raw >> (scalar_size * 8 - 1)) & 1) raw |= ~0ull << (scalar_size * 8);
    out[i] = static_cast<int64_t>(raw);
  }
  return out;
}

// An atomic_long_t / atomic_t, or a plain integer.
int64_t integer_value(const Object& o) {
  if (o.type().strip().is_struct_like()) return o["counter"].as_i64();
  return o.as_i64();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The counters' names from the kernel's enum, in value order. The enum ends
// with NR_VM_<...>_ITEMS, the array length; an alias (NR_ZONE_INACTIVE_ANON =
// NR_ZONE_LRU_BASE) names its value by the later, more specific enumerator.
std::vector<std::string> enum_names(const Kernel& k, std::string_view enum_type) {
  const Type* t = k.types().lookup(enum_type);
  if (t == nullptr) return {};
  std::vector<std::string> names;
  int64_t items = -1;
  for (const Enumerator& e : t->strip().enumerators()) {
    if (e.name.starts_with("NR_VM_") && e.name.ends_with("_ITEMS")) {
      items = e.value;
      continue;
    }
    if (e.value < 0 || e.value > 4096) continue;
    if (static_cast<size_t>(e.value) >= names.size()) names.resize(e.value + 1);
    names[e.value] = lower(e.name);
  }
  if (items >= 0) names.resize(items);
  return names;
}

void add(std::vector<int64_t>& into, const std::vector<int64_t>& deltas) {
  for (size_t i = 0; i < into.size() && i < deltas.size(); ++i) into[i] += deltas[i];
}

// The per-CPU copies of the struct a __percpu pointer member points to.
std::vector<Object> per_cpu_objects(const Kernel& k, const Object& percpu_pointer) {
  const Type* target = percpu_pointer.type().strip().target();
  std::vector<Object> out;
  const uint64_t base = percpu_pointer.as_u64();
  if (base == 0 || target == nullptr) return out;
  for (int cpu = 0; cpu < possible_cpus(k); ++cpu) {
    out.emplace_back(k, VirtAddr{base + k.per_cpu_offset(cpu)}, target);
  }
  return out;
}

// Where a zone keeps its per-CPU counter deltas: per_cpu_zonestats since 5.14
// (commit 28f836b6777b, "mm/page_alloc: split per cpu page lists and zone
// stats"), before that the per-CPU pageset.
std::optional<Object> zone_stats_pointer(const Object& zone) {
  if (zone.has_member("per_cpu_zonestats")) return zone["per_cpu_zonestats"];
  if (zone.has_member("pageset")) return zone["pageset"];
  return std::nullopt;
}

// The zone's per-CPU page lists: per_cpu_pageset (struct per_cpu_pages) since
// 5.14 (the same split as the stats above), before that the pageset's pcp.
void read_pcp_lists(const Kernel& k, const Object& zone, MemoryZone& z) {
  const bool split = zone.has_member("per_cpu_pageset");
  if (!split && !zone.has_member("pageset")) return;
  for (const Object& cpu : per_cpu_objects(k, zone[split ? "per_cpu_pageset" : "pageset"])) {
    const Object pcp = split ? cpu : cpu["pcp"];
    z.pcp_pages += pcp["count"].as_i64();
    int64_t high = pcp["high"].as_i64();
    if (pcp.has_member("high_max")) high = std::max(high, pcp["high_max"].as_i64());
    z.pcp_high += high;
  }
}

MemoryZone read_zone(const Kernel& k, const Object& zone, int node, int index, size_t zone_items) {
  MemoryZone z;
  z.node = node;
  z.index = index;
  z.address = zone.address();
  z.name = zone["name"].is_null() ? "" : zone["name"].string(32);
  z.start_pfn = zone["zone_start_pfn"].as_u64();
  z.spanned_pages = zone["spanned_pages"].as_u64();
  z.present_pages = zone["present_pages"].as_u64();
  z.managed_pages = static_cast<uint64_t>(integer_value(zone["managed_pages"]));
  // _watermark[] since 5.0 (commit 1c30844d2dfe, watermark boosting); before, watermark[].
  const char* marks = zone.has_member("_watermark") ? "_watermark" : "watermark";
  auto wm = read_integers(k, zone[marks], 3);
  z.watermark_min = wm.at(0);
  z.watermark_low = wm.at(1);
  z.watermark_high = wm.at(2);
  z.vm_stat = read_integers(k, zone["vm_stat"], zone_items);
  z.cpu_deltas.assign(z.vm_stat.size(), 0);
  if (auto pcp = zone_stats_pointer(zone)) {
    for (const Object& cpu : per_cpu_objects(k, *pcp))
      add(z.cpu_deltas, read_integers(k, cpu["vm_stat_diff"], zone_items));
  }
  add(z.vm_stat, z.cpu_deltas);
  read_pcp_lists(k, zone, z);
  return z;
}

MemoryNode read_node(const Kernel& k, const Object& pgdat, int id, size_t zone_items, size_t node_items) {
  MemoryNode n;
  n.id = id;
  n.address = pgdat.address();
  Object zones = pgdat["node_zones"];
  const uint64_t count = zones.type().strip().count().value_or(0);
  for (uint64_t i = 0; i < count; ++i) {
    n.zones.push_back(read_zone(k, zones.at(i), id, static_cast<int>(i), zone_items));
  }
  n.vm_stat = read_integers(k, pgdat["vm_stat"], node_items);
  n.cpu_deltas.assign(n.vm_stat.size(), 0);
  if (pgdat.has_member("per_cpu_nodestats")) {
    for (const Object& cpu : per_cpu_objects(k, pgdat["per_cpu_nodestats"])) {
      add(n.cpu_deltas, read_integers(k, cpu["vm_node_stat_diff"], node_items));
    }
  }
  add(n.vm_stat, n.cpu_deltas);
  return n;
}

// The global NUMA counters and the per-zone deltas: vm_numa_stat[] with u16
// vm_numa_stat_diff[] in the pageset up to 5.13; vm_numa_event[] with
// per_cpu_zonestats' vm_numa_event[] since 5.14 (commit f19298b9516c,
// "mm/vmstat: convert NUMA statistics to basic NUMA counters").
CounterGroup read_numa(const Kernel& k, const std::vector<MemoryNode>& nodes) {
  CounterGroup g{"VM_NUMA_STAT", enum_names(k, "enum numa_stat_item"), {}};
  const char* global = has_symbol(k, "vm_numa_event") ? "vm_numa_event" : "vm_numa_stat";
  if (g.names.empty() || !has_symbol(k, global)) return {};
  g.values = read_integers(k, k.object(global), g.names.size());
  const char* diff = std::string_view(global) == "vm_numa_event" ? "vm_numa_event" : "vm_numa_stat_diff";
  for (const MemoryNode& n : nodes) {
    for (const MemoryZone& z : n.zones) {
      Object zone = k.object(z.address, "struct zone");
      auto pcp = zone_stats_pointer(zone);
      if (!pcp) continue;
      for (const Object& cpu : per_cpu_objects(k, *pcp)) {
        if (cpu.has_member(diff)) add(g.values, read_integers(k, cpu[diff], g.names.size()));
      }
    }
  }
  return g;
}

CounterGroup read_events(const Kernel& k) {
  CounterGroup g{"VM_EVENT_STATES", enum_names(k, "enum vm_event_item"), {}};
  if (g.names.empty() || !has_symbol(k, "vm_event_states")) return {};
  g.values.assign(g.names.size(), 0);
  for (int cpu = 0; cpu < possible_cpus(k); ++cpu) {
    Object state = k.object(k.per_cpu("vm_event_states", cpu), "struct vm_event_state");
    add(g.values, read_integers(k, state["event"], g.names.size()));
  }
  return g;
}

// nr_blockdev_pages(): the block devices' own page cache (meminfo's Buffers).
// Up to 5.10 the kernel lists block devices on all_bdevs; from 5.11 (commit
// e6cb53827ed6, "block: remove the all_bdevs list") it walks the inodes of the
// bdev pseudo-filesystem's superblock.
uint64_t blockdev_pages(const Kernel& k) {
  uint64_t pages = 0;
  if (has_symbol(k, "all_bdevs")) {
    const uint64_t link = k.structs().offset("block_device", "bd_list");
    for (VirtAddr bdev : walk_list(k.memory(), k.symbol_address("all_bdevs"), link).entries) {
      pages += k.object(bdev, "struct block_device")["bd_inode"]["i_mapping"]["nrpages"].as_u64();
    }
    return pages;
  }
  Object sb = k.object("blockdev_superblock");
  if (sb.is_null()) return 0;
  Object super = sb.deref();
  const uint64_t link = k.structs().offset("inode", "i_sb_list");
  for (VirtAddr inode : walk_list(k.memory(), super["s_inodes"].address(), link).entries) {
    pages += k.object(inode, "struct inode")["i_mapping"]["nrpages"].as_u64();
  }
  return pages;
}

// total_swapcache_pages(): the NR_SWAPCACHE node counter from 5.12 (commit
// b6038942480e, "mm: memcg: add swapcache stat for memcg v2"); before, the
// sum of the swap address spaces' nrpages.
uint64_t swapcache_pages(const Kernel& k, const VmCounters& c) {
  if (auto v = c.find("nr_swapcache")) return static_cast<uint64_t>(std::max<int64_t>(*v, 0));
  if (!has_symbol(k, "swapper_spaces")) return 0;
  Object spaces = k.object("swapper_spaces");
  Object counts = k.object("nr_swapper_spaces");
  const uint64_t files = spaces.type().strip().count().value_or(0);
  uint64_t pages = 0;
  for (uint64_t i = 0; i < files; ++i) {
    Object space = spaces.at(i);
    if (space.is_null()) continue;
    const uint64_t n = counts.at(i).as_u64();
    for (uint64_t j = 0; j < n; ++j) pages += space.at(j)["nrpages"].as_u64();
  }
  return pages;
}

// A percpu_counter's exact value: the shared count plus each CPU's share,
// as percpu_counter_sum() adds them.
int64_t percpu_counter_sum(const Kernel& k, const Object& counter) {
  int64_t sum = counter["count"].as_i64();
  const uint64_t base = counter["counters"].as_u64();
  if (base == 0) return sum;
  for (int cpu = 0; cpu < possible_cpus(k); ++cpu) {
    sum += k.memory().read<int32_t>(VirtAddr{base + k.per_cpu_offset(cpu)});
  }
  return sum;
}

uint64_t positive(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

}  // namespace

std::optional<int64_t> VmCounters::find(std::string_view name) const {
  for (const CounterGroup* g : {&zone, &node, &numa, &events}) {
    for (size_t i = 0; i < g->names.size() && i < g->values.size(); ++i) {
      if (g->names[i] == name) return g->values[i];
    }
  }
  return std::nullopt;
}

int64_t VmCounters::value(std::string_view name) const {
  if (auto v = find(name)) return *v;
  throw Error(Error::Kind::Lookup, fmt::format("no vm_stat counter {}", name));
}

std::vector<MemoryNode> read_memory_nodes(const Kernel& k) {
  const size_t zone_items = enum_names(k, "enum zone_stat_item").size();
  const size_t node_items = enum_names(k, "enum node_stat_item").size();
  std::vector<MemoryNode> nodes;
  if (has_symbol(k, "node_data")) {
    // CONFIG_NUMA: struct pglist_data *node_data[MAX_NUMNODES], NULL past the possible nodes.
    Object data = k.object("node_data");
    const uint64_t count = data.type().strip().count().value_or(1);
    for (uint64_t i = 0; i < count; ++i) {
      Object p = data.at(i);
      if (p.is_null()) continue;
      nodes.push_back(read_node(k, p.deref(), static_cast<int>(i), zone_items, node_items));
    }
  } else {
    nodes.push_back(read_node(k, k.object("contig_page_data"), 0, zone_items, node_items));
  }
  if (nodes.empty()) throw Error(Error::Kind::BadData, "node_data[] holds no node");
  return nodes;
}

VmCounters read_vm_counters(const Kernel& k, const std::vector<MemoryNode>& nodes) {
  VmCounters c;
  c.zone = {"VM_ZONE_STAT", enum_names(k, "enum zone_stat_item"), {}};
  c.zone.values = read_integers(k, k.object("vm_zone_stat"), c.zone.names.size());
  c.node = {"VM_NODE_STAT", enum_names(k, "enum node_stat_item"), {}};
  c.node.values = read_integers(k, k.object("vm_node_stat"), c.node.names.size());
  // The global counters lag their per-CPU deltas (folded in by vmstat_update
  // once a second, or past a threshold); add the deltas, as the kernel's
  // *_snapshot() readers do, so the free count equals the buddy lists.
  for (const MemoryNode& n : nodes) {
    add(c.node.values, n.cpu_deltas);
    for (const MemoryZone& z : n.zones) add(c.zone.values, z.cpu_deltas);
  }
  c.numa = read_numa(k, nodes);
  c.events = read_events(k);
  return c;
}

std::vector<HugePool> read_huge_pools(const Kernel& k) {
  std::vector<HugePool> pools;
  if (!has_symbol(k, "hstates") || !has_symbol(k, "hugetlb_max_hstate")) return pools;  // no CONFIG_HUGETLBFS
  Object hstates = k.object("hstates");
  const uint64_t count = k.object("hugetlb_max_hstate").as_u64();
  for (uint64_t i = 0; i < count && i < hstates.type().strip().count().value_or(0); ++i) {
    Object h = hstates.at(i);
    HugePool p;
    p.address = h.address();
    p.name = h["name"].string();
    p.page_bytes = kPageBytes << h["order"].as_u64();
    p.total = h["nr_huge_pages"].as_u64();
    p.free = h["free_huge_pages"].as_u64();
    p.reserved = h["resv_huge_pages"].as_u64();
    p.surplus = h["surplus_huge_pages"].as_u64();
    pools.push_back(std::move(p));
  }
  return pools;
}

MemoryUsage read_memory_usage(const Kernel& k, const VmCounters& c) {
  MemoryUsage u;
  // _totalram_pages became an atomic_long_t in 5.0 (commit ca79b0c211af).
  u.total_pages =
      positive(integer_value(k.object(has_symbol(k, "_totalram_pages") ? "_totalram_pages" : "totalram_pages")));
  u.free_pages = positive(c.value("nr_free_pages"));
  u.shared_pages = positive(c.value("nr_shmem"));
  u.buffer_pages = blockdev_pages(k);
  u.swapcache_pages = swapcache_pages(k, c);
  // meminfo's Cached: file pages that are neither swap cache nor block-device buffers.
  const int64_t cached = c.value("nr_file_pages") - static_cast<int64_t>(u.swapcache_pages + u.buffer_pages);
  u.cached_pages = positive(cached);
  // Slab counters count bytes in their names since 5.9 (commit d42f3245c7e2),
  // but the node-level counters stay in pages.
  if (auto r = c.find("nr_slab_reclaimable_b")) {
    u.slab_pages = positive(*r + c.value("nr_slab_unreclaimable_b"));
  } else {
    u.slab_pages = positive(c.value("nr_slab_reclaimable") + c.value("nr_slab_unreclaimable"));
  }
  uint64_t huge_pages_in_base = 0;
  for (const HugePool& p : read_huge_pools(k)) {
    const uint64_t per = p.page_bytes / kPageBytes;
    u.huge_total_pages += p.total * per;
    u.huge_free_pages += p.free * per;
    huge_pages_in_base += p.total * per;
  }
  u.swap_total_pages = positive(k.object("total_swap_pages").as_i64());
  u.swap_free_pages = positive(integer_value(k.object("nr_swap_pages")));
  // vm_commit_limit(): overcommit_kbytes when set, else overcommit_ratio% of
  // the RAM outside the huge page pools; plus swap.
  const uint64_t kbytes = k.object("sysctl_overcommit_kbytes").as_u64();
  if (kbytes != 0) {
    u.commit_limit_pages = kbytes / (kPageBytes / 1024);
  } else {
    const uint64_t ratio = k.object("sysctl_overcommit_ratio").as_u64();
    u.commit_limit_pages = (u.total_pages - std::min(u.total_pages, huge_pages_in_base)) * ratio / 100;
  }
  u.commit_limit_pages += u.swap_total_pages;
  u.committed_pages = positive(percpu_counter_sum(k, k.object("vm_committed_as")));
  return u;
}

}  // namespace kdive
