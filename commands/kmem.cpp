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
     .usage =
         "kmem [-i|-f|-F|-z|-V|-v|-h|-o|-n] | -p [address ...] | -m member[,member] [address ...] | -g [flags ...]\n"
         "       | [-s|-S] [-I cache[,cache]] [cache|address ...] | address ...",
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
                    "  -n  each memory node (pglist_data, pages spanned, its zones and first page\n"
                    "      struct), each zone (pages spanned, first page struct, physical start and\n"
                    "      pfn), then every section of SPARSEMEM's mem_section table: its address,\n"
                    "      section_mem_map without its flag bits (CODED_MEM_MAP), the page struct of\n"
                    "      its first pfn (MEM_MAP), the flag bits as letters (P present, M has a\n"
                    "      mem_map, O online, E early, D zone device) and its first pfn\n"
                    "  -p  every page struct of memory: PAGE PHYSICAL MAPPING INDEX CNT FLAGS and\n"
                    "      the flag names; -p ADDRESS... only the page of each address: a page\n"
                    "      struct, a kernel virtual address (translated through the page tables) or\n"
                    "      a physical address (below the kernel half)\n"
                    "  -m  as -p, but each line shows the named members of struct page (any member\n"
                    "      path: flags,_refcount,lru.next); counters (_mapcount) in decimal, others in\n"
                    "      hex of the member's size\n"
                    "  -g  the page flag bits, by the kernel's enum pageflags (aliases included);\n"
                    "      -g FLAGS... which of them a flags word (hex) holds\n"
                    "  -s  the SLUB caches, one line each: OBJSIZE is the object's size (object_size;\n"
                    "      /proc/slabinfo's objsize is the slot, JSON size), ALLOCATED what is not on a\n"
                    "      freelist, TOTAL and SLABS the nodes' counters; -s NAME... only those caches;\n"
                    "      -I NAME,... leaves caches out\n"
                    "  -S  as -s, then each slab of the cache (full slabs found through the page\n"
                    "      structs, as no list holds them) with its objects: free, or [allocated];\n"
                    "      (cpu N cache) marks the objects on a CPU's lockless freelist. An object\n"
                    "      of a cache with left red zones (slub_debug=Z) shows as its slot start,\n"
                    "      red zone included, or past the red zone with set redzone off\n"
                    "  -s ADDRESS...  the cache, slab and object holding each kernel address (-S: with\n"
                    "      every object of that slab); a kmem_cache's own address selects that cache\n"
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
                 "  kdive> kmem -S -I kmalloc-8,kmalloc-16\n"
                 "  kdive> kmem -n\n"
                 "  kdive> kmem -p | grep slab\n"
                 "  kdive> kmem -p 166f0000                 (the page of a physical address)\n"
                 "  kdive> kmem -m flags,_refcount,lru.next ffffea00000c0000\n"
                 "  kdive> kmem -g 10000000000200\n"
                 "  kdive> kmem -s ffff9874df4e3e80",
     .options = {{'i', "", "memory usage summary"},
                 {'f', "", "the buddy allocator's free lists, counted"},
                 {'F', "", "the free lists, with every free block"},
                 {'z', "", "each zone's statistics"},
                 {'V', "", "the kernel's vm_stat, vm_node_stat and vm_event counters"},
                 {'v', "", "the vmalloc areas"},
                 {'h', "", "the huge page pools"},
                 {'o', "", "each CPU's per-CPU offset"},
                 {'n', "", "memory nodes, zones and SPARSEMEM sections"},
                 {'p', "", "page structs (all, or of the addresses given)"},
                 {'m', "member", "page structs with these struct page members (comma-separated)"},
                 {'g', "", "the page flag bits (or those of the values given)"},
                 {'s', "", "the slab caches"},
                 {'S', "", "the slab caches, each slab and its objects"},
                 {'I', "cache", "skip these caches (comma-separated)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"page_size", "total_pages", "free_pages", "used_pages", "shared_pages", "buffer_pages",
                       "cached_pages", "slab_pages", "huge_total_pages", "huge_free_pages", "swap_total_pages",
                       "swap_used_pages", "swap_free_pages", "commit_limit_pages", "committed_pages"},
              .notes =
                  "The keys are those of -i (counts in pages of page_size bytes). Each other option has "
                  "its own object: -f/-F {zones: [{node, zone, name, address, free_pages, counted_pages, "
                  "areas: [{order, migrate_type, free_area, blocks, pages, error?, block_pages?}]}], "
                  "free_pages, counted_pages}; -z {zones: [{node, zone, address, name, start_pfn, "
                  "spanned_pages, present_pages, managed_pages, min, low, high, pcp_pages, pcp_high (pages on "
                  "the per-CPU free lists, and the most they may hold, over all CPUs), vm_stat: {name: "
                  "value}}]}; -V {zone_stat, node_stat, numa_stat, events: {name: value}} (names as "
                  "/proc/vmstat's enum spelling, lower case); -v {areas: [{vmap_area, vm_struct, start, "
                  "end, size, caller}]}; -h {pools: [{hstate, page_size, free, total, reserved, surplus, "
                  "name}]}; -o {per_cpu_offsets: [{cpu, offset, offline? (set offline hide)}]}; -n {nodes: [{node, "
                  "size (pages spanned), "
                  "present_pages, pglist_data, node_zones, mem_map, start_paddr, start_mapnr, zones: [{zone, "
                  "name, address, size, present_pages, mem_map, start_paddr, start_mapnr}]}], "
                  "section_size_bits, pages_per_section, sections: [{nr, section, coded_mem_map, mem_map, "
                  "state, flags (the kernel's SECTION_* names), pfn}]}; -p a list of pages {page, physical, "
                  "mapping, index, count, flags, flag_names}, -m a list {page, members: {path: value (hex "
                  "string, or a number for counters)}}, an unreadable page struct {page, error}; -g {flags: "
                  "[{name, bit, value}]}, -g VALUE... a list [{value, flags: [{name, bit, value}]}]; -s "
                  "ADDRESS... a list {address, cache (null when no slab holds it), name, objsize, size, slab, "
                  "memory, object, red_left_pad, allocated, cpu_cache, slab_list? (-S)}; -s a list of caches {cache, "
                  "name, objsize, size, allocated, total, slabs, ssize, per_slab, order, refcount, red_left_pad}, "
                  "with -S each also kmem_cache_cpu (each CPU's, by CPU) and "
                  "slab_list: [{slab, memory, node, place, cpu, total, allocated, free, freelist, "
                  "free_objects, allocated_objects}]; kmem ADDRESS... a list, one object per address: "
                  "{address, kind: slab|vmalloc|free_page|stack|percpu|symbol|page_cache|unknown, the "
                  "kind's fields (slab: cache, name, objsize, size, slab, memory, object, red_left_pad, offset, "
                  "allocated, place, task?; stack: pid, task, cpu, comm, stack, stack_end, vmalloc?; "
                  "percpu: cpu, area, symbol, offset; symbol: symbol, offset, type, module?; vmalloc: "
                  "vmap_area, vm_struct, start, end, size, caller; free_page: node, zone, order, "
                  "migrate_type, free_area, block_page, block_pfn; page_cache: mapping, inode, ino, name, index; "
                  "unknown: error?), page: {page, physical, mapping, index, count, flags, flag_names} or "
                  "null}. A damaged cache, slab or list is an element with "
                  "error. Addresses are hex strings. Slab objects (object, free_objects, "
                  "allocated_objects) are slot starts whatever set redzone says; red_left_pad is the "
                  "left red zone of a slub_debug=Z cache (0 otherwise): the kernel's pointer to an object "
                  "is its slot start plus red_left_pad (as a slab's freelist holds it), and offset counts from "
                  "the slot start.",
              .example = "kmem -i"}},
    run_kmem};

}  // namespace
}  // namespace kdive
