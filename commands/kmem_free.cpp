// kmem -f / -F: each zone's buddy free lists, per order and migrate type,
// walked and counted (kernel-model/buddy.hpp). The counts are checked twice:
// each order's blocks against free_area[order].nr_free, and the zone's pages
// against its NR_FREE_PAGES counter (with the per-CPU deltas). A list that
// breaks is a marker line under its row, and the walk goes on with the next.
#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/buddy.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_stats.hpp"

namespace kdive {
namespace {

// The zone's NR_FREE_PAGES (index 0 of zone_stat_item in every kernel since
// 2.6.21; looked up by name all the same).
int64_t zone_free_pages(const VmCounters& c, const MemoryZone& z) {
  for (size_t i = 0; i < c.zone.names.size() && i < z.vm_stat.size(); ++i) {
    if (c.zone.names[i] == "nr_free_pages") return z.vm_stat[i];
  }
  return 0;
}

std::string block_size_text(int order) { return fmt::format("{}k", (kPageBytes << order) / 1024); }

}  // namespace

void kmem_free_report(Session& session, Output& out, bool every_block) {
  const Kernel& k = session.kernel();
  const std::vector<MemoryNode> nodes = read_memory_nodes(k);
  const VmCounters counters = read_vm_counters(k, nodes);

  Json zones_json = Json::array();
  uint64_t counted_total = 0;
  bool first = true;
  for (const MemoryNode& n : nodes) {
    for (const MemoryZone& z : n.zones) {
      const int64_t free_pages = zone_free_pages(counters, z);
      if (!first) out.print("\n");
      first = false;
      out.print("ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_PFN\n");
      const uint64_t mem_map = z.spanned_pages ? pfn_to_page(k, z.start_pfn).value() : 0;
      out.print("{:>3}   {:<7}{:>9}{:>8}  {:>16}  {:>11x}  {:>9}\n", z.index, z.name, z.spanned_pages, free_pages,
                fmt::format("{:x}", mem_map), z.start_pfn * kPageBytes, z.start_pfn);
      Json zone_json{{"node", z.node},
                     {"zone", z.index},
                     {"name", z.name},
                     {"address", json_hex(z.address)},
                     {"free_pages", free_pages}};
      Json areas = Json::array();
      uint64_t counted = 0;
      if (z.spanned_pages != 0) {
        out.print("AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES\n");
        const std::vector<FreeList> lists = read_free_lists(k, z.address);
        std::vector<uint64_t> order_blocks;
        std::vector<uint64_t> order_nr_free;
        for (const FreeList& l : lists) {
          const uint64_t blocks = l.blocks.entries.size();
          const uint64_t pages = blocks << l.order;
          counted += pages;
          if (order_blocks.size() <= static_cast<size_t>(l.order)) {
            order_blocks.resize(l.order + 1, 0);
            order_nr_free.resize(l.order + 1, 0);
          }
          order_blocks[l.order] += blocks;
          order_nr_free[l.order] = l.nr_free;
          out.print("{:>3}  {:>7}  {:016x}  {:>6} {:>6}\n", l.order, block_size_text(l.order), l.head.value(), blocks,
                    pages);
          Json area{{"order", l.order},
                    {"migrate_type", l.migrate_name},
                    {"free_area", json_hex(l.head)},
                    {"blocks", blocks},
                    {"pages", pages}};
          if (every_block) {
            Json pages_json = Json::array();
            for (VirtAddr page : l.blocks.entries) {
              out.print("  {:016x}  pfn {:x}\n", page.value(), page_to_pfn(k, page));
              pages_json.push_back(json_hex(page));
            }
            area["block_pages"] = std::move(pages_json);
          }
          if (!l.blocks.complete()) {
            std::string why;
            for (const WalkBreak& b : l.blocks.breaks) {
              out.print("(damaged: {})\n", b.describe());
              why += (why.empty() ? "" : "; ") + b.describe();
            }
            out.data_lost(fmt::format("zone {} order {} {} free list", z.name, l.order, l.migrate_name));
            area["error"] = why;
          }
          areas.push_back(std::move(area));
        }
        for (size_t order = 0; order < order_blocks.size(); ++order) {
          if (order_blocks[order] != order_nr_free[order]) {
            out.warning(fmt::format("zone {} order {}: {} blocks on the free lists, nr_free says {}", z.name, order,
                                    order_blocks[order], order_nr_free[order]));
          }
        }
      }
      counted_total += counted;
      zone_json["counted_pages"] = counted;
      zone_json["areas"] = std::move(areas);
      zones_json.push_back(std::move(zone_json));
    }
  }
  const int64_t global_free = counters.value("nr_free_pages");
  if (out.json()) {
    return out.result(
        Json{{"zones", std::move(zones_json)}, {"free_pages", global_free}, {"counted_pages", counted_total}});
  }
  out.print("\n");
  if (static_cast<int64_t>(counted_total) == global_free) {
    out.print("nr_free_pages: {}  (verified)\n", global_free);
  } else {
    out.print("nr_free_pages: {}  (the free lists hold {})\n", global_free, counted_total);
  }
}

}  // namespace kdive
