// SLUB caches, their slabs and free objects (see slab.hpp). Every structure is
// read as a whole and its members taken at offsets probed from DWARF by name;
// every link followed (partial lists, CPU partial chains, freelists) is checked
// and bounded, and a bad one becomes a WalkBreak, never an exception.
#include "kernel-model/slab.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <span>
#include <unordered_set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"

namespace kdive {

namespace {

constexpr uint64_t kPageSize = 4096;
// struct kmem_cache_order_objects packs (order << OO_SHIFT) | objects, with
// OO_SHIFT 16 since 4.7 (commit 19af27aff "mm, slub: convert to use the
// generic oo helpers" widened objects to 16 bits).
constexpr uint32_t kOoShift = 16;
constexpr uint32_t kOoMask = (1u << kOoShift) - 1;
// How many slabs a CPU's partial chain may hold before the walk calls it a
// loop: the kernel keeps it to cpu_partial_slabs (a few dozen at most); a
// chain longer than this is not one the kernel built.
constexpr size_t kMaxCpuPartialSlabs = 4096;
// A name longer than this is not a cache name (they are short C strings).
constexpr size_t kMaxCacheName = 64;

uint64_t field(std::span<const std::byte> bytes, const Member& m) {
  const uint64_t need = scalar_bytes(*m.type, m.bit_offset, m.bit_size);
  if (m.offset + need > bytes.size()) throw Error(Error::Kind::BadData, fmt::format("member {} past the read", m.name));
  return extract_scalar(*m.type, bytes.subspan(m.offset, need), m.bit_offset, m.bit_size);
}

std::vector<std::byte> read_bytes(const Kernel& k, VirtAddr at, uint64_t size) {
  std::vector<std::byte> out(size);
  k.memory().read(at, out);
  return out;
}

std::optional<Member> probe(const Type& t, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (auto m = t.member(n)) return m;
  }
  return std::nullopt;
}

Member need(const Type& t, std::initializer_list<std::string_view> names) {
  if (auto m = probe(t, names)) return *m;
  return t.require_member(*names.begin());
}

}  // namespace

const char* slab_place_name(SlabPlace place) {
  switch (place) {
    case SlabPlace::CpuSlab:
      return "cpu";
    case SlabPlace::CpuPartial:
      return "cpu partial";
    case SlabPlace::NodePartial:
      return "node partial";
    case SlabPlace::Full:
      return "full";
  }
  return "?";
}

uint64_t SlabCache::free_objects() const {
  uint64_t n = 0;
  for (const Slab& s : slab_list) n += s.free.size();
  return n;
}

bool SlabCache::damaged() const {
  if (!breaks.empty() || !problems.empty()) return true;
  return std::any_of(slab_list.begin(), slab_list.end(), [](const Slab& s) { return !s.breaks.empty(); });
}

struct SlabAllocator::Layout {
  // struct kmem_cache
  Member cpu_slab, size, object_size, offset, oo, name, list, refcount, flags;
  std::optional<Member> random;        // CONFIG_SLAB_FREELIST_HARDENED
  std::optional<Member> red_left_pad;  // 4.6+
  uint64_t red_zone_flag = kSlabRedZoneBefore69;
  uint64_t head_read = 0;  // bytes of a kmem_cache that hold size, flags and red_left_pad
  uint64_t node_offset = 0;
  // struct kmem_cache_cpu
  Member c_freelist, c_slab;
  std::optional<Member> c_partial;  // CONFIG_SLUB_CPU_PARTIAL
  uint64_t cpu_size = 0;
  // struct kmem_cache_node
  Member n_partial, n_nr_partial;
  std::optional<Member> n_nr_slabs, n_total_objects;  // CONFIG_SLUB_DEBUG
  uint64_t node_size = 0;
  // struct slab (5.17+) or struct page
  Member s_cache, s_freelist, s_inuse, s_objects, s_list;
  std::optional<Member> s_next;
  uint64_t slab_read = 0;  // bytes of a slab struct to read
  uint64_t page_size = 0;  // sizeof(struct page): the stride of mem_map
};

