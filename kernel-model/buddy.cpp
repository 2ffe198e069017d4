// Walking a zone's buddy free lists (see buddy.hpp).
#include "kernel-model/buddy.hpp"

#include <cctype>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/memory_stats.hpp"

namespace kdive {
namespace {

// The migrate types' names, lower case without MIGRATE_: "unmovable", ...
std::vector<std::string> migrate_names(const Kernel& k) {
  std::vector<std::string> names;
  const Type* t = k.types().lookup("enum migratetype");
  if (t == nullptr) return names;
  for (const Enumerator& e : t->strip().enumerators()) {
    if (e.value < 0 || e.value > 64 || !e.name.starts_with("MIGRATE_") || e.name == "MIGRATE_TYPES") continue;
    if (static_cast<size_t>(e.value) >= names.size()) names.resize(e.value + 1);
    if (!names[e.value].empty()) continue;  // an alias (MIGRATE_PCPTYPES) keeps the first name
    std::string n = e.name.substr(8);
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names[e.value] = n;
  }
  return names;
}

// Where a free block's first page links into its free list: page->buddy_list
// since 5.19 (commit 7ecef3b4d7f6, "mm/page_alloc: add page->buddy_list and
// page->pcp_list"), before that page->lru; both are the same word.
uint64_t buddy_link_offset(const Kernel& k) {
  const Type& page = k.types().require("struct page");
  if (auto m = page.member("buddy_list")) return m->offset;
  return page.require_member("lru").offset;
}

}  // namespace

uint64_t page_to_pfn(const Kernel& k, VirtAddr page) {
  return (page - k.layout().vmemmap_start) / k.structs().size("page");
}

VirtAddr pfn_to_page(const Kernel& k, uint64_t pfn) {
  return k.layout().vmemmap_start + pfn * k.structs().size("page");
}

std::vector<FreeList> read_free_lists(const Kernel& k, VirtAddr zone_address) {
  Object zone = k.object(zone_address, "struct zone");
  Object areas = zone["free_area"];
  const uint64_t orders = areas.type().strip().count().value_or(0);
  const uint64_t link = buddy_link_offset(k);
  const std::vector<std::string> names = migrate_names(k);
  std::vector<FreeList> lists;
  for (uint64_t order = 0; order < orders; ++order) {
    Object area = areas.at(order);
    const uint64_t nr_free = area["nr_free"].as_u64();
    Object heads = area["free_list"];
    const uint64_t types = heads.type().strip().count().value_or(0);
    for (uint64_t mt = 0; mt < types; ++mt) {
      FreeList l;
      l.order = static_cast<int>(order);
      l.migrate_type = static_cast<int>(mt);
      l.migrate_name = mt < names.size() ? names[mt] : std::to_string(mt);
      l.head = heads.at(mt).address();
      l.nr_free = nr_free;
      l.blocks = walk_list(k.memory(), l.head, link);
      lists.push_back(std::move(l));
    }
  }
  return lists;
}

std::optional<FreeBlock> find_free_block(const Kernel& k, uint64_t pfn) {
  for (const MemoryNode& n : read_memory_nodes(k)) {
    for (const MemoryZone& z : n.zones) {
      if (pfn < z.start_pfn || pfn - z.start_pfn >= z.spanned_pages) continue;
      for (const FreeList& l : read_free_lists(k, z.address)) {
        for (VirtAddr page : l.blocks.entries) {
          const uint64_t first = page_to_pfn(k, page);
          if (pfn >= first && pfn - first < (1ull << l.order)) {
            return FreeBlock{n.id, z.name, z.address, z.index, l.order, l.migrate_name, l.head, page, first};
          }
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace kdive
