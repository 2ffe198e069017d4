// kmem -n: the memory nodes (pglist_data, size, zones, first page), each
// node's zones, then SPARSEMEM's sections (mem_section, the coded and real
// mem_map, the state bits, the first pfn), in crash's layout. crash also lists
// the memory block devices (MEM_BLOCK); kdive does not, as they live in the
// driver core's device lists and say nothing the sections do not.
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/buddy.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_sections.hpp"
#include "kernel-model/memory_stats.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

// crash's letters for the section flags it knows; other bits have none.
std::string state_letters(const MemorySections& s, uint64_t flags) {
  std::string out;
  for (const SectionFlag& f : s.flags) {
    if (((flags >> f.bit) & 1) == 0) continue;
    if (f.name == "SECTION_MARKED_PRESENT") out += 'P';
    if (f.name == "SECTION_HAS_MEM_MAP") out += 'M';
    if (f.name == "SECTION_IS_ONLINE") out += 'O';
    if (f.name == "SECTION_IS_EARLY") out += 'E';
    if (f.name == "SECTION_TAINT_ZONE_DEVICE") out += 'D';
  }
  return out;
}

Json flag_names(const MemorySections& s, uint64_t flags) {
  Json out = Json::array();
  for (const SectionFlag& f : s.flags) {
    if (((flags >> f.bit) & 1) != 0) out.push_back(f.name);
  }
  return out;
}

const MemoryNode* node_of(const std::vector<MemoryNode>& nodes, int id) {
  for (const MemoryNode& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

Json print_node(const Kernel& k, Output& out, const NodeSpan& n, const MemoryNode* zones) {
  out.write("NODE    SIZE      PGLIST_DATA       BOOTMEM_DATA       NODE_ZONES   \n");
  // BOOTMEM_DATA: pglist_data lost bdata with bootmem (4.20, 355c45affca7); crash shows "----".
  out.print(" {:>2}   {}  {:016x}  {}  {:016x}\n", n.node, centered(fmt::format("{}", n.spanned_pages), 8),
            n.pgdat.value(), centered("----", 16), n.zones.empty() ? 0 : n.zones.front().value());
  for (size_t i = 1; i < n.zones.size(); ++i) out.print("{:52}{:x}\n", "", n.zones[i].value());
  const VirtAddr mem_map = pfn_to_page(k, n.start_pfn);
  out.print("{}     START_PADDR    START_MAPNR\n", centered("MEM_MAP", 16));
  out.print("{:016x}  {}  {}\n", mem_map.value(), centered(fmt::format("{:x}", n.start_pfn * kPageSize), 16),
            centered(fmt::format("{}", n.start_pfn), 11));
  out.print("\nZONE  NAME         SIZE  {}  START_PADDR  START_MAPNR\n", centered("MEM_MAP", 16, true));
  Json zj = Json::array();
  if (zones != nullptr) {
    for (const MemoryZone& z : zones->zones) {
      // An empty zone has no first page: crash shows 0 for it.
      const uint64_t zone_map = z.spanned_pages == 0 ? 0 : pfn_to_page(k, z.start_pfn).value();
      const uint64_t mapnr = z.spanned_pages == 0 ? 0 : z.start_pfn;
      out.print(" {:>2}   {:<9} {:>7}  {:>16x}  {:>11x}  {:>11}\n", z.index, z.name, z.spanned_pages, zone_map,
                z.start_pfn * kPageSize, mapnr);
      zj.push_back({{"zone", z.index},
                    {"name", z.name},
                    {"address", json_hex(z.address)},
                    {"size", z.spanned_pages},
                    {"present_pages", z.present_pages},
                    {"mem_map", json_hex(zone_map)},
                    {"start_paddr", json_hex(z.start_pfn * kPageSize)},
                    {"start_mapnr", mapnr}});
    }
  }
  Json node_zones = Json::array();
  for (VirtAddr z : n.zones) node_zones.push_back(json_hex(z));
  return {{"node", n.node},
          {"size", n.spanned_pages},
          {"present_pages", n.present_pages},
          {"pglist_data", json_hex(n.pgdat)},
          {"node_zones", std::move(node_zones)},
          {"mem_map", json_hex(mem_map)},
          {"start_paddr", json_hex(n.start_pfn * kPageSize)},
          {"start_mapnr", n.start_pfn},
          {"zones", std::move(zj)}};
}

}  // namespace

void kmem_sections_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  Json result = Json::object();
  Json nodes_json = Json::array();
  try {
    const std::vector<NodeSpan> spans = read_node_spans(k);
    const std::vector<MemoryNode> nodes = read_memory_nodes(k);
    for (const NodeSpan& n : spans) nodes_json.push_back(print_node(k, out, n, node_of(nodes, n.node)));
  } catch (const ModelError& e) {
    out.print("(damaged: memory nodes: {})\n", e.what());
    out.data_lost(fmt::format("memory nodes: {}", e.what()));
    nodes_json.push_back({{"error", e.what()}});
  }
  result["nodes"] = std::move(nodes_json);

  const MemorySections s = read_memory_sections(k);
  out.write("\n-------------------------------------------------------------------\n\n");
  out.print("NR  {}  {}  {}  STATE PFN\n", centered("SECTION", 16), centered("CODED_MEM_MAP", 16),
            centered("MEM_MAP", 16));
  Json sections = Json::array();
  for (size_t i = 0; i <= s.sections.size(); ++i) {
    for (const WalkBreak& b : s.breaks) {
      if (b.position != i) continue;
      out.print("(damaged: {})\n", b.describe());
      out.data_lost(fmt::format("mem_section: {}", b.describe()));
      sections.push_back({{"section", json_hex(b.at)}, {"error", b.describe()}});
    }
    if (i == s.sections.size()) break;
    const MemorySection& m = s.sections[i];
    const std::string state = state_letters(s, m.flags);
    out.print("{:>2}  {:016x}  {:016x}  {:016x}  {} {:<16}\n", m.nr, m.address.value(), m.coded_mem_map,
              m.mem_map.value(), centered(state, 5), m.start_pfn);
    sections.push_back({{"nr", m.nr},
                        {"section", json_hex(m.address)},
                        {"coded_mem_map", json_hex(m.coded_mem_map)},
                        {"mem_map", json_hex(m.mem_map)},
                        {"state", state},
                        {"flags", flag_names(s, m.flags)},
                        {"pfn", m.start_pfn}});
  }
  result["section_size_bits"] = s.section_size_bits;
  result["pages_per_section"] = s.pages_per_section;
  result["sections"] = std::move(sections);
  out.result(std::move(result));
}

}  // namespace kdive