SlabAllocator::SlabAllocator(const Kernel& kernel) : k_(kernel) {
  TypeSystem& types = k_.types();
  const Type& cache = types.require("struct kmem_cache");
  // SLAB's kmem_cache has array_cache pointers, SLUB's a per-CPU cpu_slab.
  if (!cache.member("cpu_slab")) {
    throw Error(Error::Kind::Unsupported, "this kernel does not use the SLUB allocator (no kmem_cache.cpu_slab)");
  }
  auto l = std::make_shared<Layout>();
  l->cpu_slab = cache.require_member("cpu_slab");
  l->size = cache.require_member("size");
  l->object_size = cache.require_member("object_size");
  l->offset = cache.require_member("offset");
  l->oo = cache.require_member("oo.x");
  l->name = cache.require_member("name");
  l->list = cache.require_member("list");
  l->refcount = cache.require_member("refcount");
  l->random = cache.member("random");
  l->flags = cache.require_member("flags");
  // 4.6 (commit d86bd1bece6f "mm/slub: support left redzone") added the left
  // red zone and kmem_cache.red_left_pad; before it no slot had one.
  l->red_left_pad = cache.member("red_left_pad");
  // 6.9 numbers the SLAB_ flags by enum _slab_flag_bits (see slab_geometry.hpp).
  if (auto bit = types.enumerator("_SLAB_RED_ZONE"); bit && *bit >= 0 && *bit < 64) {
    l->red_zone_flag = uint64_t{1} << *bit;
  }
  auto end_of = [](const Member& m) { return m.offset + scalar_bytes(*m.type, m.bit_offset, m.bit_size); };
  l->head_read = std::max(end_of(l->size), end_of(l->flags));
  if (l->red_left_pad) l->head_read = std::max(l->head_read, end_of(*l->red_left_pad));
  l->node_offset = cache.require_member("node").offset;

  const Type& cpu = types.require("struct kmem_cache_cpu");
  l->c_freelist = cpu.require_member("freelist");
  // 5.17 (commit bb192ed9aa71 "mm/slub: Convert most struct page to struct
  // slab by spatch") renamed kmem_cache_cpu.page to .slab.
  l->c_slab = need(cpu, {"slab", "page"});
  l->c_partial = cpu.member("partial");
  l->cpu_size = cpu.size();

  const Type& node = types.require("struct kmem_cache_node");
  l->n_partial = node.require_member("partial");
  l->n_nr_partial = node.require_member("nr_partial");
  l->n_nr_slabs = node.member("nr_slabs.counter");
  l->n_total_objects = node.member("total_objects.counter");
  l->node_size = node.size();

  // 5.17 (commit d122019bf061 "mm: Split slab into its own type") moved the
  // slab fields out of struct page into struct slab, which overlays it; 6.2+
  // also moved slab_cache before the list (offset 8 instead of 24).
  const Type* slab = types.lookup("struct slab");
  if (slab == nullptr || !slab->member("slab_cache")) slab = &types.require("struct page");
  l->s_cache = slab->require_member("slab_cache");
  l->s_freelist = slab->require_member("freelist");
  l->s_inuse = slab->require_member("inuse");
  l->s_objects = slab->require_member("objects");
  l->s_list = slab->require_member("slab_list");
  l->s_next = slab->member("next");  // CONFIG_SLUB_CPU_PARTIAL
  l->page_size = types.require("struct page").size();
  l->slab_read = std::min(slab->size(), l->page_size);
  layout_ = std::move(l);

  auto read_u32 = [&](std::string_view sym, uint32_t fallback) -> uint32_t {
    auto a = k_.symbols().address(sym);
    if (!a) return fallback;
    try {
      return k_.memory().read<uint32_t>(*a);
    } catch (const ModelError&) {
      return fallback;
    }
  };
  nr_cpus_ = static_cast<int>(std::clamp<uint32_t>(read_u32("nr_cpu_ids", 1), 1, 8192));
  nr_nodes_ = static_cast<int>(std::clamp<uint32_t>(read_u32("nr_node_ids", 1), 1, 1024));
  if (auto a = k_.symbols().address("max_pfn")) max_pfn_ = k_.memory().read<uint64_t>(*a);
  if (nr_nodes_ > 1) {
    // Each node's pfn range, for the node of a slab that is on no node list.
    try {
      Object data = k_.object("node_data");
      for (int n = 0; n < nr_nodes_; ++n) {
        Object pg = data.at(n);
        if (pg.is_null()) {
          node_pfns_.emplace_back(0, 0);
          continue;
        }
        node_pfns_.emplace_back(pg["node_start_pfn"].as_u64(), pg["node_spanned_pages"].as_u64());
      }
    } catch (const ModelError&) {
      node_pfns_.clear();
    }
  }
  // KFENCE (5.12+) gives its guarded objects page structs whose slab_cache
  // is the cache they came from; they are not the cache's slabs (nor counted
  // in its nodes). The pool is (CONFIG_KFENCE_NUM_OBJECTS + 1) * 2 pages.
  try {
    if (auto pool = k_.symbols().address("__kfence_pool")) {
      uint64_t start = k_.memory().read<uint64_t>(*pool);
      uint64_t objects = 255;  // the Kconfig default, when the metadata is no array (6.6+ allocates it)
      if (k_.symbols().address("kfence_metadata")) {
        const Type& t = k_.object("kfence_metadata").type().strip();
        if (t.kind() == TypeKind::Array && t.count()) objects = *t.count();
      }
      if (start != 0) {
        kfence_start_ = start;
        kfence_end_ = start + (objects + 1) * 2 * kPageSize;
      }
    }
  } catch (const ModelError&) {
  }
}

