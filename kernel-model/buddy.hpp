// The buddy allocator's free lists of one zone: zone->free_area[order] holds a
// list_head per migrate type (free_list[]) and the count nr_free. Each list is
// walked with the recovering list walk (list_walk.hpp), so a damaged page
// struct costs only the blocks behind it, and the blocks found are counted so
// the caller can check them against nr_free and the zone's NR_FREE_PAGES.
//
//   std::vector<FreeList> lists = read_free_lists(k, zone.address);
//   for (const FreeList& l : lists) l.blocks.entries.size();   // page structs of free blocks
//   FreeAreaCounts c = count_free_areas(lists);                  // per order: counted vs nr_free
//   std::optional<FreeBlock> b = find_free_block(k, pfn);        // kmem ADDRESS: the free block holding pfn
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct FreeList {
  int order = 0;
  int migrate_type = 0;
  std::string migrate_name;  // "unmovable", "movable", ... from enum migratetype
  VirtAddr head;             // &zone->free_area[order].free_list[migrate_type]
  uint64_t nr_free = 0;      // free_area[order].nr_free: the whole order's blocks
  Walked<VirtAddr> blocks;   // the struct page of each free block's first page
};

// Every free list of the zone whose struct zone is at `zone`, by order and
// then migrate type. Throws Error/Fault only when the zone itself cannot be read.
std::vector<FreeList> read_free_lists(const Kernel& k, VirtAddr zone);

// The free block of the buddy allocator a page frame belongs to.
struct FreeBlock {
  int node = 0;
  std::string zone;  // zone->name
  VirtAddr zone_address;
  int zone_index = 0;  // in the node's node_zones[]
  int order = 0;
  std::string migrate_name;
  VirtAddr list_head;   // the free list it is on: &zone->free_area[order].free_list[migrate type]
  VirtAddr first_page;  // the block's first struct page
  uint64_t first_pfn = 0;
};

// Searches the free lists of the zone spanning `pfn`; nullopt when no free
// block holds it (the page is in use, or on a list that broke before it).
std::optional<FreeBlock> find_free_block(const Kernel& k, uint64_t pfn);

// The page frame number of a struct page in the vmemmap.
uint64_t page_to_pfn(const Kernel& k, VirtAddr page);
// The struct page of a page frame (in the vmemmap).
VirtAddr pfn_to_page(const Kernel& k, uint64_t pfn);

}  // namespace kdive
