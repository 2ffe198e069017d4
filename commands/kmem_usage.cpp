// kmem -i: memory usage in pages, bytes and percentages, crash's table over
// the values /proc/meminfo computes (kernel-model/memory_stats.hpp). Where
// crash counts differently, kdive follows the kernel's own meminfo:
//   SHARED     nr_shmem (meminfo's Shmem); crash counts mem_map pages with
//              more than one reference
//   SLAB       the node slab counters (meminfo's Slab)
//   COMMITTED  vm_committed_as with every CPU's share, as meminfo's
//              Committed_AS; crash reads the shared count alone
#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_stats.hpp"

namespace kdive {
namespace {

// A size as crash prints it: whole KB below a megabyte, otherwise one decimal
// of MB or GB with a ".0" left out ("4 KB", "2.5 MB", "35 MB").
std::string pages_size(uint64_t pages) {
  if (pages == 0) return "0";
  const double bytes = static_cast<double>(pages) * static_cast<double>(kPageBytes);
  std::string s;
  if (bytes >= 1024.0 * 1024 * 1024) {
    s = fmt::format("{:.1f} GB", bytes / (1024.0 * 1024 * 1024));
  } else if (bytes >= 1024.0 * 1024) {
    s = fmt::format("{:.1f} MB", bytes / (1024.0 * 1024));
  } else {
    return fmt::format("{} KB", static_cast<uint64_t>(bytes / 1024));
  }
  if (auto at = s.find(".0 "); at != std::string::npos) s.erase(at, 2);
  return s;
}

// Whole percent, rounded down as crash does; 0 of nothing is 0%.
uint64_t percent(uint64_t part, uint64_t whole) { return whole == 0 ? 0 : part * 100 / whole; }

void total_row(Output& out, std::string_view label, uint64_t pages) {
  out.print("{:>13}  {:>7}  {:>11}         ----\n", label, pages, pages_size(pages));
}

void part_row(Output& out, std::string_view label, uint64_t pages, uint64_t whole, std::string_view of) {
  out.print("{:>13}  {:>7}  {:>11}  {:>3}% of {}\n", label, pages, pages_size(pages), percent(pages, whole), of);
}

}  // namespace

void kmem_usage_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  const std::vector<MemoryNode> nodes = read_memory_nodes(k);
  const VmCounters counters = read_vm_counters(k, nodes);
  const MemoryUsage u = read_memory_usage(k, counters);
  const uint64_t used = u.total_pages - std::min(u.total_pages, u.free_pages);
  const uint64_t swap_used = u.swap_total_pages - std::min(u.swap_total_pages, u.swap_free_pages);

  if (out.json()) {
    return out.result(Json{{"page_size", kPageBytes},
                           {"total_pages", u.total_pages},
                           {"free_pages", u.free_pages},
                           {"used_pages", used},
                           {"shared_pages", u.shared_pages},
                           {"buffer_pages", u.buffer_pages},
                           {"cached_pages", u.cached_pages},
                           {"slab_pages", u.slab_pages},
                           {"huge_total_pages", u.huge_total_pages},
                           {"huge_free_pages", u.huge_free_pages},
                           {"swap_total_pages", u.swap_total_pages},
                           {"swap_used_pages", swap_used},
                           {"swap_free_pages", u.swap_free_pages},
                           {"commit_limit_pages", u.commit_limit_pages},
                           {"committed_pages", u.committed_pages}});
  }
  out.print("{:>13}  {:>7}  {:>11}  {:>14}\n", "", "PAGES", "TOTAL", "PERCENTAGE");
  total_row(out, "TOTAL MEM", u.total_pages);
  part_row(out, "FREE", u.free_pages, u.total_pages, "TOTAL MEM");
  part_row(out, "USED", used, u.total_pages, "TOTAL MEM");
  part_row(out, "SHARED", u.shared_pages, u.total_pages, "TOTAL MEM");
  part_row(out, "BUFFERS", u.buffer_pages, u.total_pages, "TOTAL MEM");
  part_row(out, "CACHED", u.cached_pages, u.total_pages, "TOTAL MEM");
  part_row(out, "SLAB", u.slab_pages, u.total_pages, "TOTAL MEM");
  out.print("\n");
  total_row(out, "TOTAL HUGE", u.huge_total_pages);
  part_row(out, "HUGE FREE", u.huge_free_pages, u.huge_total_pages, "TOTAL HUGE");
  out.print("\n");
  total_row(out, "TOTAL SWAP", u.swap_total_pages);
  part_row(out, "SWAP USED", swap_used, u.swap_total_pages, "TOTAL SWAP");
  part_row(out, "SWAP FREE", u.swap_free_pages, u.swap_total_pages, "TOTAL SWAP");
  out.print("\n");
  total_row(out, "COMMIT LIMIT", u.commit_limit_pages);
  part_row(out, "COMMITTED", u.committed_pages, u.commit_limit_pages, "TOTAL LIMIT");
}

}  // namespace kdive