Walked<VirtAddr> SlabAllocator::caches() const {
  return walk_list(k_.memory(), k_.symbol_address("slab_caches"), layout_->list.offset);
}

std::string SlabAllocator::cache_name(VirtAddr cache) const {
  VirtAddr name = k_.memory().read_pointer(cache + layout_->name.offset);
  return k_.memory().read_cstring(name, kMaxCacheName);
}

uint64_t SlabAllocator::decode_free_pointer(uint64_t stored, VirtAddr stored_at, uint64_t random) const {
  if (!layout_->random) return stored;
  // CONFIG_SLAB_FREELIST_HARDENED: ptr ^ s->random ^ swab(address it is
  // stored at), the byte swap since 5.7 (commit 1ad53d9fa3f6 "slub: improve
  // bit diffusion for freelist ptr obfuscation"); 6.12 wraps it in freeptr_t.
  return stored ^ random ^ __builtin_bswap64(stored_at.value());
}

bool SlabAllocator::plausible_slab(VirtAddr slab) const {
  const VirtAddr base = k_.layout().vmemmap_start;
  if (slab < base) return false;
  const uint64_t off = slab - base;
  if (off % layout_->page_size != 0) return false;
  return max_pfn_ == 0 || off / layout_->page_size < max_pfn_;
}

VirtAddr SlabAllocator::slab_memory(VirtAddr slab) const {
  const uint64_t pfn = (slab - k_.layout().vmemmap_start) / layout_->page_size;
  return k_.layout().page_offset + pfn * kPageSize;
}

int SlabAllocator::node_of(VirtAddr slab) const {
  if (nr_nodes_ <= 1 || node_pfns_.empty()) return 0;
  const uint64_t pfn = (slab - k_.layout().vmemmap_start) / layout_->page_size;
  for (size_t n = 0; n < node_pfns_.size(); ++n) {
    if (pfn >= node_pfns_[n].first && pfn - node_pfns_[n].first < node_pfns_[n].second) return static_cast<int>(n);
  }
  return 0;
}

