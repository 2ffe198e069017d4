// kmem: the options of every kmem report, and which report each one asks for
// (see kmem.hpp); the reports themselves live in kmem_slab.cpp and
// kmem_memory.cpp.
#include "commands/kmem.hpp"

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

bool wants_slabs(const ParsedArgs& args) { return args.has('s') || args.has('S') || args.has('I'); }

void run_kmem(Session& session, const ParsedArgs& args, Output& out) {
  if (wants_slabs(args)) {
    kmem_slab_report(session, args, out);
  } else {
    kmem_memory_report(session, args, out);
  }
}

const CommandRegistrar registrar{
    {.name = "kmem",
     .summary = "kernel memory: usage, slab caches, free pages, zones, vmalloc; what an address is",
     .usage = "kmem [-i|-f|-F|-z|-V|-v|-h|-o] | [-s|-S] [-I cache[,cache]] [cache ...] | address ...",
     .description = "Reports on the kernel's memory, each option one report:\n"
                    "\n"
                    "  -i  memory usage in pages, bytes and percentages, from the kernel's counters as\n"
                    "      /proc/meminfo computes them (SHARED is Shmem, SLAB is Slab, COMMITTED is\n"
                    "      Committed_AS with every CPU's share)\n"
                    "  -f  each zone's buddy free lists, per order and migrate type: blocks and pages,\n"
                    "      walked and counted, checked against the zone's counters; -F also lists\n"
                    "      every free block's first page\n"
                    "  -z  each zone: size, watermarks and its vm_stat counters\n"
                    "  -V  the vm_stat counters of the whole kernel: zone, node, NUMA and events\n"
                    "  -v  the vmalloc areas: vmap_area, vm_struct, address range, size, caller\n"
                    "  -h  the hugetlb pools: size, free and total huge pages\n"
                    "  -o  each CPU's per-CPU offset\n"
                    "  -s  the SLUB caches, one line each: OBJSIZE is the object's size (object_size;\n"
                    "      /proc/slabinfo's objsize is the slot, JSON size), ALLOCATED what is not on a\n"
                    "      freelist, TOTAL and SLABS the nodes' counters; -s NAME... only those caches;\n"
                    "      -I NAME,... leaves caches out\n"
                    "  -S  as -s, then each slab of the cache (full slabs found through the page\n"
                    "      structs, as no list holds them) with its objects: free, or [allocated];\n"
                    "      (cpu N cache) marks the objects on a CPU's lockless freelist\n"
                    "\n"
                    "kmem ADDRESS... (hex, or symbol+offset) says what each kernel address is: a slab\n"
                    "object (its cache and slab, and whether it is [allocated] or free; an allocated\n"
                    "task_struct also names its task), a task's kernel stack (with its vmalloc area when\n"
                    "the stack is vmapped), per-CPU data (CPU and symbol), a kernel symbol, a vmalloc\n"
                    "area (range, size, caller), a free page of the buddy allocator (zone, order and\n"
                    "the free block's first page) or a page-cache page (inode and index). A struct page\n"
                    "address (as -F lists them) describes that page. Then the page struct of the memory\n"
                    "behind the address: PAGE PHYSICAL MAPPING INDEX CNT (_refcount) FLAGS (and the\n"
                    "names of the PG_ bits set).\n"
                    "\n"
                    "Counters include the per-CPU deltas the kernel has not folded in yet.",
     .examples = "  kdive> kmem -i\n"
                 "  kdive> kmem -f\n"
                 "  kdive> kmem -V | grep -i swp\n"
                 "  kdive> kmem -v\n"
                 "  kdive> kmem -s task_struct\n"
                 "  kdive> kmem init_task\n"
                 "  kdive> kmem ffff9874df4e3e80          (a task_struct: its slab object)\n"
                 "  kdive> kmem -S -I kmalloc-8,kmalloc-16",
     .options = {{'i', "", "memory usage summary"},
                 {'f', "", "the buddy allocator's free lists, counted"},
                 {'F', "", "the free lists, with every free block"},
                 {'z', "", "each zone's statistics"},
                 {'V', "", "the kernel's vm_stat, vm_node_stat and vm_event counters"},
                 {'v', "", "the vmalloc areas"},
                 {'h', "", "the huge page pools"},
                 {'o', "", "each CPU's per-CPU offset"},
                 {'s', "", "the slab caches"},
                 {'S', "", "the slab caches, each slab and its objects"},
                 {'I', "cache", "skip these caches (comma-separated)"}},
     .aliases = {},
     .json =
         {.kind = JsonShape::Kind::Object,
          .keys = {"page_size", "total_pages", "free_pages", "used_pages", "shared_pages", "buffer_pages",
                   "cached_pages", "slab_pages", "huge_total_pages", "huge_free_pages", "swap_total_pages",
                   "swap_used_pages", "swap_free_pages", "commit_limit_pages", "committed_pages"},
          .notes =
              "The keys are those of -i (counts in pages of page_size bytes). Each other option has "
              "its own object: -f/-F {zones: [{node, zone, name, address, free_pages, counted_pages, "
              "areas: [{order, migrate_type, free_area, blocks, pages, error?, block_pages?}]}], "
              "free_pages, counted_pages}; -z {zones: [{node, zone, address, name, start_pfn, "
              "spanned_pages, present_pages, managed_pages, min, low, high, vm_stat: {name: "
              "value}}]}; -V {zone_stat, node_stat, numa_stat, events: {name: value}} (names as "
              "/proc/vmstat's enum spelling, lower case); -v {areas: [{vmap_area, vm_struct, start, "
              "end, size, caller}]}; -h {pools: [{hstate, page_size, free, total, reserved, surplus, "
              "name}]}; -o {per_cpu_offsets: [{cpu, offset}]}; -s a list of caches {cache, name, objsize, "
              "size, allocated, total, slabs, ssize, per_slab, order, refcount}, with -S each also "
              "slab_list: [{slab, memory, node, place, cpu, total, allocated, free, freelist, "
              "free_objects, allocated_objects}]; kmem ADDRESS... a list, one object per address: "
              "{address, kind: slab|vmalloc|free_page|stack|percpu|symbol|page_cache|unknown, the "
              "kind's fields (slab: cache, name, objsize, size, slab, memory, object, offset, "
              "allocated, place, task?; stack: pid, task, cpu, comm, stack, stack_end, vmalloc?; "
              "percpu: cpu, area, symbol, offset; symbol: symbol, offset, type, module?; vmalloc: "
              "vmap_area, vm_struct, start, end, size, caller; free_page: node, zone, order, "
              "migrate_type, free_area, block_page, block_pfn; page_cache: mapping, inode, ino, name, index; "
              "unknown: error?), page: {page, physical, mapping, index (hex, as vtop), count, flags, flag_names} or "
              "null}. A damaged cache, slab or list is an element with "
              "error. Addresses are hex strings.",
          .example = "kmem -i"}},
    run_kmem};

}  // namespace
}  // namespace kdive
