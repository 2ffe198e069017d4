// kmem -z (each zone: size, watermarks, its vm_stat counters) and kmem -V (the
// global vm_stat counters by name: zone, node, NUMA and event counters), with
// the per-CPU deltas added (kernel-model/memory_stats.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_stats.hpp"

namespace kdive {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

size_t longest(const std::vector<std::string>& names) {
  size_t n = 0;
  for (const auto& s : names) n = std::max(n, s.size());
  return n;
}

Json counters_json(const std::vector<std::string>& names, const std::vector<int64_t>& values) {
  Json o = Json::object();
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!names[i].empty()) o[names[i]] = values[i];
  }
  return o;
}

// One counter a line, the names (upper case, as the kernel's enum spells them)
// right-aligned to `width`.
void print_counters(Output& out, const std::vector<std::string>& names, const std::vector<int64_t>& values,
                    size_t width) {
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (names[i].empty()) continue;
    out.print("{:>{}}: {}\n", upper(names[i]), width, values[i]);
  }
}

}  // namespace

void kmem_zones_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  const std::vector<MemoryNode> nodes = read_memory_nodes(k);
  const VmCounters counters = read_vm_counters(k, nodes);
  const std::vector<std::string>& names = counters.zone.names;
  if (out.json()) {
    Json list = Json::array();
    for (const MemoryNode& n : nodes) {
      for (const MemoryZone& z : n.zones) {
        list.push_back({{"node", z.node},
                        {"zone", z.index},
                        {"address", json_hex(z.address)},
                        {"name", z.name},
                        {"start_pfn", z.start_pfn},
                        {"spanned_pages", z.spanned_pages},
                        {"present_pages", z.present_pages},
                        {"managed_pages", z.managed_pages},
                        {"min", z.watermark_min},
                        {"low", z.watermark_low},
                        {"high", z.watermark_high},
                        {"pcp_pages", z.pcp_pages},
                        {"pcp_high", z.pcp_high},
                        {"vm_stat", counters_json(names, z.vm_stat)}});
      }
    }
    return out.result(Json{{"zones", std::move(list)}});
  }
  const size_t width = longest(names);
  for (const MemoryNode& n : nodes) {
    for (const MemoryZone& z : n.zones) {
      out.print("NODE: {}  ZONE: {}  ADDR: {:016x}  NAME: \"{}\"\n", z.node, z.index, z.address.value(), z.name);
      if (z.present_pages == 0) {
        out.print("  [unpopulated]\n\n");
        continue;
      }
      out.print("  SIZE: {}", z.spanned_pages);
      if (z.present_pages != z.spanned_pages) out.print("  PRESENT: {}", z.present_pages);
      out.print("  MIN/LOW/HIGH: {}/{}/{}\n", z.watermark_min, z.watermark_low, z.watermark_high);
      out.print("  VM_STAT:\n");
      print_counters(out, names, z.vm_stat, width);
      out.print("\n\n");
    }
  }
}

void kmem_counters_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  const VmCounters c = read_vm_counters(k, read_memory_nodes(k));
  const CounterGroup* groups[] = {&c.zone, &c.node, &c.numa, &c.events};
  if (out.json()) {
    return out.result(Json{{"zone_stat", counters_json(c.zone.names, c.zone.values)},
                           {"node_stat", counters_json(c.node.names, c.node.values)},
                           {"numa_stat", counters_json(c.numa.names, c.numa.values)},
                           {"events", counters_json(c.events.names, c.events.values)}});
  }
  bool first = true;
  for (const CounterGroup* g : groups) {
    if (g->names.empty()) continue;  // no NUMA, no CONFIG_VM_EVENT_COUNTERS
    if (!first) out.print("\n");
    first = false;
    out.print("  {}:\n", g->title);
    // Names at least 26 wide, as crash aligns them (its longest node counter).
    print_counters(out, g->names, g->values, std::max<size_t>(26, longest(g->names)));
  }
}

}  // namespace kdive