SlabCache SlabAllocator::read_cache(VirtAddr cache) const {
  const Layout& l = *layout_;
  const auto bytes = read_bytes(k_, cache, l.node_offset + 8ull * static_cast<uint64_t>(nr_nodes_));
  SlabCache c;
  c.address = cache;
  c.object_size = static_cast<uint32_t>(field(bytes, l.object_size));
  c.size = static_cast<uint32_t>(field(bytes, l.size));
  c.free_offset = static_cast<uint32_t>(field(bytes, l.offset));
  c.flags = field(bytes, l.flags);
  c.red_left_pad = cache_red_left_pad(bytes);
  const auto oo = static_cast<uint32_t>(field(bytes, l.oo));
  c.objects_per_slab = oo & kOoMask;
  c.order = oo >> kOoShift;
  c.slab_bytes = kPageSize << std::min<uint32_t>(c.order, 20);
  c.refcount = static_cast<int>(static_cast<int32_t>(field(bytes, l.refcount)));
  c.name = k_.memory().read_cstring(VirtAddr{field(bytes, l.name)}, kMaxCacheName);
  const uint64_t random = l.random ? field(bytes, *l.random) : 0;
  if (c.size == 0) throw Error(Error::Kind::BadData, fmt::format("kmem_cache {:x}: size is 0", cache.value()));
  // A pad as large as the slot would put every object in the next slot.
  if (c.red_left_pad >= c.size) {
    throw Error(Error::Kind::BadData, fmt::format("kmem_cache {:x}: red_left_pad {} is not below its size {}",
                                                  cache.value(), c.red_left_pad, c.size));
  }

  read_cpu_slabs(c, field(bytes, l.cpu_slab), random);
  for (int n = 0; n < nr_nodes_; ++n) {
    uint64_t kcn = 0;
    std::memcpy(&kcn, bytes.data() + l.node_offset + 8ull * static_cast<uint64_t>(n), 8);
    if (kcn != 0) read_node(c, n, VirtAddr{kcn}, random);
  }
  return c;
}

void SlabAllocator::read_cpu_slabs(SlabCache& c, uint64_t cpu_slab, uint64_t random) const {
  const Layout& l = *layout_;
  for (int cpu = 0; cpu < nr_cpus_; ++cpu) {
    VirtAddr kcc;
    std::vector<std::byte> bytes;
    try {
      kcc = VirtAddr{cpu_slab + k_.per_cpu_offset(cpu)};
      c.cpu_structs.push_back(kcc);
      bytes = read_bytes(k_, kcc, l.cpu_size);
    } catch (const ModelError& e) {
      c.breaks.push_back({c.slab_list.size(), kcc, fmt::format("CPU {} kmem_cache_cpu unreadable: {}", cpu, e.what())});
      continue;
    }
    const uint64_t freelist = field(bytes, l.c_freelist);
    const uint64_t slab = field(bytes, l.c_slab);
    if (slab != 0) {
      Slab s;
      s.place = SlabPlace::CpuSlab;
      s.cpu = cpu;
      if (read_slab(c, VirtAddr{slab}, s, c.slab_list.size(), random)) {
        // The CPU's lockless freelist first, then what was freed to the
        // slab itself since the CPU took it (remote frees).
        walk_freelist(c, s, freelist, random, true);
        s.cpu_free = s.free.size();
        walk_freelist(c, s, s.freelist.value(), random, false);
        c.slab_list.push_back(std::move(s));
      }
    }
    if (!l.c_partial || !l.s_next) continue;
    std::unordered_set<uint64_t> seen;
    for (uint64_t p = field(bytes, *l.c_partial); p != 0;) {
      if (!seen.insert(p).second || seen.size() > kMaxCpuPartialSlabs) {
        c.breaks.push_back({c.slab_list.size(), VirtAddr{p}, fmt::format("CPU {} partial slabs loop", cpu)});
        break;
      }
      Slab s;
      s.place = SlabPlace::CpuPartial;
      s.cpu = cpu;
      if (!read_slab(c, VirtAddr{p}, s, c.slab_list.size(), random)) break;
      c.slab_list.push_back(std::move(s));
      try {
        p = k_.memory().read<uint64_t>(VirtAddr{p} + l.s_next->offset);
      } catch (const ModelError& e) {
        c.breaks.push_back({c.slab_list.size(), VirtAddr{p}, fmt::format("CPU {} partial next: {}", cpu, e.what())});
        break;
      }
    }
  }
}

