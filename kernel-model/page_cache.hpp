// An inode's page cache: the pages its address_space (inode->i_mapping) holds
// in i_pages, in index order, as the kernel's find_get_pages walk sees them
// (files -p). Value entries — the shadow entries reclaim leaves behind
// (workingset) and the swap entries of shmem/tmpfs — are no pages: they are
// counted, not read.
//
//   PageCache pc = read_page_cache(kernel, inode);   // Error(BadData): not an inode
//   pc.mapping; pc.nrpages;
//   for (const CachedPage& p : pc.pages.entries) p.index, p.page (PageStruct or error)
//   for (const WalkBreak& b : pc.pages.breaks) b.describe();   // a damaged xa_node
//   page_cache_owner(kernel, page);                  // kmem ADDRESS: the file of a page
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kernel-model/page_struct.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct CachedPage {
  uint64_t index = 0;                // the slot in i_pages: the file offset in pages
  VirtAddr page;                     // the struct page (a folio's head page on 5.16+)
  std::optional<PageStruct> fields;  // unset when the struct page cannot be read
  std::string error;                 // why it cannot
};

struct PageCache {
  VirtAddr inode, mapping;
  uint64_t nrpages = 0;        // mapping->nrpages: what the kernel counts
  uint64_t value_entries = 0;  // shadow and swap entries skipped
  Walked<CachedPage> pages;
};

// Throws Fault when the inode or its address_space cannot be read, and
// Error(BadData) when `inode` does not look like an inode (no i_mapping, or
// a mapping whose host does not lead back to it).
PageCache read_page_cache(const Kernel& k, VirtAddr inode);
// The file a page belongs to when it is in a page cache: its mapping word is
// an address_space (bits 0 and 1 clear: not anon_vma, not movable) whose host
// inode has it as i_mapping — a slab page's slab_cache shares the word on 5.10
// and 6.1, and fails that check. nullopt for any other page, or when what the
// word leads to cannot be read.
struct PageCacheOwner {
  VirtAddr mapping, inode;
  uint64_t ino = 0;
  std::string name;  // the inode's first dentry's name; "" when it has none
  uint64_t index = 0;
};
std::optional<PageCacheOwner> page_cache_owner(const Kernel& k, const PageStruct& page);

// inode->i_mapping, after the same check: throws Fault, or Error(BadData)
// "not an inode: ..." (fuser INODE).
VirtAddr inode_mapping(const Kernel& k, VirtAddr inode);

}  // namespace kdive
