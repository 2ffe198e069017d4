#include "kernel-model/page_cache.hpp"

#include <fmt/format.h>

#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// xa_is_value(): an entry with bit 0 set holds an integer, not a pointer
// (XArray, 4.20+; the radix tree's exceptional entries used bit 1 before,
// commit 3159f943aafd "xarray: Replace exceptional entries").
bool is_value_entry(uint64_t entry, bool radix_tree) { return radix_tree ? (entry & 2) != 0 : (entry & 1) != 0; }

// An inode's i_mapping is its own i_data, or (block devices, coda) another
// inode's mapping; either way the mapping's host has it as i_mapping. A word
// that is no inode almost never passes this.
void check_inode(const Object& inode, VirtAddr mapping) {
  if (mapping.is_null()) {
    throw Error(Error::Kind::BadData, fmt::format("not an inode: {:x} has no i_mapping", inode.address().value()));
  }
  Object host = inode["i_mapping"]["host"];
  if (host.pointer() == inode.address()) return;
  if (!host.is_null() && host.deref()["i_mapping"].pointer() == mapping) return;
  throw Error(Error::Kind::BadData, fmt::format("not an inode: {:x}'s i_mapping {:x} belongs to host {:x}",
                                                inode.address().value(), mapping.value(), host.pointer().value()));
}

// The name of an inode's first dentry (i_dentry holds its aliases, linked by
// d_u.d_alias), or "" when it has none or it cannot be read.
std::string inode_name(const Kernel& k, const Object& inode) {
  try {
    const VirtAddr first = inode["i_dentry"]["first"].pointer();
    if (first.is_null()) return "";
    const uint64_t alias = k.types().require("struct dentry").require_member("d_u.d_alias").offset;
    return k.object(first - alias, "struct dentry")["d_name"]["name"].string(256);
  } catch (const ModelError&) {
    return "";
  }
}

}  // namespace

std::optional<PageCacheOwner> page_cache_owner(const Kernel& k, const PageStruct& page) {
  if (page.mapping == 0 || (page.mapping & 3) != 0 || page.mapping < kLowestKernelAddress.value()) {
    return std::nullopt;
  }
  try {
    const VirtAddr host = k.object(VirtAddr{page.mapping}, "struct address_space")["host"].pointer();
    if (host.is_null()) return std::nullopt;
    Object inode = k.object(host, "struct inode");
    if (inode["i_mapping"].as_u64() != page.mapping) return std::nullopt;
    return PageCacheOwner{VirtAddr{page.mapping}, host, inode["i_ino"].as_u64(), inode_name(k, inode), page.index};
  } catch (const ModelError&) {
    return std::nullopt;
  }
}

VirtAddr inode_mapping(const Kernel& k, VirtAddr address) {
  Object inode = k.object(address, "struct inode");
  VirtAddr mapping = inode["i_mapping"].pointer();
  check_inode(inode, mapping);
  return mapping;
}

PageCache read_page_cache(const Kernel& k, VirtAddr address) {
  Object inode = k.object(address, "struct inode");
  PageCache pc;
  pc.inode = address;
  pc.mapping = inode["i_mapping"].pointer();
  check_inode(inode, pc.mapping);
  Object mapping = inode["i_mapping"].deref();
  pc.nrpages = mapping["nrpages"].as_u64();
  const bool radix_tree = xarray_layout(k.types()).encoding == XarrayLayout::Encoding::RadixTree;
  Walked<XarrayEntry> slots = walk_xarray_entries(k, mapping["i_pages"].address());
  PageStructReader reader(k);
  // Each break stays before the entries that follow it, its position
  // counted in pages (value entries are left out).
  size_t b = 0;
  auto move_breaks_up_to = [&](size_t slot) {
    for (; b < slots.breaks.size() && slots.breaks[b].position <= slot; ++b) {
      WalkBreak moved = slots.breaks[b];
      moved.position = pc.pages.entries.size();
      pc.pages.breaks.push_back(std::move(moved));
    }
  };
  for (size_t i = 0; i < slots.entries.size(); ++i) {
    const XarrayEntry& e = slots.entries[i];
    move_breaks_up_to(i);
    if (is_value_entry(e.value, radix_tree)) {
      ++pc.value_entries;
      continue;
    }
    CachedPage p;
    p.index = e.index;
    p.page = VirtAddr{e.value};
    try {
      p.fields = reader.read(p.page);
    } catch (const ModelError& err) {
      p.error = err.what();
    }
    pc.pages.entries.push_back(std::move(p));
  }
  move_breaks_up_to(slots.entries.size());
  return pc;
}

}  // namespace kdive