void SlabAllocator::read_node(SlabCache& c, int node, VirtAddr kcn, uint64_t random) const {
  const Layout& l = *layout_;
  try {
    const auto bytes = read_bytes(k_, kcn, l.node_size);
    SlabNode info{node, kcn, 0, field(bytes, l.n_nr_partial)};
    if (l.n_nr_slabs && l.n_total_objects) {
      info.slabs = field(bytes, *l.n_nr_slabs);
      c.slabs += info.slabs;
      c.total_objects += field(bytes, *l.n_total_objects);
    } else {
      c.problems.push_back("kmem_cache_node has no nr_slabs/total_objects (kernel built without CONFIG_SLUB_DEBUG)");
    }
    c.nodes.push_back(info);
  } catch (const ModelError& e) {
    c.problems.push_back(fmt::format("node {} kmem_cache_node {:x} unreadable: {}", node, kcn.value(), e.what()));
    return;
  }
  Walked<VirtAddr> partial = walk_list(k_.memory(), kcn + l.n_partial.offset, l.s_list.offset);
  const size_t base = c.slab_list.size();
  size_t reached = 0;
  for (size_t i = 0; i <= partial.entries.size(); ++i) {
    for (const WalkBreak* b : partial.breaks_at(i)) {
      c.breaks.push_back({base + reached, b->at, fmt::format("node {} partial list: {}", node, b->reason)});
    }
    if (i == partial.entries.size()) break;
    Slab s;
    s.place = SlabPlace::NodePartial;
    s.node = node;
    if (read_slab(c, partial.entries[i], s, c.slab_list.size(), random)) {
      s.node = node;
      c.slab_list.push_back(std::move(s));
      ++reached;
    }
  }
}

bool SlabAllocator::read_slab(SlabCache& c, VirtAddr slab, Slab& out, size_t position, uint64_t random) const {
  const Layout& l = *layout_;
  if (!plausible_slab(slab)) {
    c.breaks.push_back({position, slab, "not a page struct in mem_map"});
    return false;
  }
  std::vector<std::byte> bytes;
  try {
    bytes = read_bytes(k_, slab, l.slab_read);
  } catch (const ModelError& e) {
    c.breaks.push_back({position, slab, fmt::format("slab unreadable: {}", e.what())});
    return false;
  }
  const uint64_t owner = field(bytes, l.s_cache);
  if (owner != c.address.value()) {
    c.breaks.push_back({position, slab, fmt::format("slab of cache {:x}, not of this cache", owner)});
    return false;
  }
  out.slab = slab;
  out.memory = slab_memory(slab);
  if (out.place != SlabPlace::NodePartial) out.node = node_of(slab);
  out.objects = static_cast<uint32_t>(field(bytes, l.s_objects));
  out.inuse = static_cast<uint32_t>(field(bytes, l.s_inuse));
  // A slab never holds more objects than the cache's largest slab does: a
  // bigger count would make every address past the slab an "object".
  if (out.objects > c.objects_per_slab) {
    c.breaks.push_back(
        {position, slab,
         fmt::format("slab says it holds {} objects, the cache's slabs hold {}", out.objects, c.objects_per_slab)});
    return false;
  }
  out.freelist = VirtAddr{field(bytes, l.s_freelist)};
  // A CPU slab's caller walks the CPU's freelist before the slab's.
  if (out.place != SlabPlace::CpuSlab) walk_freelist(c, out, out.freelist.value(), random, false);
  return true;
}

