// The SLUB allocator as the kernel keeps it: every cache on `slab_caches`,
// each with its per-CPU slabs, per-CPU partial slabs and per-node partial
// lists, the free objects on each slab's freelist (hardened free pointers
// decoded), and — on request — the full slabs, which SLUB keeps on no list
// without slub_debug, found through the page structs of memory (mem_map).
// Layout differences (5.10's slab fields in `struct page`, `struct slab` from
// 5.17) are probed by member name from DWARF. Caches with a left red zone
// (slub_debug=Z) are walked with it (slab_geometry.hpp): every object below
// is named by its slot start, red zone included, and `red_left_pad` says
// how far past it the kernel's pointer to the object is.
//
//   SlabAllocator slub(kernel);                 // Error(Unsupported) if not SLUB
//   Walked<VirtAddr> caches = slub.caches();    // slab_caches, in list order
//   SlabCache c = slub.read_cache(caches.entries[0]);
//   c.name; c.total_objects; c.allocated(); c.breaks;   // a break: a corrupt freelist
//   slub.add_full_slabs(c);                     // -S: every slab, from mem_map
//   std::optional<SlabObject> o = slub.find_object(addr);   // kmem ADDRESS
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kernel-model/slab_geometry.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// Where SLUB keeps a slab: the slab a CPU allocates from, that CPU's partial
// slabs, a node's partial list, or (full, on no list) found through mem_map.
enum class SlabPlace { CpuSlab, CpuPartial, NodePartial, Full };
const char* slab_place_name(SlabPlace place);  // "cpu", "cpu partial", "node partial", "full"

struct Slab {
  VirtAddr slab;    // its struct slab (struct page before 5.17)
  VirtAddr memory;  // its first object (direct map)
  int node = 0;
  SlabPlace place = SlabPlace::Full;
  int cpu = -1;          // CpuSlab, CpuPartial: which CPU
  uint32_t objects = 0;  // the slab's own `objects` count
  uint32_t inuse = 0;    // the slab's `inuse` (for a CPU slab: frozen, all taken by the CPU)
  VirtAddr freelist;     // the slab's own freelist head (not the CPU's), as the kernel keeps it
  // Free objects, each once, in freelist order: first the CPU's lockless
  // freelist (kmem_cache_cpu.freelist, CPU slab only), then the slab's. Each
  // is its slot start: the kernel's pointer minus the cache's red_left_pad.
  std::vector<VirtAddr> free;
  size_t cpu_free = 0;  // how many of `free` came from the CPU's freelist
  // Where a freelist could not be followed (position: index into `free`).
  std::vector<WalkBreak> breaks;

  uint64_t allocated() const { return objects >= free.size() ? objects - free.size() : 0; }
};

// One node's kmem_cache_node of a cache.
struct SlabNode {
  int node = 0;
  VirtAddr address;      // struct kmem_cache_node
  uint64_t slabs = 0;    // nr_slabs
  uint64_t partial = 0;  // nr_partial: slabs on its partial list
};

struct SlabCache {
  VirtAddr address;  // struct kmem_cache
  std::string name;
  uint32_t object_size = 0;  // what the caller asked for (crash's OBJSIZE)
  uint32_t size = 0;         // the slot, with metadata and alignment (/proc/slabinfo's objsize)
  uint32_t free_offset = 0;  // where the free pointer sits in a free object (from the kernel's pointer)
  uint64_t flags = 0;        // kmem_cache.flags (SLAB_* creation and debug flags)
  // The left red zone opening each slot: kmem_cache.red_left_pad (4.6+) when
  // flags has SLAB_RED_ZONE, else 0. Objects here are slot starts; the
  // kernel's pointer to one is slot + red_left_pad.
  uint32_t red_left_pad = 0;
  uint32_t objects_per_slab = 0;
  uint32_t order = 0;       // pages per slab = 1 << order
  uint64_t slab_bytes = 0;  // PAGE_SIZE << order
  int refcount = 0;         // > 1: other caches were merged into this one
  // From each node's counters (kmem_cache_node.nr_slabs, total_objects).
  uint64_t total_objects = 0;
  uint64_t slabs = 0;
  std::vector<VirtAddr> cpu_structs;  // each CPU's kmem_cache_cpu, by CPU
  std::vector<SlabNode> nodes;        // the nodes the cache has a kmem_cache_node on
  // The slabs reached through the CPU and node lists (and mem_map after
  // add_full_slabs), each with its free objects.
  std::vector<Slab> slab_list;
  // Where a list of slabs could not be followed, and freelist breaks of any
  // slab, with the slab named in the reason.
  std::vector<WalkBreak> breaks;
  // Node counters that could not be read: totals are incomplete.
  std::vector<std::string> problems;
  bool full_slabs_added = false;

  uint64_t free_objects() const;
  // Where the objects of one of its slabs lie.
  SlabGeometry geometry(const Slab& s) const { return {s.memory.value(), size, s.objects, red_left_pad}; }
  uint64_t allocated() const {
    const uint64_t f = free_objects();
    return total_objects >= f ? total_objects - f : 0;
  }
  bool damaged() const;
};