void SlabAllocator::walk_freelist(const SlabCache& c, Slab& s, uint64_t first, uint64_t random, bool cpu) const {
  const SlabGeometry g = c.geometry(s);
  std::vector<bool> seen(s.objects, false);
  for (const VirtAddr o : s.free) seen[g.index_of(o.value())] = true;
  const char* which = cpu ? "CPU freelist" : "freelist";
  // The kernel's pointers name objects (slot + red_left_pad); `free` keeps
  // their slot starts, and the next pointer is stored from the object on.
  for (uint64_t p = first; p != 0;) {
    const std::optional<uint64_t> slot = g.slot_of_pointer(p);
    if (!slot) {
      s.breaks.push_back({s.free.size(), VirtAddr{p},
                          fmt::format("{} pointer {:x} is not an object of slab {:x} ({:x}-{:x}{})", which, p,
                                      s.slab.value(), g.object_of(g.memory), g.end(),
                                      c.red_left_pad != 0 ? fmt::format(", red zone {}", c.red_left_pad) : "")});
      return;
    }
    const uint32_t index = g.index_of(*slot);
    if (seen[index]) {
      s.breaks.push_back({s.free.size(), VirtAddr{p}, fmt::format("{} loops back to {:x}", which, p)});
      return;
    }
    seen[index] = true;
    s.free.push_back(VirtAddr{*slot});
    const VirtAddr at = VirtAddr{p} + c.free_offset;
    try {
      p = decode_free_pointer(k_.memory().read<uint64_t>(at), at, random);
    } catch (const ModelError& e) {
      s.breaks.push_back({s.free.size(), at, fmt::format("{} unreadable: {}", which, e.what())});
      return;
    }
  }
}

void SlabAllocator::scan_mem_map() const {
  if (scanned_) return;
  scanned_ = true;
  const Layout& l = *layout_;
  std::set<uint64_t> caches;
  for (VirtAddr a : this->caches().entries) caches.insert(a.value());
  const VirtAddr base = k_.layout().vmemmap_start;
  const uint64_t total = max_pfn_ * l.page_size;
  std::vector<std::byte> chunk(kPageSize);
  // One vmemmap page at a time: a hole in memory is a vmemmap page never
  // mapped, skipped whole.
  for (uint64_t off = 0; off < total; off += kPageSize) {
    try {
      k_.memory().read(base + off, chunk);
    } catch (const ModelError&) {
      continue;
    }
    const uint64_t first = (off + l.page_size - 1) / l.page_size * l.page_size;
    for (uint64_t at = first; at + l.page_size <= off + kPageSize && at < total; at += l.page_size) {
      std::span<const std::byte> page(chunk.data() + (at - off), l.page_size);
      uint64_t owner = 0;
      std::memcpy(&owner, page.data() + l.s_cache.offset, 8);
      if (!caches.contains(owner)) continue;
      // A tail page of a compound page has bit 0 set in the word after the
      // flags (compound_head); a slab is its head page.
      uint64_t second = 0;
      std::memcpy(&second, page.data() + 8, 8);
      if ((second & 1) != 0) continue;
      const VirtAddr slab = base + at;
      const uint64_t memory = slab_memory(slab).value();
      if (memory >= kfence_start_ && memory < kfence_end_) continue;
      slabs_by_cache_[owner].push_back(slab);
    }
  }
}

uint32_t SlabAllocator::cache_red_left_pad(std::span<const std::byte> kmem_cache) const {
  const Layout& l = *layout_;
  if (!l.red_left_pad) return 0;
  return red_left_pad(field(kmem_cache, l.flags), static_cast<uint32_t>(field(kmem_cache, *l.red_left_pad)),
                      l.red_zone_flag);
}

uint64_t SlabAllocator::cache_random(const SlabCache& c) const {
  if (!layout_->random) return 0;
  return k_.memory().read<uint64_t>(c.address + layout_->random->offset);
}

void SlabAllocator::add_full_slabs(SlabCache& c) const {
  if (c.full_slabs_added) return;
  c.full_slabs_added = true;
  scan_mem_map();
  std::unordered_set<uint64_t> known;
  for (const Slab& s : c.slab_list) known.insert(s.slab.value());
  auto it = slabs_by_cache_.find(c.address.value());
  if (it == slabs_by_cache_.end()) return;
  for (VirtAddr slab : it->second) {
    if (known.contains(slab.value())) continue;
    Slab s;
    s.place = SlabPlace::Full;
    if (read_slab(c, slab, s, c.slab_list.size(), cache_random(c))) c.slab_list.push_back(std::move(s));
  }
}