// The slab object an address falls in (SlabAllocator::find_object).
struct SlabObject {
  SlabCache cache;        // its cache, read as read_cache() reads it
  Slab slab;              // the slab holding it, with its free objects
  VirtAddr object;        // the object's slot start (its left red zone, if the cache has one)
  bool free = false;      // on the slab's (or its CPU's) freelist
  bool cpu_free = false;  // free on a CPU's lockless freelist
  // The object as the kernel points at it (past the left red zone).
  VirtAddr pointer() const { return object + cache.red_left_pad; }
};

// The slab an address falls in, without its freelists (SlabAllocator::slab_slot).
struct SlabSlot {
  VirtAddr cache;             // struct kmem_cache
  VirtAddr slab;              // its struct slab (struct page before 5.17): the compound head
  VirtAddr memory;            // its first object
  uint32_t size = 0;          // the cache's slot size: objects are memory + i * size
  uint32_t objects = 0;       // the slab's object count
  uint32_t red_left_pad = 0;  // as SlabCache::red_left_pad
  // The slot start of the object holding `address` (its left red zone
  // included), when it lies below objects * size.
  std::optional<VirtAddr> object_of(VirtAddr address) const;
};

class SlabAllocator {
 public:
  // Probes the layout; Error(Unsupported) when the kernel does not use SLUB.
  explicit SlabAllocator(const Kernel& kernel);

  int cpus() const { return nr_cpus_; }    // nr_cpu_ids: the CPUs with a kmem_cache_cpu
  int nodes() const { return nr_nodes_; }  // nr_node_ids

  // The caches on `slab_caches` (what /proc/slabinfo lists: merged caches
  // are aliases of these, not entries of their own).
  Walked<VirtAddr> caches() const;
  // A cache's name only (cheap; for picking caches by name).
  std::string cache_name(VirtAddr cache) const;
  // One cache: its sizes, node counters, CPU and partial slabs with their free
  // objects. Throws Fault/Error when the kmem_cache itself cannot be read;
  // damage below it is recorded in breaks/problems.
  SlabCache read_cache(VirtAddr cache) const;
  // Adds the slabs no list holds (full slabs) by scanning the page structs of
  // memory for slabs of this cache (the scan is done once and kept).
  void add_full_slabs(SlabCache& cache) const;
  // The object of a slab cache that holds `address` (a direct-map address),
  // found through its page struct (compound head, slab_cache); nullopt when
  // the page is no slab of a listed cache, the address lies in the slab's
  // unused tail, or it is a KFENCE object. Throws Fault when the page struct
  // or the cache cannot be read.
  std::optional<SlabObject> find_object(VirtAddr address) const;
  // The same search without reading the cache's lists and freelists: the
  // slab page and its cache only (rd -S looks up every word of a page). The
  // caches on slab_caches are walked once per allocator. nullopt as above;
  // throws Fault when the page struct or the cache cannot be read.
  std::optional<SlabSlot> slab_slot(VirtAddr address) const;

  // The object a stored free pointer at `stored_at` points to (hardened
  // pointers decoded with the cache's `random`).
  uint64_t decode_free_pointer(uint64_t stored, VirtAddr stored_at, uint64_t random) const;

 private:
  struct Layout;
  void read_cpu_slabs(SlabCache& c, uint64_t cpu_slab, uint64_t random) const;
  void read_node(SlabCache& c, int node, VirtAddr kcn, uint64_t random) const;
  // Reads the slab struct at `slab`; false (with a break) if it is not a slab of `c`.
  bool read_slab(SlabCache& c, VirtAddr slab, Slab& out, size_t position, uint64_t random) const;
  uint64_t cache_random(const SlabCache& c) const;
  // The left red zone of a cache, from its kmem_cache bytes (at least head_read).
  uint32_t cache_red_left_pad(std::span<const std::byte> kmem_cache) const;
  void walk_freelist(const SlabCache& c, Slab& s, uint64_t first, uint64_t random, bool cpu) const;
  bool plausible_slab(VirtAddr slab) const;
  // The head page of the slab holding a direct-map address (a compound
  // page's tail leads to its head), if its page struct looks like a slab's.
  std::optional<VirtAddr> slab_page_of(VirtAddr address) const;
  VirtAddr slab_memory(VirtAddr slab) const;
  int node_of(VirtAddr slab) const;
  void scan_mem_map() const;

  const Kernel& k_;
  std::shared_ptr<const Layout> layout_;
  int nr_cpus_ = 1;
  int nr_nodes_ = 1;
  uint64_t max_pfn_ = 0;
  // Each node's first pfn and span, for the node a CPU slab belongs to.
  std::vector<std::pair<uint64_t, uint64_t>> node_pfns_;
  // The KFENCE pool: its pages carry a cache's slab_cache but are no slabs of it.
  uint64_t kfence_start_ = 0, kfence_end_ = 0;
  mutable bool scanned_ = false;
  mutable std::map<uint64_t, std::vector<VirtAddr>> slabs_by_cache_;  // from mem_map
  mutable std::optional<std::vector<VirtAddr>> listed_caches_;        // slab_slot's cache check
};

}  // namespace kdive