std::optional<VirtAddr> SlabAllocator::slab_page_of(VirtAddr address) const {
  if (!k_.memory().in_direct_map(address)) return std::nullopt;
  if (address.value() >= kfence_start_ && address.value() < kfence_end_) return std::nullopt;
  const uint64_t pfn = (address - k_.layout().page_offset) / kPageSize;
  if (max_pfn_ != 0 && pfn >= max_pfn_) return std::nullopt;
  VirtAddr page = k_.layout().vmemmap_start + pfn * layout_->page_size;
  // A slab of order > 0 is a compound page: a tail page's compound_head (the
  // word after the flags) points to the head with bit 0 set.
  const uint64_t head = k_.memory().read<uint64_t>(page + 8);
  if ((head & 1) != 0) page = VirtAddr{head - 1};
  if (!plausible_slab(page)) return std::nullopt;
  return page;
}

std::optional<SlabObject> SlabAllocator::find_object(VirtAddr address) const {
  const Layout& l = *layout_;
  const std::optional<VirtAddr> head_page = slab_page_of(address);
  if (!head_page) return std::nullopt;
  const VirtAddr page = *head_page;
  const VirtAddr owner = k_.memory().read_pointer(page + l.s_cache.offset);
  if (owner.value() == 0) return std::nullopt;
  // Only a cache on slab_caches is believed: slab_cache shares its word with
  // other users of struct page (a page-cache page's fields).
  bool listed = false;
  for (VirtAddr c : caches().entries) listed = listed || c == owner;
  if (!listed) return std::nullopt;

  SlabObject found;
  found.cache = read_cache(owner);
  const SlabCache& c = found.cache;
  auto on_list = std::find_if(c.slab_list.begin(), c.slab_list.end(), [&](const Slab& s) { return s.slab == page; });
  if (on_list != c.slab_list.end()) {
    found.slab = *on_list;
  } else {
    // On no list: a full slab (its own freelist is empty, but read it all the same).
    SlabCache scratch = c;
    Slab s;
    s.place = SlabPlace::Full;
    if (!read_slab(scratch, page, s, 0, cache_random(c))) return std::nullopt;
    found.slab = std::move(s);
  }
  const Slab& s = found.slab;
  // An address in a slot's left red zone belongs to that slot's object.
  const std::optional<uint64_t> slot = c.geometry(s).slot_holding(address.value());
  if (!slot) return std::nullopt;
  found.object = VirtAddr{*slot};
  for (size_t i = 0; i < s.free.size(); ++i) {
    if (s.free[i] != found.object) continue;
    found.free = true;
    found.cpu_free = i < s.cpu_free;
  }
  return found;
}

std::optional<VirtAddr> SlabSlot::object_of(VirtAddr address) const {
  const std::optional<uint64_t> slot =
      SlabGeometry{memory.value(), size, objects, red_left_pad}.slot_holding(address.value());
  if (!slot) return std::nullopt;
  return VirtAddr{*slot};
}

std::optional<SlabSlot> SlabAllocator::slab_slot(VirtAddr address) const {
  const Layout& l = *layout_;
  const std::optional<VirtAddr> head_page = slab_page_of(address);
  if (!head_page) return std::nullopt;
  const VirtAddr page = *head_page;
  const auto bytes = read_bytes(k_, page, l.slab_read);
  const VirtAddr owner{field(bytes, l.s_cache)};
  if (owner.value() == 0) return std::nullopt;
  if (!listed_caches_) listed_caches_ = caches().entries;
  if (std::find(listed_caches_->begin(), listed_caches_->end(), owner) == listed_caches_->end()) return std::nullopt;
  SlabSlot slot;
  slot.cache = owner;
  slot.slab = page;
  slot.memory = slab_memory(page);
  const auto head = read_bytes(k_, owner, l.head_read);
  slot.size = static_cast<uint32_t>(field(head, l.size));
  slot.red_left_pad = cache_red_left_pad(head);
  if (slot.red_left_pad >= slot.size) return std::nullopt;  // no slot arithmetic holds; read_cache says why
  slot.objects = static_cast<uint32_t>(field(bytes, l.s_objects));
  return slot;
}

}  // namespace kdive
